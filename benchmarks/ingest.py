"""Ingestion benchmark: Zigbee2MQTT messages through Mosquitto into PostgreSQL and on to detection.

    python -m maeul.testing.postgres_server -- python benchmarks/ingest.py [--rate 10000] [--seconds 60]

Creates a database on the server named by DATABASE_URL (dropped at the end), a site with ``--households`` households
and ``--devices`` Zigbee2MQTT devices (motion, door, climate, plug), starts Mosquitto with Maeul's settings and
`maeul ingest` with a counting stream consumer, and then:

1. **Sustained**: publishes at ``--rate`` messages/s for ``--seconds`` (QoS 1, from a pre-encoded raw MQTT client so
   the publisher is not the limit), with an SOS press (``action: emergency`` carrying its publish time as
   ``last_seen``) from a different household every ``--sos-every`` seconds. Reports messages committed per second,
   whether ingestion kept up (everything committed within a second of the last publish), readings handed to the
   consumer, the SOS publish-to-consumer latency (and publish-to-alert when ``maeul.watch.live.LiveWatch`` runs too,
   with ``--live-watch``), the worker's CPU and peak RSS.
2. **Ceiling**: with the worker stopped, a burst of ``--burst`` messages is received by a bare ``mosquitto_sub``
   (timed), while the worker's persistent session queues the same burst; the worker is started again and the time
   to drain it is measured. The ratio of the two rates says how close ingestion gets to the broker itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SITE_SLUG = "bench"
KINDS = ("motion", "door", "climate", "plug")
CONSUMER_LOG_ENV = "MAEUL_BENCH_CONSUMER_LOG"


# --- the stream consumer run inside the worker -----------------------------------------------------------------


class CountingConsumer:
    """Counts what detection is handed and times SOS readings (their ``at`` is the publish time)."""

    def __init__(self, site_id: int, partition: int, partitions: int) -> None:
        self.out = Path(os.environ[CONSUMER_LOG_ENV]).open("a", buffering=1)  # noqa: SIM115 — lives with the worker

    def readings(self, batch: Sequence[Any]) -> None:
        now = time.time()
        lines = [f"R {now:.4f} {len(batch)}\n"]
        lines += [f"S {now - r.at.timestamp():.6f} {r.household_id}\n" for r in batch if r.kind == "sos"]
        self.out.writelines(lines)

    def statuses(self, batch: Sequence[Any]) -> None:
        pass

    def tick(self, now: datetime) -> None:
        pass


# --- messages and a raw QoS 1 publisher ------------------------------------------------------------------------


def payload_for(kind: str, rng: random.Random) -> bytes:
    battery = 87  # a battery level changes over weeks, not between messages
    if kind == "motion":
        body: dict[str, Any] = {
            "battery": battery,
            "illuminance_lux": rng.randint(0, 500),
            "linkquality": rng.randint(30, 255),
            "occupancy": rng.random() < 0.5,
            "voltage": rng.randint(2800, 3100),
        }
    elif kind == "door":
        body = {"battery": battery, "contact": rng.random() < 0.8, "linkquality": rng.randint(30, 255), "voltage": 3005}
    elif kind == "climate":
        body = {
            "battery": battery,
            "humidity": round(rng.uniform(30, 70), 2),
            "linkquality": rng.randint(30, 255),
            "pressure": round(rng.uniform(990, 1030), 1),
            "temperature": round(rng.uniform(15, 30), 2),
            "voltage": 2985,
        }
    else:
        body = {
            "current": round(rng.uniform(0, 5), 2),
            "energy": round(rng.uniform(0, 500), 2),
            "linkquality": rng.randint(30, 255),
            "power": rng.randint(0, 1500),
            "state": rng.choice(["ON", "OFF"]),
            "voltage": rng.randint(218, 232),
        }
    return json.dumps(body).encode()


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    encoded = topic.encode()
    body = struct.pack("!H", len(encoded)) + encoded + struct.pack("!H", packet_id) + payload
    return b"\x32" + _remaining_length(len(body)) + body  # PUBLISH, QoS 1


class RawPublisher:
    """MQTT 3.1.1 over a plain socket: CONNECT, then pre-encoded QoS 1 PUBLISH packets; PUBACKs are read and counted
    on a thread. Python's paho would spend more CPU per message than the worker being measured."""

    def __init__(self, host: str, port: int, client_id: str) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cid = client_id.encode()
        body = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack("!H", len(cid)) + cid
        self.sock.sendall(b"\x10" + _remaining_length(len(body)) + body)
        if self.sock.recv(4)[:2] != b"\x20\x02":
            raise RuntimeError("the broker refused the publisher")
        self.acked = 0
        self._reader = threading.Thread(target=self._read_acks, daemon=True)
        self._reader.start()
        self._next_id = 0

    def packet_id(self) -> int:
        self._next_id = self._next_id % 65535 + 1
        return self._next_id

    def _read_acks(self) -> None:
        pending = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            whole = len(pending) // 4  # PUBACK is always 4 bytes
            self.acked += whole
            pending = pending[whole * 4 :]

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(b"\xe0\x00")  # DISCONNECT
            self.sock.close()


# --- setup -----------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "needs DATABASE_URL of PostgreSQL: run it through `python -m maeul.testing.postgres_server --`"
        )
    import psycopg

    name = f"maeul_bench_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(base)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class World:
    site_id: int
    devices: list[tuple[str, str, int]] = field(default_factory=list)  # (identity, kind, household id)
    sos_devices: list[tuple[str, int]] = field(default_factory=list)


def seed(households: int, devices: int, rng: random.Random) -> World:
    from django.core.management import call_command

    from maeul.accounts import services as accounts
    from maeul.accounts.principal import principal_for
    from maeul.accounts.roles import Role
    from maeul.areas import services as areas
    from maeul.audit.services import Actor
    from maeul.people import services as people
    from maeul.sensing.models import Device, Protocol
    from maeul.sites import services as sites
    from maeul.sites.models import ProgrammeType
    from maeul.web import demo

    call_command("migrate", verbosity=0)
    areas.load_reference()
    site = sites.create_site(SITE_SLUG, "서울특별시 종로구", "1111000000", ProgrammeType.SAFETY_WELFARE)
    admin = accounts.create_account("bench-admin", secrets.token_urlsafe(16), Role.SITE_ADMIN, site=site)
    actor = Actor(principal=principal_for(admin), channel="command")
    dongs = list(site.areas.all())
    ids = [people.register_household(actor, demo.household_input(rng, rng.choice(dongs))).id for _ in range(households)]
    world = World(site.pk)
    rows = []
    for n in range(devices):
        kind = KINDS[n % len(KINDS)]
        household = ids[n % households]
        identity = f"home-{household}/{kind}-{n}"
        world.devices.append((identity, kind, household))
        rows.append(Device(site=site, household_id=household, protocol=Protocol.ZIGBEE2MQTT, identity=identity))
    for household in ids:
        identity = f"home-{household}/sos"
        world.sos_devices.append((identity, household))
        rows.append(Device(site=site, household_id=household, protocol=Protocol.ZIGBEE2MQTT, identity=identity))
    Device.objects.bulk_create(rows, batch_size=2000)
    return world


# --- measuring -------------------------------------------------------------------------------------------------


def proc_stat(pid: int) -> tuple[float, int]:
    """(CPU seconds, RSS bytes) of a process."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss


def committed_messages() -> int:
    from django.db.models import Sum

    from maeul.sensing.models import IngestCounter

    return int(IngestCounter.objects.aggregate(n=Sum("messages"))["n"] or 0)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


class Workers:
    """``count`` `maeul ingest` processes; with more than one, sharing the subscription and one partition each."""

    def __init__(self, env: dict[str, str], workdir: Path, count: int, site_id: int) -> None:
        launched = time.time()
        self.processes = []
        for i in range(count):
            sharing = ["--shared", "bench", "--partition", f"{i}/{count}"] if count > 1 else []
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "maeul.cli", "ingest", "--site", SITE_SLUG, *sharing],
                    env=env,
                    stdout=(workdir / f"worker-{i}.log").open("ab"),
                    stderr=subprocess.STDOUT,
                )
            )
        self._wait_connected(site_id, launched, count)

    @staticmethod
    def _wait_connected(site_id: int, since: float, count: int, timeout: float = 30) -> None:
        from maeul.sensing.models import IngestWorker

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = IngestWorker.objects.filter(
                site_id=site_id, broker_connected=True, heartbeat_at__gte=since_dt(since)
            )
            if fresh.count() >= count:
                return
            time.sleep(0.1)
        raise SystemExit("the workers did not connect")

    def stat(self) -> tuple[float, int]:
        """(CPU seconds of all, the largest RSS of one)."""
        stats = [proc_stat(p.pid) for p in self.processes]
        return sum(cpu for cpu, _rss in stats), max(rss for _cpu, rss in stats)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:  # reported, not hidden: the figures are still printed
                print(f"worker {process.pid} did not stop within 60 s of SIGTERM: killed", file=sys.stderr)
                process.kill()
                process.wait()


def since_dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class Sustained:
    published: int = 0
    sos_published: dict[int, float] = field(default_factory=dict)  # household → publish time
    publish_seconds: float = 0.0
    drained_seconds: float = 0.0
    committed_in_window: int = 0
    worker_cpu: float = 0.0
    peak_rss: int = 0


def run_sustained(
    publisher: RawPublisher,
    world: World,
    workers: Workers,
    rate: int,
    seconds: float,
    sos_every: float,
    rng: random.Random,
) -> Sustained:
    result = Sustained()
    payloads = {kind: [payload_for(kind, rng) for _ in range(50)] for kind in KINDS}
    topics = [f"zigbee2mqtt/{identity}" for identity, _kind, _h in world.devices]
    kinds = [kind for _i, kind, _h in world.devices]
    sos_queue = list(world.sos_devices)
    rng.shuffle(sos_queue)
    start_committed = committed_messages()
    cpu0, _ = workers.stat()
    tick = 0.01  # send in 10 ms slices
    per_tick = rate * tick
    started = time.monotonic()
    next_sos = started + sos_every
    owed = 0.0
    n = 0
    last_sample = started
    while (now := time.monotonic()) - started < seconds:
        owed += per_tick
        count = int(owed)
        owed -= count
        chunk = bytearray()
        for _ in range(count):
            i = n % len(topics)
            chunk += publish_packet(topics[i], rng.choice(payloads[kinds[i]]), publisher.packet_id())
            n += 1
        if now >= next_sos and sos_queue:
            identity, household = sos_queue.pop()
            sent = time.time()
            body = json.dumps({"action": "emergency", "battery": 90, "last_seen": int(sent * 1000)}).encode()
            chunk += publish_packet(f"zigbee2mqtt/{identity}", body, publisher.packet_id())
            result.sos_published[household] = int(sent * 1000) / 1000
            n += 1
            next_sos += sos_every
        publisher.send(bytes(chunk))
        if now - last_sample >= 1.0:
            _, rss = workers.stat()
            result.peak_rss = max(result.peak_rss, rss)
            last_sample = now
        sleep = started + (n / rate) - time.monotonic()
        if sleep > 0:
            time.sleep(min(sleep, tick))
    result.published = n
    result.publish_seconds = time.monotonic() - started
    result.committed_in_window = committed_messages() - start_committed
    target = start_committed + n
    while committed_messages() < target:
        _, rss = workers.stat()
        result.peak_rss = max(result.peak_rss, rss)
        time.sleep(0.2)
        if time.monotonic() - started > seconds * 10:
            raise SystemExit("the worker did not catch up")
    result.drained_seconds = time.monotonic() - started
    cpu1, rss = workers.stat()
    result.worker_cpu = cpu1 - cpu0
    result.peak_rss = max(result.peak_rss, rss)
    return result


def run_burst(
    host: str,
    port: int,
    world: World,
    env: dict[str, str],
    workdir: Path,
    count: int,
    workers: int,
    rng: random.Random,
) -> tuple[float, float]:
    """(mosquitto_sub messages/s, worker drain messages/s) for the same burst."""
    topics = [f"zigbee2mqtt/{identity}" for identity, _kind, _h in world.devices]
    kinds = [kind for _i, kind, _h in world.devices]
    payloads = {kind: [payload_for(kind, rng) for _ in range(50)] for kind in KINDS}
    sub = subprocess.Popen(
        ["mosquitto_sub", "-h", host, "-p", str(port), "-q", "1", "-t", "zigbee2mqtt/#", "-C", str(count)],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # subscribed
    publisher = RawPublisher(host, port, "bench-burst")
    before = committed_messages()
    started = time.monotonic()
    for start in range(0, count, 2000):
        chunk = bytearray()
        for n in range(start, min(count, start + 2000)):
            i = n % len(topics)
            chunk += publish_packet(topics[i], rng.choice(payloads[kinds[i]]), publisher.packet_id())
        publisher.send(bytes(chunk))
    sub.wait(timeout=600)
    sub_seconds = time.monotonic() - started
    publisher.close()
    drain_started = time.monotonic()  # includes the workers' start-up (about a second)
    draining = Workers(env, workdir, workers, world.site_id)
    try:
        while committed_messages() < before + count:
            time.sleep(0.1)
            if time.monotonic() - drain_started > 900:
                raise SystemExit("the workers did not drain the burst")
        drain_seconds = time.monotonic() - drain_started
    finally:
        draining.stop()
    return count / sub_seconds, count / drain_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=10_000, help="messages/s in the sustained phase")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the sustained phase")
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--sos-every", type=float, default=0.5, help="seconds between SOS presses")
    parser.add_argument("--burst", type=int, default=200_000, help="messages in the ceiling phase")
    parser.add_argument("--workers", type=int, default=1, help="ingest workers (shared subscription, partitions)")
    parser.add_argument("--live-watch", action="store_true", help="also run maeul.watch.live.LiveWatch")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the working directory (worker and broker logs)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    if shutil.which("mosquitto_sub") is None:
        raise SystemExit("needs mosquitto_sub (Debian package mosquitto-clients)")
    workdir = Path(tempfile.mkdtemp(prefix="maeul-bench-ingest-"))
    consumer_log = workdir / "consumer.log"
    try:
        with bench_database() as db_url:
            from cryptography.fernet import Fernet

            consumers = "ingest.CountingConsumer" + (",maeul.watch.live.LiveWatch" if args.live_watch else "")
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "maeul.settings",
                "DATABASE_URL": db_url,
                "SECRET_KEY": secrets.token_urlsafe(48),
                "MAEUL_FIELD_KEY": Fernet.generate_key().decode(),
                "MAEUL_VAR_DIR": str(workdir / "var"),
                "MAEUL_LOG_LEVEL": "WARNING",
                "MAEUL_STREAM_CONSUMERS": consumers,
                CONSUMER_LOG_ENV: str(consumer_log),
                "PYTHONPATH": os.pathsep.join([str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")]),
            }
            os.environ.update(env)
            import django

            django.setup()
            from maeul.sensing.broker import free_port, start_broker

            print("Seeding…", file=sys.stderr)
            world = seed(args.households, args.devices, rng)
            port = free_port()
            broker = start_broker(workdir / "mqtt", port=port)
            env["MAEUL_MQTT_URL"] = broker.url
            try:
                workers = Workers(env, workdir, args.workers, world.site_id)
                publisher = RawPublisher("127.0.0.1", port, "bench-publisher")
                print(f"Sustained: {args.rate}/s for {args.seconds:.0f} s…", file=sys.stderr)
                sustained = run_sustained(publisher, world, workers, args.rate, args.seconds, args.sos_every, rng)
                publisher.close()
                time.sleep(1.5)  # the last SOS readings reach the consumer log
                alert_latencies = alert_latency(world.site_id, sustained.sos_published) if args.live_watch else []
                workers.stop()
                print(f"Ceiling: a burst of {args.burst}…", file=sys.stderr)
                sub_rate, drain_rate = run_burst("127.0.0.1", port, world, env, workdir, args.burst, args.workers, rng)
            finally:
                broker.stop()
            from maeul.sensing.models import Reading

            report(args, sustained, consumer_log, alert_latencies, sub_rate, drain_rate, Reading.objects.count())
            from django.db import connections

            connections.close_all()
    finally:
        if args.keep:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def alert_latency(site_id: int, published: dict[int, float]) -> list[float]:
    """Publish → committed SOS alert row, for ``maeul.watch`` alerts (``created_at`` is set on insert)."""
    from maeul.watch.models import Alert

    latencies = []
    for household_id, created in Alert.objects.filter(site_id=site_id, kind="sos").values_list(
        "household_id", "created_at"
    ):
        if household_id in published:
            latencies.append(created.timestamp() - published[household_id])
    return latencies


def report(
    args: argparse.Namespace,
    sustained: Sustained,
    consumer_log: Path,
    alert_latencies: list[float],
    sub_rate: float,
    drain_rate: float,
    stored_readings: int,
) -> None:
    handed = 0
    sos: list[float] = []
    for line in consumer_log.read_text().splitlines():
        tag, first, _rest = line.split(" ", 2)
        if tag == "R":
            handed += int(_rest)
        elif tag == "S":
            sos.append(float(first))
    sos = sos[: len(sustained.sos_published)]  # the ceiling phase has no SOS presses
    cores = os.cpu_count() or 1
    print(
        f"\nIngestion benchmark ({cores} cores), {args.devices} devices in {args.households} households, "
        f"{args.workers} worker(s)"
    )
    print(f"sustained phase: {sustained.published:,} messages published in {sustained.publish_seconds:.1f} s")
    print(f"  committed during publishing: {sustained.committed_in_window / sustained.publish_seconds:,.0f} msg/s")
    print(
        f"  end to end (all committed): {sustained.published / sustained.drained_seconds:,.0f} msg/s over "
        f"{sustained.drained_seconds:.1f} s"
    )
    # Kept up: everything committed within a second of the last publish (checked every 0.2 s). The end-to-end rate
    # alone cannot show it at --rate 10000: it counts that last second too.
    lag = sustained.drained_seconds - sustained.publish_seconds
    kept_up = lag <= 1
    print(f"  last message committed {lag:.1f} s after the last publish: {'kept up' if kept_up else 'fell behind'}")
    print(
        f"  SOS publish → consumer: n={len(sos)} p50 {statistics.median(sos) * 1000:.0f} ms, "
        f"p99 {percentile(sos, 0.99) * 1000:.0f} ms, max {max(sos) * 1000:.0f} ms"
        if sos
        else "  SOS publish → consumer: none received"
    )
    if alert_latencies:
        print(
            f"  SOS publish → alert row: n={len(alert_latencies)} p50 {statistics.median(alert_latencies) * 1000:.0f} "
            f"ms, p99 {percentile(alert_latencies, 0.99) * 1000:.0f} ms"
        )
    print(
        f"  workers: {sustained.worker_cpu:.1f} CPU s ({sustained.worker_cpu / sustained.drained_seconds:.0%} of a "
        f"core), peak RSS {sustained.peak_rss / 2**20:.0f} MB (of one worker)"
    )
    print(
        f"ceiling phase ({args.burst:,} messages): mosquitto_sub {sub_rate:,.0f} msg/s, worker {drain_rate:,.0f} msg/s"
    )
    print(f"  worker / mosquitto_sub: {drain_rate / sub_rate:.2f}")
    # A worker stopped between a commit and its hand-off hands those readings over when it starts again.
    print(f"readings, both phases: {stored_readings:,} stored, {handed:,} handed to detection")
    ok = kept_up and sustained.published / sustained.publish_seconds >= 0.99 * 10_000
    p99 = percentile(sos, 0.99) if sos else float("inf")
    print(
        f"targets: kept up with ≥ 10,000 msg/s {'met' if ok else 'MISSED'}; "
        f"SOS p99 < 1 s {'met' if p99 < 1 else 'MISSED'}; "
        f"RSS < 300 MB {'met' if sustained.peak_rss < 300 * 2**20 else 'MISSED'}"
    )


if __name__ == "__main__":
    sys.exit(main())

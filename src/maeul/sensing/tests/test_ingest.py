"""`maeul ingest` against a real Mosquitto: documented payloads end to end, a killed worker and a restarted broker
without losing or doubling an acknowledged reading, and two workers sharing the load by household partition."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum
from paho.mqtt.enums import MQTTErrorCode

from maeul.accounts import services as accounts
from maeul.accounts.roles import Role
from maeul.conftest import actor_of, household_data
from maeul.people import services as people
from maeul.sensing import adapters
from maeul.sensing.broker import BrokerHandle, free_port, start_broker
from maeul.sensing.ingest import BrokerConfig, Worker, WorkerOptions, default_options
from maeul.sensing.models import (
    DeadLetter,
    Device,
    Gateway,
    IngestCounter,
    IngestWorker,
    Protocol,
    Reading,
    UnclaimedDevice,
)
from maeul.sensing.tests.mosquitto import (
    Publisher,
    run_in_thread,
    running_mosquitto,
    shared_database,
    start_worker,
    stop_worker,
    wait_for,
)
from maeul.sensing.tests.recording import recorded
from maeul.sites import services as sites
from maeul.sites.models import ProgrammeType, Site

pytestmark = pytest.mark.django_db(transaction=True)
DOCUMENTED = json.loads((Path(__file__).parent / "fixtures" / "documented_payloads.json").read_text("utf-8"))


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerHandle]:
    with running_mosquitto(tmp_path / "mqtt") as handle:
        yield handle


@pytest.fixture
def database(transactional_db: None, reference: None, tmp_path: Path) -> Iterator[dict[str, str]]:
    with shared_database(tmp_path) as env:
        yield env


@pytest.fixture
def homes(database: dict[str, str]) -> tuple[Site, list[int]]:
    """A site with four households, made after the switch to the shared database."""
    site = sites.create_site("jongno", "서울특별시 종로구", "1111000000", ProgrammeType.SAFETY_WELFARE)
    admin = accounts.create_account("admin-ingest", "correct-horse-battery", Role.SITE_ADMIN, site=site, areas=[])
    names = ["김영자", "박영수", "이순자", "최말순"]
    households = [people.register_household(actor_of(admin), household_data(name=n, phone=None)).id for n in names]
    return site, households


def _device(site: Site, household_id: int, protocol: str, identity: str) -> Device:
    return Device.objects.create(site=site, household_id=household_id, protocol=protocol, identity=identity)


def _connected(site: Site, count: int = 1) -> bool:
    return IngestWorker.objects.filter(site=site, broker_connected=True).count() >= count


def test_documented_payloads_end_to_end(
    broker: BrokerHandle, database: dict[str, str], homes: tuple[Site, list[int]], tmp_path: Path
) -> None:
    site, (household, *_rest) = homes
    provisioned = {
        (Protocol.ZIGBEE2MQTT, "living room/motion"),
        (Protocol.ZIGBEE2MQTT, "front door/contact"),
        (Protocol.ZIGBEE2MQTT, "grandma/sos_button"),
        (Protocol.ZIGBEE2MQTT, "kitchen/smoke"),
        (Protocol.TASMOTA, "tasmota_8A1B2C"),
    }
    for protocol, identity in provisioned:
        _device(site, household, protocol, identity)
    worker = start_worker(database, broker.url, site.slug, tmp_path)
    try:
        wait_for(lambda: _connected(site), what="the worker to subscribe")
        publisher = Publisher(broker.url)
        entries = DOCUMENTED["zigbee2mqtt"] + DOCUMENTED["tasmota"]
        expected_readings = 0
        expected_unclaimed = set()
        for entry in entries:
            payload = entry["payload"] if isinstance(entry["payload"], str) else json.dumps(entry["payload"])
            publisher.publish(entry["topic"], payload)
            parsed = adapters.parse(entry["topic"], payload.encode(), datetime.now(UTC))
            for reading in parsed.readings:
                if (reading.protocol, reading.device) in provisioned:
                    expected_readings += 1
                else:
                    expected_unclaimed.add(reading.device)
        publisher.publish("zigbee2mqtt/living room/motion", b"{oops")
        publisher.publish("tele/tasmota_8A1B2C/SENSOR", b"[1, 2]")
        publisher.publish("maeul/never-provisioned", {"kind": "motion", "value": 1})
        publisher.wait_all()
        publisher.close()
        wait_for(lambda: DeadLetter.objects.count() == 2, what="dead letters")
        wait_for(lambda: Reading.objects.count() == expected_readings, what=f"{expected_readings} readings")
        wait_for(lambda: UnclaimedDevice.objects.filter(identity="never-provisioned").exists(), what="unclaimed")
    finally:
        assert stop_worker(worker) == 0  # SIGTERM: a clean stop
    assert {d.detail for d in DeadLetter.objects.all()} == {
        "payload is not JSON (Expecting property name enclosed in double quotes at character 1)",
        "SENSOR: expected a JSON object, got list",
    }
    assert set(UnclaimedDevice.objects.values_list("identity", flat=True)) == expected_unclaimed | {"never-provisioned"}
    motion = Device.objects.get(identity="living room/motion")
    assert motion.available is False  # the last documented availability message says offline
    assert Gateway.objects.get(site=site, name="zigbee2mqtt").online is True
    sos = Reading.objects.get(kind="sos")
    assert sos.value == 1.0 and sos.household_id == household
    # Detection was handed every stored reading.
    handed = recorded(tmp_path / "record")[0]
    assert sorted(r["id"] for r in handed if "id" in r) == sorted(Reading.objects.values_list("id", flat=True))
    assert IngestWorker.objects.get(site=site).broker_connected is False  # recorded at the clean stop


def test_acknowledged_only_after_commit_and_a_redelivery_is_dropped(
    broker: BrokerHandle, database: dict[str, str], homes: tuple[Site, list[int]], tmp_path: Path
) -> None:
    """The crash window between commit and acknowledgement, made certain: the first worker commits but never
    acknowledges; the broker redelivers everything (DUP) to the next worker with the same client id."""
    site, (household, *_rest) = homes
    _device(site, household, Protocol.GENERIC, "counter")
    options = default_options(site.pk, site.slug)
    config = BrokerConfig.from_url(broker.url)
    crashing = Worker(config, options, consumers=[])
    crashing.client.ack_all = lambda mids: MQTTErrorCode.MQTT_ERR_SUCCESS  # type: ignore[method-assign]
    thread, stop = run_in_thread(crashing)
    try:
        wait_for(lambda: _connected(site), what="the worker to subscribe")
        _publish_counter_values(broker.url, 20)
        wait_for(lambda: Reading.objects.count() == 20, what="20 readings")
    finally:
        stop.set()
        thread.join()
    thread, stop = run_in_thread(Worker(config, options, consumers=[]))
    try:
        wait_for(
            lambda: IngestCounter.objects.filter(site=site, outcome="duplicate", messages=20).exists(),
            what="the redeliveries",
        )
    finally:
        stop.set()
        thread.join()
    # The second worker acknowledged them: the same session gets nothing again.
    thread, stop = run_in_thread(Worker(config, options, consumers=[]))
    try:
        wait_for(lambda: _connected(site), what="the third worker to subscribe")
        time.sleep(1)  # a redelivery comes as soon as the session resumes
    finally:
        stop.set()
        thread.join()
    duplicates = IngestCounter.objects.filter(site=site, outcome="duplicate").aggregate(n=Sum("messages"))["n"]
    assert duplicates == 20
    assert sorted(_stored_values()) == list(range(20))


class _SlowConsumer:
    """Detection that takes its time: the storing thread falls behind and the inbox fills up."""

    def readings(self, batch: object) -> None:
        time.sleep(0.2)

    def statuses(self, batch: object) -> None:
        pass

    def tick(self, now: datetime) -> None:
        pass


def test_a_worker_with_a_full_inbox_stops_at_once_and_loses_nothing(
    broker: BrokerHandle, database: dict[str, str], homes: tuple[Site, list[int]], tmp_path: Path
) -> None:
    """With the inbox full, paho's thread holds messages it has read from the socket; stopping must not wait on
    each of them, and whatever was not stored comes again to the next worker."""
    site, (household, *_rest) = homes
    _device(site, household, Protocol.GENERIC, "counter")
    options = dataclasses.replace(default_options(site.pk, site.slug), batch_size=5)
    config = BrokerConfig.from_url(broker.url)
    slow = Worker(config, options, consumers=[_SlowConsumer()])  # type: ignore[list-item]
    thread, stop = run_in_thread(slow)
    count = 400
    try:
        wait_for(lambda: _connected(site), what="the worker to subscribe")
        _publish_counter_values(broker.url, count)
        wait_for(lambda: Reading.objects.count() >= 20, what="the first batches")
    finally:
        stop.set()
        started = time.monotonic()
        thread.join(timeout=30)
    assert not thread.is_alive(), "the worker did not stop"
    assert time.monotonic() - started < 5
    assert Reading.objects.count() < count  # it really stopped with messages still to come
    _next_worker_stores_every_message_once(config, options, count)


def test_a_worker_whose_storing_thread_fails_exits_and_loses_nothing(
    broker: BrokerHandle, database: dict[str, str], homes: tuple[Site, list[int]], tmp_path: Path
) -> None:
    """The storing thread fails while batches keep coming: the worker must end with the error (so the service
    manager restarts it), not wait for ever to hand over the next batch, and the next worker stores everything."""
    site, (household, *_rest) = homes
    _device(site, household, Protocol.GENERIC, "counter")
    options = dataclasses.replace(default_options(site.pk, site.slug), batch_size=5)
    config = BrokerConfig.from_url(broker.url)
    failing = Worker(config, options, consumers=[])
    commit = failing.store.commit_resilient
    batches = 0

    def commit_then_fail(batch: Any) -> Any:
        nonlocal batches
        batches += 1
        if batches > 3:
            time.sleep(0.5)  # the main thread fills the hand-over meanwhile
            raise RuntimeError("a bug in the storing thread")
        return commit(batch)

    failing.store.commit_resilient = commit_then_fail  # type: ignore[method-assign]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            failing.run(threading.Event())
        except BaseException as exc:  # what the worker ends with is what the test checks
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    count = 200
    wait_for(lambda: _connected(site), what="the worker to subscribe")
    _publish_counter_values(broker.url, count)
    thread.join(timeout=30)
    assert not thread.is_alive(), "the worker neither stored nor stopped"
    assert [str(e) for e in errors] == ["a bug in the storing thread"]
    assert 0 < Reading.objects.count() < count
    _next_worker_stores_every_message_once(config, options, count)


def _publish_counter_values(url: str, count: int) -> None:
    """Values 0..count-1 to the generic counter device, each confirmed by the broker (QoS 1)."""
    publisher = Publisher(url)
    for i in range(count):
        publisher.publish("maeul/counter", {"kind": "temperature", "value": i})
    publisher.wait_all()
    publisher.close()


def _next_worker_stores_every_message_once(config: BrokerConfig, options: WorkerOptions, count: int) -> None:
    """What the last worker did not acknowledge comes again: afterwards values 0..count-1 are each stored once."""
    thread, stop = run_in_thread(Worker(config, options, consumers=[]))
    try:
        wait_for(lambda: Reading.objects.count() >= count, what="the rest from the broker")
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    assert sorted(_stored_values()) == list(range(count))


def _publish_counter(publisher: Publisher, topic: str, count: int, timed: bool, pace: float) -> threading.Thread:
    base = datetime(2026, 11, 25, tzinfo=UTC)

    def run() -> None:
        for i in range(count):
            item: dict[str, Any] = {"kind": "temperature", "value": i}
            if timed:
                item["at"] = (base + timedelta(milliseconds=i)).isoformat()
            publisher.publish(topic, item, tag=i)
            if i % 50 == 49:
                time.sleep(pace)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _stored_values() -> list[int]:
    return [int(v) for v in Reading.objects.filter(kind="temperature").values_list("value", flat=True)]


def test_a_killed_worker_loses_and_doubles_nothing(
    broker: BrokerHandle, database: dict[str, str], homes: tuple[Site, list[int]], tmp_path: Path
) -> None:
    site, (household, *_rest) = homes
    _device(site, household, Protocol.GENERIC, "counter")
    count = 3000
    worker = start_worker(database, broker.url, site.slug, tmp_path, name="worker-1")
    wait_for(lambda: _connected(site), what="the worker to subscribe")
    publisher = Publisher(broker.url)
    # No "at": the payloads carry no time of their own, so only the DUP flag tells a redelivery from a repeat.
    thread = _publish_counter(publisher, "maeul/counter", count, timed=False, pace=0.03)
    wait_for(lambda: Reading.objects.count() >= count // 4, what="a quarter stored")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    stored_at_kill = Reading.objects.count()
    worker = start_worker(database, broker.url, site.slug, tmp_path, name="worker-2")
    try:
        thread.join()
        publisher.wait_all()
        acknowledged = set(publisher.acknowledged())
        publisher.close()
        wait_for(lambda: Reading.objects.count() >= count, timeout=60, what="everything stored")
        time.sleep(1)  # anything redelivered late would show up as a double now
    finally:
        assert stop_worker(worker) == 0
    values = _stored_values()
    assert stored_at_kill < count
    assert acknowledged == set(range(count))
    assert sorted(values) == list(range(count))  # every acknowledged reading, exactly once
    # Detection saw everything (at least once: a crash may repeat up to a second's worth to it).
    handed = [r["value"] for r in recorded(tmp_path / "record")[0] if r.get("kind") == "temperature"]
    assert set(handed) == set(map(float, range(count)))


def test_a_restarted_broker_loses_and_doubles_nothing(
    broker: BrokerHandle, database: dict[str, str], homes: tuple[Site, list[int]], tmp_path: Path
) -> None:
    site, (household, *_rest) = homes
    _device(site, household, Protocol.GENERIC, "counter")
    count = 3000
    worker = start_worker(database, broker.url, site.slug, tmp_path)
    try:
        wait_for(lambda: _connected(site), what="the worker to subscribe")
        publisher = Publisher(broker.url)
        # With "at": a device's own QoS 1 retry after the outage repeats a report it already delivered.
        thread = _publish_counter(publisher, "maeul/counter", count, timed=True, pace=0.03)
        wait_for(lambda: Reading.objects.count() >= count // 4, what="a quarter stored")
        port = int(broker.url.rsplit(":", 1)[1])
        broker.stop()  # SIGTERM: Mosquitto saves the sessions and their queues
        restarted = start_broker(tmp_path / "mqtt", port=port)
        try:
            thread.join()
            publisher.wait_all(timeout=60)
            acknowledged = set(publisher.acknowledged())
            publisher.close()
            wait_for(lambda: Reading.objects.count() >= count, timeout=60, what="everything stored")
            time.sleep(1)
        finally:
            assert stop_worker(worker) == 0
            restarted.stop()
    finally:
        stop_worker(worker)
    assert acknowledged == set(range(count))
    assert sorted(_stored_values()) == list(range(count))


def test_two_workers_share_the_load_and_each_household_has_one_partition(
    broker: BrokerHandle, database: dict[str, str], homes: tuple[Site, list[int]], tmp_path: Path
) -> None:
    site, households = homes
    for i, household in enumerate(households):
        _device(site, household, Protocol.GENERIC, f"bed-{i}")
    workers = [
        start_worker(
            database, broker.url, site.slug, tmp_path, "--shared", "maeul", "--partition", f"{p}/2", name=f"w{p}"
        )
        for p in (0, 1)
    ]
    try:
        wait_for(lambda: _connected(site, 2), what="both workers to subscribe")
        publisher = Publisher(broker.url)
        rounds = 100
        for n in range(rounds):
            for i in range(len(households)):
                publisher.publish(f"maeul/bed-{i}", {"kind": "presence", "value": n})
        publisher.wait_all()
        publisher.close()
        total = rounds * len(households)
        wait_for(lambda: Reading.objects.count() >= total, what="everything stored")

        def handed() -> int:
            return sum(len([r for r in rows if "id" in r]) for rows in recorded(tmp_path / "record").values())

        wait_for(lambda: handed() >= total, what="detection to be handed everything")
    finally:
        for worker in workers:
            assert stop_worker(worker) == 0
    assert Reading.objects.count() == total  # stored once, by one worker or the other
    assert IngestWorker.objects.filter(site=site, last_message_at__isnull=False).count() == 2  # both took a share
    per_household = Counter(Reading.objects.values_list("household_id", flat=True))
    assert set(per_household.values()) == {rounds}
    by_partition = recorded(tmp_path / "record")
    all_ids = []
    for partition, rows in by_partition.items():
        readings = [r for r in rows if "id" in r]
        assert {r["household"] % 2 for r in readings} == {partition}
        ids = [r["id"] for r in readings]
        assert ids == sorted(ids)  # commit order
        all_ids += ids
    assert sorted(all_ids) == sorted(Reading.objects.values_list("id", flat=True))  # each to exactly one partition


def test_the_worker_runs_on_the_embedded_broker(
    database: dict[str, str], homes: tuple[Site, list[int]], tmp_path: Path
) -> None:
    """`make run` without Mosquitto: amqtt (MQTT 3.1.1) with the same worker."""
    site, (household, *_rest) = homes
    _device(site, household, Protocol.GENERIC, "counter")
    broker = start_broker(tmp_path / "amqtt", port=free_port(), embedded=True)
    try:
        thread, stop = run_in_thread(Worker(BrokerConfig.from_url(broker.url), default_options(site.pk, site.slug), []))
        try:
            wait_for(lambda: _connected(site), what="the worker to subscribe")
            _publish_counter_values(broker.url, 100)
            wait_for(lambda: Reading.objects.count() == 100, what="100 readings")
        finally:
            stop.set()
            thread.join()
    finally:
        broker.stop()
    assert sorted(_stored_values()) == list(range(100))


def test_the_worker_starts_without_the_web_layer(tmp_path: Path) -> None:
    """`maeul ingest`'s start-up checks import no view, API router or template tag: through them come screening's
    numpy, pyarrow, scikit-learn and pandas, which once tripled the worker's memory."""
    code = (
        "import sys, django\n"
        "django.setup()\n"
        "from maeul.cli import main\n"
        "from maeul.sensing.management.commands.ingest import Command\n"
        "Command.handle = lambda self, *args, **options: print('handled')\n"
        "sys.argv = ['maeul', 'ingest']\n"
        "main()\n"
        "print(sorted({'numpy', 'pyarrow', 'sklearn', 'pandas'} & set(sys.modules)))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "maeul.testing.settings", "MAEUL_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["handled", "[]"]

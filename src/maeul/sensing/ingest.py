"""The MQTT ingest worker: subscribe, batch, store, acknowledge after commit, hand over to detection.

paho's network loop runs in its own thread and only queues what arrives; the main thread takes batches (by size or
time, whichever first), stores each in one transaction, then acknowledges its messages (paho manual ack) — so a
message the broker considers delivered is always committed. After a reconnect, messages of the old connection are
not acknowledged (their packet ids belong to it); the broker redelivers them flagged DUP and the store drops them.
Design and edge cases: docs/decisions/0011-ingestion.md.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from maeul.sensing.models import IngestWorker
from maeul.sensing.mqtt_client import BulkClient, Delivery
from maeul.sensing.store import BatchResult, Message, Prepared, Store, prune_delivery_keys
from maeul.sensing.stream import Detection, StreamConsumer

log = logging.getLogger("maeul.sensing.ingest")
Received = tuple[int, Delivery, datetime]  # (connection generation, message, time received)

HEARTBEAT_SECONDS = 5.0
TICK_SECONDS = 1.0
PRUNE_SECONDS = 600.0
INBOX_BATCHES = 4  # messages received but not yet stored, in batches: bounds memory when the database is slower


@dataclass(frozen=True)
class BrokerConfig:
    host: str
    port: int
    tls: bool = False
    username: str = ""
    password: str = ""
    ca: str = ""

    @classmethod
    def from_url(cls, url: str, username: str = "", password: str = "", ca: str = "") -> BrokerConfig:
        """``mqtt://user:pass@host:1883`` or ``mqtts://host:8883``; credentials in the URL win."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"broker URL must be mqtt://host:port or mqtts://host:port, got {url!r}")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else username,
            password=unquote(parts.password) if parts.password else password,
            ca=ca,
        )


@dataclass(frozen=True)
class WorkerOptions:
    site_id: int
    client_id: str
    topics: Sequence[str]
    shared_group: str = ""
    partition: int = 0
    partitions: int = 1
    zigbee2mqtt_base: str = "zigbee2mqtt"
    batch_size: int = 500
    batch_seconds: float = 0.05
    dedup_hours: int = 24


def subscriptions(options: WorkerOptions) -> list[str]:
    if not options.shared_group:
        return list(options.topics)
    shared = [f"$share/{options.shared_group}/{t}" for t in options.topics]
    # Retained messages are never sent to shared subscriptions: each worker takes the bridge's state directly.
    return [*shared, f"{options.zigbee2mqtt_base}/bridge/state"]


class Worker:
    def __init__(
        self,
        broker: BrokerConfig,
        options: WorkerOptions,
        consumers: Sequence[StreamConsumer] | None = None,
    ) -> None:
        self.broker, self.options = broker, options
        self.store = Store(options.site_id, options.zigbee2mqtt_base)
        self.detection = Detection(options.site_id, options.partition, options.partitions, consumers)
        self.started_at = timezone.now()
        self._inbox: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self._generation = 0  # bumped on every (re)connection; acks go only to the connection that delivered
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._slots = threading.Semaphore(INBOX_BATCHES * options.batch_size)
        self.last_message_at: datetime | None = None
        self.stored_messages = 0
        self.client = self._client()

    # --- MQTT (network thread) --------------------------------------------------------------------------------

    def _client(self) -> BulkClient:
        # MQTT 3.1.1 with a persistent session (clean_session=False), also when sharing: Mosquitto, EMQX, HiveMQ and
        # VerneMQ accept $share/ from 3.1.1 clients, and paho's MQTT 5 path (a properties object decoded for every
        # message) halved a worker's rate (docs/decisions/0011-ingestion.md).
        client = BulkClient(
            self._on_delivery,
            CallbackAPIVersion.VERSION2,
            client_id=self.options.client_id,
            protocol=MQTTProtocolVersion.MQTTv311,
            clean_session=False,
            manual_ack=True,
        )
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password or None)
        if self.broker.tls:
            client.tls_set(ca_certs=self.broker.ca or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        self._generation += 1
        client.subscribe([(topic, 1) for topic in subscriptions(self.options)])
        log.info("connected to %s:%s (session present: %s)", self.broker.host, self.broker.port, flags.session_present)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[Any], _p: Any) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("the broker refused subscriptions: %s", ", ".join(refused))
        self._connected.set()  # connected means subscribed: from here on nothing published is missed

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        if reason.is_failure:
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_delivery(self, message: Delivery) -> None:
        # Backpressure: while the inbox is full the network thread waits, so the socket is not read and the broker
        # keeps the rest. (Mosquitto 2.0.11 does not hold to max_inflight_messages once acknowledgements flow.)
        # Once stopping, nothing more is taken (not acknowledged: the broker delivers it again). Checked before each
        # wait, so a message paho hands over while stopping is let go at once, not after half a second.
        while not self._stopping.is_set():
            if self._slots.acquire(timeout=0.5):
                self._inbox.put((self._generation, message, timezone.now()))
                return

    def connect(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()

    # --- batches (main thread) --------------------------------------------------------------------------------

    def _collect(self, idle_seconds: float) -> list[Received]:
        items = self._take(idle_seconds)
        for _ in items:
            self._slots.release()
        return items

    def _take(self, idle_seconds: float) -> list[Received]:
        items: list[Received] = []
        try:
            items.append(self._inbox.get(timeout=idle_seconds))
        except queue.Empty:
            return items
        deadline = time.monotonic() + self.options.batch_seconds
        while len(items) < self.options.batch_size:
            try:
                items.append(self._inbox.get_nowait())
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    items.append(self._inbox.get(timeout=left))
                except queue.Empty:
                    break
        return items

    def _store(self, batch: list[Prepared], stop: threading.Event) -> BatchResult | None:
        delay = 0.5
        while True:
            try:
                return self.store.commit_resilient(batch)
            except (OperationalError, InterfaceError):
                # The database is away: keep the batch (unacknowledged) and try again.
                log.exception("database unavailable; retrying the batch in %.1f s", delay)
                connection.close()
                if stop.wait(delay):
                    return None
                delay = min(delay * 2, 30.0)

    def process(self, items: list[Received], batch: list[Prepared], stop: threading.Event) -> None:
        result = self._store(batch, stop)
        if result is None:
            return  # stopping with the database away: the broker keeps the messages
        generation = self._generation
        # Subscribed at QoS 1, so nothing arrives at QoS 2; a QoS 0 message has nothing to acknowledge.
        self.client.ack_all(m.mid for g, m, _at in items if g == generation and m.qos == 1)
        self.stored_messages += len(items)
        self.last_message_at = items[-1][2]
        try:
            self.detection.committed(result.previous_max_id, result.readings, result.statuses)
        except DatabaseError:
            log.exception("detection hand-off failed; it resumes from its cursor")
            connection.close()

    def heartbeat(self, connected: bool | None = None) -> None:
        IngestWorker.objects.update_or_create(
            site_id=self.options.site_id,
            name=self.options.client_id,
            defaults={
                "started_at": self.started_at,
                "heartbeat_at": timezone.now(),
                "broker_connected": self._connected.is_set() if connected is None else connected,
                "last_message_at": self.last_message_at,
            },
        )

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set; then store and acknowledge the batches in hand and disconnect.

        Two threads besides paho's: this one takes batches from the inbox and parses them; the storing thread
        commits, acknowledges, hands over to detection and keeps house. Parsing the next batch thus overlaps the
        database round trips of the previous one, and everything touching the database stays in one thread."""
        self.detection.catch_up()  # what was committed before a restart reaches detection before anything new
        self.connect()
        handoff: queue.Queue[tuple[list[Received], list[Prepared]] | None] = queue.Queue(maxsize=1)
        failure: list[BaseException] = []
        storer = threading.Thread(target=self._storing, args=(handoff, stop, failure), name="maeul-ingest-store")
        storer.start()
        try:
            while not stop.is_set() and storer.is_alive():
                items = self._collect(idle_seconds=0.1)
                if items:
                    batch = [self.store.prepare(Message(m.topic, m.payload, at, m.dup)) for _g, m, at in items]
                    _hand_over(handoff, (items, batch), storer)
        finally:
            self._stopping.set()  # the network thread takes nothing more; what it took unstored is redelivered
            _hand_over(handoff, None, storer)
            storer.join()
            self.client.disconnect()  # after the last acknowledgements, which paho sends first
            self.client.loop_stop()
            self._connected.clear()
            log.info("ingest stopped after %s messages", self.stored_messages)
        if failure:
            raise failure[0]

    def _storing(
        self,
        handoff: queue.Queue[tuple[list[Received], list[Prepared]] | None],
        stop: threading.Event,
        failure: list[BaseException],
    ) -> None:
        several = self.options.partitions > 1
        poll_seconds = 0.1 if several else 1.0  # catch-up also carries what the HTTP endpoint stored
        last = dict.fromkeys(("heartbeat", "tick", "poll", "prune"), 0.0)
        reported_connected = False  # a change of connection is reported at once, not at the next beat
        try:
            while True:
                try:
                    job = handoff.get(timeout=0.1)
                except queue.Empty:
                    job = ([], [])
                if job is None:
                    break
                if job[0]:
                    self.process(*job, stop)
                now = time.monotonic()
                try:
                    if now - last["poll"] >= poll_seconds:
                        self.detection.catch_up()
                        if several:
                            self.detection.poll_statuses(timezone.now())
                        last["poll"] = now
                    if now - last["tick"] >= TICK_SECONDS:
                        self.detection.tick(timezone.now())
                        last["tick"] = now
                    connected = self._connected.is_set()
                    if now - last["heartbeat"] >= HEARTBEAT_SECONDS or connected != reported_connected:
                        self.heartbeat()
                        last["heartbeat"], reported_connected = now, connected
                    if now - last["prune"] >= PRUNE_SECONDS:
                        prune_delivery_keys(self.options.dedup_hours)
                        last["prune"] = now
                except (OperationalError, InterfaceError):
                    log.exception("database unavailable for housekeeping")
                    connection.close()
        except BaseException as exc:
            failure.append(exc)  # the main thread stops and re-raises it: the process exits and is restarted
            log.exception("the storing thread failed")
        finally:
            try:
                self.detection.save_cursor(force=True)
                self.heartbeat(connected=False)
            except DatabaseError:
                log.exception("could not record the stop")
            connection.close()


def _hand_over(
    handoff: queue.Queue[tuple[list[Received], list[Prepared]] | None],
    job: tuple[list[Received], list[Prepared]] | None,
    storer: threading.Thread,
) -> None:
    """Put a job for the storing thread, unless that thread has ended (it failed): then the job is dropped, not
    acknowledged, and the broker delivers it again. A plain put would wait for ever on a dead thread, and the worker
    would neither store nor stop."""
    while storer.is_alive():
        try:
            handoff.put(job, timeout=0.5)
            return
        except queue.Full:
            continue


def default_options(site_id: int, site_slug: str, **given: Any) -> WorkerOptions:
    """Options from the command line where given, else from settings (MAEUL_MQTT_*, MAEUL_INGEST_*)."""
    base = given.get("zigbee2mqtt_base") or settings.MAEUL_ZIGBEE2MQTT_BASE
    topics = [f"{base}/#" if t == "zigbee2mqtt/#" else t for t in given.get("topics") or settings.MAEUL_MQTT_TOPICS]
    partition, partitions = given.get("partition") or (0, 1)
    return WorkerOptions(
        site_id=site_id,
        client_id=given.get("client_id")
        or settings.MAEUL_MQTT_CLIENT_ID
        or f"maeul-ingest-{site_slug}-{partition}of{partitions}",
        topics=topics,
        shared_group=given.get("shared_group") or settings.MAEUL_MQTT_SHARED_GROUP,
        partition=partition,
        partitions=partitions,
        zigbee2mqtt_base=base,
        batch_size=settings.MAEUL_INGEST_BATCH_SIZE,
        batch_seconds=settings.MAEUL_INGEST_BATCH_MS / 1000,
        dedup_hours=settings.MAEUL_INGEST_DEDUP_HOURS,
    )

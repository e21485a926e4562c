"""The store path: a batch of received messages (MQTT or the HTTP endpoint) into the database in one transaction.

Each message is parsed by the adapters; devices are found by (site, protocol, identity) through an in-memory cache
refreshed on misses; readings are inserted in bulk (COPY on PostgreSQL); each device seen gets one update per batch
(last seen, battery, availability); unreadable messages become dead letters with the reason; messages from devices
nobody provisioned are counted on ``UnclaimedDevice``; outcomes are added to ``IngestCounter``; each message's
delivery key is recorded so a redelivery is dropped. A message that fails in any way is dead-lettered on its own:
it never costs the rest of the batch. Why the keys work as they do: docs/decisions/0011-ingestion.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from maeul.sensing import adapters
from maeul.sensing.adapters import Kind, Parsed
from maeul.sensing.models import (
    DeadLetter,
    DeadLetterReason,
    DeliveryKey,
    Device,
    Gateway,
    Protocol,
    UnclaimedDevice,
)
from maeul.sensing.stream import DeviceStatus, StoredReading

log = logging.getLogger("maeul.sensing.store")

DEVICE_CACHE_SECONDS = 60.0  # a newly claimed, moved or deactivated device is noticed within this
LAST_SEEN_PRECISION = timedelta(minutes=1)  # Device.last_seen_at is written at most this often per worker
PAYLOAD_KEPT = 4096
# Serialises reading-id allocation and commit on PostgreSQL, so ids become visible in order (see stream.py).
READING_ORDER_LOCK = 0x6D61_6575  # "maeu"


class Outcome(StrEnum):
    STORED = "stored"  # readings stored
    DUPLICATE = "duplicate"  # a redelivery of a committed message: dropped
    MALFORMED = "malformed"
    UNRECOGNISED = "unrecognised"
    REJECTED = "rejected"  # a deactivated device, or an adapter failure
    UNCLAIMED = "unclaimed"  # a device no household has
    AVAILABILITY = "availability"  # an availability report (device or bridge)
    IGNORED = "ignored"  # a topic an adapter reads but that carries nothing (commands, bridge logs…)


class Message(NamedTuple):  # named tuples, not frozen dataclasses: built per message (see adapters.Reading)
    topic: str
    payload: bytes
    received_at: datetime
    redelivered: bool = False  # MQTT's DUP flag: the broker may have delivered it before


class MessageResult(NamedTuple):
    outcome: Outcome
    readings: int = 0
    detail: str = ""


@dataclass
class BatchResult:
    results: list[MessageResult]
    readings: list[StoredReading]  # in id order, each household's in time order
    statuses: list[DeviceStatus]
    previous_max_id: int | None  # the highest committed reading id before this batch's (None: no readings)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


@dataclass(frozen=True)
class _Known:
    id: int
    household_id: int
    active: bool


@dataclass
class Prepared:
    """A message parsed (or not) and keyed, ready for ``Store.commit``."""

    message: Message
    key: str
    parsed: Parsed | None = None
    failure: tuple[DeadLetterReason, str] | None = None
    source: str = ""
    self_timed: bool = False

    def set_parsed(self, parsed: Parsed) -> None:
        self.parsed = parsed
        # Every reading carries the device's own time: an identical payload can only be the same report again.
        self.self_timed = bool(parsed.readings) and all(r.at != self.message.received_at for r in parsed.readings)


@dataclass
class _DeviceUpdate:
    seen: datetime
    battery: float | None = None
    available: bool | None = None
    available_at: datetime | None = None


@dataclass
class _Unclaimed:
    first: datetime
    last: datetime
    messages: int = 0
    kinds: set[str] = field(default_factory=set)
    topic: str = ""
    payload: str = ""


def delivery_key(topic: str, payload: bytes) -> str:
    return hashlib.sha256(topic.encode() + b"\0" + payload).hexdigest()


def _text(payload: bytes) -> str:
    # PostgreSQL text cannot hold NUL.
    return payload[:PAYLOAD_KEPT].decode("utf-8", errors="replace").replace("\x00", "\ufffd")


class Store:
    """One site's store path. Keeps a device cache, so one instance serves a worker's whole life."""

    def __init__(self, site_id: int, zigbee2mqtt_base: str = adapters.ZIGBEE2MQTT) -> None:
        self.site_id = site_id
        self.zigbee2mqtt_base = zigbee2mqtt_base
        self._devices: dict[tuple[str, str], _Known | None] = {}
        self._devices_loaded = time.monotonic()
        self._written: dict[int, tuple[datetime, float | None]] = {}  # device → (last_seen_at, battery) committed

    # --- parsing ----------------------------------------------------------------------------------------------

    def _source(self, topic: str) -> str:
        if topic.startswith(self.zigbee2mqtt_base + "/"):
            return Protocol.ZIGBEE2MQTT
        if topic.startswith(("tele/", "stat/")):
            return Protocol.TASMOTA
        if topic.startswith("maeul/"):
            return Protocol.GENERIC
        return ""

    def prepare(self, message: Message) -> Prepared:
        prepared = Prepared(message, delivery_key(message.topic, message.payload), source=self._source(message.topic))
        try:
            prepared.set_parsed(
                adapters.parse(message.topic, message.payload, message.received_at, self.zigbee2mqtt_base)
            )
        except adapters.Malformed as exc:
            prepared.failure = (DeadLetterReason.MALFORMED, str(exc))
        except adapters.Unrecognised as exc:
            prepared.failure = (DeadLetterReason.UNRECOGNISED, str(exc))
        except Exception as exc:  # an adapter bug must cost one message, never the batch or the worker
            log.exception("adapter failed on %s", message.topic)
            prepared.failure = (DeadLetterReason.REJECTED, f"adapter error: {type(exc).__name__}: {exc}")
        return prepared

    @staticmethod
    def prepared_http(gateway_id: int, item: Any, received_at: datetime) -> Prepared:
        """One item of the HTTP endpoint's body (generic JSON with a ``device``), stored under protocol ``http``."""
        device = item.get("device") if isinstance(item, dict) else None
        payload = json.dumps(item, sort_keys=True, ensure_ascii=False).encode()
        topic = f"http/{gateway_id}/{device if isinstance(device, str) else ''}"
        prepared = Prepared(Message(topic, payload, received_at), delivery_key(topic, payload), source=Protocol.HTTP)
        if not isinstance(device, str) or not device.strip() or len(device) > 200:
            prepared.failure = (DeadLetterReason.MALFORMED, "device: expected the device's id (1 to 200 characters)")
            return prepared
        try:
            readings = adapters.generic_readings(device, item, received_at)
        except adapters.Malformed as exc:
            prepared.failure = (DeadLetterReason.MALFORMED, str(exc))
        else:
            prepared.set_parsed(
                Parsed(readings=tuple(adapters.Reading(Protocol.HTTP, device, r.kind, r.value, r.at) for r in readings))
            )
        return prepared

    # --- devices ----------------------------------------------------------------------------------------------

    def _resolve(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], _Known | None]:
        if time.monotonic() - self._devices_loaded > DEVICE_CACHE_SECONDS:
            self._devices.clear()
            self._devices_loaded = time.monotonic()
        missing = {w for w in wanted if w not in self._devices}
        if missing:
            by_protocol: dict[str, set[str]] = defaultdict(set)
            for protocol, identity in missing:
                by_protocol[protocol].add(identity)
            for protocol, identities in by_protocol.items():
                for device_id, identity, household_id, active in Device.objects.filter(
                    site_id=self.site_id, protocol=protocol, identity__in=identities
                ).values_list("id", "identity", "household_id", "active"):
                    self._devices[(protocol, identity)] = _Known(device_id, household_id, active)
            for key in missing:
                self._devices.setdefault(key, None)  # unknown: remembered too, until the next refresh
        return self._devices

    # --- the batch --------------------------------------------------------------------------------------------

    def store(self, messages: Sequence[Message]) -> BatchResult:
        return self.commit_resilient([self.prepare(m) for m in messages])

    def commit_resilient(self, batch: Sequence[Prepared], gateway_id: int | None = None) -> BatchResult:
        """``commit``, but a message the database refuses (a value out of range, text it cannot hold…) is found by
        halving the batch and dead-lettered alone. The database being away is not the messages' fault: raised."""
        try:
            return self.commit(batch, gateway_id)
        except (OperationalError, InterfaceError):
            raise
        except DatabaseError as exc:
            if len(batch) == 1:
                log.exception("message on %s could not be stored", batch[0].message.topic)
                batch[0].parsed, batch[0].failure = None, (DeadLetterReason.REJECTED, f"could not be stored: {exc}")
                return self.commit(batch, gateway_id)
        half = len(batch) // 2
        first, second = self.commit_resilient(batch[:half], gateway_id), self.commit_resilient(batch[half:], gateway_id)
        # The halves committed separately: detection reads them back rather than trusting contiguity.
        return BatchResult(
            first.results + second.results, first.readings + second.readings, first.statuses + second.statuses, None
        )

    def commit(self, batch: Sequence[Prepared], gateway_id: int | None = None) -> BatchResult:
        """Store one batch in one transaction. ``gateway_id``: the HTTP gateway that sent it (its last_seen)."""
        wanted: set[tuple[str, str]] = set()
        for p in batch:
            if p.parsed is not None:
                wanted.update((r.protocol, r.device) for r in p.parsed.readings)
                if p.parsed.availability is not None and p.parsed.availability.device:
                    wanted.add((p.parsed.availability.protocol, p.parsed.availability.device))
        devices = self._resolve(wanted)
        with transaction.atomic():
            fresh = self._fresh_keys(batch)
            results: list[MessageResult] = []
            rows: list[tuple[_Known, str, adapters.Reading]] = []
            statuses: list[DeviceStatus] = []
            updates: dict[int, _DeviceUpdate] = {}
            dead: list[DeadLetter] = []
            unclaimed: dict[tuple[str, str], _Unclaimed] = {}
            bridge: adapters.Availability | None = None
            seen_in_batch: set[str] = set()
            for p in batch:
                first_time = p.key in fresh and p.key not in seen_in_batch
                seen_in_batch.add(p.key)
                if not first_time and (p.message.redelivered or p.self_timed):
                    results.append(MessageResult(Outcome.DUPLICATE))
                    continue
                if p.failure is not None:
                    reason, detail = p.failure
                    dead.append(self._dead_letter(p, reason, detail))
                    results.append(MessageResult(Outcome(reason.value), detail=detail))
                    continue
                assert p.parsed is not None
                results.append(
                    self._one(p, p.parsed, devices, rows, statuses, updates, dead, unclaimed)
                    if p.parsed.readings or p.parsed.availability is None or p.parsed.availability.device
                    else MessageResult(Outcome.AVAILABILITY)
                )
                if p.parsed.availability is not None and not p.parsed.availability.device:
                    bridge = p.parsed.availability
            if dead:
                DeadLetter.objects.bulk_create(dead)
            if unclaimed:
                self._record_unclaimed(unclaimed)
            updates = {i: u for i, u in updates.items() if self._worth_writing(i, u)}
            if updates:
                self._update_devices(updates)
            if bridge is not None:
                self._record_bridge(bridge)
            if gateway_id is not None and batch:
                Gateway.objects.filter(pk=gateway_id).update(last_seen_at=batch[0].message.received_at)
            if rows and connection.vendor == "postgresql":
                # The order lock comes before the counters: every worker updates the same counter rows, and taking
                # them inside the serialised section keeps a worker from holding them while it waits for the lock.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [READING_ORDER_LOCK])
            self._count(batch, results)
            previous_max_id, stored = self._insert_readings(rows) if rows else (None, [])
        for device_id, update in updates.items():  # committed: remember what the rows now say
            self._written[device_id] = (update.seen, update.battery)
        return BatchResult(results, stored, statuses, previous_max_id)

    def _worth_writing(self, device_id: int, update: _DeviceUpdate) -> bool:
        """Availability always; last_seen_at once a minute; battery when it changes. Most messages then change no
        device row, which at thousands of messages a second is most of the database's work saved."""
        before = self._written.get(device_id)
        if update.available is not None or before is None:
            return True
        seen, battery = before
        if update.battery is None:
            update.battery = battery  # unchanged; keeps the remembered value
        return update.battery != battery or update.seen - seen >= LAST_SEEN_PRECISION

    def _one(
        self,
        p: Prepared,
        parsed: Parsed,
        devices: dict[tuple[str, str], _Known | None],
        rows: list[tuple[_Known, str, adapters.Reading]],
        statuses: list[DeviceStatus],
        updates: dict[int, _DeviceUpdate],
        dead: list[DeadLetter],
        unclaimed: dict[tuple[str, str], _Unclaimed],
    ) -> MessageResult:
        availability = parsed.availability
        by_device: dict[tuple[str, str], list[adapters.Reading]] = {}
        for reading in parsed.readings:
            by_device.setdefault((reading.protocol, reading.device), []).append(reading)
        if availability is not None:
            by_device.setdefault((availability.protocol, availability.device), [])
        if not by_device:
            return MessageResult(Outcome.IGNORED)
        received = p.message.received_at
        stored = 0
        outcome = Outcome.STORED if parsed.readings else Outcome.AVAILABILITY
        for name in sorted(by_device):
            known = devices.get(name)
            if known is None:
                entry = unclaimed.setdefault(name, _Unclaimed(first=received, last=received))
                entry.last = max(entry.last, received)
                entry.messages += 1
                entry.kinds.update(r.kind.value for r in by_device[name])
                entry.topic, entry.payload = p.message.topic[:300], _text(p.message.payload)
                outcome = Outcome.UNCLAIMED
                continue
            if not known.active:
                dead.append(self._dead_letter(p, DeadLetterReason.REJECTED, f"device {name[1]} is deactivated"))
                outcome = Outcome.REJECTED
                continue
            update = updates.get(known.id)
            if update is None:
                update = updates[known.id] = _DeviceUpdate(seen=received)
            update.seen = max(update.seen, received)
            for reading in by_device[name]:
                rows.append((known, name[1], reading))
                if reading.kind == Kind.BATTERY:
                    update.battery = reading.value
            stored += len(by_device[name])
            if availability is not None and (availability.protocol, availability.device) == name:
                update.available, update.available_at = availability.online, availability.at
                statuses.append(
                    DeviceStatus(self.site_id, known.household_id, known.id, name[1], availability.online, received)
                )
        stored_or_status = outcome in (Outcome.STORED, Outcome.AVAILABILITY)
        detail = "" if stored_or_status else ", ".join(n for _p, n in sorted(by_device))
        return MessageResult(outcome, stored, detail)

    def _dead_letter(self, p: Prepared, reason: DeadLetterReason, detail: str) -> DeadLetter:
        return DeadLetter(
            site_id=self.site_id,
            received_at=p.message.received_at,
            source=p.source,
            topic=p.message.topic[:300],
            payload=_text(p.message.payload),
            reason=reason,
            detail=detail[:300],
        )

    # --- statements -------------------------------------------------------------------------------------------

    def _fresh_keys(self, batch: Sequence[Prepared]) -> set[str]:
        """Record every message's key; return those not recorded before. Sorted, so that two workers inserting
        overlapping keys wait on each other in the same order instead of deadlocking."""
        keys = sorted({p.key for p in batch})
        now = timezone.now()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "INSERT INTO sensing_deliverykey (key, stored_at) SELECT k, %s FROM unnest(%s::text[]) AS k"
                    " ON CONFLICT (key) DO NOTHING RETURNING key",
                    [now, keys],
                )
                return {row[0] for row in cursor.fetchall()}
            fresh: set[str] = set()
            stored_at = connection.ops.adapt_datetimefield_value(now)
            for start in range(0, len(keys), 1000):  # SQLite: bounded number of parameters
                chunk = keys[start : start + 1000]
                cursor.execute(
                    "INSERT INTO sensing_deliverykey (key, stored_at) VALUES "  # noqa: S608 — placeholders only
                    + ", ".join(["(%s, %s)"] * len(chunk))
                    + " ON CONFLICT (key) DO NOTHING RETURNING key",
                    [v for k in chunk for v in (k, stored_at)],
                )
                fresh.update(row[0] for row in cursor.fetchall())
        return fresh

    def _update_devices(self, updates: dict[int, _DeviceUpdate]) -> None:
        adapt = connection.ops.adapt_datetimefield_value
        ordered = sorted(updates.items())  # one lock order for all workers
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    """
                    UPDATE sensing_device d SET
                      last_seen_at = GREATEST(d.last_seen_at, u.seen),
                      battery_percent = COALESCE(u.battery, d.battery_percent),
                      availability_changed_at = CASE WHEN u.available IS NOT NULL
                        AND d.available IS DISTINCT FROM u.available THEN u.available_at
                        ELSE d.availability_changed_at END,
                      available = COALESCE(u.available, d.available)
                    FROM unnest(%s::bigint[], %s::timestamptz[], %s::float8[], %s::boolean[], %s::timestamptz[])
                      AS u(id, seen, battery, available, available_at)
                    WHERE d.id = u.id
                    """,
                    [
                        [i for i, _u in ordered],
                        [u.seen for _i, u in ordered],
                        [u.battery for _i, u in ordered],
                        [u.available for _i, u in ordered],
                        [u.available_at for _i, u in ordered],
                    ],
                )
            else:
                cursor.executemany(
                    """
                    UPDATE sensing_device SET
                      last_seen_at = MAX(COALESCE(last_seen_at, %s), %s),
                      battery_percent = COALESCE(%s, battery_percent),
                      availability_changed_at = CASE WHEN %s IS NOT NULL AND available IS NOT %s THEN %s
                        ELSE availability_changed_at END,
                      available = COALESCE(%s, available)
                    WHERE id = %s
                    """,
                    [
                        (
                            adapt(u.seen),
                            adapt(u.seen),
                            u.battery,
                            u.available,
                            u.available,
                            adapt(u.available_at),
                            u.available,
                            device_id,
                        )
                        for device_id, u in ordered
                    ],
                )

    def _record_unclaimed(self, unclaimed: dict[tuple[str, str], _Unclaimed]) -> None:
        names = sorted(unclaimed)
        UnclaimedDevice.objects.bulk_create(
            [
                UnclaimedDevice(
                    site_id=self.site_id,
                    protocol=protocol,
                    identity=identity[:200],
                    first_seen_at=unclaimed[(protocol, identity)].first,
                    last_seen_at=unclaimed[(protocol, identity)].first,
                    sample_topic=unclaimed[(protocol, identity)].topic,
                    sample_payload=unclaimed[(protocol, identity)].payload,
                )
                for protocol, identity in names
            ],
            ignore_conflicts=True,
        )
        rows = {
            (row.protocol, row.identity): row
            for row in UnclaimedDevice.objects.select_for_update().filter(
                site_id=self.site_id,
                protocol__in={p for p, _i in names},
                identity__in={i[:200] for _p, i in names},
            )
        }
        changed = []
        for protocol, identity in names:
            row = rows.get((protocol, identity[:200]))
            if row is None:
                continue
            entry = unclaimed[(protocol, identity)]
            row.messages += entry.messages
            row.last_seen_at = max(row.last_seen_at, entry.last)
            row.kinds = sorted(set(row.kinds) | entry.kinds)
            row.sample_topic, row.sample_payload = entry.topic, entry.payload
            changed.append(row)
        UnclaimedDevice.objects.bulk_update(
            changed, ["messages", "last_seen_at", "kinds", "sample_topic", "sample_payload"]
        )

    def _record_bridge(self, state: adapters.Availability) -> None:
        """A Zigbee2MQTT bridge is kept as a gateway named after its base topic: it has no token (its placeholder
        hash can never match one) and no heartbeat (it reports its own state)."""
        gateway, _ = Gateway.objects.get_or_create(
            site_id=self.site_id,
            name=self.zigbee2mqtt_base,
            defaults={"token_hash": f"mqtt-bridge:{self.site_id}:{self.zigbee2mqtt_base}"[:64], "heartbeat_minutes": 0},
        )
        if gateway.online != state.online:
            gateway.online, gateway.online_changed_at = state.online, state.at
        gateway.last_seen_at = state.at
        gateway.save(update_fields=["online", "online_changed_at", "last_seen_at"])

    def _count(self, batch: Sequence[Prepared], results: Sequence[MessageResult]) -> None:
        totals: Counter[tuple[Any, str]] = Counter()
        readings: Counter[tuple[Any, str]] = Counter()
        first, last = (timezone.localdate(batch[i].message.received_at) for i in (0, -1))
        for p, result in zip(batch, results, strict=True):
            # A batch spans a few milliseconds: the local date is looked up per message only across midnight.
            day = first if first == last else timezone.localdate(p.message.received_at)
            key = (day, result.outcome.value)
            totals[key] += 1
            readings[key] += result.readings
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO sensing_ingestcounter (site_id, day, outcome, messages, readings)"
                " VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (site_id, day, outcome) DO UPDATE SET messages = sensing_ingestcounter.messages"
                " + excluded.messages, readings = sensing_ingestcounter.readings + excluded.readings",
                [
                    (self.site_id, connection.ops.adapt_datefield_value(day), outcome, n, readings[(day, outcome)])
                    for (day, outcome), n in sorted(totals.items())
                ],
            )

    def _insert_readings(self, rows: list[tuple[_Known, str, adapters.Reading]]) -> tuple[int, list[StoredReading]]:
        """Insert with ids taken in one block, in time order per household; return the highest id committed before
        them and the stored readings. On PostgreSQL the caller holds the order lock from before allocation to commit."""
        rows.sort(key=lambda row: (row[0].household_id, row[2].at))
        n = len(rows)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # the order lock is held (see commit)
                cursor.execute(
                    "SELECT (SELECT MAX(id) FROM sensing_reading),"
                    " setval(pg_get_serial_sequence('sensing_reading', 'id'),"
                    " nextval(pg_get_serial_sequence('sensing_reading', 'id')) + %s - 1)",
                    [n],
                )
                previous_max, last = cursor.fetchone()
                first = last - n + 1
                # COPY's text format built in one string: a fraction of the cost of a row at a time.
                times: dict[datetime, str] = {}
                lines = []
                for i, (known, _identity, r) in enumerate(rows):
                    at = times.get(r.at) or times.setdefault(r.at, r.at.isoformat())
                    lines.append(f"{first + i}\t{known.id}\t{known.household_id}\t{r.kind.value}\t{r.value!r}\t{at}\n")
                with cursor.cursor.copy(
                    "COPY sensing_reading (id, device_id, household_id, kind, value, at) FROM STDIN"
                ) as copy:
                    copy.write("".join(lines))
            else:
                cursor.execute(
                    "SELECT (SELECT MAX(id) FROM sensing_reading),"
                    " (SELECT seq FROM sqlite_sequence WHERE name = 'sensing_reading')"
                )
                previous_max, sequence = cursor.fetchone()
                first = max(previous_max or 0, sequence or 0) + 1
                adapt = connection.ops.adapt_datetimefield_value
                cursor.executemany(
                    "INSERT INTO sensing_reading (id, device_id, household_id, kind, value, at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (first + i, known.id, known.household_id, reading.kind.value, reading.value, adapt(reading.at))
                        for i, (known, _identity, reading) in enumerate(rows)
                    ],
                )
        stored = [
            StoredReading(
                first + i, self.site_id, known.household_id, known.id, identity, reading.kind, reading.value, reading.at
            )
            for i, (known, identity, reading) in enumerate(rows)
        ]
        return previous_max or 0, stored


def prune_delivery_keys(hours: int, now: datetime | None = None) -> int:
    """Forget keys older than the redelivery window (the worker calls this every few minutes)."""
    cutoff = (now or timezone.now()) - timedelta(hours=hours)
    deleted, _ = DeliveryKey.objects.filter(stored_at__lt=cutoff).delete()
    return deleted

"""The hand-off from storage to detection: committed readings and device status changes, per household partition.

Detection always reads what is *committed*, in commit order, by a persisted cursor (``StreamCursor``): reading ids
are allocated and committed in order (``store`` takes one lock around allocation and commit on PostgreSQL; SQLite
serialises writers), so everything up to the highest visible id is final and a cursor never skips a reading that
commits late. A household belongs to partition ``household_id % partitions``; each partition has one owner, which
hands its households' readings to the configured consumers (``MAEUL_STREAM_CONSUMERS``) and then advances its
cursor. When the owner has just stored the batch that directly follows its cursor it hands that batch over from
memory (the fast path: no read back); otherwise it reads from the database. See docs/decisions/0011-ingestion.md.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from maeul.sensing.adapters import Kind
from maeul.sensing.models import Device, Gateway, IngestWorker, StreamCursor

log = logging.getLogger("maeul.sensing.stream")

HEARTBEAT_FRESH = timedelta(seconds=30)  # a worker heartbeats every 5 s; six missed beats mean it is gone
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KINDS = {kind.value: kind for kind in Kind}  # a dictionary's lookup, not Kind(text), for every reading read back
READ_LIMIT = 5000  # readings per database read, so a long catch-up is handed over in slices
_READ_POSTGRESQL = (
    "SELECT id, household_id, device_id, kind, value, (EXTRACT(EPOCH FROM at) * 1000000)::bigint FROM sensing_reading"
    " WHERE id > %s AND id <= %s AND household_id %% %s = %s ORDER BY id LIMIT %s"
)
_READ_SQLITE = (
    "SELECT id, household_id, device_id, kind, value, at FROM sensing_reading"
    " WHERE id > %s AND id <= %s AND household_id %% %s = %s ORDER BY id LIMIT %s"
)
CURSOR_SAVE_SECONDS = 1.0  # a crash re-delivers at most about this much to the consumers
DEVICE_NAMES_SECONDS = 60.0  # a renamed device reaches detection under its new name within this


class StoredReading(NamedTuple):  # built per reading: a named tuple (see adapters.Reading)
    reading_id: int | None
    site_id: int
    household_id: int
    device_id: int
    device: str  # the device's identity
    kind: Kind
    value: float
    at: datetime


@dataclass(frozen=True)
class DeviceStatus:
    site_id: int
    household_id: int
    device_id: int
    device: str
    online: bool
    at: datetime


class StreamConsumer(Protocol):
    def __init__(self, site_id: int, partition: int, partitions: int) -> None:
        """Restores its persisted state."""

    def readings(self, batch: Sequence[StoredReading]) -> None:
        """After commit, in commit order (each stored batch in time order per household)."""

    def statuses(self, batch: Sequence[DeviceStatus]) -> None:
        """Device availability reports, in the order received."""

    def tick(self, now: datetime) -> None:
        """About once a second, even with no messages."""


@dataclass(frozen=True)
class Blindness:
    """What Maeul cannot see right now. ``everything``: no live, connected worker, or the Zigbee2MQTT bridge is
    offline — then per-household inactivity means nothing. Otherwise ``household_ids`` are those behind a silent
    gateway. ``since``: when it began, as far as known."""

    everything: bool
    reason: str
    household_ids: frozenset[int]
    since: datetime | None


def blind_households(site_id: int, now: datetime) -> Blindness:
    workers = list(IngestWorker.objects.filter(site_id=site_id).values_list("heartbeat_at", "broker_connected"))
    if not any(connected and now - beat <= HEARTBEAT_FRESH for beat, connected in workers):
        last = max((beat for beat, _connected in workers), default=None)
        reason = "no ingest worker is running" if not workers else "no ingest worker is alive and connected"
        return Blindness(True, reason, frozenset(), last)
    bridge = (
        Gateway.objects.filter(site_id=site_id, active=True, heartbeat_minutes=0, online=False)
        .order_by("online_changed_at")
        .first()
    )
    if bridge is not None:
        return Blindness(
            True, f"the Zigbee2MQTT bridge {bridge.name} is offline", frozenset(), bridge.online_changed_at
        )
    silent: list[tuple[int, datetime]] = []
    for gateway_id, minutes, last_seen, created in Gateway.objects.filter(
        site_id=site_id, active=True, heartbeat_minutes__gt=0
    ).values_list("id", "heartbeat_minutes", "last_seen_at", "created_at"):
        heard = last_seen or created  # a gateway never heard from is silent since it was set up
        if now - heard > timedelta(minutes=minutes):
            silent.append((gateway_id, heard))
    if not silent:
        return Blindness(False, "", frozenset(), None)
    households = frozenset(
        Device.objects.filter(gateway_id__in=[g for g, _h in silent], active=True).values_list(
            "household_id", flat=True
        )
    )
    return Blindness(False, f"{len(silent)} gateway(s) silent", households, min(heard for _g, heard in silent))


def consumer_classes(paths: Sequence[str] | None = None) -> list[type[StreamConsumer]]:
    """Import the configured consumer classes; a wrong path stops the worker at start with the path named."""
    classes = []
    for path in settings.MAEUL_STREAM_CONSUMERS if paths is None else paths:
        module_name, _, class_name = path.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ImproperlyConfigured(f"MAEUL_STREAM_CONSUMERS: cannot import {path!r} ({exc})") from exc
        classes.append(cast(type[StreamConsumer], cls))
    return classes


def owns(household_id: int, partition: int, partitions: int) -> bool:
    return household_id % partitions == partition


class Detection:
    """One partition's hand-off: the consumers, the cursor, and the statuses seen so far."""

    def __init__(
        self, site_id: int, partition: int, partitions: int, consumers: Sequence[StreamConsumer] | None = None
    ) -> None:
        if not 0 <= partition < partitions:
            raise ValueError(f"partition {partition} is not in 0..{partitions - 1}")
        self.site_id, self.partition, self.partitions = site_id, partition, partitions
        self.consumers = (
            list(consumers)
            if consumers is not None
            else [cls(site_id, partition, partitions) for cls in consumer_classes()]
        )
        self.cursor = self._load_cursor()
        self._saved_cursor = self.cursor
        self._saved_at = timezone.now()
        # Statuses reach the owner from its own batches directly; other workers' are found by polling devices.
        self._availability: dict[int, tuple[bool | None, datetime | None]] = dict(self._device_availability())
        self._names: dict[int, str | None] = {}  # device id → identity; None: another site's device
        self._names_loaded = time.monotonic()

    def _load_cursor(self) -> int:
        row = StreamCursor.objects.filter(
            site_id=self.site_id, partition=self.partition, partitions=self.partitions
        ).first()
        if row is not None:
            return row.reading_id
        # A new partitioning starts where the slowest old cursor stood (at worst re-delivering a little);
        # a site's first start begins at the present, not at all of history. That start is saved at once: a worker
        # killed before its first periodic save would otherwise leave the next one to begin at the present again,
        # past what the first stored and never handed over.
        older = StreamCursor.objects.filter(site_id=self.site_id).order_by("reading_id").first()
        start = older.reading_id if older is not None else _max_reading_id()
        row, _created = StreamCursor.objects.get_or_create(
            site_id=self.site_id,
            partition=self.partition,
            partitions=self.partitions,
            defaults={"reading_id": start, "updated_at": timezone.now()},
        )
        return row.reading_id

    def save_cursor(self, force: bool = False) -> None:
        now = timezone.now()
        recently = (now - self._saved_at).total_seconds() < CURSOR_SAVE_SECONDS
        if self.cursor == self._saved_cursor or (recently and not force):
            return
        StreamCursor.objects.update_or_create(
            site_id=self.site_id,
            partition=self.partition,
            partitions=self.partitions,
            defaults={"reading_id": self.cursor, "updated_at": now},
        )
        self._saved_cursor, self._saved_at = self.cursor, now

    def committed(
        self, previous_max_id: int | None, readings: Sequence[StoredReading], statuses: Sequence[DeviceStatus]
    ) -> None:
        """Called by the worker right after its own batch commits. No committed reading lies between
        ``previous_max_id`` and the batch's ids, so what others committed before it is read from the database and the
        batch itself is handed over from memory."""
        if readings and previous_max_id is not None and previous_max_id >= self.cursor:
            if previous_max_id > self.cursor:  # other workers' batches came first: theirs, then ours, in id order
                self.catch_up(up_to=previous_max_id)
            mine = [r for r in readings if owns(r.household_id, self.partition, self.partitions)]
            if mine:
                self._hand_readings(mine)
            self.cursor = max(r.reading_id or 0 for r in readings)
        else:
            self.catch_up()
        own = [s for s in statuses if owns(s.household_id, self.partition, self.partitions)]
        if own:
            for status in own:
                self._availability[status.device_id] = (status.online, status.at)
            for consumer in self.consumers:
                _guarded(consumer.statuses, own)
        self.save_cursor()

    def catch_up(self, up_to: int | None = None) -> int:
        """Hand over whatever was committed past the cursor (other workers, the HTTP endpoint, a restart), or only
        up to the id ``up_to``."""
        handed = 0
        while True:
            high = _max_reading_id() if up_to is None else up_to
            if high <= self.cursor:
                break
            rows, last_read = self._read_readings(self.cursor, high)
            if rows:
                self._hand_readings(rows)
                handed += len(rows)
            # Everything up to ``high`` is committed (ordered commits), so the cursor may pass other sites' ids.
            self.cursor = high if last_read is None else last_read
            if last_read is None:
                break
        self.save_cursor()
        return handed

    def poll_statuses(self, now: datetime) -> None:
        """Availability changes stored by other workers (several-worker runs only)."""
        changed = []
        for device_id, household_id, identity, available, changed_at in (
            Device.objects.filter(site_id=self.site_id, availability_changed_at__gte=now - timedelta(minutes=5))
            .values_list("id", "household_id", "identity", "available", "availability_changed_at")
            .order_by("availability_changed_at")
        ):
            if not owns(household_id, self.partition, self.partitions) or available is None or changed_at is None:
                continue
            if self._availability.get(device_id, (None, None))[1] == changed_at:
                continue
            self._availability[device_id] = (available, changed_at)
            changed.append(DeviceStatus(self.site_id, household_id, device_id, identity, available, changed_at))
        if changed:
            for consumer in self.consumers:
                _guarded(consumer.statuses, changed)

    def tick(self, now: datetime) -> None:
        for consumer in self.consumers:
            _guarded(consumer.tick, now)

    def _read_readings(self, after: int, up_to: int) -> tuple[list[StoredReading], int | None]:
        """This partition's readings of this site with ids in (after, up_to], at most ``READ_LIMIT`` rows read, and
        the last id read when the limit cut the read short (else None). A range of the primary key, without a join:
        joined to the devices, a device table without fresh statistics led PostgreSQL to a nested loop that took
        2.5 s for 2,000 readings (benchmarks/README.md). Device names come from a cache.

        With several workers, each reads back about half of what the site stores. On PostgreSQL the time is read as
        whole microseconds since 1970: Django's loader for timestamptz parses the text in Python, and took a seventh
        of a worker's CPU."""
        with connection.cursor() as cursor:
            cursor.execute(
                _READ_POSTGRESQL if connection.vendor == "postgresql" else _READ_SQLITE,
                [after, up_to, self.partitions, self.partition, READ_LIMIT],
            )
            rows = cursor.fetchall()
        names = self._device_names({row[2] for row in rows})
        result = []
        for reading_id, household_id, device_id, kind, value, raw_at in rows:
            name = names.get(device_id)
            if name is None:  # another site's reading
                continue
            if isinstance(raw_at, int):
                when = _EPOCH + timedelta(microseconds=raw_at)
            else:  # SQLite's raw SQL returns a datetime or text
                when = raw_at if isinstance(raw_at, datetime) else _sqlite_datetime(raw_at)
            result.append(
                StoredReading(reading_id, self.site_id, household_id, device_id, name, _KINDS[kind], value, when)
            )
        return result, (rows[-1][0] if len(rows) == READ_LIMIT else None)

    def _device_names(self, device_ids: set[int]) -> dict[int, str]:
        """This site's device identities by id (another site's devices are absent), refreshed every minute."""
        if time.monotonic() - self._names_loaded > DEVICE_NAMES_SECONDS:
            self._names.clear()
            self._names_loaded = time.monotonic()
        missing = device_ids - self._names.keys()
        if missing:
            found = dict(Device.objects.filter(id__in=missing, site_id=self.site_id).values_list("id", "identity"))
            for device_id in missing:
                self._names[device_id] = found.get(device_id)
        return {i: name for i in device_ids if (name := self._names[i]) is not None}

    def _hand_readings(self, readings: Sequence[StoredReading]) -> None:
        for consumer in self.consumers:
            _guarded(consumer.readings, readings)

    def _device_availability(self) -> list[tuple[int, tuple[bool | None, datetime | None]]]:
        return [
            (device_id, (available, changed_at))
            for device_id, available, changed_at in Device.objects.filter(site_id=self.site_id).values_list(
                "id", "available", "availability_changed_at"
            )
        ]


def _guarded(call: Callable[[Any], None], argument: Any) -> None:
    """A consumer's failure is logged and costs only its own view of this batch: storage and the other consumers
    go on (a failure that stopped the cursor would stop detection for every household of the partition)."""
    try:
        call(argument)
    except Exception:
        log.exception("stream consumer %r failed", call)


def _max_reading_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM sensing_reading")
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _sqlite_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)

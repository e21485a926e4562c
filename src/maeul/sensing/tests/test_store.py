"""The store path: a batch of messages into readings, device state, dead letters, unclaimed devices and counters,
with redeliveries dropped; and the detection hand-off by cursor."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from maeul.conftest import actor_of, household_data
from maeul.people import services as people
from maeul.sensing import adapters
from maeul.sensing.models import (
    DeadLetter,
    DeliveryKey,
    Device,
    Gateway,
    IngestCounter,
    IngestWorker,
    Protocol,
    Reading,
    StreamCursor,
    UnclaimedDevice,
)
from maeul.sensing.store import Message, Outcome, Store, prune_delivery_keys
from maeul.sensing.stream import Detection, DeviceStatus, StoredReading, blind_households, consumer_classes
from maeul.sites.models import Site

NOW = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)


def msg(topic: str, payload: Any, at: datetime = NOW, redelivered: bool = False) -> Message:
    body = payload if isinstance(payload, bytes) else (payload if isinstance(payload, str) else json.dumps(payload))
    return Message(topic, body if isinstance(body, bytes) else body.encode(), at, redelivered)


@pytest.fixture
def devices(site: Site, household: people.HouseholdView) -> dict[str, Device]:
    made = {}
    for protocol, identity in [
        (Protocol.ZIGBEE2MQTT, "living room/motion"),
        (Protocol.TASMOTA, "kettle"),
        (Protocol.GENERIC, "bed-1"),
    ]:
        made[identity] = Device.objects.create(
            site=site, household_id=household.id, protocol=protocol, identity=identity
        )
    return made


class RecordingConsumer:
    def __init__(self, site_id: int, partition: int, partitions: int) -> None:
        self.readings_seen: list[StoredReading] = []
        self.statuses_seen: list[DeviceStatus] = []

    def readings(self, batch: Sequence[StoredReading]) -> None:
        self.readings_seen.extend(batch)

    def statuses(self, batch: Sequence[DeviceStatus]) -> None:
        self.statuses_seen.extend(batch)

    def tick(self, now: datetime) -> None:
        pass


@pytest.mark.django_db
def test_readings_are_stored_and_the_device_updated_once(site: Site, devices: dict[str, Device]) -> None:
    store = Store(site.pk)
    result = store.store(
        [
            msg("zigbee2mqtt/living room/motion", {"occupancy": True, "battery": 87, "voltage": 2995}),
            msg("zigbee2mqtt/living room/motion", {"occupancy": False, "battery": 86}, NOW + timedelta(seconds=30)),
            msg("tele/kettle/SENSOR", {"ENERGY": {"Power": 1800, "Voltage": 220, "Current": 8.2, "Total": 1.5}}),
            msg("maeul/bed-1", [{"kind": "presence", "value": 1, "at": "2026-11-25T09:29:00+09:00"}]),
        ]
    )
    assert [r.outcome for r in result.results] == [Outcome.STORED] * 4
    assert Reading.objects.count() == len(result.readings) == 3 + 2 + 4 + 1
    motion = devices["living room/motion"]
    motion.refresh_from_db()
    assert motion.battery_percent == 86  # the latest of the batch
    assert motion.last_seen_at == NOW + timedelta(seconds=30)
    stored_motion = [(r.kind, r.value) for r in result.readings if r.device == "living room/motion"]
    assert (adapters.Kind.MOTION, 1.0) in stored_motion and (adapters.Kind.MOTION, 0.0) in stored_motion
    # Ids follow time order within a household, which is the order detection receives them in.
    ids = [r.reading_id or 0 for r in result.readings]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert set(Reading.objects.values_list("id", flat=True)) == set(ids)
    bed = next(r for r in result.readings if r.device == "bed-1")
    assert bed.at == datetime(2026, 11, 25, 0, 29, tzinfo=UTC) and bed.household_id == motion.household_id
    counts = {c.outcome: (c.messages, c.readings) for c in IngestCounter.objects.filter(site=site)}
    assert counts == {"stored": (4, 10)}


@pytest.mark.django_db
def test_unreadable_messages_become_dead_letters_and_the_rest_is_stored(
    site: Site, devices: dict[str, Device], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(site.pk)
    result = store.store(
        [
            msg("zigbee2mqtt/living room/motion", b"{not json"),
            msg("zigbee2mqtt/living room/motion", {"occupancy": "yes"}),
            msg("homeassistant/sensor/x/config", {"name": "x"}),
            msg("tele/kettle/SENSOR", b"\x00\xff binary"),
            msg("maeul/bed-1", {"kind": "presence", "value": 1}),
        ]
    )
    assert [r.outcome for r in result.results] == [
        Outcome.MALFORMED,
        Outcome.MALFORMED,
        Outcome.UNRECOGNISED,
        Outcome.MALFORMED,
        Outcome.STORED,
    ]
    letters = {d.detail: d for d in DeadLetter.objects.filter(site=site)}
    assert sorted(letters) == [
        "no adapter for topic 'homeassistant/sensor/x/config'",
        "occupancy: expected true or false, got 'yes'",
        "payload is not JSON (Expecting property name enclosed in double quotes at character 1)",
        "payload is not UTF-8",
    ]
    assert letters["occupancy: expected true or false, got 'yes'"].source == Protocol.ZIGBEE2MQTT
    assert (
        letters["payload is not UTF-8"].reason == "malformed" and "\x00" not in letters["payload is not UTF-8"].payload
    )
    assert letters["no adapter for topic 'homeassistant/sensor/x/config'"].reason == "unrecognised"
    assert Reading.objects.count() == 1

    # An adapter bug costs its message only, and is kept with what it was.
    def broken(*args: Any, **kwargs: Any) -> adapters.Parsed:
        raise KeyError("surprise")

    monkeypatch.setattr(adapters, "parse", broken)
    result = store.store([msg("maeul/bed-1", {"kind": "presence", "value": 0})])
    assert result.results[0].outcome == Outcome.REJECTED
    assert DeadLetter.objects.get(reason="rejected").detail == "adapter error: KeyError: 'surprise'"


@pytest.mark.django_db
def test_unknown_devices_are_listed_for_claiming_not_dropped(site: Site, devices: dict[str, Device]) -> None:
    store = Store(site.pk)
    store.store([msg("zigbee2mqtt/hall/new sensor", {"occupancy": True, "battery": 90})])
    store.store(
        [
            msg("zigbee2mqtt/hall/new sensor", {"temperature": 21.5}, NOW + timedelta(minutes=5)),
            msg("tele/unknown-plug/LWT", "Online", NOW + timedelta(minutes=5)),
        ]
    )
    sensor = UnclaimedDevice.objects.get(site=site, protocol=Protocol.ZIGBEE2MQTT, identity="hall/new sensor")
    assert sensor.messages == 2
    assert sensor.kinds == ["battery", "motion", "temperature"]
    assert sensor.first_seen_at == NOW and sensor.last_seen_at == NOW + timedelta(minutes=5)
    assert sensor.sample_payload == '{"temperature": 21.5}'
    assert UnclaimedDevice.objects.get(identity="unknown-plug").messages == 1
    assert Reading.objects.count() == 0
    assert IngestCounter.objects.get(site=site, outcome="unclaimed").messages == 3


@pytest.mark.django_db
def test_a_claimed_device_is_found_after_the_cache_refresh(
    site: Site, household: people.HouseholdView, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(site.pk)
    store.store([msg("maeul/door-9", {"kind": "contact", "value": "open"})])
    Device.objects.create(site=site, household_id=household.id, protocol=Protocol.GENERIC, identity="door-9")
    monkeypatch.setattr("maeul.sensing.store.DEVICE_CACHE_SECONDS", -1.0)
    result = store.store([msg("maeul/door-9", {"kind": "contact", "value": "closed"})])
    assert result.results[0].outcome == Outcome.STORED


@pytest.mark.django_db
def test_deactivated_devices_are_rejected(site: Site, devices: dict[str, Device]) -> None:
    Device.objects.filter(identity="kettle").update(active=False)
    result = Store(site.pk).store([msg("stat/kettle/POWER", "ON")])
    assert result.results[0].outcome == Outcome.REJECTED
    assert DeadLetter.objects.get().detail == "device kettle is deactivated"


@pytest.mark.django_db
def test_availability_updates_the_device_and_the_bridge(site: Site, devices: dict[str, Device]) -> None:
    store = Store(site.pk)
    later = NOW + timedelta(minutes=1)
    result = store.store(
        [
            msg("zigbee2mqtt/living room/motion/availability", {"state": "offline"}),
            msg("tele/kettle/LWT", "Online", later),
            msg("zigbee2mqtt/bridge/state", {"state": "offline"}, later),
        ]
    )
    assert [r.outcome for r in result.results] == [Outcome.AVAILABILITY] * 3
    motion, kettle = Device.objects.get(identity="living room/motion"), Device.objects.get(identity="kettle")
    assert (motion.available, motion.availability_changed_at) == (False, NOW)
    assert (kettle.available, kettle.availability_changed_at) == (True, later)
    assert [(s.device, s.online) for s in result.statuses] == [("living room/motion", False), ("kettle", True)]
    bridge = Gateway.objects.get(site=site, name="zigbee2mqtt")
    assert (bridge.online, bridge.online_changed_at, bridge.heartbeat_minutes) == (False, later, 0)
    # The same state again does not move the time it changed.
    store.store([msg("tele/kettle/LWT", "Online", later + timedelta(minutes=5))])
    kettle.refresh_from_db()
    assert kettle.availability_changed_at == later
    store.store([msg("zigbee2mqtt/bridge/state", "online", later + timedelta(minutes=2))])
    bridge.refresh_from_db()
    assert bridge.online is True and bridge.online_changed_at == later + timedelta(minutes=2)


@pytest.mark.django_db
def test_redeliveries_are_dropped_and_repeats_are_not(site: Site, devices: dict[str, Device]) -> None:
    store = Store(site.pk)
    motion = msg("zigbee2mqtt/living room/motion", {"occupancy": True})
    timed = msg("maeul/bed-1", {"kind": "presence", "value": 1, "at": "2026-11-25T09:00:00+09:00"})
    store.store([motion, timed])
    assert Reading.objects.count() == 2
    later = NOW + timedelta(minutes=1)
    result = store.store(
        [
            # The broker redelivers (DUP) after a crash between commit and acknowledgement: dropped.
            msg(motion.topic, motion.payload, later, redelivered=True),
            # The same motion report a minute later without DUP is new activity: kept.
            msg(motion.topic, motion.payload, later),
            # A report carrying its own time, sent again (a device's QoS 1 retry): the same report, dropped.
            msg(timed.topic, timed.payload, later),
            # DUP for something never committed (the crash came before the commit): stored.
            msg("maeul/bed-1", {"kind": "presence", "value": 0}, later, redelivered=True),
            # Twice in one batch, with its own time: once.
            msg("maeul/bed-1", {"kind": "presence", "value": 0, "at": "2026-11-25T09:05:00+09:00"}, later),
            msg("maeul/bed-1", {"kind": "presence", "value": 0, "at": "2026-11-25T09:05:00+09:00"}, later),
        ]
    )
    assert [r.outcome for r in result.results] == [
        Outcome.DUPLICATE,
        Outcome.STORED,
        Outcome.DUPLICATE,
        Outcome.STORED,
        Outcome.STORED,
        Outcome.DUPLICATE,
    ]
    assert Reading.objects.count() == 5
    assert IngestCounter.objects.get(site=site, outcome="duplicate").messages == 3
    # Keys are kept for the redelivery window, then forgotten.
    keys = DeliveryKey.objects.count()
    assert prune_delivery_keys(25, now=timezone.now()) == 0
    assert prune_delivery_keys(25, now=timezone.now() + timedelta(hours=26)) == keys > 0


@pytest.mark.django_db
def test_detection_gets_committed_readings_of_its_partition_once_in_order(
    site: Site, site_admin: User, devices: dict[str, Device]
) -> None:
    second = people.register_household(actor_of(site_admin), household_data(name="박영수", phone=None))
    Device.objects.create(site=site, household_id=second.id, protocol=Protocol.GENERIC, identity="bed-2")
    households = sorted({devices["bed-1"].household_id, second.id})
    consumers = {i: RecordingConsumer(site.pk, i, 2) for i in (0, 1)}
    detections = {i: Detection(site.pk, i, 2, [consumers[i]]) for i in (0, 1)}
    store = Store(site.pk)
    first = store.store(
        [msg("maeul/bed-1", {"kind": "presence", "value": 1}), msg("maeul/bed-2", {"kind": "presence", "value": 1})]
    )
    # Another writer (the HTTP endpoint) commits in between: the next batch no longer follows the cursor directly.
    Store(site.pk).store([msg("maeul/bed-2", {"kind": "presence", "value": 2})])
    for detection in detections.values():
        detection.committed(first.previous_max_id, first.readings, first.statuses)
    third = store.store([msg("maeul/bed-1", {"kind": "presence", "value": 3})])
    for detection in detections.values():
        detection.committed(third.previous_max_id, third.readings, third.statuses)
    for partition, consumer in consumers.items():
        got = consumer.readings_seen
        assert {r.household_id % 2 for r in got} <= {partition}
        ids = [r.reading_id for r in got]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
    handed = sorted(r.reading_id or 0 for c in consumers.values() for r in c.readings_seen)
    assert handed == sorted(Reading.objects.values_list("id", flat=True))
    assert {r.household_id for c in consumers.values() for r in c.readings_seen} == set(households)
    # The cursor survives a restart: a new owner of partition 0 is handed nothing twice.
    for detection in detections.values():
        detection.save_cursor(force=True)
    assert StreamCursor.objects.filter(site=site).count() == 2
    again = RecordingConsumer(site.pk, 0, 2)
    Detection(site.pk, 0, 2, [again]).catch_up()
    assert again.readings_seen == []


@pytest.mark.django_db
def test_a_first_start_is_saved_at_once_so_a_worker_killed_before_its_first_save_loses_nothing(
    site: Site, devices: dict[str, Device]
) -> None:
    """A site's first worker begins at the present. Were that start kept only in memory until the first periodic
    save, a worker killed after storing a batch but before handing it over (and within that first second) would
    leave the next one to begin at the present again, past the batch."""
    Store(site.pk).store([msg("maeul/bed-1", {"kind": "presence", "value": 0})])  # history before the first start
    Detection(site.pk, 0, 1, [RecordingConsumer(site.pk, 0, 1)])
    stored = Store(site.pk).store([msg("maeul/bed-1", {"kind": "presence", "value": 1})])  # then killed
    after_restart = RecordingConsumer(site.pk, 0, 1)
    Detection(site.pk, 0, 1, [after_restart]).catch_up()
    assert [r.reading_id for r in after_restart.readings_seen] == [r.reading_id for r in stored.readings]


@pytest.mark.django_db
def test_the_fast_path_hands_over_without_reading_back(
    site: Site, devices: dict[str, Device], django_assert_max_num_queries: Any
) -> None:
    consumer = RecordingConsumer(site.pk, 0, 1)
    detection = Detection(site.pk, 0, 1, [consumer])
    store = Store(site.pk)
    store.store([msg("maeul/bed-1", {"kind": "presence", "value": 0})])
    detection.catch_up()
    result = store.store([msg("maeul/bed-1", {"kind": "sos", "value": 1}), msg("tele/kettle/LWT", "Offline")])
    with django_assert_max_num_queries(0):
        detection.committed(result.previous_max_id, result.readings, result.statuses)
    assert [(r.kind, r.value) for r in consumer.readings_seen] == [("presence", 0.0), ("sos", 1.0)]
    assert [(s.device, s.online) for s in consumer.statuses_seen] == [("kettle", False)]


@pytest.mark.django_db
def test_blindness(site: Site, devices: dict[str, Device]) -> None:
    now = NOW
    assert blind_households(site.pk, now).everything  # no worker yet
    worker = IngestWorker.objects.create(
        site=site, name="w", started_at=now, heartbeat_at=now - timedelta(seconds=10), broker_connected=True
    )
    assert blind_households(site.pk, now) == blind_households(site.pk, now)
    assert not blind_households(site.pk, now).everything
    worker.broker_connected = False
    worker.save()
    blind = blind_households(site.pk, now)
    assert blind.everything and blind.reason == "no ingest worker is alive and connected"
    worker.broker_connected, worker.heartbeat_at = True, now - timedelta(minutes=2)
    worker.save()
    assert blind_households(site.pk, now).everything and blind_households(site.pk, now).since == worker.heartbeat_at
    worker.heartbeat_at = now
    worker.save()
    # The Zigbee2MQTT bridge going offline blinds everything.
    Store(site.pk).store([msg("zigbee2mqtt/bridge/state", "offline", now - timedelta(minutes=1))])
    blind = blind_households(site.pk, now)
    assert blind.everything and "bridge zigbee2mqtt is offline" in blind.reason
    assert blind.since == now - timedelta(minutes=1)
    Store(site.pk).store([msg("zigbee2mqtt/bridge/state", "online", now)])
    assert blind_households(site.pk, now) == blind_households(site.pk, now).__class__(False, "", frozenset(), None)
    # A silent HTTP gateway blinds only the households of its devices.
    gateway = Gateway.objects.create(site=site, name="hub", token_hash="x" * 64, heartbeat_minutes=15)
    Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=now - timedelta(minutes=5))
    Device.objects.filter(identity="bed-1").update(gateway=gateway)
    assert blind_households(site.pk, now).household_ids == frozenset()
    Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=now - timedelta(minutes=20))
    blind = blind_households(site.pk, now)
    assert not blind.everything
    assert blind.household_ids == {devices["bed-1"].household_id}
    assert blind.since == now - timedelta(minutes=20)


@pytest.mark.django_db
def test_a_message_the_database_refuses_is_dead_lettered_alone(
    site: Site, devices: dict[str, Device], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import DataError

    store = Store(site.pk)
    original = Store._update_devices

    def refuse_kettle(self: Store, updates: Any) -> None:
        if devices["kettle"].pk in updates:
            raise DataError("value out of range")
        original(self, updates)

    monkeypatch.setattr(Store, "_update_devices", refuse_kettle)
    result = store.store(
        [
            msg("maeul/bed-1", {"kind": "presence", "value": 1}),
            msg("stat/kettle/POWER", "ON"),
            msg("zigbee2mqtt/living room/motion", {"occupancy": True}),
        ]
    )
    assert [r.outcome for r in result.results] == [Outcome.STORED, Outcome.REJECTED, Outcome.STORED]
    assert result.previous_max_id is None  # committed in parts: detection reads them back
    assert DeadLetter.objects.get().detail == "could not be stored: value out of range"
    assert Reading.objects.count() == 2


def test_a_consumer_that_cannot_be_imported_is_named() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"cannot import 'maeul\.watch\.nowhere\.Missing'"):
        consumer_classes(["maeul.watch.nowhere.Missing"])
    assert consumer_classes(["maeul.sensing.tests.recording.RecordingConsumer"])[0].__name__ == "RecordingConsumer"


@pytest.mark.django_db
def test_a_failing_consumer_does_not_stop_the_others(site: Site, devices: dict[str, Device]) -> None:
    class Failing(RecordingConsumer):
        def readings(self, batch: Sequence[StoredReading]) -> None:
            raise RuntimeError("detector bug")

    healthy = RecordingConsumer(site.pk, 0, 1)
    detection = Detection(site.pk, 0, 1, [Failing(site.pk, 0, 1), healthy])
    result = Store(site.pk).store([msg("maeul/bed-1", {"kind": "sos", "value": 1})])
    detection.committed(result.previous_max_id, result.readings, result.statuses)
    assert [r.kind for r in healthy.readings_seen] == ["sos"]
    assert detection.cursor == result.readings[-1].reading_id

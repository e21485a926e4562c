"""Retention: raw readings past their days are rolled up by hour and deleted, idempotently and in windows; what is
past its keeping time goes. Runs on SQLite and PostgreSQL (the roll-up is one set-based statement on each)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maeul.audit import retention
from maeul.conftest import actor_of
from maeul.sensing import services
from maeul.sensing.models import DeadLetter, DeliveryKey, Device, HourlyReading, Reading, UnclaimedDevice
from maeul.sensing.schemas import DeviceInput

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)
OLD = datetime(2026, 10, 1, 14, tzinfo=UTC)  # 55 days before NOW: past the 35 raw days


@pytest.fixture
def devices(site_admin, household) -> list[Device]:  # type: ignore[no-untyped-def]
    actor = actor_of(site_admin)
    ids = [
        services.provision_device(
            actor, household.id, DeviceInput(protocol="zigbee2mqtt", identity=name, kinds=["motion", "temperature"])
        ).id
        for name in ("bedroom/motion", "kitchen/climate")
    ]
    return list(Device.objects.filter(pk__in=ids).order_by("pk"))


def _add(device: Device, kind: str, value: float, at: datetime) -> None:
    Reading.objects.create(device=device, household_id=device.household_id, kind=kind, value=value, at=at)


def _hourly() -> list[tuple[int, str, datetime, int, float, float, float]]:
    return sorted(
        (h.device_id, h.kind, h.hour, h.count, h.total, h.minimum, h.maximum) for h in HourlyReading.objects.all()
    )


def test_old_readings_are_rolled_up_by_hour_then_deleted_and_a_second_run_changes_nothing(devices) -> None:  # type: ignore[no-untyped-def]
    motion, climate = devices
    for minute in (1, 20, 59):
        _add(motion, "motion", 1 if minute != 20 else 0, OLD + timedelta(minutes=minute))
    _add(motion, "motion", 1, OLD + timedelta(hours=1, minutes=2))
    for value in (18.5, 21.0, 19.25):
        _add(climate, "temperature", value, OLD + timedelta(minutes=10))
    _add(climate, "temperature", 22.0, OLD + timedelta(days=3, hours=5))
    _add(motion, "motion", 1, NOW - timedelta(days=2))  # recent: stays raw

    result = services.apply_retention(NOW)
    assert result.readings_rolled_up == 8
    assert _hourly() == sorted(
        [
            (motion.pk, "motion", OLD, 3, 2.0, 0.0, 1.0),
            (motion.pk, "motion", OLD + timedelta(hours=1), 1, 1.0, 1.0, 1.0),
            (climate.pk, "temperature", OLD, 3, 58.75, 18.5, 21.0),
            (climate.pk, "temperature", OLD + timedelta(days=3, hours=5), 1, 22.0, 22.0, 22.0),
        ]
    )
    assert Reading.objects.count() == 1
    assert HourlyReading.objects.filter(household_id=motion.household_id).count() == 4

    before = _hourly()
    again = services.apply_retention(NOW)
    assert again.readings_rolled_up == 0 and _hourly() == before and Reading.objects.count() == 1


def test_a_late_reading_of_an_hour_already_rolled_up_is_added_to_it(devices) -> None:  # type: ignore[no-untyped-def]
    _motion, climate = devices
    _add(climate, "temperature", 20.0, OLD + timedelta(minutes=5))
    services.apply_retention(NOW)
    _add(climate, "temperature", 25.0, OLD + timedelta(minutes=50))  # arrived late, from a gateway's buffer
    _add(climate, "temperature", 15.0, OLD + timedelta(minutes=55))
    services.apply_retention(NOW)
    assert _hourly() == [(climate.pk, "temperature", OLD, 3, 60.0, 15.0, 25.0)]


def test_windows_do_not_change_the_result(devices) -> None:  # type: ignore[no-untyped-def]
    motion, _climate = devices
    for i in range(0, 30 * 60, 7):  # 30 hours of readings every 7 minutes
        _add(motion, "motion", i % 2, OLD + timedelta(minutes=i))
    total = Reading.objects.count()
    result = services.apply_retention(NOW, window=timedelta(hours=7))  # windows cut across hours of data
    assert result.readings_rolled_up == total and Reading.objects.count() == 0
    hourly = _hourly()
    assert len(hourly) == 30 and sum(h[3] for h in hourly) == total
    assert {h[2].minute for h in hourly} == {0}


def test_raw_days_can_be_set_from_the_environment(devices, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    motion, _climate = devices
    _add(motion, "motion", 1, NOW - timedelta(days=10))
    assert services.apply_retention(NOW).readings_rolled_up == 0
    monkeypatch.setenv("MAEUL_RAW_READING_DAYS", "7")
    assert services.apply_retention(NOW).readings_rolled_up == 1
    monkeypatch.setenv("MAEUL_RAW_READING_DAYS", "0")
    with pytest.raises(ValueError, match="at least 1"):
        services.apply_retention(NOW)


def test_what_is_past_its_keeping_time_is_deleted(site, devices) -> None:  # type: ignore[no-untyped-def]
    motion, _climate = devices
    for hour in (NOW - timedelta(days=800), NOW - timedelta(days=700)):
        HourlyReading.objects.create(
            device=motion, household_id=motion.household_id, kind="motion", hour=hour.replace(minute=0),
            count=1, total=1, minimum=1, maximum=1,
        )  # fmt: skip
    for days in (40, 10):
        DeadLetter.objects.create(
            site=site, received_at=NOW - timedelta(days=days), topic="t", payload="p", reason="malformed", detail="d"
        )
    DeliveryKey.objects.create(key="old", stored_at=NOW - timedelta(hours=30))
    DeliveryKey.objects.create(key="new", stored_at=NOW - timedelta(hours=2))
    seen = {
        "first_seen_at": NOW - timedelta(days=200),
        "sample_topic": "t",
        "sample_payload": "p",
        "protocol": "tasmota",
    }
    UnclaimedDevice.objects.create(
        site=site, identity="a", last_seen_at=NOW - timedelta(days=100), ignored=True, **seen
    )
    UnclaimedDevice.objects.create(site=site, identity="b", last_seen_at=NOW - timedelta(days=10), ignored=True, **seen)
    UnclaimedDevice.objects.create(site=site, identity="c", last_seen_at=NOW - timedelta(days=100), **seen)

    result = services.apply_retention(NOW)
    assert (result.hourly_deleted, result.dead_letters_deleted, result.delivery_keys_deleted) == (1, 1, 1)
    assert result.unclaimed_deleted == 1
    assert HourlyReading.objects.count() == 1 and DeadLetter.objects.count() == 1
    assert list(DeliveryKey.objects.values_list("key", flat=True)) == ["new"]
    assert sorted(UnclaimedDevice.objects.values_list("identity", flat=True)) == ["b", "c"]


def test_the_daily_retention_job_rolls_readings_up(devices) -> None:  # type: ignore[no-untyped-def]
    motion, _climate = devices
    _add(motion, "motion", 1, OLD)
    retention.run()
    assert Reading.objects.count() == 0 and HourlyReading.objects.get().count == 1

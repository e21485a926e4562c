"""Live detection as the ingest worker runs it: readings after commit, the clock, restarts and blindness."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from maeul.conftest import actor_of
from maeul.sensing.adapters import Kind
from maeul.sensing.models import Device, IngestWorker
from maeul.sensing.stream import StoredReading
from maeul.sites import services as sites
from maeul.sites.models import Site
from maeul.watch.escalation import KST
from maeul.watch.live import LiveWatch
from maeul.watch.models import Alert, AlertKind, AlertStatus, WatchState

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def channels() -> Any:
    with override_settings(MAEUL_NOTIFY_CHANNELS=["web", "console"]):
        yield


@pytest.fixture
def start() -> datetime:
    """Tomorrow 10:00 in Korea: daytime, and after the real clock, which the live layer also reads."""
    tomorrow = timezone.localtime(timezone.now(), KST) + timedelta(days=1)
    return tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.fixture
def motion(site: Site, household: Any) -> Device:
    return Device.objects.create(
        site=site,
        household_id=household.id,
        protocol="zigbee2mqtt",
        identity="h1/living-motion",
        kinds=["motion", "battery"],
    )


def alive(site: Site, at: datetime) -> None:
    IngestWorker.objects.update_or_create(
        site=site, name="test", defaults={"started_at": at, "heartbeat_at": at, "broker_connected": True}
    )


def reading(device: Device, kind: Kind, value: float, at: datetime) -> StoredReading:
    return StoredReading(
        reading_id=None,
        site_id=device.site_id,
        household_id=device.household_id,
        device_id=device.pk,
        device=device.identity,
        kind=kind,
        value=value,
        at=at,
    )


def test_sos_raises_a_critical_alert_at_once(site: Site, motion: Device, start: datetime) -> None:
    alive(site, start)
    watch = LiveWatch(site.pk)
    watch.readings([reading(motion, Kind.SOS, 1, start)])
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.household_id) == ("sos", "critical", motion.household_id)


def test_silence_raises_inactivity_on_the_clock_and_a_restart_continues(
    site: Site, motion: Device, start: datetime
) -> None:
    alive(site, start)
    watch = LiveWatch(site.pk)
    watch.readings([reading(motion, Kind.MOTION, 1, start)])
    alive(site, start + timedelta(hours=1))
    watch.tick(start + timedelta(hours=1))
    assert not Alert.objects.exists()
    watch.save(start + timedelta(hours=1))
    assert WatchState.objects.filter(household_id=motion.household_id).exists()

    # A new worker restores the state: the silence that began before the restart still counts.
    later = start + timedelta(hours=8, minutes=5)
    alive(site, later)
    restarted = LiveWatch(site.pk)
    restarted.tick(later)
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.INACTIVITY and alert.reason.startswith("No activity for 8 h 5 min")
    # And a third worker does not raise it again: the open alert is known.
    alive(site, later + timedelta(minutes=5))
    again = LiveWatch(site.pk)
    again.tick(later + timedelta(minutes=5))
    assert Alert.objects.count() == 1


def test_the_sites_inactivity_settings_reach_every_households_detectors(site: Site, site_admin: User) -> None:
    sites.update_settings(
        actor_of(site_admin),
        site,
        {
            "inactivity_ceiling_hours": 10,
            "inactivity_night_ceiling_hours": 14,
            "inactivity_missing_sensor_hold_hours": 0,
        },
    )
    base = LiveWatch(site.pk).base
    assert (base.ceiling_hours, base.night_ceiling_hours, base.missing_hold_hours) == (10, 14, 0)


def test_blind_ingestion_raises_one_system_alert_and_holds_back_inactivity(
    site: Site, motion: Device, start: datetime
) -> None:
    alive(site, start)
    watch = LiveWatch(site.pk)
    watch.readings([reading(motion, Kind.MOTION, 1, start)])
    # The worker's heartbeat stops: at the time silence would be unusual, Maeul cannot see the home.
    blind_at = start + timedelta(hours=9)
    watch.tick(blind_at)
    watch.tick(blind_at + timedelta(seconds=10))
    alerts = list(Alert.objects.all())
    assert [a.kind for a in alerts] == [AlertKind.INGESTION_BLIND]
    assert alerts[0].household_id is None

    # Monitoring comes back: the system alert is marked recovered, inactivity waits out the grace period.
    back = blind_at + timedelta(minutes=1)
    alive(site, back)
    watch.tick(back)
    system = Alert.objects.get(kind=AlertKind.INGESTION_BLIND)
    assert system.status == AlertStatus.RESOLVED and system.outcome == "recovered"
    assert not Alert.objects.filter(kind=AlertKind.INACTIVITY).exists()
    after_grace = back + timedelta(minutes=12)
    alive(site, after_grace)
    watch.tick(after_grace)
    assert Alert.objects.filter(kind=AlertKind.INACTIVITY, household_id=motion.household_id).exists()


def test_other_partitions_households_are_left_alone(site: Site, motion: Device, start: datetime) -> None:
    alive(site, start)
    owner = motion.household_id % 2
    LiveWatch(site.pk, partition=1 - owner, partitions=2).readings([reading(motion, Kind.SOS, 1, start)])
    assert not Alert.objects.exists()
    LiveWatch(site.pk, partition=owner, partitions=2).readings([reading(motion, Kind.SOS, 1, start)])
    assert Alert.objects.count() == 1

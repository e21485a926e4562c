"""Live detection: the same detectors as ``maeul replay``, fed by ingestion after each committed batch.

``LiveWatch`` is the stream consumer the ingest worker runs (``MAEUL_STREAM_CONSUMERS``). It owns the households of
its partition (``household_id % partitions == partition``), keeps their detector state in memory, persists it every
minute, and on start restores it and replays the readings stored since — so timers come from persisted state and a
restart loses nothing. When ingestion is blind (no live worker, the broker or a gateway down) it raises one system
alert and holds back inactivity and offline alerts for the homes it cannot see, until they have been visible again
for a grace period (messages queued during the outage arrive first).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from maeul.people.models import Household
from maeul.sensing.adapters import Kind
from maeul.sensing.history import readings_since
from maeul.sensing.stream import Blindness, DeviceStatus, StoredReading, blind_households
from maeul.sites import services as sites
from maeul.sites.models import Site
from maeul.watch import detectors, services
from maeul.watch.escalation import KST
from maeul.watch.models import AlertKind, Severity

log = logging.getLogger(__name__)

SAVE_INTERVAL = timedelta(seconds=60)
BLINDNESS_INTERVAL = timedelta(seconds=5)
FEEDBACK_INTERVAL = timedelta(minutes=10)
GRACE_AFTER_BLINDNESS = timedelta(minutes=10)
HISTORY_FOR_NEW = timedelta(days=28)  # a household with no saved state learns from what is stored
RESTORE_CHUNK = 500
# Causes held back while a home cannot be seen: silence then says nothing about the person or the device.
_HELD_BACK_KINDS = {AlertKind.INACTIVITY, AlertKind.DEVICE_OFFLINE, AlertKind.POWER_ANOMALY}


def base_settings(site: Site) -> detectors.WatchSettings:
    s = sites.settings_of(site)
    return detectors.WatchSettings(
        cold_start_hours=min(s.inactivity_alert_hours, s.inactivity_ceiling_hours),
        ceiling_hours=s.inactivity_ceiling_hours,
        night_ceiling_hours=s.inactivity_night_ceiling_hours,
        missing_hold_hours=s.inactivity_missing_sensor_hold_hours,
        heat_celsius=s.indoor_heat_alert_celsius,
        cold_celsius=s.indoor_cold_alert_celsius,
        timezone=KST,
    )


def check_blind(site_id: int, now: datetime) -> Blindness:
    """Raise the site's one system alert while ingestion is blind, mark it recovered when it is not."""
    blindness = blind_households(site_id, now)
    if blindness.everything:
        services.raise_alert(
            site_id,
            None,
            detectors.Alert(
                household="",
                kind=AlertKind.INGESTION_BLIND,
                raised_at=blindness.since or now,
                severity=Severity.SYSTEM,
                reason=f"Monitoring interrupted: {blindness.reason}. "
                "Inactivity alerts are held back until it recovers.",
                cause="ingestion_blind",
                reason_code="ingestion_blind",
                reason_params={"reason": blindness.reason},
            ),
            now,
        )
    else:
        services.recover_blind(site_id, now)
    return blindness


class LiveWatch:
    def __init__(self, site_id: int, partition: int = 0, partitions: int = 1) -> None:
        self.site_id = site_id
        self.partition = partition
        self.partitions = partitions
        self.base = base_settings(Site.objects.get(pk=site_id))
        self.watches: dict[int, detectors.HouseholdWatch] = {}
        self.through: dict[int, datetime] = {}
        self.dirty: set[int] = set()
        self.due: list[tuple[datetime, int]] = []
        self.scheduled: dict[int, datetime] = {}
        now = timezone.now()
        self.last_saved = now
        self.last_blindness_check = now - BLINDNESS_INTERVAL
        self.last_feedback = now
        self.blindness: Blindness | None = None
        self.visible_from: datetime | None = None  # end of the last blindness; inactivity waits a grace period
        self._restore(now)

    # --- state --------------------------------------------------------------------------------------------

    def _mine(self, household_id: int) -> bool:
        return household_id % self.partitions == self.partition

    def _restore(self, now: datetime) -> None:
        ids = [
            h
            for h in Household.objects.filter(site_id=self.site_id, devices__active=True, destroyed_at=None)
            .values_list("pk", flat=True)
            .distinct()
            if self._mine(h)
        ]
        feedback = services.feedback(ids, now)
        causes = services.open_causes(ids)
        for start in range(0, len(ids), RESTORE_CHUNK):
            chunk = ids[start : start + RESTORE_CHUNK]
            states = services.load_states(chunk)
            since = now - HISTORY_FOR_NEW
            for household_id in chunk:
                settings = self._settings_for(household_id, feedback)
                saved = states.get(household_id)
                if saved is not None:
                    watch = detectors.HouseholdWatch.restore(str(household_id), settings, saved[0])
                    if saved[1] is not None:
                        self.through[household_id] = saved[1]
                else:
                    watch = detectors.HouseholdWatch(str(household_id), settings)
                watch.open_causes = set(causes.get(household_id, set()))
                self.watches[household_id] = watch
            oldest = min((self.through.get(h, since) for h in chunk), default=since)
            for past in readings_since(chunk, oldest):
                if past.at <= self.through.get(past.household_id, since):
                    continue
                self._observe(past.household_id, past.device, past.kind, past.value, past.at, raise_alerts=False)
            for household_id in chunk:
                self._schedule(household_id)
        log.info("live detection: %s households restored (partition %s/%s)", len(ids), self.partition, self.partitions)

    def _settings_for(self, household_id: int, feedback: dict[int, tuple[int, int]]) -> detectors.WatchSettings:
        false_alarms, confirmed = feedback.get(household_id, (0, 0))
        return detectors.adapted_settings(self.base, false_alarms, confirmed)

    def save(self, now: datetime) -> None:
        states = {h: (self.watches[h].snapshot(), self.through.get(h)) for h in self.dirty if h in self.watches}
        services.save_states(states, now)
        self.dirty.clear()
        self.last_saved = now

    # --- feeding --------------------------------------------------------------------------------------------

    def _watch(self, household_id: int) -> detectors.HouseholdWatch:
        watch = self.watches.get(household_id)
        if watch is None:
            watch = self.watches[household_id] = detectors.HouseholdWatch(str(household_id), self.base)
        return watch

    def _observe(
        self, household_id: int, device: str, kind: Kind, value: float, at: datetime, raise_alerts: bool = True
    ) -> None:
        watch = self._watch(household_id)
        alerts = watch.observe(detectors.Event(at, watch.household, device, kind, value))
        previous = self.through.get(household_id)
        if previous is None or at > previous:
            self.through[household_id] = at
        self.dirty.add(household_id)
        if raise_alerts and alerts:
            self._raise(household_id, alerts)

    def _raise(self, household_id: int, alerts: Iterable[detectors.Alert]) -> None:
        for alert in alerts:
            services.raise_alert(self.site_id, household_id, alert)

    def readings(self, batch: Sequence[StoredReading]) -> None:
        touched: set[int] = set()
        for reading in batch:
            if reading.site_id != self.site_id or not self._mine(reading.household_id):
                continue
            seen_up_to = self.through.get(reading.household_id)
            if seen_up_to is not None and reading.at < seen_up_to and reading.kind not in detectors.CRITICAL_KINDS:
                # Already in the restored state (handed again after a restart), or arrived late: an old motion
                # says nothing now. An SOS, smoke or gas reading is never skipped (its cause is raised once).
                continue
            self._observe(reading.household_id, reading.device, reading.kind, reading.value, reading.at)
            touched.add(reading.household_id)
        for household_id in touched:
            self._schedule(household_id)

    def statuses(self, batch: Sequence[DeviceStatus]) -> None:
        for status in batch:
            if status.site_id != self.site_id or not self._mine(status.household_id) or status.online:
                continue
            self._raise(
                status.household_id,
                [
                    detectors.Alert(
                        household=str(status.household_id),
                        kind=AlertKind.DEVICE_OFFLINE,
                        raised_at=status.at,
                        severity=Severity.DEVICE,
                        reason=f"{status.device} reports itself offline.",
                        device=status.device,
                        cause=f"offline:{status.device}",
                        reason_code="device_reported_offline",
                        reason_params={"device": status.device},
                    )
                ],
            )

    # --- the clock ----------------------------------------------------------------------------------------

    def _schedule(self, household_id: int) -> None:
        when = self.watches[household_id].next_due()
        if when is None:
            self.scheduled.pop(household_id, None)
        elif self.scheduled.get(household_id) != when:
            self.scheduled[household_id] = when
            heapq.heappush(self.due, (when, household_id))

    def tick(self, now: datetime) -> None:
        if now - self.last_blindness_check >= BLINDNESS_INTERVAL:
            self._check_blindness(now)
        if now - self.last_feedback >= FEEDBACK_INTERVAL:
            self._adapt(now)
        blind = self.blindness
        holding = blind is not None and blind.everything
        in_grace = self.visible_from is not None and now - self.visible_from < GRACE_AFTER_BLINDNESS
        while self.due and self.due[0][0] <= now:
            when, household_id = heapq.heappop(self.due)
            if self.scheduled.get(household_id) != when:
                continue
            del self.scheduled[household_id]
            watch = self.watches[household_id]
            cannot_see = holding or in_grace or (blind is not None and household_id in blind.household_ids)
            alerts = watch.tick(now)
            kept = []
            for alert in alerts:
                if cannot_see and alert.kind in _HELD_BACK_KINDS:
                    watch.resolve(alert.cause)  # not raised: it may be raised once the home is visible again
                    self._postpone(household_id, now)
                else:
                    kept.append(alert)
            self._raise(household_id, kept)
            self.dirty.add(household_id)
            if household_id not in self.scheduled:
                self._schedule(household_id)
        if now - self.last_saved >= SAVE_INTERVAL:
            self.save(now)

    def _postpone(self, household_id: int, now: datetime) -> None:
        when = now + timedelta(minutes=1)
        self.scheduled[household_id] = when
        heapq.heappush(self.due, (when, household_id))

    def _check_blindness(self, now: datetime) -> None:
        was_blind = self.blindness is not None and self.blindness.everything
        self.blindness = check_blind(self.site_id, now)
        if was_blind and not self.blindness.everything:
            self.visible_from = now
        self.last_blindness_check = now

    def _adapt(self, now: datetime) -> None:
        self.base = base_settings(Site.objects.get(pk=self.site_id))
        feedback = services.feedback(list(self.watches), now)
        for household_id, watch in self.watches.items():
            watch.settings = self._settings_for(household_id, feedback)
        self.last_feedback = now

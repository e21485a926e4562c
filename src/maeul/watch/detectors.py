"""Detectors: from a household's readings to alerts, on a clock that is either the wall clock (live) or a
simulated one (replay). Pure Python with no database, so live ingestion and ``maeul replay`` run the same code.

A ``HouseholdWatch`` is fed readings in time order (``observe``) and asked what is due (``tick``). It keeps one open
alert per cause: a cause raises again only after it has cleared (activity seen, the device back, the value normal).
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from maeul.sensing.adapters import Kind

# Readings that show a person is moving about at home.
ACTIVITY_KINDS = frozenset(
    {Kind.MOTION, Kind.CONTACT, Kind.BUTTON, Kind.SWITCH, Kind.PRESENCE, Kind.FLUSH, Kind.APPLIANCE}
)
# Kinds whose every change, on or off, is someone's doing.
_CHANGE_IS_ACTIVITY = frozenset({Kind.SWITCH, Kind.PRESENCE, Kind.APPLIANCE})
CRITICAL_KINDS = {Kind.SOS: "sos", Kind.SMOKE: "smoke", Kind.GAS: "gas"}
_WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass(frozen=True)
class Event:
    at: datetime
    household: str
    device: str
    kind: Kind
    value: float


@dataclass(frozen=True)
class Alert:
    household: str
    kind: str  # inactivity, sos, smoke, gas, temperature, device_offline, battery_low
    raised_at: datetime
    severity: str  # critical, high, warning, device
    reason: str
    device: str = ""


@dataclass(frozen=True)
class WatchSettings:
    """Per-household settings; the defaults follow the site settings' defaults."""

    cold_start_hours: float = 8.0  # inactivity threshold until enough days are learned
    cold_start_night_hours: float = 11.0  # the same for a silence beginning in the evening or night (sleep)
    ceiling_hours: float = 12.0  # never wait longer than this, whatever was learned
    floor_hours: float = 1.5  # never alert on a silence shorter than this
    learn_days: int = 7  # days of history before learned thresholds replace the cold-start one
    margin: float = 1.25  # how far past the longest usual silence before an alert
    away_after_door_minutes: float = 10.0  # door then no motion this long: the person went out
    away_ceiling_hours: float = 24.0  # out longer than this is itself worth a check
    heat_celsius: float = 32.0
    cold_celsius: float = 10.0
    battery_low_percent: float = 15.0
    offline_hours: float = 6.0  # no message from a device this long: we cannot see (not: the person is unwell)
    timezone: tzinfo | None = None  # local time for learning; default: each reading's own offset


def duration_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def _part_of_day(hour: int) -> str:
    if hour < 6:
        return "nights"
    if hour < 12:
        return "mornings"
    if hour < 18:
        return "afternoons"
    return "evenings"


@dataclass
class _Silences:
    """The silences a household has had, by the local hour and weekday they began: what 'usual' means."""

    longest: dict[tuple[bool, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    first_day: datetime | None = None

    def add(self, began: datetime, hours: float) -> None:
        bucket = self.longest[(began.weekday() >= 5, began.hour)]
        bucket.append(hours)
        if len(bucket) > 60:  # about two months of that hour: old habits fade
            del bucket[0]

    def usual(self, began: datetime) -> float | None:
        """The longest silence usually beginning at this hour: the 95th percentile of silences begun within an hour
        of it on the same kind of day (weekday or weekend), or on any day while there are too few of those."""
        hours = [(began.hour + d) % 24 for d in (-1, 0, 1)]
        weekend = began.weekday() >= 5
        values = [v for h in hours for v in self.longest.get((weekend, h), [])]
        if len(values) < 8:
            values = [v for h in hours for kind in (False, True) for v in self.longest.get((kind, h), [])]
        if len(values) < 3:
            return None
        values.sort()
        return values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)]


@dataclass
class HouseholdWatch:
    household: str
    settings: WatchSettings = field(default_factory=WatchSettings)
    last_activity: datetime | None = None
    door_at: datetime | None = None  # the last door opening not yet followed by motion
    away_since: datetime | None = None
    silences: _Silences = field(default_factory=_Silences)
    device_seen: dict[str, datetime] = field(default_factory=dict)
    device_first: dict[str, datetime] = field(default_factory=dict)
    device_longest_gap: dict[str, float] = field(default_factory=dict)  # hours
    device_limit: dict[str, timedelta | None] = field(default_factory=dict)  # offline_after, kept up to date
    open_causes: set[str] = field(default_factory=set)
    _threshold: tuple[datetime, float, str] | None = None  # for the current silence: worked out once

    def _local(self, at: datetime) -> datetime:
        return at.astimezone(self.settings.timezone) if self.settings.timezone else at

    def _raise(self, cause: str, kind: str, at: datetime, severity: str, reason: str, device: str = "") -> list[Alert]:
        if cause in self.open_causes:
            return []
        self.open_causes.add(cause)
        return [Alert(self.household, kind, at, severity, reason, device)]

    def observe(self, event: Event) -> list[Alert]:
        alerts: list[Alert] = []
        at = event.at
        if event.device:
            self.open_causes.discard(f"offline:{event.device}")
            previous = self.device_seen.get(event.device)
            if previous is None:
                self.device_first[event.device] = at
            elif at > previous:
                gap = (at - previous).total_seconds() / 3600
                self.device_longest_gap[event.device] = max(gap, self.device_longest_gap.get(event.device, 0.0))
            self.device_seen[event.device] = at
            self.device_limit[event.device] = self.offline_after(event.device)
        if self.silences.first_day is None:
            self.silences.first_day = at
        if event.kind in CRITICAL_KINDS and event.value >= 1:
            name = CRITICAL_KINDS[event.kind]
            what = {"sos": "The SOS button was pressed", "smoke": "Smoke detected", "gas": "Gas detected"}[name]
            alerts += self._raise(
                f"{name}:{event.device}", name, at, "critical", f"{what} ({event.device}).", event.device
            )
        elif event.kind in CRITICAL_KINDS:
            self.open_causes.discard(f"{CRITICAL_KINDS[event.kind]}:{event.device}")
        elif event.kind in ACTIVITY_KINDS and (event.value >= 1 or event.kind in _CHANGE_IS_ACTIVITY):
            self._activity(event)
        elif event.kind == Kind.TEMPERATURE:
            alerts += self._temperature(event)
        elif event.kind in (Kind.BATTERY, Kind.BATTERY_LOW):
            low = (
                event.value >= 1 if event.kind == Kind.BATTERY_LOW else event.value < self.settings.battery_low_percent
            )
            cause = f"battery:{event.device}"
            if low:
                level = "" if event.kind == Kind.BATTERY_LOW else f" ({event.value:.0f} %)"
                alerts += self._raise(
                    cause, "battery_low", at, "device", f"Battery low on {event.device}{level}.", event.device
                )
            else:
                self.open_causes.discard(cause)
        return alerts

    def _activity(self, event: Event) -> None:
        at = event.at
        if event.kind == Kind.CONTACT and event.value >= 1:
            self.door_at = at
        elif event.kind == Kind.MOTION:
            self.door_at = None
            self.away_since = None
        if self.last_activity is not None and at > self.last_activity:
            gap = (at - self.last_activity).total_seconds() / 3600
            if gap >= 0.25 and self.away_since is None:
                self.silences.add(self._local(self.last_activity), gap)
        self.last_activity = at if self.last_activity is None else max(self.last_activity, at)
        self.open_causes.discard("inactivity")
        self.open_causes.discard("away")

    def _temperature(self, event: Event) -> list[Alert]:
        s = self.settings
        cause = f"temperature:{event.device}"
        if event.value >= s.heat_celsius:
            return self._raise(
                cause,
                "temperature",
                event.at,
                "high",
                f"Indoor temperature {event.value:.1f} °C, at or above {s.heat_celsius:.0f} °C.",
                event.device,
            )
        if event.value <= s.cold_celsius:
            return self._raise(
                cause,
                "temperature",
                event.at,
                "high",
                f"Indoor temperature {event.value:.1f} °C, at or below {s.cold_celsius:.0f} °C.",
                event.device,
            )
        self.open_causes.discard(cause)
        return []

    def threshold(self, began: datetime) -> tuple[float, str]:
        """Hours of silence that would be unusual for a silence beginning at ``began``, and how that is known."""
        s = self.settings
        local = self._local(began)
        learned_days = (began - self.silences.first_day).days if self.silences.first_day else 0
        usual = self.silences.usual(local) if learned_days >= s.learn_days else None
        when = f"{_WEEKDAYS[local.weekday()]} {_part_of_day(local.hour)}"
        if usual is None:
            night = local.hour >= 20 or local.hour < 4
            default = s.cold_start_night_hours if night else s.cold_start_hours
            return min(default, s.ceiling_hours), f"no usual pattern learned yet for {when}"
        hours = min(max(usual * s.margin, s.floor_hours), s.ceiling_hours)
        return hours, f"usually at most {duration_text(timedelta(hours=usual))} on {when}"

    def offline_after(self, device: str) -> timedelta | None:
        """How long a device may stay silent: longer than any silence it has had (a door sensor may rest all
        weekend), and never shorter than the site's setting. Unknown until it has been watched for the learning
        period, because an activity sensor's silence alone does not say it is broken."""
        s = self.settings
        first = self.device_first.get(device)
        if first is None or self.device_seen[device] - first < timedelta(days=s.learn_days):
            return None
        return timedelta(hours=max(s.offline_hours, 1.5 * self.device_longest_gap.get(device, 0.0)))

    def _current_threshold(self) -> tuple[float, str]:
        """The threshold of the silence under way, worked out once per silence."""
        assert self.last_activity is not None
        if self._threshold is None or self._threshold[0] != self.last_activity:
            self._threshold = (self.last_activity, *self.threshold(self.last_activity))
        return self._threshold[1], self._threshold[2]

    def next_due(self) -> datetime | None:
        """The earliest time ``tick`` could change anything: replay ticks a household only then."""
        s = self.settings
        times: list[datetime] = []
        if self.door_at is not None and self.away_since is None:
            times.append(self.door_at + timedelta(minutes=s.away_after_door_minutes))
        if self.away_since is not None:
            if "away" not in self.open_causes:
                times.append(self.away_since + timedelta(hours=s.away_ceiling_hours))
        elif self.last_activity is not None and "inactivity" not in self.open_causes:
            times.append(self.last_activity + timedelta(hours=self._current_threshold()[0]))
        for device, seen in self.device_seen.items():
            limit = self.device_limit[device]
            if limit is not None and f"offline:{device}" not in self.open_causes:
                times.append(seen + limit)
        return min(times) if times else None

    def tick(self, now: datetime) -> list[Alert]:
        alerts: list[Alert] = []
        s = self.settings
        # A door opened and nothing stirred at home since: the person went out, and silence is expected.
        if (
            self.door_at is not None
            and self.away_since is None
            and now - self.door_at >= timedelta(minutes=s.away_after_door_minutes)
            and (self.last_activity is None or self.last_activity <= self.door_at)
        ):
            self.away_since = self.door_at
        if self.away_since is not None:
            out = now - self.away_since
            if out >= timedelta(hours=s.away_ceiling_hours):
                alerts += self._raise(
                    "away",
                    "inactivity",
                    now,
                    "high",
                    f"Out since the door opened {duration_text(out)} ago, and not back.",
                )
        elif self.last_activity is not None:
            silent = now - self.last_activity
            hours, usual = self._current_threshold()
            if silent >= timedelta(hours=hours):
                alerts += self._raise(
                    "inactivity", "inactivity", now, "high", f"No activity for {duration_text(silent)}; {usual}."
                )
        for device, seen in self.device_seen.items():
            limit = self.device_limit[device]
            if limit is not None and now - seen >= limit:
                alerts += self._raise(
                    f"offline:{device}",
                    "device_offline",
                    now,
                    "device",
                    f"No message from {device} for {duration_text(now - seen)}.",
                    device,
                )
        return alerts


def replay(
    events: Iterable[Event],
    settings: dict[str, WatchSettings] | None = None,
    step: timedelta = timedelta(minutes=5),
    until: datetime | None = None,
) -> Iterable[Alert]:
    """Run the detectors over events in time order on a simulated clock that ticks every ``step`` from the first
    event (to ``until`` after the last), so silences are found when they become unusual, as live. Only households
    with something due are ticked, which keeps a million-event log to seconds."""
    settings = settings or {}
    watches: dict[str, HouseholdWatch] = {}
    due: list[tuple[datetime, int, str]] = []  # (when, order, household); stale entries are skipped
    scheduled: dict[str, datetime] = {}
    start: datetime | None = None
    last: datetime | None = None
    order = 0

    def on_the_clock(moment: datetime) -> datetime:
        assert start is not None
        steps = math.ceil((moment - start) / step)
        return start + steps * step

    def schedule(watch: HouseholdWatch) -> None:
        nonlocal order
        when = watch.next_due()
        if when is None:
            scheduled.pop(watch.household, None)
            return
        when = on_the_clock(when)
        if scheduled.get(watch.household) != when:
            scheduled[watch.household] = when
            order += 1
            heapq.heappush(due, (when, order, watch.household))

    def run_due(before: datetime, inclusive: bool) -> Iterable[Alert]:
        while due and (due[0][0] < before or (inclusive and due[0][0] == before)):
            when, _order, household = heapq.heappop(due)
            if scheduled.get(household) != when:
                continue
            del scheduled[household]
            watch = watches[household]
            yield from watch.tick(when)
            schedule(watch)

    for event in events:
        if start is None:
            start = event.at
        elif last is not None and event.at < last:
            raise ValueError(f"events must be in time order: {event.at.isoformat()} after {last.isoformat()}")
        last = event.at
        yield from run_due(on_the_clock(event.at), inclusive=event.at == on_the_clock(event.at))
        watch = watches.get(event.household)
        if watch is None:
            chosen = settings.get(event.household) or settings.get("*") or WatchSettings()  # "*": the log's default
            watch = watches[event.household] = HouseholdWatch(event.household, chosen)
        yield from watch.observe(event)
        schedule(watch)
    if start is not None and until is not None:
        yield from run_due(until, inclusive=True)

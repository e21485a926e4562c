"""Detectors: from a household's readings to alerts, on a clock that is either the wall clock (live) or a
simulated one (replay). Pure Python with no database, so live ingestion and ``maeul replay`` run the same code.

A ``HouseholdWatch`` is fed readings in time order (``observe``) and asked what is due (``tick``). It keeps one open
alert per cause: a cause raises again only after it has cleared (activity seen, the device back, the value normal)
or after the live layer calls ``resolve``. ``snapshot``/``restore`` carry its whole state across a restart.

Inactivity is judged against the household's own silences (docs/decisions/0009): each silence is filed under what
was last seen before it (the device, or the bed or seat mat still pressed) and the local time it began; a new silence
is unusual once it outlasts, by a margin and some slack, the longest comparable one (begun about then after the same
device, or under way then), between a floor and the site's ceiling; for the first days a cold-start threshold
applies (by day no longer than the household's longest daytime silence at home so far allows, at night as long as a
night already was in homes that see nothing at night), and the learned one takes over from it gradually. A night's rest
(with visits to the toilet and back to bed) is learned whole, and so is the household's sleep: when its nights begin
and when the person is up (until a week of nights is learned, a silence begun off the bed mat every night so far began
on is not a night's, at any hour). A silence begun between 90 minutes before the usual bedtimes (after anything but
where the person sleeps, no earlier than a robust spread of bedtimes allows) and the latest rising that may be the
night's sleep (it follows where the person goes to sleep, or such silences then were nights) is unusual once the person
is later up than on any night learned, by an allowance: sooner than the silences alone say after a late night, and past
the ceiling, up to the night ceiling, in homes whose ordinary nights are longer. The way out of the home is learned
from outings through it (and days out, once seen, are not checked after a day), and appliances' rhythms from their
plugs' power. A silence only part of which every sensor saw (one that reports on a clock went missing while the
rest of the home was heard) counts only that part (``_hold``): we could not see, which is not the same as stillness.
Where the person's nights begin in the dark, an evening silence with a lamp that a motion sensor still measures well
into it is not taken for the night: it is unusual once it outlasts the evenings' silences after the same place with a
lamp on (``_LIT_AFTER``).

Alerts carry ``reason`` in English (replay output, logs) and ``reason_code`` with ``reason_params`` for the web
layer to render in the user's language. Codes and their params (minutes and watts are whole numbers; ``weekday``
is 0 = Monday; ``part`` is one of nights, mornings, afternoons, evenings):

- ``inactivity_cold_start``: silent_minutes, threshold_minutes, weekday, part
- ``inactivity_learned``: silent_minutes, usual_minutes, weekday, part, after_device ("" when learned from the hour
  alone), in_bed (true when the silence began on a pressed bed or seat mat)
- ``inactivity_lit``: silent_minutes, usual_minutes, weekday, part, after_device, light_device (the sensor that sees a
  lamp still on: where the person was last seen, if it does)
- ``away_too_long``: out_minutes, door_device
- ``sos``, ``smoke``, ``gas``: device
- ``temperature_high``, ``temperature_low``: celsius, limit_celsius, device
- ``battery_low``: device, percent (null when the device only says "low")
- ``device_offline``: device, silent_minutes
- ``device_missing``: device, silent_minutes, hold_minutes (an activity sensor that reports on a clock is missing while
  the rest of the home is heard, and inactivity waits for it: see ``HouseholdWatch._hold``)
- ``power_unused``: device, unused_minutes, usual_minutes
- ``power_long_run``: device, watts, run_minutes, usual_minutes
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, NamedTuple

from maeul.sensing.adapters import ACTIVITY_KINDS, BATTERY_LOW_PERCENT, OFFLINE_HOURS, Kind
from maeul.watch import sun

# A plug's relay reports its state with every periodic message, so only a change of it is someone's doing. Other
# kinds count at 1 each time (a door opened, motion seen, a mat pressed) and at 0 when it ends a 1 (closing a door,
# getting up): Zigbee2MQTT repeats a closed door's state with each battery report, which is no one's doing.
_CHANGE_ONLY_KINDS = frozenset({Kind.SWITCH})
CRITICAL_KINDS = {Kind.SOS: "sos", Kind.SMOKE: "smoke", Kind.GAS: "gas"}
# What the detectors read a value of (and illuminance, which only says whether a light was left on: see _LIT_AFTER).
# Other readings (humidity, a cell's voltage…) only say that their device reported; about half of a Zigbee2MQTT
# report's readings, so they stop there.
_WATCHED_KINDS = frozenset(
    {*CRITICAL_KINDS, *ACTIVITY_KINDS, Kind.POWER, Kind.TEMPERATURE, Kind.BATTERY, Kind.BATTERY_LOW}
)
_WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_BUCKET_MINUTES = 10
# Shorter silences cannot lift a threshold off the floor (2 h) with the slack (1 h) and even the widest margin
# feedback allows (2.5), so they are not kept: most gaps between readings are shorter, and keeping them is slow.
_SHORTEST_KEPT_HOURS = 0.4
_BUCKETS = 24 * 60 // _BUCKET_MINUTES
_EARLY_MINUTES = 60  # a past silence also covers one beginning this much before it did (bedtimes vary)
_SEEN_DAYS = 7  # days a context must have been seen around an hour before its own silences set the threshold
_ANY = "*"
_MOTION_TIMER = timedelta(minutes=3)  # a motion sensor's "no one" after a detection this long says someone was there
_UP_A_MOMENT = timedelta(minutes=20)  # up between two long silences of a night: still the same rest
# A night's rest begins between 19:00 and 04:00 (local) and goes on with silences begun before 07:00: a wakeful
# morning is not slept through however still it is.
_NIGHT_FROM, _NIGHT_UNTIL, _NIGHT_ENDS = 19, 4, 7
_NIGHT_SHORTEST, _NIGHT_LONGEST = 3, 20  # a night's rest, hours; longer is someone away (in a home without motion)
_BACK_TO_BED = 2.0  # hours: a silence this long begun before 07:00 is sleep, not sitting still after getting up
_NIGHTS = 7  # nights learned before they say when the person is asleep: a week, so that weekends' lie-ins are seen
_PLACE_NIGHTS = 2  # nights learned before where they began says where the person sleeps
_BED_EARLY_MINUTES = 90  # a silence begun this much before the earliest bedtime learned may still be a night's sleep
# ...after where the person goes to sleep; after anywhere else no earlier than this many spreads of the bedtimes (the
# median absolute deviation, scaled to a standard deviation, at least _BED_SPREAD_LEAST minutes) before their median:
# about one evening in 160 if bedtimes were normal
_BED_EARLY_SPREADS, _BED_SPREAD_LEAST = 2.5, 20
# The first days: a daytime silence (begun 07:00-19:00) is also compared with the longest daytime silence at home at
# any hour so far, at twice the margin, from a day learned until the cold start's share of the threshold is under a
# hundredth.
_DAYTIME_FROM, _DAYTIME_UNTIL, _FIRST_DAYS = 7, 19, 14
_EXIT_TRIPS = 2  # out-and-back silences through one door before it counts as the way out
# A device heard in this share of the hours it has been watched (two days at least) reports on a clock (Aqara's
# hourly state, a plug's energy); one that reports only changes (a mat, a flush sensor, a recording's contacts) does
# not. Such a device silent this long (two missed reports) is missing; it went missing while the home was still
# heard if another such device reported this long after it last did (not only in the minutes before the whole home
# fell silent, as it does when the gateway or the power goes, or in a recording cut short).
_REGULAR_SHARE, _REGULAR_WATCHED_HOURS = 0.8, 48
_MISSING_AFTER = timedelta(hours=2)
_HEARD_AFTER = timedelta(hours=1.25)
# The light left on. A motion sensor that measures light (Aqara's, with every report and its hourly one) says whether
# its room is still lit this long into a silence: by then a lamp switched off on the way to bed is off, and what the
# sensor reads is the lamp left burning or the dark. Lit is a lamp near the sensor (Aqara reads tens to hundreds of lux
# under one; a dark room at night, a few), and only after civil dusk (see maeul.watch.sun): before it, the sun may be
# what lights the room. Every room's counts: the person may have been last seen in the dark kitchen, or by the TV's
# plug, with the living room's lamp burning. Silences begun from 17:00 to 04:00 are learned lit or dark. Once a night
# has begun in the dark, an evening silence with a lamp on at every report is not the night's sleep until it outlasts
# the spells with a lamp on after the same place; where nights begin, at bedtime, only the lamp there counts, and only
# once such spells are known on a few evenings (a lamp there may be one left on for the night).
_LIT_AFTER = timedelta(minutes=30)
_LIT_LUX = 20.0
_LIGHT_FROM, _LIGHT_UNTIL = 5 * 60, 16 * 60  # minutes since noon: 17:00 and 04:00
_LIT_BEFORE = 14 * 60  # ...and only a silence begun before 02:00: later is the night's second half
_LIT_EVENINGS = 3
_LIT_AHEAD_MINUTES = 120  # spells with a lamp on are fewer than silences: one begun up to two hours later compares
_FIRST_BEDTIMES_LEEWAY = 30  # minutes: the first nights' bedtimes say little of how early the next may be


class Event(NamedTuple):  # one per reading replayed: a named tuple is built in a third of a frozen dataclass's time
    at: datetime
    household: str
    device: str
    kind: Kind
    value: float


@dataclass(frozen=True)
class Alert:
    household: str
    kind: str  # inactivity, sos, smoke, gas, temperature, device_offline, battery_low, power_anomaly
    raised_at: datetime
    severity: str  # critical, high, warning, device
    reason: str
    device: str = ""
    cause: str = ""  # what stays open until cleared: inactivity, away, sos:<device>, offline:<device>, ...
    reason_code: str = ""
    reason_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WatchSettings:
    """Per-household settings; the defaults follow the site settings' defaults."""

    cold_start_hours: float = 8.0  # inactivity threshold until enough days are learned
    # The same for a silence beginning in the evening or night (sleep): as long as the ceiling, as a night in a home
    # that sees only its living room runs to 11-12 h (out of it before bed, back after the kitchen and the bathroom).
    cold_start_night_hours: float = 12.0
    ceiling_hours: float = 12.0  # never wait longer than this, whatever was learned
    floor_hours: float = 2.0  # never alert on a silence shorter than this
    learn_days: int = 3  # days of history before learned thresholds begin to replace the cold-start one
    learn: bool = True  # False: the cold start's fixed thresholds for ever (the fixed timers compared with)
    margin: float = 1.25  # how far past the longest usual silence before an alert: a factor...
    slack_hours: float = 1.0  # ...and an hour more: a silence usually short may still run to twice its length
    memory_days: int = 28  # silences older than this are forgotten (at the latest half as long again)
    away_after_door_minutes: float = 10.0  # the way out used, then nothing stirs this long: the person went out
    # A night's rest begun at the household's usual bedtime may last to its usual latest waking (and the same
    # allowance) when that is past the ceiling (homes that see nothing between the evening and the morning), not
    # past this.
    night_ceiling_hours: float = 16.0
    away_ceiling_hours: float = 24.0  # out longer than this is worth a check (see HouseholdWatch.out_limit)...
    away_days_ceiling_hours: float = 72.0  # ...until the household has been out longer before; then past this
    heat_celsius: float = 32.0
    cold_celsius: float = 10.0
    battery_low_percent: float = BATTERY_LOW_PERCENT
    offline_hours: float = OFFLINE_HOURS  # no message from a device this long: we cannot see
    # An activity sensor that reports on a clock missing while the rest of the home is heard: its silence is not the
    # person's, and inactivity counts only what every sensor saw, for at most this long a spell (see _hold).
    missing_hold_hours: float = 12.0
    standby_watts: float = 10.0  # a plug drawing more than this is in use
    timezone: tzinfo | None = None  # local time for learning; default: each reading's own offset


MAX_MARGIN_FACTOR = 2.0  # feedback never widens the margin past twice the site's


def adapted_settings(base: WatchSettings, false_alarms_recent: int, confirmed_recent: int) -> WatchSettings:
    """The household's settings after officials' feedback on its recent inactivity alerts (say the last 30 days):
    each false alarm not offset by a confirmed incident widens the margin by 15 % of the site's, up to twice it.
    A confirmed incident takes a step back, so a real problem is never met with a wider margin than the site's
    plus the false alarms it outweighs. The ceiling still bounds every threshold."""
    steps = max(0, false_alarms_recent - confirmed_recent)
    margin = min(base.margin * (1 + 0.15 * steps), base.margin * MAX_MARGIN_FACTOR)
    return dataclasses.replace(base, margin=margin)


def duration_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _minutes(hours: float) -> int:
    return int(hours * 60)


def _since_noon(local: datetime) -> int:
    """Minutes since the last noon: a night's times in order (22:00 is 600, 07:00 the next day is 1140)."""
    return (local.hour - 12) % 24 * 60 + local.minute


def _part_of_day(hour: int) -> str:
    if hour < 6:
        return "nights"
    if hour < 12:
        return "mornings"
    if hour < 18:
        return "afternoons"
    return "evenings"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


@dataclass
class _Silences:
    """The household's past silences, and from them, for every ten minutes of the local day, the longest that a
    silence beginning then has lasted: after the same device (or on the same pressed mat), and after any device.

    A past silence covers every moment from a little before it began (people are not clockwork) to its end, so a
    silence beginning at 01:40 after a visit to the toilet is measured against the nights that were under way at
    01:40 and when they ended, and one beginning at 20:30 in the living room against the evenings, not against
    nights that began at 22:00 in the bedroom."""

    past: list[tuple[datetime, float, str]] = field(default_factory=list)  # (local start, hours, context)
    seen: dict[str, dict[int, list[int]]] = field(default_factory=dict)  # context -> hour -> [last day, days]
    first_day: datetime | None = None
    # context or "*" -> the longest silences begun in, and still under way at, each 10 minutes: worked out from past
    _cover: dict[str, tuple[list[float], list[float]]] | None = None

    def saw(self, context: str, local: datetime) -> None:
        """A silence begins after ``context`` now: count the days each context was seen at each hour."""
        days = self.seen.setdefault(context, {}).setdefault(local.hour, [0, 0])
        if days[0] != local.toordinal():
            days[0], days[1] = local.toordinal(), days[1] + 1

    def add(self, context: str, began: datetime, hours: float, memory_days: int) -> None:
        self.past.append((began, hours, context))
        # Old habits fade: forgotten in batches of half the memory, as rebuilding the table is what costs.
        if (began - self.past[0][0]).total_seconds() > memory_days * 1.5 * 86400:
            kept_from = began - timedelta(days=memory_days)
            self.past = [p for p in self.past if p[0] >= kept_from]
            self._cover = None
        elif self._cover is not None:
            self._extend(self._cover, began, hours, context)

    @staticmethod
    def _extend(cover: dict[str, tuple[list[float], list[float]]], began: datetime, hours: float, context: str) -> None:
        first = (began.hour * 60 + began.minute) // _BUCKET_MINUTES
        step = _BUCKET_MINUTES / 60
        # Under-way remainders too short to lift a threshold off the floor are not kept (see _SHORTEST_KEPT_HOURS).
        last = first + min(int((hours - _SHORTEST_KEPT_HOURS) / step), _BUCKETS - 1)  # a day round at most
        for key in (context, _ANY):
            lines = cover.get(key)
            if lines is None:
                lines = cover[key] = ([0.0] * _BUCKETS, [0.0] * _BUCKETS)
            begun, under_way = lines
            if hours > begun[first]:
                begun[first] = hours
            remaining = hours
            for bucket in range(first + 1, last + 1):
                remaining -= step
                if bucket >= _BUCKETS:
                    bucket -= _BUCKETS
                if remaining > under_way[bucket]:
                    under_way[bucket] = remaining

    def usual(
        self,
        context: str,
        began: datetime,
        ahead: int = _EARLY_MINUTES,
        own: bool = True,
        leave_out: frozenset[str] = frozenset(),
    ) -> tuple[float, bool]:
        """The longest silence usually beginning at ``began`` (local) or up to ``ahead`` minutes later, and
        whether it was learned after this context: once the context has been seen on a few days around this hour,
        its own silences say (even when all were short; unless not ``own``), else the silences after any device
        (but those in ``leave_out``)."""
        if self._cover is None:
            self._cover = {}
            for start, hours, after in self.past:
                self._extend(self._cover, start, hours, after)
        bucket = (began.hour * 60 + began.minute) // _BUCKET_MINUTES
        by_hour = self.seen.get(context, {})
        days = sum(by_hour.get((began.hour + d) % 24, [0, 0])[1] for d in (-1, 0, 1))
        key = context if own and days >= _SEEN_DAYS else _ANY
        if key == _ANY and leave_out:
            chosen = [lines for after, lines in self._cover.items() if after != _ANY and after not in leave_out]
        else:
            chosen = [self._cover[key]] if key in self._cover else []
        ahead_buckets = range(max(ahead, 0) // _BUCKET_MINUTES + 1)
        longest = 0.0
        for begun, under_way in chosen:
            later = max(begun[(bucket + k) % _BUCKETS] for k in ahead_buckets)
            longest = max(longest, later, under_way[bucket])
        return longest, key == context


@dataclass
class _Plug:
    """A power-metering plug: whether its appliance is on, and its usual runs and gaps between uses (hours)."""

    first: datetime
    watts: float = 0.0
    on_since: datetime | None = None
    last_on: datetime | None = None
    runs: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)

    def learned(self, now: datetime, values: list[float], days: int) -> float | None:
        """The longest of the recent values, once the plug has been watched ``days`` and has five of them."""
        if len(values) < 5 or now - self.first < timedelta(days=days):
            return None
        return max(values)


@dataclass(frozen=True)
class _Threshold:
    hours: float
    usual: float | None  # the learned usual silence, None in the cold start
    after_device: str  # "" when learned from the hour alone
    lit: bool = False  # judged as a silence with a lamp left on (see _LIT_AFTER)


def _lamps_restored(data: dict[str, Any]) -> dict[str, bool]:
    if "lamps" in data:
        return {device: bool(lit) for device, lit in data["lamps"].items()}
    lit = data.get("silence_lit")
    return {data["context"]: bool(lit)} if lit is not None else {}


@dataclass
class HouseholdWatch:
    """One household's detectors. The live layer feeds ``observe(event)`` in time order, calls ``tick(now)`` when
    ``next_due()`` comes, ``resolve(cause)`` when an official closes an alert, and persists ``snapshot()`` to
    ``restore()`` after a restart. Fields are its state; ``snapshot`` documents nothing else is needed."""

    household: str
    settings: WatchSettings = field(default_factory=WatchSettings)
    last_activity: datetime | None = None
    context: str = ""  # what the current silence follows: the last active device, or the pressed mat
    door_at: datetime | None = None  # the last use of a door not yet followed by other activity
    door_device: str = ""
    came_in: bool = False  # that door was used on coming back in
    away_since: datetime | None = None
    silences: _Silences = field(default_factory=_Silences)
    values: dict[str, dict[str, float]] = field(default_factory=dict)  # device -> kind -> last value
    pressed: set[str] = field(default_factory=set)  # bed or seat mats someone is on
    has_motion: bool = False  # without a motion sensor, 'nothing stirred after the door' says nothing
    exit_trips: dict[str, int] = field(default_factory=dict)  # contact -> silences out and back through it
    outings: list[float] = field(default_factory=list)  # hours out, the last 30 times
    plugs: dict[str, _Plug] = field(default_factory=dict)
    device_seen: dict[str, datetime] = field(default_factory=dict)
    device_first: dict[str, datetime] = field(default_factory=dict)
    device_longest_gap: dict[str, float] = field(default_factory=dict)  # hours
    device_limit: dict[str, timedelta | None] = field(default_factory=dict)  # offline_after, kept up to date
    device_hours: dict[str, list[int]] = field(default_factory=dict)  # device -> first and last hour heard, hours heard
    unseen_from: datetime | None = None  # the last spell a device was missing: from its last report...
    back_at: datetime | None = None  # ...to its return (see _hold)
    detected: dict[str, datetime] = field(default_factory=dict)  # motion sensor -> its last detection
    rest_start: datetime | None = None  # the rest (long silences a few minutes apart) the last silence was part of
    rest_end: datetime | None = None
    rest_context: str = ""  # what the rest began after
    open_causes: set[str] = field(default_factory=set)
    # evening's ordinal -> (bed, rest, up, contexts): when the night's rest began and how long it lasted, when the
    # person was up (minutes since that evening's noon), and what the rest followed (see _night)
    nights: dict[int, tuple[int, int, int, list[str]]] = field(default_factory=dict)
    # The lamps in the home, measured well into the silence under way (see _LIT_AFTER): each light-measuring motion
    # sensor lit at every report of it so far (True) or dark at one (False), not yet measured (absent); and the last
    # report lit while it was; the evening silences' spells with a lamp on, as (local start, hours, context); and the
    # evenings (ordinals) whose night began in the dark.
    lamps: dict[str, bool] = field(default_factory=dict)
    lit_until: datetime | None = None
    lit_silences: list[tuple[datetime, float, str]] = field(default_factory=list)
    dark_nights: set[int] = field(default_factory=set)
    _threshold: tuple[datetime, str, _Threshold] | None = None  # for the current silence: worked out once
    _held_until: datetime | None = None  # the current silence's inactivity is held back until then at least
    _next_hour: dict[str, datetime] = field(default_factory=dict)  # device -> the end of the hour it was last heard in
    # nights': from when a silence may be sleep (after where the person sleeps, after anywhere else), the earliest
    # tenth's bedtime, earliest and latest up (see _sleep_window); where the person sleeps, and whether that tells (see
    # _sleep_places)
    _sleep: tuple[int, int, int, int, int] | None = None
    _places: tuple[frozenset[str], bool] | None = None
    _soonest_for: WatchSettings | None = None
    _soonest_delta: timedelta = timedelta(0)
    _offline_due: dict[str, datetime | None] = field(default_factory=dict)  # device -> seen + limit, if not open
    _plugs_changed: int = 0  # counts what may move a power cause's time (see _power_due)
    _power_provisional: bool = True  # a plug was within its learning days when _power_due was last worked out
    _power_cache: tuple[tuple[int, datetime | None], list[tuple[datetime, str, _Plug, float]]] | None = None

    def _local(self, at: datetime) -> datetime:
        return at.astimezone(self.settings.timezone) if self.settings.timezone else at

    def _raise(
        self,
        cause: str,
        kind: str,
        at: datetime,
        severity: str,
        reason: str,
        code: str,
        params: dict[str, Any],
        device: str = "",
    ) -> list[Alert]:
        if cause in self.open_causes:
            return []
        self.open_causes.add(cause)
        self._plugs_changed += 1
        return [Alert(self.household, kind, at, severity, reason, device, cause, code, params)]

    def resolve(self, cause: str) -> None:
        """An official closed the alert of this cause: it may raise again when the condition recurs."""
        self.open_causes.discard(cause)
        self._plugs_changed += 1
        if cause.startswith("offline:"):
            device = cause.split(":", 1)[1]
            limit = self.device_limit.get(device)
            if device in self.device_seen and limit is not None:
                self._offline_due[device] = self.device_seen[device] + limit

    @property
    def _soonest(self) -> timedelta:
        """No inactivity threshold is shorter than this (worked out again when the settings change)."""
        if self._soonest_for is not self.settings:
            s = self.settings
            hours = min(s.floor_hours, s.ceiling_hours, s.cold_start_hours, s.cold_start_night_hours)
            self._soonest_for, self._soonest_delta = s, timedelta(hours=hours)
        return self._soonest_delta

    def observe(self, event: Event) -> list[Alert]:
        alerts: list[Alert] = []
        at = event.at
        previous = self.device_seen.get(event.device) if event.device else None
        # A device's report carries several readings at one time (a climate sensor's temperature, humidity, battery…):
        # what the report says about the device is taken from its first reading only.
        if event.device and previous != at:
            if self.open_causes:
                self.open_causes.discard(f"offline:{event.device}")
            grew = previous is None or self.device_limit.get(event.device) is None
            if previous is None:
                self.device_first[event.device] = at
            elif at > previous:
                gap = _hours(at - previous)
                if gap > self.device_longest_gap.get(event.device, 0.0):
                    self.device_longest_gap[event.device] = gap
                    grew = True
            self.device_seen[event.device] = at
            next_hour = self._next_hour.get(event.device)
            if next_hour is None or at >= next_hour:  # a comparison per reading; the hour's number once an hour
                hour = int(at.timestamp()) // 3600
                hours = self.device_hours.get(event.device)
                if hours is None:
                    self.device_hours[event.device] = [hour, hour, 1]
                elif hour > hours[1]:
                    hours[1] = hour
                    hours[2] += 1
                # In the reading's own tzinfo: datetimes that share one compare ten times faster.
                self._next_hour[event.device] = datetime.fromtimestamp((hour + 1) * 3600, at.tzinfo)
            if previous is not None and at - previous >= _MISSING_AFTER and self._sees_person(event.device):
                self.unseen_from, self.back_at, self._held_until = previous, at, None
            if grew:  # the limit moves only while unknown or when the longest gap grows
                self.device_limit[event.device] = self.offline_after(event.device)
            limit = self.device_limit[event.device]
            self._offline_due[event.device] = at + limit if limit is not None else None
        if self.silences.first_day is None:
            self.silences.first_day = at
        if event.kind == Kind.ILLUMINANCE:  # nothing to keep of it: only the silence under way is lit or not
            self._light(event)
            return alerts
        if event.kind not in _WATCHED_KINDS:
            return alerts
        if event.kind == Kind.MOTION:
            self.has_motion = True
        last_values = self.values.setdefault(event.device, {})
        before = last_values.get(event.kind)
        last_values[event.kind] = event.value
        if event.kind in CRITICAL_KINDS:
            alerts += self._critical(event)
        elif event.kind in ACTIVITY_KINDS:
            if event.kind == Kind.PRESENCE:
                (self.pressed.add if event.value >= 1 else self.pressed.discard)(event.device)
            if self._is_activity(event, before):
                self._activity(event)
            if event.kind == Kind.MOTION and event.value >= 1:
                self.detected[event.device] = event.at
        elif event.kind == Kind.POWER:
            self._power(event)
        elif event.kind == Kind.TEMPERATURE:
            alerts += self._temperature(event)
        elif event.kind in (Kind.BATTERY, Kind.BATTERY_LOW):
            alerts += self._battery(event)
        return alerts

    def _light(self, event: Event) -> None:
        """The lamps, from each sensor's first report well into the silence on (see _LIT_AFTER): a sensor's is lit
        while every report of it is, and dark from the first that is not."""
        if (
            self.last_activity is None
            or self.away_since is not None
            or event.at - self.last_activity < _LIT_AFTER
            or self.lamps.get(event.device) is False
        ):
            return
        lit = event.value >= _LIT_LUX
        if lit and sun.elevation(event.at) > sun.CIVIL_DUSK:
            return  # daylight or a lamp: cannot tell until dusk
        if lit:
            self.lit_until = event.at
        if self.lamps.get(event.device) is not lit:
            self.lamps[event.device] = lit
            self._threshold = None  # the silence's threshold is worked out again

    def _lit(self) -> frozenset[str]:
        """The sensors that still see a lamp on, well into the silence under way."""
        return frozenset(device for device, lit in self.lamps.items() if lit)

    def _learn_light(self, began: datetime, hours: float) -> None:
        """File an evening or night silence that ended: how long it went on with a lamp on (to the last report lit
        before the lamps were all dark), or, if it began in the dark and lasted a night, as a night begun in the dark
        (``began`` local)."""
        assert self.last_activity is not None
        if not _LIGHT_FROM <= _since_noon(began) < _LIGHT_UNTIL:
            return
        if self.lit_until is not None:
            # Lit to its end, or to the last report lit before the first dark one.
            lit_hours = hours if any(self.lamps.values()) else _hours(self.lit_until - self.last_activity)
            kept_from = began - timedelta(days=self.settings.memory_days)
            self.lit_silences = [p for p in self.lit_silences if p[0] >= kept_from] + [(began, lit_hours, self.context)]
        elif hours >= _NIGHT_SHORTEST:
            evening = (began - timedelta(hours=12)).toordinal()
            self.dark_nights = {n for n in self.dark_nights if n > evening - self.settings.memory_days} | {evening}

    def _is_activity(self, event: Event, before: float | None) -> bool:
        if event.kind in _CHANGE_ONLY_KINDS and before is not None:
            return event.value != before
        if event.kind == Kind.MOTION and event.value < 1 and before is not None and before >= 1:
            # The end of a detection says someone moved until now only after a long one (a log of intervals);
            # Zigbee2MQTT ends each detection on a 90-second timer, which is nobody's doing.
            detected = self.detected.get(event.device)
            return detected is not None and event.at - detected >= _MOTION_TIMER
        return event.value >= 1 or (before is not None and before >= 1)

    def _critical(self, event: Event) -> list[Alert]:
        name = CRITICAL_KINDS[event.kind]
        cause = f"{name}:{event.device}"
        if event.value < 1:
            self.open_causes.discard(cause)
            return []
        what = {"sos": "The SOS button was pressed", "smoke": "Smoke detected", "gas": "Gas detected"}[name]
        return self._raise(
            cause, name, event.at, "critical", f"{what} ({event.device}).", name, {"device": event.device}, event.device
        )

    def _activity(self, event: Event) -> None:
        at = event.at
        if self.last_activity is not None and at > self.last_activity and self.away_since is None:
            gap = _hours(at - self.last_activity)
            began = self._local(self.last_activity)
            if gap >= _SHORTEST_KEPT_HOURS:
                self.silences.add(self.context, began, gap, self.settings.memory_days)
                if self.lamps:
                    self._learn_light(began, gap)
            if gap >= 1:
                self._rest(began, at)
                self._night(began, at)
            # Out and back through the same door by day: that door is the way out (a bedroom door at night is not).
            if gap >= 1 and event.kind == Kind.CONTACT and event.device == self.door_device and 6 <= began.hour < 20:
                self.exit_trips[event.device] = self.exit_trips.get(event.device, 0) + 1
        if event.kind == Kind.CONTACT:
            # The door used on coming back in is followed by being at home, even before anything else stirs.
            self.came_in = self.away_since is not None or (self.came_in and event.device == self.door_device)
            self.door_at, self.door_device = at, event.device
        else:
            self.door_at, self.door_device, self.came_in = None, "", False
        if self.away_since is not None and at > self.away_since:
            self.outings = [*self.outings[-29:], _hours(at - self.away_since)]
        self.away_since = None
        self.last_activity = at if self.last_activity is None else max(self.last_activity, at)
        self.context = f"on:{min(self.pressed)}" if self.pressed else event.device
        self.silences.saw(self.context, self._local(at))
        self.open_causes.discard("inactivity")
        self.open_causes.discard("away")
        self._held_until = None
        if self.lamps:
            self.lamps = {}
        self.lit_until = None

    def _rest(self, began: datetime, ended: datetime) -> None:
        """A night's long silences with only a few minutes up between them, back where the rest began (visits to the
        toilet), are also learned as one rest, so that a night without those visits is not unusual. Only nights: by
        day, long silences a movement apart are someone sitting still, each of which must stay usual on its own."""
        assert self.last_activity is not None
        night = began.hour >= _NIGHT_FROM or began.hour < _NIGHT_ENDS
        up_a_moment = self.rest_end is not None and began - self._local(self.rest_end) <= _UP_A_MOMENT
        # Back where the rest began (the bed, the bedroom): a visit to the toilet. Up a moment and then somewhere else
        # is not: an evening sitting still in the living room, then bed, is not a night begun in the living room.
        back_to_bed = self.context == self.rest_context
        if self.rest_start is not None and up_a_moment and night and back_to_bed:
            whole = _hours(ended - self.rest_start)
            self.silences.add(self.rest_context, self._local(self.rest_start), whole, self.settings.memory_days)
        elif night and not _NIGHT_UNTIL <= began.hour < _NIGHT_ENDS:
            self.rest_start, self.rest_context = self.last_activity, self.context
        else:
            self.rest_start, self.rest_context = None, ""
        self.rest_end = ended

    def _night(self, began: datetime, ended: datetime) -> None:
        """Learn the night from a long silence begun between 19:00 and 07:00 (local): when its rest began (the
        longest of the night's rests, of three hours or more) and when the person was up (the end of its last rest,
        or of a silence of two hours or more: back to bed after a wakeful hour), in minutes since that evening's
        noon, and what the rest followed."""
        hours = _hours(ended - self.last_activity) if self.last_activity is not None else 0.0
        if hours > _NIGHT_LONGEST or _NIGHT_ENDS <= began.hour < _NIGHT_FROM:
            return
        evening = (began - timedelta(hours=12)).toordinal()
        bed, length, up, contexts = self.nights.get(evening, (0, 0, 0, []))
        if self.rest_start is not None or hours >= _BACK_TO_BED:  # not sitting still after getting up
            up = max(up, _since_noon(began) + int(hours * 60))
        if self.rest_start is not None:
            rest = int(_hours(ended - self.rest_start) * 60)
            if rest > max(length, 60 * _NIGHT_SHORTEST - 1):
                bed, length, contexts = _since_noon(self._local(self.rest_start)), rest, [self.rest_context]
        self.nights[evening] = (bed, length, up, contexts)
        for old in [n for n in self.nights if n < evening - self.settings.memory_days]:
            del self.nights[old]
        self._sleep = self._places = None

    def out_limit(self) -> float:
        """Hours out before a check: past the longest usual outing as for a silence, never before the ceiling (a
        day out is no cause for alarm) and never after the away ceiling. The door may also have been a visitor
        leaving, so being out is not trusted for a whole day unless days out have been seen."""
        s = self.settings
        longest = max(self.outings, default=0.0)
        usual = longest * s.margin + s.slack_hours
        days_out_seen = longest > s.away_ceiling_hours
        ceiling = max(s.away_ceiling_hours, s.away_days_ceiling_hours if days_out_seen else 0.0)
        return min(max(usual, s.ceiling_hours), ceiling)

    def _may_be_way_out(self, context: str) -> bool:
        """Whether a silence after ``context`` may be the person out: after any door or cupboard contact until the
        way out is learned, then after the way out only (the fridge door is not)."""
        if Kind.CONTACT not in self.values.get(context, {}):
            return False
        learned = any(trips >= _EXIT_TRIPS for trips in self.exit_trips.values())
        return not learned or self.exit_trips.get(context, 0) >= _EXIT_TRIPS

    def _went_out(self) -> bool:
        """The door last used is the way out, and not on the way in: once nothing else stirs, the person is out."""
        return (
            self.door_at is not None
            and self.away_since is None
            and not self.came_in
            and self.has_motion
            and self.exit_trips.get(self.door_device, 0) >= _EXIT_TRIPS
        )

    def _power(self, event: Event) -> None:
        """A plug's appliance switched on counts as activity; its runs and the gaps between uses are learned."""
        at, device = event.at, event.device
        plug = self.plugs.get(device)
        on = event.value > self.settings.standby_watts
        if plug is None:
            # Its first report: if already on, the run is timed from now; it is not anyone's doing now.
            self.plugs[device] = _Plug(first=at, watts=event.value, on_since=at if on else None)
            self._plugs_changed += 1
            return
        plug.watts = event.value
        # A plug reports its watts often (every few seconds while they change). Only switching on or off moves when
        # a power cause is due, or the report itself while a plug is still within its learning days.
        if self._power_provisional:
            self._plugs_changed += 1
        if on and plug.on_since is None:
            self._plugs_changed += 1
            plug.on_since = at
            if plug.last_on is not None:
                plug.gaps = [*plug.gaps[-29:], _hours(at - plug.last_on)]
            plug.last_on = at
            self.open_causes.discard(f"power_unused:{device}")
            self._activity(event)
        elif not on and plug.on_since is not None:
            self._plugs_changed += 1
            plug.runs = [*plug.runs[-29:], _hours(at - plug.on_since)]
            plug.on_since = None
            if plug.last_on is None:  # it was on when first seen: its use is known from now
                plug.last_on = at
            self.open_causes.discard(f"power_long:{device}")

    def _power_limits(self, plug: _Plug, now: datetime) -> tuple[float | None, float | None]:
        """Hours of continuous use, and of no use, past which the plug's appliance is unusual (None: not learned).
        Twice the longest usual, and at least an hour (a run) or twelve hours (a gap) past it."""
        days = self.settings.learn_days
        run = plug.learned(now, plug.runs, days)
        gap = plug.learned(now, plug.gaps, days)
        return (
            max(2 * run, run + 1) if run is not None else None,
            max(2 * gap, gap + 12) if gap is not None else None,
        )

    def _power_due(self) -> list[tuple[datetime, str, _Plug, float]]:
        """When each plug's power causes not yet open would become due: (time, cause, plug, usual hours). Worked
        out again only when a plug was first seen or switched on or off, a power cause opened or closed, or the person
        went out or came in; and at each report while a plug is within its learning days (see _power)."""
        key = (self._plugs_changed, self.away_since)
        if self._power_cache is None or self._power_cache[0] != key:
            self._power_cache = (key, self._work_out_power_due())
        return self._power_cache[1]

    def _work_out_power_due(self) -> list[tuple[datetime, str, _Plug, float]]:
        due: list[tuple[datetime, str, _Plug, float]] = []
        learning = timedelta(days=self.settings.learn_days)
        self._power_provisional = False
        for device, plug in self.plugs.items():
            # Learned as of its last report, so that next_due and tick agree between reports.
            now = self.device_seen.get(device, plug.first)
            if now - plug.first < learning:
                self._power_provisional = True  # its next report may be the one that makes it learned
            run_limit, gap_limit = self._power_limits(plug, now)
            if plug.on_since is not None and run_limit is not None and f"power_long:{device}" not in self.open_causes:
                due.append((plug.on_since + timedelta(hours=run_limit), f"power_long:{device}", plug, max(plug.runs)))
            if (
                plug.on_since is None
                and plug.last_on is not None
                and gap_limit is not None
                and self.away_since is None  # out of the home, the kettle rests too
                and f"power_unused:{device}" not in self.open_causes
            ):
                due.append((plug.last_on + timedelta(hours=gap_limit), f"power_unused:{device}", plug, max(plug.gaps)))
        return due

    def _temperature(self, event: Event) -> list[Alert]:
        s = self.settings
        cause = f"temperature:{event.device}"
        for high, limit in ((True, s.heat_celsius), (False, s.cold_celsius)):
            if (event.value >= limit) if high else (event.value <= limit):
                return self._raise(
                    cause,
                    "temperature",
                    event.at,
                    "high",
                    f"Indoor temperature {event.value:.1f} °C, at or {'above' if high else 'below'} {limit:.0f} °C.",
                    "temperature_high" if high else "temperature_low",
                    {"celsius": round(event.value, 1), "limit_celsius": limit, "device": event.device},
                    event.device,
                )
        self.open_causes.discard(cause)
        return []

    def _battery(self, event: Event) -> list[Alert]:
        flag = event.kind == Kind.BATTERY_LOW
        cause = f"battery:{event.device}"
        if not (event.value >= 1 if flag else event.value < self.settings.battery_low_percent):
            self.open_causes.discard(cause)
            return []
        level = "" if flag else f" ({event.value:.0f} %)"
        return self._raise(
            cause,
            "battery_low",
            event.at,
            "device",
            f"Battery low on {event.device}{level}.",
            "battery_low",
            {"device": event.device, "percent": None if flag else round(event.value)},
            event.device,
        )

    def threshold(self, began: datetime, context: str = "", lit: frozenset[str] = frozenset()) -> _Threshold:
        """Hours of silence that would be unusual for a silence beginning at ``began`` after ``context`` (``lit``:
        the sensors that see a lamp still on well into it, at every report)."""
        s = self.settings
        local = self._local(began)
        learned_days = (began - self.silences.first_day).days if self.silences.first_day else 0
        if not s.learn:
            night = local.hour >= _NIGHT_FROM or local.hour < _NIGHT_UNTIL
            return _Threshold(min(s.cold_start_night_hours if night else s.cold_start_hours, s.ceiling_hours), None, "")
        places, place_tells = self._sleep_places()
        # Every night so far began on a pressed mat (the bed), and this silence follows somewhere else: whatever the
        # hour, it is not a night's rest beginning, until a week of nights says when one may begin elsewhere (see
        # _sleep_window). Only a mat says the person lay down; a bedroom sensor or the last room seen does not.
        not_a_night = (
            place_tells
            and all(place.startswith("on:") for place in places)
            and context not in places
            and self._sleep_window() is None
        )
        night = (local.hour >= _NIGHT_FROM or local.hour < _NIGHT_UNTIL) and not not_a_night
        cold_start = min(s.cold_start_night_hours if night else s.cold_start_hours, s.ceiling_hours)
        if (
            1 <= learned_days < _FIRST_DAYS
            and (_DAYTIME_FROM <= local.hour < _DAYTIME_UNTIL or not_a_night)
            and not self._may_be_way_out(context)
        ):
            # An hour's own silences are few in the first days, but the household's days already say something: a
            # daytime silence far longer than any so far at home at any hour is unusual before the cold start's
            # fixed time. Not after what may be the way out (any door until it is learned): that may be the first
            # long day out. For the same reason silences after it are left out of the comparison: an afternoon out
            # says nothing about how long the person sits still at home. A silence that is not a night is compared
            # with the daytime ones and those at any hour after anywhere but where the person sleeps.
            by_day = (
                hours
                for at, hours, after in self.silences.past
                if (_DAYTIME_FROM <= at.hour < _DAYTIME_UNTIL or (not_a_night and after not in places))
                and not self._may_be_way_out(after)
            )
            longest = max(by_day, default=0.0)
            cold_start = min(cold_start, max(longest * 2 * s.margin + s.slack_hours, s.floor_hours))
        if learned_days < s.learn_days:
            longest_night = max((rest for _bed, rest, _up, _after in self.nights.values()), default=0) / 60
            if (local.hour >= _NIGHT_FROM or local.hour < _NIGHT_UNTIL) and longest_night > s.cold_start_night_hours:
                # A home that sees nothing between the evening and the morning: a night has already outlasted the
                # night's cold start, and so may this one, as far as that night and the allowance (never the night
                # ceiling).
                cold_start = min(s.night_ceiling_hours, longest_night * s.margin + s.slack_hours)
            lit_threshold = self._lit_threshold(local, context, cold_start, lit) if lit else None
            return lit_threshold or _Threshold(cold_start, None, "")
        sleep = self._sleep_window()
        # Where the person's nights do not begin after one place (the last room before bed varies), what a silence
        # followed says nothing about whether it is the night: in the night's hours, the silences after any place.
        own = place_tells or context in places or not (local.hour >= _NIGHT_FROM or local.hour < _NIGHT_UNTIL)
        ahead = _EARLY_MINUTES
        if sleep is not None:
            bed_after_bed, bed_elsewhere, _early_bed, first_up, up = sleep
            bed = bed_after_bed if context in places or not place_tells else bed_elsewhere
            if _since_noon(local) < bed:
                # Before the person's bedtimes: the nights begun later are not what this silence is compared with.
                ahead = min(ahead, bed - _since_noon(local) - _BUCKET_MINUTES)
        # Not a night: the silences after where the person sleeps (the nights) are not what it is compared with. Nor,
        # at home, the silences after what may be the way out (as in the first days): an outing, or the first trip
        # away before the way out is learned, says nothing about how long the person sits still at home.
        leave_out = places if not_a_night else frozenset()
        if not self._may_be_way_out(context):
            leave_out = leave_out | {after for after in self.values if self._may_be_way_out(after)}
        hours, by_context = self.silences.usual(context, local, ahead, own, leave_out)
        after = context if by_context else ""
        learned, ceiling = hours * s.margin + s.slack_hours, s.ceiling_hours
        if sleep is not None:
            began_minute = _since_noon(local)
            if bed <= began_minute < up:
                # Possibly the night's sleep: unusual once the person is later up than on any night learned, by an
                # allowance. After a late night that is sooner than the silences say; in a home that sees nothing
                # between the evening and the morning it may pass the ceiling (never the night ceiling).
                until_up = (up - began_minute) / 60
                wake_limit = until_up + s.slack_hours * s.margin + (s.margin - 1) * (up - first_up) / 60
                if context in places or not by_context or hours >= _NIGHT_SHORTEST or wake_limit < learned:
                    learned, hours, after = wake_limit, until_up, context
                ceiling = max(ceiling, min(s.night_ceiling_hours, wake_limit))
        elif local.hour >= _NIGHT_FROM or local.hour < _NIGHT_UNTIL:
            # Before a week of nights is known: once two nights were so long that their allowance would outlast the
            # ceiling (a home that sees little between the evening and the morning), so may this one's, as far as
            # the silences learned say.
            long_nights = sum(
                1 for _bed, rest, _up, _after in self.nights.values() if rest / 60 * s.margin + s.slack_hours > ceiling
            )
            if long_nights >= 2:
                ceiling = max(ceiling, min(s.night_ceiling_hours, learned))
        limit = min(max(learned, s.floor_hours), ceiling)
        if cold_start > limit:
            # The longest of n days' silences is outlasted on the next day about once in n + 1: a few days learned
            # say too little, so the threshold leaves the cold start's gradually, (learn_days / days)³ of the way
            # back to it (half after four days of three, a tenth after a week, nothing to speak of after two).
            limit += (cold_start - limit) * (s.learn_days / max(learned_days, 1)) ** 3
        lit_threshold = self._lit_threshold(local, context, limit, lit) if lit else None
        return lit_threshold or _Threshold(limit, hours, after)

    def _lit_threshold(self, local: datetime, context: str, limit: float, lit: frozenset[str]) -> _Threshold | None:
        """The threshold of an evening silence with a lamp still on in the home (``lit``: the sensors that see one,
        see _LIT_AFTER), if sooner than ``limit``: not gone to bed (a lamp left on after a collapse, or still sitting
        up), so unusual once it outlasts the evenings' silences after the same place with a lamp on. Only once a night
        has begun in the dark, and for a silence begun from 17:00 to 02:00, whether or not it may be the night's
        sleep: one begun before the bedtimes may be compared with evenings that ran unseen into an early night, and
        the lamp still burning says this one has not.

        Not yet bedtime (see _earliest_bedtime), or where no night has begun (a kitchen in a home that sleeps in a
        watched bedroom), a lamp left burning is not the way this person goes to bed: the spells are compared as the
        silences are, those begun up to _LIT_AHEAD_MINUTES later and what remained of those under way then. Where
        nights begin, at bedtime, a lamp may be one forgotten on the way to bed or fallen asleep under: only the lamp
        there counts, and only once its spells are known on a few evenings, whenever they began. A night begun with a
        lamp on is itself such a spell, and then this says nothing."""
        s = self.settings
        minute = _since_noon(local)
        if not self.dark_nights or not _LIGHT_FROM <= minute < _LIT_BEFORE:
            return None
        spells = [(at, hours) for at, hours, after in self.lit_silences if after == context]
        nights_begin_here = any(n[3] and n[3][0] == context for n in self.nights.values() if n[1])
        bedtime = self._earliest_bedtime()
        if nights_begin_here and (bedtime is None or minute >= bedtime):
            evenings = len({(at - timedelta(hours=12)).toordinal() for at, _hours in spells})
            if context not in lit or evenings < _LIT_EVENINGS:
                return None
            longest = max((hours for _at, hours in spells), default=0.0)
        else:
            longest = max(
                (
                    hours - max(minute - _since_noon(at), 0) / 60
                    for at, hours in spells
                    if _since_noon(at) <= minute + _LIT_AHEAD_MINUTES
                ),
                default=0.0,
            )
            longest = max(longest, 0.0)
        lit_limit = max(longest * s.margin + s.slack_hours, s.floor_hours)
        if lit_limit >= limit:
            return None
        return _Threshold(lit_limit, longest, context, lit=True)

    def _earliest_bedtime(self) -> int | None:
        """Before this (minutes since noon) an evening is not yet the person's bedtime: the earliest tenth's bedtime
        once a week of nights is known (see _sleep_window); before that, a while before the earliest night's."""
        sleep = self._sleep_window()
        if sleep is not None:
            return sleep[2]
        beds = [n[0] for n in self.nights.values() if n[1]]
        return min(beds) - _FIRST_BEDTIMES_LEEWAY if beds else None

    def _sleep_places(self) -> tuple[frozenset[str], bool]:
        """Where the person goes to sleep (what a third of the nights' rests or more began after: the bedroom PIR,
        the bed mat, the only PIR), and whether that tells the night from other silences: of two nights or more, four
        in five or more began after one place (with a bed mat, nearly all; when the last room before bed varies, none
        does)."""
        if self._places is None:
            nights = [n for n in self.nights.values() if n[1] and n[3]]
            began_after = Counter(after[0] for *_times, after in nights)
            places = frozenset(c for c, n in began_after.items() if n * 3 >= len(nights))
            tells = len(nights) >= _PLACE_NIGHTS and max(began_after.values(), default=0) * 5 >= len(nights) * 4
            self._places = (places, tells)
        return self._places

    def _sleep_window(self) -> tuple[int, int, int, int, int] | None:
        """From the nights learned (minutes since the evening's noon): from when a silence may be the night's sleep
        after where the person goes to sleep (or anywhere, when the place does not tell), and after anywhere else;
        the bedtime of the earliest tenth of the nights; the earliest and latest rising. None before a week of
        nights."""
        if self._sleep is None:
            nights = [n for n in self.nights.values() if n[1]]
            if len(nights) < _NIGHTS:
                return None
            # After where the person sleeps: from 90 minutes before the bedtimes past the earliest tenth (one odd
            # evening does not make every evening a night). After anywhere else a silence that may be an early night
            # may as well be a collapse: from a robust spread of the bedtimes before their median, if that is later.
            beds = sorted(n[0] for n in nights)
            after_bed = beds[len(beds) // 10] - _BED_EARLY_MINUTES
            median = beds[len(beds) // 2]
            spread = 1.4826 * sorted(abs(b - median) for b in beds)[len(beds) // 2]
            elsewhere = max(after_bed, int(median - _BED_EARLY_SPREADS * max(spread, _BED_SPREAD_LEAST)))
            ups = [n[2] for n in nights]
            self._sleep = (after_bed, elsewhere, beds[len(beds) // 10], min(ups), max(ups))
        return self._sleep

    def offline_after(self, device: str) -> timedelta | None:
        """How long a device may stay silent: longer than any silence it has had (a door sensor may rest all
        weekend), and never shorter than the site's setting. Unknown until it has been watched for a week,
        because an activity sensor's silence alone does not say it is broken."""
        s = self.settings
        first = self.device_first.get(device)
        if first is None or self.device_seen[device] - first < timedelta(days=max(s.learn_days, 7)):
            return None
        return timedelta(hours=max(s.offline_hours, 1.5 * self.device_longest_gap.get(device, 0.0)))

    def _current_threshold(self) -> _Threshold:
        """The threshold of the silence under way, worked out once per silence."""
        assert self.last_activity is not None
        if self._threshold is None or self._threshold[:2] != (self.last_activity, self.context):
            threshold = self.threshold(self.last_activity, self.context, self._lit())
            self._threshold = (self.last_activity, self.context, threshold)
        return self._threshold[2]

    def next_due(self) -> datetime | None:
        """No later than the earliest time ``tick`` could change anything: replay ticks a household only then. A
        new silence's own threshold is worked out only once it has lasted the shortest any could be (the floor).
        Called after every reading, so it keeps a running minimum rather than building a list."""
        s = self.settings
        soonest: datetime | None = None
        if self.door_at is not None and self._went_out():
            soonest = self.door_at + timedelta(minutes=s.away_after_door_minutes)
        when: datetime | None = None
        if self.away_since is not None:
            if "away" not in self.open_causes:
                when = self.away_since + timedelta(hours=self.out_limit())
        elif self.last_activity is not None and "inactivity" not in self.open_causes:
            threshold = self._threshold
            if threshold is not None and threshold[0] == self.last_activity and threshold[1] == self.context:
                when = self.last_activity + timedelta(hours=threshold[2].hours)
                if self._held_until is not None and self._held_until > when:
                    when = self._held_until
            else:
                # No threshold is shorter than this: work the silence's own out only if it lasts that long
                # (most silences do not, and working it out is what costs).
                when = self.last_activity + self._soonest
        if when is not None and (soonest is None or when < soonest):
            soonest = when
        for when in self._offline_due.values():
            if when is not None and (soonest is None or when < soonest):
                soonest = when
        for due in self._power_due():
            if soonest is None or due[0] < soonest:
                soonest = due[0]
        return soonest

    def tick(self, now: datetime) -> list[Alert]:
        alerts: list[Alert] = []
        s = self.settings
        # The way out used and nothing stirred at home since: the person went out, and silence is expected.
        if (
            self.door_at is not None
            and self._went_out()
            and now - self.door_at >= timedelta(minutes=s.away_after_door_minutes)
        ):
            self.away_since = self.door_at
        if self.away_since is not None:
            out = now - self.away_since
            if out >= timedelta(hours=self.out_limit()):
                alerts += self._raise(
                    "away",
                    "inactivity",
                    now,
                    "high",
                    f"Out since {self.door_device} was used {duration_text(out)} ago, and not back.",
                    "away_too_long",
                    {"out_minutes": _minutes(_hours(out)), "door_device": self.door_device},
                )
        elif self.last_activity is not None:
            silent = now - self.last_activity
            if (
                "inactivity" not in self.open_causes
                and silent >= self._soonest
                and silent >= timedelta(hours=(threshold := self._current_threshold()).hours)
            ):
                self._held_until, missing = self._hold(now, threshold.hours)
                if self._held_until is None:
                    alerts += self._inactivity(now, silent, threshold)
                elif missing:
                    alerts += self._missing(now, missing)
        for device, when in self._offline_due.items():
            if when is not None and now >= when:
                seen = self.device_seen[device]
                self._offline_due[device] = None
                alerts += self._raise(
                    f"offline:{device}",
                    "device_offline",
                    now,
                    "device",
                    f"No message from {device} for {duration_text(now - seen)}.",
                    "device_offline",
                    {"device": device, "silent_minutes": _minutes(_hours(now - seen))},
                    device,
                )
        alerts += self._power_anomalies(now)
        return alerts

    def _regular(self, device: str) -> bool:
        """Whether the device reports on a clock (see _REGULAR_SHARE)."""
        hours = self.device_hours.get(device)
        if hours is None:  # restored from a snapshot that did not keep it: not known yet
            return False
        first, last, heard = hours
        return last - first + 1 >= _REGULAR_WATCHED_HOURS and heard >= _REGULAR_SHARE * (last - first + 1)

    def _sees_person(self, device: str) -> bool:
        """An activity sensor that reports on a clock: its missing spells are what the hold is about."""
        return self._regular(device) and self._senses_activity(device)

    def _senses_activity(self, device: str) -> bool:
        return any(kind in ACTIVITY_KINDS for kind in self.values.get(device, ()))

    def _hold(self, now: datetime, hours: float) -> tuple[datetime | None, str]:
        """Until when the inactivity of the silence under way waits because not every sensor saw it (None: they did),
        and the activity sensor missing now, if that is why. While a sensor that reports on a clock is missing and the
        rest of the home is heard (a drop-out, a flat battery), the person may be moving where only it would see:
        the silence counts up to its last report and again from its return. A spell of ``missing_hold_hours`` or
        more is not held: the sensor was reported when it first held an alert back, and is taken as broken, so the
        other sensors are what is left to judge by. A sensor that went on reporting into the silence saw that much of
        it, so a silence it saw long enough is not held, nor is one in which every device stopped at once."""
        assert self.last_activity is not None
        limit = timedelta(hours=hours)
        most = timedelta(hours=self.settings.missing_hold_hours)
        until: datetime | None = None
        if (
            self.back_at is not None
            and self.unseen_from is not None
            and self.last_activity < self.back_at
            and self.back_at - self.unseen_from < most
        ):
            blind = self.back_at - max(self.unseen_from, self.last_activity)
            if now < self.last_activity + limit + blind:
                until = self.last_activity + limit + blind
        regular = [(seen, device) for device, seen in self.device_seen.items() if self._regular(device)]
        missing = [
            (seen, device)
            for seen, device in regular
            if seen - self.last_activity < limit
            and _MISSING_AFTER <= now - seen < most
            and self._senses_activity(device)
        ]
        if not missing:
            return until, ""
        gone, device = min(missing)
        heard = max(seen for seen, _device in regular)
        if heard - gone < _HEARD_AFTER or now - heard >= _MISSING_AFTER:
            return until, ""
        end = min(heard + _MISSING_AFTER, gone + most)
        return (end if until is None else max(until, end)), device

    def _missing(self, now: datetime, device: str) -> list[Alert]:
        """We cannot see: the sensor whose silence holds inactivity back is reported at once, not at its offline
        time, so that someone knows the home is not fully watched."""
        silent = now - self.device_seen[device]
        return self._raise(
            f"offline:{device}",
            "device_offline",
            now,
            "device",
            f"No message from {device} for {duration_text(silent)} while the home's other devices report; "
            f"inactivity there counts only what every sensor saw until it is back "
            f"(at most {duration_text(timedelta(hours=self.settings.missing_hold_hours))}).",
            "device_missing",
            {
                "device": device,
                "silent_minutes": _minutes(_hours(silent)),
                "hold_minutes": _minutes(self.settings.missing_hold_hours),
            },
            device,
        )

    def _inactivity(self, now: datetime, silent: timedelta, threshold: _Threshold) -> list[Alert]:
        assert self.last_activity is not None
        local = self._local(self.last_activity)
        when = f"{_WEEKDAYS[local.weekday()]} {_part_of_day(local.hour)}"
        params: dict[str, Any] = {
            "silent_minutes": _minutes(_hours(silent)),
            "weekday": local.weekday(),
            "part": _part_of_day(local.hour),
        }
        if threshold.usual is None:
            reason = f"No activity for {duration_text(silent)}; no usual pattern learned yet for {when}."
            code = "inactivity_cold_start"
            params["threshold_minutes"] = _minutes(threshold.hours)
        elif threshold.lit:
            usual = duration_text(timedelta(hours=threshold.usual))
            lit = self._lit()
            light = threshold.after_device if threshold.after_device in lit else min(lit, default="")
            reason = (
                f"No activity for {duration_text(silent)} since {threshold.after_device}, and a light is still on "
                f"({light}); with a light on, usually at most {usual} in the evening, and nights begin in the dark."
            )
            code = "inactivity_lit"
            params |= {
                "usual_minutes": _minutes(threshold.usual),
                "after_device": threshold.after_device,
                "light_device": light,
            }
        else:
            usual = duration_text(timedelta(hours=threshold.usual))
            in_bed = threshold.after_device.startswith("on:")
            device = threshold.after_device.removeprefix("on:")
            since = f" on {device}" if in_bed else f" since {device}" if device else ""
            reason = f"No activity for {duration_text(silent)}{since}; usually at most {usual} on {when}."
            code = "inactivity_learned"
            params |= {"usual_minutes": _minutes(threshold.usual), "after_device": device, "in_bed": in_bed}
        return self._raise("inactivity", "inactivity", now, "high", reason, code, params)

    def _power_anomalies(self, now: datetime) -> list[Alert]:
        alerts: list[Alert] = []
        params: dict[str, Any]
        for when, cause, plug, usual in self._power_due():
            if now < when:
                continue
            device = cause.split(":", 1)[1]
            if cause.startswith("power_long:"):
                assert plug.on_since is not None
                run = now - plug.on_since
                reason = (
                    f"{device} has drawn {plug.watts:,.0f} W continuously for {duration_text(run)}; "
                    f"its longest usual run is {duration_text(timedelta(hours=usual))}."
                )
                code = "power_long_run"
                params = {"watts": round(plug.watts), "run_minutes": _minutes(_hours(run))}
            else:
                assert plug.last_on is not None
                unused = now - plug.last_on
                reason = (
                    f"{device} has not been used for {duration_text(unused)}; "
                    f"usually used at least every {duration_text(timedelta(hours=usual))}."
                )
                code = "power_unused"
                params = {"unused_minutes": _minutes(_hours(unused))}
            params |= {"device": device, "usual_minutes": _minutes(usual)}
            alerts += self._raise(cause, "power_anomaly", now, "warning", reason, code, params, device)
        return alerts

    def snapshot(self) -> dict[str, Any]:
        """The whole learned and current state as JSON-ready data (settings excluded: they are the site's)."""
        return {
            "version": 1,
            "last_activity": _iso(self.last_activity),
            "context": self.context,
            "door_at": _iso(self.door_at),
            "door_device": self.door_device,
            "came_in": self.came_in,
            "away_since": _iso(self.away_since),
            "first_day": _iso(self.silences.first_day),
            "silences": [[_iso(at), hours, after] for at, hours, after in self.silences.past],
            "seen": {c: {str(h): list(v) for h, v in hours.items()} for c, hours in self.silences.seen.items()},
            "values": {d: dict(v) for d, v in self.values.items()},
            "pressed": sorted(self.pressed),
            "has_motion": self.has_motion,
            "exit_trips": dict(self.exit_trips),
            "outings": list(self.outings),
            "plugs": {
                d: {
                    "first": _iso(p.first),
                    "watts": p.watts,
                    "on_since": _iso(p.on_since),
                    "last_on": _iso(p.last_on),
                    "runs": list(p.runs),
                    "gaps": list(p.gaps),
                }
                for d, p in self.plugs.items()
            },
            "device_seen": {d: _iso(t) for d, t in self.device_seen.items()},
            "device_first": {d: _iso(t) for d, t in self.device_first.items()},
            "device_longest_gap": dict(self.device_longest_gap),
            "device_hours": {d: list(h) for d, h in self.device_hours.items()},
            "unseen": [_iso(self.unseen_from), _iso(self.back_at)],
            "detected": {d: _iso(t) for d, t in self.detected.items()},
            "rest": [_iso(self.rest_start), _iso(self.rest_end), [self.rest_context] if self.rest_context else []],
            "nights": {str(n): [b, r, u, list(c)] for n, (b, r, u, c) in self.nights.items()},
            "lamps": dict(self.lamps),
            "lit_until": _iso(self.lit_until),
            "lit_silences": [[_iso(at), hours, after] for at, hours, after in self.lit_silences],
            "dark_nights": sorted(self.dark_nights),
            "open_causes": sorted(self.open_causes),
        }

    @classmethod
    def restore(cls, household: str, settings: WatchSettings, data: dict[str, Any]) -> HouseholdWatch:
        """A watch that continues from ``snapshot()`` as if it had never stopped."""
        if data.get("version") != 1:
            raise ValueError(f"unknown detector snapshot version {data.get('version')!r}")

        def when(text: str) -> datetime:
            at = _from_iso(text)
            assert at is not None
            return at

        silences = _Silences(
            past=[(when(at), hours, after) for at, hours, after in data["silences"]],
            seen={c: {int(h): list(v) for h, v in hours.items()} for c, hours in data["seen"].items()},
            first_day=_from_iso(data["first_day"]),
        )
        watch = cls(
            household,
            settings,
            last_activity=_from_iso(data["last_activity"]),
            context=data["context"],
            door_at=_from_iso(data["door_at"]),
            door_device=data["door_device"],
            came_in=data["came_in"],
            away_since=_from_iso(data["away_since"]),
            silences=silences,
            values={d: dict(v) for d, v in data["values"].items()},
            pressed=set(data["pressed"]),
            has_motion=data["has_motion"],
            exit_trips=dict(data["exit_trips"]),
            outings=list(data["outings"]),
            plugs={
                d: _Plug(
                    first=when(p["first"]),
                    watts=p["watts"],
                    on_since=_from_iso(p["on_since"]),
                    last_on=_from_iso(p["last_on"]),
                    runs=list(p["runs"]),
                    gaps=list(p["gaps"]),
                )
                for d, p in data["plugs"].items()
            },
            device_seen={d: when(t) for d, t in data["device_seen"].items()},
            device_first={d: when(t) for d, t in data["device_first"].items()},
            device_longest_gap=dict(data["device_longest_gap"]),
            # Snapshots from before these were kept: the devices' regularity is learned afresh.
            device_hours={d: list(h) for d, h in data.get("device_hours", {}).items()},
            unseen_from=_from_iso(data.get("unseen", [None, None])[0]),
            back_at=_from_iso(data.get("unseen", [None, None])[1]),
            detected={d: when(t) for d, t in data["detected"].items()},
            rest_start=_from_iso(data["rest"][0]),
            rest_end=_from_iso(data["rest"][1]),
            rest_context=(data["rest"][2] or [""])[0],  # before, a list of what the rest was after, first first
            nights={int(n): (v[0], v[1], v[2], list(v[3])) for n, v in data.get("nights", {}).items()},
            # Snapshots from before the light was watched: it is learned afresh. From before every lamp was watched:
            # only the light where the silence began was.
            lamps=_lamps_restored(data),
            lit_until=_from_iso(data.get("lit_until")),
            lit_silences=[(when(at), hours, after) for at, hours, after in data.get("lit_silences", [])],
            dark_nights=set(data.get("dark_nights", [])),
            open_causes=set(data["open_causes"]),
        )
        watch.device_limit = {d: watch.offline_after(d) for d in watch.device_seen}
        watch._offline_due = {
            d: watch.device_seen[d] + limit
            for d, limit in watch.device_limit.items()
            if limit is not None and f"offline:{d}" not in watch.open_causes
        }
        return watch


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
        return start - ((start - moment) // step) * step  # rounded up to the next step

    def schedule(watch: HouseholdWatch) -> None:
        # A household stays scheduled at the earliest time anything may be due: when that moves later (as each
        # reading moves the silence's end), the earlier tick is kept, finds nothing, and schedules the next; far
        # fewer entries than one per reading, and a tick at any time is harmless.
        nonlocal order
        when = watch.next_due()
        if when is None:
            return
        current = scheduled.get(watch.household)
        if current is not None and when >= current:
            return
        when = on_the_clock(when)
        if current is None or when < current:
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
            real = watch.next_due()
            if real is None or real <= when:  # else it moved on since it was scheduled: only schedule again
                yield from watch.tick(when)
            schedule(watch)

    for event in events:
        if start is None:
            start = event.at
        elif last is not None and event.at < last:
            raise ValueError(f"events must be in time order: {event.at.isoformat()} after {last.isoformat()}")
        last = event.at
        if due and due[0][0] <= event.at:  # ticks are on the clock: one at the reading's time comes first
            yield from run_due(event.at, inclusive=True)
        watch = watches.get(event.household)
        if watch is None:
            chosen = settings.get(event.household) or settings.get("*") or WatchSettings()  # "*": the log's default
            watch = watches[event.household] = HouseholdWatch(event.household, chosen)
        yield from watch.observe(event)
        schedule(watch)
    if start is not None and until is not None:
        yield from run_due(until, inclusive=True)

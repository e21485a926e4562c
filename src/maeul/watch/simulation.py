"""Simulated households: the daily routines of older people living alone, and what their sensors would report.

One model gives two outputs. ``Household.emissions()`` yields, in time order and one day at a time (so a live demo
can run for ever), what each device reports; an ``Emission`` renders as the MQTT message the real device publishes
(``message()``: Zigbee2MQTT, Tasmota or Maeul's generic JSON, readable by ``maeul.sensing.adapters.parse``) and as
detector events (``events()``: also the rows of the CSV log ``maeul replay`` reads).

What is modelled, per household profile: sleep (regular or broken, naps, sleeping in at weekends), meals (kitchen
motion, the fridge door, the kettle and rice cooker plugs), toilet visits (bathroom motion or a flush sensor), TV
(plug power, the seat mat), outings (the front door, then silence until the door again), days away visiting family
(whole days out), visitors, weekday and weekend habits, the seasons (indoor temperature, the heater plug in winter),
light (daylight from the sun's course at Korea's latitude, lamps switched on in a dim room and off on leaving it or
going to bed, now and then one left on all night; the motion sensors measure it), and devices: hourly periodic
reports (battery sensors) or energy reports (plugs), batteries running down, Zigbee drop-outs of a few hours, a device
dying, and homes with only an activity sensor and a door sensor (the national emergency-safety kit). Incidents can
be injected: a collapse (every sign of the person stops, the lamps stay as they were; the devices keep reporting), an
SOS press, a fire (smoke, then heat), a device failure and an appliance left on.

Deterministic for a seed: each household and day draws from its own random stream.
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import json
import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from maeul.sensing.adapters import Kind
from maeul.watch import sun
from maeul.watch.detectors import Event

Protocol = Literal["zigbee2mqtt", "tasmota", "generic"]
INCIDENT_KINDS = ("collapse", "sos", "fire", "device_failure", "appliance_left_on")
# The replay log's name for each kind it carries (see maeul.watch.replay); "pressure" there is a bed or seat mat.
CSV_KINDS = {
    Kind.MOTION: "motion",
    Kind.CONTACT: "contact",
    Kind.PRESENCE: "pressure",
    Kind.POWER: "power",
    Kind.TEMPERATURE: "temperature",
    Kind.FLUSH: "flush",
    Kind.SOS: "sos",
    Kind.SMOKE: "smoke",
    Kind.BATTERY: "battery",
    Kind.ILLUMINANCE: "illuminance",
}
_CSV_WORDS = {Kind.CONTACT: ("closed", "open"), Kind.PRESENCE: ("off", "on")}
_STANDBY_WATTS = 0.4
_PLUGS = ("kettle", "rice", "tv", "heater")
_LEFT_ON_WATTS = 1850.0
_HEARTBEAT = timedelta(minutes=60)  # Aqara sensors' periodic report, and the plugs' reporting interval set to match
_OCCUPANCY_TIMEOUT = timedelta(seconds=90)  # Zigbee2MQTT's: the bridge clears a detection, not the person
_DIM_LUX = 60.0  # daylight in a room below this: whoever comes in switches its lamp on
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def daylight_lux(at: datetime, window: float) -> float:
    """Daylight indoors by a sensor: from the sun's elevation over Korea (the season, the hour), fading to nothing
    through civil twilight; ``window`` scales it for how the room lets light in."""
    height = sun.elevation(at)
    if height > 0:
        return window * (30 + 250 * math.sin(math.radians(height)))
    return window * 30 * (height - sun.CIVIL_DUSK) / -sun.CIVIL_DUSK if height > sun.CIVIL_DUSK else 0.0


@dataclass(frozen=True)
class SimulatedDevice:
    """A device as the lead provisions it (a ``sensing.Device`` row): ``identity`` is its name on the wire."""

    household: str
    identity: str  # Zigbee2MQTT friendly name (may contain "/"), Tasmota topic, or generic device id
    protocol: Protocol
    vendor: str
    model: str
    room: str  # bedroom, living, kitchen, bathroom, entrance, other
    kinds: list[str]  # reading kinds it reports (maeul.sensing.adapters.Kind values)
    label: str  # what it watches: front door, fridge door, kettle...
    role: str  # which part of the routine drives it (motion, door, fridge, bed, seat, flush, kettle, rice, tv...)


# role -> (protocol, vendor, model, kinds)
_MODELS: dict[str, tuple[Protocol, str, str, list[str]]] = {
    "motion": ("zigbee2mqtt", "Aqara", "RTCGQ11LM", ["motion", "illuminance", "battery", "battery_voltage"]),
    "door": ("zigbee2mqtt", "Aqara", "MCCGQ11LM", ["contact", "battery", "battery_voltage"]),
    "fridge": ("zigbee2mqtt", "Aqara", "MCCGQ11LM", ["contact", "battery", "battery_voltage"]),
    "climate": (
        "zigbee2mqtt",
        "Aqara",
        "WSDCGQ11LM",
        ["temperature", "humidity", "pressure", "battery", "battery_voltage"],
    ),
    "kettle": ("zigbee2mqtt", "TuYa", "TS011F_plug_1", ["switch", "power", "current", "voltage", "energy"]),
    "rice": ("zigbee2mqtt", "TuYa", "TS011F_plug_1", ["switch", "power", "current", "voltage", "energy"]),
    "tv": ("tasmota", "Sonoff", "S31 (Tasmota)", ["switch", "power", "current", "voltage", "energy"]),
    "heater": ("tasmota", "Athom", "PG01 (Tasmota)", ["switch", "power", "current", "voltage", "energy"]),
    "sos": ("zigbee2mqtt", "TuYa", "TS0215A_sos", ["sos", "battery", "battery_voltage"]),
    "smoke": ("zigbee2mqtt", "Heiman", "HS1SA", ["smoke", "battery_low", "battery"]),
    "bed": ("generic", "Maeul gateway", "pressure mat", ["presence"]),
    "seat": ("generic", "Maeul gateway", "pressure mat", ["presence"]),
    "flush": ("generic", "Maeul gateway", "flush sensor", ["flush"]),
}
# (role, room, label, slug)
_FULL = [
    ("door", "entrance", "front door", "front-door"),
    ("fridge", "kitchen", "fridge door", "fridge"),
    ("motion", "living", "living room motion", "living-motion"),
    ("motion", "kitchen", "kitchen motion", "kitchen-motion"),
    ("motion", "bedroom", "bedroom motion", "bedroom-motion"),
    ("motion", "bathroom", "bathroom motion", "bathroom-motion"),
    ("climate", "living", "living room climate", "climate"),
    ("kettle", "kitchen", "kettle", "kettle-plug"),
    ("rice", "kitchen", "rice cooker", "rice-plug"),
    ("tv", "living", "TV", "tv"),
    ("heater", "bedroom", "electric heater", "heater"),
    ("sos", "bedroom", "SOS button", "sos-button"),
    ("smoke", "kitchen", "smoke detector", "smoke"),
]
_MATS = [d for d in _FULL if d[3] not in ("bedroom-motion", "bathroom-motion")] + [
    ("bed", "bedroom", "bed mat", "bed-mat"),
    ("seat", "living", "sofa mat", "seat-mat"),
    ("flush", "bathroom", "toilet flush", "flush"),
]
_SPARSE = [
    ("motion", "living", "activity sensor", "living-motion"),
    ("door", "entrance", "front door", "front-door"),
    ("sos", "bedroom", "SOS button", "sos-button"),
    ("smoke", "kitchen", "fire detector", "smoke"),
]
_BASIC = [d for d in _FULL if d[3] in ("front-door", "living-motion", "kitchen-motion", "climate", "tv", "sos-button")]
SENSOR_SETS = {"full": _FULL, "mats": _MATS, "basic": _BASIC, "sparse": _SPARSE}


@dataclass(frozen=True)
class Profile:
    """A way of living. Hours are local; bedtimes past midnight are written as 24 + h."""

    name: str
    sensors: str  # a key of SENSOR_SETS
    wake: float
    bedtime: float
    sleep_jitter: float  # standard deviation of wake and bed times, hours
    weekend_lie_in: float  # hours later at weekends
    night_toilet: float  # mean visits a night
    broken_nights: float  # chance of a wakeful hour at night (TV, the kitchen)
    nap: float  # chance of an afternoon nap
    outing: float  # chance of going out on a weekday (weekends: half)
    outing_hours: tuple[float, float]
    trips_per_month: float  # nights away visiting family
    visitors: float  # chance of a visit a day
    tv_hours: float  # mean length of a TV session
    restlessness: float  # mean minutes between stray movements at home (larger: sits still longer)


PROFILES = {
    p.name: p
    for p in (
        Profile("regular", "full", 6.5, 22.0, 0.4, 0.5, 0.8, 0.05, 0.3, 0.6, (1.0, 3.0), 0.5, 0.1, 1.5, 12),
        Profile("irregular", "full", 7.5, 24.5, 1.3, 1.0, 1.5, 0.35, 0.5, 0.4, (1.0, 4.0), 0.3, 0.1, 2.5, 15),
        Profile("homebody", "mats", 7.0, 21.5, 0.6, 0.5, 1.2, 0.1, 0.7, 0.15, (0.5, 1.5), 0.2, 0.25, 3.0, 22),
        Profile("active", "basic", 6.0, 22.5, 0.5, 0.0, 0.6, 0.05, 0.1, 0.9, (3.0, 7.0), 1.5, 0.05, 1.0, 10),
        Profile("sparse", "sparse", 6.5, 21.5, 0.8, 0.5, 1.0, 0.15, 0.5, 0.5, (1.0, 4.0), 0.5, 0.1, 2.5, 18),
    )
}


@dataclass(frozen=True)
class Incident:
    household: str
    kind: str  # one of INCIDENT_KINDS
    at: datetime

    @classmethod
    def parse(cls, text: str) -> Incident:
        """``household:kind:ISO time``, e.g. ``h0003:collapse:2026-11-25T14:30+09:00``."""
        parts = text.split(":", 2)
        if len(parts) != 3 or parts[1] not in INCIDENT_KINDS:
            raise ValueError(f"{text!r}: expected household:kind:time with kind one of {', '.join(INCIDENT_KINDS)}")
        at = datetime.fromisoformat(parts[2])
        if at.tzinfo is None:
            raise ValueError(f"{text!r}: the time needs an offset, e.g. +09:00")
        return cls(parts[0], parts[1], at)


@dataclass(frozen=True)
class Emission:
    """One report of one device: its readings, and whether it shows the person (``activity``) or only the device
    (a periodic report, a temperature)."""

    at: datetime
    device: SimulatedDevice
    readings: tuple[tuple[Kind, float], ...]
    activity: bool = False
    battery: float | None = None
    energy: float = 0.0  # kWh so far, for plugs
    online: bool | None = None  # an availability message instead of readings

    def events(self, battery_too: bool = True) -> list[Event]:
        """The detector events of the readings the replay log can carry (battery optionally)."""
        out = [
            Event(self.at, self.device.household, self.device.identity, kind, value)
            for kind, value in self.readings
            if kind in CSV_KINDS
        ]
        if battery_too and self.battery is not None and self.online is None:
            out.append(Event(self.at, self.device.household, self.device.identity, Kind.BATTERY, self.battery))
        return out

    def message(self) -> tuple[str, bytes]:
        """The MQTT topic and payload the real device publishes for this report."""
        device, values = self.device, dict(self.readings)
        if device.protocol == "tasmota":
            if self.online is not None:
                return f"tele/{device.identity}/LWT", b"Online" if self.online else b"Offline"
            watts = values.get(Kind.POWER, _STANDBY_WATTS)
            body = {
                "Time": self.at.replace(tzinfo=None).isoformat(timespec="seconds"),
                "ENERGY": {
                    "TotalStartTime": "2026-01-01T00:00:00",
                    "Total": round(self.energy, 3),
                    "Power": round(watts),
                    "Voltage": 220,
                    "Current": round(watts / 220, 3),
                },
            }
            return f"tele/{device.identity}/SENSOR", json.dumps(body).encode()
        if device.protocol == "generic":
            if self.online is not None:
                raise ValueError("generic devices have no availability topic")
            items = [
                {"kind": kind.value, "value": value, "at": self.at.isoformat(timespec="seconds")}
                for kind, value in self.readings
            ]
            return f"maeul/{device.identity}", json.dumps(items[0] if len(items) == 1 else items).encode()
        if self.online is not None:
            return f"zigbee2mqtt/{device.identity}/availability", json.dumps(
                {"state": "online" if self.online else "offline"}
            ).encode()
        return f"zigbee2mqtt/{device.identity}", json.dumps(self._zigbee2mqtt(values)).encode()

    def _zigbee2mqtt(self, values: dict[Kind, float]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        role = self.device.role
        if role == "motion":
            body["occupancy"] = values.get(Kind.MOTION, 0) >= 1
            lux = round(values.get(Kind.ILLUMINANCE, 0))
            body["illuminance"], body["illuminance_lux"] = lux, lux  # Zigbee2MQTT 1.x sends both
        elif role in ("door", "fridge"):
            body["contact"] = values.get(Kind.CONTACT, 0) < 1  # Zigbee2MQTT: true means closed
        elif role == "climate":
            body["temperature"] = values[Kind.TEMPERATURE]
            body["humidity"] = values.get(Kind.HUMIDITY, 50.0)
            body["pressure"] = 1013.0
        elif role in ("kettle", "rice"):
            watts = values.get(Kind.POWER, _STANDBY_WATTS)
            body |= {
                "state": "ON",
                "power": round(watts, 1),
                "current": round(watts / 220, 3),
                "voltage": 220,
                "energy": round(self.energy, 3),
            }
        elif role == "sos" and values.get(Kind.SOS, 0) >= 1:
            body["action"] = "emergency"
        elif role == "smoke":
            body["smoke"] = values.get(Kind.SMOKE, 0) >= 1
            body["battery_low"] = self.battery is not None and self.battery < 10
        if self.battery is not None:
            body["battery"] = round(self.battery)
            if role != "smoke":
                body["voltage"] = round(2700 + 4.5 * self.battery)  # mV of the coin cell
        body["linkquality"] = 96
        return body


def _normal(rng: random.Random, mean: float, sd: float, low: float, high: float) -> float:
    return min(high, max(low, rng.gauss(mean, sd)))


@dataclass
class _Plan:
    """What a day holds for the person, before it is turned into reports."""

    actions: list[tuple[datetime, str, Any]] = field(default_factory=list)  # (time, what, detail)
    states: list[tuple[datetime, str]] = field(default_factory=list)  # (from, awake/asleep/out): the ground truth

    def add(self, at: datetime, what: str, detail: Any = None) -> None:
        self.actions.append((at, what, detail))

    def state(self, at: datetime, state: str) -> None:
        self.states.append((at, state))


class Household:
    """A simulated household: its devices, its profile, and a generator of its devices' reports."""

    def __init__(
        self,
        name: str,
        profile: Profile,
        start: datetime,
        seed: int,
        incidents: Iterable[Incident] = (),
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("start needs a time zone")
        self.name, self.profile, self.start, self.seed = name, profile, start, seed
        self.incidents = sorted((i for i in incidents if i.household == name), key=lambda i: i.at)
        rng = self._rng("household")
        self.devices = [
            SimulatedDevice(
                name, self._identity(role, slug), *_MODELS[role][:3], room, list(_MODELS[role][3]), label, role
            )
            for role, room, label, slug in SENSOR_SETS[profile.sensors]
        ]
        self.temperature_offset = rng.uniform(-2.0, 1.0)
        self.flaky = rng.random() < 0.2  # some homes' Zigbee mesh drops devices for hours
        batteried = [d for d in self.devices if d.protocol == "zigbee2mqtt" and d.role not in ("kettle", "rice")]
        self.battery_start = {d.identity: rng.uniform(55, 100) for d in batteried}
        self.battery_drain = {d.identity: rng.uniform(0.02, 0.12) for d in batteried}  # % a day
        self.dying: str | None = None
        if batteried and rng.random() < 0.1:  # a cell failing: down to nothing within weeks, then silence
            self.dying = rng.choice(batteried).identity
            self.battery_start[self.dying] = rng.uniform(25, 45)
            self.battery_drain[self.dying] = rng.uniform(1.5, 3.0)
        self._energy_start = {d.identity: rng.uniform(1, 40) for d in self.devices if d.role in _PLUGS}
        # Light (a stream of its own, so that adding it changed no routine): how much daylight the rooms get, how
        # bright a lamp is by a sensor, what glows at night (a street lamp, a standby LED), and how often a lamp is
        # left on for the night: never in most homes, now and then in a quarter, nearly always in a few.
        lights = self._rng("lights")
        self.window = lights.uniform(0.4, 1.2)
        self.lamp_lux = lights.uniform(40, 200)
        self.night_glow = lights.uniform(0, 4)
        habit = lights.random()
        self.light_left_on = 0.9 if habit < 0.05 else lights.uniform(0.03, 0.2) if habit < 0.3 else 0.0
        # Running state of one pass of emissions(), reset at its start so every pass is the same.
        self._energy: dict[str, float] = {}
        self._last_motion: dict[str, datetime] = {}
        self._frozen_lamps: dict[str, list[tuple[datetime, datetime]]] = {}  # left on by a collapse
        self._lamp_left_on: str = ""  # the room whose lamp was left on last night, on until the person comes in

    def _identity(self, role: str, slug: str) -> str:
        protocol = _MODELS[role][0]
        return f"{self.name}_{slug}" if protocol == "tasmota" else f"{self.name}/{slug}"

    def _rng(self, *what: object) -> random.Random:
        return random.Random(":".join(str(w) for w in (self.seed, self.name, *what)))

    def device(self, role: str, room: str | None = None) -> SimulatedDevice | None:
        for d in self.devices:
            if d.role == role and (room is None or d.room == room):
                return d
        return None

    # --- the person's day ----------------------------------------------------------------------------------

    def _day_start(self, day: int) -> date:
        return (self.start + timedelta(days=day)).date()

    def _at(self, day: int, hours: float) -> datetime:
        midnight = datetime.combine(self._day_start(day), time(), self.start.tzinfo)
        return midnight + timedelta(hours=hours)

    def wake_time(self, day: int) -> datetime:
        p, rng = self.profile, self._rng(day, "wake")
        weekend = self._day_start(day).weekday() >= 5
        return self._at(day, _normal(rng, p.wake + (p.weekend_lie_in if weekend else 0), p.sleep_jitter, 4, 11))

    def _trip(self, day: int) -> int:
        """Nights away from a trip starting this day: Fridays, or Saturdays after a Friday at home."""
        weekday = self._day_start(day).weekday()
        rng = self._rng(day, "trip")
        chance = self.profile.trips_per_month / 30 * 3.5  # a month's trips fall on its eight Fridays and Saturdays
        if weekday not in (4, 5) or rng.random() >= chance or (weekday == 5 and self._trip(day - 1)):
            return 0
        return rng.choice((1, 2)) if weekday == 4 else 1

    def _away(self, day: int) -> tuple[bool, bool]:
        """(leaves this day, returns this day) for trips; a day in the middle of a trip is both false but empty."""
        leaving = self._trip(day) > 0
        returning = any(self._trip(day - back) == back for back in (1, 2))
        return leaving, returning

    def _whole_day_away(self, day: int) -> bool:
        return self._trip(day - 1) == 2

    def _plan_day(self, day: int, until: datetime) -> _Plan:
        """The person's actions from waking on ``day`` to waking the next day (``until``)."""
        p, rng, plan = self.profile, self._rng(day, "day"), _Plan()
        wake = self.wake_time(day)
        weekday = self._day_start(day).weekday()
        winter = self._day_start(day).month in (11, 12, 1, 2, 3)
        leaving, returning = self._away(day)
        if self._whole_day_away(day):
            return plan
        bedtime = self._at(day, _normal(rng, p.bedtime, p.sleep_jitter, 19.5, 27.5))
        bedtime = min(bedtime, until - timedelta(hours=4))
        home_from = wake
        if returning:
            home_from = self._at(day, rng.uniform(14, 18))
            plan.add(home_from, "arrive")
            plan.state(home_from, "awake")
        else:
            plan.add(wake, "get_up")
            plan.state(wake, "awake")
            self._morning(plan, rng, wake, winter)
            home_from = wake + timedelta(minutes=45)
        home_until = bedtime
        if leaving:
            home_until = self._at(day, rng.uniform(9.5, 13))
            plan.add(home_until, "leave")
            plan.state(home_until, "out")
        blocks = self._blocks(rng, home_from, home_until, weekday, winter)
        cursor = home_from
        for start, end, what in blocks:
            self._putter(plan, rng, cursor, start)
            getattr(self, f"_{what}")(plan, rng, start, end)
            cursor = end
        self._putter(plan, rng, cursor, home_until)
        if not leaving:
            # Pottering about ends on going to the bedroom (two minutes before lying down): no step elsewhere after.
            off_to_bed = bedtime - timedelta(minutes=3)
            plan.actions = [a for a in plan.actions if not (a[1] in ("move", "fridge") and a[0] > off_to_bed)]
            plan.add(bedtime, "to_bed")
            self._night(plan, rng, bedtime, until)
        return plan

    def _blocks(
        self, rng: random.Random, start: datetime, end: datetime, weekday: int, winter: bool
    ) -> list[tuple[datetime, datetime, str]]:
        """The day's episodes (meals, TV, a nap, an outing, a visit) without overlaps."""
        p = self.profile
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        wanted: list[tuple[datetime, datetime, str]] = []

        def at(hour: float) -> datetime:
            return day + timedelta(hours=hour)

        for meal in (12.0, 18.0):
            begin = at(_normal(rng, meal, 0.6, meal - 1.5, meal + 1.5))
            wanted.append((begin, begin + timedelta(minutes=rng.uniform(25, 50)), "meal"))
        if rng.random() < (p.outing if weekday < 5 else p.outing / 2):
            begin = at(rng.uniform(9.5, 15.5))
            wanted.append((begin, begin + timedelta(hours=rng.uniform(*p.outing_hours)), "outing"))
        if rng.random() < p.nap:
            begin = at(rng.uniform(13, 15.5))
            wanted.append((begin, begin + timedelta(minutes=rng.uniform(25, 100)), "nap"))
        if rng.random() < p.visitors:
            begin = at(rng.uniform(10, 17))
            wanted.append((begin, begin + timedelta(minutes=rng.uniform(40, 150)), "visit"))
        for tv in (15.5, 19.5):
            if rng.random() < 0.8:
                begin = at(_normal(rng, tv, 0.8, tv - 2, tv + 2))
                hours = min(rng.expovariate(1 / p.tv_hours) + 0.3, 4.5)
                wanted.append((begin, begin + timedelta(hours=hours), "tv"))
        if winter and self.device("heater") is not None:
            for warm in (7.5, 20.0):
                begin = at(_normal(rng, warm, 0.5, warm - 1, warm + 1))
                wanted.append((begin, begin + timedelta(minutes=rng.uniform(30, 80)), "heat"))
        wanted.sort()
        blocks: list[tuple[datetime, datetime, str]] = []
        for begin, finish, what in wanted:
            if begin < start or finish > end or (blocks and begin < blocks[-1][1] + timedelta(minutes=5)):
                continue
            blocks.append((begin, finish, what))
        return blocks

    def _putter(self, plan: _Plan, rng: random.Random, start: datetime, end: datetime) -> None:
        """About the home: stray movements, the toilet every few hours, the fridge now and then."""
        t = start + timedelta(minutes=rng.uniform(1, 10))
        next_toilet = start + timedelta(hours=rng.uniform(1.5, 3.5))
        while t < end:
            if t >= next_toilet and t + timedelta(minutes=10) < end:  # back from the toilet before what comes next
                self._toilet(plan, rng, t)
                next_toilet = t + timedelta(hours=rng.uniform(1.5, 3.5))
            else:
                room = rng.choices(("living", "kitchen", "bedroom", "entrance"), (6, 3, 2, 0.5))[0]
                plan.add(t, "move", room)
                if room == "kitchen" and rng.random() < 0.25:
                    plan.add(t + timedelta(seconds=40), "fridge")
            t += timedelta(minutes=min(rng.expovariate(1 / self.profile.restlessness) + 1, 75))

    def _toilet(self, plan: _Plan, rng: random.Random, t: datetime) -> None:
        plan.add(t, "move", "bathroom")
        plan.add(t + timedelta(minutes=rng.uniform(2, 6)), "flush")
        plan.add(t + timedelta(minutes=rng.uniform(6, 8)), "move", "bathroom")

    def _morning(self, plan: _Plan, rng: random.Random, wake: datetime, winter: bool) -> None:
        plan.add(wake + timedelta(minutes=1), "move", "bedroom")
        self._toilet(plan, rng, wake + timedelta(minutes=4))
        kitchen = wake + timedelta(minutes=rng.uniform(14, 25))
        plan.add(kitchen, "move", "kitchen")
        plan.add(kitchen + timedelta(minutes=1), "fridge")
        plan.add(kitchen + timedelta(minutes=2), "plug", ("kettle", timedelta(minutes=rng.uniform(3, 5)), 1800.0))
        if rng.random() < 0.6:
            plan.add(kitchen + timedelta(minutes=3), "plug", ("rice", timedelta(minutes=35), 600.0))
        for minutes in range(6, 40, 6):
            plan.add(kitchen + timedelta(minutes=minutes + rng.uniform(0, 4)), "move", "kitchen")

    def _meal(self, plan: _Plan, rng: random.Random, start: datetime, end: datetime) -> None:
        plan.add(start, "move", "kitchen")
        plan.add(start + timedelta(minutes=1), "fridge")
        if rng.random() < 0.5:
            plan.add(start + timedelta(minutes=2), "plug", ("rice", timedelta(minutes=35), 600.0))
        if rng.random() < 0.4:
            plan.add(start + timedelta(minutes=3), "plug", ("kettle", timedelta(minutes=rng.uniform(3, 5)), 1800.0))
        t = start + timedelta(minutes=4)
        while t < end:
            plan.add(t, "move", "kitchen" if rng.random() < 0.8 else "living")
            t += timedelta(minutes=rng.uniform(3, 9))
        plan.add(end - timedelta(minutes=2), "fridge")

    def _tv(self, plan: _Plan, rng: random.Random, start: datetime, end: datetime) -> None:
        plan.add(start, "move", "living")
        plan.add(start + timedelta(seconds=30), "sit", True)
        plan.add(start + timedelta(minutes=1), "plug", ("tv", end - start, rng.uniform(70, 120)))
        t = start + timedelta(minutes=rng.uniform(10, 30))
        while t < end - timedelta(minutes=2):  # shifting in the chair, reaching for the remote
            plan.add(t, "move", "living")
            t += timedelta(minutes=min(rng.expovariate(1 / 25) + 3, 70))
        plan.add(end - timedelta(seconds=30), "sit", False)
        plan.add(end, "move", "living")

    def _nap(self, plan: _Plan, rng: random.Random, start: datetime, end: datetime) -> None:
        in_bed = rng.random() < 0.5
        plan.add(start, "move", "bedroom" if in_bed else "living")
        plan.add(start + timedelta(minutes=1), "lie" if in_bed else "sit", True)
        plan.state(start + timedelta(minutes=1), "asleep")
        plan.add(end, "lie" if in_bed else "sit", False)
        plan.state(end, "awake")
        plan.add(end + timedelta(minutes=1), "move", "bedroom" if in_bed else "living")

    def _outing(self, plan: _Plan, rng: random.Random, start: datetime, end: datetime) -> None:
        plan.add(start, "leave")
        plan.state(start, "out")
        plan.add(end, "arrive")
        plan.state(end, "awake")

    def _visit(self, plan: _Plan, rng: random.Random, start: datetime, end: datetime) -> None:
        plan.add(start, "door")
        t = start + timedelta(minutes=1)
        while t < end:  # two people about: the living room and the kitchen busy
            plan.add(t, "move", rng.choice(("living", "living", "kitchen")))
            t += timedelta(minutes=rng.uniform(2, 8))
        plan.add(t, "door")

    def _heat(self, plan: _Plan, rng: random.Random, start: datetime, end: datetime) -> None:
        plan.add(start, "move", "bedroom")
        plan.add(start + timedelta(seconds=20), "plug", ("heater", end - start, rng.uniform(1500, 1900)))
        self._putter(plan, rng, start + timedelta(minutes=2), end)

    def _night(self, plan: _Plan, rng: random.Random, bedtime: datetime, until: datetime) -> None:
        p = self.profile
        plan.add(bedtime - timedelta(minutes=2), "move", "bedroom")
        plan.add(bedtime, "lie", True)
        plan.state(bedtime, "asleep")
        night = (until - bedtime).total_seconds() / 3600
        for _ in range(self._poisson(rng, p.night_toilet)):
            t = bedtime + timedelta(hours=rng.uniform(1.5, night - 1))
            plan.add(t, "lie", False)
            plan.add(t + timedelta(minutes=1), "move", "bedroom")
            self._toilet(plan, rng, t + timedelta(minutes=2))
            plan.add(t + timedelta(minutes=11), "move", "bedroom")
            plan.add(t + timedelta(minutes=12), "lie", True)
        if rng.random() < p.broken_nights and night > 5:
            t = bedtime + timedelta(hours=rng.uniform(2, night - 2.5))
            plan.add(t, "lie", False)
            self._tv(plan, rng, t + timedelta(minutes=2), t + timedelta(minutes=rng.uniform(30, 80)))
            plan.add(t + timedelta(minutes=90), "move", "bedroom")
            plan.add(t + timedelta(minutes=91), "lie", True)
        plan.add(until - timedelta(seconds=30), "lie", False)

    @staticmethod
    def _poisson(rng: random.Random, mean: float) -> int:
        limit, k, product = math.exp(-mean), 0, rng.random()
        while product > limit:
            k += 1
            product *= rng.random()
        return k

    # --- from actions to device reports ----------------------------------------------------------------------

    def timeline(self, days: int) -> list[tuple[datetime, str]]:
        """What the person was doing, as (from, state) with state awake, asleep or out: the ground truth that
        benchmarks inject incidents into (a wakeful hour at night and toilet visits count as asleep)."""
        states: list[tuple[datetime, str]] = []
        for day in range(days):
            plan = self._plan_day(day, self.wake_time(day + 1))
            if self._whole_day_away(day):
                plan.state(self.wake_time(day), "out")
            states += sorted(plan.states)
        return states

    def emissions(self, days: int | None = None) -> Iterator[Emission]:
        """Every device report in time order, a day (waking to waking) at a time; ``days=None`` runs for ever."""
        day = 0
        window_start = self.start
        self._energy, self._last_motion, self._frozen_lamps, self._lamp_left_on = dict(self._energy_start), {}, {}, ""
        yield from (Emission(self.start, d, (), online=True) for d in self.devices if d.protocol != "generic")
        while days is None or day < days:
            window_end = self.wake_time(day + 1)
            if day == 0:
                window_end = max(window_end, self.start + timedelta(hours=1))
            yield from self._window(day, window_start, window_end)
            window_start = window_end
            day += 1

    def _window(self, day: int, start: datetime, end: datetime) -> list[Emission]:
        collapse = next((i.at for i in self.incidents if i.kind == "collapse"), None)
        actions = [] if collapse is not None and collapse < start else self._plan_day(day, end).actions
        lamps = self._frozen_lamps or self._lamps(day, actions, start, end, collapse)
        out: list[Emission] = []
        plug_runs: dict[str, list[tuple[datetime, datetime, float]]] = {}
        for at, what, detail in sorted(actions, key=lambda a: a[0]):
            if not start <= at < end or (collapse is not None and at >= collapse):
                continue
            out += self._act(at, what, detail, plug_runs, end)
        for plug, begin, finish in self._left_on():
            if finish > start and begin < end:
                plug_runs.setdefault(plug.identity, []).append((max(begin, start), min(finish, end), _LEFT_ON_WATTS))
        detections: dict[str, list[datetime]] = {}
        for emission in out:
            if emission.device.role == "motion" and (Kind.MOTION, 1.0) in emission.readings:
                detections.setdefault(emission.device.identity, []).append(emission.at)
        out += self._periodic(day, start, end, plug_runs, detections)
        out += self._incidents(start, end)
        out = [self._lit(e, lamps, detections) if e.device.role == "motion" and e.readings else e for e in out]
        return self._lose(day, sorted(out, key=lambda e: e.at), start, end)

    def _lamps(
        self,
        day: int,
        actions: list[tuple[datetime, str, Any]],
        start: datetime,
        end: datetime,
        collapse: datetime | None,
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """When each room's lamp is on, from the day's actions: switched on on coming into a dim room, off on leaving
        it, all off on going out. The living room's stays on through the evening (the person is back in a minute)
        until bed; reading in bed keeps the bedroom's on a while. Some nights a lamp is left on until morning
        (forgotten in the living room, or asleep over a book). A collapse leaves on whatever was on, for good."""
        rng = self._rng(day, "lights")
        left_on = rng.choice(("living", "bedroom")) if rng.random() < self.light_left_on else ""
        on: dict[str, datetime] = {self._lamp_left_on: start} if self._lamp_left_on else {}
        lamps: dict[str, list[tuple[datetime, datetime]]] = {}
        room: str | None = None
        evening = bedtime_passed = read = False

        def off(which: str, at: datetime) -> None:
            since = on.pop(which, None)
            if since is not None and at > since:
                lamps.setdefault(which, []).append((since, at))

        for at, what, detail in sorted(actions, key=lambda a: a[0]):
            if not start <= at < end:
                continue
            if collapse is not None and at >= collapse:
                break
            dim = daylight_lux(at, self.window) < _DIM_LUX
            evening = evening or (dim and at.hour >= 12)
            if what == "leave":
                for which in list(on):
                    off(which, at)
                room = None
            elif what == "to_bed":
                bedtime_passed = True
                if left_on != "living":
                    off("living", at - timedelta(minutes=2))
            elif what == "lie" and detail and room == "bedroom" and left_on != "bedroom":
                reading = rng.uniform(0, 25) if bedtime_passed and not read else 1
                read = read or bedtime_passed
                off("bedroom", at + timedelta(minutes=reading))
            elif what in ("move", "get_up", "arrive"):
                entered = "living" if what == "arrive" else detail or "bedroom"
                # Leaving a room puts its lamp out, but the living room's in the evening before bed (left on).
                if (
                    room is not None
                    and room not in (entered, left_on)
                    and (room != "living" or not evening or bedtime_passed)
                ):
                    off(room, at)
                room = entered
                if dim and entered not in on:
                    on[entered] = at
                elif not dim and entered == self._lamp_left_on:  # last night's, put out in the daylight
                    off(entered, at)
        if collapse is not None and start <= collapse < end:
            self._frozen_lamps = {which: [(since, _FAR_FUTURE)] for which, since in on.items()}
            for which, runs in lamps.items():
                self._frozen_lamps.setdefault(which, []).extend(runs)
            return self._frozen_lamps
        self._lamp_left_on = left_on if left_on in on else ""
        for which in list(on):
            off(which, end)
        return lamps

    def _lit(
        self,
        emission: Emission,
        lamps: dict[str, list[tuple[datetime, datetime]]],
        detections: dict[str, list[datetime]],
    ) -> Emission:
        """A motion sensor's report with the light it measured: daylight, the night's glow and the room's lamp. The
        bridge's clearing of a detection repeats what was measured at the detection."""
        at = emission.at
        detected = detections.get(emission.device.identity, [])
        index = bisect.bisect_right(detected, at) - 1
        if (Kind.MOTION, 0.0) in emission.readings and index >= 0 and at - detected[index] <= _OCCUPANCY_TIMEOUT:
            at = detected[index]
        lit = any(a <= at < b for a, b in lamps.get(emission.device.room, ()))
        lux = daylight_lux(at, self.window) + self.night_glow + (self.lamp_lux if lit else 0.0)
        return dataclasses.replace(emission, readings=(*emission.readings, (Kind.ILLUMINANCE, float(round(lux)))))

    def _act(
        self,
        at: datetime,
        what: str,
        detail: Any,
        plug_runs: dict[str, list[tuple[datetime, datetime, float]]],
        end: datetime,
    ) -> list[Emission]:
        out: list[Emission] = []
        if what in ("move", "get_up"):
            room = detail or "bedroom"
            sensor = self.device("motion", room)
            previous = self._last_motion.get(sensor.identity) if sensor is not None else None
            # The sensor's blind time: one detection a minute at most.
            if sensor is not None and (previous is None or at - previous >= timedelta(minutes=1)):
                self._last_motion[sensor.identity] = at
                out.append(self._report(sensor, at, ((Kind.MOTION, 1.0),), activity=True))
                off = at + _OCCUPANCY_TIMEOUT
                if off < end:
                    out.append(self._report(sensor, off, ((Kind.MOTION, 0.0),)))
        elif what in ("leave", "arrive", "door"):
            door = self.device("door")
            if door is not None:
                out.append(self._report(door, at, ((Kind.CONTACT, 1.0),), activity=True))
                out.append(self._report(door, at + timedelta(seconds=25), ((Kind.CONTACT, 0.0),), activity=True))
            if what == "arrive":
                out += self._act(at + timedelta(minutes=1), "move", "living", plug_runs, end)
        elif what == "fridge":
            fridge = self.device("fridge")
            if fridge is not None:
                out.append(self._report(fridge, at, ((Kind.CONTACT, 1.0),), activity=True))
                out.append(self._report(fridge, at + timedelta(seconds=30), ((Kind.CONTACT, 0.0),), activity=True))
        elif what == "flush":
            sensor = self.device("flush")
            if sensor is not None:
                out.append(self._report(sensor, at, ((Kind.FLUSH, 1.0),), activity=True))
        elif what in ("lie", "sit"):
            mat = self.device("bed" if what == "lie" else "seat")
            if mat is not None:
                out.append(self._report(mat, at, ((Kind.PRESENCE, 1.0 if detail else 0.0),), activity=True))
        elif what == "plug":
            role, length, watts = detail
            plug = self.device(role)
            if plug is not None:
                off = min(at + length, end - timedelta(seconds=1))
                runs = plug_runs.setdefault(plug.identity, [])
                runs.append((at, off, watts))
                if role == "rice":  # keeping warm after cooking, for hours
                    keep_warm = min(
                        off + timedelta(hours=self._rng(at, "warm").uniform(1, 5)), end - timedelta(seconds=1)
                    )
                    runs.append((off, keep_warm, 40.0))
                    out.append(self._report(plug, off, ((Kind.POWER, 40.0),), activity=True))
                    off = keep_warm
                out.append(self._report(plug, at, ((Kind.POWER, watts),), activity=True))
                out.append(self._report(plug, off, ((Kind.POWER, _STANDBY_WATTS),), activity=True))
        return out

    def _report(
        self, device: SimulatedDevice, at: datetime, readings: tuple[tuple[Kind, float], ...], activity: bool = False
    ) -> Emission:
        battery = None
        if device.identity in self.battery_start:
            days = (at - self.start).total_seconds() / 86400
            battery = max(0.0, self.battery_start[device.identity] - self.battery_drain[device.identity] * days)
        energy = self._energy.get(device.identity, 0.0)
        # Devices report to a tenth (of a percent, a watt, a degree), which the CSV log keeps exactly.
        readings = tuple((kind, round(value, 1)) for kind, value in readings)
        battery = None if battery is None else round(battery, 1)
        return Emission(at.replace(microsecond=0), device, readings, activity, battery, energy)

    def _periodic(
        self,
        day: int,
        start: datetime,
        end: datetime,
        runs: dict[str, list[tuple[datetime, datetime, float]]],
        detections: dict[str, list[datetime]] | None = None,
    ) -> list[Emission]:
        """Devices' own reports: battery sensors' hourly state, plugs' energy, the climate sensor's temperature."""
        out: list[Emission] = []
        rng = self._rng(day, "periodic")
        for device in self.devices:
            if device.protocol == "generic":
                continue  # mats and flush sensors report changes only
            t = start + timedelta(minutes=rng.uniform(0, 60))
            while t < end:
                out.append(self._periodic_report(device, t, runs, (detections or {}).get(device.identity, [])))
                t += _HEARTBEAT + timedelta(seconds=rng.uniform(-120, 120))
        for identity, plug_runs in runs.items():
            self._energy[identity] += sum((b - a).total_seconds() / 3600 * w / 1000 for a, b, w in plug_runs)
        return out

    def _periodic_report(
        self,
        device: SimulatedDevice,
        at: datetime,
        runs: dict[str, list[tuple[datetime, datetime, float]]],
        detections: list[datetime] | None = None,
    ) -> Emission:
        readings: tuple[tuple[Kind, float], ...]
        if device.role == "motion":
            # Zigbee2MQTT repeats the state it holds: occupancy true during a detection (before its 90 s timeout).
            detecting = any(d <= at < d + _OCCUPANCY_TIMEOUT for d in detections or ())
            readings = ((Kind.MOTION, 1.0 if detecting else 0.0),)
        elif device.role in ("door", "fridge"):
            readings = ((Kind.CONTACT, 0.0),)
        elif device.role == "climate":
            heater = self.device("heater")
            warmed = heater is not None and any(
                a <= at < b + timedelta(hours=1) for a, b, _w in runs.get(heater.identity, [])
            )
            readings = ((Kind.TEMPERATURE, self.indoor_temperature(at, warmed)), (Kind.HUMIDITY, 50.0))
        elif device.role in _PLUGS:
            watts = next((w for a, b, w in runs.get(device.identity, []) if a <= at < b), _STANDBY_WATTS)
            readings = ((Kind.POWER, watts),)
        elif device.role == "smoke":
            readings = ((Kind.SMOKE, 0.0),)
        else:
            readings = ()
        return self._report(device, at, readings)

    def indoor_temperature(self, at: datetime, heated: bool = False) -> float:
        """Follows the season (Korea: about -2 °C outside in January, 26 °C in August), the time of day and the
        heater (on, or within the hour after)."""
        doy = at.timetuple().tm_yday
        outdoor = 12.5 - 14 * math.cos(2 * math.pi * (doy - 15) / 365)
        daily = 1.2 * math.sin(2 * math.pi * (at.hour - 9) / 24)
        return round(20 + 0.35 * (outdoor - 12) + daily + self.temperature_offset + (2.5 if heated else 0), 1)

    def _incidents(self, start: datetime, end: datetime) -> list[Emission]:
        out: list[Emission] = []
        for incident in self.incidents:
            at = incident.at
            if not start <= at < end:
                continue
            if incident.kind == "sos" and (button := self.device("sos")) is not None:
                out.append(self._report(button, at, ((Kind.SOS, 1.0),), activity=True))
            elif incident.kind == "fire":
                if (smoke := self.device("smoke")) is not None:
                    out.append(self._report(smoke, at, ((Kind.SMOKE, 1.0),)))
                if (climate := self.device("climate")) is not None:
                    for minutes, celsius in ((3, 34.0), (6, 45.0), (10, 61.0)):
                        out.append(
                            self._report(climate, at + timedelta(minutes=minutes), ((Kind.TEMPERATURE, celsius),))
                        )
        for plug, begin, finish in self._left_on():
            if start <= begin < end:
                out.append(self._report(plug, begin, ((Kind.POWER, _LEFT_ON_WATTS),), activity=True))
            if start <= finish < end:
                out.append(self._report(plug, finish, ((Kind.POWER, _STANDBY_WATTS),), activity=True))
        return out

    def _left_on(self) -> list[tuple[SimulatedDevice, datetime, datetime]]:
        """Appliances switched on and forgotten (the heater, else another plug), ten hours until someone notices."""
        plug = self.device("heater") or self.device("rice") or self.device("tv")
        if plug is None:
            return []
        return [(plug, i.at, i.at + timedelta(hours=10)) for i in self.incidents if i.kind == "appliance_left_on"]

    def _failed(self) -> dict[str, datetime]:
        """Devices that stop for good, and when: a failure injected, or the dying battery run down."""
        failed: dict[str, datetime] = {}
        for incident in self.incidents:
            if incident.kind == "device_failure":
                main = self.device("motion") or self.devices[0]
                failed.setdefault(main.identity, incident.at)
        if self.dying is not None:
            days = self.battery_start[self.dying] / self.battery_drain[self.dying]
            failed.setdefault(self.dying, self.start + timedelta(days=days))
        return failed

    def _lose(self, day: int, emissions: list[Emission], start: datetime, end: datetime) -> list[Emission]:
        """Drop what dead or dropped-out devices would not have sent; add the availability messages."""
        failed = self._failed()
        dropout: tuple[str, datetime, datetime] | None = None
        rng = self._rng(day, "dropout")
        if self.flaky and rng.random() < 0.3:
            victim = rng.choice(self.devices)
            begin = start + timedelta(hours=rng.uniform(0, 20))
            dropout = (victim.identity, begin, begin + timedelta(hours=rng.uniform(2, 8)))
        kept = [
            e
            for e in emissions
            if not (e.device.identity in failed and e.at >= failed[e.device.identity])
            and not (dropout and e.device.identity == dropout[0] and dropout[1] <= e.at < dropout[2])
        ]
        for identity, at in failed.items():
            device = next(d for d in self.devices if d.identity == identity)
            noticed = (at + timedelta(hours=25)).replace(
                microsecond=0
            )  # Zigbee2MQTT's availability timeout for battery devices
            if device.protocol != "generic" and start <= noticed < end:
                kept.append(Emission(noticed, device, (), online=False))
                kept.sort(key=lambda e: e.at)
        return kept


def households(
    count: int, start: datetime, seed: int, incidents: Iterable[Incident] = (), profiles: Iterable[str] | None = None
) -> list[Household]:
    """``count`` households named h0001... with profiles in turn (all of ``PROFILES`` unless given)."""
    names = list(profiles or PROFILES)
    chosen = list(incidents)
    return [Household(f"h{i + 1:04d}", PROFILES[names[i % len(names)]], start, seed, chosen) for i in range(count)]


def merged(homes: Iterable[Household], days: int | None = None) -> Iterator[Emission]:
    """Every household's reports merged in time order."""
    return heapq.merge(*(h.emissions(days) for h in homes), key=lambda e: e.at)


def events(emissions: Iterable[Emission]) -> Iterator[Event]:
    """The detector events of the reports, as the replay log has them: a battery level only when it changes by a
    whole percent (a gateway's log does not repeat it with every report)."""
    battery: dict[str, int] = {}
    for emission in emissions:
        level = None if emission.battery is None else int(emission.battery)
        changed = level is not None and battery.get(emission.device.identity) != level
        if changed and level is not None:
            battery[emission.device.identity] = level
        yield from emission.events(battery_too=changed)


def csv_rows(emissions: Iterable[Emission]) -> Iterator[str]:
    """The CSV log ``maeul replay`` reads, header first: ``timestamp,household,device,kind,value``."""
    yield "timestamp,household,device,kind,value\n"
    for event in events(emissions):
        words = _CSV_WORDS.get(event.kind)
        value = words[int(event.value >= 1)] if words else f"{event.value:g}"
        yield f"{event.at.isoformat()},{event.household},{event.device},{CSV_KINDS[event.kind]},{value}\n"

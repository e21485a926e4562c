"""The household simulator: its device messages are what the adapters read, its days are deterministic and endless,
incidents look as they would in a real home, and `maeul simulate` publishes over a real Mosquitto or writes the
replay log."""

from __future__ import annotations

import io
import itertools
import json
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command
from paho.mqtt.enums import CallbackAPIVersion

from maeul.sensing import adapters
from maeul.sensing.adapters import Kind
from maeul.sensing.broker import find_mosquitto, free_port, start_broker
from maeul.sensing.models import Room
from maeul.watch import replay, simulation
from maeul.watch.detectors import WatchSettings
from maeul.watch.detectors import replay as run
from maeul.watch.management.commands.simulate import Command as Simulate

KST = ZoneInfo("Asia/Seoul")
START = datetime(2026, 1, 5, tzinfo=KST)  # a Monday in winter: the heater is used


def _homes(incidents: list[simulation.Incident] | None = None) -> list[simulation.Household]:
    return simulation.households(len(simulation.PROFILES), START, seed=7, incidents=incidents or [])


def test_every_message_reads_back_as_the_readings_it_was_made_from() -> None:
    incidents = [
        simulation.Incident("h0001", "sos", START + timedelta(days=1, hours=10)),
        simulation.Incident("h0001", "fire", START + timedelta(days=1, hours=11)),
        simulation.Incident("h0002", "device_failure", START + timedelta(hours=12)),
        simulation.Incident("h0003", "appliance_left_on", START + timedelta(days=1, hours=20)),
    ]
    seen_topics: set[str] = set()
    seen_kinds: set[Kind] = set()
    for emission in simulation.merged(_homes(incidents), days=3):
        topic, payload = emission.message()
        parsed = adapters.parse(topic, payload, emission.at)
        if emission.online is not None:
            assert parsed.availability is not None and parsed.availability.online == emission.online
            assert parsed.availability.device == emission.device.identity
            continue
        values = {r.kind: r.value for r in parsed.readings}
        assert {r.device for r in parsed.readings} <= {emission.device.identity}
        for kind, value in emission.readings:
            assert values[kind] == pytest.approx(value, abs=0.51), (topic, kind)  # plugs round watts
        if emission.battery is not None:
            assert values[Kind.BATTERY] == round(emission.battery)
        assert {k.value for k in values} <= set(emission.device.kinds), topic
        seen_topics.add(topic.split("/")[0])
        seen_kinds |= set(values)
    assert seen_topics == {"zigbee2mqtt", "tele", "maeul"}
    assert {Kind.MOTION, Kind.CONTACT, Kind.PRESENCE, Kind.FLUSH, Kind.POWER, Kind.TEMPERATURE, Kind.SOS} <= seen_kinds
    assert {Kind.SMOKE, Kind.BATTERY} <= seen_kinds


def test_devices_are_described_for_provisioning() -> None:
    homes = _homes()
    for home in homes:
        identities = [d.identity for d in home.devices]
        assert len(identities) == len(set(identities))
        for device in home.devices:
            assert device.household == home.name and device.room in Room.values and device.kinds
            assert device.protocol in ("zigbee2mqtt", "tasmota", "generic")
            assert ("/" in device.identity) == (device.protocol != "tasmota")  # Tasmota topics have no slash
    sparse = next(h for h in homes if h.profile.name == "sparse")
    assert sorted(d.role for d in sparse.devices) == ["door", "motion", "smoke", "sos"]


def test_the_same_seed_gives_the_same_days_and_the_stream_never_ends() -> None:
    first = [(e.at, e.device.identity, e.readings) for e in _homes()[0].emissions(days=2)]
    again = [(e.at, e.device.identity, e.readings) for e in _homes()[0].emissions(days=2)]
    other = simulation.Household("h0001", simulation.PROFILES["regular"], START, seed=8)
    assert first == again and first != [(e.at, e.device.identity, e.readings) for e in other.emissions(days=2)]
    endless = simulation.merged(_homes(), days=None)
    far = next(itertools.dropwhile(lambda e: e.at < START + timedelta(days=60), endless))
    assert far.at >= START + timedelta(days=60)
    times = [e.at for e in simulation.merged(_homes(), days=3)]
    assert times == sorted(times)


def test_routines_have_sleep_outings_and_the_seasons() -> None:
    home = _homes()[0]  # regular
    events = list(simulation.events(home.emissions(days=14)))
    activity = sorted(e.at for e in events if e.kind in (Kind.MOTION, Kind.CONTACT) and e.value >= 1)
    night_silences = [b - a for a, b in itertools.pairwise(activity) if b - a > timedelta(hours=5)]
    assert len(night_silences) >= 10  # a long sleep most nights
    states = {state for _at, state in home.timeline(14)}
    assert states == {"awake", "asleep", "out"}
    heater = [e for e in events if e.device.endswith("_heater") and e.kind == Kind.POWER and e.value > 1000]
    assert heater  # winter
    summer = simulation.Household("h0001", simulation.PROFILES["regular"], START.replace(month=8), seed=7)
    winter_c = [e.value for e in events if e.kind == Kind.TEMPERATURE]
    summer_c = [e.value for e in simulation.events(summer.emissions(days=2)) if e.kind == Kind.TEMPERATURE]
    assert max(winter_c) < min(summer_c) and min(winter_c) > 10 and max(summer_c) < 32


def test_a_collapse_stops_the_person_not_the_devices_and_is_found() -> None:
    at = START + timedelta(days=10, hours=15, minutes=7)
    home = simulation.Household(
        "h0001", simulation.PROFILES["regular"], START, seed=7, incidents=[simulation.Incident("h0001", "collapse", at)]
    )
    emissions = list(home.emissions(days=12))
    after = [e for e in emissions if e.at >= at]
    assert after and not any(e.activity for e in after)  # hourly reports and temperatures go on
    assert {e.device.role for e in after} >= {"motion", "door", "climate"}
    alerts = [a for a in run(simulation.events(emissions), {"*": WatchSettings(timezone=KST)}) if a.raised_at >= at]
    inactivity = [a for a in alerts if a.kind == "inactivity"]
    assert inactivity and inactivity[0].raised_at - at < timedelta(hours=8)
    assert inactivity[0].reason_code == "inactivity_learned"


def test_sos_fire_and_an_appliance_left_on_raise_their_alerts() -> None:
    sos, fire = START + timedelta(days=9, hours=10), START + timedelta(days=9, hours=16)
    left_on = START + timedelta(days=9, hours=9)
    incidents = [
        simulation.Incident("h0001", "sos", sos),
        simulation.Incident("h0001", "fire", fire),
        simulation.Incident("h0001", "appliance_left_on", left_on),
    ]
    home = simulation.Household("h0001", simulation.PROFILES["regular"], START, seed=7, incidents=incidents)
    alerts = list(run(simulation.events(home.emissions(days=10)), {"*": WatchSettings(timezone=KST)}))
    by_kind = {a.kind: a for a in alerts if a.raised_at >= left_on}
    assert by_kind["sos"].raised_at == sos and by_kind["smoke"].raised_at == fire
    assert by_kind["temperature"].reason_code == "temperature_high"
    power = by_kind["power_anomaly"]
    assert power.device == "h0001_heater" and power.reason_code == "power_long_run"
    assert power.raised_at - left_on < timedelta(hours=6)


def test_incidents_are_parsed_from_the_command_line() -> None:
    incident = simulation.Incident.parse("h0003:collapse:2026-11-25T14:30+09:00")
    assert incident == simulation.Incident("h0003", "collapse", datetime(2026, 11, 25, 14, 30, tzinfo=KST))
    for bad, message in (
        ("h0003:collapse", "expected household:kind:time"),
        ("h0003:flood:2026-11-25T14:30+09:00", "expected household:kind:time"),
        ("h0003:sos:2026-11-25T14:30", "needs an offset"),
    ):
        with pytest.raises(ValueError, match=message):
            simulation.Incident.parse(bad)


def test_simulate_writes_the_log_replay_reads(tmp_path: Path) -> None:
    log, devices = tmp_path / "events.csv", tmp_path / "devices.json"
    call_command(
        Simulate(),
        households=3,
        seed=3,
        days=2,
        start=START.isoformat(),
        csv=str(log),
        devices=str(devices),
        stderr=io.StringIO(),
    )
    with log.open(encoding="utf-8") as rows:
        events = list(replay.read_events(rows))
    homes = simulation.households(3, START, seed=3)
    assert events == list(itertools.takewhile(lambda e: e.at < START + timedelta(days=2), _events(homes)))
    described = json.loads(devices.read_text("utf-8"))
    assert {d["identity"] for d in described} == {d.identity for h in homes for d in h.devices}


def _events(homes: list[simulation.Household]) -> list[replay.Event]:
    return list(simulation.events(simulation.merged(homes, days=2)))


def test_simulate_publishes_over_mqtt(tmp_path: Path) -> None:
    if find_mosquitto() is None:
        pytest.fail("Mosquitto is not installed (Debian package mosquitto; `make test` installs it)")
    broker = start_broker(tmp_path / "broker", port=free_port())
    received: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="test-listener")
    client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe([("zigbee2mqtt/#", 1), ("tele/#", 1), ("maeul/#", 1)])
    client.on_subscribe = lambda _c, _u, _m, _r, _p: subscribed.set()
    client.on_message = lambda _c, _u, message: received.append((message.topic, message.payload))
    try:
        host, port = broker.url.removeprefix("mqtt://").split(":")
        client.connect(host, int(port))
        client.loop_start()
        assert subscribed.wait(10)
        start = START + timedelta(days=1, hours=7)  # breakfast: the kitchen is busy
        call_command(
            Simulate(),
            households=2,
            seed=5,
            days=1 / 24,
            speed=3600 * 2,  # an hour in half a second
            start=start.isoformat(),
            broker=broker.url,
            stderr=io.StringIO(),
        )
        homes = simulation.households(2, start, seed=5)
        expected = [
            e.message()
            for e in itertools.takewhile(lambda e: e.at < start + timedelta(hours=1), simulation.merged(homes))
        ]
        deadline = time.monotonic() + 10
        while len(received) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.disconnect()
        client.loop_stop()
        broker.stop()
    assert len(expected) > 20
    assert sorted(received) == sorted(expected)
    kinds = {r.kind for topic, payload in received for r in adapters.parse(topic, payload, start).readings}
    assert Kind.MOTION in kinds and Kind.POWER in kinds


def test_motion_sensors_measure_the_lamps_and_a_collapse_leaves_them_on() -> None:
    """Winter in Korea: dark by 18:00, so the living room is lit while the person is up in the evening and dark
    in the small hours; a collapse in the evening leaves the lamp burning all night."""
    home = simulation.Household("h0005", simulation.PROFILES["sparse"], START, seed=7)
    sensor = home.device("motion", "living")
    assert sensor is not None

    def lux(household: simulation.Household, days: int) -> dict[datetime, float]:
        return {
            e.at: dict(e.readings)[Kind.ILLUMINANCE]
            for e in household.emissions(days)
            if e.device == sensor and e.readings
        }

    measured = lux(home, 6)
    assert all(value < 20 for at, value in measured.items() if 1 <= at.hour < 4)  # asleep, lamps out
    evenings = [value for at, value in measured.items() if 19 <= at.hour < 20]
    assert sum(value >= 20 for value in evenings) > len(evenings) / 2  # the lamp on while up
    collapse = START + timedelta(days=4, hours=19, minutes=30)
    fallen = simulation.Household(
        "h0005", home.profile, START, seed=7, incidents=[simulation.Incident("h0005", "collapse", collapse)]
    )
    after = [
        value
        for at, value in lux(fallen, 6).items()
        if collapse + timedelta(hours=1) <= at < collapse + timedelta(hours=11)
    ]
    assert after and all(value >= 20 for value in after)
    _topic, payload = next(e for e in home.emissions(1) if e.device == sensor and e.readings).message()
    assert {"illuminance", "illuminance_lux"} <= set(json.loads(payload))

"""Detectors on simulated days: a learned routine raises no alarm at night or while out, a collapse is found within
hours with a reason in plain words, and critical and device causes alert once per episode."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from maeul.sensing.adapters import Kind
from maeul.watch import replay
from maeul.watch.detectors import Event, HouseholdWatch, WatchSettings, duration_text
from maeul.watch.detectors import replay as run

KST = timezone(timedelta(hours=9))
START = datetime(2026, 10, 5, 0, 0, tzinfo=KST)  # a Monday


def routine(days: int, rng: random.Random, household: str = "H-1") -> Iterator[Event]:
    """Up at 6:30–7:00, about in the home by day with gaps of up to 90 minutes, out 14:00–16:00 on weekdays
    (the door, then silence), asleep 22:30–6:30 with a toilet visit some nights."""
    for day in range(days):
        base = START + timedelta(days=day)
        t = base + timedelta(hours=6, minutes=30 + rng.randint(0, 30))
        weekday = base.weekday() < 5
        bedtime = base + timedelta(hours=22, minutes=30)
        while t < bedtime:
            if weekday and base + timedelta(hours=14) <= t < base + timedelta(hours=14, minutes=20):
                yield Event(t, household, "door", Kind.CONTACT, 1)
                t = base + timedelta(hours=16, minutes=rng.randint(0, 20))
                yield Event(t, household, "door", Kind.CONTACT, 1)
            yield Event(t, household, "hall", Kind.MOTION, 1)
            t += timedelta(minutes=rng.randint(5, 90))
        if rng.random() < 0.5:
            yield Event(
                base + timedelta(days=1, hours=3, minutes=rng.randint(0, 40)), household, "hall", Kind.MOTION, 1
            )


def _sorted(events: Iterator[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.at)


def test_a_learned_routine_raises_nothing_at_night_or_while_out() -> None:
    events = _sorted(routine(21, random.Random(7)))
    alerts = [a for a in run(events) if a.kind == "inactivity"]
    learned = [a for a in alerts if a.raised_at >= START + timedelta(days=7)]
    assert learned == []


def test_a_collapse_is_found_within_hours_with_a_plain_reason() -> None:
    events = [e for e in _sorted(routine(21, random.Random(7))) if e.at < START + timedelta(days=20, hours=10)]
    until = START + timedelta(days=21)
    alerts = [
        a for a in run(events, until=until) if a.kind == "inactivity" and a.raised_at > START + timedelta(days=20)
    ]
    assert len(alerts) == 1  # one alert for the episode, not one per tick
    last = events[-1].at
    delay = alerts[0].raised_at - last
    assert timedelta(hours=1) < delay <= timedelta(hours=3)
    assert alerts[0].reason.startswith(f"No activity for {duration_text(delay)}; usually at most ")
    assert alerts[0].reason.endswith("on Sundays mornings.")  # day 20 is a Sunday; the collapse came at 10:00


def test_before_enough_days_the_cold_start_threshold_applies() -> None:
    watch = HouseholdWatch("H-2", WatchSettings(cold_start_hours=8, offline_hours=24))
    watch.observe(Event(START + timedelta(hours=9), "H-2", "hall", Kind.MOTION, 1))
    assert watch.tick(START + timedelta(hours=16, minutes=55)) == []
    (alert,) = watch.tick(START + timedelta(hours=17))
    assert alert.reason == "No activity for 8 h; no usual pattern learned yet for Mondays mornings."
    assert watch.tick(START + timedelta(hours=18)) == []  # still the same episode


def test_sos_smoke_and_gas_alert_at_once_and_once() -> None:
    at = START + timedelta(hours=12)
    events = [
        Event(at, "H-3", "button", Kind.SOS, 1),
        Event(at + timedelta(seconds=5), "H-3", "button", Kind.SOS, 1),
        Event(at + timedelta(minutes=1), "H-3", "kitchen", Kind.SMOKE, 1),
        Event(at + timedelta(minutes=2), "H-3", "kitchen", Kind.SMOKE, 0),
        Event(at + timedelta(minutes=3), "H-3", "kitchen", Kind.SMOKE, 1),
        Event(at + timedelta(minutes=4), "H-3", "boiler", Kind.GAS, 1),
    ]
    alerts = list(run(events))
    assert [(a.kind, a.severity, a.raised_at - at) for a in alerts] == [
        ("sos", "critical", timedelta(0)),
        ("smoke", "critical", timedelta(minutes=1)),
        ("smoke", "critical", timedelta(minutes=3)),  # cleared in between: a new episode
        ("gas", "critical", timedelta(minutes=4)),
    ]


def test_device_health_is_kept_apart_from_the_person() -> None:
    at = START + timedelta(hours=8)
    events = [
        Event(at, "H-4", "hall", Kind.MOTION, 1),
        Event(at, "H-4", "hall", Kind.BATTERY, 9),
        Event(at + timedelta(minutes=1), "H-4", "living", Kind.TEMPERATURE, 34.5),
    ]
    alerts = list(
        run(events, {"H-4": WatchSettings(offline_hours=6, cold_start_hours=12)}, until=at + timedelta(hours=7))
    )
    kinds = {a.kind: a for a in alerts}
    assert kinds["battery_low"].severity == "device" and "9 %" in kinds["battery_low"].reason
    assert kinds["temperature"].reason == "Indoor temperature 34.5 °C, at or above 32 °C."
    assert "inactivity" not in kinds and "device_offline" not in kinds  # a day's silence says nothing of a device


def test_a_device_is_offline_only_past_its_own_longest_silence() -> None:
    """A fridge contact used every few hours, then nothing: offline after 1.5 × its longest gap (here 4 h)."""
    events = []
    t = START
    while t < START + timedelta(days=8):
        events.append(Event(t, "H-6", "fridge", Kind.CONTACT, 1))
        events.append(Event(t, "H-6", "hall", Kind.MOTION, 1))
        t += timedelta(hours=4 if t.hour >= 20 else 2)
    alerts = [a for a in run(events, {"H-6": WatchSettings(offline_hours=3)}, until=t + timedelta(days=1))
              if a.kind == "device_offline"]  # fmt: skip
    assert {a.device for a in alerts} == {"fridge", "hall"}
    last = events[-1].at
    assert all(timedelta(hours=6) <= a.raised_at - last < timedelta(hours=6, minutes=5) for a in alerts)
    assert all(a.severity == "device" and a.reason.startswith(f"No message from {a.device} for 6 h") for a in alerts)


def test_replay_reads_the_documented_csv_and_writes_json_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "events.csv"
    log.write_text(
        "timestamp,household,device,kind,value\n"
        "2026-10-05T09:00:00+09:00,H-5,hall,motion,1\n"
        "2026-10-05T09:05:00+09:00,H-5,door,contact,closed\n"
        "2026-10-05T09:06:00+09:00,H-5,bed,pressure,off\n"
        "2026-10-05T09:07:00+09:00,H-5,tv,appliance,on\n"
        "2026-10-05T09:08:00+09:00,H-5,toilet,flush,1\n"
        "2026-10-05T09:09:00+09:00,H-5,plug,power,55.5\n"
        "2026-10-05T09:10:00+09:00,H-5,button,sos,1\n",
        "utf-8",
    )
    out = tmp_path / "alerts.jsonl"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"default": {"cold_start_hours": 4, "timezone": "Asia/Seoul"}}))
    call_command(
        "replay", str(log), out=str(out), config=str(config), until="2026-10-05T15:00:00+09:00", stderr=io.StringIO()
    )
    lines = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert [x["kind"] for x in lines] == ["sos", "inactivity"]
    assert lines[1]["raised_at"] == "2026-10-05T13:10:00+09:00" and lines[1]["household"] == "H-5"
    assert set(lines[0]) >= {"household", "kind", "raised_at", "reason"}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-10-05T09:00:00,H,d,motion,1", "needs an offset"),
        ("yesterday,H,d,motion,1", "is not ISO 8601"),
        ("2026-10-05T09:00:00+09:00,H,d,teleport,1", "unknown kind"),
        ("2026-10-05T09:00:00+09:00,H,d,motion,maybe", "not a number or on/off"),
        ("2026-10-05T09:00:00+09:00,H,d,motion", "expected 5 columns"),
    ],
)
def test_replay_names_the_bad_line(tmp_path, row: str, message: str) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "bad.csv"
    log.write_text("timestamp,household,device,kind,value\n" + row + "\n", "utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("replay", str(log), out=str(tmp_path / "o.jsonl"), stderr=io.StringIO())
    assert "line 2" in str(exc.value) and message in str(exc.value)


def test_replay_refuses_events_out_of_order() -> None:
    later, earlier = START + timedelta(hours=2), START + timedelta(hours=1)
    with pytest.raises(ValueError, match="time order"):
        list(run([Event(later, "H", "d", Kind.MOTION, 1), Event(earlier, "H", "d", Kind.MOTION, 1)]))


def test_config_is_checked() -> None:
    with pytest.raises(replay.ReplayInputError, match="unknown settings"):
        replay.read_config({"households": {"H-1": {"cold_start": 3}}})
    with pytest.raises(replay.ReplayInputError, match="unknown time zone"):
        replay.read_config({"default": {"timezone": "Mars/Olympus"}})


def test_before_learning_a_silence_begun_at_bedtime_is_allowed_a_night() -> None:
    watch = HouseholdWatch("H-7", WatchSettings(cold_start_hours=8, cold_start_night_hours=11, offline_hours=24))
    watch.observe(Event(START + timedelta(hours=22, minutes=30), "H-7", "bedroom", Kind.MOTION, 1))
    assert watch.tick(START + timedelta(days=1, hours=7)) == []  # 8 h 30 min asleep: fine
    (alert,) = watch.tick(START + timedelta(days=1, hours=9, minutes=30))
    assert alert.reason == "No activity for 11 h; no usual pattern learned yet for Mondays evenings."

"""Replay: the detectors over a historical log, for tuning a site's settings on its own history.

Input CSV columns ``timestamp,household,device,kind,value`` (ISO 8601 with an offset). Kinds and values:
``motion`` 1/0, ``contact`` open/closed, ``pressure`` on/off (a bed or seat mat), ``power`` W, ``temperature`` °C,
``flush`` 1, ``appliance`` on/off, ``sos`` 1, ``smoke`` 1/0, ``gas`` 1/0, ``battery`` %, ``illuminance`` lx (what a
motion sensor measures: whether a light was left on). Output: one JSON object
per alert (``household``, ``kind``, ``raised_at``, ``severity``, ``reason``, ``device``, ``cause``, ``reason_code``,
``reason_params``; see ``maeul.watch.detectors``). ``maeul simulate --csv`` writes such a log from simulated homes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime, timedelta, tzinfo
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maeul.sensing.adapters import Kind
from maeul.watch.detectors import Alert, Event, WatchSettings

COLUMNS = ["timestamp", "household", "device", "kind", "value"]
_WORDS = {"open": 1.0, "closed": 0.0, "on": 1.0, "off": 0.0, "true": 1.0, "false": 0.0}
# The log's kinds, as the detectors know them ("pressure" in a log is a bed or seat mat, not the weather).
_KINDS = {
    "motion": Kind.MOTION,
    "contact": Kind.CONTACT,
    "pressure": Kind.PRESENCE,
    "power": Kind.POWER,
    "temperature": Kind.TEMPERATURE,
    "flush": Kind.FLUSH,
    "appliance": Kind.APPLIANCE,
    "sos": Kind.SOS,
    "smoke": Kind.SMOKE,
    "gas": Kind.GAS,
    "battery": Kind.BATTERY,
    "illuminance": Kind.ILLUMINANCE,
}


class ReplayInputError(ValueError):
    """A line of the log cannot be read: ``line`` and the reason, so the file can be fixed."""


def read_events(rows: TextIO) -> Iterator[Event]:
    reader = csv.reader(rows)
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != COLUMNS:
        raise ReplayInputError(f"line 1: expected the header {','.join(COLUMNS)}")
    zones: dict[timedelta | None, tzinfo] = {}
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(COLUMNS):
            raise ReplayInputError(f"line {line}: expected {len(COLUMNS)} columns, found {len(row)}")
        stamp, household, device, kind_name, raw = (c.strip() for c in row)
        try:
            at = datetime.fromisoformat(stamp)
        except ValueError as exc:
            raise ReplayInputError(f"line {line}: timestamp {stamp!r} is not ISO 8601") from exc
        if at.tzinfo is None:
            raise ReplayInputError(f"line {line}: timestamp {stamp!r} needs an offset, e.g. +09:00")
        # One tzinfo per offset: fromisoformat makes a new one for every timestamp, and datetimes that do not share
        # theirs compare and subtract through their UTC offsets, ten times slower, which the detectors do many times
        # for every event. Same offset, same instant: nothing else changes.
        at = at.replace(tzinfo=zones.setdefault(at.utcoffset(), at.tzinfo))
        kind = _KINDS.get(kind_name)
        if kind is None:
            raise ReplayInputError(f"line {line}: unknown kind {kind_name!r} (known: {', '.join(_KINDS)})")
        value = _WORDS.get(raw.lower())
        if value is None:
            try:
                value = float(raw)
            except ValueError as exc:
                raise ReplayInputError(f"line {line}: value {raw!r} is not a number or on/off/open/closed") from exc
        if not household:
            raise ReplayInputError(f"line {line}: household is empty")
        yield Event(at, household, device, kind, value)


def read_config(document: dict[str, Any]) -> dict[str, WatchSettings]:
    """``{"households": {"H-000123": {"cold_start_hours": 6, "timezone": "Asia/Seoul", ...}}, "default": {...}}``."""
    allowed = set(WatchSettings.__dataclass_fields__)

    def settings(values: dict[str, Any], where: str) -> dict[str, Any]:
        unknown = set(values) - allowed
        if unknown:
            raise ReplayInputError(f"{where}: unknown settings {sorted(unknown)}")
        out = dict(values)
        if "timezone" in out:
            try:
                out["timezone"] = ZoneInfo(out["timezone"])
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ReplayInputError(f"{where}: unknown time zone {values['timezone']!r}") from exc
        return out

    default = settings(document.get("default", {}), "default")
    return {
        household: WatchSettings(**{**default, **settings(values, household)})
        for household, values in document.get("households", {}).items()
    } | ({"*": WatchSettings(**default)} if default else {})


def write_alerts(alerts: Iterable[Alert], out: TextIO) -> int:
    count = 0
    for alert in alerts:
        record = asdict(alert)
        record["raised_at"] = alert.raised_at.isoformat()
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count

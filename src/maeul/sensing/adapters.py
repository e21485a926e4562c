"""Device message adapters: what Zigbee2MQTT, Tasmota and Maeul's generic JSON publish, turned into readings.

Pure functions of (topic, payload, time received) with no database, so live ingestion, tests and replay share them.
A message no adapter claims raises ``Unrecognised``; one an adapter claims but cannot read raises ``Malformed``;
both carry a reason for the dead-letter list. Values are numbers in fixed units (see ``Kind``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple


class Kind(StrEnum):
    """What a reading measures, and its unit or coding."""

    MOTION = "motion"  # 1 movement seen, 0 none
    CONTACT = "contact"  # 1 open, 0 closed (a door or fridge being opened is activity)
    SWITCH = "switch"  # 1 on, 0 off (a plug's relay)
    POWER = "power"  # W
    ENERGY = "energy"  # kWh, cumulative
    CURRENT = "current"  # A
    VOLTAGE = "voltage"  # V, mains
    TEMPERATURE = "temperature"  # °C
    HUMIDITY = "humidity"  # %
    PRESSURE = "pressure"  # hPa
    ILLUMINANCE = "illuminance"  # lx
    BATTERY = "battery"  # %
    BATTERY_VOLTAGE = "battery_voltage"  # V
    BATTERY_LOW = "battery_low"  # 1 low
    SOS = "sos"  # 1 pressed
    BUTTON = "button"  # 1 an ordinary button pressed (a person was there)
    PRESENCE = "presence"  # bed or seat pressure mat: 1 someone on it, 0 no one
    FLUSH = "flush"  # 1 the toilet was flushed
    APPLIANCE = "appliance"  # 1 an appliance (TV, rice cooker…) switched on, 0 off
    SMOKE = "smoke"  # 1 detected, 0 clear
    GAS = "gas"  # 1 detected, 0 clear
    TAMPER = "tamper"  # 1 tampered


# Readings that show a person is moving about at home (a plug's POWER counts too, when switched on from standby).
# Shared by the detectors and the activity pictures, so both mean the same thing by "activity".
ACTIVITY_KINDS = frozenset(
    {Kind.MOTION, Kind.CONTACT, Kind.BUTTON, Kind.SWITCH, Kind.PRESENCE, Kind.FLUSH, Kind.APPLIANCE}
)
# Device health defaults, shared by the detectors (per-household settings) and the device pages.
BATTERY_LOW_PERCENT = 15.0
OFFLINE_HOURS = 6.0  # no message from a device this long: we cannot see (not: the person is unwell)


class Malformed(ValueError):
    """The message belongs to an adapter but cannot be read; ``reason`` says why."""


class Unrecognised(ValueError):
    """No adapter claims the topic."""


class Reading(NamedTuple):
    """Immutable like a frozen dataclass; a named tuple because ingestion makes thousands a second and a frozen
    dataclass costs four times as much to build."""

    protocol: str
    device: str  # the device's identity within its protocol: a friendly name, a Tasmota topic, a generic id
    kind: Kind
    value: float
    at: datetime


@dataclass(frozen=True)
class Availability:
    protocol: str
    device: str  # "" for a whole bridge or gateway
    online: bool
    at: datetime


class Parsed(NamedTuple):
    readings: tuple[Reading, ...] = ()
    availability: Availability | None = None


# --- shared -----------------------------------------------------------------------------------------------


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Malformed("payload is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise Malformed(f"payload is not JSON ({exc.msg} at character {exc.pos})") from exc


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Malformed(f"{key}: expected a number, got {value!r}")
    return float(value)


def _flag(key: str, value: Any) -> float:
    if not isinstance(value, bool):
        raise Malformed(f"{key}: expected true or false, got {value!r}")
    return 1.0 if value else 0.0


def _on_off(key: str, value: Any) -> float:
    if isinstance(value, str) and value.upper() in ("ON", "OFF"):
        return 1.0 if value.upper() == "ON" else 0.0
    raise Malformed(f"{key}: expected ON or OFF, got {value!r}")


def _online(key: str, value: Any) -> bool:
    if isinstance(value, str) and value.lower() in ("online", "offline"):
        return value.lower() == "online"
    raise Malformed(f"{key}: expected online or offline, got {value!r}")


def _timestamp(key: str, value: Any) -> datetime:
    """ISO 8601 with an offset, or epoch milliseconds (Zigbee2MQTT's ``last_seen`` settings)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            # The same instant in UTC: the time received, and readings read back from the database, are in UTC too,
            # and datetimes that share one tzinfo compare ten times faster (the detectors compare them often).
            return parsed.astimezone(UTC)
    raise Malformed(f"{key}: expected ISO 8601 with an offset or epoch milliseconds, got {value!r}")


# --- Zigbee2MQTT ------------------------------------------------------------------------------------------

ZIGBEE2MQTT = "zigbee2mqtt"
_Z2M_NUMBERS = {
    "temperature": Kind.TEMPERATURE,
    "humidity": Kind.HUMIDITY,
    "pressure": Kind.PRESSURE,
    "illuminance_lux": Kind.ILLUMINANCE,
    "battery": Kind.BATTERY,
    "power": Kind.POWER,
    "current": Kind.CURRENT,
    "energy": Kind.ENERGY,
    "consumption": Kind.ENERGY,  # the older converters' name for energy (kWh)
}
_Z2M_FLAGS = {
    "occupancy": Kind.MOTION,
    "smoke": Kind.SMOKE,
    "gas": Kind.GAS,
    "battery_low": Kind.BATTERY_LOW,
    "tamper": Kind.TAMPER,
}
_MAINS_KEYS = ("power", "current", "energy", "consumption", "state")


def _zigbee2mqtt_state(name: str, body: Any, received_at: datetime) -> Parsed:
    if not isinstance(body, dict):
        raise Malformed(f"{name}: expected a JSON object, got {type(body).__name__}")
    at = _timestamp("last_seen", body["last_seen"]) if body.get("last_seen") is not None else received_at
    values: dict[Kind, float] = {}
    for key, value in body.items():
        if value is None:  # a device that has not reported this value yet
            continue
        if key in _Z2M_FLAGS:
            values[_Z2M_FLAGS[key]] = _flag(key, value)
        elif key in _Z2M_NUMBERS:
            # Both names for energy may come together; the current name wins.
            if key == "consumption" and body.get("energy") is not None:
                continue
            values[_Z2M_NUMBERS[key]] = _number(key, value)
        elif key == "illuminance" and body.get("illuminance_lux") is None:
            values[Kind.ILLUMINANCE] = _number(key, value)
        elif key == "contact":
            values[Kind.CONTACT] = 0.0 if _flag(key, value) else 1.0  # Zigbee2MQTT: true means closed
        elif key == "state":
            values[Kind.SWITCH] = _on_off(key, value)
        elif key == "voltage":
            # Plugs report mains volts; battery sensors report their cell in millivolts.
            if any(body.get(k) is not None for k in _MAINS_KEYS):
                values[Kind.VOLTAGE] = _number(key, value)
            else:
                values[Kind.BATTERY_VOLTAGE] = _number(key, value) / 1000
        elif key == "action":
            if not isinstance(value, str):
                raise Malformed(f"action: expected text, got {value!r}")
            values[Kind.SOS if value in ("emergency", "sos") else Kind.BUTTON] = 1.0
        elif key == "no_occupancy_since" and body.get("occupancy") is None:
            _number(key, value)  # seconds without motion: no motion now
            values[Kind.MOTION] = 0.0
    return Parsed(readings=tuple(Reading(ZIGBEE2MQTT, name, kind, v, at) for kind, v in values.items()))


def zigbee2mqtt(topic: str, payload: bytes, received_at: datetime, base: str = ZIGBEE2MQTT) -> Parsed:
    """``<base>/<friendly name>`` state (names may contain ``/``), ``<name>/availability`` in the legacy text
    and the JSON form, and ``bridge/state``. Commands (``/set``, ``/get``) and other bridge topics carry no
    readings."""
    rest = topic.removeprefix(base + "/")
    if rest == topic or not rest:
        raise Unrecognised(f"not under {base}/")
    if rest == "bridge/state":
        return Parsed(availability=Availability(ZIGBEE2MQTT, "", _availability(payload, "bridge/state"), received_at))
    if rest.startswith("bridge/") or rest.endswith(("/set", "/get")) or "/set/" in rest:
        return Parsed()
    if rest.endswith("/availability"):
        name = rest.removesuffix("/availability")
        return Parsed(availability=Availability(ZIGBEE2MQTT, name, _availability(payload, name), received_at))
    return _zigbee2mqtt_state(rest, _json(payload), received_at)


def _availability(payload: bytes, what: str) -> bool:
    text = payload.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        body = _json(payload)
        if not isinstance(body, dict) or "state" not in body:
            raise Malformed(f"{what}: availability JSON needs a state")
        return _online("state", body["state"])
    return _online(what, text)


# --- Tasmota ----------------------------------------------------------------------------------------------

TASMOTA = "tasmota"
_TASMOTA_ENERGY = {
    "Power": Kind.POWER,
    "Total": Kind.ENERGY,
    "Voltage": Kind.VOLTAGE,
    "Current": Kind.CURRENT,
}
_TASMOTA_SENSOR = {
    "Temperature": Kind.TEMPERATURE,
    "Humidity": Kind.HUMIDITY,
    "Pressure": Kind.PRESSURE,
    "Illuminance": Kind.ILLUMINANCE,
}


def _tasmota_sensor(device: str, body: dict[str, Any], at: datetime) -> list[Reading]:
    readings = []
    fahrenheit = body.get("TempUnit") == "F"
    for name, block in body.items():
        if not isinstance(block, dict):
            continue  # Time, TempUnit, PressureUnit…
        table = _TASMOTA_ENERGY if name == "ENERGY" else _TASMOTA_SENSOR
        for key, kind in table.items():
            value = block.get(key)
            if value is None:
                continue
            if isinstance(value, list):  # several phases or channels: their sum, or the first for volts
                numbers = [_number(f"{name}.{key}", v) for v in value]
                number = numbers[0] if kind == Kind.VOLTAGE else sum(numbers)
            else:
                number = _number(f"{name}.{key}", value)
            if kind == Kind.TEMPERATURE and fahrenheit:
                number = (number - 32) * 5 / 9
            readings.append(Reading(TASMOTA, device, kind, number, at))
    return readings


def tasmota(topic: str, payload: bytes, received_at: datetime) -> Parsed:
    """The default full topic ``%prefix%/%topic%/``: ``tele/<device>/SENSOR`` (and the old flat
    ``tele/<device>/ENERGY``), ``tele/<device>/STATE`` (a heartbeat: the device is online), ``tele/<device>/LWT``,
    ``stat/<device>/POWER``, ``stat/<device>/RESULT`` and the ``StatusSNS`` reply of ``stat/<device>/STATUS8``.
    Tasmota's ``Time`` has no offset, so ``Epoch`` (UTC seconds) is used when sent, else the time received."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] not in ("tele", "stat") or not parts[1]:
        raise Unrecognised("not a Tasmota tele/ or stat/ topic")
    prefix, device, leaf = parts
    if prefix == "tele" and leaf == "LWT":
        return Parsed(
            availability=Availability(
                TASMOTA, device, _online("LWT", payload.decode("utf-8", "replace").strip()), received_at
            )
        )
    if prefix == "stat" and leaf.startswith("POWER"):
        return Parsed(
            readings=(
                Reading(
                    TASMOTA, device, Kind.SWITCH, _on_off(leaf, payload.decode("utf-8", "replace").strip()), received_at
                ),
            )
        )
    if leaf not in ("SENSOR", "STATE", "RESULT", "ENERGY", "STATUS8", "STATUS10"):
        return Parsed()  # INFO1-3, UPTIME, POWER_LOW, LOGGING…: nothing about the person or the home
    body = _json(payload)
    if not isinstance(body, dict):
        raise Malformed(f"{leaf}: expected a JSON object, got {type(body).__name__}")
    if leaf.startswith("STATUS"):
        body = body.get("StatusSNS", {})
        if not isinstance(body, dict):
            raise Malformed(f"{leaf}: StatusSNS is not an object")
    at = _timestamp("Epoch", body["Epoch"] * 1000) if isinstance(body.get("Epoch"), int) else received_at
    if leaf == "ENERGY":  # the old layout: the energy keys at the top level
        body = {"ENERGY": body}
    readings = _tasmota_sensor(device, body, at) if leaf in ("SENSOR", "ENERGY") or leaf.startswith("STATUS") else []
    for key in ("POWER", "POWER1"):
        if key in body:
            readings.append(Reading(TASMOTA, device, Kind.SWITCH, _on_off(key, body[key]), at))
            break
    online = Availability(TASMOTA, device, True, at) if leaf == "STATE" else None
    return Parsed(readings=tuple(readings), availability=online)


# --- Maeul's generic JSON ---------------------------------------------------------------------------------

GENERIC = "generic"
_GENERIC_FLAGS = {Kind.MOTION, Kind.SOS, Kind.SMOKE, Kind.GAS, Kind.BATTERY_LOW, Kind.TAMPER}


def generic_readings(device: str, body: Any, received_at: datetime) -> tuple[Reading, ...]:
    """``{"kind": "motion", "value": 1, "at": "2026-11-25T09:30:00+09:00"}`` or a list of them; ``at`` is
    optional. Kinds and units are those of ``Kind``; ``contact`` also takes "open"/"closed", ``switch`` "on"/"off".
    Used by MQTT topics ``maeul/<device>`` and by the HTTP endpoint for gateways."""
    items = body if isinstance(body, list) else [body]
    readings = []
    for i, item in enumerate(items):
        where = f"[{i}]" if isinstance(body, list) else ""
        if not isinstance(item, dict):
            raise Malformed(f"{where or 'payload'}: expected an object with kind and value")
        try:
            kind = Kind(str(item.get("kind")))
        except ValueError as exc:
            raise Malformed(f"{where}kind: unknown kind {item.get('kind')!r}") from exc
        value = item.get("value")
        if kind == Kind.CONTACT and value in ("open", "closed"):
            number = 1.0 if value == "open" else 0.0
        elif kind == Kind.SWITCH and isinstance(value, str):
            number = _on_off(f"{where}value", value)
        elif kind in _GENERIC_FLAGS and isinstance(value, bool):
            number = 1.0 if value else 0.0
        else:
            number = _number(f"{where}value", value)
        at = _timestamp(f"{where}at", item["at"]) if item.get("at") is not None else received_at
        readings.append(Reading(GENERIC, device, kind, number, at))
    return tuple(readings)


def generic(topic: str, payload: bytes, received_at: datetime) -> Parsed:
    device = topic.removeprefix("maeul/")
    if device == topic or not device:
        raise Unrecognised("not under maeul/")
    return Parsed(readings=generic_readings(device, _json(payload), received_at))


def parse(topic: str, payload: bytes, received_at: datetime, zigbee2mqtt_base: str = ZIGBEE2MQTT) -> Parsed:
    """Route a message to the adapter that claims its topic."""
    if topic.startswith(zigbee2mqtt_base + "/"):
        return zigbee2mqtt(topic, payload, received_at, zigbee2mqtt_base)
    if topic.startswith(("tele/", "stat/")):
        return tasmota(topic, payload, received_at)
    if topic.startswith("maeul/"):
        return generic(topic, payload, received_at)
    raise Unrecognised(f"no adapter for topic {topic!r}")

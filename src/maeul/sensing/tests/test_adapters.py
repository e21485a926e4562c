"""Adapters: the payloads Zigbee2MQTT and Tasmota document, and every way a message can be unreadable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from maeul.sensing import adapters
from maeul.sensing.adapters import Kind, Malformed, Unrecognised

NOW = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
DOCUMENTED = json.loads((Path(__file__).parent / "fixtures" / "documented_payloads.json").read_text("utf-8"))


def _values(parsed: adapters.Parsed) -> dict[Kind, float]:
    return {r.kind: r.value for r in parsed.readings}


def _bytes(payload: Any) -> bytes:
    return (payload if isinstance(payload, str) else json.dumps(payload)).encode()


# Documented messages that say nothing about a person or a home, and must be passed over, not dead-lettered.
NOTHING_TO_READ = {
    "bridge_devices_coordinator_nulls": "the bridge's device list",
    "bridge_devices_unsupported_nulls": "the bridge's device list",
    "bridge_event_device_joined": "a bridge event, not a device called bridge/event",
    "tele_power_low": "a power-threshold trigger",
    "tele_sensor_deepsleep_analog": "a raw analog value with no meaning of its own",
}


@pytest.mark.parametrize("entry", DOCUMENTED["zigbee2mqtt"] + DOCUMENTED["tasmota"], ids=lambda e: e["id"])
def test_every_documented_payload_is_read(entry: dict[str, Any]) -> None:
    parsed = adapters.parse(entry["topic"], _bytes(entry["payload"]), NOW)
    if entry["id"] in NOTHING_TO_READ:
        assert not parsed.readings and parsed.availability is None
        return
    assert parsed.readings or parsed.availability is not None, entry["id"]
    for reading in parsed.readings:
        assert reading.device and reading.at.tzinfo is not None


def test_zigbee2mqtt_names_may_contain_slashes_and_contact_true_means_closed() -> None:
    parsed = adapters.parse("zigbee2mqtt/101호/현관 문", b'{"contact": true, "battery": 91, "voltage": 3005}', NOW)
    assert {r.device for r in parsed.readings} == {"101호/현관 문"}
    assert _values(parsed) == {Kind.CONTACT: 0.0, Kind.BATTERY: 91.0, Kind.BATTERY_VOLTAGE: 3.005}
    opened = adapters.parse("zigbee2mqtt/101호/현관 문", b'{"contact": false}', NOW)
    assert _values(opened) == {Kind.CONTACT: 1.0}


def test_plugs_report_mains_volts_and_the_legacy_consumption_key() -> None:
    plug = {"state": "ON", "power": 61.2, "current": 0.29, "voltage": 229, "energy": 12.5, "consumption": 12.4}
    assert _values(adapters.parse("zigbee2mqtt/tv plug", _bytes(plug), NOW)) == {
        Kind.SWITCH: 1.0, Kind.POWER: 61.2, Kind.CURRENT: 0.29, Kind.VOLTAGE: 229.0, Kind.ENERGY: 12.5,
    }  # fmt: skip
    legacy = adapters.parse("zigbee2mqtt/kettle", b'{"state": "OFF", "consumption": 3.2}', NOW)
    assert _values(legacy) == {Kind.SWITCH: 0.0, Kind.ENERGY: 3.2}


def test_null_values_are_skipped_and_last_seen_is_the_reading_time() -> None:
    body = {"occupancy": True, "illuminance": None, "battery": None, "last_seen": "2026-11-25T09:29:58+09:00"}
    parsed = adapters.parse("zigbee2mqtt/bedroom", _bytes(body), NOW)
    assert _values(parsed) == {Kind.MOTION: 1.0}
    assert parsed.readings[0].at == datetime(2026, 11, 25, 0, 29, 58, tzinfo=UTC)
    assert parsed.readings[0].at.tzinfo is UTC  # as the time received: compared without converting
    epoch = adapters.parse("zigbee2mqtt/bedroom", b'{"occupancy": false, "last_seen": 1764030598000}', NOW)
    assert epoch.readings[0].at == datetime.fromtimestamp(1764030598, UTC)


def test_sos_smoke_and_gas() -> None:
    assert _values(adapters.parse("zigbee2mqtt/sos", b'{"action": "emergency", "battery": 100}', NOW))[Kind.SOS] == 1
    assert Kind.SOS not in _values(adapters.parse("zigbee2mqtt/button", b'{"action": "single"}', NOW))
    smoke = adapters.parse("zigbee2mqtt/kitchen smoke", b'{"smoke": true, "battery_low": false, "tamper": false}', NOW)
    assert _values(smoke) == {Kind.SMOKE: 1.0, Kind.BATTERY_LOW: 0.0, Kind.TAMPER: 0.0}
    assert _values(adapters.parse("zigbee2mqtt/gas", b'{"gas": false}', NOW)) == {Kind.GAS: 0.0}


@pytest.mark.parametrize("payload", [b"online", b'{"state":"online"}', b"offline", b'{"state":"offline"}'])
def test_availability_in_both_forms(payload: bytes) -> None:
    parsed = adapters.parse("zigbee2mqtt/living room/motion/availability", payload, NOW)
    assert (
        parsed.availability == adapters.Availability("zigbee2mqtt", "living room/motion", b"online" in payload, NOW)
        and not parsed.readings
    )
    bridge = adapters.parse("zigbee2mqtt/bridge/state", payload, NOW)
    assert bridge.availability is not None and bridge.availability.device == ""


def test_commands_and_bridge_logs_carry_no_readings() -> None:
    for topic in (
        "zigbee2mqtt/plug/set",
        "zigbee2mqtt/plug/get",
        "zigbee2mqtt/bridge/devices",
        "zigbee2mqtt/bridge/logging",
    ):
        assert adapters.parse(topic, b'{"state": "ON"}', NOW) == adapters.Parsed()


def test_tasmota_sensor_state_lwt_and_power() -> None:
    sensor = {
        "Time": "2026-11-25T09:30:00",
        "ENERGY": {"TotalStartTime": "2026-01-01T00:00:00", "Total": 101.2, "Yesterday": 1.1, "Today": 0.4,
                   "Period": 2, "Power": 85, "ApparentPower": 90, "ReactivePower": 30, "Factor": 0.94,
                   "Voltage": 221, "Current": 0.41},
        "AM2301": {"Temperature": 86.0, "Humidity": 40.1},
        "TempUnit": "F",
    }  # fmt: skip
    values = _values(adapters.parse("tele/plug_8A1B2C/SENSOR", _bytes(sensor), NOW))
    assert values[Kind.POWER] == 85 and values[Kind.ENERGY] == 101.2 and values[Kind.VOLTAGE] == 221
    assert values[Kind.TEMPERATURE] == pytest.approx(30.0) and values[Kind.HUMIDITY] == 40.1
    state = adapters.parse("tele/plug_8A1B2C/STATE", b'{"Time":"2026-11-25T09:30:00","POWER":"ON","Wifi":{}}', NOW)
    assert _values(state) == {Kind.SWITCH: 1.0}
    lwt = adapters.parse("tele/plug_8A1B2C/LWT", b"Offline", NOW)
    assert lwt.availability is not None and not lwt.availability.online
    assert _values(adapters.parse("stat/plug_8A1B2C/POWER", b"OFF", NOW)) == {Kind.SWITCH: 0.0}
    assert adapters.parse("tele/plug_8A1B2C/INFO1", b"{}", NOW) == adapters.Parsed()


def test_generic_json_single_and_batched() -> None:
    one = adapters.parse("maeul/gw1-bed", b'{"kind": "motion", "value": 1, "at": "2026-11-25T09:00:00+09:00"}', NOW)
    assert one.readings[0].value == 1 and one.readings[0].at == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    batch = b'[{"kind": "contact", "value": "open"}, {"kind": "switch", "value": "on"}, {"kind": "sos", "value": true}]'
    assert _values(adapters.parse("maeul/gw1-door", batch, NOW)) == {Kind.CONTACT: 1, Kind.SWITCH: 1, Kind.SOS: 1}


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("zigbee2mqtt/hall", b"not json", "payload is not JSON"),
        ("zigbee2mqtt/hall", b"\xff\xfe", "not UTF-8"),
        ("zigbee2mqtt/hall", b"[1, 2]", "expected a JSON object"),
        ("zigbee2mqtt/hall", b'{"occupancy": "yes"}', "occupancy: expected true or false"),
        ("zigbee2mqtt/hall", b'{"temperature": "21.5"}', "temperature: expected a number"),
        ("zigbee2mqtt/hall", b'{"temperature": NaN}', "temperature: expected a number"),
        ("zigbee2mqtt/hall", b'{"state": "MAYBE"}', "state: expected ON or OFF"),
        ("zigbee2mqtt/hall", b'{"occupancy": true, "last_seen": "yesterday"}', "last_seen"),
        ("zigbee2mqtt/hall/availability", b"sleepy", "expected online or offline"),
        ("zigbee2mqtt/hall/availability", b'{"status": "online"}', "needs a state"),
        ("tele/plug/SENSOR", b'{"ENERGY": {"Power": "lots"}}', "ENERGY.Power: expected a number"),
        ("tele/plug/LWT", b"Gone", "expected online or offline"),
        ("maeul/gw", b'{"kind": "teleport", "value": 1}', "unknown kind"),
        ("maeul/gw", b'[{"kind": "power", "value": "x"}]', "[0]value: expected a number"),
        ("maeul/gw", b'{"kind": "motion", "value": 1, "at": "2026-11-25T09:00:00"}', "at: expected ISO 8601"),
    ],
)
def test_unreadable_messages_say_why(topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(Malformed) as exc:
        adapters.parse(topic, payload, NOW)
    assert reason in str(exc.value)


@pytest.mark.parametrize("topic", ["homeassistant/sensor/x/config", "tele/too/many/parts", "zigbee2mqtt", "maeul/"])
def test_topics_no_adapter_claims(topic: str) -> None:
    with pytest.raises(Unrecognised):
        adapters.parse(topic, b"{}", NOW)


def _documented(entry_id: str) -> adapters.Parsed:
    entry = next(e for e in DOCUMENTED["zigbee2mqtt"] + DOCUMENTED["tasmota"] if e["id"] == entry_id)
    return adapters.parse(entry["topic"], _bytes(entry["payload"]), NOW)


def test_documented_tasmota_layouts_old_and_new() -> None:
    two_sensors = _documented("status8_dht11_sht3x_fahrenheit")  # °F, converted
    temperatures = sorted(r.value for r in two_sensors.readings if r.kind == Kind.TEMPERATURE)
    assert temperatures == [pytest.approx(23.78, abs=0.01), pytest.approx(26.0)]
    flat = _values(_documented("tele_energy_legacy_openhab"))  # energy keys at the top level
    assert flat[Kind.ENERGY] == 0.64 and flat[Kind.POWER] == 0
    heartbeat = _documented("tele_state_deepsleep_epoch")  # no POWER: the device is alive, at its Epoch
    assert heartbeat.availability is not None and heartbeat.availability.online
    assert heartbeat.availability.at == datetime.fromtimestamp(1567595328, UTC)


def test_documented_zigbee2mqtt_events() -> None:
    assert _values(_documented("guide_wxkg01lm_action")) == {Kind.BUTTON: 1.0}
    assert _values(_documented("rtcgq11lm_no_occupancy_since")) == {Kind.MOTION: 0.0}

"""The broker: Mosquitto found and configured as shipped, the embedded amqtt fallback, `maeul broker`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from maeul.sensing.broker import QUEUE_SETTINGS, find_mosquitto, free_port, mosquitto_config, start_broker
from maeul.sensing.ingest import BrokerConfig
from maeul.sensing.tests.mosquitto import wait_for

DEPLOYED = Path(__file__).resolve().parents[4] / "deploy" / "mosquitto.conf"


def _settings(text: str) -> dict[str, str]:
    pairs = (line.split(None, 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {key: value.strip() for key, value in pairs}


def test_the_shipped_config_and_maeul_broker_agree() -> None:
    deployed = _settings(DEPLOYED.read_text())
    assert {key: deployed.get(key) for key in QUEUE_SETTINGS} == QUEUE_SETTINGS
    assert deployed["listener"] == "1883"
    assert re.search(r"^#listener 8883$", DEPLOYED.read_text(), re.MULTILINE)  # the TLS example
    written = _settings(mosquitto_config(Path("/data"), "127.0.0.1", 18830))
    assert written["listener"] == "18830 127.0.0.1" and written["persistence_location"] == "/data/"
    assert {key: written[key] for key in QUEUE_SETTINGS} == QUEUE_SETTINGS


def test_mosquitto_is_found_and_starts_on_a_port(tmp_path: Path) -> None:
    assert find_mosquitto() is not None
    handle = start_broker(tmp_path, port=free_port())
    try:
        assert handle.kind == "mosquitto" and handle.url.startswith("mqtt://127.0.0.1:")
        assert _round_trip(handle.url) == b"hello"
    finally:
        handle.stop()
    assert handle.process.returncode == 0
    assert (tmp_path / "mosquitto.db").exists()  # persistence written on a clean stop


def test_the_embedded_broker_needs_nothing_installed(tmp_path: Path) -> None:
    handle = start_broker(tmp_path, port=free_port(), embedded=True)
    try:
        assert handle.kind == "amqtt"
        assert _round_trip(handle.url) == b"hello"
    finally:
        handle.stop()


def test_maeul_broker_runs_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "maeul.testing.settings", "MAEUL_VAR_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "maeul.cli", "broker", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "mosquitto listening at mqtt://127.0.0.1:" in process.stdout.readline()
        assert _round_trip(f"mqtt://127.0.0.1:{port}") == b"hello"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    assert (tmp_path / "mqtt" / "mosquitto.log").exists()


def _round_trip(url: str) -> bytes:
    host, port = url.removeprefix("mqtt://").split(":")
    received: list[bytes] = []
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="round-trip")
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, message: received.append(message.payload)
    client.connect(host, int(port))
    client.loop_start()
    try:
        client.subscribe("maeul/test", qos=1)
        assert subscribed.wait(10)
        client.publish("maeul/test", b"hello", qos=1)
        wait_for(lambda: bool(received), timeout=10, what="the message back")
    finally:
        client.disconnect()
        client.loop_stop()
    return received[0]


@pytest.mark.parametrize("url", ["http://host", "mqtt://", "tcp://host:1883"])
def test_broker_urls_are_checked(url: str) -> None:
    with pytest.raises(ValueError, match="broker URL"):
        BrokerConfig.from_url(url)


def test_broker_urls_carry_credentials_and_tls() -> None:
    config = BrokerConfig.from_url("mqtts://ingest:s%40cret@mq.example.kr", "env-user", "env-pass", "/ca.pem")
    assert (config.host, config.port, config.tls) == ("mq.example.kr", 8883, True)
    assert (config.username, config.password, config.ca) == ("ingest", "s@cret", "/ca.pem")
    plain = BrokerConfig.from_url("mqtt://10.0.0.5", "env-user", "env-pass")
    assert (plain.port, plain.tls, plain.username, plain.password) == (1883, False, "env-user", "env-pass")

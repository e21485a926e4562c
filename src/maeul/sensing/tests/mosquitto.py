"""Test support for ingestion: a real Mosquitto on a free port, a database a worker subprocess can share with the
test, `maeul ingest` as a subprocess, and a QoS 1 publisher that knows what the broker acknowledged."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import paho.mqtt.client as mqtt
import pytest
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion

from maeul.sensing.broker import BrokerHandle, find_mosquitto, free_port, start_broker
from maeul.sensing.ingest import Worker


@contextlib.contextmanager
def running_mosquitto(data_dir: Path, port: int | None = None) -> Iterator[BrokerHandle]:
    if find_mosquitto() is None:
        pytest.fail("Mosquitto is not installed (Debian package mosquitto; `make test` installs it)")
    handle = start_broker(data_dir, port=port or free_port())
    try:
        yield handle
    finally:
        handle.stop()


@contextlib.contextmanager
def shared_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for subprocesses to use the test's database; needs ``transactional_db`` (data committed).

    PostgreSQL: the test database itself. SQLite: the test database lives in memory, which no other process can
    open, so it is copied to a file and this process switches to the file until the end of the block."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(settings["USER"]) + (":" + quote(settings["PASSWORD"]) if settings["PASSWORD"] else "")
        yield {"DATABASE_URL": f"postgres://{auth}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"}
        return
    memory_name = settings["NAME"]
    connection.ensure_connection()
    keeper = sqlite3.connect(memory_name, uri=True)  # keeps the in-memory database alive while switched away
    path = tmp_path / "shared.sqlite3"
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    settings["NAME"] = str(path)
    connection.close()  # closes for real now that it names a file (in-memory connections are never closed)
    try:
        yield {"DATABASE_URL": f"sqlite:///{path}"}
    finally:
        connection.close()
        settings["NAME"] = memory_name
        connection.ensure_connection()
        keeper.close()


def start_worker(
    database: dict[str, str], broker_url: str, site: str, tmp_path: Path, *extra: str, name: str = "worker"
) -> subprocess.Popen[bytes]:
    """`maeul ingest` with the recording consumer (see recording.py) writing under ``tmp_path/record``."""
    env = {
        **os.environ,
        **database,
        "DJANGO_SETTINGS_MODULE": "maeul.testing.settings",
        "MAEUL_VAR_DIR": str(tmp_path / "var"),
        "MAEUL_STREAM_CONSUMERS": "maeul.sensing.tests.recording.RecordingConsumer",
        "MAEUL_TEST_RECORDING_DIR": str(tmp_path / "record"),
        "MAEUL_INGEST_BATCH_SIZE": "50",
        "MAEUL_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "maeul.cli", "ingest", "--broker", broker_url, "--site", site, *extra],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_worker(process: subprocess.Popen[bytes], timeout: float = 20) -> int:
    if process.poll() is None:
        process.terminate()
    return process.wait(timeout=timeout)


def run_in_thread(worker: Worker) -> tuple[threading.Thread, threading.Event]:
    """An in-process worker (for tests that reach into it); set the event to stop it, then join the thread."""
    stop = threading.Event()

    def run() -> None:
        try:
            worker.run(stop)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, stop


def wait_for(condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Publisher:
    """A QoS 1 publisher (like a device at QoS 1). Remembers which messages the broker acknowledged (PUBACK); what
    it publishes while disconnected is queued and sent when it is back, as paho does."""

    def __init__(self, broker_url: str, client_id: str = "test-publisher") -> None:
        host, port = broker_url.removeprefix("mqtt://").split(":")
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.reconnect_delay_set(1, 1)
        self._lock = threading.Lock()
        self._tags: list[tuple[object, int]] = []
        self._acknowledged: set[int] = set()
        self.client.on_publish = self._on_publish
        self.client.connect(host, int(port))
        self.client.loop_start()

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, _reason: object, _p: object) -> None:
        with self._lock:
            self._acknowledged.add(mid)

    def publish(self, topic: str, payload: object, tag: object = None, qos: int = 1, retain: bool = False) -> None:
        body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
        info = self.client.publish(topic, body, qos=qos, retain=retain)
        with self._lock:
            self._tags.append((tag, info.mid))

    def acknowledged(self) -> list[object]:
        with self._lock:
            return [tag for tag, mid in self._tags if mid in self._acknowledged]

    def wait_all(self, timeout: float = 30) -> None:
        wait_for(lambda: len(self.acknowledged()) == len(self._tags), timeout, "the broker to acknowledge")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

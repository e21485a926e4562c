"""The MQTT broker for one machine: Mosquitto with Maeul's settings when installed, else an embedded amqtt broker.

``start_broker`` runs it as a child process and returns a handle (``.url``, ``.stop()``); ``maeul broker`` and
``maeul run`` use it, tests use it on a free port. Mosquitto is the production broker (persistence, queues for
persistent sessions, shared subscriptions, TLS); amqtt (pure Python, MQTT 3.1.1, sessions in memory) exists so that
``make run`` needs no broker installed. The shipped ``deploy/mosquitto.conf`` carries the same queue settings as
``QUEUE_SETTINGS`` (a test keeps them equal).

    python -m maeul.sensing.broker amqtt --host 127.0.0.1 --port 1883    # the embedded broker, in the foreground
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# Sized for a site: 20,000 households × 6 sensors reporting every few minutes is ~500 messages/s; a million queued
# messages (≈ 200 MB at ~200 bytes each) covers half an hour of the ingest worker being down. Past that the broker
# drops new messages for the worker's session rather than exhaust the machine.
QUEUE_SETTINGS = {
    "persistence": "true",
    "autosave_interval": "30",  # seconds: a broker crash (not a clean stop) loses at most this much of the queue
    "max_queued_messages": "1000000",
    "max_queued_bytes": "268435456",  # 256 MB: the memory bound, whichever limit comes first
    "queue_qos0_messages": "true",  # Tasmota and Zigbee2MQTT publish at QoS 0 by default: queue those too
    "max_inflight_messages": "4000",  # per client; acknowledged after commit: the worker holds up to 7 batches of 500
    "persistent_client_expiration": "1d",  # a worker gone longer than a day is not coming back under that id
}


def find_mosquitto() -> str | None:
    """The Mosquitto binary: on PATH, or Debian's /usr/sbin (off PATH for ordinary users)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_config(data_dir: Path, host: str, port: int) -> str:
    lines = [
        "# Written by `maeul broker`; the production template is deploy/mosquitto.conf.",
        f"listener {port} {host}",
        "allow_anonymous true",
        f"persistence_location {data_dir}/",
        f"log_dest file {data_dir / 'mosquitto.log'}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages true",
        # Started as root, Mosquitto would switch to the `mosquitto` user and could not write its data directory.
        f"user {pwd.getpwuid(os.geteuid()).pw_name}",
    ]
    lines += [f"{key} {value}" for key, value in QUEUE_SETTINGS.items()]
    return "\n".join(lines) + "\n"


@dataclass
class BrokerHandle:
    url: str
    kind: str  # "mosquitto" or "amqtt"
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (Mosquitto then saves its persistence file), SIGKILL if it does not go."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def _wait_listening(process: subprocess.Popen[bytes], host: str, port: int, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the broker exited with {process.returncode}: {log_path.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the broker did not listen on {host}:{port} within {timeout:.0f} s")


def start_broker(
    data_dir: Path,
    port: int = 1883,
    host: str = "127.0.0.1",
    embedded: bool = False,
    timeout: float = 15.0,
) -> BrokerHandle:
    """Start Mosquitto (or, when it is missing or ``embedded``, amqtt) listening on ``host:port``, with its data
    and log under ``data_dir``; return once it accepts connections."""
    data_dir.mkdir(parents=True, exist_ok=True)
    mosquitto = None if embedded else find_mosquitto()
    log_path = data_dir / ("mosquitto.log" if mosquitto else "amqtt.log")
    if mosquitto:
        config = data_dir / "mosquitto.conf"
        config.write_text(mosquitto_config(data_dir, host, port))
        argv = [mosquitto, "-c", str(config)]
        output: IO[bytes] | int = subprocess.DEVNULL
    else:
        argv = [sys.executable, "-m", "maeul.sensing.broker", "amqtt", "--host", host, "--port", str(port)]
        output = log_path.open("ab")
    process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    if not isinstance(output, int):
        output.close()
    _wait_listening(process, host, port, log_path, timeout)
    return BrokerHandle(f"mqtt://{host}:{port}", "mosquitto" if mosquitto else "amqtt", process, log_path)


async def _serve_amqtt(host: str, port: int) -> None:
    from amqtt.broker import Broker  # type: ignore[import-untyped]

    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
    )
    await broker.start()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()
    await broker.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description="Maeul's embedded MQTT broker (amqtt)")
    parser.add_argument("kind", choices=["amqtt"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    args = parser.parse_args()
    asyncio.run(_serve_amqtt(args.host, args.port))


if __name__ == "__main__":
    main()

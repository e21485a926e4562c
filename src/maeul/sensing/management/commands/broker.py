from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from maeul.sensing.broker import start_broker


class Command(BaseCommand):
    help = (
        "Run the MQTT broker for this machine: Mosquitto with Maeul's settings (deploy/mosquitto.conf) if installed, "
        "else an embedded amqtt broker. Data and log under MAEUL_VAR_DIR/mqtt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1883)
        parser.add_argument("--embedded", action="store_true", help="Use amqtt even when Mosquitto is installed")

    def handle(self, *args: Any, **options: Any) -> None:
        # Handlers first: a stop asked for as soon as "listening" is printed still stops the broker cleanly.
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        handle = start_broker(
            settings.VAR_DIR / "mqtt", port=options["port"], host=options["host"], embedded=options["embedded"]
        )
        self.stdout.write(f"{handle.kind} listening at {handle.url} (log: {handle.log_path}); Ctrl-C stops it")
        while not stop.is_set() and handle.process.poll() is None:
            stop.wait(0.5)
        handle.stop()
        self.stdout.write(f"{handle.kind} stopped")

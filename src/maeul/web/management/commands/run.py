from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from maeul.areas import services as areas
from maeul.sensing import broker
from maeul.web import demo, demo_monitoring


class Command(BaseCommand):
    help = (
        "Set up (migrate, reference areas, demo site once) and start the web server, the worker, an MQTT broker "
        "(unless MAEUL_MQTT_URL names one), ingestion and, with the demo, the simulated households."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("MAEUL_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("MAEUL_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("MAEUL_WEB_WORKERS", "2")))
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo site")
        parser.add_argument(
            "--mqtt-port",
            type=int,
            default=int(os.environ.get("MAEUL_MQTT_PORT", "1883")),
            help="Port of the broker Maeul starts when MAEUL_MQTT_URL is not set (another free one if taken)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("collectstatic", verbosity=0, interactive=False)
        if not areas.reference_loaded():
            self.stdout.write("Loading administrative areas (first run)…")
            areas.load_reference()
        if not options["no_demo"] and not demo.demo_loaded():
            self.stdout.write("Loading the demo site (first run)…")
            demo.load_demo()
        url = f"http://{options['host']}:{options['port']}"
        python = sys.executable
        web = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "maeul.wsgi",
                "--bind",
                f"{options['host']}:{options['port']}",
                "--workers",
                str(options["workers"]),
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ]
        )
        worker = subprocess.Popen([python, "-m", "maeul.cli", "worker"])
        children = [web, worker]
        mqtt, own_broker = self._broker(options["mqtt_port"])
        ingest_site = demo.DEMO_SITE if not options["no_demo"] else os.environ.get("MAEUL_INGEST_SITE", "")
        if ingest_site:
            children.append(
                subprocess.Popen([python, "-m", "maeul.cli", "ingest", "--site", ingest_site, "--broker", mqtt])
            )
        if not options["no_demo"]:
            children.append(
                subprocess.Popen(
                    [
                        python,
                        "-m",
                        "maeul.cli",
                        "simulate",
                        *demo_monitoring.SIMULATION_ARGS,
                        "--broker",
                        mqtt,
                        "--speed",
                        "1",
                    ]
                )
            )
        self._banner(url, options["no_demo"], mqtt, own_broker)
        stopping = threading.Event()

        def stop(*_: Any) -> None:
            # Ctrl-C reaches the children too (same process group); a second Ctrl-C must not cut the shutdown short.
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping.is_set() and all(c.poll() is None for c in children):
            stopping.wait(0.5)
        self.stdout.write("Stopping Maeul…")
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if own_broker is not None:
            own_broker.stop()  # last, so ingestion has acknowledged what it stored
        self.stdout.write("Maeul stopped.")

    def _broker(self, port: int) -> tuple[str, broker.BrokerHandle | None]:
        """The broker named by MAEUL_MQTT_URL, or one Maeul starts: Mosquitto when installed, else embedded."""
        if os.environ.get("MAEUL_MQTT_URL"):
            return settings.MAEUL_MQTT_URL, None
        if not _port_free(port):
            port = broker.free_port()
        handle = broker.start_broker(settings.VAR_DIR / "mqtt", port=port)
        return handle.url, handle

    def _banner(self, url: str, no_demo: bool, mqtt: str, own_broker: broker.BrokerHandle | None) -> None:
        started = f" (started by Maeul: {own_broker.kind})" if own_broker else ""
        lines = [
            "",
            "=" * 72,
            f"Maeul is running at {url}/   (Ctrl-C stops everything)",
            f"Database: {settings.DATABASES['default']['NAME']}",
            f"API docs: {url}/api/docs",
            f"MQTT broker: {mqtt}{started} — point Zigbee2MQTT or Tasmota here",
        ]
        if not no_demo:
            lines += ["", f"Demo logins (password for all: {demo.DEMO_PASSWORD})"]
            for account in demo.DEMO_ACCOUNTS:
                lines.append(f"  {account.username:<18} {account.role.label} — {account.note}")
            lines += [
                "",
                "Officials, administrators and the ministry confirm with a 6-digit code; for demo",
                "accounts print it with:  .venv/bin/maeul demo-code <username>",
            ]
        lines.append("=" * 72)
        self.stdout.write("\n".join(lines))


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from maeul.areas import services as areas
from maeul.web import demo


class Command(BaseCommand):
    help = "Set up (migrate, reference areas, demo site once) and start the web server and the worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("MAEUL_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("MAEUL_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("MAEUL_WEB_WORKERS", "2")))
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo site")

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
        self._banner(url, options["no_demo"])
        children = [web, worker]
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
        self.stdout.write("Maeul stopped.")

    def _banner(self, url: str, no_demo: bool) -> None:
        lines = [
            "",
            "=" * 72,
            f"Maeul is running at {url}/   (Ctrl-C stops everything)",
            f"Database: {settings.DATABASES['default']['NAME']}",
            f"API docs: {url}/api/docs",
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

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from maeul.audit import retention

log = logging.getLogger("maeul.worker")


class Command(BaseCommand):
    help = (
        "Background jobs (retention now; ingestion, escalation and screening join later). Safe to restart: "
        "what is due is derived from the database, not from memory."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=60.0, help="Seconds between checks")
        parser.add_argument("--once", action="store_true", help="Run due jobs once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.is_set():
            if retention.due():
                record = retention.run()
                log.info(
                    "retention: %s access records deleted, %s households destroyed",
                    record.audit_rows_deleted,
                    record.households_destroyed,
                )
            if options["once"]:
                break
            stop.wait(options["interval"])
        log.info("worker stopped")

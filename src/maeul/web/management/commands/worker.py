from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from maeul.audit import retention
from maeul.disaster import services as disaster
from maeul.notify import services as notify
from maeul.safetynet import services as safetynet
from maeul.sensing.history import monitored_site_ids
from maeul.watch import live
from maeul.watch import services as watch
from maeul.web.maintenance import refresh_planner_statistics

log = logging.getLogger("maeul.worker")
STATISTICS_INTERVAL = 3600.0


class Command(BaseCommand):
    help = (
        "Background jobs: alert escalation, watching that ingestion is alive, disaster response (feeds, escalation "
        "of households not reached, messages), notification retries, retention. "
        "Safe to restart: what is due is derived from the database, not from memory."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=10.0, help="Seconds between checks")
        parser.add_argument("--once", action="store_true", help="Run due jobs once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        last_statistics = 0.0
        while not stop.is_set():
            if time.monotonic() - last_statistics > STATISTICS_INTERVAL:
                # Idempotent and cheap, so an in-memory interval is enough: a restart just runs it again.
                refresh_planner_statistics()
                last_statistics = time.monotonic()
            if retention.due():
                record = retention.run()
                log.info(
                    "retention: %s access records deleted, %s households destroyed",
                    record.audit_rows_deleted,
                    record.households_destroyed,
                )
            now = timezone.now()
            escalated = watch.escalate_due(now)
            if escalated:
                log.info("alerts: %s escalated to the next person", escalated)
            missed = safetynet.check_missed(now)
            if missed:
                log.info("check-ins: %s missed, alerts raised", missed)
            # The ingest worker watches itself too, but a dead one cannot: this notices it from outside.
            for site_id in monitored_site_ids():
                live.check_blind(site_id, now)
            done = disaster.work(now)
            if any(done.values()):
                log.info("disaster response: %s", done)
            retried = notify.retry_failed()
            if retried:
                log.info("notifications: %s delivered on retry", retried)
            if options["once"]:
                break
            stop.wait(options["interval"])
        log.info("worker stopped")

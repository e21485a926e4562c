from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maeul.watch import detectors, replay


class Command(BaseCommand):
    help = (
        "Run the detectors over EVENTS.csv (timestamp,household,device,kind,value) on a simulated clock and write "
        "one JSON alert per line. Tune a site's settings on its own history before changing them."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("events", help="CSV log, or - for standard input")
        parser.add_argument("--out", default="-", help="JSON Lines file for the alerts (default: standard output)")
        parser.add_argument("--config", help="JSON settings per household (see maeul.watch.replay.read_config)")
        parser.add_argument("--until", help="keep the clock running to this ISO 8601 time, to find silence at the end")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            settings = (
                replay.read_config(json.loads(Path(options["config"]).read_text("utf-8"))) if options["config"] else {}
            )
            until = datetime.fromisoformat(options["until"]) if options["until"] else None
            if until is not None and until.tzinfo is None:
                raise replay.ReplayInputError("--until needs an offset, e.g. +09:00")
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        started = time.perf_counter()
        source = sys.stdin if options["events"] == "-" else open(options["events"], encoding="utf-8-sig", newline="")  # noqa: SIM115
        out = sys.stdout if options["out"] == "-" else open(options["out"], "w", encoding="utf-8")  # noqa: SIM115
        try:
            count = replay.write_alerts(detectors.replay(replay.read_events(source), settings, until=until), out)
        except replay.ReplayInputError as exc:
            raise CommandError(f"{options['events']}: {exc}") from exc
        finally:
            if source is not sys.stdin:
                source.close()
            if out is not sys.stdout:
                out.close()
        self.stderr.write(f"{count} alerts in {time.perf_counter() - started:.1f} s")

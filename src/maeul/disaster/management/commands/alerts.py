"""``maeul alerts import FILE.xml [--dry-run] [--site SLUG]`` and ``maeul alerts poll``."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maeul.disaster import cap, services
from maeul.disaster.models import Channel
from maeul.sites.models import Site


class Command(BaseCommand):
    help = "CAP 1.2 alerts: apply a message from a file (or only show what it would do), or fetch the feeds now."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Apply a CAP 1.2 message from a file to the sites it concerns")
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true", help="Print what it would activate, as JSON; change nothing")
        imp.add_argument("--site", help="Only this site (slug); default every site")
        sub.add_parser("poll", help="Fetch every active feed now, whatever its interval")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "poll":
            count = services.poll_due()
            self.stdout.write(f"{count} message(s) fetched")
            return
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        sites = list(Site.objects.filter(slug=options["site"]) if options["site"] else Site.objects.order_by("slug"))
        if options["site"] and not sites:
            raise CommandError(f"no site “{options['site']}”")
        raw = path.read_bytes()
        if options["dry_run"]:
            try:
                out = services.preview(raw, sites)
            except cap.CapError as exc:
                raise CommandError(f"{path}: rejected ({exc.code}): {exc.detail}") from exc
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
            return
        got = services.receive(raw, channel=Channel.COMMAND, site_list=sites)
        if got.outcome == "rejected":
            raise CommandError(f"{path}: rejected ({got.reason}): {got.detail}; kept for inspection")
        sent = services.send_dispatches()
        self.stdout.write(
            json.dumps(
                {"outcome": got.outcome.value, "reason": got.reason, "detail": got.detail,
                 "responses": [r.pk for r in got.responses], "messages_sent": sent},
                ensure_ascii=False,
            )
        )  # fmt: skip

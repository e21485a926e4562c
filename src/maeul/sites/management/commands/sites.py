from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maeul.sites import services
from maeul.sites.models import ProgrammeType, Site


class Command(BaseCommand):
    help = "Sites: create a participating si/gun/gu, or list them."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a site from a si/gun/gu code")
        create.add_argument("slug")
        create.add_argument("name")
        create.add_argument("sigungu_code", help="10-digit si/gun/gu code, e.g. 1111000000")
        create.add_argument("--type", type=int, choices=[1, 2], default=2, help="Programme type")
        create.add_argument("--areas", default="", help="Comma-separated eup/myeon/dong codes (default: all)")
        sub.add_parser("list", help="List sites")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for site in Site.objects.select_related("sigungu"):
                self.stdout.write(
                    f"{site.slug}\t{site.name}\t{site.sigungu_id}\ttype {site.programme_type}"
                    f"\t{site.areas.count()} areas"
                )
            return
        codes = [c.strip() for c in options["areas"].split(",") if c.strip()]
        try:
            site = services.create_site(
                options["slug"], options["name"], options["sigungu_code"], ProgrammeType(options["type"]), codes or None
            )
        except services.SiteError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created site {site.slug} with {site.areas.count()} eup/myeon/dong"))

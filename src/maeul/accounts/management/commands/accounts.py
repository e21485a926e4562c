from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maeul.accounts import services
from maeul.accounts.models import Membership
from maeul.accounts.roles import Role
from maeul.sites.models import Site


class Command(BaseCommand):
    help = "Accounts: create one (prints a one-time temporary password) or list a site's accounts."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create an account")
        create.add_argument("username")
        create.add_argument("--role", required=True, choices=[r.value for r in Role])
        create.add_argument("--site", help="Site slug (every role but ministry)")
        create.add_argument("--areas", default="", help="Comma-separated 10-digit eup/myeon/dong codes")
        create.add_argument("--name", default="", help="Display name")
        listing = sub.add_parser("list", help="List a site's accounts")
        listing.add_argument("--site", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        site = None
        if options.get("site"):
            site = Site.objects.filter(slug=options["site"]).first()
            if site is None:
                raise CommandError(f"no site with slug {options['site']}")
        if options["action"] == "list":
            for m in Membership.objects.filter(site=site).select_related("user").order_by("user__username"):
                codes = ",".join(m.areas.values_list("code", flat=True))
                state = "active" if m.user.is_active else "closed"
                self.stdout.write(f"{m.user.username}\t{m.role}\t{codes}\t{state}")
            return
        area_codes = [c.strip() for c in options["areas"].split(",") if c.strip()]
        try:
            user, password = services.open_account(
                None, site, options["username"], Role(options["role"]), area_codes, display_name=options["name"]
            )
        except services.AccountError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(f"Created {user.username}. Temporary password (shown once): {password}")

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from maeul.accounts import services
from maeul.accounts.models import Membership


class Command(BaseCommand):
    help = "Print the current second-factor code of a DEMO account (refuses for real accounts)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None or not Membership.objects.filter(user=user, is_demo=True).exists():
            raise CommandError("only demo accounts have codes printed; real accounts use their authenticator app")
        try:
            self.stdout.write(services.current_code(user))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

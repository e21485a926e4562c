from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from maeul.web import demo


class Command(BaseCommand):
    help = "Load the demo sites, accounts and simulated households (once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--households", type=int, default=120)

    def handle(self, *args: Any, **options: Any) -> None:
        if demo.demo_loaded():
            self.stdout.write("Demo already loaded; data kept.")
            return
        demo.load_demo(households=options["households"])
        self.stdout.write(self.style.SUCCESS("Demo loaded."))

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from maeul.people import services
from maeul.protection.fields import generate_key


class Command(BaseCommand):
    help = (
        "Re-encrypt all protected fields under the first key of MAEUL_FIELD_KEY and rebuild blind indexes. "
        "Procedure: put a new key first (MAEUL_FIELD_KEY=new,old), restart, run this, then drop the old key."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--new-key", action="store_true", help="Only print a freshly generated key")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new_key"]:
            self.stdout.write(generate_key())
            return
        counts = services.rotate_field_key()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted: {counts}"))

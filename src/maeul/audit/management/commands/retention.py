from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from maeul.audit import retention


class Command(BaseCommand):
    help = "Run the retention job now (the worker runs it daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        record = retention.run()
        deleted, destroyed = record.audit_rows_deleted, record.households_destroyed
        erased = record.reporter_contacts_erased
        self.stdout.write(
            self.style.SUCCESS(
                f"access records deleted: {deleted}; households destroyed: {destroyed}; "
                f"hazard reporters' contacts erased: {erased}"
            )
        )

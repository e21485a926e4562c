from __future__ import annotations

import json
from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maeul.areas import services


class Command(BaseCommand):
    help = "Administrative areas: load the bundled reference, import a newer MOIS list, import boundaries."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("load", help="Load the bundled 2023-07-09 list and historical codes (first run only)")
        imp = sub.add_parser("import", help="Apply a newer MOIS administrative code list (TSV/CSV, UTF-8 or CP949)")
        imp.add_argument("file")
        imp.add_argument("--list-date", help="Date the list is valid for (YYYY-MM-DD); default today")
        imp.add_argument("--partial", action="store_true", help="Only apply the listed rows; absent codes stay")
        bnd = sub.add_parser("boundaries", help="Import administrative-dong outlines (GeoJSON FeatureCollection)")
        bnd.add_argument("file")
        bnd.add_argument("--code-property", default="adm_cd2", help="Feature property holding the 10-digit code")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "load":
            if services.reference_loaded():
                self.stdout.write("Areas already loaded; use `maeul areas import FILE` for a newer list.")
                return
            record = services.load_reference()
            self.stdout.write(self.style.SUCCESS(f"Loaded areas: {record.summary}"))
        elif action == "import":
            if not services.reference_loaded():
                services.load_reference()
            path = Path(options["file"])
            if not path.exists():
                raise CommandError(f"{path}: no such file")
            list_date = date.fromisoformat(options["list_date"]) if options["list_date"] else None
            try:
                result = services.import_mois_list(path.read_bytes(), path.name, list_date, options["partial"])
            except services.AreaListError as exc:
                raise CommandError(f"{path}: {exc}; nothing was changed") from exc
            self.stdout.write(json.dumps(result.counts, ensure_ascii=False, sort_keys=True))
            for change in result.changes:
                if change.kind != "added" or len(result.changes) < 200:
                    self.stdout.write(
                        f"{change.kind}\t{change.code}\t{change.related_code}\t{change.old_name}\t{change.new_name}"
                    )
        elif action == "boundaries":
            path = Path(options["file"])
            try:
                count = services.import_boundaries(
                    json.loads(path.read_text(encoding="utf-8")), options["code_property"], path.name
                )
            except (OSError, ValueError) as exc:
                raise CommandError(f"{path}: {exc}; nothing was changed") from exc
            self.stdout.write(self.style.SUCCESS(f"{count} boundaries stored"))

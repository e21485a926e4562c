"""`maeul screening …`: synthetic data now; intake, runs, training and evaluation join as they are built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from maeul.screening import synth


class Command(BaseCommand):
    help = "Welfare blind-spot screening: synthetic data (synth)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        gen = sub.add_parser("synth", help="write a synthetic site's screening files (see maeul.screening.synth)")
        gen.add_argument("--households", type=int, required=True)
        gen.add_argument("--out", default="var/screening/synth", help="directory to write (created)")
        gen.add_argument("--seed", type=int, default=7)
        gen.add_argument(
            "--truth",
            choices=("latent", "count"),
            default="latent",
            help="count: need follows the number of indicators alone (the rule's own world)",
        )
        gen.add_argument("--areas", help="comma-separated 10-digit area codes (default: Jongno-gu's 17 dongs)")
        gen.add_argument(
            "--random-visits",
            type=float,
            default=0.05,
            help="share of households visited at random in the past (an unbiased evaluation sample)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "synth":
            self._synth(options)

    def _synth(self, options: dict[str, Any]) -> None:
        areas = tuple(a.strip() for a in options["areas"].split(",")) if options["areas"] else synth.JONGNO_AREAS
        if any(len(a) != 10 or not a.isdigit() for a in areas):
            raise CommandError("--areas takes 10-digit administrative codes separated by commas")
        try:
            result = synth.generate(
                Path(options["out"]),
                options["households"],
                seed=options["seed"],
                areas=areas,
                truth=options["truth"],
                random_visits=options["random_visits"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.households} households ({result.persons} persons, {result.in_need} in need), "
            f"{result.outcomes} past visits, {result.flagged} on the national list → {result.out_dir}"
        )

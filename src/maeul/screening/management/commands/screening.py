"""`maeul screening …`: synthetic data, a screening run, training a model, the national list, programme figures."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from maeul.accounts.principal import principal_for
from maeul.audit.services import Actor
from maeul.screening import services, synth
from maeul.sites.models import Site


class Command(BaseCommand):
    help = (
        "Welfare blind-spot screening: synth (synthetic files), run (screen a directory of files and store the "
        "outreach list), train (a model from recorded outcomes, waiting for approval), import-national (the "
        "national system's list), figures (programme counts)."
    )

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
        run = sub.add_parser("run", help="screen DIR (catalogue.csv, households, persons, source files)")
        run.add_argument("directory")
        run.add_argument("--user", required=True, help="the site administrator running it (recorded)")
        run.add_argument("--as-of", help="screening date YYYY-MM-DD (default: today)")
        run.add_argument("--capacity", type=int, default=20, help="visits per area in this round")
        run.add_argument("--engine", choices=("duckdb", "pyspark"), default="duckdb")
        train = sub.add_parser("train", help="train a model on recorded outcomes (it waits for an official's approval)")
        train.add_argument("--user", required=True)
        train.add_argument("--history", help="a directory of past screening files with outcomes.csv")
        train.add_argument("--as-of", help="date of the history's files (default: today)")
        train.add_argument("--capacity-share", type=float, default=0.005, help="visits per round / households")
        national = sub.add_parser("import-national", help="import the national blind-spot system's list (CSV)")
        national.add_argument("file")
        national.add_argument("--user", required=True)
        figures = sub.add_parser("figures", help="the programme's counts for a site (no personal data)")
        figures.add_argument("site")
        figures.add_argument("--since", required=True)
        figures.add_argument("--until", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "synth":
                self._synth(options)
            elif action == "run":
                run = services.run_screening(
                    self._actor(options["user"]),
                    Path(options["directory"]),
                    as_of=_date(options["as_of"]),
                    capacity_per_area=options["capacity"],
                    engine=options["engine"],
                )
                if run.status == "rejected":
                    for file, row, column, reason in run.problems:
                        self.stderr.write(f"{file}:{row}:{column}: {reason}")
                    raise CommandError(f"run {run.pk} rejected: nothing was applied")
                self.stdout.write(
                    f"run {run.pk} ({run.period}, {run.scorer}): {run.households} households, "
                    f"{run.candidates.count()} listed, {run.quarantined} rows quarantined, timings {run.timings}"
                )
            elif action == "train":
                version = services.train_model(
                    self._actor(options["user"]),
                    as_of=_date(options["as_of"]),
                    history=Path(options["history"]) if options["history"] else None,
                    capacity_share=options["capacity_share"],
                )
                report = version.evaluation
                model, rule = report["model"], report["rule"]
                self.stdout.write(
                    f"model v{version.version} waiting for approval: PR-AUC {model['pr_auc']:.3f} "
                    f"(rule {rule['pr_auc']:.3f}), precision at capacity "
                    f"{model['precision_at_capacity']:.3f} (rule {rule['precision_at_capacity']:.3f})"
                )
            elif action == "import-national":
                result = services.import_national_list(
                    self._actor(options["user"]), Path(options["file"]).read_bytes(), Path(options["file"]).name
                )
                self.stdout.write(f"{result.created} imported, {result.already_imported} imported before")
            elif action == "figures":
                site = Site.objects.filter(slug=options["site"]).first()
                if site is None:
                    raise CommandError(f"no site {options['site']}")
                figures = services.programme_figures(site.pk, _date(options["since"]), _date(options["until"]))
                self.stdout.write(json.dumps(figures, indent=2))
        except services.NationalListRejected as exc:
            for p in exc.problems[:200]:
                self.stderr.write(f"{p.file}:{p.row}:{p.column}: {p.reason}")
            raise CommandError("nothing was imported") from exc
        except services.ScreeningError as exc:
            raise CommandError(exc.message) from exc

    def _actor(self, username: str) -> Actor:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active account {username}")
        return Actor(principal=principal_for(user), channel="command")

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


def _date(raw: str | None) -> date:
    if not raw:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"{raw}: not a date (YYYY-MM-DD)") from exc

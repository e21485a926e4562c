"""The demo site's blind-spot screening: the national list imported, a screening round ranked by the rule (no model
approved yet) with explanations, a few households linked to the register and visited — one found in need (a case
opened), one not reached (a contact check opened) — a resident's request for a review, and a model trained on the
synthetic history waiting for the welfare official's approval. Everything goes through ``screening.services``."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from django.utils import timezone

from maeul.accounts.principal import principal_for
from maeul.audit.services import Actor
from maeul.people.models import Household
from maeul.screening import services
from maeul.screening.models import Candidate, Result
from maeul.sites.models import Site

CHEONGUN = "1111051500"
SAJIK = "1111053000"
DEMO_HOUSEHOLDS = 6000


def _actor(user: Any) -> Actor:
    return Actor(principal=principal_for(user), channel="command")


def load_screening(site: Site, users: dict[str, Any]) -> None:
    # Imported here: the synthetic generator needs NumPy and Arrow, and `maeul run`, which stays up for as long as the
    # server does, imports this module only to load the demo once.
    from maeul.screening import synth

    admin = _actor(users["jongno-admin"])
    official = _actor(users["welfare"])
    today = timezone.localdate()
    as_of = date(today.year, today.month, 1)
    with tempfile.TemporaryDirectory(prefix="maeul-demo-screening-") as tmp:
        directory = Path(tmp)
        synth.generate(directory, DEMO_HOUSEHOLDS, seed=2026, as_of=as_of, random_visits=0.3)
        services.import_national_list(admin, (directory / "national_list.csv").read_bytes())
        run = services.run_screening(admin, directory, as_of=as_of, capacity_per_area=8)
        # The demo model learns from the synthetic history; it waits for the welfare official's approval.
        services.train_model(admin, as_of=as_of, history=directory, capacity_share=0.02)
    listed = list(Candidate.objects.filter(run=run, area_id__in=[CHEONGUN, SAJIK]).order_by("area_id", "rank"))
    registered = list(
        Household.objects.filter(site=site, area_id__in=[CHEONGUN, SAJIK], destroyed_at=None)
        .exclude(welfare_cases__status="open")
        .order_by("-pk")
        .values_list("area_id", "reference")
    )
    by_area: dict[str, list[str]] = {}
    for area, reference in registered:
        by_area.setdefault(area, []).append(reference)
    linked: list[Candidate] = []
    for candidate in listed:
        references = by_area.get(candidate.area_id, [])
        if references and len(linked) < 4 and candidate.rank <= 4:
            services.link_household(official, candidate.pk, references.pop())
            linked.append(candidate)
    if linked:
        services.assign(official, linked[0].pk, users["welfare"].pk, "visit")
        services.record_result(
            official, linked[0].pk, Result.IN_NEED, "가스 끊김, 건강보험료 체납. 긴급지원 상담 필요."
        )
    if len(linked) > 1:
        services.assign(official, linked[1].pk, users["helper"].pk, "call")
        services.record_result(official, linked[1].pk, Result.NO_CONTACT, "세 번 전화했으나 받지 않음")
    if len(linked) > 2:
        services.assign(official, linked[2].pk, users["helper"].pk, "visit")
    unlinked = next((c for c in listed if c.pk not in {x.pk for x in linked}), None)
    if unlinked is not None:
        services.request_review(
            official, unlinked.pk, kind="human_review", channel="전화", request="왜 제가 조사 대상인지 알고 싶습니다."
        )

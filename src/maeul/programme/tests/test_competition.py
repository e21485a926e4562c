"""A whole competition: a call, 33 applications (some invalid and rejected with reasons), 5 experts of whom one
declares a conflict, independent scoring, normalisation, ranking, selection of 22 and budgets within every cap."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from maeul.accounts.roles import Role
from maeul.conftest import MakeUser, actor_of
from maeul.programme import services
from maeul.programme.errors import ProgrammeError
from maeul.programme.models import (
    Application,
    ApplicationStatus,
    CallStatus,
    Grant,
    Notice,
    Record,
    RecordKind,
    Result,
)
from maeul.programme.schemas import BudgetLineInput
from maeul.programme.tests.conftest import application_input, attach_all, local_governments, open_call


def test_a_whole_competition(ministry: User, make_user: MakeUser) -> None:
    call = open_call(ministry)
    governments = local_governments(33)
    assert len(governments) == 33
    rng = random.Random(8)
    applications: list[Application] = []
    officers: dict[int, User] = {}
    for n, government in enumerate(governments):
        officer = make_user(Role.LOCAL_GOVERNMENT, area_codes=[government.code])
        national = rng.choice([40_000_000, 45_000_000, 50_000_000])
        data = application_input(government, national=national, local=national + rng.choice([0, 5_000_000]))
        if n == 0:  # asks more than the cap
            data = application_input(government, national=60_000_000, local=60_000_000)
        elif n == 1:  # national funds above 50 %
            data = application_input(government, national=40_000_000, local=20_000_000)
        elif n == 2:  # an eup/myeon/dong of another local government
            data = data.model_copy(update={"target_area_codes": [*data.target_area_codes, "1111051500"]})
        elif n == 3:  # a plan of one line and no KPI
            data = data.model_copy(update={"plan": "센서 설치", "kpi_targets": []})
        application = services.create_application(actor_of(officer), call.pk, data)
        attach_all(officer, application, ("plan",) if n == 4 else ("plan", "matching_funds"))
        applications.append(services.submit_application(actor_of(officer), application.pk))
        officers[application.pk] = officer

    rejected = {
        a.reference: {p["code"] for p in a.problems} for a in applications if a.status == ApplicationStatus.REJECTED
    }
    assert list(rejected.values()) == [
        {"over_cap"},
        {"matching_ratio"},
        {"area_outside"},
        {"plan_too_short", "no_kpi"},
        {"missing_matching_funds"},
    ]
    matching = next(
        a for a in applications if a.status == ApplicationStatus.REJECTED and a.problems[0]["code"] == "matching_ratio"
    )
    # The message names the least local amount needed and what the budget adds (in the site's language, Korean).
    assert "40,000,000" in matching.problems[0]["message"] and "20,000,000" in matching.problems[0]["message"]
    eligible = [a for a in applications if a.status == ApplicationStatus.SUBMITTED]
    assert len(eligible) == 28

    with pytest.raises(ProgrammeError) as early:
        services.close_call(actor_of(ministry), call.pk)
    assert early.value.code == "deadline_not_passed"
    services.close_call(actor_of(ministry), call.pk, today=call.closes_on + timedelta(days=1))

    experts = []
    for i in range(5):
        account = make_user(Role.EXPERT, username=f"expert-{i}")
        experts.append(services.register_expert(actor_of(ministry), account.pk, f"대학교 {i}", "사회복지"))
    services.form_panel(actor_of(ministry), call.pk, "1차 평가위원회", [e.pk for e in experts], [])

    conflicted_expert, conflicted_application = experts[0], eligible[5]
    criteria = list(call.criteria.all())
    quality = {a.pk: rng.uniform(0.45, 0.95) for a in eligible}
    leniency = [0.0, 0.08, -0.1, 0.03, -0.04]  # some experts score higher or lower across the board
    for expert, lean in zip(experts, leniency, strict=True):
        actor = actor_of(expert.account)
        for application in eligible:
            if expert == conflicted_expert and application == conflicted_application:
                services.declare(actor, application.pk, conflicted=True, reason="해당 지자체 자문위원으로 활동 중")
                with pytest.raises(ProgrammeError) as refused:
                    services.score(actor, application.pk, {c.code: c.points for c in criteria})
                assert refused.value.code == "conflicted"
                continue
            with pytest.raises(ProgrammeError) as undeclared:
                services.score(actor, application.pk, {c.code: 1 for c in criteria})
            assert undeclared.value.code == "declare_first"
            services.declare(actor, application.pk, conflicted=False)
            level = min(1.0, max(0.0, quality[application.pk] + lean + rng.uniform(-0.05, 0.05)))
            services.score(actor, application.pk, {c.code: round(c.points * level, 1) for c in criteria})

    with pytest.raises(ProgrammeError) as twice:
        services.score(actor_of(experts[1].account), eligible[0].pk, {c.code: 1 for c in criteria})
    assert twice.value.code == "scored"
    # A rejected application reaches no expert.
    assert (
        not services.visible_applications(actor_of(experts[1].account).principal)
        .filter(status=ApplicationStatus.REJECTED)
        .exists()
    )

    results = services.rank_applications(actor_of(ministry), call.pk)
    assert [r.rank for r in results] == list(range(1, 29))
    by_application = {r.application_id: r for r in results}
    assert by_application[conflicted_application.pk].experts == 4
    assert all(r.experts == 5 for a, r in by_application.items() if a != conflicted_application.pk)
    scores = [r.score for r in sorted(results, key=lambda r: r.rank)]
    assert scores == sorted(scores, reverse=True)

    grants = services.select(actor_of(ministry), call.pk)
    assert len(grants) == 22
    awarded = {g.application_id: g.national_krw for g in grants}
    assert sum(awarded.values()) <= call.national_total_krw
    for grant in Grant.objects.filter(pk__in=[g.pk for g in grants]).select_related("application"):
        requested = services.application_totals(grant.application).national_krw
        assert 0 < grant.national_krw <= min(requested, call.cap_per_local_government_krw)
        assert sum(line.national_budget_krw for line in grant.lines.all()) == grant.national_krw
        # The local government's share still matches: national funds at most 50 % of the grant's budget.
        assert grant.national_krw <= grant.local_krw
    selected = Result.objects.filter(application__call=call, selected=True)
    assert sorted(selected.values_list("rank", flat=True)) == list(range(1, 23))
    # Bands: ranks 1–8 at most 50 M, 9–16 at most 45 M, 17–22 at most 40 M.
    for result in selected:
        band = 50_000_000 if result.rank <= 8 else 45_000_000 if result.rank <= 16 else 40_000_000
        assert result.awarded_krw <= band

    notices = services.issue_notices(actor_of(ministry), call.pk)
    assert len(notices) == 33
    outcomes = {n.outcome for n in notices}
    assert outcomes == {ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED, ApplicationStatus.REJECTED}
    rejected_notice = Notice.objects.get(application__problems__0__code="over_cap")
    assert "60,000,000" in rejected_notice.body and "50,000,000" in rejected_notice.body
    call.refresh_from_db()
    assert call.status == CallStatus.DECIDED

    # An applicant sees its own notice only.
    first = applications[10]
    notice = services.notice_for(actor_of(officers[first.pk]), first.pk)
    assert notice is not None and notice.read_at is not None
    assert services.visible_applications(actor_of(officers[first.pk]).principal).count() == 1

    kinds = list(Record.objects.filter(call=call).values_list("kind", flat=True))
    for step in (
        RecordKind.CALL_CREATED,
        RecordKind.CALL_OPENED,
        RecordKind.APPLICATION_REJECTED,
        RecordKind.APPLICATION_SUBMITTED,
        RecordKind.CALL_CLOSED,
        RecordKind.PANEL_FORMED,
        RecordKind.CONFLICT_DECLARED,
        RecordKind.NO_CONFLICT_DECLARED,
        RecordKind.SCORED,
        RecordKind.RANKED,
        RecordKind.SELECTED,
        RecordKind.NOTICES_ISSUED,
    ):
        assert step in kinds, step
    assert kinds.count(RecordKind.SCORED) == 28 * 5 - 1
    assert kinds.count(RecordKind.APPLICATION_REJECTED) == 5


def test_a_rejected_application_can_be_corrected_before_the_deadline(ministry: User, make_user: MakeUser) -> None:
    call = open_call(ministry)
    government = local_governments(1)[0]
    officer = make_user(Role.LOCAL_GOVERNMENT, area_codes=[government.code])
    application = services.create_application(
        actor_of(officer), call.pk, application_input(government, national=40_000_000, local=10_000_000)
    )
    attach_all(officer, application)
    application = services.submit_application(actor_of(officer), application.pk)
    assert application.status == ApplicationStatus.REJECTED
    services.update_application(
        actor_of(officer), application.pk, application_input(government, national=40_000_000, local=40_000_000)
    )
    application = services.submit_application(actor_of(officer), application.pk)
    assert application.status == ApplicationStatus.SUBMITTED and application.problems == []
    with pytest.raises(ProgrammeError) as again:
        services.create_application(actor_of(officer), call.pk, application_input(government))
    assert again.value.code == "already_applied"


def test_input_that_names_no_area_is_refused_and_nothing_is_stored(ministry: User, make_user: MakeUser) -> None:
    call = open_call(ministry)
    government = local_governments(1)[0]
    officer = make_user(Role.LOCAL_GOVERNMENT, area_codes=[government.code])
    with pytest.raises(ProgrammeError) as refused:
        services.create_application(
            actor_of(officer), call.pk, application_input(government, target_area_codes=["9999999999"])
        )
    assert refused.value.field == "target_area_codes"
    assert not Application.objects.exists()


def test_a_call_whose_bands_exceed_the_national_total_is_refused() -> None:
    from pydantic import ValidationError

    from maeul.programme.schemas import Band, CallInput

    base = services.default_call(2026, services.timezone.localdate()).model_dump()
    with pytest.raises(ValidationError, match="more than the national total"):
        CallInput.model_validate({**base, "bands": [Band(ranks=22, amount_krw=50_000_000).model_dump()]})
    with pytest.raises(ValidationError, match="add up to 100"):
        CallInput.model_validate({**base, "criteria": [{"code": "a", "name": "A", "points": 90}]})


def test_pro_rata_allocation_fits_both_caps(ministry: User, make_user: MakeUser) -> None:
    from maeul.programme import evaluation

    requests = [(i, 50_000_000) for i in range(22)]
    amounts = evaluation.allocate(requests, "pro_rata", 50_000_000, 1_000_000_000, [])
    assert sum(amounts.values()) <= 1_000_000_000
    assert all(a <= 50_000_000 for a in amounts.values())
    assert len(set(amounts.values())) == 1 and amounts[0] == 45_454_000


def test_z_scores_remove_an_experts_leniency() -> None:
    from datetime import datetime

    from maeul.programme import evaluation

    # Expert 2 gives everyone 20 points more; expert 3 does not score application 1 (a conflict).
    sheets = [
        evaluation.Sheet(1, 1, 60, 10),
        evaluation.Sheet(1, 2, 70, 12),
        evaluation.Sheet(1, 3, 80, 14),
        evaluation.Sheet(2, 1, 80, 14),
        evaluation.Sheet(2, 2, 90, 16),
        evaluation.Sheet(2, 3, 100, 18),
        evaluation.Sheet(3, 2, 70, 12),
        evaluation.Sheet(3, 3, 80, 15),
    ]
    at = datetime(2026, 3, 1)
    ranked = evaluation.rank(sheets, "z_score", {1: at, 2: at, 3: at})
    assert [r.application_id for r in ranked] == [3, 2, 1]


def test_ties_are_broken_by_the_heaviest_criterion_then_the_earlier_submission() -> None:
    from datetime import datetime

    from maeul.programme import evaluation

    sheets = [evaluation.Sheet(1, 1, 70, 10), evaluation.Sheet(1, 2, 70, 12), evaluation.Sheet(1, 3, 70, 12)]
    ranked = evaluation.rank(
        sheets, "trimmed_mean", {1: datetime(2026, 3, 1), 2: datetime(2026, 3, 3), 3: datetime(2026, 3, 2)}
    )
    assert [r.application_id for r in ranked] == [3, 2, 1]
    assert ranked[0].tie_note == "tie broken by the earlier submission"
    assert ranked[2].tie_note == "tie broken by the highest-weighted criterion"


def test_budget_line_input_refuses_negative_amounts() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        BudgetLineInput(category="devices", description="센서", national_krw=-1, local_krw=0)

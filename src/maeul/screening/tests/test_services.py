from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, MakeUser, actor_of
from maeul.people import services as people
from maeul.people.errors import NotFound
from maeul.screening import services, synth
from maeul.screening.models import Candidate, ModelStatus, OutreachStatus, Result, RunStatus, ScreeningRun
from maeul.screening.problems import RRN_REASON
from maeul.sites.models import Site
from maeul.welfare.models import Case, VerificationTask

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("screening")
    synth.generate(directory, 6000, seed=21, random_visits=0.3)
    return directory


def _run(user: User, directory: Path, capacity: int = 5) -> ScreeningRun:
    return services.run_screening(actor_of(user), directory, as_of=AS_OF, capacity_per_area=capacity)


def test_rule_run_lists_capacity_per_area_with_explanations(site_admin: User, official: User, files: Path) -> None:
    run = _run(site_admin, files)
    assert run.status == RunStatus.APPLIED
    assert run.scorer == "rule"
    assert run.households == 6000
    assert run.quarantined == 0
    assert Candidate.objects.filter(run=run).count() == 17 * 5
    mine = services.outreach_list(actor_of(official))
    assert len(mine) == 5
    assert {r.area_code for r in mine} == {CHEONGUN}
    assert [r.rank for r in mine] == [1, 2, 3, 4, 5]
    # Under the rule every present indicator counts the same; the explanation names them in plain words.
    assert all(r.explanation for r in mine)
    assert mine[0].indicator_count >= mine[-1].indicator_count


def test_rejected_files_apply_nothing(site_admin: User, files: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(files, broken)
    path = broken / "water.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[1][0] = "900101-1234567"  # a resident registration number in place of a pseudonymous key
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    run = _run(site_admin, broken)
    assert run.status == RunStatus.REJECTED
    assert run.problems == [["water.csv", 2, "household_key", RRN_REASON]]
    assert not Candidate.objects.filter(run=run).exists()


def test_quarantine_reports_file_row_column_reason(site_admin: User, files: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(files, copy)
    path = copy / "gas.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[3][1] = "-2"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    run = _run(site_admin, copy)
    assert run.status == RunStatus.APPLIED
    row = run.quarantine.get()
    assert (row.file, row.row, row.column, row.reason) == ("gas.csv", 4, "gas_arrears_months", "outside 0–120")


def test_results_open_cases_and_checks_through_welfare(
    site_admin: User, official: User, household: people.HouseholdView, files: Path
) -> None:
    run = _run(site_admin, files)
    first, second, third = Candidate.objects.filter(run=run, area_id=CHEONGUN).order_by("rank")[:3]
    actor = actor_of(official)
    services.link_household(actor, first.pk, household.reference)
    outcome = services.record_result(actor, first.pk, Result.IN_NEED, "전기요금 체납, 식사 거름")
    assert outcome.case_id is not None
    case = Case.objects.get(pk=outcome.case_id)
    assert case.source == "screening" and case.household_id == household.id
    # No contact on a household the register knows: a contact check opens and the outreach stays open.
    other = people.register_household(actor_of(site_admin), household_data_other())
    services.link_household(actor, second.pk, other.reference)
    outcome = services.record_result(actor, second.pk, Result.NO_CONTACT)
    assert outcome.verification_task_id is not None
    assert VerificationTask.objects.get(pk=outcome.verification_task_id).kind == "contact"
    assert outcome.outreach.status == OutreachStatus.VERIFYING
    # Not linked yet: nothing can be opened, and the outreach is not closed either.
    outcome = services.record_result(actor, third.pk, Result.WRONG_ADDRESS)
    assert outcome.needs_household and outcome.outreach.status == OutreachStatus.VERIFYING
    # Households followed by an open case are not listed again.
    rerun = _run(site_admin, files)
    assert not Candidate.objects.filter(run=rerun, household_key=first.household_key).exists()


def household_data_other() -> people.HouseholdInput:
    from maeul.conftest import household_data

    return household_data(name="박철수", phone="010-9876-5432", address="서울특별시 종로구 자하문로 10")


def test_model_needs_approval_by_someone_else_then_ranks(
    site_admin: User, official: User, files: Path, make_user: MakeUser, site: Site
) -> None:
    version = services.train_model(actor_of(site_admin), as_of=AS_OF, history=files, capacity_share=0.02)
    assert version.status == ModelStatus.DRAFT and version.version == 1
    report = version.evaluation
    assert {"rule", "model", "subgroups", "gaps"} <= set(report)
    assert {row["attribute"] for row in report["subgroups"]} == {"age_band", "sex", "area"}
    assert version.data_from is not None and version.data_until is not None
    # Not used before approval: the next run still follows the rule.
    assert _run(site_admin, files).scorer == "rule"
    with pytest.raises(services.ScreeningError) as refused:
        services.decide_model(actor_of(site_admin), version.pk, approve=True, note="ok")
    assert refused.value.code == "four_eyes"
    with pytest.raises(NotFound):
        services.decide_model(actor_of(make_user(Role.HELPER, site)), version.pk, approve=True, note="ok")
    services.decide_model(actor_of(official), version.pk, approve=True, note="카드의 지표와 하위집단 표 확인")
    run = _run(site_admin, files)
    assert run.scorer == "model" and run.model_id == version.pk
    top = Candidate.objects.filter(run=run).order_by("-score").first()
    assert top is not None and top.factors and top.factors[0]["weight"] > 0
    assert 0 <= top.score <= 1


def test_review_request_keeps_the_explanation_and_tracks_the_deadline(
    site_admin: User, official: User, files: Path
) -> None:
    run = _run(site_admin, files)
    candidate = Candidate.objects.filter(run=run, area_id=CHEONGUN).first()
    assert candidate is not None
    review = services.request_review(
        actor_of(official), candidate.pk, kind="human_review", channel="phone", request="왜 제가 대상인가요?"
    )
    assert review.due_on == timezone.localdate() + timedelta(days=services.RESPONSE_DAYS)
    texts = services.review_texts(review)
    assert services.explanation(candidate) in texts["explanation"]
    with pytest.raises(services.ScreeningError):
        services.answer_review(actor_of(official), review.pk, " ")
    services.answer_review(actor_of(official), review.pk, "담당자가 다시 검토했습니다.")
    assert services.reviews(actor_of(official).principal) == []


def test_national_list_is_imported_once_and_results_reported_back(
    site_admin: User, official: User, files: Path
) -> None:
    content = (files / "national_list.csv").read_bytes()
    first = services.import_national_list(actor_of(site_admin), content)
    assert first.created > 0 and first.already_imported == 0
    again = services.import_national_list(actor_of(site_admin), content)
    assert again.created == 0 and again.already_imported == first.created
    bad = content.replace(b",F,1111", b",X,1111", 1)
    with pytest.raises(services.NationalListRejected) as rejected:
        services.import_national_list(actor_of(site_admin), bad, "list.csv")
    assert rejected.value.problems[0].column == "sex" and rejected.value.problems[0].file == "list.csv"
    run = _run(site_admin, files, capacity=50)
    flagged = Candidate.objects.filter(run=run, area_id=CHEONGUN).exclude(flagged=None).first()
    assert flagged is not None and flagged.flagged is not None
    services.record_result(actor_of(official), flagged.pk, Result.NOT_IN_NEED)
    text, count = services.export_national_results(actor_of(site_admin), flagged.flagged.round, "통보")
    assert count == first.created
    assert f"{flagged.flagged.national_case_no},{flagged.flagged.round},not_eligible,N," in text


def test_programme_figures_are_counts_only(
    site_admin: User, official: User, household: people.HouseholdView, files: Path, site: Site
) -> None:
    run = _run(site_admin, files)
    candidate = Candidate.objects.filter(run=run, area_id=CHEONGUN).first()
    assert candidate is not None
    services.link_household(actor_of(official), candidate.pk, household.reference)
    services.record_result(actor_of(official), candidate.pk, Result.IN_NEED)
    figures = services.programme_figures(site.pk, AS_OF - timedelta(days=1), timezone.localdate() + timedelta(days=1))
    assert figures["blind_spot_households_found"] == 1
    assert figures["blind_spot_households_supported"] == 0
    assert figures["share_linked_to_support"] == 0.0
    assert figures["households_listed"] == 17 * 5
    assert all(isinstance(v, int | float) or v is None for v in figures.values())

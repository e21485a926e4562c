"""The programme's pages: the ministry writes a call, a local government applies with files and sees why it is
rejected, an expert declares and scores, the local government reports spending; and each sees only its own."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from maeul.accounts.roles import Role
from maeul.conftest import MakeUser, actor_of, signed_in
from maeul.programme import services
from maeul.programme.models import Application, ApplicationStatus, Call, Scoresheet, Spending
from maeul.programme.schemas import SpendingInput
from maeul.programme.tests.conftest import PLAN, attach_all, local_governments, open_call, target_areas


def test_the_ministry_writes_a_call_and_a_bad_rubric_is_refused_with_the_reason(ministry: User) -> None:
    client = signed_in(ministry)
    form = client.get("/programme/calls/new/")
    assert form.status_code == 200
    values = dict(form.context["values"])
    values = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}
    values["types"] = ["1", "2"]
    values["required_attachments"] = ["plan"]
    values["criteria"] = "need | 필요성 | 50\nplan | 계획 | 40"
    refused = client.post("/programme/calls/new/", values)
    assert refused.status_code == 200
    assert "100" in refused.context["errors"]["criteria"]
    assert not Call.objects.exists()
    values["criteria"] = "need | 필요성 | 50\nplan | 계획 | 50"
    created = client.post("/programme/calls/new/", values)
    assert created.status_code == 302
    call = Call.objects.get()
    assert [c.points for c in call.criteria.all()] == [50, 50]
    assert call.cap_per_local_government_krw == 50_000_000 and call.sites_to_select == 22


def test_a_local_government_applies_on_the_page_and_sees_why_it_was_rejected(
    ministry: User, make_user: MakeUser
) -> None:
    call = open_call(ministry)
    government = local_governments(1)[0]
    officer = make_user(Role.LOCAL_GOVERNMENT, area_codes=[government.code])
    client = signed_in(officer)
    assert client.get(f"/programme/calls/{call.pk}/apply/").status_code == 200
    response = client.post(
        f"/programme/calls/{call.pk}/apply/",
        {
            "programme_type": "2",
            "title": "스마트 안전 마을",
            "plan": PLAN,
            "target_area_codes": target_areas(government),
            "line_category": ["devices", "community"],
            "line_description": ["센서", "협의체"],
            "line_national": ["30,000,000", "10,000,000"],
            "line_local": ["10,000,000", "10,000,000"],
            "kpi_households_monitored": "120",
        },
    )
    assert response.status_code == 302
    application = Application.objects.get()
    client.post(
        f"/programme/applications/{application.pk}/attach/",
        {"kind": "plan", "file": SimpleUploadedFile("계획서.pdf", b"%PDF-1.4", content_type="application/pdf")},
    )
    client.post(f"/programme/applications/{application.pk}/submit/")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    page = client.get(f"/programme/applications/{application.pk}/").content.decode()
    assert "KRW 40,000,000" in page or "40,000,000원" in page  # the matching the ratio needs
    assert application.attachments.count() == 1
    download = client.get(f"/programme/attachments/{application.attachments.get().pk}/")
    assert download.status_code == 200
    # Another local government sees none of it.
    other = make_user(Role.LOCAL_GOVERNMENT, area_codes=[local_governments(2)[1].code])
    assert signed_in(other).get(f"/programme/applications/{application.pk}/").status_code == 404
    assert signed_in(other).get(f"/programme/attachments/{application.attachments.get().pk}/").status_code == 404


def test_an_expert_declares_and_scores_on_the_page(ministry: User, make_user: MakeUser) -> None:
    call = open_call(ministry)
    governments = local_governments(2)
    applications = []
    for government in governments:
        officer = make_user(Role.LOCAL_GOVERNMENT, area_codes=[government.code])
        from maeul.programme.tests.conftest import application_input

        application = services.create_application(actor_of(officer), call.pk, application_input(government))
        attach_all(officer, application)
        applications.append(services.submit_application(actor_of(officer), application.pk))
    services.close_call(actor_of(ministry), call.pk, today=call.closes_on + timedelta(days=1))
    experts = [make_user(Role.EXPERT, username=f"e{i}") for i in range(3)]
    registered = [services.register_expert(actor_of(ministry), e.pk, "대학") for e in experts]
    services.form_panel(actor_of(ministry), call.pk, "패널", [e.pk for e in registered], [])
    client = signed_in(experts[0])
    home = client.get("/programme/").content.decode()
    assert applications[0].reference in home
    target = applications[0]
    client.post(f"/programme/applications/{target.pk}/evaluation/declare/", {"conflicted": "no"})
    points = {f"points_{c.code}": str(c.points - 2) for c in call.criteria.all()}
    client.post(f"/programme/applications/{target.pk}/evaluation/score/", {**points, "comment": "구체적"})
    sheet = Scoresheet.objects.get()
    assert sheet.total == 100 - 2 * call.criteria.count()
    # Scores out of range are refused with the criterion named; nothing is stored.
    other = applications[1]
    client.post(f"/programme/applications/{other.pk}/evaluation/declare/", {"conflicted": "no"})
    too_high = {**points, f"points_{call.criteria.first().code}": "999"}  # type: ignore[union-attr]
    page = client.post(f"/programme/applications/{other.pk}/evaluation/score/", too_high, follow=True)
    assert Scoresheet.objects.count() == 1
    assert call.criteria.first().name in page.content.decode()  # type: ignore[union-attr]
    # An expert's page never shows another expert's scores.
    assert "구체적" not in signed_in(experts[1]).get(f"/programme/applications/{target.pk}/").content.decode()


def test_spending_over_a_line_is_refused_and_quarters_are_reported(ministry: User, make_user: MakeUser) -> None:
    from maeul.programme.models import Grant, GrantLine

    call = open_call(ministry)
    government = local_governments(1)[0]
    officer = make_user(Role.LOCAL_GOVERNMENT, area_codes=[government.code])
    from maeul.programme.tests.conftest import application_input

    application = services.create_application(actor_of(officer), call.pk, application_input(government))
    grant = Grant.objects.create(application=application, national_krw=30_000_000, local_krw=30_000_000)
    line = GrantLine.objects.create(
        grant=grant, category="devices", description="센서", national_budget_krw=30_000_000, local_budget_krw=30_000_000
    )
    today = timezone.localdate()
    Call.objects.filter(pk=call.pk).update(results_on=today - timedelta(days=200))
    grant = Grant.objects.get(pk=grant.pk)
    client = signed_in(officer)
    page = client.post(
        f"/programme/grants/{grant.pk}/",
        {"step": "spending", "line_id": line.pk, "spent_on": today.isoformat(), "national_krw": "40,000,000",
         "local_krw": "0", "description": "센서 구매"},
    )  # fmt: skip
    assert "30,000,000" in page.context["errors"]["national_krw"]
    assert not Spending.objects.exists()
    services.record_spending(
        actor_of(officer),
        grant.pk,
        SpendingInput(
            line_id=line.pk, spent_on=today, national_krw=10_000_000, local_krw=12_000_000, description="센서"
        ),
    )
    status = services.budget_status(grant)[0]
    assert (status.national_left_krw, status.local_left_krw) == (20_000_000, 18_000_000)
    quarters = services.quarters(grant, today)
    ended = next(q for q in quarters if services.quarter_end(q.year, q.quarter) < today)
    assert ended.overdue == (ended.due_on < today)
    response = client.post(
        f"/programme/grants/{grant.pk}/",
        {
            "step": "report",
            "year": ended.year,
            "quarter": ended.quarter,
            "progress": "센서 설치 업체 선정과 주민 설명회",
        },
    )
    assert response.status_code == 302
    assert grant.quarterly_reports.get().lines[0]["national_budget_krw"] == 30_000_000
    # The ministry sees the grant; another local government does not.
    assert signed_in(ministry).get(f"/programme/grants/{grant.pk}/").status_code == 200
    other = make_user(Role.LOCAL_GOVERNMENT, area_codes=[local_governments(2)[1].code])
    assert signed_in(other).get(f"/programme/grants/{grant.pk}/").status_code == 404

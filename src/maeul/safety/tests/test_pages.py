"""Type 1 pages through the Django client: filing, following, triage, the body, tasks, the plan, the area page."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from maeul.areas.models import Area
from maeul.audit.models import AuditEntry
from maeul.conftest import CHEONGUN, actor_of, signed_in
from maeul.safety import services
from maeul.safety.models import (
    Activity,
    BodyMember,
    ChecklistTick,
    HazardReport,
    ImprovementTask,
    Meeting,
    ReportFollower,
    TaskStatus,
)
from maeul.safety.schemas import TaskInput
from maeul.safety.tests.conftest import NEAR_CHEONGUN, jpeg, report_data

pytestmark = pytest.mark.django_db

FORM = {
    "site": "jongno",
    "category": "pothole",
    "description": "인도 블록이 깨져서 걸려 넘어질 뻔했어요",
    "latitude": str(NEAR_CHEONGUN[0]),
    "longitude": str(NEAR_CHEONGUN[1]),
    "address": "자하문로 92 앞",
}


def test_a_resident_files_a_report_with_a_photo_and_follows_it(site) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.get("/report/").status_code == 200  # one site: no picker
    photo = SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")
    response = client.post("/report/", {**FORM, "reporter_email": "me@example.kr", "photo": photo})
    assert response.status_code == 302
    report = HazardReport.objects.get()
    assert response["Location"] == f"/report/track/{report.token}/"
    page = client.get(response["Location"])
    assert report.reference in page.content.decode() and "포트홀" in page.content.decode()
    photo_id = report.photos.get().pk
    assert client.get(f"/hazards/photos/{photo_id}/?t={report.token}").status_code == 200
    assert Client().get(f"/hazards/photos/{photo_id}/").status_code == 404  # not public until an official says so


def test_a_neighbour_is_offered_the_open_report_nearby_and_follows_it(site) -> None:  # type: ignore[no-untyped-def]
    first = services.submit_report(report_data(), site=site)
    client = Client()
    nearby = client.get(
        "/report/nearby/", {"site": "jongno", "category": "pothole", **{k: FORM[k] for k in ("latitude", "longitude")}}
    )
    assert first.reference in nearby.content.decode()
    response = client.post("/report/", FORM)
    assert response.status_code == 200 and first.reference in response.content.decode()
    assert HazardReport.objects.count() == 1  # nothing filed until the resident chooses
    followed = client.post(f"/report/follow/{first.pk}/", {**FORM, "reporter_email": "n@example.kr"})
    follower = ReportFollower.objects.get(report=first)
    assert followed["Location"] == f"/report/track/{follower.token}/"
    anyway = client.post("/report/", {**FORM, "file_anyway": "1"})
    assert anyway.status_code == 302 and HazardReport.objects.count() == 2


def test_bad_input_is_named_on_the_form(site) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    response = client.post("/report/", {**FORM, "latitude": "", "longitude": "", "address": ""})
    assert response.status_code == 200
    assert "place a pin on the map" in response.content.decode()
    response = client.post("/report/", {**FORM, "photo": SimpleUploadedFile("x.jpg", b"nope")})
    assert "not a photo we can read" in response.content.decode()
    response = client.post("/report/", {**FORM, "reporter_phone": "12"})
    assert response.status_code == 200 and not HazardReport.objects.exists()


def test_an_official_triages_routes_and_sees_the_contact_on_request(site, safety_official) -> None:  # type: ignore[no-untyped-def]
    report = services.submit_report(report_data(reporter_phone="010-1111-2222"), site=site)
    client = signed_in(safety_official)
    listing = client.get("/hazards/")
    assert report.reference in listing.content.decode()
    detail = client.get(f"/hazards/{report.pk}/").content.decode()
    assert "010-1111-2222" not in detail  # only on request
    contact = client.get(f"/hazards/{report.pk}/contact/").content.decode()
    assert "010-1111-2222" in contact
    assert AuditEntry.objects.filter(resource="hazard_reporter", action="view").count() == 1
    response = client.post(
        f"/hazards/{report.pk}/triage/",
        {"likelihood": "3", "severity": "4", "responder": "roads", "note": "현장 확인 예정", "photos_public": "1"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "routed" and report.risk_score == 12
    bad = client.post(f"/hazards/{report.pk}/triage/", {"likelihood": "9", "severity": "x", "responder": "roads"})
    assert bad.status_code == 302
    assert "likelihood" in client.get(f"/hazards/{report.pk}/").content.decode()  # the error is shown
    assert client.post(f"/hazards/{report.pk}/category/", {"category": "streetlight"}).status_code == 302
    report.refresh_from_db()
    assert report.category.code == "streetlight"
    data = client.get("/hazards/map.json", {"bbox": "37.5,126.9,37.7,127.1", "zoom": "15"}).json()
    assert data["total"] == 1 and data["points"][0]["ref"] == report.reference
    assert client.get("/hazards/map/").status_code == 200


def test_members_cannot_triage_and_the_ministry_sees_no_reports(site, body_member, make_user) -> None:  # type: ignore[no-untyped-def]
    from maeul.accounts.roles import Role

    report = services.submit_report(report_data(), site=site)
    member = signed_in(body_member[0])
    assert member.get(f"/hazards/{report.pk}/").status_code == 200
    assert member.post(f"/hazards/{report.pk}/triage/", {"likelihood": "1"}).status_code == 403
    ministry = signed_in(make_user(Role.MINISTRY))
    assert ministry.get("/hazards/").status_code == 403


def test_the_body_page_records_members_meetings_and_activities(site, safety_official, body_member) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(safety_official)
    page = client.get("/safety/body/", {"area": CHEONGUN}).content.decode()
    assert "박순자" in page and "010-3456-7890" in page
    client.post(
        "/safety/body/",
        {
            "form": "member",
            "area_code": CHEONGUN,
            "name": "최철수",
            "kind": "volunteer_firefighter",
            "role": "chair",
            "term_start": "2026-01-01",
            "phone": "010-5555-6666",
        },
    )
    chair = BodyMember.objects.get(role="chair")
    client.post(
        "/safety/body/",
        {
            "form": "meeting",
            "area_code": CHEONGUN,
            "held_at": "2026-11-20T19:00",
            "place": "주민센터",
            "agenda": "겨울철 결빙 취약지",
            "attendees": [chair.pk, body_member[1].pk],
            "decisions": "청운초 앞 경사로 제설함 설치\n골목 보안등 교체",
        },
    )
    meeting = Meeting.objects.get()
    assert meeting.attendees.count() == 2 and meeting.tasks.count() == 2
    client.post(
        "/safety/body/",
        {
            "form": "activity",
            "area_code": CHEONGUN,
            "kind": "patrol",
            "held_on": "2026-11-21",
            "hours": "2.5",
            "participants": [chair.pk, body_member[1].pk],
        },
    )
    assert Activity.objects.get().hours == 2.5
    assert services.activity_hours(actor_of(safety_official).principal, CHEONGUN, 2026) == {"patrol": 5.0}
    patrol = Activity.objects.get()
    client.post(
        "/safety/tasks/new/",
        {"area_code": CHEONGUN, "title": "골목 CCTV 설치", "source": "inspection", "plan_year": "2026",
         "activity_id": str(patrol.pk)},
    )  # fmt: skip
    assert ImprovementTask.objects.get(title="골목 CCTV 설치").activity_id == patrol.pk
    # A member sees names and roles but not the contacts.
    member_page = signed_in(body_member[0]).get("/safety/body/", {"area": CHEONGUN}).content.decode()
    assert "최철수" in member_page and "010-5555-6666" not in member_page
    refused = client.post(
        "/safety/body/",
        {
            "form": "member",
            "area_code": CHEONGUN,
            "name": "x",
            "kind": "resident",
            "role": "chair",
            "term_start": "2026-02-01",
        },
    )
    assert "already has a chair" in refused.content.decode()


def test_a_task_links_reports_and_closes_when_a_member_confirms(
    site, safety_official, body_member, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    a = services.submit_report(report_data(reporter_email="a@example.kr"), site=site)
    b = services.submit_report(report_data(latitude=NEAR_CHEONGUN[0] + 0.0002), site=site, file_anyway=True)
    client = signed_in(safety_official)
    response = client.post(
        "/safety/tasks/new/",
        {
            "area_code": CHEONGUN,
            "title": "자하문로 포장 보수",
            "source": "report",
            "responder": "roads",
            "budget_krw": "3500000",
            "plan_year": "2026",
            "due_date": "2026-12-15",
            "reports": f"{a.reference}, {b.reference}",
        },
    )
    task = ImprovementTask.objects.get()
    assert response["Location"] == f"/safety/tasks/{task.pk}/"
    assert set(task.reports.values_list("status", flat=True)) == {"in_progress"}
    client.post(
        f"/safety/tasks/{task.pk}/", {"action": "photo", "stage": "after", "photo": SimpleUploadedFile("p.jpg", jpeg())}
    )
    client.post(
        f"/safety/tasks/{task.pk}/",
        {"action": "change", "status": "done", "responder": "roads", "budget_krw": "3200000"},
    )
    member = signed_in(body_member[0])
    page = member.get(f"/safety/tasks/{task.pk}/").content.decode()
    assert "Confirm and close" in page or "확인" in page
    with django_capture_on_commit_callbacks(execute=True):
        member.post(f"/safety/tasks/{task.pk}/", {"action": "confirm", "note": "현장 확인 완료"})
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED and task.confirmed_by_id == body_member[1].pk
    assert set(HazardReport.objects.values_list("status", flat=True)) == {"resolved"}
    plan = client.get(f"/safety/plan/{CHEONGUN}/2026/?format=csv").content.decode()
    assert "자하문로 포장 보수" in plan and "3200000" in plan


def test_the_area_page_shows_hazards_tasks_and_the_seasons_checklist(site, safety_official, body_member) -> None:  # type: ignore[no-untyped-def]
    services.submit_report(report_data(), site=site)
    services.create_task(
        actor_of(safety_official),
        TaskInput(area_code=CHEONGUN, title="보안등 교체", source="meeting", plan_year=date.today().year),
    )
    member = signed_in(body_member[0])
    page = member.get(f"/areas/{CHEONGUN}/safety/").content.decode()
    assert "보안등 교체" in page and "R-" in page
    # November: before winter, the urban dong's list includes icy slopes and empty houses.
    november = services.checklists(Area.objects.get(code=CHEONGUN), date(2026, 11, 24))
    codes = [line.item.code for sc in november for line in sc.lines]
    assert codes[:2] == ["winter_icy", "winter_empty_houses"] and "winter_farm" not in codes
    services.tick_checklist(actor_of(body_member[0]), CHEONGUN, "winter_icy", on=date(2026, 11, 24))
    done = services.checklists(Area.objects.get(code=CHEONGUN), date(2026, 11, 24))[0].lines[0]
    assert done.done is not None and done.done.done_by_id == body_member[0].pk
    shown = services.checklists(Area.objects.get(code=CHEONGUN), date.today())
    if shown:  # the page offers this month's items (April, August and October have none)
        item = next(line.item.code for sc in shown for line in sc.lines if line.done is None)
        member.post(f"/areas/{CHEONGUN}/safety/", {"item": item})
        assert ChecklistTick.objects.filter(item=item, year=date.today().year).exists()


def test_seasonal_checklists_follow_the_area_kind() -> None:
    from maeul.safety import catalogue

    urban = [i.code for _s, items in catalogue.seasons_for(6, "urban") for i in items]
    rural = [i.code for _s, items in catalogue.seasons_for(6, "rural") for i in items]
    assert "monsoon_underpass" in urban and "monsoon_underpass" not in rural
    assert "monsoon_reservoir" in rural and "monsoon_drains" in urban and "monsoon_drains" in rural
    winter = [i.code for _s, items in catalogue.seasons_for(11, "rural") for i in items]
    assert "winter_icy" in winter and "winter_empty_houses" in winter
    assert catalogue.area_kind("양평읍") == "rural" and catalogue.area_kind("청운효자동") == "urban"


def test_the_demo_site_has_a_working_type_1_programme(reference) -> None:  # type: ignore[no-untyped-def]
    from maeul.web import demo

    demo.load_demo(households=4)
    assert HazardReport.objects.filter(site__slug=demo.DEMO_SITE).count() > 40
    assert BodyMember.objects.filter(account__username="member").exists()
    done = ImprovementTask.objects.filter(site__slug=demo.DEMO_SITE, status=TaskStatus.DONE)
    assert done.count() == 1  # waiting for a member's confirmation
    assert Meeting.objects.get().tasks.count() == 2


def test_the_site_administrator_edits_the_catalogue(site, site_admin, safety_official) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in(site_admin)
    assert "포트홀" in admin.get("/safety/categories/").content.decode()
    question = '[{"code": "lanes", "datatype": "number", "required": true, "description": "차로 수"}]'
    response = admin.post(
        "/safety/categories/",
        {"code": "pothole", "name_ko": "도로 파손", "name_en": "Road damage", "responder": "emd", "active": "1",
         "attributes": question},
    )  # fmt: skip
    assert response.status_code == 302
    category = services.categories(site)[0]
    assert category.name_ko == "도로 파손" and category.responder.code == "emd"  # type: ignore[union-attr]
    assert category.attributes[0]["code"] == "lanes"
    admin.post("/safety/categories/", {"code": "pothole", "name_ko": "x", "name_en": "x", "responder": "emd",
                                       "attributes": '[{"code": "Bad Code"}]'})  # fmt: skip
    assert services.categories(site)[0].name_ko == "도로 파손"  # refused whole: nothing changed
    admin.post("/safety/categories/", {"code": "reservoir", "name_ko": "저수지", "name_en": "Reservoir",
                                       "responder": "krc"})  # fmt: skip
    assert "reservoir" not in [c.code for c in services.categories(site)]  # no longer offered
    assert signed_in(safety_official).post("/safety/categories/", {"code": "pothole"}).status_code == 403


def test_home_shows_each_area_s_open_and_overdue_hazards(site, safety_official) -> None:  # type: ignore[no-untyped-def]
    report = services.submit_report(report_data(), site=site)
    HazardReport.objects.filter(pk=report.pk).update(due_at=report.created_at.replace(year=2020))
    page = signed_in(safety_official).get("/").content.decode()
    assert f"/areas/{CHEONGUN}/safety/" in page and "1" in page
    assert "hazard.reported" not in page  # the event reads as words, not its code


def test_reports_without_an_account_are_limited_per_address(site, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MAEUL_ANONYMOUS_REPORTS_PER_HOUR = 2
    client = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(2):
        lat = str(NEAR_CHEONGUN[0] + i * 0.001)
        assert client.post("/report/", {**FORM, "latitude": lat}).status_code == 302
    third = client.post("/report/", {**FORM, "latitude": str(NEAR_CHEONGUN[0] + 0.003)})
    assert third.status_code == 200 and "too many reports" in third.content.decode()
    assert HazardReport.objects.count() == 2
    assert Client(REMOTE_ADDR="203.0.113.8").post("/report/", {**FORM, "file_anyway": "1"}).status_code == 302
    from maeul.safety.models import AnonymousSubmission

    assert "203.0.113.7" not in AnonymousSubmission.objects.values_list("address_index", flat=True)

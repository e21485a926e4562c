"""The pages, the API and the command: who sees what, CAP by authenticated HTTP POST, the dry run's JSON."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from maeul.accounts import services as accounts
from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, SAJIK, MakeUser, actor_of, signed_in
from maeul.disaster import services
from maeul.disaster.conftest import HYEHWA, Town, vector
from maeul.disaster.models import CapMessage, Channel, EntryStatus, Response, RollCallEntry
from maeul.disaster.schemas import SourceInput

pytestmark = pytest.mark.django_db


def heat(town: Town) -> Response:
    return services.receive(vector("ko_heat_polygon.xml"), channel=Channel.PUSH, site_list=[town.site]).responses[0]


def test_official_pages_render(town: Town) -> None:
    response = heat(town)
    client = signed_in(town.official)
    for url in (
        "/disaster/",
        "/disaster/activate/",
        f"/disaster/{response.pk}/",
        f"/disaster/{response.pk}/report/",
        f"/disaster/{response.pk}/review/",
        "/disaster/plans/",
        "/disaster/zones/",
        "/disaster/sources/",
        "/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
    board = client.get(f"/disaster/{response.pk}/").content.decode()
    assert "주민bedridden" in board and "010-2345-6789" in board
    assert client.get(f"/disaster/{response.pk}/map.json").json()["points"]
    pdf = client.get(f"/disaster/{response.pk}/report/?format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    figures = client.get(f"/disaster/{response.pk}/report/?format=csv").content.decode()
    assert figures.startswith("area_code,area_name,households")


def test_official_records_a_contact_from_the_board(town: Town) -> None:
    response = heat(town)
    entry = RollCallEntry.objects.get(response=response, household_id=town.homes["sajik"])
    page = signed_in(town.official).post(
        f"/disaster/contacts/{entry.pk}/", {"result": "fine", "method": "phone", "next": f"/disaster/{response.pk}/"}
    )
    assert page.status_code == 302 and page["Location"] == f"/disaster/{response.pk}/"
    entry.refresh_from_db()
    assert entry.status == EntryStatus.FINE


def test_helper_sees_only_their_own_households_and_no_board(town: Town) -> None:
    response = heat(town)
    client = signed_in(town.helper_user)
    mine = client.get("/disaster/my/").content.decode()
    assert "주민bedridden" in mine and "주민alone" not in mine
    assert client.get(f"/disaster/{response.pk}/").status_code == 403
    assert "1 household to reach" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    other = RollCallEntry.objects.get(response=response, household_id=town.homes["alone"])
    assert client.post(f"/disaster/contacts/{other.pk}/", {"result": "fine"}).status_code == 404


def test_member_ticks_member_lines_only(town: Town) -> None:
    response = heat(town)
    client = signed_in(town.member_user)
    assert client.get(f"/disaster/{response.pk}/").status_code == 200
    member_line = response.checklist.filter(audience="member").first()
    official_line = response.checklist.filter(audience="official").first()
    assert member_line is not None and official_line is not None
    client.post(f"/disaster/{response.pk}/checklist/{member_line.pk}/", {"done": "1"})
    client.post(f"/disaster/{response.pk}/checklist/{official_line.pk}/", {"done": "1"})
    member_line.refresh_from_db()
    official_line.refresh_from_db()
    assert member_line.done_at is not None and official_line.done_at is None


def test_officials_of_other_areas_and_other_sites_get_404(town: Town, make_user: MakeUser, other_site) -> None:  # type: ignore[no-untyped-def]
    response = heat(town)
    elsewhere = signed_in(make_user(Role.SAFETY_OFFICIAL, town.site, [HYEHWA]))
    assert elsewhere.get(f"/disaster/{response.pk}/").status_code == 404
    foreign = signed_in(make_user(Role.SITE_ADMIN, other_site))
    assert foreign.get(f"/disaster/{response.pk}/report/").status_code == 404


def test_manual_activation_from_the_form(town: Town) -> None:
    client = signed_in(town.official)
    page = client.post(
        "/disaster/activate/",
        {"hazard": "heat", "level": "warning", "title": "청운효자동 폭염경보", "area_codes": [CHEONGUN]},
    )
    response = Response.objects.get()
    assert page.status_code == 302 and page["Location"] == f"/disaster/{response.pk}/"
    refused = client.post("/disaster/activate/", {"hazard": "heat", "title": "x", "area_codes": [HYEHWA]}, follow=True)
    assert "not eup/myeon/dong you work in" in refused.content.decode()


def test_cap_by_authenticated_http_post(town: Town) -> None:
    source, token = services.create_source(actor_of(town.admin), SourceInput(name="특보 연계", kind="push"))
    client = Client()
    url = "/api/v1/disaster/cap"
    body = vector("ko_heat_polygon.xml")
    assert client.post(url, body, content_type="application/cap+xml").status_code == 401
    bad = client.post(url, body, content_type="application/cap+xml", HTTP_AUTHORIZATION="Bearer wrong")
    assert bad.status_code == 401
    ok = client.post(url, body, content_type="application/cap+xml", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert ok.status_code == 200 and ok.json()["outcome"] == "activated"
    again = client.post(url, body, content_type="application/cap+xml", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert again.json()["outcome"] == "duplicate"
    broken = client.post(url, b"<alert/>", content_type="application/xml", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert broken.status_code == 422 and broken["Content-Type"] == "application/problem+json"
    assert broken.json()["code"] if "code" in broken.json() else broken.json()["type"].endswith("not_cap")
    assert CapMessage.objects.filter(source=source).count() == 3
    services.set_source_active(actor_of(town.admin), source.pk, False)
    paused = client.post(url, body, content_type="application/cap+xml", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert paused.status_code == 401


def test_json_api_lists_responses_and_records_contacts(town: Town) -> None:
    response = heat(town)
    client = signed_in(town.official)
    listed = client.get("/api/v1/disaster/responses").json()
    assert [r["id"] for r in listed] == [response.pk] and listed[0]["counts"]["total"] == 4
    entry = RollCallEntry.objects.get(response=response, household_id=town.homes["sajik"])
    done = client.post(
        f"/api/v1/disaster/roll-call/{entry.pk}/contacts", {"result": "evacuated"}, content_type="application/json"
    )
    assert done.status_code == 200 and done.json()["status"] == "evacuated"
    mine = signed_in(town.helper_user).get("/api/v1/disaster/my").json()
    assert [e["reference"] for e in mine[0]["entries"]] and mine[0]["response_id"] == response.pk


def test_dry_run_prints_json_and_changes_nothing(town: Town, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "alert.xml"
    path.write_bytes(vector("ko_heat_polygon.xml"))
    out = io.StringIO()
    call_command("alerts", "import", str(path), "--dry-run", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["identifier"] == "JONGNO-HEAT-2026-0801-01" and printed["msgType"] == "Alert"
    info = printed["info"][0]
    assert {k: info[k] for k in ("event", "urgency", "severity")} == {
        "event": "폭염주의보",
        "urgency": "Expected",
        "severity": "Moderate",
    }
    area = info["areas"][0]
    assert area["polygons"] and area["matched_codes"] == [CHEONGUN, SAJIK] and area["households"] == 4
    assert Response.objects.count() == 0 and CapMessage.objects.count() == 0
    out = io.StringIO()
    call_command("alerts", "import", str(path), stdout=out)
    assert json.loads(out.getvalue())["outcome"] == "activated" and Response.objects.count() == 1


def test_zone_table_csv_import_is_all_or_nothing(town: Town) -> None:
    client = signed_in(town.admin)
    good = "zone_code,zone_name,area_code\nL1100200,서울동북권,1111065000\nL1100200,서울동북권,1111064000\n"
    bad = good + "L1100300,x,9999999999\n"
    page = client.post("/disaster/zones/", {"what": "import", "file": io.BytesIO(bad.encode())}, follow=True)
    assert "9999999999" in page.content.decode() and not services.zones(town.site.pk)
    client.post("/disaster/zones/", {"what": "import", "file": io.BytesIO(good.encode())})
    [zone] = services.zones(town.site.pk)
    assert sorted(a.code for a in zone.areas.all()) == ["1111064000", "1111065000"]


def test_plan_templates_are_checked(town: Town, make_user: MakeUser) -> None:
    client = signed_in(town.admin)
    page = client.post(
        "/disaster/plans/heat/",
        {"reach_within_minutes": "120", "escalation_minutes": "0, 30", "indoor_celsius": "29",
         "message_assignment": "{title} {name}", "message_update": "u", "message_cancel": "c",
         "message_overdue": "o", "message_guardian": "g"},
        follow=True,
    )  # fmt: skip
    assert "unknown placeholder(s) {name}" in page.content.decode()
    client.post(
        "/disaster/plans/heat/",
        {"reach_within_minutes": "120", "escalation_minutes": "0, 30", "indoor_celsius": "29",
         "message_assignment": "{title} {count}", "message_update": "u", "message_cancel": "c",
         "message_overdue": "o", "message_guardian": "g"},
    )  # fmt: skip
    plan = services.plan_for(town.site.pk, "heat")
    assert (plan.reach_within_minutes, plan.escalation_minutes, plan.indoor_celsius) == (120, [0, 30], 29.0)
    welfare = signed_in(make_user(Role.WELFARE_OFFICIAL, town.site, [SAJIK]))  # sees the plans, may not change them
    assert welfare.get("/disaster/plans/").status_code == 200
    assert welfare.post("/disaster/plans/heat/", {"reach_within_minutes": "5"}).status_code == 403


def test_the_worker_sends_what_activation_owes(town: Town) -> None:
    heat(town)
    done = services.work(timezone.now() + timedelta(seconds=1))
    assert done["messages"] == 3 and done["escalated"] == 0


def test_a_new_account_sees_the_disaster_menu_only_with_a_role_that_may(town: Town) -> None:
    guardian = accounts.create_account("g1", "correct-horse-battery", Role.GUARDIAN, site=town.site)
    assert "/disaster/" not in signed_in(guardian).get("/").content.decode()
    assert 'href="/disaster/"' in signed_in(town.official).get("/").content.decode()


def test_the_demo_site_has_a_zone_table_and_a_past_heat_wave(reference) -> None:  # type: ignore[no-untyped-def]
    from maeul.disaster.models import ForecastZone, Lesson, ResponseStatus
    from maeul.web import demo

    demo.load_demo(households=12)
    [response] = Response.objects.filter(site__slug=demo.DEMO_SITE)
    assert response.status == ResponseStatus.CLOSED and response.level == "warning" and len(response.cap_keys) == 3
    assert not RollCallEntry.objects.filter(response=response, in_area=True, status__in=["pending", "not_reached"])
    assert response.completed_at is not None and response.review.went_well
    assert Lesson.objects.filter(review__response=response, task_id__isnull=False).count() == 1
    assert ForecastZone.objects.filter(site__slug=demo.DEMO_SITE, code="L1100200").exists()

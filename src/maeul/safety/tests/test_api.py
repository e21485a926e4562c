"""The safety JSON API: officials list, read and triage reports, read the map, create tasks and read the plan."""

from __future__ import annotations

import pytest
from django.test import Client

from maeul.accounts import services as accounts
from maeul.conftest import CHEONGUN
from maeul.safety import services
from maeul.safety.tests.conftest import report_data

pytestmark = pytest.mark.django_db


def _auth(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"HTTP_AUTHORIZATION": f"Bearer {accounts.issue_api_token(user, 'test').plaintext}"}


def test_an_official_works_reports_and_tasks_through_the_api(site, safety_official) -> None:  # type: ignore[no-untyped-def]
    report = services.submit_report(report_data(reporter_phone="010-1111-2222"), site=site)
    client, auth = Client(), _auth(safety_official)
    page = client.get("/api/v1/hazards", **auth).json()
    assert page["total"] == 1 and page["rows"][0]["reference"] == report.reference
    body = client.get(f"/api/v1/hazards/{report.pk}", **auth)
    assert body.status_code == 200 and "010" not in body.content.decode()  # no reporter contact in the API
    triaged = client.post(
        f"/api/v1/hazards/{report.pk}/triage",
        {"likelihood": 5, "severity": 4, "urgent": True, "responder": "roads"},
        content_type="application/json",
        **auth,
    ).json()
    assert triaged["risk_score"] == 20 and triaged["risk_level"] == "very_high" and triaged["status"] == "routed"
    refused = client.post(
        f"/api/v1/hazards/{report.pk}/triage",
        {"likelihood": 6, "severity": 4, "responder": "roads"},
        content_type="application/json",
        **auth,
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/likelihood"
    wrong = client.post(
        f"/api/v1/hazards/{report.pk}/category", {"category": "nope"}, content_type="application/json", **auth
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["code"] == "unknown_category"
    cells = client.get(
        "/api/v1/hazards/map", {"south": 37.5, "west": 126.9, "north": 37.7, "east": 127.1, "zoom": 10}, **auth
    ).json()
    assert cells["total"] == 1
    task = client.post(
        "/api/v1/safety/tasks",
        {"area_code": CHEONGUN, "title": "포장 보수", "source": "report", "plan_year": 2026, "budget_krw": 2_000_000,
         "report_references": [report.reference]},
        content_type="application/json",
        **auth,
    )  # fmt: skip
    assert task.status_code == 201 and task.json()["report_references"] == [report.reference]
    plan = client.get(f"/api/v1/safety/plan/{CHEONGUN}/2026", **auth).json()
    assert plan["budget_total"] == 2_000_000 and len(plan["tasks"]) == 1
    assert client.get("/api/v1/safety/tasks", {"year": 2026}, **auth).json()[0]["title"] == "포장 보수"


def test_the_api_keeps_to_scope(site, official, make_user) -> None:  # type: ignore[no-untyped-def]
    from maeul.accounts.roles import Role
    from maeul.conftest import SAJIK

    report = services.submit_report(report_data(), site=site)
    elsewhere = make_user(Role.SAFETY_OFFICIAL, site, [SAJIK])
    assert Client().get(f"/api/v1/hazards/{report.pk}", **_auth(elsewhere)).status_code == 404
    welfare = Client().post(
        f"/api/v1/hazards/{report.pk}/triage",
        {"likelihood": 1, "severity": 1, "responder": "roads"},
        content_type="application/json",
        **_auth(official),
    )
    assert welfare.status_code == 403  # welfare officials see hazards but do not triage them

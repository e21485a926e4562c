"""The officials' pages and the JSON API, including the idempotent check-in upload and a racing retry."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User

from maeul.conftest import CHEONGUN, signed_in
from maeul.people.services import HouseholdView
from maeul.safetynet import services
from maeul.safetynet.models import CheckIn, CheckInSchedule, Helper

pytestmark = pytest.mark.django_db


def _post_json(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_an_official_registers_a_helper_and_sees_the_profile(official: User) -> None:
    client = signed_in(official)
    assert client.get("/helpers/new/").status_code == 200
    response = client.post(
        "/helpers/new/",
        {
            "kind": "mail_carrier",
            "name": "이우편",
            "phone": "010-9876-5432",
            "area_codes": [CHEONGUN],
            "languages": ["ko"],
            "max_households": "4",
        },
    )
    helper = Helper.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/helpers/{helper.pk}/"
    page = client.get(f"/helpers/{helper.pk}/").content.decode()
    assert "이우편" in page and "010-9876-5432" in page
    listing = client.get("/helpers/").content.decode()
    assert "이우편" in listing
    assert client.get("/helpers/coverage/").status_code == 200


def test_the_handover_page_is_for_the_site_admin(official: User, site_admin: User) -> None:
    assert signed_in(official).get("/helpers/handover/").status_code == 403
    assert signed_in(site_admin).get("/helpers/handover/").status_code == 200


def test_household_section_suggestions_and_assignment(
    official: User, household: HouseholdView, helper: services.HelperView
) -> None:
    client = signed_in(official)
    detail = client.get(f"/households/{household.id}/").content.decode()
    assert f"/households/{household.id}/helpers/" in detail
    section = client.get(f"/households/{household.id}/helpers/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="helpers"' in section
    suggestions = client.get(f"/households/{household.id}/helpers/suggestions/").content.decode()
    assert "박순자" in suggestions
    response = client.post(f"/households/{household.id}/helpers/assign/", {"helper_id": helper.id, "role": "primary"})
    assert response.status_code == 302
    client.post(f"/households/{household.id}/schedules/", {"kind": "visit", "interval_days": "7"})
    assert CheckInSchedule.objects.get(household_id=household.id).helper_id == helper.id
    section = client.get(f"/households/{household.id}/helpers/").content.decode()
    assert "박순자" in section


def test_api_check_in_is_created_once_and_repeated_with_200(
    helper_user: User, household: HouseholdView, weekly_visit: CheckInSchedule
) -> None:
    client = signed_in(helper_user)
    due = client.get("/api/v1/check-ins/due?on=2026-11-25").json()
    assert [d["schedule_id"] for d in due] == [weekly_visit.pk]
    body = {
        "client_id": str(uuid.uuid4()),
        "household_id": household.id,
        "schedule_id": weekly_visit.pk,
        "kind": "visit",
        "result": "fine",
        "crisis_signs": [],
        "note": "",
        "occurred_at": "2026-11-25T10:00:00+09:00",
    }
    first = _post_json(client, "/api/v1/check-ins", body)
    again = _post_json(client, "/api/v1/check-ins", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["check_in_id"] == again.json()["check_in_id"]
    assert CheckIn.objects.count() == 1
    bad = _post_json(client, "/api/v1/check-ins", body | {"client_id": str(uuid.uuid4()), "result": "gone"})
    assert bad.status_code == 422


def test_api_helpers_and_suggestions_for_officials(
    official: User, household: HouseholdView, helper: services.HelperView
) -> None:
    client = signed_in(official)
    helpers = client.get("/api/v1/helpers").json()
    assert [h["name"] for h in helpers] == ["박순자"]
    suggestions = client.get(f"/api/v1/households/{household.id}/helper-suggestions").json()
    assert suggestions[0]["helper_id"] == helper.id and suggestions[0]["reasons"]
    created = _post_json(client, f"/api/v1/households/{household.id}/assignments", {"helper_id": helper.id})
    assert created.status_code == 201
    net = client.get(f"/api/v1/households/{household.id}/safety-net").json()
    assert net["assignments"][0]["helper_id"] == helper.id
    assert client.get("/api/v1/coverage").json()["areas"][0]["covered"] == 1


def test_a_retry_racing_the_original_is_stored_once(
    helper_user: User, household: HouseholdView, weekly_visit: CheckInSchedule, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests pass the first look-up before either is stored; the unique client_id decides."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from maeul.conftest import actor_of
    from maeul.safetynet.schemas import CheckInInput

    data = CheckInInput(
        client_id=uuid.uuid4(),
        household_id=household.id,
        kind="visit",
        result="fine",
        occurred_at=datetime(2026, 11, 25, 10, tzinfo=ZoneInfo("Asia/Seoul")),
    )
    first = services.record_check_in(actor_of(helper_user), data)
    monkeypatch.setattr(services, "stored_check_in", lambda client_id: None)
    racing = services.record_check_in(actor_of(helper_user), data)
    assert first.created and not racing.created
    assert racing.check_in_id == first.check_in_id
    assert CheckIn.objects.count() == 1


def test_the_site_admin_hands_a_post_over(
    site_admin: User, official: User, helper: services.HelperView, make_user: Any, site: Any
) -> None:
    from maeul.accounts.roles import Role

    successor = make_user(Role.WELFARE_OFFICIAL, site, [CHEONGUN])
    client = signed_in(site_admin)
    response = client.post("/helpers/handover/", {"from_user_id": official.pk, "to_user_id": successor.pk})
    assert response.status_code == 302
    assert Helper.objects.get(pk=helper.id).coordinator_id == successor.pk
    page = client.get("/helpers/handover/").content.decode()
    assert official.username in page and successor.username in page
    refused = client.post("/helpers/handover/", {"from_user_id": official.pk, "to_user_id": official.pk})
    assert refused.status_code == 200 and Helper.objects.get(pk=helper.id).coordinator_id == successor.pk

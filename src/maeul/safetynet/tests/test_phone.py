"""The helper's phone pages and the JSON endpoint the page sends kept check-ins to."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, MakeUser, actor_of, household_data, signed_in
from maeul.people import services as people
from maeul.safetynet import services
from maeul.safetynet.models import CheckIn, CheckInKind, HelperKind
from maeul.safetynet.schemas import AssignmentInput, HelperInput, ScheduleInput
from maeul.sites.models import Site
from maeul.watch import services as watch
from maeul.watch.detectors import Alert as Detected
from maeul.watch.models import AlertStatus
from maeul.welfare.models import Case, VerificationTask

ENDPOINT = "/helper/check-ins"


@dataclass(frozen=True)
class HelperDay:
    """A helper with two assigned households, both due for a visit (the first two days overdue)."""

    helper: User
    official: User
    first: people.HouseholdView
    second: people.HouseholdView


def helper_day(site: Site, make_user: MakeUser) -> HelperDay:
    admin = actor_of(make_user(Role.SITE_ADMIN, site))
    official = make_user(Role.WELFARE_OFFICIAL, site, [CHEONGUN])
    account = make_user(Role.HELPER, site, [CHEONGUN])
    by_official = actor_of(official)
    helper = services.register_helper(
        by_official,
        HelperInput(kind=HelperKind.HONORARY_OFFICIAL, name="박도움", area_codes=[CHEONGUN], account_id=account.pk),
    )
    first = people.register_household(admin, household_data(name="김영자", phone="010-2345-6789"))
    second = people.register_household(
        admin, household_data(name="이순남", phone="010-3456-7890", address="서울특별시 종로구 필운대로 5")
    )
    today = timezone.localdate()
    for household, due_on in ((first, today - timedelta(days=2)), (second, today)):
        services.assign_helper(by_official, household.id, AssignmentInput(helper_id=helper.id))
        services.add_schedule(
            by_official, household.id, ScheduleInput(kind=CheckInKind.VISIT, interval_days=7, first_due_on=due_on)
        )
    return HelperDay(helper=account, official=official, first=first, second=second)


@pytest.fixture
def day(site: Site, make_user: MakeUser) -> HelperDay:
    return helper_day(site, make_user)


def _payload(household_id: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "household_id": household_id,
        "schedule_id": None,
        "kind": "visit",
        "result": "fine",
        "crisis_signs": [],
        "note": "",
        "occurred_at": timezone.now().isoformat(),
    }
    return body | changes


def _post(client: Client, body: Any) -> Any:
    return client.post(ENDPOINT, json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_due_list_shows_overdue_first_with_call_buttons_and_the_offline_kit(day: HelperDay) -> None:
    response = signed_in(day.helper).get("/helper/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("김영자") < page.index("이순남")  # two days overdue comes first
    assert 'href="tel:010-2345-6789"' in page and f'href="/helper/check-in/{day.second.id}/"' in page
    assert "data-helper-page" in page and "/static/safetynet/helper.js" in page
    kept = json.loads(response.context["offline_urls_json"])
    assert f"/helper/check-in/{day.first.id}/" in kept and "/helper/" in kept


@pytest.mark.django_db
def test_check_in_form_offers_the_five_results_and_seven_signs(day: HelperDay) -> None:
    response = signed_in(day.helper).get(f"/helper/check-in/{day.first.id}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('name="result"') == 5 and page.count('name="crisis_signs"') == 7
    assert "김영자" in page and 'name="client_id"' in page


@pytest.mark.django_db
def test_a_household_not_assigned_is_not_found(day: HelperDay, site: Site, make_user: MakeUser) -> None:
    other = people.register_household(actor_of(make_user(Role.SITE_ADMIN, site)), household_data(name="최외부"))
    client = signed_in(day.helper)
    assert client.get(f"/helper/check-in/{other.id}/").status_code == 404
    response = _post(client, _payload(other.id))
    assert response.status_code == 404
    assert response.json()["errors"] == [{"pointer": "/household_id", "code": "not_found"}]
    assert not CheckIn.objects.exists()


@pytest.mark.django_db
def test_needs_help_with_signs_opens_a_case_and_a_repeat_is_stored_once(day: HelperDay) -> None:
    client = signed_in(day.helper)
    body = _payload(day.first.id, result="needs_help", crisis_signs=["no_food", "utilities_cut"], note="냉장고가 빔")
    first = _post(client, body)
    assert first.status_code == 201
    answer = first.json()
    assert answer["client_id"] == body["client_id"] and answer["created"] is True
    assert answer["case_id"] == Case.objects.get(household_id=day.first.id).pk
    assert "복지 사례" in answer["message"]  # Korean by default, for helpers
    again = client.post(ENDPOINT, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 200
    assert again.json()["check_in_id"] == answer["check_in_id"] and again.json()["created"] is False
    assert "case" in again.json()["message"]
    assert CheckIn.objects.filter(client_id=body["client_id"]).count() == 1
    assert Case.objects.filter(household_id=day.first.id).count() == 1


@pytest.mark.django_db
def test_not_at_this_address_opens_a_verification_task(day: HelperDay) -> None:
    response = _post(signed_in(day.helper), _payload(day.second.id, result="not_at_address"))
    assert response.status_code == 201
    task = VerificationTask.objects.get(household_id=day.second.id)
    assert response.json()["verification_task_id"] == task.pk and response.json()["case_id"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "pointer", "code"),
    [
        ({"result": "asleep"}, "/result", "enum"),
        ({"crisis_signs": ["no_food", "bad_luck"]}, "/crisis_signs/1", "enum"),
        ({"kind": "letter"}, "/kind", "enum"),
        ({"client_id": "not-a-uuid"}, "/client_id", "uuid_parsing"),
        ({"occurred_at": "2026-11-25T09:00:00"}, "/occurred_at", "value_error"),
        ({"surprise": 1}, "/surprise", "extra_forbidden"),
    ],
)
def test_validation_errors_name_the_field(day: HelperDay, changes: dict[str, Any], pointer: str, code: str) -> None:
    response = _post(signed_in(day.helper), _payload(day.first.id, **changes))
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [(e["pointer"], e["code"]) for e in response.json()["errors"]] == [(pointer, code)]
    assert not CheckIn.objects.exists()


@pytest.mark.django_db
def test_a_body_that_is_not_a_json_object_is_refused(day: HelperDay) -> None:
    client = signed_in(day.helper)
    for raw in ("{", "[]", ""):
        response = client.post(ENDPOINT, raw, content_type="application/json")
        assert response.status_code == 400 and response.json()["type"].endswith("/invalid_json")


@pytest.mark.django_db
def test_someone_elses_client_id_is_refused(day: HelperDay, site: Site, make_user: MakeUser) -> None:
    body = _payload(day.first.id)
    assert _post(signed_in(day.helper), body).status_code == 201
    other = make_user(Role.HELPER, site, [CHEONGUN])
    people.grant_access(actor_of(day.official), day.first.id, other.pk, people.GrantKind.HELPER)
    response = _post(signed_in(other), body)
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "taken"


@pytest.mark.django_db
def test_an_ended_session_is_sent_to_login_and_other_roles_are_refused(
    day: HelperDay, site: Site, make_user: MakeUser
) -> None:
    anonymous = _post(Client(), _payload(day.first.id))
    assert anonymous.status_code == 302 and "/account/login/" in anonymous["Location"]
    body_member = make_user(Role.BODY_MEMBER, site, [CHEONGUN])
    assert signed_in(body_member).get("/helper/").status_code == 403
    assert _post(signed_in(body_member), _payload(day.first.id)).status_code == 403
    assert not CheckIn.objects.exists()


@pytest.mark.django_db
def test_the_form_works_without_javascript_and_a_double_post_is_stored_once(day: HelperDay) -> None:
    client = signed_in(day.helper)
    form = client.get(f"/helper/check-in/{day.second.id}/")
    client_id = str(form.context["client_id"])
    data = {"client_id": client_id, "kind": "visit", "result": "needs_help", "crisis_signs": ["isolation"]}
    for _attempt in range(2):
        done = client.post(f"/helper/check-in/{day.second.id}/", data)
        assert done.status_code == 200 and done.context["opened"] is True
    assert CheckIn.objects.filter(client_id=client_id).count() == 1
    refused = client.post(f"/helper/check-in/{day.second.id}/", {**data, "client_id": str(uuid.uuid4()), "result": ""})
    assert refused.status_code == 422 and refused.context["errors"]


@pytest.mark.django_db
def test_service_worker_is_served_for_the_helper_scope_without_caching() -> None:
    response = Client().get("/helper/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache" and response["Service-Worker-Allowed"] == "/helper/"
    assert b'addEventListener("fetch"' in response.content


@pytest.mark.django_db
def test_an_alert_dispatched_to_the_helper_is_shown_and_acknowledged(day: HelperDay, site: Site) -> None:
    alert = watch.raise_alert(
        site.pk,
        day.first.id,
        Detected(
            household=day.first.reference,
            kind="sos",
            raised_at=timezone.now(),
            severity="critical",
            reason="The SOS button was pressed (h1/sos-button).",
            cause="sos",
            reason_code="sos",
            reason_params={"device": "h1/sos-button"},
        ),
    )
    assert alert is not None
    client = signed_in(day.helper)
    page = client.get("/helper/").content.decode()
    assert f'action="/helper/alerts/{alert.pk}/acknowledge/"' in page
    response = client.post(f"/helper/alerts/{alert.pk}/acknowledge/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["alert_id"] == alert.pk
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by_id == day.helper.pk
    assert "ack-form" not in client.get("/helper/").content.decode()
    assert client.post("/helper/alerts/999999/acknowledge/", HTTP_ACCEPT="application/json").status_code == 404

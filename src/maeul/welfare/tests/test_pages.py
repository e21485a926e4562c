"""Case pages, the partner inbox, verification pages, the household slot, the alert slot and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.test import Client

from maeul.accounts import services as accounts
from maeul.accounts.principal import principal_for
from maeul.accounts.roles import Role
from maeul.audit.models import AuditEntry
from maeul.conftest import SAJIK, MakeUser, actor_of, signed_in
from maeul.directory.models import Service
from maeul.sites.models import Site
from maeul.welfare import services
from maeul.welfare.models import Case, CaseSource, Referral, VerificationKind

pytestmark = [pytest.mark.django_db]


def test_walk_in_case_is_opened_worked_and_closed_from_the_pages(official: User, household: Any) -> None:
    client = signed_in(official)
    form = client.get(f"/cases/new/?household={household.id}")
    assert form.status_code == 200 and household.reference in form.content.decode()
    opened = client.post("/cases/new/", {"household": household.id, "summary": "Rent arrears.", "needs": ["income"]})
    case = Case.objects.get()
    assert opened.status_code == 302 and opened["Location"] == f"/cases/{case.pk}/"
    client.post(f"/cases/{case.pk}/assess/", {"domain": "food", "level": "3", "note": "Empty fridge."})
    client.post(f"/cases/{case.pk}/plan/", {"plan": "Food bank referral."})
    client.post(f"/cases/{case.pk}/follow-ups/", {"due_on": "2099-01-01", "what": "Call back"})
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Empty fridge." in page and "Food bank referral." in page and "Call back" in page
    assert "has not consented to sharing" in page  # no referral form without consent
    listing = client.get("/cases/").content.decode()
    assert household.reference in listing and "김영자" in listing
    fragment = client.get("/cases/?sort=updated", HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and household.reference.encode() in fragment.content
    client.post(f"/cases/{case.pk}/close/", {"outcome": "needs_met"})
    case.refresh_from_db()
    assert case.status == "closed"
    slot = client.get(f"/households/{household.id}/cases/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Open a case" in slot and f"/cases/{case.pk}/" in slot


def test_household_page_includes_the_case_slot(official: User, household: Any) -> None:
    page = signed_in(official).get(f"/households/{household.id}/").content.decode()
    assert f"/households/{household.id}/cases/" in page


def test_alert_slot_offers_a_case_to_officials_only(official: User, household: Any, helper: User) -> None:
    class AlertStub:
        id = 42
        household_id = household.id

    html = render_to_string("welfare/_alert_slot.html", {"alert": AlertStub(), "principal": principal_for(official)})
    assert 'name="source" value="iot_alert"' in html and 'name="source_ref" value="42"' in html
    assert (
        render_to_string("welfare/_alert_slot.html", {"alert": AlertStub(), "principal": principal_for(helper)}).strip()
        == ""
    )


def test_other_area_official_gets_404_and_partner_gets_403(
    make_user: MakeUser, site: Site, official: User, household: Any, food_staff: User
) -> None:
    case = services.open_case(actor_of(official), household.id, source=CaseSource.WALK_IN)
    other = signed_in(make_user(Role.WELFARE_OFFICIAL, site, [SAJIK]))
    assert other.get(f"/cases/{case.id}/").status_code == 404
    assert other.get(f"/cases/new/?household={household.id}").status_code == 404
    assert signed_in(food_staff).get(f"/cases/{case.id}/").status_code == 403
    assert signed_in(food_staff).get("/cases/").status_code == 403


@pytest.mark.usefixtures("sharing_consent")
def test_referral_from_case_page_answered_in_partner_inbox(
    official: User, household: Any, food_service: Service, food_staff: User, health_staff: User
) -> None:
    case = services.open_case(actor_of(official), household.id, source=CaseSource.WALK_IN)
    client = signed_in(official)
    picker = client.get("/cases/services/", {"q": "식품"}).content.decode()
    assert str(food_service.id) in picker
    client.post(f"/cases/{case.id}/refer/", {"service_id": str(food_service.id), "note": "Two people, no rice."})
    referral = Referral.objects.get()
    partner = signed_in(food_staff)
    inbox = partner.get("/referrals/").content.decode()
    assert household.reference in inbox and "김영자" in inbox
    detail = partner.get(f"/referrals/{referral.pk}/").content.decode()
    assert "010-2345-6789" in detail and "Two people, no rice." in detail and "dementia" not in detail
    partner.post(f"/referrals/{referral.pk}/status/", {"status": "accepted"})
    partner.post(f"/referrals/{referral.pk}/status/", {"status": "delivered", "note": "Delivered."})
    referral.refresh_from_db()
    assert referral.status == "delivered"
    outsider = signed_in(health_staff)
    assert outsider.get(f"/referrals/{referral.pk}/").status_code == 404
    assert household.reference not in outsider.get("/referrals/").content.decode()
    assert outsider.get(f"/households/{household.id}/").status_code in (403, 404)
    assert AuditEntry.objects.filter(actor=food_staff, resource="referral", action="list").exists()


def test_verification_pages_resolve_a_task(official: User, household: Any) -> None:
    task = services.open_verification_task(
        actor_of(official), household.id, kind=VerificationKind.CONTACT, source="check_in", note="Number dead."
    )
    client = signed_in(official)
    assert household.reference in client.get("/verification/").content.decode()
    assert "Number dead." in client.get(f"/verification/{task.id}/").content.decode()
    done = client.post(f"/verification/{task.id}/resolve/", {"resolution": "unreachable"})
    assert done.status_code == 302
    assert household.reference not in client.get("/verification/").content.decode()


def test_handover_page(make_user: MakeUser, site: Site, official: User, household: Any) -> None:
    successor = make_user(Role.WELFARE_OFFICIAL, site, ["1111051500"])
    services.open_case(actor_of(official), household.id, source=CaseSource.WALK_IN)
    client = signed_in(official)
    assert client.get("/cases/handover/").status_code == 200
    client.post("/cases/handover/", {"from_user": official.pk, "to_user": successor.pk})
    assert Case.objects.get().assigned_to_id == successor.pk


def _api(user: User) -> tuple[Client, dict[str, str]]:
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {accounts.issue_api_token(user, 'test').plaintext}"}


@pytest.mark.usefixtures("sharing_consent")
def test_api_case_and_referral_round_trip(
    official: User, household: Any, food_service: Service, food_staff: User
) -> None:
    client, auth = _api(official)
    body = {"household_id": household.id, "source": "screening", "needs": ["income"]}
    opened = client.post("/api/v1/cases", body, content_type="application/json", **auth)
    assert opened.status_code == 201
    case_id = opened.json()["id"]
    again = client.post("/api/v1/cases", body, content_type="application/json", **auth)
    assert again.status_code == 200 and again.json()["id"] == case_id
    assert client.get("/api/v1/cases", **auth).json()["total"] == 1
    sent = client.post(
        f"/api/v1/cases/{case_id}/referrals",
        {"service_id": str(food_service.id), "need_domain": "food"},
        content_type="application/json",
        **auth,
    )
    assert sent.status_code == 201
    rid = sent.json()["id"]
    partner_client = Client()
    partner_auth = {"HTTP_AUTHORIZATION": f"Bearer {accounts.issue_api_token(food_staff, 't').plaintext}"}
    assert partner_client.get("/api/v1/referrals", **partner_auth).json()[0]["id"] == rid
    wrong = partner_client.post(
        f"/api/v1/referrals/{rid}/status", {"status": "delivered"}, content_type="application/json", **partner_auth
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["code"] == "invalid_transition"
    assert partner_client.get(f"/api/v1/cases/{case_id}", **partner_auth).status_code == 403
    detail = client.get(f"/api/v1/cases/{case_id}", **auth).json()
    assert detail["referrals"][0]["status"] == "sent" and detail["needs"][0]["domain"] == "income"

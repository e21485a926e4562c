"""Alert pages for officials: the board (and its live fragment), one alert, acknowledging and resolving, the
household's activity pictures, the on-call roster and the outcome rates; scoped like households."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from maeul.accounts.roles import Role
from maeul.audit.models import AuditEntry
from maeul.conftest import SAJIK, MakeUser, signed_in
from maeul.sensing.models import Device, Reading
from maeul.sites.models import Site
from maeul.watch import detectors, services
from maeul.watch.models import Alert, AlertStatus, OnCallShift

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def channels() -> Any:
    with override_settings(MAEUL_NOTIFY_CHANNELS=["web", "console"]):
        yield


@pytest.fixture
def alert(site: Site, household: Any, official: User) -> Alert:
    raised = services.raise_alert(
        site.pk,
        household.id,
        detectors.Alert(
            household="h",
            kind="inactivity",
            raised_at=timezone.now() - timedelta(minutes=3),
            severity="high",
            reason="No activity for 9 h; usually at most 3 h on Tuesdays mornings.",
            cause="inactivity",
            reason_code="inactivity_learned",
            reason_params={"silent_minutes": 540, "usual_minutes": 180, "weekday": 1, "part": "mornings"},
        ),
    )
    assert raised is not None
    return raised


def test_board_lists_alerts_and_refreshes_as_a_fragment(alert: Alert, official: User) -> None:
    client = signed_in(official)
    page = client.get("/alerts/", HTTP_ACCEPT_LANGUAGE="ko")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'hx-trigger="every 5s"' in text and alert.household.reference in text  # type: ignore[union-attr]
    assert "9시간" in text  # the reason in Korean
    fragment = client.get("/alerts/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    seen = AuditEntry.objects.filter(resource="alert", household_id=alert.household_id, action="view")
    assert seen.count() == 1  # the refresh within the window is the same read, recorded once


def test_acknowledge_and_resolve_from_the_pages(alert: Alert, official: User) -> None:
    client = signed_in(official)
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    client.post(f"/alerts/{alert.pk}/resolve/", {"outcome": "person_fine", "note": "Slept late."})
    alert.refresh_from_db()
    assert (alert.status, alert.outcome) == (AlertStatus.RESOLVED, "person_fine")
    detail = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "Slept late." in detail
    rates = client.get("/alerts/outcomes/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No activity" in rates


def test_alert_page_shows_evidence_and_who_was_told(alert: Alert, official: User, site: Site) -> None:
    device = Device.objects.create(
        site=site, household_id=alert.household_id, protocol="zigbee2mqtt", identity="h/motion", kinds=["motion"]
    )
    Reading.objects.create(
        device=device, household_id=alert.household_id, kind="motion", value=1, at=alert.raised_at - timedelta(hours=10)
    )
    page = signed_in(official).get(f"/alerts/{alert.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<svg class="bars"' in page and "<rect" in page
    assert "official" in page and "Live view" in page


def test_alerts_outside_ones_areas_are_not_found(alert: Alert, site: Site, make_user: MakeUser) -> None:
    elsewhere = signed_in(make_user(Role.WELFARE_OFFICIAL, site, [SAJIK]))
    assert elsewhere.get(f"/alerts/{alert.pk}/").status_code == 404
    assert alert.household.reference not in elsewhere.get("/alerts/").content.decode()  # type: ignore[union-attr]
    assert elsewhere.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 404
    body_member = signed_in(make_user(Role.BODY_MEMBER, site, [SAJIK]))
    assert body_member.get("/alerts/").status_code == 403


def test_household_activity_page(household: Any, official: User, site: Site) -> None:
    device = Device.objects.create(
        site=site, household_id=household.id, protocol="zigbee2mqtt", identity="h/kitchen", kinds=["motion"]
    )
    now = timezone.now()
    Reading.objects.bulk_create(
        Reading(device=device, household_id=household.id, kind="motion", value=1, at=now - timedelta(hours=h))
        for h in range(0, 72, 2)
    )
    page = signed_in(official).get(f"/households/{household.id}/activity/", HTTP_ACCEPT_LANGUAGE="ko")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('class="l0"') + text.count('class="l1"') + text.count('class="l4"') >= 7 * 24
    assert 'class="l4"' in text or 'class="l3"' in text  # the busiest hours stand out


def test_on_call_roster_page(site: Site, site_admin: User, official: User) -> None:
    client = signed_in(site_admin)
    page = client.get("/alerts/on-call/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "추석" in page or "기독탄신일" in page  # this year's public holidays
    start = timezone.localtime() + timedelta(days=1)
    client.post(
        "/alerts/on-call/",
        {
            "user": official.pk,
            "starts_at": start.strftime("%Y-%m-%dT18:00"),
            "ends_at": (start + timedelta(days=1)).strftime("%Y-%m-%dT09:00"),
        },
    )
    assert official.username in client.get("/alerts/on-call/").content.decode()
    shift = OnCallShift.objects.get()
    signed_in(official).post("/alerts/on-call/", {"remove": shift.pk})  # officials only read the roster
    assert OnCallShift.objects.filter(pk=shift.pk).exists()

"""In headless Chromium: an official watches the live alert board; an SOS press arrives through the live detector
and appears without a reload; the official takes it on a 360-px phone, and resolves it on the alert page, whose
evidence chart is drawn. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, actor_of, household_data
from maeul.people import services as people
from maeul.sensing.adapters import Kind
from maeul.sensing.models import Device, IngestWorker, Reading
from maeul.sensing.stream import StoredReading
from maeul.testing.browser import ARTIFACTS, next_code
from maeul.watch.live import LiveWatch
from maeul.watch.models import Alert, AlertStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 360, "height": 780}


@override_settings(MAEUL_NOTIFY_CHANNELS=["web", "console"])
def test_sos_appears_on_the_live_board_and_is_taken(live_server, browser, site, make_user) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    admin = make_user(Role.SITE_ADMIN, site)
    home = people.register_household(actor_of(admin), household_data())
    button = Device.objects.create(
        site=site,
        household_id=home.id,
        protocol="zigbee2mqtt",
        identity="h1/sos-button",
        kinds=["sos", "battery"],
        label="SOS 버튼",
    )
    now = timezone.now()
    Reading.objects.bulk_create(
        Reading(device=button, household_id=home.id, kind="motion", value=1, at=now - timedelta(minutes=m))
        for m in range(20, 48 * 60, 45)
    )
    IngestWorker.objects.create(site=site, name="test", started_at=now, heartbeat_at=now, broker_connected=True)
    official = make_user(Role.WELFARE_OFFICIAL, site, [CHEONGUN])

    phone = browser.new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{live_server.url}/alerts/")
    page.fill("#id_username", official.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/account/two-factor/**")
    page.fill("#id_code", next_code(page.inner_text("main code"), official))
    page.click("main button[type=submit]")
    page.wait_for_url("**/alerts/")
    assert page.locator(".alert-card").count() == 0

    # The press reaches the live detector after ingestion commits it; the board shows it without a reload.
    LiveWatch(site.pk).readings(
        [
            StoredReading(
                reading_id=None,
                site_id=site.pk,
                household_id=home.id,
                device_id=button.pk,
                device=button.identity,
                kind=Kind.SOS,
                value=1,
                at=timezone.now(),
            )
        ]
    )
    page.wait_for_selector(".alert-card.critical", timeout=15000)
    assert home.reference in page.inner_text(".alert-card.critical")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.screenshot(path=str(ARTIFACTS / "alert-board-phone.png"), full_page=True)

    page.click(".alert-card.critical button")  # "I'll take it", through htmx
    page.wait_for_selector(".alert-card.critical.acknowledged")
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by_id == official.pk

    desk = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="ko-KR", storage_state=phone.storage_state()
    ).new_page()
    desk.goto(f"{live_server.url}/alerts/{alert.pk}/")
    assert "119" in desk.inner_text(".warn-card")
    assert desk.locator("svg.bars rect").count() >= 48
    desk.select_option("select[name=outcome]", "person_fine")
    desk.fill("textarea[name=note]", "버튼을 실수로 눌렀다고 하심")
    desk.screenshot(path=str(ARTIFACTS / "alert-detail-desktop.png"), full_page=True)
    desk.click("form[action$='/resolve/'] button")
    desk.wait_for_selector(".alert-card.resolved")
    alert.refresh_from_db()
    assert (alert.status, alert.outcome) == (AlertStatus.RESOLVED, "person_fine")

    desk.goto(f"{live_server.url}/households/{home.id}/activity/")
    assert desk.locator(".heat span.l1, .heat span.l2, .heat span.l3, .heat span.l4").count() > 20
    desk.screenshot(path=str(ARTIFACTS / "household-activity-desktop.png"), full_page=True)

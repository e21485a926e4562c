"""In headless Chromium: a resident on a 360-px phone files a hazard report with a photo, a safety official
triages and routes it on a desktop screen, and the resident's tracking page shows the change.
Screenshots go to test-artifacts/ for people to look at."""

from __future__ import annotations

import os

import pytest

from maeul.accounts.roles import Role
from maeul.safety.models import HazardReport
from maeul.safety.tests.conftest import jpeg
from maeul.testing.browser import ARTIFACTS, next_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 360, "height": 780}


def test_resident_reports_official_routes_resident_sees_it(live_server, browser, site, make_user, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(jpeg())

    # The resident, no account, on a phone.
    resident = browser.new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    page = resident.new_page()
    page.goto(f"{live_server.url}/report/")
    page.select_option("#id_category", "pothole")
    box = page.locator("#pick-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the pin, in the map's centre
    page.wait_for_function("document.getElementById('id_latitude').value !== ''")
    page.fill("#id_description", "횡단보도 앞 도로가 움푹 패여 있어 넘어질 위험이 있습니다")
    page.set_input_files("#id_photo", str(photo))
    page.click("summary")  # the optional contact details
    page.fill("#id_reporter_email", "resident@example.kr")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # no sideways scroll
    page.screenshot(path=str(ARTIFACTS / "hazard-report-form-phone.png"), full_page=True)
    page.click("button.big")
    page.wait_for_url("**/report/track/**")
    report = HazardReport.objects.get()
    assert report.photos.count() == 1 and report.source == "web"
    first_status = page.inner_text("#report-status")
    assert report.reference in page.inner_text("h1")
    page.wait_for_selector(".photos img")
    assert page.evaluate("document.querySelector('.photos img').naturalWidth") > 0  # the follower sees the photo
    page.screenshot(path=str(ARTIFACTS / "hazard-track-submitted-phone.png"), full_page=True)
    tracking_url = page.url

    # The safety official of that eup/myeon/dong, on a desktop.
    official = make_user(Role.SAFETY_OFFICIAL, site, [report.area_id])
    office = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    desk = office.new_page()
    desk.goto(f"{live_server.url}/hazards/")
    desk.fill("#id_username", official.username)
    desk.fill("#id_password", "correct-horse-battery")
    desk.click("button[type=submit]")
    desk.wait_for_url("**/account/two-factor/**")
    secret = desk.inner_text("main code")
    desk.fill("#id_code", next_code(secret, official))
    desk.click("main button[type=submit]")
    desk.wait_for_url("**/hazards/")
    desk.click(f"text={report.reference}")
    desk.wait_for_url(f"**/hazards/{report.pk}/")
    desk.wait_for_selector(".photos img")
    desk.select_option("#triage-form select[name=likelihood]", "4")
    desk.select_option("#triage-form select[name=severity]", "3")
    desk.select_option("#triage-form select[name=responder]", "roads")
    desk.check("#triage-form input[name=urgent]")
    desk.fill("#triage-form input[name=note]", "도로과에서 이번 주 안에 보수합니다")
    desk.click("#triage-form button[type=submit]")
    desk.wait_for_selector(".risk.high")
    desk.screenshot(path=str(ARTIFACTS / "hazard-triaged-desktop.png"), full_page=True)
    report.refresh_from_db()
    assert report.status == "routed" and report.urgent and report.risk_score == 12

    # Back on the phone: the resident sees the new status, who handles it, and the note.
    page.goto(tracking_url)
    assert page.inner_text("#report-status") != first_status
    timeline = page.inner_text(".timeline")
    assert "도로과" in timeline and "이번 주 안에 보수합니다" in timeline
    page.screenshot(path=str(ARTIFACTS / "hazard-track-routed-phone.png"), full_page=True)
    resident.close()
    office.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

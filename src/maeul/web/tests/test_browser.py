"""A person in headless Chromium: logs in with password and TOTP, finds a household and opens it,
on a desktop screen and on a 360-px phone. Screenshots go to test-artifacts/ for people to look at."""

from __future__ import annotations

import os

import pytest

from maeul.conftest import actor_of, household_data
from maeul.people import services as people
from maeul.testing.browser import ARTIFACTS, next_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_official_logs_in_and_opens_a_household(live_server, browser, official, site_admin) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    admin = actor_of(site_admin)
    household = people.register_household(admin, household_data())
    for i in range(12):
        people.register_household(admin, household_data(name=f"주민{i}", phone=None, care_level=1 + i % 3))
    secret = ""
    for label, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 360, "height": 780})):
        context = browser.new_context(viewport=viewport, locale="ko-KR")
        page = context.new_page()
        page.goto(f"{live_server.url}/households/")
        assert "/account/login/" in page.url
        page.fill("#id_username", official.username)
        page.fill("#id_password", "correct-horse-battery")
        page.click("button[type=submit]")
        page.wait_for_url("**/account/two-factor/**")
        if not secret:  # first login: enrol from the key shown beside the QR code
            assert page.locator("svg").count() == 1
            secret = page.inner_text("main code")
        page.fill("#id_code", next_code(secret, official))
        page.click("main button[type=submit]")
        page.wait_for_url("**/households/")
        page.fill("input[name=q]", "김영자")
        page.press("input[name=q]", "Enter")
        page.wait_for_selector(f"text={household.reference}")
        page.click(f"text={household.reference}")
        page.wait_for_url(f"**/households/{household.id}/")
        page.wait_for_selector("h1")
        body = page.inner_text("main")
        assert "김영자" in body and "010-2345-6789" in body and "반지하" in body
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1  # no sideways scroll
        page.wait_for_selector(".leaflet-interactive")  # the point draws even without map tiles
        page.screenshot(path=str(ARTIFACTS / f"household-{label}.png"), full_page=True)
        context.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

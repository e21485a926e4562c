"""A person in headless Chromium: logs in with password and TOTP, finds a household and opens it,
on a desktop screen and on a 360-px phone. Screenshots go to test-artifacts/ for people to look at."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from maeul.conftest import actor_of, household_data
from maeul.people import services as people

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (scripts/ensure-debian-packages.sh)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; the ORM calls in this test thread are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


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
        page.fill("#id_code", _next_code(secret, official))
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


def _next_code(secret: str, official: Any) -> str:
    """A code for a step not used yet (each step is accepted once; the server allows one step of drift)."""
    from maeul.accounts.models import SecondFactor

    totp = pyotp.TOTP(secret)
    factor = SecondFactor.objects.get(user=official)
    while True:
        now_step = int(time.time()) // totp.interval
        step = max(now_step, factor.last_used_step + 1)
        if step <= now_step + 1:
            return totp.generate_otp(step)
        time.sleep(1)

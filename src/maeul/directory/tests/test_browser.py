"""In headless Chromium on a 360-px phone: a helper filters the directory by need and age and the results change
in place (htmx); nothing is wider than the screen. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, MakeUser
from maeul.directory.models import Service
from maeul.sites.models import Site
from maeul.testing.browser import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 360, "height": 780}


def test_a_helper_searches_the_directory_on_a_phone(  # type: ignore[no-untyped-def]
    live_server, browser, site: Site, make_user: MakeUser, meal_service: Service, disability_service: Service
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    helper: User = make_user(Role.HELPER, site, [CHEONGUN])
    phone = browser.new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{live_server.url}/directory/")
    page.fill("#id_username", helper.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/directory/")
    rows = page.locator("#service-results tbody tr")
    assert rows.count() == 2
    page.select_option("#id_need", "food")
    page.wait_for_function("document.querySelectorAll('#service-results tbody tr').length === 1")
    assert "어르신 도시락 배달" in page.inner_text("#service-results")
    page.fill("#id_age", "40")
    page.press("#id_age", "Enter")
    page.wait_for_function("!document.querySelector('#service-results').innerText.includes('도시락')")
    assert "need=food" in page.url and "age=40" in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "directory-search-phone.png"), full_page=True)
    phone.close()

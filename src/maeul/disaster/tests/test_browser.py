"""In headless Chromium: a heat-wave roll-call from activation to every household accounted for. The safety official
activates a response by tapping 청운효자동 on the map; the helper and the consultative body member, each on a
360-px phone, reach the households handed to them (one needs a second try); the official reaches the one nobody was
assigned from the live board, which then says that everyone is accounted for. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, MakeUser, actor_of, household_data
from maeul.disaster import services
from maeul.disaster.models import Contact, EntryStatus, Response, RollCallEntry
from maeul.people import services as people
from maeul.safety import services as safety
from maeul.safety.schemas import MemberInput
from maeul.safetynet import services as safetynet
from maeul.safetynet.models import HelperKind
from maeul.safetynet.schemas import AssignmentInput, HelperInput
from maeul.testing.browser import ARTIFACTS, next_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}


def _log_in(context: Any, url: str, username: str, then: str) -> Any:
    page = context.new_page()
    page.goto(f"{url}{then}")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    return page


@override_settings(MAEUL_NOTIFY_CHANNELS=["web", "console"])
def test_heat_wave_roll_call_from_activation_to_everyone_accounted_for(  # type: ignore[no-untyped-def]
    live_server, browser, site, make_user: MakeUser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    admin = make_user(Role.SITE_ADMIN, site)
    official = make_user(Role.SAFETY_OFFICIAL, site, [CHEONGUN])
    helper_user = make_user(Role.HELPER, site, [CHEONGUN])
    member_user = make_user(Role.BODY_MEMBER, site, [CHEONGUN])
    a = actor_of(admin)
    bedridden = people.register_household(a, household_data(name="김말순", bedridden=True, housing_type="rooftop")).id
    alone = people.register_household(a, household_data(name="이복남", latitude=37.5840, longitude=126.9680)).id
    quiet = people.register_household(
        a, household_data(name="박정희", latitude=37.5850, longitude=126.9710, housing_type="apartment", care_level=1)
    ).id
    helper = safetynet.register_helper(
        actor_of(official),
        HelperInput(kind=HelperKind.NEIGHBOUR, name="최도움", phone="010-3456-7890", area_codes=[CHEONGUN],
                    consent_given_on=date(2026, 3, 1), account_id=helper_user.pk),
    )  # fmt: skip
    safetynet.assign_helper(actor_of(official), bedridden, AssignmentInput(helper_id=helper.id))
    member = safety.add_member(
        actor_of(official),
        MemberInput(area_code=CHEONGUN, name="한위원", phone="010-5100-2201", kind="village_head",
                    term_start=date(2025, 3, 1)),
        account_id=member_user.pk,
    )  # fmt: skip
    # The third household goes to the member too (members share their area's unassigned households), so a second
    # member would split them; here one member takes both, and the official takes one over from the board.

    # 1. The official activates the heat-wave response on a desktop, choosing the dong on the map.
    desk = browser.new_context(viewport=DESK, locale="ko-KR")
    page = _log_in(desk, live_server.url, official.username, "/disaster/activate/")
    page.wait_for_url("**/account/two-factor/**")
    page.fill("#id_code", next_code(page.inner_text("main code"), official))
    page.click("main button[type=submit]")
    page.wait_for_url("**/disaster/activate/")
    page.select_option("#id_hazard", "heat")
    page.select_option("#id_level", "warning")
    page.fill("#id_title", "청운효자동 폭염경보")
    page.locator(".pick-areas path.leaflet-interactive").first.click()  # the dong's marker ticks its box
    assert page.is_checked(f"input[name=area_codes][value='{CHEONGUN}']")
    page.screenshot(path=str(ARTIFACTS / "disaster-activate.png"), full_page=True)
    page.click("button.big")
    page.wait_for_url("**/disaster/*/")
    response = Response.objects.get()
    assert page.locator(".entry").count() == 3
    assert page.locator(".entry").first.get_attribute("data-entry") == str(
        RollCallEntry.objects.get(response=response, household_id=bedridden).pk
    )  # the bedridden resident in a rooftop room comes first
    page.wait_for_selector(".board-map path.leaflet-interactive")
    page.screenshot(path=str(ARTIFACTS / "disaster-board-start.png"), full_page=True)

    # 2. The helper reaches their household on a phone.
    phone = browser.new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    mine = _log_in(phone, live_server.url, helper_user.username, "/disaster/my/")
    mine.wait_for_url("**/disaster/my/")
    assert mine.locator(".entry").count() == 1 and "김말순" in mine.inner_text(".entry")
    assert mine.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    mine.screenshot(path=str(ARTIFACTS / "disaster-helper-phone.png"), full_page=True)
    mine.click(".entry button.result.fine")
    mine.wait_for_selector(".messages li")
    assert RollCallEntry.objects.get(response=response, household_id=bedridden).status == EntryStatus.FINE

    # 3. The member: no answer at first, then reached — needs help, no working fan; then the other one is fine.
    member_phone = browser.new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    theirs = _log_in(member_phone, live_server.url, member_user.username, "/disaster/my/")
    theirs.wait_for_url("**/disaster/my/")
    assert theirs.locator(".entry").count() == 2
    entry_alone = RollCallEntry.objects.get(response=response, household_id=alone)
    card = theirs.locator(f".entry[data-entry='{entry_alone.pk}']")
    card.locator("button.result.not_reached").click()
    theirs.wait_for_selector(f".entry.not_reached[data-entry='{entry_alone.pk}']")
    card = theirs.locator(f".entry[data-entry='{entry_alone.pk}']")
    card.locator("summary").click()
    card.locator("textarea[name=note]").fill("선풍기 고장, 더위에 지침")
    card.locator("input[name=has_cooling]").check()
    theirs.screenshot(path=str(ARTIFACTS / "disaster-member-phone.png"), full_page=True)
    card.locator("button.result.needs_help").click()
    theirs.wait_for_selector(f".entry.needs_help[data-entry='{entry_alone.pk}']")
    assert Contact.objects.filter(entry=entry_alone).count() == 2

    # 4. The official takes the last one over and reaches it from the board.
    page.goto(f"{live_server.url}/disaster/{response.pk}/")
    entry_quiet = RollCallEntry.objects.get(response=response, household_id=quiet)
    assert entry_quiet.member_id == member.pk
    page.check(f".entry[data-entry='{entry_quiet.pk}'] input[name=entry_ids]")
    page.select_option("select[name=to]", "me")
    page.click("button[form=reassign]")
    page.wait_for_selector(".messages li")
    page.locator(f".entry[data-entry='{entry_quiet.pk}'] button.result.evacuated").click()
    page.wait_for_selector(".done-card")
    response.refresh_from_db()
    assert response.completed_at is not None
    assert {e.status for e in RollCallEntry.objects.filter(response=response)} == {
        EntryStatus.FINE, EntryStatus.NEEDS_HELP, EntryStatus.EVACUATED
    }  # fmt: skip
    page.select_option("select[name=status]", "needs_help")
    page.click("form.filters button")
    page.wait_for_selector(".entry.needs_help")
    page.screenshot(path=str(ARTIFACTS / "disaster-board-done.png"), full_page=True)
    report = page.context.new_page()
    report.goto(f"{live_server.url}/disaster/{response.pk}/report/")
    assert "3 / 3" in page.inner_text(".counts") or "100%" in report.inner_text(".report")
    report.screenshot(path=str(ARTIFACTS / "disaster-report.png"), full_page=True)
    pdf = report.request.get(f"{live_server.url}/disaster/{response.pk}/report/?format=pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    (ARTIFACTS / "disaster-report.pdf").write_bytes(pdf.body())
    day = timezone.localdate(response.activated_at)
    assert services.programme_figures(site.pk, day, day + timedelta(days=1))["share_reached"] == 1.0

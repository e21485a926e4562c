from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from maeul.accounts.middleware import SESSION_VERIFIED_KEY
from maeul.accounts.models import ApiToken, Membership
from maeul.accounts.roles import Role
from maeul.accounts.services import issue_api_token
from maeul.conftest import CHEONGUN, signed_in

pytestmark = pytest.mark.django_db


def test_site_admin_opens_and_closes_accounts(site, site_admin, other_site) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(site_admin)
    page = client.post(
        "/site/accounts/",
        {"username": "kim.official", "role": "welfare_official", "area_codes": [CHEONGUN], "display_name": "김주무관"},
    )
    body = page.content.decode()
    assert page.status_code == 200 and 'id="temporary-password"' in body
    password = body.split('id="temporary-password">')[1].split("<")[0]
    member = Membership.objects.get(user__username="kim.official")
    assert member.site == site and list(member.areas.values_list("code", flat=True)) == [CHEONGUN]
    newcomer = Client()
    login = newcomer.post("/account/login/", {"username": "kim.official", "password": password})
    assert login.status_code == 302 and "two-factor" in login["Location"]
    session = newcomer.session
    session[SESSION_VERIFIED_KEY] = True  # the second factor has its own tests
    session.save()
    assert newcomer.get("/households/")["Location"] == "/account/password/"
    new_password = "a-better-password-2026"
    changed = newcomer.post(
        "/account/password/", {"old_password": password, "new_password1": new_password, "new_password2": new_password}
    )
    assert changed.status_code == 302
    assert newcomer.get("/households/").status_code == 200
    taken = client.post("/site/accounts/", {"username": "KIM.official", "role": "helper"})
    assert "taken" in taken.content.decode()
    outside = client.post("/site/accounts/", {"username": "x", "role": "helper", "area_codes": ["4183025000"]})
    assert "not eup/myeon/dong" in outside.content.decode() or "4183025000" in outside.content.decode()
    issue_api_token(member.user, "t")
    assert client.post(f"/site/accounts/{member.user_id}/close/").status_code == 302
    member.user.refresh_from_db()
    assert not member.user.is_active and ApiToken.objects.get().revoked_at is not None


def test_site_admins_cannot_close_other_sites_accounts(site_admin, other_site, make_user) -> None:  # type: ignore[no-untyped-def]
    stranger = make_user(Role.SITE_ADMIN, other_site)
    signed_in(site_admin).post(f"/site/accounts/{stranger.pk}/close/")
    stranger.refresh_from_db()
    assert stranger.is_active


def test_operators_create_sites_and_accounts_from_the_command_line(reference, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("sites", "create", "suwon", "수원시", "4111000000", "--type", "1")
    call_command("accounts", "create", "suwon-admin", "--role", "site_admin", "--site", "suwon")
    call_command("accounts", "create", "mois", "--role", "ministry")
    out = capsys.readouterr().out
    assert "Temporary password" in out
    suwon = Membership.objects.get(user__username="suwon-admin").site
    assert suwon is not None and suwon.areas.filter(code__startswith="41111").exists()  # 장안구 dongs
    assert Membership.objects.get(user__username="mois").site is None


def test_coordinates_suggest_an_area_in_the_form(official) -> None:  # type: ignore[no-untyped-def]
    fragment = signed_in(official).get("/areas/suggest/", {"latitude": "37.584", "longitude": "126.9705"})
    assert fragment.status_code == 200 and "11110" in fragment.content.decode()

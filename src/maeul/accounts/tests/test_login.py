from __future__ import annotations

import pyotp
import pytest
from django.conf import settings
from django.test import Client

from maeul.accounts import services
from maeul.accounts.models import ApiToken, LoginAttempt
from maeul.accounts.roles import Role
from maeul.audit.models import AuditAction, AuditEntry
from maeul.conftest import CHEONGUN
from maeul.protection import fields

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _login(client: Client, username: str, password: str = PASSWORD) -> str:
    response = client.post("/account/login/", {"username": username, "password": password})
    return response["Location"] if response.status_code == 302 else ""


def _secret_from_enrolment(client: Client) -> str:
    page = client.get("/account/two-factor/").content.decode()
    return page.split("<code>")[1].split("</code>")[0]


def test_officials_enrol_and_then_need_the_second_factor(official) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert _login(client, official.username).startswith("/account/two-factor/")
    assert client.get("/households/").status_code == 302  # blocked until verified
    secret = _secret_from_enrolment(client)
    assert client.post("/account/two-factor/", {"code": "000000"}).status_code == 200
    response = client.post("/account/two-factor/", {"code": pyotp.TOTP(secret).now(), "next": "/households/"})
    assert response.status_code == 302 and response["Location"] == "/households/"
    assert client.get("/households/").status_code == 200
    second = Client()
    _login(second, official.username)
    page = second.get("/account/two-factor/").content.decode()
    assert "<svg" not in page  # enrolled: no QR code is shown again


def test_a_code_cannot_be_replayed(official) -> None:  # type: ignore[no-untyped-def]
    services.start_enrolment(official, secret=pyotp.random_base32())
    code = services.current_code(official)
    assert services.verify_second_factor(official, code)
    assert not services.verify_second_factor(official, code)


def test_helpers_log_in_with_a_password_only(site, make_user) -> None:  # type: ignore[no-untyped-def]
    helper = make_user(Role.HELPER, site, [CHEONGUN])
    client = Client()
    assert _login(client, helper.username) == "/"
    assert client.get("/").status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN, actor=helper).exists()


def test_repeated_failures_are_throttled(official) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(settings.MAEUL_LOGIN_MAX_FAILURES):
        response = client.post("/account/login/", {"username": official.username, "password": "wrong"})
        assert "not correct" in response.content.decode() or "올바르지" in response.content.decode()
    response = client.post("/account/login/", {"username": official.username, "password": PASSWORD})
    assert response.status_code == 200  # even the right password is refused for the window
    assert LoginAttempt.objects.filter(username=official.username, succeeded=True).count() == 0


def test_sessions_expire_when_idle_and_are_renewed_while_used(official, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.sessions.models import Session

    from maeul.accounts import middleware
    from maeul.conftest import signed_in

    assert settings.SESSION_COOKIE_AGE <= 60 * 60 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    client = signed_in(official)
    client.get("/")
    key = client.session.session_key
    first = Session.objects.get(session_key=key).expire_date
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date == first  # not rewritten within the minute
    real_time = middleware.time.time
    monkeypatch.setattr(middleware.time, "time", lambda: real_time() + 120)
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date > first


def test_totp_secrets_are_encrypted(official) -> None:  # type: ignore[no-untyped-def]
    secret = pyotp.random_base32()
    services.start_enrolment(official, secret=secret)
    stored = official.second_factor.secret_encrypted
    assert secret not in stored and fields.decrypt(stored) == secret


def test_api_tokens_authenticate_and_can_be_revoked(official, household) -> None:  # type: ignore[no-untyped-def]
    issued = services.issue_api_token(official, "gateway")
    assert issued.plaintext not in ApiToken.objects.get().key_hash
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issued.plaintext}"}
    assert client.get(f"/api/v1/households/{household.id}", **auth).status_code == 200
    me = client.get("/api/v1/me", **auth).json()
    assert me["role"] == "welfare_official" and me["area_codes"] == [CHEONGUN]
    assert services.revoke_api_token(official, issued.token.pk)
    response = client.get(f"/api/v1/households/{household.id}", **auth)
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"


def test_unverified_sessions_cannot_use_the_api(official) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(official)
    assert client.get("/api/v1/households").status_code == 401

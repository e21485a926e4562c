"""Officials and administrators reach nothing but the second-factor pages until they pass TOTP."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from maeul.accounts.principal import request_principal

SESSION_VERIFIED_KEY = "maeul_second_factor_ok"
SESSION_REFRESHED_KEY = "maeul_refreshed_at"
# The idle timeout is renewed at most this often: a database write per minute, not one per request.
SESSION_REFRESH_SECONDS = 60
_OPEN_PREFIXES = ("/static/", "/account/two-factor", "/account/logout", "/i18n/", "/healthz")
_PASSWORD_PAGE = "/account/password/"  # noqa: S105 — a URL path, not a secret


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.session.get(SESSION_VERIFIED_KEY)
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            from maeul.accounts.services import needs_second_factor

            if needs_second_factor(user):
                if request.path.startswith("/api/"):
                    return HttpResponse(status=401)
                return HttpResponseRedirect(reverse("two_factor") + "?next=" + request.get_full_path())
        if (
            user.is_authenticated
            and not request.path.startswith((*_OPEN_PREFIXES, _PASSWORD_PAGE))
            and request_principal(request).must_change_password
        ):
            # Accounts opened with a temporary password set their own before anything else.
            if request.path.startswith("/api/"):
                return HttpResponse(status=403)
            return HttpResponseRedirect(_PASSWORD_PAGE)
        return self.get_response(request)


class SessionRefreshMiddleware:
    """Keep a signed-in session alive while it is used, writing it back at most once a minute."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if session.get("_auth_user_id"):
            now = int(time.time())
            if now - int(session.get(SESSION_REFRESHED_KEY, 0)) >= SESSION_REFRESH_SECONDS:
                session[SESSION_REFRESHED_KEY] = now  # marks the session modified: saved with a new expiry
        return self.get_response(request)

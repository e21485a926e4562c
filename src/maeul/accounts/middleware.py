"""Officials and administrators reach nothing but the second-factor pages until they pass TOTP."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

SESSION_VERIFIED_KEY = "maeul_second_factor_ok"
_OPEN_PREFIXES = ("/static/", "/account/two-factor", "/account/logout", "/i18n/", "/healthz")


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
        return self.get_response(request)

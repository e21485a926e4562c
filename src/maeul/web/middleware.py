"""Request hygiene shared by pages and the API."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


class RejectNulBytesMiddleware:
    """Refuse NUL characters in parameters and JSON bodies with a clear 400.

    PostgreSQL text cannot hold U+0000, so such input would otherwise fail deep inside a query; no form or
    device in Maeul's domain sends it on purpose.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            detail = "Parameters and bodies must not contain the NUL character (U+0000)."
            if request.path.startswith("/api/"):
                body = {
                    "type": "https://maeul.kr/problems/nul_character",
                    "title": "Invalid characters",
                    "status": 400,
                    "detail": detail,
                    "instance": request.path,
                }
                return HttpResponse(json.dumps(body), status=400, content_type="application/problem+json")
            return HttpResponseBadRequest(detail)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            return True
        if request.method in ("POST", "PUT", "PATCH"):
            if request.content_type == "application/json":
                return b"\\u0000" in request.body or b"\x00" in request.body
            if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                return any("\x00" in v for _, values in request.POST.lists() for v in values)
        return False

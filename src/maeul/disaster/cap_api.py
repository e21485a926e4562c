"""CAP 1.2 by HTTP POST: ``POST /api/v1/disaster/cap`` with ``Authorization: Bearer <source token>`` and one CAP
message as the body (``application/cap+xml`` or ``application/xml``).

The answer says what Maeul did: 200 with ``activated``, ``updated``, ``cancelled``, ``duplicate`` (safe to resend) or
``ignored`` and the reason; 422 problem+json for a message that is not valid CAP 1.2 — it is kept for inspection on
the site's alert-sources page, with the same reason.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.security import HttpBearer

from maeul.accounts.permissions import public
from maeul.disaster import cap, services
from maeul.disaster.models import AlertSource, Channel, MessageOutcome


class SourceTokenAuth(HttpBearer):
    """A CAP sender's own token (issued when the source is added), not a person's API token."""

    def authenticate(self, request: HttpRequest, token: str) -> AlertSource | None:
        return services.source_for_token(token)


router = Router(tags=["disaster response"], auth=SourceTokenAuth())

_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/cap+xml": {"schema": {"type": "string", "description": "One CAP 1.2 alert message"}},
        "application/xml": {"schema": {"type": "string"}},
    },
}


@router.post(
    "/disaster/cap",
    summary="A CAP 1.2 alert from a registered sender",
    openapi_extra={"requestBody": _REQUEST_BODY},
    response={200: dict[str, Any]},
)
@public  # authenticated by the sender's bearer token (SourceTokenAuth), not by a person's role
def post_cap(request: HttpRequest) -> Any:
    from maeul.api import problem

    source: AlertSource = request.auth  # type: ignore[attr-defined]
    if int(request.META.get("CONTENT_LENGTH") or 0) > cap.MAX_BYTES or len(request.body) > cap.MAX_BYTES:
        return problem(request, 413, "Body too large", f"Send at most {cap.MAX_BYTES} bytes: one message per request.",
                       "too_large")  # fmt: skip
    got = services.receive(request.body, channel=Channel.PUSH, site_list=[source.site], source=source)
    body = {
        "outcome": got.outcome.value,
        "reason": got.reason,
        "detail": got.detail,
        "responses": [r.pk for r in got.responses],
        "messages": got.message_ids,
    }
    if got.outcome == MessageOutcome.REJECTED:
        response: HttpResponse = problem(request, 422, "Not a valid CAP 1.2 message", got.detail, got.reason,
                                         [{"pointer": "/", "detail": got.detail, "code": got.reason}])  # fmt: skip
        return response
    return body

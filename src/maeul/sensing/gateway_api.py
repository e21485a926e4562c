"""HTTP ingestion for gateways: ``POST /api/v1/ingest/readings`` with ``Authorization: Bearer <gateway token>``.

The body is Maeul's generic JSON with the device named in each item — ``{"device": "door-1", "kind": "contact",
"value": "open", "at": "2026-11-25T09:30:00+09:00"}`` or a list of such items — stored through the same store path as
MQTT (protocol ``http``). Each item succeeds or fails on its own: the answer counts them and names each failure by
index, and failures are kept as dead letters. An item with ``at`` sent again (a retry after a timeout) is dropped
as a duplicate, so gateways may retry freely.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router
from ninja.security import HttpBearer

from maeul.accounts.permissions import public
from maeul.sensing import services
from maeul.sensing.adapters import Kind
from maeul.sensing.models import DeadLetter, DeadLetterReason, Gateway, Protocol
from maeul.sensing.store import Outcome, Store

MAX_ITEMS = 1000


class GatewayTokenAuth(HttpBearer):
    """A gateway's own token (issued when the gateway is added), not a person's API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Gateway | None:
        return services.gateway_for_token(token)


router = Router(tags=["ingestion"], auth=GatewayTokenAuth())

_ITEM = {
    "type": "object",
    "required": ["device", "kind", "value"],
    "properties": {
        "device": {"type": "string", "minLength": 1, "maxLength": 200},
        "kind": {"type": "string", "enum": [k.value for k in Kind]},
        "value": {"oneOf": [{"type": "number"}, {"type": "boolean"}, {"type": "string"}]},
        "at": {"type": "string", "format": "date-time"},
    },
}
_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"oneOf": [_ITEM, {"type": "array", "items": _ITEM, "minItems": 1, "maxItems": MAX_ITEMS}]}
        }
    },
}


def _problem(request: HttpRequest, status: int, title: str, detail: str) -> HttpResponse:
    from maeul.api import problem

    return problem(request, status, title, detail, "ingest")


@router.post(
    "/ingest/readings",
    summary="Readings from a gateway",
    openapi_extra={"requestBody": _REQUEST_BODY},
    response={200: dict[str, Any]},
)
@public  # authenticated by the gateway's bearer token (GatewayTokenAuth), not by a person's role
def post_readings(request: HttpRequest) -> Any:
    gateway: Gateway = request.auth  # type: ignore[attr-defined]
    limit = settings.MAEUL_GATEWAY_MAX_BODY_BYTES
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit or len(request.body) > limit:
        return _problem(request, 413, "Body too large", f"Send at most {limit} bytes; split the readings.")
    received_at = timezone.now()
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _dead_letter(gateway, request.body, received_at, f"body is not UTF-8 JSON: {exc}")
        return _problem(request, 400, "Not JSON", f"The body is not UTF-8 JSON: {exc}")
    items = body if isinstance(body, list) else [body]
    if not items or len(items) > MAX_ITEMS:
        return _problem(request, 422, "Wrong number of items", f"Send 1 to {MAX_ITEMS} readings.")
    store = Store(gateway.site_id)
    result = store.commit_resilient([store.prepared_http(gateway.pk, item, received_at) for item in items], gateway.pk)
    failures = [
        {"index": i, "outcome": r.outcome.value, "detail": r.detail}
        for i, r in enumerate(result.results)
        if r.outcome not in (Outcome.STORED, Outcome.DUPLICATE)
    ]
    dead = (Outcome.MALFORMED, Outcome.UNRECOGNISED, Outcome.REJECTED)
    return {
        "stored": result.count(Outcome.STORED),
        "readings": len(result.readings),
        "duplicates": result.count(Outcome.DUPLICATE),
        "dead_lettered": sum(1 for r in result.results if r.outcome in dead),
        "unclaimed": result.count(Outcome.UNCLAIMED),
        "errors": failures,
    }


def _dead_letter(gateway: Gateway, body: bytes, received_at: datetime, detail: str) -> None:
    Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=received_at)  # it is alive, if confused
    DeadLetter.objects.create(
        site_id=gateway.site_id,
        received_at=received_at,
        source=Protocol.HTTP,
        topic=f"http/{gateway.pk}",
        payload=body[:4096].decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        reason=DeadLetterReason.MALFORMED,
        detail=detail[:300],
    )

"""The JSON API for alerts: the board, one alert with its history, acknowledging and resolving."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.watch import services
from maeul.watch.models import Alert

router = Router(tags=["alerts"])


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request), channel="api")


class StepOut(Schema):
    at: datetime
    kind: str
    level: int
    recipient: str
    detail: str


class AlertOut(Schema):
    id: int
    kind: str
    cause: str
    severity: str
    status: str
    household_id: int | None
    household_reference: str
    area_code: str
    device: str
    reason: str = Field(description="In the request's language")
    reason_code: str
    reason_params: dict[str, Any]
    raised_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    outcome: str
    escalation_level: int
    next_escalation_at: datetime | None


class AlertDetailOut(AlertOut):
    steps: list[StepOut]


class BoardQuery(Schema):
    area_code: str = Field("", pattern=r"^(\d{10})?$")
    status: str = Field("active", pattern=r"^(active|open|acknowledged|resolved)$")
    kind: str = ""


class ResolveIn(Schema):
    outcome: str = Field(
        description="false_alarm, person_fine, needed_help, emergency_services, found_deceased, device_fixed"
    )
    note: str = Field("", max_length=2000)


def _out(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "cause": alert.cause,
        "severity": alert.severity,
        "status": alert.status,
        "household_id": alert.household_id,
        "household_reference": alert.household.reference if alert.household else "",
        "area_code": alert.area_id or "",
        "device": alert.device,
        "reason": services.reason_text(alert),
        "reason_code": alert.reason_code,
        "reason_params": alert.reason_params,
        "raised_at": alert.raised_at,
        "acknowledged_at": alert.acknowledged_at,
        "resolved_at": alert.resolved_at,
        "outcome": alert.outcome,
        "escalation_level": alert.escalation_level,
        "next_escalation_at": alert.next_escalation_at,
    }


@router.get("/alerts", response=list[AlertOut], summary="Alerts in your scope, most urgent first")
@api_requires(Resource.ALERT, Action.VIEW)
def list_alerts(request: HttpRequest, query: Query[BoardQuery]) -> list[dict[str, Any]]:
    filters = services.BoardFilters(area_code=query.area_code, status=query.status, kind=query.kind)
    return [_out(a) for a in services.board(_actor(request), filters)]


def _detail(alert: Alert) -> dict[str, Any]:
    steps = [
        {"at": s.at, "kind": s.kind, "level": s.level, "recipient": s.recipient, "detail": s.detail}
        for s in alert.steps.all()
    ]
    return _out(alert) | {"steps": steps}


@router.get("/alerts/{alert_id}", response=AlertDetailOut, summary="One alert with its history")
@api_requires(Resource.ALERT, Action.VIEW)
def get_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    return _detail(services.read_alert(_actor(request), alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response=AlertDetailOut, summary="Take the alert: stops escalation")
@api_requires(Resource.ALERT, Action.CHANGE)
def acknowledge(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    return _detail(services.acknowledge(_actor(request), alert_id))


@router.post("/alerts/{alert_id}/resolve", response=AlertDetailOut, summary="Resolve with what was found")
@api_requires(Resource.ALERT, Action.CHANGE)
def resolve(request: HttpRequest, alert_id: int, payload: ResolveIn) -> dict[str, Any]:
    return _detail(services.resolve(_actor(request), alert_id, payload.outcome, payload.note))

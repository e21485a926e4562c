"""The helper's phone pages: today's due list with the alerts dispatched to the helper, the check-in form, and
the JSON endpoint the page sends its kept check-ins to (``helper.js``). A check-in is idempotent on the
``client_id`` the phone generates, so a submission kept offline and sent again is stored once.

Thin: each view reads the request, calls ``safetynet.services`` (or ``watch.services`` for an acknowledgement)
and renders. The service worker script is served from under ``/helper/`` so its scope covers these pages.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from maeul.accounts.permissions import public, requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.people import services as people
from maeul.people.errors import NotFound, RegistryError
from maeul.safetynet import services
from maeul.safetynet.models import CheckInKind, CheckInResult, CrisisSign
from maeul.safetynet.schemas import CheckInInput
from maeul.watch.errors import WatchError
from maeul.watch.models import AlertStatus

PROBLEM = "application/problem+json"
SERVICE_WORKER = Path(__file__).resolve().parent / "static" / "safetynet" / "helper-sw.js"
# The check-in page works for the households a helper is scheduled for, also those not due yet.
SCHEDULE_HORIZON = timedelta(days=366)


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


@dataclass(frozen=True)
class Target:
    """The household a check-in is for, as the phone shows it."""

    household_id: int
    reference: str
    name: str
    address: str
    phone: str
    schedule_id: int | None
    kind: str


def _due_rows(items: list[services.DueItem]) -> list[dict[str, Any]]:
    kinds = dict(CheckInKind.choices)
    results = dict(CheckInResult.choices)
    return [
        {
            "household_id": item.household_id,
            "reference": item.household_reference,
            "name": item.resident_name,
            "address": item.address,
            "phone": item.phone,
            "kind_label": kinds.get(item.kind, item.kind),
            "overdue_days": item.overdue_days,
            "last_result_label": results.get(item.last_result or "", ""),
        }
        for item in items
    ]


def _alert_rows(actor: Actor) -> list[dict[str, Any]]:
    return [
        {
            "id": alert.alert_id,
            "title": alert.kind_label,
            "household_label": alert.household_reference,
            "reason": alert.reason,
            "raised_at": alert.raised_at,
            "acknowledged": alert.status != AlertStatus.OPEN,
        }
        for alert in services.helper_alerts(actor)
    ]


def _strings() -> dict[str, Any]:
    """What helper.js says, translated here (the page has no catalogue of its own)."""
    return {
        "results": dict(CheckInResult.choices),
        "waiting": _("The server could not be reached yet; it will be sent automatically."),
        "login_again": _("Log in again to send."),
        "rejected": _("Refused by the server:"),
        "other_user": _("Recorded by another account on this phone; sent when that account logs in."),
        "discard": _("Remove from this phone"),
        "discard_confirm": _("Remove this check-in from the phone? It was not stored and cannot be sent."),
        "kept_offline": _(
            "The server could not be reached: the check-in is kept on this phone and will be sent automatically "
            "when the connection returns."
        ),
        "kept_login": _("Your login has ended: the check-in is kept on this phone. Log in again to send it."),
        "ack_failed": _("Could not reach the server. Try again when you have a connection."),
    }


def _page_context(request: HttpRequest, keep: list[str]) -> dict[str, Any]:
    assets = [static("safetynet/helper.js"), static("safetynet/helper.css"), static("maeul/maeul.css")]
    assets.append(static("vendor/htmx/htmx.min.js"))
    return {"strings": _strings(), "offline_urls_json": json.dumps([*keep, *assets])}


@requires(Resource.CHECK_IN, Action.VIEW)
def helper_home(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    due = services.due_list(actor)
    keep = [request.path, *(reverse("helper_check_in", args=[item.household_id]) for item in due)]
    context = _page_context(request, keep) | {"due": _due_rows(due), "alerts": _alert_rows(actor)}
    return render(request, "safetynet/phone/home.html", context)


def _target(actor: Actor, household_id: int) -> Target:
    today = timezone.localdate()
    for on in (today, today + SCHEDULE_HORIZON):
        for item in services.due_list(actor, on=on):
            if item.household_id == household_id:
                return Target(
                    household_id=household_id,
                    reference=item.household_reference,
                    name=item.resident_name,
                    address=item.address,
                    phone=item.phone,
                    schedule_id=item.schedule_id,
                    kind=item.kind,
                )
    household = people.read_household(actor, household_id)
    primary = next((p for p in household.persons if p.is_primary), None)
    return Target(
        household_id=household.id,
        reference=household.reference,
        name=primary.name if primary else "",
        address=f"{household.address} {household.address_detail}".strip(),
        phone=primary.phone if primary else "",
        schedule_id=None,
        kind=CheckInKind.VISIT,
    )


def outcome_message(outcome: services.CheckInOutcome) -> str:
    """What the helper is told once the server has the check-in (also when it had arrived before)."""
    if outcome.case_id and outcome.verification_task_id:
        return _("Saved. A welfare case and an address and contact check were opened; the community centre follows up.")
    if outcome.case_id:
        return _("Saved. A welfare case was opened; the community centre follows up.")
    if outcome.verification_task_id:
        return _("Saved. An address and contact check was opened for the community centre.")
    return _("Saved. No follow-up is needed. Thank you.")


@requires(Resource.CHECK_IN, Action.CREATE)
def check_in(request: HttpRequest, household_id: int) -> HttpResponse:
    """The form; posted without JavaScript it is recorded here, with the client_id the page was given."""
    actor = _actor(request)
    try:
        target = _target(actor, household_id)
    except NotFound:
        return render(request, "safetynet/phone/not_found.html", status=404)
    errors: list[str] = []
    if request.method == "POST":
        try:
            data = CheckInInput.model_validate(
                {
                    "client_id": request.POST.get("client_id", ""),
                    "household_id": household_id,
                    "schedule_id": target.schedule_id,
                    "kind": request.POST.get("kind", ""),
                    "result": request.POST.get("result", ""),
                    "crisis_signs": request.POST.getlist("crisis_signs"),
                    "note": request.POST.get("note", ""),
                    "occurred_at": timezone.now(),
                }
            )
            outcome = services.record_check_in(actor, data)
        except ValidationError as exc:
            errors = [_field_message(e) for e in exc.errors()]
        except RegistryError as exc:
            errors = [exc.message]
        else:
            opened = bool(outcome.case_id or outcome.verification_task_id)
            context = _page_context(request, []) | {"message": outcome_message(outcome), "opened": opened}
            return render(request, "safetynet/phone/done.html", context)
    context = _page_context(request, [request.path]) | {
        "target": target,
        "client_id": uuid.uuid4(),
        "kinds": CheckInKind.choices,
        "results": CheckInResult.choices,
        "signs": CrisisSign.choices,
        "errors": errors,
    }
    return render(request, "safetynet/phone/check_in.html", context, status=422 if errors else 200)


def _field_message(error: Any) -> str:
    labels = {"result": _("Result"), "kind": _("How did you check?"), "crisis_signs": _("Signs of crisis")}
    field = str(error["loc"][0]) if error["loc"] else ""
    return f"{labels.get(field, field)}: {error['msg']}"


def _problem(request: HttpRequest, status: int, code: str, detail: str, errors: list[dict[str, Any]]) -> JsonResponse:
    body = {
        "type": f"https://maeul.kr/problems/{code}",
        "title": detail,
        "status": status,
        "detail": detail,
        "errors": errors,
        "instance": request.path,
    }
    return JsonResponse(body, status=status, content_type=PROBLEM, json_dumps_params={"ensure_ascii": False})


@requires(Resource.CHECK_IN, Action.CREATE)
@require_POST
def check_in_api(request: HttpRequest) -> JsonResponse:
    """Store one check-in the page kept: 201 when stored now, 200 when this client_id was stored before."""
    try:
        body = json.loads(request.body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if not isinstance(body, dict):
        return _problem(request, 400, "invalid_json", _("The request is not a JSON object."), [])
    try:
        data = CheckInInput.model_validate(body)
    except ValidationError as exc:
        errors = [
            {
                "pointer": "/" + "/".join(str(part) for part in e["loc"]),
                "detail": e["msg"].removeprefix("Value error, "),
                "code": e["type"],
            }
            for e in exc.errors()
        ]
        return _problem(request, 422, "validation", _("One or more fields are not valid."), errors)
    try:
        outcome = services.record_check_in(_actor(request), data)
    except NotFound:
        detail = _("This household is not assigned to you.")
        return _problem(request, 404, "not_found", detail, [{"pointer": "/household_id", "code": "not_found"}])
    except RegistryError as exc:
        errors = [{"pointer": "/" + exc.field if exc.field else "", "detail": exc.message, "code": exc.code}]
        return _problem(request, 422, exc.code, exc.message, errors)
    answer = {
        "client_id": str(data.client_id),
        "check_in_id": outcome.check_in_id,
        "created": outcome.created,
        "case_id": outcome.case_id,
        "verification_task_id": outcome.verification_task_id,
        "message": outcome_message(outcome),
    }
    return JsonResponse(answer, status=201 if outcome.created else 200, json_dumps_params={"ensure_ascii": False})


@require_POST
@requires(Resource.ALERT, Action.CHANGE)
def acknowledge_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        services.acknowledge_alert(_actor(request), alert_id)
    except NotFound:
        if wants_json:
            return _problem(request, 404, "not_found", _("No such alert for you."), [])
        return render(request, "safetynet/phone/not_found.html", status=404)
    except WatchError as exc:
        if wants_json:
            return _problem(request, 422, "refused", exc.message, [])
        messages.error(request, exc.message)
        return redirect("helper_home")
    said = _("Acknowledged: the escalation has stopped and the alert is yours to follow up.")
    if wants_json:
        return JsonResponse({"alert_id": alert_id, "message": said}, json_dumps_params={"ensure_ascii": False})
    messages.success(request, said)
    return redirect("helper_home")


@cache
def _service_worker_source() -> bytes:
    return SERVICE_WORKER.read_bytes()


@public
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Public: the script holds no data, and a phone whose session ended must still be able to update it."""
    response = HttpResponse(_service_worker_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("helper_home")
    return response

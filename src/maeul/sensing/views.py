"""Device pages: a household's devices, the site's device health, unclaimed devices, gateways and dead letters.
Thin: each view reads the request, calls a service and renders the result."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.sensing import services
from maeul.sensing.adapters import Kind
from maeul.sensing.errors import ImportRejected, NotFound, SensingError
from maeul.sensing.models import DeadLetterReason, Protocol, Room
from maeul.sensing.schemas import ClaimInput, DeviceChange, DeviceInput, GatewayChange, GatewayInput
from maeul.sites.models import Site

DEVICE_FIELDS = ("protocol", "identity", "vendor", "model", "room", "label", "gateway_id")
MAX_UPLOAD = 10 * 1024 * 1024


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


def _errors(exc: ValidationError | SensingError) -> dict[str, str]:
    """Errors keyed by field, for the form to show beside each field ('' for the form as a whole)."""
    if isinstance(exc, SensingError):
        return {exc.field: exc.message}
    out: dict[str, str] = {}
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        out.setdefault(name, err["msg"].removeprefix("Value error, "))
    return out


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _device_values(request: HttpRequest) -> dict[str, Any]:
    """The device form's fields as sent: text fields, the ticked kinds, the gateway (blank: none)."""
    values: dict[str, Any] = {k: request.POST.get(k, "") for k in DEVICE_FIELDS}
    values["kinds"] = request.POST.getlist("kinds")
    values["gateway_id"] = int(values["gateway_id"]) if values["gateway_id"].isdigit() else None
    return values


def _form_context(request: HttpRequest, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    principal = request_principal(request)
    return {
        "values": values,
        "errors": errors,
        "protocols": Protocol.choices,
        "rooms": Room.choices,
        "kinds": [str(k) for k in Kind],
        "gateways": [g for g in services.gateways(principal) if g.active],
    }


def _to_household(household_id: int) -> HttpResponse:
    return redirect(reverse("household_detail", args=[household_id]) + "#devices")


# --- a household's devices -----------------------------------------------------------------------------------


@requires(Resource.DEVICE, Action.VIEW)
def household_devices(request: HttpRequest, household_id: int) -> HttpResponse:
    """The devices section of a household's page (htmx), or the same on a page of its own."""
    try:
        found = services.household_devices(_actor(request), household_id)
    except NotFound as exc:
        raise Http404 from exc
    principal = request_principal(request)
    context = {
        "found": found,
        "can_create": principal.can(Resource.DEVICE, Action.CREATE) and not found.processing_stopped,
        "can_change": principal.can(Resource.DEVICE, Action.CHANGE),
    }
    template = (
        "sensing/_devices_section.html" if request.headers.get("HX-Request") else "sensing/household_devices.html"
    )
    return render(request, template, context)


@requires(Resource.DEVICE, Action.CREATE)
def device_create(request: HttpRequest, household_id: int) -> HttpResponse:
    try:
        services.require_household(request_principal(request), household_id, Action.CREATE)
    except NotFound as exc:
        raise Http404 from exc
    values: dict[str, Any] = {"protocol": Protocol.ZIGBEE2MQTT, "room": Room.OTHER, "kinds": []}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _device_values(request)
        try:
            services.provision_device(_actor(request), household_id, DeviceInput(**values))
        except NotFound as exc:  # left the official's scope meanwhile
            raise Http404 from exc
        except (ValidationError, SensingError) as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Device added. Its readings are stored from its next message."))
            return _to_household(household_id)
    context = _form_context(request, values, errors)
    context.update({"household_id": household_id, "title": _("Add a device")})
    return render(request, "sensing/device_form.html", context)


@requires(Resource.DEVICE, Action.CHANGE)
def device_edit(request: HttpRequest, device_id: int) -> HttpResponse:
    try:
        device = services.read_device(request_principal(request), device_id, Action.CHANGE)
    except NotFound as exc:
        raise Http404 from exc
    values: dict[str, Any] = {k: getattr(device, k) for k in (*DEVICE_FIELDS, "kinds")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {**_device_values(request), "protocol": device.protocol}
        try:
            change = DeviceChange(**{k: v for k, v in values.items() if k != "protocol"})
            services.update_device(_actor(request), device_id, change)
        except NotFound as exc:
            raise Http404 from exc
        except (ValidationError, SensingError) as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Device saved."))
            return _to_household(device.household_id)
    context = _form_context(request, values, errors)
    context.update({"household_id": device.household_id, "device": device, "title": _("Edit device")})
    return render(request, "sensing/device_form.html", context)


@requires(Resource.DEVICE, Action.CHANGE)
@require_POST
def device_deactivate(request: HttpRequest, device_id: int) -> HttpResponse:
    try:
        device = services.deactivate_device(_actor(request), device_id)
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Device removed. Messages it still sends show under unclaimed devices."))
    return _to_household(device.household_id)


# --- the site's devices --------------------------------------------------------------------------------------

SORTS = (
    ("problems", _("Problems first")),
    ("last_seen", _("Longest silent first")),
    ("battery", _("Lowest battery first")),
    ("household", _("Household")),
)
HEALTH_FILTERS = (
    ("offline", _("Offline")),
    ("never_seen", _("Never seen")),
    ("battery_low", _("Battery low")),
)


@requires(Resource.DEVICE, Action.VIEW)
def device_list(request: HttpRequest) -> HttpResponse:
    health = request.GET.get("health", "")[:20]
    sort = request.GET.get("sort", "problems")[:20]
    page = services.device_health(_actor(request), health=health, sort=sort, page=_page(request))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "health": health,
        "sort": sort,
        "sorts": SORTS,
        "health_filters": HEALTH_FILTERS,
        "query": query.urlencode(),
        "can_import": request_principal(request).can(Resource.DEVICE, Action.IMPORT),
    }
    template = "sensing/_device_rows.html" if request.headers.get("HX-Request") else "sensing/device_list.html"
    return render(request, template, context)


@requires(Resource.DEVICE, Action.IMPORT)
def device_import(request: HttpRequest) -> HttpResponse:
    errors: list[Any] = []
    problem = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            problem = _("Choose a CSV file.")
        elif upload.size and upload.size > MAX_UPLOAD:
            problem = _("The file is larger than 10 MB.")
        else:
            site = Site.objects.get(pk=request_principal(request).site_pk)
            try:
                created = services.bulk_provision_csv(_actor(request), site, upload.read())
            except ImportRejected as exc:
                errors = exc.errors
            else:
                messages.success(request, _("%(n)d devices provisioned.") % {"n": len(created)})
                return redirect("device_list")
    context = {"errors": errors, "problem": problem, "columns": services.CSV_COLUMNS, "kinds": [str(k) for k in Kind]}
    return render(request, "sensing/device_import.html", context)


# --- unclaimed devices -----------------------------------------------------------------------------------------


@requires(Resource.DEVICE, Action.VIEW)
def unclaimed_list(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    include_ignored = request.GET.get("ignored") == "1"
    rows = [
        (u, *services.shown_payload(u.sample_payload))
        for u in services.unclaimed_devices(principal, include_ignored=include_ignored)
    ]
    context = {
        "rows": rows,
        "include_ignored": include_ignored,
        "can_claim": principal.can(Resource.DEVICE, Action.CREATE),
        "can_ignore": principal.can(Resource.DEVICE, Action.CHANGE),
    }
    return render(request, "sensing/unclaimed_list.html", context)


@requires(Resource.DEVICE, Action.CREATE)
def household_search(request: HttpRequest) -> HttpResponse:
    """htmx: households to claim a device for, by H-number."""
    q = request.GET.get("q", "")[:20]
    found = services.find_households(request_principal(request), q)
    return render(request, "sensing/_household_choices.html", {"households": found, "q": q})


@requires(Resource.DEVICE, Action.CREATE)
def unclaimed_claim(request: HttpRequest, unclaimed_id: int) -> HttpResponse:
    principal = request_principal(request)
    try:
        unclaimed = services.read_unclaimed(principal, unclaimed_id, Action.CREATE)
    except NotFound as exc:
        raise Http404 from exc
    values: dict[str, Any] = {"room": Room.OTHER, "kinds": list(unclaimed.kinds), "household_id": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {**_device_values(request), "household_id": request.POST.get("household_id", "")}
        values.pop("protocol")
        values.pop("identity")
        try:
            device = services.claim_device(_actor(request), unclaimed_id, ClaimInput(**values))
        except NotFound as exc:
            if exc.kind != "household":
                raise Http404 from exc
            errors = {"household_id": _("Choose a household you may add devices to.")}
        except (ValidationError, SensingError) as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request,
                _("Device %(identity)s added to %(reference)s. Its readings are stored from its next message.")
                % {"identity": device.identity, "reference": device.household_reference},
            )
            return redirect("unclaimed_list")
    payload, cut = services.shown_payload(unclaimed.sample_payload)
    context = _form_context(request, values, errors)
    chosen = str(values.get("household_id") or "")
    q = (request.GET.get("q") or request.POST.get("q", ""))[:20]
    context.update(
        {
            "unclaimed": unclaimed,
            "payload": payload,
            "payload_cut": cut,
            "households": services.find_households(principal, q),
            "chosen": int(chosen) if chosen.isdigit() else None,
            "q": q,
        }
    )
    return render(request, "sensing/claim.html", context)


@requires(Resource.DEVICE, Action.CHANGE)
@require_POST
def unclaimed_ignore(request: HttpRequest, unclaimed_id: int) -> HttpResponse:
    try:
        services.ignore_unclaimed(_actor(request), unclaimed_id)
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Ignored. It is no longer listed; it is deleted after 90 days without a message."))
    return redirect("unclaimed_list")


# --- gateways ----------------------------------------------------------------------------------------------


def _gateway_page(
    request: HttpRequest, *, token: str = "", token_for: str = "", errors: dict[str, str] | None = None
) -> HttpResponse:
    principal = request_principal(request)
    context = {
        "gateways": services.gateways(principal),
        "can_manage": services.may_manage_gateways(principal),
        "token": token,
        "token_for": token_for,
        "errors": errors or {},
        "values": {k: request.POST.get(k, "") for k in ("name", "heartbeat_minutes")} if errors else {},
    }
    return render(request, "sensing/gateway_list.html", context)


@requires(Resource.DEVICE, Action.VIEW)
def gateway_list(request: HttpRequest) -> HttpResponse:
    return _gateway_page(request)


@requires(Resource.DEVICE, Action.CREATE)
@require_POST
def gateway_create(request: HttpRequest) -> HttpResponse:
    """Shows the new token on the response itself: it is never stored, so it cannot be shown again."""
    try:
        data = GatewayInput(
            name=request.POST.get("name", ""), heartbeat_minutes=request.POST.get("heartbeat_minutes") or 15
        )
        gateway, token = services.create_gateway(_actor(request), data)
    except (ValidationError, SensingError) as exc:
        return _gateway_page(request, errors=_errors(exc))
    return _gateway_page(request, token=token, token_for=gateway.name)


@requires(Resource.DEVICE, Action.CHANGE)
@require_POST
def gateway_rotate(request: HttpRequest, gateway_id: int) -> HttpResponse:
    try:
        gateway, token = services.rotate_gateway_token(_actor(request), gateway_id)
    except NotFound as exc:
        raise Http404 from exc
    return _gateway_page(request, token=token, token_for=gateway.name)


@requires(Resource.DEVICE, Action.CHANGE)
@require_POST
def gateway_edit(request: HttpRequest, gateway_id: int) -> HttpResponse:
    try:
        change = GatewayChange(
            name=request.POST.get("name") or None, heartbeat_minutes=request.POST.get("heartbeat_minutes") or None
        )
        services.update_gateway(_actor(request), gateway_id, change)
    except NotFound as exc:
        raise Http404 from exc
    except (ValidationError, SensingError) as exc:
        messages.error(request, "; ".join(_errors(exc).values()))
    else:
        messages.success(request, _("Gateway saved."))
    return redirect("gateway_list")


@requires(Resource.DEVICE, Action.CHANGE)
@require_POST
def gateway_deactivate(request: HttpRequest, gateway_id: int) -> HttpResponse:
    try:
        services.deactivate_gateway(_actor(request), gateway_id)
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Gateway deactivated: its token no longer works."))
    return redirect("gateway_list")


# --- dead letters ----------------------------------------------------------------------------------------------


@requires(Resource.DEVICE, Action.VIEW)
def dead_letter_list(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    reason = request.GET.get("reason", "")
    source = request.GET.get("source", "")
    reason = reason if reason in DeadLetterReason.values else ""
    source = source if source in (*Protocol.values, services.UNKNOWN_SOURCE) else ""
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": services.dead_letters(principal, reason=reason, source=source, page=_page(request)),
        "counts": services.dead_letter_counts(principal),
        "reason": reason,
        "source": source,
        "reasons": DeadLetterReason.choices,
        "sources": [*Protocol.choices, (services.UNKNOWN_SOURCE, _("Unknown"))],
        "query": query.urlencode(),
    }
    return render(request, "sensing/dead_letters.html", context)

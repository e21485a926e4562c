"""Officials' safety-net pages: the helper registry, coverage, a household's helpers and schedules, handover.

Thin: each view reads a form, calls a service and renders the result. The helpers' own phone page is
``maeul.safetynet.phone``.
"""

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
from maeul.people.errors import NotFound, RegistryError
from maeul.safetynet import services
from maeul.safetynet.forms import AssignForm, HandoverForm, HelperForm, RecordForm, ScheduleForm
from maeul.safetynet.models import AssignmentRole, CheckInResult, CrisisSign, HelperKind, RecordKind, Skill
from maeul.safetynet.schemas import AssignmentInput, HelperInput, HelperRecordInput, ScheduleInput


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


def _apply_errors(form: Any, exc: ValidationError | RegistryError) -> None:
    """Put schema or service errors on the form field they concern."""
    if isinstance(exc, RegistryError):
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return
    for err in exc.errors():
        name = next((str(p) for p in reversed(err["loc"]) if str(p) in form.fields), None)
        form.add_error(name, err["msg"].removeprefix("Value error, "))


def _labels() -> dict[str, Any]:
    return {
        "kind_labels": dict(HelperKind.choices),
        "skill_labels": dict(Skill.choices),
        "record_labels": dict(RecordKind.choices),
        "role_labels": dict(AssignmentRole.choices),
        "result_labels": dict(CheckInResult.choices),
        "sign_labels": dict(CrisisSign.choices),
    }


# --- the registry --------------------------------------------------------------------------------------------


@requires(Resource.HELPER, Action.VIEW)
def helper_list(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    g = request.GET
    status = g.get("status", "active")
    filters = services.HelperFilters(
        area_code=g.get("area", "")[:10],
        kind=g.get("kind", ""),
        active={"active": True, "inactive": False}.get(status),
        q=g.get("q", "").strip()[:60],
    )
    helpers = services.list_helpers(_actor(request), filters)
    context = {
        "helpers": helpers,
        "filters": filters,
        "status": status,
        "areas": services.registrable_areas(principal, Action.VIEW),
        "kinds": HelperKind.choices,
        "can_create": principal.can(Resource.HELPER, Action.CREATE),
        "can_coverage": principal.can(Resource.CHECK_IN, Action.VIEW),
        "can_handover": principal.can(Resource.MEMBERS, Action.CHANGE),
        **_labels(),
    }
    return render(request, "safetynet/helper_list.html", context)


def _helper_form(request: HttpRequest, action: Action, keep: int | None = None, **kwargs: Any) -> HelperForm:
    actor = _actor(request)
    return HelperForm(
        request.POST if request.method == "POST" else None,
        areas=services.registrable_areas(actor.principal, action),
        accounts=services.helper_accounts(actor, keep),
        officials=services.officials_of_site(actor),
        **kwargs,
    )


def _helper_input(form: HelperForm) -> HelperInput:
    data = dict(form.cleaned_data)
    return HelperInput(**{k: v for k, v in data.items() if v is not None or k in ("phone",)})


@requires(Resource.HELPER, Action.CREATE)
def helper_create(request: HttpRequest) -> HttpResponse:
    form = _helper_form(request, Action.CREATE)
    if request.method == "POST" and form.is_valid():
        try:
            helper = services.register_helper(_actor(request), _helper_input(form))
        except (ValidationError, RegistryError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Helper registered."))
            return redirect("helper_detail", helper_id=helper.id)
    return render(request, "safetynet/helper_form.html", {"form": form, "helper": None})


@requires(Resource.HELPER, Action.VIEW)
def helper_detail(request: HttpRequest, helper_id: int) -> HttpResponse:
    try:
        detail = services.read_helper(_actor(request), helper_id)
    except NotFound as exc:
        raise Http404 from exc
    principal = request_principal(request)
    context = {
        "detail": detail,
        "h": detail.helper,
        "can_change": principal.can(Resource.HELPER, Action.CHANGE),
        "record_form": RecordForm(),
        **_labels(),
    }
    return render(request, "safetynet/helper_detail.html", context)


@requires(Resource.HELPER, Action.CHANGE)
def helper_edit(request: HttpRequest, helper_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        current = services.read_helper(actor, helper_id).helper
    except NotFound as exc:
        raise Http404 from exc
    initial = {
        "kind": current.kind,
        "name": current.name,
        "phone": current.phone,
        "area_codes": current.area_codes,
        "skills": current.skills,
        "languages": current.languages,
        "availability": current.availability,
        "max_households": current.max_households,
        "latitude": current.latitude,
        "longitude": current.longitude,
        "consent_given_on": current.consent_given_on,
        "account_id": current.account_id,
        "coordinator_id": current.coordinator_id,
    }
    form = _helper_form(request, Action.CHANGE, keep=current.account_id, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_helper(actor, helper_id, _helper_input(form))
        except (ValidationError, RegistryError) as exc:
            _apply_errors(form, exc)
        except NotFound as exc:
            raise Http404 from exc
        else:
            messages.success(request, _("Helper updated."))
            return redirect("helper_detail", helper_id=helper_id)
    return render(request, "safetynet/helper_form.html", {"form": form, "helper": current})


@require_POST
@requires(Resource.HELPER, Action.CHANGE)
def helper_record(request: HttpRequest, helper_id: int) -> HttpResponse:
    form = RecordForm(request.POST)
    if form.is_valid():
        try:
            services.add_record(_actor(request), helper_id, HelperRecordInput(**form.cleaned_data))
        except NotFound as exc:
            raise Http404 from exc
        except ValidationError as exc:
            messages.error(request, "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()))
        else:
            messages.success(request, _("Record added."))
    else:
        messages.error(request, _("Check the record's fields."))
    return redirect("helper_detail", helper_id=helper_id)


@require_POST
@requires(Resource.HELPER, Action.CHANGE)
def helper_active(request: HttpRequest, helper_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        if request.POST.get("active") == "1":
            services.reactivate_helper(actor, helper_id)
            messages.success(request, _("Helper active again."))
        else:
            ended = services.deactivate_helper(
                actor,
                helper_id,
                request.POST.get("reason", "")[:120],
                consent_withdrawn=request.POST.get("consent_withdrawn") == "1",
            )
            messages.success(
                request, _("Helper deactivated; %(n)d household(s) need a new helper.") % {"n": len(ended)}
            )
    except NotFound as exc:
        raise Http404 from exc
    return redirect("helper_detail", helper_id=helper_id)


# --- coverage and handover -----------------------------------------------------------------------------------


@requires(Resource.CHECK_IN, Action.VIEW)
def coverage(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    try:
        lapsed_days = min(max(int(request.GET.get("lapsed", "7")), 0), 90)
    except ValueError:
        lapsed_days = 7
    area = request.GET.get("area", "")[:10]
    report = services.coverage_report(_actor(request), area_code=area, lapsed_after_days=lapsed_days)
    context = {
        "report": report,
        "area": area,
        "areas": services.registrable_areas(principal, Action.VIEW),
        **_labels(),
    }
    return render(request, "safetynet/coverage.html", context)


@requires(Resource.MEMBERS, Action.CHANGE)
def handover(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = HandoverForm(request.POST or None, officials=services.officials_of_site(actor))
    if request.method == "POST" and form.is_valid():
        try:
            done = services.hand_over(actor, form.cleaned_data["from_user_id"], form.cleaned_data["to_user_id"])
        except RegistryError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Handed over: %(counts)s") % {"counts": _counts_text(done.counts)})
            return redirect("helper_handover")
    past = [(h, _counts_text(h.counts)) for h in services.handovers(actor)]
    return render(request, "safetynet/handover.html", {"form": form, "handovers": past})


def _counts_text(counts: dict[str, int]) -> str:
    labels = {
        "helpers": _("helpers"),
        "cases": _("cases"),
        "follow_ups": _("follow-ups"),
        "verification_tasks": _("verification tasks"),
    }
    return ", ".join(f"{labels.get(key, key)} {value}" for key, value in counts.items())


# --- a household's helpers and schedules ---------------------------------------------------------------------


def _household_context(request: HttpRequest, household_id: int) -> dict[str, Any]:
    try:
        net = services.household_safety_net(_actor(request), household_id)
    except NotFound as exc:
        raise Http404 from exc
    principal = request_principal(request)
    return {
        "net": net,
        "household_id": household_id,
        "can_change": principal.can(Resource.CHECK_IN, Action.CHANGE),
        "schedule_form": ScheduleForm(),
        "roles": AssignmentRole.choices,
        **_labels(),
    }


@requires(Resource.CHECK_IN, Action.VIEW)
def household_helpers(request: HttpRequest, household_id: int) -> HttpResponse:
    """The helpers section of a household's page (htmx), or the same on a page of its own."""
    context = _household_context(request, household_id)
    template = "safetynet/_household_section.html" if request.headers.get("HX-Request") else "safetynet/household.html"
    return render(request, template, context)


@requires(Resource.CHECK_IN, Action.CHANGE)
def household_suggestions(request: HttpRequest, household_id: int) -> HttpResponse:
    language = request.GET.get("language", "")[:3]
    try:
        suggestions = services.suggest_helpers(_actor(request), household_id, language=language)
    except NotFound as exc:
        raise Http404 from exc
    context = {
        "suggestions": suggestions,
        "household_id": household_id,
        "language": language,
        "roles": AssignmentRole.choices,
        **_labels(),
    }
    return render(request, "safetynet/_suggestions.html", context)


def _back(household_id: int) -> HttpResponse:
    return redirect(reverse("household_detail", args=[household_id]) + "#helpers")


@require_POST
@requires(Resource.CHECK_IN, Action.CHANGE)
def household_assign(request: HttpRequest, household_id: int) -> HttpResponse:
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a helper and a role."))
        return _back(household_id)
    try:
        services.assign_helper(_actor(request), household_id, AssignmentInput(**form.cleaned_data))
    except NotFound as exc:
        raise Http404 from exc
    except RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Helper assigned."))
    return _back(household_id)


@require_POST
@requires(Resource.CHECK_IN, Action.CHANGE)
def assignment_end(request: HttpRequest, assignment_id: int) -> HttpResponse:
    try:
        household_id = services.end_assignment(_actor(request), assignment_id, request.POST.get("reason", "")[:120])
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Assignment ended."))
    return _back(household_id)


@require_POST
@requires(Resource.CHECK_IN, Action.CHANGE)
def household_schedule(request: HttpRequest, household_id: int) -> HttpResponse:
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the schedule's fields."))
        return _back(household_id)
    try:
        services.add_schedule(_actor(request), household_id, ScheduleInput(**form.cleaned_data))
    except NotFound as exc:
        raise Http404 from exc
    except RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Schedule added."))
    return _back(household_id)


@require_POST
@requires(Resource.CHECK_IN, Action.CHANGE)
def schedule_end(request: HttpRequest, schedule_id: int) -> HttpResponse:
    try:
        household_id = services.end_schedule(_actor(request), schedule_id)
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Schedule ended."))
    return _back(household_id)

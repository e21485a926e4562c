"""Case pages for officials, the referral inbox for partner staff and verification tasks. Thin: each view reads
the request, calls ``welfare.services`` and renders; refusals come back as messages on the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from maeul.accounts.models import Membership
from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.areas.models import Area
from maeul.audit.services import Actor
from maeul.directory import services as directory
from maeul.directory.models import NeedDomain, ServiceStatus
from maeul.people import services as people
from maeul.people.errors import NotFound, RegistryError
from maeul.welfare import services
from maeul.welfare.models import (
    CaseOutcome,
    CasePriority,
    CaseSource,
    CaseStatus,
    NeedLevel,
    ReferralStatus,
    UnsuccessfulReason,
    VerificationResolution,
    VerificationStatus,
)


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "welfare/not_found.html", status=404)


def _areas(request: HttpRequest) -> list[Area]:
    principal = request_principal(request)
    qs = Area.objects.filter(member_of_sites__id=principal.site_pk, abolished=False)
    if principal.role != "site_admin":
        qs = qs.filter(code__in=principal.area_codes)
    return list(qs.order_by("code"))


def _officials(request: HttpRequest) -> list[Membership]:
    return list(
        Membership.objects.filter(
            site_id=request_principal(request).site_pk, role__in=services.OFFICIAL_ROLES, user__is_active=True
        )
        .select_related("user")
        .order_by("user__username")
    )


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


# --- cases -------------------------------------------------------------------------------------------------


@requires(Resource.CASE, Action.VIEW)
def case_list(request: HttpRequest) -> HttpResponse:
    filters = services.CaseFilters(
        status=request.GET.get("status", CaseStatus.OPEN),
        mine=request.GET.get("mine") == "1",
        area_code=request.GET.get("area", ""),
        source=request.GET.get("source", ""),
        sort=request.GET.get("sort", "priority"),
    )
    page = services.list_cases(_actor(request), filters, page=_int(request.GET.get("page")) or 1)
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {"page": page, "filters": filters, "query": query.urlencode()}
    if request.headers.get("HX-Request"):
        return render(request, "welfare/_case_rows.html", context)
    context |= {
        "areas": _areas(request),
        "statuses": CaseStatus.choices,
        "sources": CaseSource.choices,
        "sorts": [("priority", _("Priority")), ("updated", _("Last change"))],
    }
    return render(request, "welfare/case_list.html", context)


@requires(Resource.CASE, Action.CREATE)
def case_create(request: HttpRequest) -> HttpResponse:
    """A walk-in (or, from an alert's page, the alert) opens a case; an open case takes the new signal instead."""
    actor = _actor(request)
    household_id = _int(request.POST.get("household") or request.GET.get("household"))
    if household_id is None:
        return _not_found(request)
    if request.method == "POST":
        source = request.POST.get("source", CaseSource.WALK_IN)
        try:
            case = services.open_case(
                actor,
                household_id,
                source=CaseSource(source) if source in CaseSource.values else CaseSource.WALK_IN,
                source_ref=request.POST.get("source_ref", ""),
                summary=request.POST.get("summary", ""),
                needs=request.POST.getlist("needs"),
            )
        except NotFound:
            return _not_found(request)
        except RegistryError as exc:
            messages.error(request, exc.message)
        else:
            if case.created:
                messages.success(request, _("Case opened."))
            else:
                messages.info(request, _("This household already has an open case: the new signal was added to it."))
            return redirect("case_detail", case_id=case.id)
    try:
        household = people.read_household(actor, household_id)
    except NotFound:
        return _not_found(request)
    return render(
        request,
        "welfare/case_new.html",
        {"h": household, "domains": NeedDomain.choices, "sources": CaseSource.choices},
    )


@requires(Resource.CASE, Action.VIEW)
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    principal = request_principal(request)
    try:
        case = services.read_case(_actor(request), case_id)
    except NotFound:
        return _not_found(request)
    can_change = principal.can(Resource.CASE, Action.CHANGE) and case.status == CaseStatus.OPEN
    return render(
        request,
        "welfare/case_detail.html",
        {
            "case": case,
            "can_change": can_change,
            "can_refer": can_change and principal.can(Resource.REFERRAL, Action.CREATE),
            "can_answer": principal.can(Resource.REFERRAL, Action.CHANGE),
            "domains": NeedDomain.choices,
            "levels": NeedLevel.choices,
            "priorities": CasePriority.choices,
            "outcomes": CaseOutcome.choices,
            "reasons": UnsuccessfulReason.choices,
            "officials": _officials(request) if can_change else [],
            "today": date.today().isoformat(),
        },
    )


def _case_action(request: HttpRequest, case_id: int, act: Callable[[Actor], object], done: str) -> HttpResponse:
    try:
        act(_actor(request))
    except NotFound:
        return _not_found(request)
    except RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("case_detail", case_id=case_id)


@require_POST
@requires(Resource.CASE, Action.CHANGE)
def case_assess(request: HttpRequest, case_id: int) -> HttpResponse:
    level = _int(request.POST.get("level"))
    return _case_action(
        request,
        case_id,
        lambda a: services.assess(
            a, case_id, request.POST.get("domain", ""), -1 if level is None else level, request.POST.get("note", "")
        ),
        _("Assessment recorded."),
    )


@require_POST
@requires(Resource.CASE, Action.CHANGE)
def case_plan(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_action(
        request, case_id, lambda a: services.update_plan(a, case_id, request.POST.get("plan", "")), _("Plan saved.")
    )


@require_POST
@requires(Resource.CASE, Action.CHANGE)
def case_manage(request: HttpRequest, case_id: int) -> HttpResponse:
    """Priority and the official in charge, in one small form."""

    def act(actor: Actor) -> None:
        services.set_priority(actor, case_id, _int(request.POST.get("priority")) or 0)
        services.assign(actor, case_id, _int(request.POST.get("assigned_to")))

    return _case_action(request, case_id, act, _("Case updated."))


@require_POST
@requires(Resource.CASE, Action.CHANGE)
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_action(
        request,
        case_id,
        lambda a: services.close_case(a, case_id, request.POST.get("outcome", ""), request.POST.get("note", "")),
        _("Case closed."),
    )


@require_POST
@requires(Resource.CASE, Action.CHANGE)
def case_follow_up(request: HttpRequest, case_id: int) -> HttpResponse:
    due = parse_date(request.POST.get("due_on", "") or "")

    def act(actor: Actor) -> None:
        if due is None:
            raise RegistryError("due_on", "required", _("Enter the due date."))
        services.add_follow_up(
            actor,
            case_id,
            due_on=due,
            what=request.POST.get("what", ""),
            assigned_to_id=_int(request.POST.get("assigned_to")),
        )

    return _case_action(request, case_id, act, _("Follow-up planned."))


@require_POST
@requires(Resource.CASE, Action.CHANGE)
def follow_up_done(request: HttpRequest, case_id: int, follow_up_id: int) -> HttpResponse:
    return _case_action(
        request,
        case_id,
        lambda a: services.complete_follow_up(a, follow_up_id, request.POST.get("result", "")),
        _("Follow-up done."),
    )


@require_POST
@requires(Resource.REFERRAL, Action.CREATE)
def case_refer(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_action(
        request,
        case_id,
        lambda a: services.send_referral(
            a,
            case_id,
            request.POST.get("service_id", ""),
            need_domain=request.POST.get("need_domain", ""),
            note=request.POST.get("note", ""),
        ),
        _("Referral sent."),
    )


@requires(Resource.REFERRAL, Action.CREATE)
def service_picker(request: HttpRequest) -> HttpResponse:
    """Active services of the site's directory matching a name and a need domain (htmx fragment)."""
    q = request.GET.get("q", "").strip()
    domain = request.GET.get("need_domain", "")
    qs = directory.visible_services(request_principal(request)).filter(status=ServiceStatus.ACTIVE)
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(organization__name__icontains=q)
    if domain in NeedDomain.values:
        qs = qs.filter(needs__domain=domain)
    found = list(qs.select_related("organization").distinct().order_by("organization__name", "name")[:30])
    return render(request, "welfare/_service_picker.html", {"services": found})


@requires(Resource.CASE, Action.VIEW)
def household_cases(request: HttpRequest, household_id: int) -> HttpResponse:
    """The household page's case card: the open case and the earlier ones (codes and dates only)."""
    cases = services.household_cases(_actor(request), household_id)
    open_case = next((c for c in cases if c.status == CaseStatus.OPEN), None)
    return render(
        request,
        "welfare/_household_cases.html",
        {
            "household_id": household_id,
            "open_case": open_case,
            "earlier": [c for c in cases if c is not open_case],
            "can_open": request_principal(request).can(Resource.CASE, Action.CREATE),
        },
    )


@requires(Resource.CASE, Action.CHANGE)
def handover(request: HttpRequest) -> HttpResponse:
    """An official leaving their post hands their open work to a successor (the site administrator: anyone's)."""
    principal = request_principal(request)
    if request.method == "POST":
        try:
            counts = services.hand_over(
                _actor(request),
                _int(request.POST.get("from_user")) or 0,
                _int(request.POST.get("to_user")) or 0,
            )
        except (RegistryError, NotFound) as exc:
            messages.error(request, getattr(exc, "message", _("Choose an official of this site.")))
        else:
            messages.success(
                request,
                _("Handed over: %(cases)d cases, %(follow_ups)d follow-ups, %(verification_tasks)d verification tasks.")
                % counts,
            )
            return redirect("case_list")
    return render(
        request,
        "welfare/handover.html",
        {"officials": _officials(request), "site_wide": principal.role == "site_admin"},
    )


# --- referrals ---------------------------------------------------------------------------------------------


@requires(Resource.REFERRAL, Action.VIEW)
def referral_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    page = _int(request.GET.get("page")) or 1
    rows, total = services.referral_inbox(_actor(request), status, page=page)
    return render(
        request,
        "welfare/referral_list.html",
        {
            "rows": rows,
            "total": total,
            "status": status,
            "statuses": ReferralStatus.choices,
            "page": page,
            "has_next": page * 25 < total,
        },
    )


@requires(Resource.REFERRAL, Action.VIEW)
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    try:
        referral = services.read_referral(_actor(request), referral_id)
    except NotFound:
        return _not_found(request)
    return render(
        request,
        "welfare/referral_detail.html",
        {
            "r": referral,
            "can_answer": request_principal(request).can(Resource.REFERRAL, Action.CHANGE),
            "reasons": UnsuccessfulReason.choices,
        },
    )


@require_POST
@requires(Resource.REFERRAL, Action.CHANGE)
def referral_transition(request: HttpRequest, referral_id: int) -> HttpResponse:
    try:
        services.transition_referral(
            _actor(request),
            referral_id,
            request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except NotFound:
        return _not_found(request)
    except RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Referral updated."))
    back = request.POST.get("back", "")
    if back.isdigit():
        return redirect("case_detail", case_id=int(back))
    return redirect("referral_detail", referral_id=referral_id)


# --- verification tasks ------------------------------------------------------------------------------------


@requires(Resource.CASE, Action.VIEW)
def verification_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", VerificationStatus.OPEN)
    return render(
        request,
        "welfare/verification_list.html",
        {
            "tasks": services.list_verification_tasks(_actor(request), status),
            "status": status,
            "statuses": VerificationStatus.choices,
        },
    )


@requires(Resource.CASE, Action.VIEW)
def verification_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        task = services.read_verification_task(_actor(request), task_id)
    except NotFound:
        return _not_found(request)
    return render(
        request,
        "welfare/verification_detail.html",
        {
            "task": task,
            "resolutions": VerificationResolution.choices,
            "can_change": request_principal(request).can(Resource.CASE, Action.CHANGE),
        },
    )


@require_POST
@requires(Resource.CASE, Action.CHANGE)
def verification_resolve(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        services.resolve_verification_task(
            _actor(request),
            task_id,
            resolution=request.POST.get("resolution", ""),
            note=request.POST.get("note", ""),
            address=request.POST.get("address", ""),
            address_detail=request.POST.get("address_detail", ""),
            phone=request.POST.get("phone", ""),
        )
    except NotFound:
        return _not_found(request)
    except RegistryError as exc:
        messages.error(request, exc.message)
        return redirect("verification_detail", task_id=task_id)
    messages.success(request, _("Verification recorded."))
    return redirect("verification_list")

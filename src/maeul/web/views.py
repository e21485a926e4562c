from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.i18n import set_language

from maeul.accounts.permissions import login_only, public
from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import request_principal
from maeul.accounts.roles import Role
from maeul.areas.models import Area
from maeul.audit.services import Actor
from maeul.events.models import DomainEvent
from maeul.protection import disclosure
from maeul.sites.models import Site


@login_only
def home(request: HttpRequest) -> HttpResponse:
    """One page per role: what that role looks after, computed from its own scope."""
    from maeul.people import services as people
    from maeul.people.views import event_label
    from maeul.safety import services as safety
    from maeul.safety.events import LABELS as SAFETY_EVENTS

    principal = request_principal(request)
    context: dict[str, Any] = {
        "role_label": Role(principal.role).label if principal.role else "",
        "site": Site.objects.filter(pk=principal.site_id).first() if principal.site_id else None,
    }
    if principal.scope(Resource.SITE, Action.VIEW) == Scope.ALL:
        from maeul.events.services import counts_by_site

        registered = counts_by_site("household.registered")
        sites = list(Site.objects.all())
        for s in sites:
            s.area_count = s.areas.count()  # type: ignore[attr-defined]
            s.registered = disclosure.shown_count(  # type: ignore[attr-defined]
                registered.get((s.pk, "household.registered"), 0)
            )
        context["sites"] = sites
    household_scope = principal.scope(Resource.HOUSEHOLD, Action.VIEW)
    if household_scope in (Scope.SITE, Scope.AREA) or principal.role == Role.BODY_MEMBER:
        if household_scope == Scope.SITE:
            areas = list(Area.objects.filter(member_of_sites__id=principal.site_pk).order_by("code"))
        else:
            areas = list(Area.objects.filter(code__in=principal.area_codes).order_by("code"))
        counts = people.counts_by_area(principal) if household_scope else {}
        for a in areas:
            a.counts = counts.get(a.code, {"total": 0, "high": 0, "alone": 0})  # type: ignore[attr-defined]
        context["areas"] = areas
        event_qs = DomainEvent.objects.filter(site_id=principal.site_pk).select_related("area")
        if household_scope == Scope.AREA:
            event_qs = event_qs.filter(area_id__in=principal.area_codes)
        recent = list(event_qs[:10]) if household_scope else []
        context["recent_events"] = [
            {
                "label": str(SAFETY_EVENTS[e.kind]) if e.kind in SAFETY_EVENTS else event_label(e.kind, e.data),
                "occurred_at": e.occurred_at,
                "area": e.area,
            }
            for e in recent
        ]
        if principal.can(Resource.HAZARD, Action.VIEW):
            hazards = safety.open_counts_by_area(principal)
            for a in areas:
                a.hazards = hazards.get(a.code, {"open": 0, "overdue": 0, "urgent": 0})  # type: ignore[attr-defined]
    elif household_scope == Scope.GRANTED:
        page = people.list_households(Actor.from_request(request, principal), people.HouseholdFilters(), per_page=50)
        context["granted"] = page.rows
    if principal.site_id is not None:
        from maeul.disaster import services as disaster

        if principal.can(Resource.DISASTER, Action.VIEW):
            context["disasters"] = disaster.active_for(principal)
        if principal.scope(Resource.ROLL_CALL, Action.VIEW) == Scope.GRANTED:
            context["roll_call_waiting"] = disaster.outstanding_for(principal)
    return render(request, "web/home.html", context)


@public
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


language_switch = public(set_language)

"""Alert pages: the live board, one alert with its evidence and history, a household's activity, the on-call
roster and how often each detector was right. Thin: each view reads the request, calls services and renders."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from maeul.accounts.models import Membership
from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.areas.models import Area
from maeul.audit.services import Actor
from maeul.notify import services as notify
from maeul.people import services as people
from maeul.people.errors import NotFound
from maeul.sensing import services as sensing
from maeul.sensing.adapters import ACTIVITY_KINDS, Kind
from maeul.sites import services as sites
from maeul.sites.models import Site
from maeul.watch import charts, escalation, services
from maeul.watch.errors import WatchError
from maeul.watch.models import AlertKind, AlertStatus, Outcome

# What the latest-readings list shows: signs of the person and of danger, not a device's voltages and lux.
_TIMELINE_KINDS = [
    *(str(k) for k in ACTIVITY_KINDS),
    str(Kind.POWER),
    str(Kind.TEMPERATURE),
    str(Kind.SOS),
    str(Kind.SMOKE),
    str(Kind.GAS),
    str(Kind.BATTERY),
]


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


def _areas(request: HttpRequest) -> list[Area]:
    principal = request_principal(request)
    qs = Area.objects.filter(member_of_sites__id=principal.site_pk, abolished=False)
    if principal.role not in ("site_admin",):
        qs = qs.filter(code__in=principal.area_codes)
    return list(qs.order_by("code"))


@requires(Resource.ALERT, Action.VIEW)
def board(request: HttpRequest) -> HttpResponse:
    filters = services.BoardFilters(
        area_code=request.GET.get("area", ""),
        status=request.GET.get("status", "active"),
        kind=request.GET.get("kind", ""),
    )
    actor = _actor(request)
    alerts = services.board(actor, filters)
    context: dict[str, Any] = {
        "alerts": [(a, services.reason_text(a)) for a in alerts],
        "counts": services.active_counts(actor.principal),
        "filters": filters,
        "now": timezone.now(),
        "can_change": actor.principal.can(Resource.ALERT, Action.CHANGE),
    }
    if request.headers.get("HX-Request"):
        return render(request, "watch/_board.html", context)
    context |= {
        "areas": _areas(request),
        "statuses": [("active", _("Open or acknowledged")), *AlertStatus.choices],
        "kinds": AlertKind.choices,
        "query": request.GET.urlencode(),
    }
    return render(request, "watch/board.html", context)


@requires(Resource.ALERT, Action.VIEW)
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        alert = services.read_alert(actor, alert_id)
    except NotFound:
        return render(request, "watch/not_found.html", status=404)
    evidence = None
    if alert.household_id:
        end = max(alert.raised_at, timezone.now()) if alert.status != AlertStatus.RESOLVED else alert.raised_at
        end = min(end, alert.raised_at + timedelta(hours=6))
        start = end - timedelta(hours=48)
        evidence = charts.activity_bars(
            sensing.activity_by_hour(alert.household_id, start, end), start, end, marker=alert.raised_at
        )
    outcomes = [(v, label) for v, label in Outcome.choices if v != Outcome.RECOVERED]
    return render(
        request,
        "watch/alert_detail.html",
        {
            "alert": alert,
            "reason": services.reason_text(alert),
            "steps": [(s, escalation.LEVEL_LABELS.get(s.level, "")) for s in alert.steps.select_related("actor")],
            "deliveries": notify.delivery_status(f"alert:{alert.pk}"),
            "evidence": evidence,
            "outcomes": outcomes,
            "can_change": actor.principal.can(Resource.ALERT, Action.CHANGE),
        },
    )


def _act(request: HttpRequest, alert_id: int, action: str) -> HttpResponse:
    actor = _actor(request)
    try:
        if action == "acknowledge":
            services.acknowledge(actor, alert_id)
            messages.success(request, _("Alert acknowledged: the escalation has stopped."))
        elif action == "resolve":
            services.resolve(actor, alert_id, request.POST.get("outcome", ""), request.POST.get("note", ""))
            messages.success(request, _("Alert resolved."))
        else:
            services.add_note(actor, alert_id, request.POST.get("note", ""))
            messages.success(request, _("Note added."))
    except WatchError as exc:
        messages.error(request, exc.message)
    except NotFound:
        return render(request, "watch/not_found.html", status=404)
    if request.headers.get("HX-Request") and action == "acknowledge":
        return board(request)
    return redirect("alert_detail", alert_id=alert_id)


@require_POST
@requires(Resource.ALERT, Action.CHANGE)
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    return _act(request, alert_id, "acknowledge")


@require_POST
@requires(Resource.ALERT, Action.CHANGE)
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    return _act(request, alert_id, "resolve")


@require_POST
@requires(Resource.ALERT, Action.CHANGE)
def alert_note(request: HttpRequest, alert_id: int) -> HttpResponse:
    return _act(request, alert_id, "note")


@requires(Resource.HOUSEHOLD, Action.VIEW)
def household_activity(request: HttpRequest, household_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        household = people.read_household(actor, household_id)
    except NotFound:
        return render(request, "watch/not_found.html", status=404)
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=27)
    hourly = sensing.activity_by_hour(household_id, start, now)
    return render(
        request,
        "watch/household_activity.html",
        {
            "h": household,
            "days": charts.day_strips(hourly, today - timedelta(days=6), 7),
            "weekly": charts.weekly_heatmap(hourly, start, 28),
            "alerts": [(a, services.reason_text(a)) for a in services.household_alerts(actor, household_id)],
            "devices": sensing.device_summary(household_id),
            "latest": sensing.recent_readings(
                household_id, now - timedelta(hours=24), now, kinds=_TIMELINE_KINDS, limit=20
            ),
            "hours": range(24),
        },
    )


@requires(Resource.ON_CALL, Action.VIEW)
def on_call(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    site = Site.objects.get(pk=principal.site_pk)
    can_change = principal.can(Resource.ON_CALL, Action.CHANGE)
    if request.method == "POST" and can_change:
        actor = _actor(request)
        try:
            if request.POST.get("remove"):
                services.remove_shift(actor, int(request.POST["remove"]))
            elif request.POST.get("holiday_day"):
                day = parse_date(request.POST["holiday_day"])
                if day is None:
                    raise WatchError("holiday_day", _("Enter the date as YYYY-MM-DD."))
                services.add_site_holiday(actor, day, request.POST.get("holiday_name", ""))
            else:
                starts, ends = _moment(request.POST.get("starts_at")), _moment(request.POST.get("ends_at"))
                if starts is None or ends is None:
                    raise WatchError("starts_at", _("Enter when the shift starts and ends."))
                services.add_shift(
                    actor, int(request.POST.get("user") or 0), starts, ends, request.POST.get("note", "")
                )
            messages.success(request, _("Roster saved."))
        except WatchError as exc:
            messages.error(request, exc.message)
        return redirect("on_call")
    now = timezone.now()
    settings = sites.settings_of(site)
    year = timezone.localdate().year
    return render(
        request,
        "watch/on_call.html",
        {
            "shifts": services.shifts(site.pk, now - timedelta(days=1), now + timedelta(days=28)),
            "officials": Membership.objects.filter(site=site, role__in=escalation.OFFICIAL_ROLES)
            .select_related("user")
            .order_by("user__username"),
            "holidays": escalation.holidays_of(site.pk, year),
            "settings": settings,
            "in_office_hours": escalation.in_office_hours(site.pk, settings, now),
            "on_call_now": escalation.on_call(site.pk, now),
            "can_change": can_change,
            "year": year,
        },
    )


def _moment(raw: str | None) -> datetime | None:
    parsed = parse_datetime(raw or "")
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@requires(Resource.ALERT, Action.VIEW)
def outcomes(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - timedelta(days=90)
    by_kind, by_household = services.outcome_rates(request_principal(request), since)
    tables = [(_("By detector"), by_kind), (_("Households with the most false alarms"), by_household)]
    return render(request, "watch/outcomes.html", {"tables": tables, "days": 90})

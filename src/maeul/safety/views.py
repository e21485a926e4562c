"""Type 1 pages. Thin: each view reads the request, calls a service and renders the result.

Filing a report and following it are public (residents have no account); everything else needs a role
with a scope on the resource it touches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from maeul.accounts.permissions import login_only, public, requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.accounts.services import client_address
from maeul.audit.services import Actor
from maeul.safety import photos, services
from maeul.safety.errors import DuplicatesFound, NotFound, SafetyError
from maeul.safety.models import (
    OPEN_STATUSES,
    ActivityKind,
    BodyRole,
    ImprovementTask,
    MemberKind,
    Photo,
    ReportSource,
    ReportStatus,
    TaskSource,
    TaskStatus,
)
from maeul.safety.schemas import (
    ActivityInput,
    MeetingInput,
    MemberInput,
    ReportInput,
    StatusChange,
    TaskChange,
    TaskInput,
    TriageInput,
)
from maeul.sites import services as sites
from maeul.sites.models import Site


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


def _errors(exc: ValidationError | SafetyError | photos.PhotoRejected) -> dict[str, str]:
    """Errors keyed by field, for the form to show beside each field ('' for the form as a whole)."""
    if isinstance(exc, SafetyError):
        return {exc.field: exc.message}
    if isinstance(exc, photos.PhotoRejected):
        return {"photo": str(exc)}
    out: dict[str, str] = {}
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        out.setdefault(name, err["msg"].removeprefix("Value error, "))
    return out


def _float(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


# --- filing a report (public) ------------------------------------------------------------------------------


def _site_for(request: HttpRequest) -> Site | None:
    principal = request_principal(request)
    if principal.site_id is not None:
        return Site.objects.get(pk=principal.site_id)
    slug = request.GET.get("site") or request.POST.get("site") or ""
    if slug:
        return Site.objects.filter(slug=slug).first()
    only = list(Site.objects.all()[:2])
    return only[0] if len(only) == 1 else None


def _attributes(request: HttpRequest) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key in request.POST:
        if key.startswith("attribute[") and key.endswith("]"):
            values = [v for v in request.POST.getlist(key) if v]
            if values:
                out[key[len("attribute[") : -1]] = values if len(values) > 1 else values[0]
    return out


REPORT_FIELDS = (
    "category",
    "description",
    "latitude",
    "longitude",
    "address",
    "reporter_name",
    "reporter_phone",
    "reporter_email",
)


@public
def report_form(request: HttpRequest) -> HttpResponse:
    """The resident's form: phone first, one screen, a photo and a pin. The site is the user's, the one
    named in ``?site=``, or the only one; with several sites and no choice, a picker is shown."""
    site = _site_for(request)
    if site is None:
        return render(request, "safety/report_pick_site.html", {"sites": Site.objects.order_by("name")})
    cats = services.categories(site)
    context: dict[str, Any] = {"site": site, "categories": cats, "errors": {}, "values": {}, "duplicates": []}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in REPORT_FIELDS}
        context["values"] = values
        principal = request_principal(request)
        try:
            data = ReportInput(
                category=values["category"],
                description=values["description"],
                latitude=_float(values["latitude"]),
                longitude=_float(values["longitude"]),
                address=values["address"],
                attributes=_attributes(request),
                reporter_name=values["reporter_name"],
                reporter_phone=values["reporter_phone"],
                reporter_email=values["reporter_email"],
            )
            files = [f.read() for f in request.FILES.getlist("photo")[:3]]
            report = services.submit_report(
                data,
                site=site,
                actor=_actor(request) if principal.user_id else None,
                photo_files=files,
                source=ReportSource.MEMBER if principal.role == "body_member" else ReportSource.WEB,
                file_anyway=request.POST.get("file_anyway") == "1",
                anonymous_address=client_address(request),
            )
        except DuplicatesFound as found:
            context["duplicates"] = found.candidates
            context["photo_dropped"] = bool(request.FILES.getlist("photo"))
        except (ValidationError, SafetyError, photos.PhotoRejected) as exc:
            context["errors"] = _errors(exc)
        else:
            return redirect("report_track", token=report.token)
    return render(request, "safety/report_form.html", context)


@public
def report_nearby(request: HttpRequest) -> HttpResponse:
    """htmx: open reports of this kind near the pin, shown before the reporter writes anything."""
    site = _site_for(request)
    lat, lon = _float(request.GET.get("latitude")), _float(request.GET.get("longitude"))
    nearby: list[services.NearbyReport] = []
    if site is not None and lat is not None and lon is not None:
        category = next((c for c in services.categories(site) if c.code == request.GET.get("category")), None)
        if category is not None:
            radius = sites.settings_of(site).hazard_duplicate_radius_m
            nearby = services.nearby_open_reports(site.pk, category.pk, lat, lon, radius)
    return render(request, "safety/_nearby.html", {"duplicates": nearby})


@public
@require_POST
def report_follow(request: HttpRequest, report_id: int) -> HttpResponse:
    principal = request_principal(request)
    try:
        follower = services.follow_report(
            report_id,
            actor=_actor(request) if principal.user_id else None,
            email=request.POST.get("reporter_email", "").strip()[:200],
        )
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("You now follow this report. Keep this page's address to see its progress."))
    return redirect("report_track", token=follower.token)


@public
def report_track(request: HttpRequest, token: str) -> HttpResponse:
    try:
        view = services.track(token)
    except NotFound as exc:
        raise Http404 from exc
    return render(
        request,
        "safety/report_track.html",
        {
            "report": view,
            "token": token,
            "map_data": _points_json([(view.latitude, view.longitude, view.reference, view.urgent)]),
            "statuses": dict(ReportStatus.choices),
        },
    )


@login_only
def my_reports(request: HttpRequest) -> HttpResponse:
    reports = services.my_reports(request_principal(request))
    return render(request, "safety/my_reports.html", {"reports": reports})


@public
def photo(request: HttpRequest, photo_id: int) -> FileResponse:
    """Photos are checked like the records they belong to; ``?t=`` carries a follower's token."""
    try:
        found: Photo = services.photo_for(request_principal(request), photo_id, request.GET.get("t", ""))
    except NotFound as exc:
        raise Http404 from exc
    response = FileResponse(found.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _points_json(points: Iterable[tuple[float, float, str, bool]]) -> str:
    """Reports for web/map.js, which colours points by care level: urgent ones draw red (3), others blue (1)."""
    return json.dumps(
        {
            "points": [
                {"lat": lat, "lon": lon, "reference": ref, "care_level": 3 if urgent else 1}
                for lat, lon, ref, urgent in points
            ]
        }
    )


# --- reports: officials and members ------------------------------------------------------------------------


def _filters(request: HttpRequest) -> services.ReportFilters:
    g = request.GET
    since = None
    if g.get("since"):
        try:
            since = date.fromisoformat(g["since"])
        except ValueError:
            since = None
    return services.ReportFilters(
        status=g.get("status", "open"),
        category=g.get("category", "")[:40],
        area_code=g.get("area", "")[:10],
        urgent=g.get("urgent") == "1",
        overdue=g.get("overdue") == "1",
        q=g.get("q", "")[:20],
        since=since,
    )


def _list_context(request: HttpRequest) -> dict[str, Any]:
    principal = request_principal(request)
    site = Site.objects.get(pk=principal.site_pk)
    return {
        "filters": _filters(request),
        "categories": services.categories(site),
        "areas": services.working_areas(principal, Resource.HAZARD, Action.VIEW),
        "statuses": ReportStatus.choices,
        "query": request.GET.urlencode(),
    }


@requires(Resource.HAZARD, Action.VIEW)
def report_list(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    context = _list_context(request)
    context["page"] = services.list_reports(principal, context["filters"], _page(request))
    context["stats"] = services.report_stats(services.visible_reports(principal))
    template = "safety/_report_rows.html" if request.headers.get("HX-Request") else "safety/report_list.html"
    return render(request, template, context)


@requires(Resource.HAZARD, Action.VIEW)
def report_map(request: HttpRequest) -> HttpResponse:
    return render(request, "safety/report_map.html", _list_context(request))


@requires(Resource.HAZARD, Action.VIEW)
def report_map_data(request: HttpRequest) -> JsonResponse:
    """Every report in the map's view, as points or as counted grid cells (see ``services.map_data``)."""
    principal = request_principal(request)
    bbox = None
    parts = [_float(x) for x in request.GET.get("bbox", "").split(",")]
    if len(parts) == 4 and all(p is not None for p in parts):
        south, west, north, east = (float(p) for p in parts if p is not None)
        bbox = (south, west, north, east)
    try:
        zoom = int(request.GET.get("zoom", "13"))
    except ValueError:
        zoom = 13
    qs = services.filtered_reports(services.visible_reports(principal), _filters(request))
    return JsonResponse(services.map_data(qs, bbox, zoom, density=request.GET.get("view") == "density"))


def _report_or_404(request: HttpRequest, report_id: int) -> services.ReportView:
    try:
        return services.read_report(request_principal(request), report_id)
    except NotFound as exc:
        raise Http404 from exc


@requires(Resource.HAZARD, Action.VIEW)
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    view = _report_or_404(request, report_id)
    principal = request_principal(request)
    site = Site.objects.get(pk=view.site_id)
    return render(
        request,
        "safety/report_detail.html",
        {
            "report": view,
            "can_change": principal.can(Resource.HAZARD, Action.CHANGE),
            "can_task": principal.can(Resource.SAFETY_TASK, Action.CREATE),
            "responders": services.responders(site),
            "categories": services.categories(site),
            "scale": range(1, 6),
            "map_data": _points_json([(view.latitude, view.longitude, view.reference, view.urgent)]),
            "errors": {},
            "statuses": dict(ReportStatus.choices),
        },
    )


@requires(Resource.HAZARD, Action.CHANGE)
def report_contact(request: HttpRequest, report_id: int) -> HttpResponse:
    """htmx: the reporter's contact, shown on request only, because each look is recorded."""
    try:
        contact = services.reporter_contact(_actor(request), report_id)
    except NotFound as exc:
        raise Http404 from exc
    return render(request, "safety/_reporter_contact.html", {"contact": contact})


def _after_change(request: HttpRequest, report_id: int, exc: ValidationError | SafetyError | None) -> HttpResponse:
    if exc is not None:
        messages.error(request, "; ".join(f"{k}: {v}" if k else v for k, v in _errors(exc).items()))
    else:
        messages.success(request, _("Saved. Everyone following the report sees the change."))
    return redirect("report_detail", report_id=report_id)


@requires(Resource.HAZARD, Action.CHANGE)
@require_POST
def report_triage(request: HttpRequest, report_id: int) -> HttpResponse:
    p = request.POST
    try:
        data = TriageInput(
            likelihood=p.get("likelihood") or 0,
            severity=p.get("severity") or 0,
            urgent=p.get("urgent") == "1",
            responder=p.get("responder", ""),
            note=p.get("note", ""),
            photos_public=p.get("photos_public") == "1",
        )
        services.triage(_actor(request), report_id, data)
    except NotFound as exc:
        raise Http404 from exc
    except (ValidationError, SafetyError) as exc:
        return _after_change(request, report_id, exc)
    return _after_change(request, report_id, None)


@requires(Resource.HAZARD, Action.CHANGE)
@require_POST
def report_recategorise(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        services.recategorise(
            _actor(request), report_id, request.POST.get("category", ""), request.POST.get("note", "")[:500]
        )
    except NotFound as exc:
        raise Http404 from exc
    except SafetyError as exc:
        return _after_change(request, report_id, exc)
    return _after_change(request, report_id, None)


@requires(Resource.HAZARD, Action.CHANGE)
@require_POST
def report_status(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        data = StatusChange(
            status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
            duplicate_of=request.POST.get("duplicate_of", "").strip(),
        )
        services.change_status(_actor(request), report_id, data)
    except NotFound as exc:
        raise Http404 from exc
    except (ValidationError, SafetyError) as exc:
        return _after_change(request, report_id, exc)
    return _after_change(request, report_id, None)


# --- the consultative body ---------------------------------------------------------------------------------


def _ids(request: HttpRequest, name: str) -> list[int]:
    return [int(v) for v in request.POST.getlist(name) if v.isdigit()]


@requires(Resource.SAFETY_BODY, Action.VIEW)
def body(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    actor = _actor(request)
    areas = services.working_areas(principal, Resource.SAFETY_BODY, Action.VIEW)
    area_code = request.GET.get("area") or (areas[0].code if len(areas) == 1 else "")
    errors: dict[str, str] = {}
    form = request.POST.get("form", "")
    if request.method == "POST":
        try:
            if form == "member" and principal.can(Resource.SAFETY_BODY, Action.CHANGE):
                services.add_member(actor, MemberInput(
                    area_code=request.POST.get("area_code", ""), name=request.POST.get("name", ""),
                    phone=request.POST.get("phone", ""), email=request.POST.get("email", ""),
                    kind=request.POST.get("kind", ""), role=request.POST.get("role", "member"),
                    term_start=request.POST.get("term_start") or None,
                    term_end=request.POST.get("term_end") or None,
                ))  # fmt: skip
                messages.success(request, _("Member added."))
            elif form == "meeting":
                meeting = services.record_meeting(actor, MeetingInput(
                    area_code=request.POST.get("area_code", ""), held_at=request.POST.get("held_at") or None,
                    place=request.POST.get("place", ""), agenda=request.POST.get("agenda", ""),
                    minutes=request.POST.get("minutes", ""), attendee_ids=_ids(request, "attendees"),
                    decisions=request.POST.get("decisions", "").splitlines(),
                ))  # fmt: skip
                messages.success(
                    request,
                    _("Meeting recorded; %(n)s decision(s) became improvement tasks.") % {"n": meeting.tasks.count()},
                )
            elif form == "activity":
                services.record_activity(actor, ActivityInput(
                    area_code=request.POST.get("area_code", ""), kind=request.POST.get("kind", ""),
                    held_on=request.POST.get("held_on") or None,
                    hours=_float(request.POST.get("hours")) or 0, participant_ids=_ids(request, "participants"),
                    summary=request.POST.get("summary", ""),
                ))  # fmt: skip
                messages.success(request, _("Activity recorded."))
            elif form == "end_term" and principal.can(Resource.SAFETY_BODY, Action.CHANGE):
                services.end_term(actor, int(request.POST.get("member", "0")), timezone.localdate())
                messages.success(request, _("Term ended today."))
            else:
                raise SafetyError("", "forbidden", _("Your role may not do this."))
        except NotFound as exc:
            raise Http404 from exc
        except (ValidationError, SafetyError) as exc:
            errors = _errors(exc)
        else:
            return redirect(f"{reverse('safety_body')}?area={request.POST.get('area_code', area_code)}")
    year = timezone.localdate().year
    return render(
        request,
        "safety/body.html",
        {
            "areas": areas,
            "area_code": area_code,
            "members": services.list_members(actor, area_code) if area_code else [],
            "meetings": services.meetings(principal, area_code).prefetch_related("attendees", "tasks")[:20]
            if area_code
            else [],
            "activities": services.activities(principal, area_code).prefetch_related("participants")[:30]
            if area_code
            else [],
            "hours": services.activity_hours(principal, area_code, year) if area_code else {},
            "year": year,
            "can_manage": principal.can(Resource.SAFETY_BODY, Action.CHANGE),
            "can_record": principal.can(Resource.SAFETY_BODY, Action.CREATE),
            "can_task": principal.can(Resource.SAFETY_TASK, Action.CREATE),
            "kinds": MemberKind.choices,
            "roles": BodyRole.choices,
            "activity_kinds": ActivityKind.choices,
            "errors": errors,
            "form": form,
            "values": request.POST,
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "today": timezone.localdate().isoformat(),
        },
    )


# --- improvement tasks -------------------------------------------------------------------------------------


@requires(Resource.SAFETY_TASK, Action.VIEW)
def task_list(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    qs = services.visible_tasks(principal).select_related("area", "responder")
    status = request.GET.get("status", "")
    if status in TaskStatus.values:
        qs = qs.filter(status=status)
    area = request.GET.get("area", "")
    if area:
        qs = qs.filter(area_id=area)
    return render(
        request,
        "safety/task_list.html",
        {
            "tasks": qs.order_by("status", "due_date", "id")[:200],
            "statuses": TaskStatus.choices,
            "status": status,
            "area": area,
            "areas": services.working_areas(principal, Resource.SAFETY_TASK, Action.VIEW),
            "can_create": principal.can(Resource.SAFETY_TASK, Action.CREATE),
            "year": timezone.localdate().year,
        },
    )


@requires(Resource.SAFETY_TASK, Action.CREATE)
def task_create(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    site = Site.objects.get(pk=principal.site_pk)
    errors: dict[str, str] = {}
    values: Any = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        p = request.POST
        try:
            task = services.create_task(_actor(request), TaskInput(
                area_code=p.get("area_code", ""), title=p.get("title", ""), description=p.get("description", ""),
                source=p.get("source", ""), responder=p.get("responder", ""),
                budget_krw=p.get("budget_krw") or 0, plan_year=p.get("plan_year") or 0,
                due_date=p.get("due_date") or None,
                report_references=[r.strip() for r in p.get("reports", "").replace(",", " ").split() if r.strip()],
                meeting_id=p.get("meeting_id") or None,
                activity_id=p.get("activity_id") or None,
            ))  # fmt: skip
        except (ValidationError, SafetyError) as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Task created."))
            return redirect("task_detail", task_id=task.pk)
    return render(
        request,
        "safety/task_form.html",
        {
            "areas": services.working_areas(principal, Resource.SAFETY_TASK, Action.CREATE),
            "responders": services.responders(site),
            "sources": TaskSource.choices,
            "errors": errors,
            "values": values,
            "year": timezone.localdate().year,
        },
    )


def _task_or_404(request: HttpRequest, task_id: int) -> ImprovementTask:
    task = (
        services.visible_tasks(request_principal(request))
        .select_related("area", "responder", "confirmed_by", "meeting", "activity")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise Http404
    return task


@requires(Resource.SAFETY_TASK, Action.VIEW)
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task_or_404(request, task_id)
    principal = request_principal(request)
    actor = _actor(request)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "change":
                services.change_task(actor, task.pk, TaskChange(
                    status=request.POST.get("status", ""), responder=request.POST.get("responder", ""),
                    budget_krw=request.POST.get("budget_krw") or 0,
                    due_date=request.POST.get("due_date") or None,
                ))  # fmt: skip
            elif action == "photo":
                upload = request.FILES.get("photo")
                if upload is None:
                    raise SafetyError("photo", "photo_required", _("Choose a photo."))
                services.add_task_photo(actor, task.pk, request.POST.get("stage", ""), upload.read())
            elif action == "link":
                services.link_reports(actor, task.pk, request.POST.get("reports", "").replace(",", " ").split())
            elif action == "confirm":
                member = request.POST.get("member", "")
                services.confirm_closure(
                    actor, task.pk, int(member) if member.isdigit() else None, request.POST.get("note", "")
                )
            else:
                raise SafetyError("", "forbidden", _("Your role may not do this."))
        except NotFound as exc:
            raise Http404 from exc
        except (ValidationError, SafetyError, photos.PhotoRejected) as exc:
            detail = _errors(exc)
            messages.error(request, "; ".join(f"{k}: {v}" if k else v for k, v in detail.items()))
        else:
            messages.success(request, _("Saved."))
        return redirect("task_detail", task_id=task.pk)
    site = Site.objects.get(pk=task.site_id)
    return render(
        request,
        "safety/task_detail.html",
        {
            "task": task,
            "reports": task.reports.select_related("category").order_by("-created_at"),
            "photos": task.photos.all(),
            "statuses": [s for s in TaskStatus.choices if s[0] != TaskStatus.CLOSED],
            "responders": services.responders(site),
            "members": services.list_members(_actor(request), task.area_id)
            if principal.can(Resource.SAFETY_BODY, Action.CHANGE)
            else [],
            "can_change": principal.can(Resource.SAFETY_TASK, Action.CHANGE),
            "can_confirm": principal.can(Resource.SAFETY_TASK, Action.CONFIRM) and task.status == TaskStatus.DONE,
            "is_member": principal.role == "body_member",
        },
    )


@requires(Resource.SAFETY_TASK, Action.VIEW)
def plan(request: HttpRequest, area_code: str, year: int) -> HttpResponse:
    try:
        found = services.yearly_plan(request_principal(request), area_code, year)
    except NotFound as exc:
        raise Http404 from exc
    if request.GET.get("format") == "csv":
        if not request_principal(request).can(Resource.SAFETY_TASK, Action.EXPORT):
            raise Http404
        response = HttpResponse(services.plan_csv(found), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="safety-plan-{area_code}-{year}.csv"'
        return response
    return render(request, "safety/plan.html", {"plan": found, "statuses": dict(TaskStatus.choices)})


# --- the area safety page ----------------------------------------------------------------------------------


@requires(Resource.HAZARD, Action.VIEW)
def area_safety(request: HttpRequest, code: str) -> HttpResponse:
    principal = request_principal(request)
    if request.method == "POST":
        try:
            services.tick_checklist(_actor(request), code, request.POST.get("item", ""), request.POST.get("note", ""))
        except SafetyError as exc:
            messages.error(request, exc.message)
        return redirect("area_safety", code=code)
    try:
        page = services.area_safety(principal, code)
    except NotFound as exc:
        raise Http404 from exc
    open_here = services.visible_reports(principal).filter(area_id=code, status__in=OPEN_STATUSES)
    points = open_here.values_list("latitude", "longitude", "reference", "urgent")[:300]
    return render(
        request,
        "safety/area_safety.html",
        {
            "page": page,
            "can_tick": principal.can(Resource.SAFETY_BODY, Action.CREATE),
            "map_data": _points_json(points),
            "statuses": dict(TaskStatus.choices),
            "report_statuses": dict(ReportStatus.choices),
            "activity_kinds": dict(ActivityKind.choices),
            "today": timezone.localdate(),
        },
    )


# --- the site's catalogue ----------------------------------------------------------------------------------


@requires(Resource.SAFETY_CATALOGUE, Action.VIEW)
def catalogue_page(request: HttpRequest) -> HttpResponse:
    """The site's hazard categories: what each is called, who it routes to, whether it is offered, its questions."""
    principal = request_principal(request)
    site = Site.objects.get(pk=principal.site_pk)
    can_change = principal.can(Resource.SAFETY_CATALOGUE, Action.CHANGE)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        p = request.POST
        try:
            attributes = json.loads(p.get("attributes") or "[]")
            if not isinstance(attributes, list):
                raise SafetyError("attributes", "attributes_list", _("Questions must be a JSON list."))
            services.update_category(
                _actor(request),
                p.get("code", ""),
                responder=p.get("responder", ""),
                active=p.get("active") == "1",
                name_ko=p.get("name_ko", ""),
                name_en=p.get("name_en", ""),
                attributes=attributes,
            )
        except NotFound as exc:
            raise Http404 from exc
        except json.JSONDecodeError as exc:
            messages.error(request, _("Questions: not valid JSON (%(msg)s).") % {"msg": exc.msg})
        except (ValidationError, SafetyError) as exc:
            messages.error(request, "; ".join(f"{k}: {v}" if k else v for k, v in _errors(exc).items()))
        else:
            messages.success(request, _("Saved."))
        return redirect("safety_catalogue")
    rows = [(c, json.dumps(c.attributes, ensure_ascii=False, indent=1)) for c in services.categories(site, True)]
    return render(
        request,
        "safety/catalogue.html",
        {"rows": rows, "responders": services.responders(site), "can_change": can_change},
    )

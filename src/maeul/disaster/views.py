"""Disaster pages: responses and manual activation, the live board, the helper's and member's own roll-call, the
situation report (HTML, PDF, CSV) and review, and the site's set-up (plans, forecast zones, alert sources). Thin:
each view reads the request, calls ``disaster.services`` and renders; refusals come back as messages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.areas.models import Area
from maeul.audit.services import Actor
from maeul.disaster import catalogue, services
from maeul.disaster.errors import DisasterError, NotFound
from maeul.disaster.models import (
    Audience,
    Channel,
    ContactMethod,
    DispatchKind,
    EntryStatus,
    Hazard,
    Level,
    Preparedness,
    ResponseStatus,
    SourceKind,
)
from maeul.disaster.schemas import (
    ContactInput,
    LessonInput,
    ManualActivation,
    PlanInput,
    PlanItemInput,
    SourceInput,
    ZoneInput,
)
from maeul.people.errors import ImportRejected
from maeul.sites.models import Site

BOARD_STATUSES = ("outstanding", "overdue", "pending", "not_reached", "fine", "needs_help", "evacuated", "removed")


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "disaster/not_found.html", status=404)


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
    )


def _int(raw: str | None, default: int = 0) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


def _status_choices() -> list[tuple[str, str]]:
    labels = {
        "outstanding": _("Not yet accounted for"),
        "overdue": _("Past the deadline"),
        "removed": _("No longer in the alert area"),
    }
    return [(s, labels.get(s) or str(EntryStatus(s).label)) for s in BOARD_STATUSES]


# --- responses ---------------------------------------------------------------------------------------------


@requires(Resource.DISASTER, Action.VIEW)
def response_list(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    status = request.GET.get("status", "")
    return render(
        request,
        "disaster/response_list.html",
        {
            "responses": services.list_responses(principal, status if status in ResponseStatus.values else ""),
            "status": status,
            "statuses": ResponseStatus.choices,
            "can_activate": principal.can(Resource.DISASTER, Action.CREATE),
            "can_setup": principal.can(Resource.DISASTER_SETUP, Action.VIEW),
        },
    )


@requires(Resource.DISASTER, Action.CREATE)
def activate(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    areas = list(services.working_areas(principal))
    values: dict[str, Any] = {"hazard": request.GET.get("hazard", Hazard.HEAT), "level": "", "title": "",
                              "instruction": "", "area_codes": []}  # fmt: skip
    if request.method == "POST":
        values = {
            "hazard": request.POST.get("hazard", ""),
            "level": request.POST.get("level", ""),
            "title": request.POST.get("title", ""),
            "instruction": request.POST.get("instruction", ""),
            "area_codes": request.POST.getlist("area_codes"),
        }
        try:
            response = services.activate_manual(_actor(request), ManualActivation(**values))
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        except DisasterError as exc:
            messages.error(request, exc.message)
        else:
            services.send_dispatches()
            messages.success(request, _("Activated: the roll-call is ready and the people calling are being told."))
            return redirect("disaster_board", response.pk)
    points = [{"code": a.code, "name": a.name, "lat": a.latitude, "lon": a.longitude} for a in areas if a.latitude]
    return render(
        request,
        "disaster/activate.html",
        {
            "areas": areas,
            "values": values,
            "hazards": Hazard.choices,
            "levels": Level.choices,
            "points": {"areas": points},
        },
    )


@requires(Resource.DISASTER, Action.CREATE)  # first, so a visitor who is not logged in is sent to log in
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """An official hands Maeul a CAP file (e.g. saved from another system) for their site."""
    principal = request_principal(request)
    received = request.FILES.get("file")
    if received is None:
        messages.error(request, _("Choose a CAP file (.xml)."))
        return redirect("disaster_list")
    site = Site.objects.get(pk=principal.site_pk)
    got = services.receive(received.read(), channel=Channel.UPLOAD, site_list=[site], actor=_actor(request))
    if got.responses:
        services.send_dispatches()
        messages.success(request, _("The alert was applied: %(outcome)s.") % {"outcome": got.outcome.label})
        return redirect("disaster_board", got.responses[0].pk)
    level = messages.error if got.outcome == "rejected" else messages.warning
    level(request, _("%(outcome)s: %(detail)s") % {"outcome": got.outcome.label, "detail": got.detail or got.reason})
    return redirect("disaster_list")


def _board_context(request: HttpRequest, response_id: int) -> dict[str, Any]:
    filters = services.BoardFilters(
        status=request.GET.get("status", "outstanding"),
        area_code=request.GET.get("area", ""),
        page=_int(request.GET.get("page"), 1),
    )
    board = services.board(_actor(request), response_id, filters)
    principal = request_principal(request)
    pages = max(1, -(-board.total_listed // filters.per_page))
    return {
        "board": board,
        "r": board.response,
        "filters": filters,
        "statuses": _status_choices(),
        "pages": pages,
        "query": request.GET.urlencode(),
        "now": timezone.now(),
        "results": [(s, EntryStatus(s).label) for s in EntryStatus.values if s != EntryStatus.PENDING],
        "methods": ContactMethod.choices,
        "can_change": principal.can(Resource.DISASTER, Action.CHANGE),
        "can_tick": principal.can(Resource.DISASTER, Action.CONFIRM),
        "can_record": principal.can(Resource.ROLL_CALL, Action.CHANGE),
        "is_member": principal.role == "body_member",
        "running": board.response.status != ResponseStatus.CLOSED,
    }


@requires(Resource.DISASTER, Action.VIEW)
def board(request: HttpRequest, response_id: int) -> HttpResponse:
    try:
        context = _board_context(request, response_id)
    except NotFound:
        return _not_found(request)
    template = "disaster/_live.html" if request.headers.get("HX-Request") else "disaster/board.html"
    return render(request, template, context)


@requires(Resource.DISASTER, Action.VIEW)
def map_json(request: HttpRequest, response_id: int) -> HttpResponse:
    try:
        return JsonResponse(services.map_data(_actor(request), response_id))
    except NotFound:
        return JsonResponse({"detail": "not found"}, status=404)


def _contact_input(request: HttpRequest) -> ContactInput:
    def choice(name: str) -> Preparedness | None:
        value = request.POST.get(name)
        return Preparedness(value) if value in ("yes", "no") else None

    return ContactInput(
        result=request.POST.get("result", ""),
        method=request.POST.get("method", ContactMethod.PHONE),
        note=request.POST.get("note", ""),
        has_cooling=choice("has_cooling"),
        has_heating=choice("has_heating"),
        needs_evacuation_help=True if request.POST.get("needs_evacuation_help") else None,
    )


def _next(request: HttpRequest) -> str:
    """Back to the page the form was on (the board or one's own list), never to another site."""
    target = request.POST.get("next", "")
    return target if target.startswith("/disaster/") else "/disaster/my/"


@require_POST
@requires(Resource.ROLL_CALL, Action.CHANGE)
def record_contact(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        entry = services.record_contact(_actor(request), entry_id, _contact_input(request))
    except NotFound:
        return _not_found(request)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect(_next(request))
    except DisasterError as exc:
        messages.error(request, exc.message)
        return redirect(_next(request))
    messages.success(request, _("Recorded: %(status)s.") % {"status": EntryStatus(entry.status).label})
    return redirect(_next(request))


@require_POST
@requires(Resource.ROLL_CALL, Action.CHANGE)
def reassign(request: HttpRequest, response_id: int) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("entry_ids") if i.isdigit()]
    target = request.POST.get("to", "")
    kind, _sep, ident = target.partition(":")
    try:
        moved = services.reassign(
            _actor(request), ids, helper_id=int(ident) if kind == "helper" and ident.isdigit() else None,
            member_id=int(ident) if kind == "member" and ident.isdigit() else None, to_self=kind == "me",
        )  # fmt: skip
    except DisasterError as exc:
        messages.error(request, exc.message)
    else:
        services.send_dispatches()
        messages.success(request, _("%(n)s households handed over.") % {"n": moved})
    return redirect("disaster_board", response_id)


@require_POST
@requires(Resource.DISASTER, Action.CONFIRM)
def tick(request: HttpRequest, response_id: int, line_id: int) -> HttpResponse:
    try:
        services.tick(_actor(request), line_id, request.POST.get("done") == "1", request.POST.get("note", ""))
    except NotFound:
        return _not_found(request)
    except DisasterError as exc:
        messages.error(request, exc.message)
    return redirect("disaster_board", response_id)


@require_POST
@requires(Resource.DISASTER, Action.CHANGE)
def act(request: HttpRequest, response_id: int) -> HttpResponse:
    """Stand down, close, or add a note to a response."""
    actor = _actor(request)
    what = request.POST.get("what", "")
    try:
        if what == "stand_down":
            services.stand_down(actor, response_id)
            services.send_dispatches()
            messages.success(request, _("Stood down: no more escalations. The people calling were told."))
        elif what == "close":
            services.close(actor, response_id)
            messages.success(request, _("Closed. Write the after-action review while it is fresh."))
            return redirect("disaster_review", response_id)
        elif what == "note":
            services.add_note(actor, response_id, request.POST.get("text", ""))
    except NotFound:
        return _not_found(request)
    except DisasterError as exc:
        messages.error(request, exc.message)
    return redirect("disaster_board", response_id)


# --- helpers' and members' own list ---------------------------------------------------------------------------


@requires(Resource.ROLL_CALL, Action.VIEW)
def my_roll_call(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "disaster/my.html",
        {
            "mine": services.my_roll_call(_actor(request)),
            "results": [(s, EntryStatus(s).label) for s in EntryStatus.values if s != EntryStatus.PENDING],
            "methods": ContactMethod.choices,
            "now": timezone.now(),
        },
    )


# --- report and review ------------------------------------------------------------------------------------------


def _report_context(request: HttpRequest, response_id: int) -> dict[str, Any]:
    report = services.report(_actor(request), response_id)
    return {
        "report": report,
        "r": report.response,
        "criteria": catalogue.CRITERIA.get(Hazard(report.response.hazard), ""),
        "checklist": [(line, services.item_text(line.text_ko, line.text_en)) for line in report.checklist],
        "message_kinds": [(DispatchKind(k).label, n) for k, n in sorted(report.messages.items())],
    }


@requires(Resource.DISASTER, Action.VIEW)
def report(request: HttpRequest, response_id: int) -> HttpResponse:
    try:
        context = _report_context(request, response_id)
    except NotFound:
        return _not_found(request)
    fmt = request.GET.get("format", "")
    if fmt == "pdf":
        html = render_to_string("disaster/report_print.html", context, request=request)
        response = HttpResponse(services.report_pdf(html), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="situation-report-{response_id}.pdf"'
        return response
    if fmt == "csv":
        response = HttpResponse(services.figures_csv(context["report"]), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="situation-report-{response_id}.csv"'
        return response
    return render(request, "disaster/report.html", context)


@require_POST
@requires(Resource.ROLL_CALL, Action.EXPORT)
def roll_call_csv(request: HttpRequest, response_id: int) -> HttpResponse:
    try:
        text, _count = services.roll_call_csv(_actor(request), response_id, request.POST.get("reason", ""))
    except NotFound:
        return _not_found(request)
    except DisasterError as exc:
        messages.error(request, exc.message)
        return redirect("disaster_report", response_id)
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")  # BOM: Excel reads UTF-8
    response["Content-Disposition"] = f'attachment; filename="roll-call-{response_id}.csv"'
    return response


@requires(Resource.DISASTER, Action.VIEW)
def review(request: HttpRequest, response_id: int) -> HttpResponse:
    actor = _actor(request)
    if request.method == "POST":
        if not actor.principal.can(Resource.DISASTER, Action.CHANGE):
            messages.error(request, _("Your role may not write the review."))
            return redirect("disaster_review", response_id)
        try:
            if request.POST.get("what") == "lesson":
                lesson = services.add_lesson(
                    actor,
                    response_id,
                    LessonInput(area_code=request.POST.get("area_code", ""), text=request.POST.get("text", ""),
                                make_task=bool(request.POST.get("make_task"))),
                )  # fmt: skip
                messages.success(request, _("Lesson saved; it is improvement task no. %(id)s.") % {"id": lesson.task_id}
                                 if lesson.task_id else _("Lesson saved."))  # fmt: skip
            elif request.POST.get("what") == "task":
                services.lesson_to_task(actor, _int(request.POST.get("lesson_id")))
                messages.success(request, _("The lesson is now an improvement task."))
            else:
                services.save_review(
                    actor, response_id, request.POST.get("went_well", ""), request.POST.get("to_improve", "")
                )
                messages.success(request, _("Review saved."))
        except NotFound:
            return _not_found(request)
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        except DisasterError as exc:
            messages.error(request, exc.message)
        return redirect("disaster_review", response_id)
    try:
        context = _report_context(request, response_id)
    except NotFound:
        return _not_found(request)
    context["areas"] = list(context["r"].areas.order_by("code"))
    context["can_change"] = actor.principal.can(Resource.DISASTER, Action.CHANGE)
    context["can_task"] = actor.principal.can(Resource.SAFETY_TASK, Action.CREATE)
    return render(request, "disaster/review.html", context)


# --- set-up: plans, zones, sources ------------------------------------------------------------------------------


@requires(Resource.DISASTER_SETUP, Action.VIEW)
def plans(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    return render(
        request,
        "disaster/plans.html",
        {
            "plans": [(p, Hazard(p.hazard).label, catalogue.CRITERIA[Hazard(p.hazard)],
                       [(i, services.item_text(i.text_ko, i.text_en)) for i in p.items.all()])
                      for p in services.plans(principal.site_pk)],
            "can_change": principal.can(Resource.DISASTER_SETUP, Action.CHANGE),
            "audiences": Audience.choices,
            "placeholders": ", ".join("{" + p + "}" for p in catalogue.PLACEHOLDERS),
        },
    )  # fmt: skip


@require_POST
@requires(Resource.DISASTER_SETUP, Action.CHANGE)
def plan_edit(request: HttpRequest, hazard: str) -> HttpResponse:
    if hazard not in Hazard.values:
        return _not_found(request)
    actor = _actor(request)
    try:
        what = request.POST.get("what", "")
        if what == "add_item":
            item = PlanItemInput(
                audience=Audience(request.POST.get("audience", Audience.OFFICIAL)),
                text_ko=request.POST.get("text_ko", ""),
                text_en=request.POST.get("text_en", ""),
            )
            services.add_plan_item(actor, hazard, item)
        elif what == "remove_item":
            services.remove_plan_item(actor, _int(request.POST.get("item_id")))
        else:
            steps = [
                int(s) for s in request.POST.get("escalation_minutes", "").replace(",", " ").split() if s.isdigit()
            ]
            indoor = request.POST.get("indoor_celsius", "").strip()
            services.update_plan(
                actor,
                hazard,
                PlanInput(
                    reach_within_minutes=_int(request.POST.get("reach_within_minutes")),
                    escalation_minutes=steps,
                    indoor_celsius=float(indoor) if indoor else None,
                    **{k: request.POST.get(k, "") for k in ("message_assignment", "message_update", "message_cancel",
                                                            "message_overdue", "message_guardian")},
                ),
            )  # fmt: skip
        messages.success(request, _("Plan saved."))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        messages.error(request, _errors(exc) if isinstance(exc, ValidationError) else str(exc))
    except (DisasterError, NotFound) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    return redirect(f"{request.build_absolute_uri('/disaster/plans/')}#{hazard}")


@requires(Resource.DISASTER_SETUP, Action.VIEW)
def zones(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    actor = _actor(request)
    if request.method == "POST":
        try:
            if not principal.can(Resource.DISASTER_SETUP, Action.CHANGE):
                raise DisasterError("", "not_allowed", _("Your role may not change the zone table."))
            what = request.POST.get("what", "")
            if what == "import":
                upload_file = request.FILES.get("file")
                if upload_file is None:
                    raise DisasterError("file", "required", _("Choose a CSV file."))
                n = services.import_zones_csv(actor, upload_file.read())
                messages.success(request, _("%(n)s zones imported.") % {"n": n})
            elif what == "delete":
                services.delete_zone(actor, _int(request.POST.get("zone_id")))
                messages.success(request, _("Zone removed."))
            else:
                zone = ZoneInput(
                    code=request.POST.get("code", ""),
                    name=request.POST.get("name", ""),
                    area_codes=request.POST.getlist("area_codes"),
                )
                services.save_zone(actor, zone)
                messages.success(request, _("Zone saved."))
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        except ImportRejected as exc:
            row = _("Row")
            messages.error(request, "; ".join(f"{row} {e.row} {e.column}: {e.message}" for e in exc.errors[:20]))
        except (DisasterError, NotFound) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("disaster_zones")
    site_areas = list(
        Area.objects.filter(member_of_sites__id=principal.site_pk, abolished=False, level="emd").order_by("code")
    )
    return render(
        request,
        "disaster/zones.html",
        {"zones": services.zones(principal.site_pk), "areas": site_areas,
         "can_change": principal.can(Resource.DISASTER_SETUP, Action.CHANGE)},
    )  # fmt: skip


@requires(Resource.DISASTER_SETUP, Action.VIEW)
def sources(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    token = ""
    if request.method == "POST":
        try:
            if not principal.can(Resource.DISASTER_SETUP, Action.CHANGE):
                raise DisasterError("", "not_allowed", _("Your role may not change alert sources."))
            if request.POST.get("what") in ("pause", "resume"):
                services.set_source_active(_actor(request), _int(request.POST.get("source_id")),
                                           request.POST.get("what") == "resume")  # fmt: skip
                return redirect("disaster_sources")
            source, token = services.create_source(
                _actor(request),
                SourceInput(name=request.POST.get("name", ""), kind=request.POST.get("kind", ""),
                            url=request.POST.get("url", ""), poll_minutes=_int(request.POST.get("poll_minutes"), 2)),
            )  # fmt: skip
            messages.success(request, _("Source “%(name)s” added.") % {"name": source.name})
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        except (DisasterError, NotFound) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
    return render(
        request,
        "disaster/sources.html",
        {
            "sources": services.sources(principal.site_pk),
            "messages_in": services.messages(principal.site_pk, limit=50),
            "token": token,
            "kinds": SourceKind.choices,
            "push_url": request.build_absolute_uri("/api/v1/disaster/cap"),
            "can_change": principal.can(Resource.DISASTER_SETUP, Action.CHANGE),
        },
    )

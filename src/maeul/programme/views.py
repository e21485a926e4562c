"""Pages of the programme. Thin: they parse forms, call ``services``/``results`` and render."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal, request_principal
from maeul.accounts.roles import Role
from maeul.audit.services import Actor
from maeul.programme import charts, exports, kpis, results, services
from maeul.programme.errors import NotFound, ProgrammeError
from maeul.programme.models import (
    AllocationRule,
    Application,
    ApplicationStatus,
    AttachmentKind,
    BudgetCategory,
    Call,
    CallStatus,
    Expert,
    Normalisation,
    Result,
)
from maeul.programme.schemas import ApplicationInput, CallInput, QuarterlyReportInput, SpendingInput
from maeul.sites.models import Site


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


def _errors_of(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        message = err["msg"].removeprefix("Value error, ")
        field, _sep, rest = message.partition(": ")
        if rest and " " not in field:
            out[field] = rest
        else:
            out[str(err["loc"][0]) if err["loc"] else ""] = message
    return out


def _int(value: str | None) -> int:
    return int((value or "0").replace(",", "").strip() or 0)


@requires(Resource.PROGRAMME_CALL, Action.VIEW)
def programme_home(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    context: dict[str, Any] = {
        "calls": Call.objects.all()
        if principal.role == Role.MINISTRY
        else Call.objects.exclude(status=CallStatus.DRAFT)
    }
    if principal.can(Resource.APPLICATION, Action.CREATE):
        context["applications"] = services.visible_applications(principal).order_by("-call__year")
        context["grants"] = services.visible_grants(principal)
        context["local_government"] = services.local_government_code(principal)
    if principal.role == Role.EXPERT:
        context["assignments"] = services.expert_assignments(principal)
    context["can_create_call"] = principal.can(Resource.PROGRAMME_CALL, Action.CREATE)
    context["can_see_results"] = principal.scope(Resource.PROGRAMME_RESULTS, Action.VIEW) == Scope.ALL
    return render(request, "programme/home.html", context)


# --- calls ------------------------------------------------------------------------------------------------------


def _call_values(post: Any) -> dict[str, Any]:
    criteria = []
    for line in str(post.get("criteria", "")).splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 3 and parts[0]:
            criteria.append(
                {
                    "code": parts[0],
                    "name": parts[1],
                    "points": _int(parts[2]),
                    "description": parts[3] if len(parts) > 3 else "",
                }
            )
    bands = []
    for line in str(post.get("bands", "")).splitlines():
        parts = [p.strip() for p in line.replace("×", "|").replace("x", "|").split("|")]
        if len(parts) == 2 and parts[0]:
            bands.append({"ranks": _int(parts[0]), "amount_krw": _int(parts[1])})
    names = [
        "year", "title", "cap_per_local_government_krw", "national_total_krw", "national_share_percent",
        "sites_to_select", "opens_on", "closes_on", "evaluation_due_on", "results_on", "execution_ends_on",
        "report_due_days", "baseline_days", "allocation_rule", "normalisation", "min_experts_per_application",
    ]  # fmt: skip
    values: dict[str, Any] = {name: str(post.get(name, "")).replace(",", "") for name in names}
    values["types"] = [int(t) for t in post.getlist("types")] if hasattr(post, "getlist") else []
    values["criteria"] = criteria
    values["bands"] = bands
    values["required_attachments"] = post.getlist("required_attachments") if hasattr(post, "getlist") else []
    return values


def _call_form_initial(data: CallInput) -> dict[str, Any]:
    values = data.model_dump()
    values["criteria"] = "\n".join(f"{c.code} | {c.name} | {c.points} | {c.description}" for c in data.criteria)
    values["bands"] = "\n".join(f"{b.ranks} | {b.amount_krw}" for b in data.bands)
    return values


def _call_form(request: HttpRequest, call: Call | None) -> HttpResponse:
    actor = _actor(request)
    errors: dict[str, str] = {}
    if call is not None:
        initial = _call_form_initial(services.call_input(call))
    else:
        today = timezone.localdate()
        initial = _call_form_initial(services.default_call(today.year, today))
    if request.method == "POST":
        values = _call_values(request.POST)
        try:
            data = CallInput.model_validate(values)
            if call is None:
                call = services.create_call(actor, data)
            else:
                services.update_call(actor, call.pk, data)
        except ValidationError as exc:
            errors = _errors_of(exc)
            initial = {**values, "criteria": request.POST.get("criteria", ""), "bands": request.POST.get("bands", "")}
        except ProgrammeError as exc:
            errors = {exc.field: exc.message}
        else:
            messages.success(request, _("Call saved."))
            return redirect("programme_call", call_id=call.pk)
    return render(
        request,
        "programme/call_form.html",
        {
            "call": call,
            "values": initial,
            "errors": errors,
            "rules": AllocationRule.choices,
            "methods": Normalisation.choices,
            "attachment_kinds": AttachmentKind.choices,
        },
    )


@requires(Resource.PROGRAMME_CALL, Action.CREATE)
def call_create(request: HttpRequest) -> HttpResponse:
    return _call_form(request, None)


@requires(Resource.PROGRAMME_CALL, Action.CHANGE)
def call_edit(request: HttpRequest, call_id: int) -> HttpResponse:
    call = Call.objects.filter(pk=call_id).first()
    if call is None:
        raise Http404
    return _call_form(request, call)


@requires(Resource.PROGRAMME_CALL, Action.VIEW)
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    principal = request_principal(request)
    call = Call.objects.filter(pk=call_id).first()
    if call is None or (call.status == CallStatus.DRAFT and not principal.can(Resource.PROGRAMME_CALL, Action.CHANGE)):
        raise Http404
    context: dict[str, Any] = {"call": call, "criteria": list(call.criteria.all())}
    context["tie_criterion"] = (
        max(context["criteria"], key=lambda c: (c.points, -c.position)) if context["criteria"] else None
    )
    if principal.scope(Resource.APPLICATION, Action.VIEW) == Scope.ALL:
        applications = list(call.applications.select_related("local_government").order_by("reference"))
        for application in applications:
            application.totals = services.application_totals(application)  # type: ignore[attr-defined]
        context["applications"] = applications
        context["results"] = list(
            Result.objects.filter(application__call=call).select_related("application__local_government")
        )
        context["panels"] = list(call.panels.prefetch_related("experts__account"))
        context["experts"] = list(Expert.objects.select_related("account"))
        context["records"] = list(call.records.select_related("application").order_by("-at", "-id")[:200])
        context["can_manage"] = principal.can(Resource.EVALUATION, Action.CHANGE)
        context["awarded"] = sum(r.awarded_krw for r in context["results"])
    own = services.local_government_code(principal)
    if own and principal.can(Resource.APPLICATION, Action.CREATE):
        context["own_application"] = (
            call.applications.filter(local_government_id=own).exclude(status=ApplicationStatus.WITHDRAWN).first()
        )
        context["may_apply"] = (
            call.status == CallStatus.OPEN and call.opens_on <= timezone.localdate() <= call.closes_on
        )
    return render(request, "programme/call_detail.html", context)


@require_POST
@requires(Resource.EVALUATION, Action.CHANGE)
def call_action(request: HttpRequest, call_id: int, step: str) -> HttpResponse:
    actor = _actor(request)
    try:
        if step == "open":
            services.open_call(actor, call_id)
        elif step == "close":
            services.close_call(actor, call_id)
        elif step == "panel":
            services.form_panel(
                actor,
                call_id,
                request.POST.get("name", ""),
                [int(e) for e in request.POST.getlist("experts")],
                [],
            )
        elif step == "rank":
            services.rank_applications(actor, call_id)
        elif step == "select":
            services.select(actor, call_id)
        elif step == "notices":
            services.issue_notices(actor, call_id)
        else:
            raise Http404
    except (ProgrammeError, NotFound) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, _("Done."))
    return redirect("programme_call", call_id=call_id)


# --- applications -----------------------------------------------------------------------------------------------


def _application_values(post: Any) -> dict[str, Any]:
    lines = []
    for category, description, national, local in zip(
        post.getlist("line_category"),
        post.getlist("line_description"),
        post.getlist("line_national"),
        post.getlist("line_local"),
        strict=False,
    ):
        if description.strip() or national.strip() or local.strip():
            lines.append(
                {
                    "category": category,
                    "description": description,
                    "national_krw": _int(national),
                    "local_krw": _int(local),
                }
            )
    targets = []
    for definition in kpis.REGISTRY:
        raw = str(post.get(f"kpi_{definition.code}", "")).strip()
        if raw:
            try:
                targets.append({"kpi": definition.code, "target": float(raw.replace(",", ""))})
            except ValueError:
                targets.append({"kpi": definition.code, "target": raw})
    return {
        "programme_type": post.get("programme_type") or 0,
        "target_area_codes": post.getlist("target_area_codes"),
        "title": post.get("title", ""),
        "plan": post.get("plan", ""),
        "budget_lines": lines,
        "kpi_targets": targets,
    }


def _application_form(request: HttpRequest, call: Call, application: Application | None) -> HttpResponse:
    actor = _actor(request)
    principal = actor.principal
    code = application.local_government_id if application else services.local_government_code(principal)
    if code is None:
        raise Http404
    errors: dict[str, str] = {}
    if application is not None:
        values: dict[str, Any] = {
            "programme_type": application.programme_type,
            "target_area_codes": list(application.target_areas.values_list("code", flat=True)),
            "title": application.title,
            "plan": application.plan,
            "budget_lines": list(
                application.budget_lines.values("category", "description", "national_krw", "local_krw")
            ),
            "kpi_targets": list(application.kpi_targets.values("kpi", "target")),
        }
    else:
        values = {
            "programme_type": call.types[-1],
            "target_area_codes": [],
            "title": "",
            "plan": "",
            "budget_lines": [],
            "kpi_targets": [],
        }
    if request.method == "POST":
        values = _application_values(request.POST)
        try:
            data = ApplicationInput.model_validate(values)
            if application is None:
                application = services.create_application(actor, call.pk, data)
            else:
                services.update_application(actor, application.pk, data)
        except ValidationError as exc:
            errors = {".".join(str(p) for p in e["loc"]): e["msg"].removeprefix("Value error, ") for e in exc.errors()}
        except ProgrammeError as exc:
            errors = {exc.field: exc.message}
        else:
            messages.success(request, _("Application saved. Attach the files and submit it before the deadline."))
            return redirect("programme_application", application_id=application.pk)
    targets = {t["kpi"]: t["target"] for t in values["kpi_targets"]}
    lines = (
        list(values["budget_lines"]) + [{"category": "", "description": "", "national_krw": "", "local_krw": ""}] * 3
    )
    return render(
        request,
        "programme/application_form.html",
        {
            "call": call,
            "application": application,
            "values": values,
            "lines": lines,
            "errors": errors,
            "areas": services._local_government_areas(code).order_by("code"),
            "categories": BudgetCategory.choices,
            "kpi_rows": [(d, targets.get(d.code, "")) for d in kpis.REGISTRY],
        },
    )


@requires(Resource.APPLICATION, Action.CREATE)
def application_create(request: HttpRequest, call_id: int) -> HttpResponse:
    call = Call.objects.exclude(status=CallStatus.DRAFT).filter(pk=call_id).first()
    if call is None:
        raise Http404
    return _application_form(request, call, None)


def _visible_application(principal: Principal, application_id: int, action: Action = Action.VIEW) -> Application:
    application = services.visible_applications(principal, action).filter(pk=application_id).first()
    if application is None:
        raise Http404
    return application


@requires(Resource.APPLICATION, Action.CHANGE)
def application_edit(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _visible_application(request_principal(request), application_id, Action.CHANGE)
    return _application_form(request, application.call, application)


@requires(Resource.APPLICATION, Action.VIEW)
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    actor = _actor(request)
    principal = actor.principal
    application = _visible_application(principal, application_id)
    context: dict[str, Any] = {
        "application": application,
        "totals": services.application_totals(application),
        "lines": list(application.budget_lines.all()),
        "targets": [(kpis.BY_CODE.get(t.kpi), t) for t in application.kpi_targets.all()],
        "attachments": list(application.attachments.all()),
        "areas": list(application.target_areas.order_by("code")),
        "attachment_kinds": AttachmentKind.choices,
        "may_change": principal.can(Resource.APPLICATION, Action.CHANGE)
        and services.visible_applications(principal, Action.CHANGE).filter(pk=application.pk).exists()
        and application.status in (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED),
        "notice": services.notice_for(actor, application.pk) if application.call.status == CallStatus.DECIDED else None,
    }
    if principal.role == Role.EXPERT:
        assignment = next(
            (a for a in services.expert_assignments(principal) if a.application.pk == application.pk), None
        )
        context["assignment"] = assignment
        context["criteria"] = list(application.call.criteria.all())
    if principal.scope(Resource.APPLICATION, Action.VIEW) == Scope.ALL:
        context["result"] = Result.objects.filter(application=application).first()
        context["declarations"] = list(application.declarations.select_related("expert__account"))
        context["sheets"] = list(application.scoresheets.select_related("expert__account"))
    return render(request, "programme/application_detail.html", context)


@require_POST
@requires(Resource.APPLICATION, Action.CHANGE)
def application_action(request: HttpRequest, application_id: int, step: str) -> HttpResponse:
    actor = _actor(request)
    try:
        if step == "submit":
            application = services.submit_application(actor, application_id)
            if application.status == ApplicationStatus.REJECTED:
                messages.error(request, _("The application does not meet the call yet: see the reasons below."))
            else:
                messages.success(request, _("Submitted. It meets the call and will be evaluated."))
        elif step == "withdraw":
            services.withdraw_application(actor, application_id)
        elif step == "attach":
            upload = request.FILES.get("file")
            if upload is None:
                raise ProgrammeError("file", "no_file", _("Choose a file to attach."))
            services.add_attachment(
                actor,
                application_id,
                request.POST.get("kind", ""),
                upload.name or "",
                upload.content_type or "",
                upload.read(),
            )
        else:
            raise Http404
    except ProgrammeError as exc:
        messages.error(request, exc.message)
    except NotFound as exc:
        raise Http404 from exc
    return redirect("programme_application", application_id=application_id)


@requires(Resource.APPLICATION, Action.VIEW)
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    try:
        attachment = services.attachment_for(_actor(request), attachment_id)
    except NotFound as exc:
        raise Http404 from exc
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )


@require_POST
@requires(Resource.EVALUATION, Action.CREATE)
def evaluation_action(request: HttpRequest, application_id: int, step: str) -> HttpResponse:
    actor = _actor(request)
    try:
        if step == "declare":
            services.declare(
                actor, application_id, request.POST.get("conflicted") == "yes", request.POST.get("reason", "")
            )
        elif step == "score":
            points: dict[str, float] = {}
            for key in request.POST:
                value = request.POST.get(key, "")
                if key.startswith("points_") and value.strip():
                    try:
                        points[key.removeprefix("points_")] = float(value)
                    except ValueError as exc:
                        raise ProgrammeError("scores", "invalid_scores", _("Scores are numbers.")) from exc
            services.score(actor, application_id, points, request.POST.get("comment", ""))
            messages.success(request, _("Your scores are submitted."))
        else:
            raise Http404
    except ProgrammeError as exc:
        messages.error(request, exc.message)
    except NotFound as exc:
        raise Http404 from exc
    return redirect("programme_application", application_id=application_id)


# --- grants -----------------------------------------------------------------------------------------------------


@requires(Resource.GRANT, Action.VIEW)
def grant_detail(request: HttpRequest, grant_id: int) -> HttpResponse:
    actor = _actor(request)
    principal = actor.principal
    grant = services.visible_grants(principal).filter(pk=grant_id).first()
    if grant is None:
        raise Http404
    errors: dict[str, str] = {}
    if request.method == "POST":
        step = request.POST.get("step", "")
        try:
            if step == "spending":
                services.record_spending(
                    actor,
                    grant.pk,
                    SpendingInput.model_validate(
                        {
                            "line_id": _int(request.POST.get("line_id")),
                            "spent_on": request.POST.get("spent_on") or None,
                            "national_krw": _int(request.POST.get("national_krw")),
                            "local_krw": _int(request.POST.get("local_krw")),
                            "description": request.POST.get("description", ""),
                        }
                    ),
                )
            elif step == "report":
                services.submit_quarterly_report(
                    actor,
                    grant.pk,
                    QuarterlyReportInput.model_validate(
                        {
                            "year": _int(request.POST.get("year")),
                            "quarter": _int(request.POST.get("quarter")),
                            "progress": request.POST.get("progress", ""),
                            "issues": request.POST.get("issues", ""),
                        }
                    ),
                )
            elif step == "link":
                services.link_site(
                    actor,
                    grant.pk,
                    _int(request.POST.get("site_id")),
                    date.fromisoformat(request.POST.get("launch_date", "")),
                )
            elif step == "baseline":
                services.measure_baseline(actor, grant.pk)
            else:
                raise Http404
        except ValidationError as exc:
            errors = _errors_of(exc)
        except (ProgrammeError, NotFound) as exc:
            errors = {getattr(exc, "field", ""): getattr(exc, "message", str(exc))}
        except ValueError:
            errors = {"launch_date": _("Dates must be written as YYYY-MM-DD.")}
        else:
            messages.success(request, _("Saved."))
            return redirect("programme_grant", grant_id=grant.pk)
    lines = services.budget_status(grant)
    context = {
        "grant": grant,
        "lines": lines,
        "national_spent": sum(s.national_spent_krw for s in lines),
        "local_spent": sum(s.local_spent_krw for s in lines),
        "quarters": services.quarters(grant),
        "errors": errors,
        "may_change": principal.can(Resource.GRANT, Action.CHANGE),
        "is_ministry": principal.scope(Resource.GRANT, Action.CHANGE) == Scope.ALL,
        "sites": Site.objects.filter(sigungu_id=grant.application.local_government_id),
        "baselines": services.baselines_of([grant.site_id]) if grant.site_id else {},
    }
    return render(request, "programme/grant_detail.html", context)


# --- results ----------------------------------------------------------------------------------------------------


def _matrix(request: HttpRequest) -> results.Matrix:
    call = Call.objects.filter(pk=_int(request.GET.get("call"))).first() if request.GET.get("call") else None
    return results.build(call)


@requires(Resource.PROGRAMME_RESULTS, Action.VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    if principal.scope(Resource.PROGRAMME_RESULTS, Action.VIEW) != Scope.ALL:
        if principal.site_id is None:
            raise Http404
        return redirect("programme_site_report", site_id=principal.site_id)
    matrix = _matrix(request)
    return render(
        request,
        "programme/dashboard.html",
        {
            "matrix": matrix,
            "plots": charts.plots(matrix),
            "calls": Call.objects.filter(applications__grant__site__isnull=False).distinct(),
        },
    )


@requires(Resource.PROGRAMME_RESULTS, Action.VIEW)
def site_report(request: HttpRequest, site_id: int) -> HttpResponse:
    principal = request_principal(request)
    scope = principal.scope(Resource.PROGRAMME_RESULTS, Action.VIEW)
    if scope != Scope.ALL and principal.site_id != site_id:
        raise Http404
    matrix = _matrix(request)
    row = results.row_for(matrix, site_id)
    if row is None:
        raise Http404
    fmt = request.GET.get("format", "")
    report = exports.SiteReport.of(matrix, row)
    if fmt in ("pdf", "xlsx"):
        if not principal.can(Resource.PROGRAMME_RESULTS, Action.EXPORT):
            raise Http404
        actor = _actor(request)
        name = f"maeul-{row.grant.site.slug if row.grant.site else site_id}-{matrix.until.isoformat()}.{fmt}"
        if fmt == "pdf":
            response = HttpResponse(exports.pdf(actor, report, request), content_type="application/pdf")
        else:
            response = HttpResponse(exports.xlsx(actor, report), content_type=exports.XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "programme/site_report.html", {"report": report, "printable": False})

"""Screening pages: the outreach list with explanations, a household's entry (assign, record the result, link to the
register, rights requests), runs with their quarantine, model cards and approval, the national list. Thin: each view
calls ``screening.services`` and renders; refusals come back as messages on the page."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.people.errors import NotFound
from maeul.screening import services
from maeul.screening.catalogue import INDICATORS, SOURCES
from maeul.screening.models import Method, OutreachStatus, Result, ReviewKind, ReviewStatus
from maeul.screening.problems import Problem


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "screening/not_found.html", status=404)


def _refused(request: HttpRequest, exc: services.ScreeningError) -> None:
    messages.error(request, exc.message)


@requires(Resource.SCREENING, Action.VIEW)
def outreach_list(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    area = request.GET.get("area", "")
    status = request.GET.get("status", "")
    rows = services.outreach_list(_actor(request), area_code=area, status=status)
    run = services.latest_run(principal)
    return render(
        request,
        "screening/list.html",
        {
            "rows": rows,
            "run": run,
            "areas": services.areas_in_scope(principal),
            "area": area,
            "status": status,
            "statuses": OutreachStatus.choices,
            "pending_models": services.pending_models(principal),
            "model_in_use": services.model_in_use(principal.site_pk),
            "can_model": principal.can(Resource.SCREENING_MODEL, Action.VIEW),
            "can_runs": principal.can(Resource.SCREENING, Action.IMPORT),
        },
    )


@requires(Resource.SCREENING, Action.VIEW)
def candidate_detail(request: HttpRequest, candidate_id: int) -> HttpResponse:
    principal = request_principal(request)
    try:
        detail = services.read_candidate(_actor(request), candidate_id)
    except NotFound:
        return _not_found(request)
    return render(
        request,
        "screening/candidate.html",
        {
            "d": detail,
            "can_change": principal.can(Resource.SCREENING, Action.CHANGE),
            "is_official": principal.role != "helper",
            "results": Result.choices,
            "methods": Method.choices,
            "kinds": ReviewKind.choices,
            "people": services.assignable_people(principal) if principal.role != "helper" else [],
            "reviews": [(r, services.review_texts(r)) for r in detail.reviews],
        },
    )


@require_POST
@requires(Resource.SCREENING, Action.CHANGE)
def candidate_assign(request: HttpRequest, candidate_id: int) -> HttpResponse:
    raw = request.POST.get("assigned_to", "")
    try:
        services.assign(
            _actor(request), candidate_id, int(raw) if raw.isdigit() else None, request.POST.get("method", "visit")
        )
        messages.success(request, _("Assigned."))
    except NotFound:
        return _not_found(request)
    except services.ScreeningError as exc:
        _refused(request, exc)
    return redirect("screening_candidate", candidate_id)


@require_POST
@requires(Resource.SCREENING, Action.CHANGE)
def candidate_result(request: HttpRequest, candidate_id: int) -> HttpResponse:
    try:
        outcome = services.record_result(
            _actor(request), candidate_id, request.POST.get("result", ""), request.POST.get("note", "")
        )
    except NotFound:
        return _not_found(request)
    except services.ScreeningError as exc:
        _refused(request, exc)
        return redirect("screening_candidate", candidate_id)
    if outcome.case_id:
        messages.success(request, _("Result recorded; a welfare case was opened."))
    elif outcome.verification_task_id:
        messages.success(request, _("Result recorded; an address or contact check was opened."))
    elif outcome.needs_household:
        messages.warning(
            request,
            _("Result recorded. Link this household to the register (its H-number) to open a case or a check."),
        )
    else:
        messages.success(request, _("Result recorded."))
    return redirect("screening_candidate", candidate_id)


@require_POST
@requires(Resource.SCREENING, Action.CHANGE)
def candidate_link(request: HttpRequest, candidate_id: int) -> HttpResponse:
    try:
        services.link_household(_actor(request), candidate_id, request.POST.get("reference", ""))
        messages.success(request, _("Linked to the household."))
    except NotFound:
        return _not_found(request)
    except services.ScreeningError as exc:
        _refused(request, exc)
    return redirect("screening_candidate", candidate_id)


@require_POST
@requires(Resource.SCREENING, Action.CHANGE)
def candidate_review(request: HttpRequest, candidate_id: int) -> HttpResponse:
    try:
        received = date.fromisoformat(request.POST["received_on"]) if request.POST.get("received_on") else None
    except ValueError:
        messages.error(request, _("Enter the date as YYYY-MM-DD."))
        return redirect("screening_candidate", candidate_id)
    try:
        services.request_review(
            _actor(request),
            candidate_id,
            kind=request.POST.get("kind", ""),
            channel=request.POST.get("channel", ""),
            request=request.POST.get("request", ""),
            received_on=received,
        )
        messages.success(request, _("Request recorded; the explanation given is kept with it."))
    except NotFound:
        return _not_found(request)
    except services.ScreeningError as exc:
        _refused(request, exc)
    return redirect("screening_candidate", candidate_id)


@requires(Resource.SCREENING, Action.VIEW)
def review_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", ReviewStatus.OPEN)
    items = services.reviews(request_principal(request), status)
    return render(
        request,
        "screening/reviews.html",
        {"items": items, "status": status, "statuses": ReviewStatus.choices, "today": date.today()},
    )


@require_POST
@requires(Resource.SCREENING, Action.CHANGE)
def review_answer(request: HttpRequest, review_id: int) -> HttpResponse:
    try:
        review = services.answer_review(_actor(request), review_id, request.POST.get("answer", ""))
        messages.success(request, _("Answer recorded."))
        return redirect("screening_candidate", review.candidate_id)
    except NotFound:
        return _not_found(request)
    except services.ScreeningError as exc:
        _refused(request, exc)
    return redirect("screening_reviews")


@requires(Resource.SCREENING, Action.IMPORT)
def run_list(request: HttpRequest) -> HttpResponse:
    return render(request, "screening/runs.html", {"runs": services.runs(request_principal(request))})


@requires(Resource.SCREENING, Action.IMPORT)
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    try:
        run, quarantine = services.read_run(request_principal(request), run_id)
    except NotFound:
        return _not_found(request)
    return render(request, "screening/run.html", {"run": run, "quarantine": quarantine})


@requires(Resource.SCREENING_MODEL, Action.VIEW)
def model_list(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    return render(
        request,
        "screening/models.html",
        {"versions": services.model_versions(principal), "indicators": INDICATORS, "sources": SOURCES},
    )


@requires(Resource.SCREENING_MODEL, Action.VIEW)
def model_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    principal = request_principal(request)
    try:
        version = services.read_model(principal, version_id)
    except NotFound:
        return _not_found(request)
    report = version.evaluation
    return render(
        request,
        "screening/model.html",
        {
            "version": version,
            "report": report,
            "subgroups": report.get("subgroups", []),
            "can_decide": principal.can(Resource.SCREENING_MODEL, Action.CHANGE),
        },
    )


@require_POST
@requires(Resource.SCREENING_MODEL, Action.CHANGE)
def model_decide(request: HttpRequest, version_id: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    try:
        services.decide_model(_actor(request), version_id, approve=approve, note=request.POST.get("note", ""))
        messages.success(request, _("Model approved: it ranks from the next run.") if approve else _("Model rejected."))
    except NotFound:
        return _not_found(request)
    except services.ScreeningError as exc:
        _refused(request, exc)
    return redirect("screening_model", version_id)


@requires(Resource.SCREENING, Action.IMPORT)
def national_list(request: HttpRequest) -> HttpResponse:
    problems: list[Problem] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose the CSV file of the national list."))
        else:
            try:
                result = services.import_national_list(_actor(request), upload.read(), upload.name or "list.csv")
                messages.success(
                    request,
                    _("%(created)s imported, %(skipped)s imported before, %(linked)s matched to listed households.")
                    % {"created": result.created, "skipped": result.already_imported, "linked": result.linked},
                )
                return redirect("screening_national")
            except services.NationalListRejected as exc:
                problems = exc.problems
                messages.error(request, _("Nothing was imported: correct the rows below and upload the file again."))
    return render(
        request,
        "screening/national.html",
        {"rounds": services.flagged_rounds(request_principal(request)), "problems": problems[:500],
         "more": max(0, len(problems) - 500)},
    )  # fmt: skip


@requires(Resource.SCREENING, Action.EXPORT)
def national_results(request: HttpRequest, round_code: str) -> HttpResponse:
    try:
        text, _count = services.export_national_results(_actor(request), round_code, request.GET.get("reason", ""))
    except services.ScreeningError as exc:
        _refused(request, exc)
        return redirect("screening_national")
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="screening-results-{round_code}.csv"'
    return response

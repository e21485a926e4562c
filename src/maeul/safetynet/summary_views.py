"""Summaries across the safety net: the report page with its plots and CSV/XLSX downloads, and a household's
timeline."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.people.errors import NotFound, RegistryError
from maeul.safetynet import reports, timeline

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BAR_WIDTH = 220.0  # pixels for 100 %


@dataclass(frozen=True)
class RateBar:
    label: str
    value: float | None
    width: float


@dataclass(frozen=True)
class AreaBars:
    name: str
    bars: list[RateBar]


@dataclass(frozen=True)
class MonthColumn:
    label: str
    x: float
    opened_height: float
    closed_height: float
    opened: int
    closed: int


def _rate_bars(report: reports.Report) -> list[AreaBars]:
    def bar(label: str, value: float | None) -> RateBar:
        return RateBar(label, value, BAR_WIDTH * (value or 0) / 100)

    return [
        AreaBars(
            row.name,
            [
                bar(_("Coverage"), row.coverage_rate),
                bar(_("On time"), row.on_time_rate),
                bar(_("Accepted"), row.acceptance_rate),
            ],
        )
        for row in [*report.rows, report.total]
    ]


def _month_columns(report: reports.Report, height: float = 120) -> list[MonthColumn]:
    peak = max([m.opened for m in report.months] + [m.closed for m in report.months] + [1])
    return [
        MonthColumn(
            m.label,
            20 + i * 44,
            height * m.opened / peak,
            height * m.closed / peak,
            m.opened,
            m.closed,
        )
        for i, m in enumerate(report.months)
    ]


@requires(Resource.WELFARE_REPORT, Action.VIEW)
def safety_net_report(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    try:
        period = reports.Period.parse(request.GET.get("start"), request.GET.get("end"))
    except RegistryError as exc:
        messages.error(request, exc.message)
        period = reports.Period.parse(None, None)
    report = reports.build(principal, period)
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx"):
        if not principal.can(Resource.WELFARE_REPORT, Action.EXPORT):
            raise Http404
        actor = Actor.from_request(request, principal)
        name = f"safety-net-{period.start.isoformat()}-{period.end.isoformat()}.{fmt}"
        if fmt == "csv":
            response = HttpResponse(reports.export_csv(actor, report), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(reports.export_xlsx(actor, report), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    columns = _month_columns(report)
    return render(
        request,
        "safetynet/reports/safety_net.html",
        {
            "report": report,
            "rate_bars": _rate_bars(report),
            "bar_width": BAR_WIDTH,
            "month_columns": columns,
            "months_width": 40 + 44 * len(columns),
            "can_export": principal.can(Resource.WELFARE_REPORT, Action.EXPORT),
        },
    )


@requires(Resource.HOUSEHOLD, Action.VIEW)
def household_timeline(request: HttpRequest, household_id: int) -> HttpResponse:
    """The household page loads this section with htmx; opened directly it is a page of its own."""
    actor = Actor.from_request(request, request_principal(request))
    try:
        entries = timeline.household_timeline(actor, household_id)
    except NotFound as exc:
        raise Http404 from exc
    template = "safetynet/_timeline.html" if request.headers.get("HX-Request") else "safetynet/timeline.html"
    return render(request, template, {"entries": entries, "household_id": household_id})

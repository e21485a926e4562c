"""A site's programme report — KPIs against the baseline, budget versus spending, quarterly reports — as a page,
a PDF (WeasyPrint: HTML and CSS through Pango, so Korean is set in Noto Sans CJK KR) and an XLSX workbook.

The figures are the site's row of the national matrix, suppressed exactly as the dashboard shows them. Every
download is written to the access record.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.programme import charts, services
from maeul.programme.models import BudgetCategory, Grant
from maeul.programme.results import Cell, Matrix, SiteRow, State, state_label

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class SiteReport:
    matrix: Matrix
    row: SiteRow
    grant: Grant
    cells: list[Cell]
    lines: list[services.LineStatus]
    quarters: list[services.QuarterStatus]
    plots: list[charts.Plot]

    @classmethod
    def of(cls, matrix: Matrix, row: SiteRow) -> SiteReport:
        return cls(
            matrix=matrix,
            row=row,
            grant=row.grant,
            cells=[row.cells[d.code] for d in matrix.definitions],
            lines=services.budget_status(row.grant),
            quarters=services.quarters(row.grant),
            plots=charts.plots(matrix, row.grant.site_id),
        )

    @property
    def national_spent(self) -> int:
        return sum(line.national_spent_krw for line in self.lines)

    @property
    def local_spent(self) -> int:
        return sum(line.local_spent_krw for line in self.lines)


def _shown(cell_value: float | None, state: State) -> str | float:
    return cell_value if state == State.SHOWN and cell_value is not None else state_label(state) or "—"


def pdf(actor: Actor, report: SiteReport, request: HttpRequest) -> bytes:
    from weasyprint import HTML

    html = render_to_string("programme/site_report_print.html", {"report": report, "printable": True}, request=request)
    document: bytes = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    _log(actor, report, "pdf")
    return document


def xlsx(actor: Actor, report: SiteReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("KPIs")
    site = report.grant.site
    sheet.append([site.name if site else "", report.grant.application.reference])
    sheet.append([_("Results from"), report.row.since.isoformat(), _("to"), report.row.until.isoformat()])
    sheet.append([])
    sheet.append([_("KPI"), _("Unit"), _("Baseline"), _("Now"), _("Change"), _("Source")])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for cell in report.cells:
        definition = cell.definition
        unit = str(definition.unit) + (f" / {30} {_('days')}" if definition.kind == "count" else "")
        sheet.append(
            [
                str(definition.label),
                unit,
                _shown(cell.baseline.value, cell.baseline.state),
                _shown(cell.current.value, cell.current.state),
                cell.change if cell.change is not None else "",
                definition.source,
            ]
        )
    budget = book.create_sheet(_("Budget"))
    budget.append(
        [_("Category"), _("Line"), _("National budget"), _("National spent"), _("Local budget"), _("Local spent")]
    )
    for line in report.lines:
        budget.append(
            [
                str(BudgetCategory(line.category).label),
                line.description,
                line.national_budget_krw,
                line.national_spent_krw,
                line.local_budget_krw,
                line.local_spent_krw,
            ]
        )
    reports = book.create_sheet(_("Quarterly reports"))
    reports.append([_("Quarter"), _("Due"), _("Submitted"), _("Progress")])
    for quarter in report.quarters:
        reports.append(
            [
                f"{quarter.year} Q{quarter.quarter}",
                quarter.due_on.isoformat(),
                quarter.report.submitted_at.date().isoformat() if quarter.report else "",
                quarter.report.progress if quarter.report else (_("overdue") if quarter.overdue else ""),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    _log(actor, report, "xlsx")
    return out.getvalue()


def _log(actor: Actor, report: SiteReport, fmt: str) -> None:
    audit.log(
        actor,
        AuditAction.EXPORT,
        "programme_site_report",
        object_id=report.grant.site_id or "",
        site_id=report.grant.site_id,
        reason=fmt,
    )

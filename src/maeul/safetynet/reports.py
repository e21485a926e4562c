"""Safety-net and welfare figures per area and site: households covered by a helper, check-ins on time, cases
opened and closed, referral acceptance and time to service.

Every figure is counted in the database from the records the other services write (never typed in), for the
areas the principal may see. The figures are aggregates; exporting them is still audit-logged, as every export.
"""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.areas.models import Area
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.people.errors import RegistryError
from maeul.people.models import Household, HouseholdStatus
from maeul.safetynet.models import AssignmentRole, CheckIn, CheckInSchedule
from maeul.welfare.models import Case, Referral

# Households the safety net is meant to cover: still living at home and registered for care.
COVERED_STATUSES = (HouseholdStatus.ACTIVE, HouseholdStatus.IN_HOSPITAL)
MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @classmethod
    def parse(cls, start: str | None, end: str | None, today: date | None = None) -> Period:
        """From ``YYYY-MM-DD`` strings; the last 90 days by default."""
        today = today or timezone.localdate()
        try:
            last = date.fromisoformat(end) if end else today
            first = date.fromisoformat(start) if start else last - timedelta(days=89)
        except ValueError as exc:
            raise RegistryError("start", "period", _("Dates must be written as YYYY-MM-DD.")) from exc
        if first > last:
            raise RegistryError("start", "period", _("The period must start on or before its end."))
        if (last - first).days > MAX_PERIOD_DAYS:
            raise RegistryError("start", "period", _("A report covers at most three years."))
        return cls(first, last)

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))


@dataclass
class Figures:
    """One row of the report: an area, or the whole of what the principal sees."""

    code: str
    name: str
    households: int = 0
    covered: int = 0
    check_ins: int = 0
    check_ins_scheduled: int = 0
    check_ins_on_time: int = 0
    overdue_now: int = 0
    cases_opened: int = 0
    cases_closed: int = 0
    cases_open_now: int = 0
    referrals_sent: int = 0
    referrals_answered: int = 0
    referrals_accepted: int = 0
    referrals_delivered: int = 0
    days_to_service: list[float] = field(default_factory=list)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def coverage_rate(self) -> float | None:
        return self._rate(self.covered, self.households)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.check_ins_on_time, self.check_ins_scheduled)

    @property
    def acceptance_rate(self) -> float | None:
        return self._rate(self.referrals_accepted, self.referrals_answered)

    @property
    def median_days_to_service(self) -> float | None:
        return round(statistics.median(self.days_to_service), 1) if self.days_to_service else None

    def add(self, other: Figures) -> None:
        for name in (
            "households",
            "covered",
            "check_ins",
            "check_ins_scheduled",
            "check_ins_on_time",
            "overdue_now",
            "cases_opened",
            "cases_closed",
            "cases_open_now",
            "referrals_sent",
            "referrals_answered",
            "referrals_accepted",
            "referrals_delivered",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.days_to_service.extend(other.days_to_service)


@dataclass(frozen=True)
class Month:
    label: str  # YYYY-MM
    opened: int
    closed: int
    check_ins: int


@dataclass(frozen=True)
class Report:
    period: Period
    rows: list[Figures]
    total: Figures
    months: list[Month]


def _area_codes(principal: Principal) -> list[str]:
    scope = principal.scope(Resource.WELFARE_REPORT, Action.VIEW)
    if scope is None or principal.site_id is None:
        return []
    areas = Area.objects.filter(member_of_sites__pk=principal.site_id, abolished=False)
    if scope == Scope.AREA:
        areas = areas.filter(code__in=principal.area_codes)
    elif scope != Scope.SITE:
        return []
    return list(areas.order_by("code").values_list("code", flat=True))


def _by_area(qs: QuerySet[Any], area_field: str) -> dict[str, int]:
    return {row[area_field]: row["n"] for row in qs.values(area_field).annotate(n=Count("pk")).order_by()}


def _months(period: Period) -> list[tuple[date, date]]:
    out = []
    cursor = period.start.replace(day=1)
    while cursor <= period.end:
        following = (cursor + timedelta(days=32)).replace(day=1)
        out.append((max(cursor, period.start), min(following - timedelta(days=1), period.end)))
        cursor = following
    return out


def build(principal: Principal, period: Period, today: date | None = None) -> Report:
    """The figures per area in the principal's scope, their total, and cases and check-ins per month."""
    codes = _area_codes(principal)
    names = dict(Area.objects.filter(code__in=codes).values_list("code", "name"))
    rows = {code: Figures(code, names.get(code, code)) for code in codes}
    today = today or timezone.localdate()
    site_id = principal.site_pk if codes else 0
    since, until = period.since, period.until

    households = Household.objects.filter(
        site_id=site_id, area_id__in=codes, destroyed_at=None, processing_stopped=False, status__in=COVERED_STATUSES
    )
    covered = households.filter(
        helper_assignments__role=AssignmentRole.PRIMARY, helper_assignments__ended_at=None
    ).distinct()
    check_ins = CheckIn.objects.filter(
        household__site_id=site_id, household__area_id__in=codes, occurred_at__gte=since, occurred_at__lt=until
    )
    scheduled = check_ins.exclude(due_on=None)
    on_time = [c for c in scheduled.values_list("household__area_id", "occurred_at", "due_on") if _on_time(c[1], c[2])]
    overdue = CheckInSchedule.objects.filter(
        active=True, household__site_id=site_id, household__area_id__in=codes, next_due_on__lt=today
    )
    cases = Case.objects.filter(site_id=site_id, area_id__in=codes)
    referrals = Referral.objects.filter(case__site_id=site_id, case__area_id__in=codes)
    sent = referrals.filter(sent_at__gte=since, sent_at__lt=until)
    answered = sent.filter(Q(accepted_at__isnull=False) | Q(declined_at__isnull=False))

    counts = {
        "households": _by_area(households, "area_id"),
        "covered": _by_area(covered, "area_id"),
        "check_ins": _by_area(check_ins, "household__area_id"),
        "check_ins_scheduled": _by_area(scheduled, "household__area_id"),
        "overdue_now": _by_area(overdue, "household__area_id"),
        "cases_opened": _by_area(cases.filter(opened_at__gte=since, opened_at__lt=until), "area_id"),
        "cases_closed": _by_area(cases.filter(closed_at__gte=since, closed_at__lt=until), "area_id"),
        "cases_open_now": _by_area(cases.filter(closed_at=None), "area_id"),
        "referrals_sent": _by_area(sent, "case__area_id"),
        "referrals_answered": _by_area(answered, "case__area_id"),
        "referrals_accepted": _by_area(answered.exclude(accepted_at=None), "case__area_id"),
        "referrals_delivered": _by_area(sent.exclude(delivered_at=None), "case__area_id"),
    }
    for name, per_area in counts.items():
        for code, n in per_area.items():
            if code in rows:
                setattr(rows[code], name, n)
    for code, _occurred, _due in on_time:
        rows[code].check_ins_on_time += 1
    delivered = referrals.filter(delivered_at__gte=since, delivered_at__lt=until)
    for code, sent_at, delivered_at in delivered.values_list("case__area_id", "sent_at", "delivered_at"):
        assert delivered_at is not None  # filtered above
        rows[code].days_to_service.append((delivered_at - sent_at).total_seconds() / 86400)

    total = Figures("", _("All areas"))
    for row in rows.values():
        total.add(row)
    months = []
    for first, last in _months(period):
        start = timezone.make_aware(datetime.combine(first, time.min))
        end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
        months.append(
            Month(
                label=first.strftime("%Y-%m"),
                opened=cases.filter(opened_at__gte=start, opened_at__lt=end).count(),
                closed=cases.filter(closed_at__gte=start, closed_at__lt=end).count(),
                check_ins=check_ins.filter(occurred_at__gte=start, occurred_at__lt=end).count(),
            )
        )
    return Report(period, list(rows.values()), total, months)


def _on_time(occurred_at: datetime, due_on: date | None) -> bool:
    return due_on is not None and timezone.localtime(occurred_at).date() <= due_on


def _cell(value: float | None) -> str | float:
    return "" if value is None else value


def columns() -> list[str]:
    return [
        _("Area code"),
        _("Area"),
        _("Households"),
        _("With a primary helper"),
        _("Coverage (%)"),
        _("Check-ins"),
        _("Scheduled check-ins"),
        _("On time"),
        _("On time (%)"),
        _("Schedules overdue now"),
        _("Cases opened"),
        _("Cases closed"),
        _("Cases open now"),
        _("Referrals sent"),
        _("Referrals answered"),
        _("Referrals accepted"),
        _("Acceptance (%)"),
        _("Services delivered"),
        _("Median days to service"),
    ]


def _values(row: Figures) -> list[str | float | int]:
    return [
        row.code,
        row.name,
        row.households,
        row.covered,
        _cell(row.coverage_rate),
        row.check_ins,
        row.check_ins_scheduled,
        row.check_ins_on_time,
        _cell(row.on_time_rate),
        row.overdue_now,
        row.cases_opened,
        row.cases_closed,
        row.cases_open_now,
        row.referrals_sent,
        row.referrals_answered,
        row.referrals_accepted,
        _cell(row.acceptance_rate),
        row.referrals_delivered,
        _cell(row.median_days_to_service),
    ]


def table(report: Report) -> list[list[str | float | int]]:
    return [_values(row) for row in [*report.rows, report.total]]


def _log_export(actor: Actor, report: Report, fmt: str) -> None:
    audit.log(
        actor,
        AuditAction.EXPORT,
        "welfare_report",
        site_id=actor.principal.site_id,
        record_count=len(report.rows),
        reason=f"{fmt} {report.period.start.isoformat()}..{report.period.end.isoformat()}",
    )


def export_csv(actor: Actor, report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns())
    writer.writerows(table(report))
    _log_export(actor, report, "csv")
    return "\ufeff" + out.getvalue()  # a BOM so Excel opens Korean text as UTF-8


def export_xlsx(actor: Actor, report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("By area")[:31]
    sheet.append([_("Period"), f"{report.period.start.isoformat()} – {report.period.end.isoformat()}"])
    sheet.append([])
    sheet.append(columns())
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for values in table(report):
        sheet.append(values)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    monthly = book.create_sheet(_("By month")[:31])
    monthly.append([_("Month"), _("Cases opened"), _("Cases closed"), _("Check-ins")])
    for month in report.months:
        monthly.append([month.label, month.opened, month.closed, month.check_ins])
    out = io.BytesIO()
    book.save(out)
    _log_export(actor, report, "xlsx")
    return out.getvalue()

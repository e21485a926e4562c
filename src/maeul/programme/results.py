"""Sites' results for the ministry: every figure computed through the KPI registry, compared with the site's
baseline, and passed through disclosure control (``maeul.protection.disclosure``) before anyone sees it.

One matrix (sites × KPIs) is built for a call's sites and period, with primary and secondary suppression across
its columns; the national dashboard shows all of it and a site's report shows its own row of the *same* matrix, so
a cell hidden in one view cannot be read in another.

Flows (events in a period) are compared per 30 days, since a site's result period (launch to today) and its
baseline window differ in length; stocks, shares and medians are compared as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext as _

from maeul.programme import kpis
from maeul.programme.kpis import Better, Figures, Kind, KpiDefinition
from maeul.programme.models import Baseline, Call, Grant
from maeul.programme.services import baselines_of, programme_sites
from maeul.protection import disclosure

PER_DAYS = 30


class State(StrEnum):
    SHOWN = "shown"
    SUPPRESSED = "suppressed"  # a small count, or hidden so that one cannot be recovered
    NO_DATA = "no_data"  # nothing to compute from (e.g. no alert was resolved)
    NOT_MEASURED = "not_measured"  # no baseline was measured
    NOT_APPLICABLE = "not_applicable"  # the KPI does not apply to the site's programme type


@dataclass
class Measure:
    """One figure before disclosure control: the value as shown (per 30 days for a flow, % for a share), and the
    counts suppression is judged on."""

    value: float | None
    count: int | None = None  # a flow's or stock's count
    base: int | None = None  # a share's or median's base
    part: int | None = None  # a share's part
    state: State = State.SHOWN


@dataclass
class Cell:
    definition: KpiDefinition
    current: Measure
    baseline: Measure

    @property
    def change(self) -> float | None:
        if self.current.state != State.SHOWN or self.baseline.state != State.SHOWN:
            return None
        if self.current.value is None or self.baseline.value is None:
            return None
        return round(self.current.value - self.baseline.value, 2)

    @property
    def improved(self) -> bool | None:
        change = self.change
        if change is None or change == 0 or self.definition.better == Better.NEITHER:
            return None
        return (change > 0) == (self.definition.better == Better.HIGHER)


@dataclass
class SiteRow:
    grant: Grant
    since: date
    until: date  # exclusive
    cells: dict[str, Cell] = field(default_factory=dict)
    raw: dict[str, Measure] = field(default_factory=dict)  # before suppression: for secondary suppression only
    ordered: list[Cell] = field(default_factory=list)  # the cells in the registry's order, for tables

    @property
    def site_name(self) -> str:
        return self.grant.site.name if self.grant.site else ""


@dataclass
class Total:
    value: float | None
    state: State


@dataclass
class Matrix:
    call: Call | None
    until: date
    definitions: list[KpiDefinition]
    rows: list[SiteRow]
    totals: dict[str, Total]

    @property
    def last_day(self) -> date:
        return self.until - timedelta(days=1)

    @property
    def total_cells(self) -> list[tuple[KpiDefinition, Total]]:
        return [(d, self.totals[d.code]) for d in self.definitions]


def _measure(definition: KpiDefinition, values: Figures, days: int) -> Measure:
    raw = values.get(definition.key)
    if definition.kind in (Kind.COUNT, Kind.STOCK):
        if raw is None:
            return Measure(None, state=State.NO_DATA)
        count = int(raw)
        if definition.kind == Kind.COUNT:
            return Measure(round(count * PER_DAYS / max(days, 1), 1), count=count)
        return Measure(float(count), count=count)
    base = values.get(definition.base_key)
    base_count = int(base) if base is not None else None
    if raw is None or not base_count:
        return Measure(None, base=base_count, state=State.NO_DATA)
    if definition.kind == Kind.SHARE:
        part = round(float(raw) * base_count)
        return Measure(round(100 * float(raw), 1), base=base_count, part=part)
    return Measure(round(float(raw), 1), base=base_count)


def _primary(measure: Measure, definition: KpiDefinition) -> Measure:
    if measure.state != State.SHOWN:
        return measure
    hide = False
    if definition.kind in (Kind.COUNT, Kind.STOCK):
        hide = disclosure.is_small(measure.count)
    elif definition.kind == Kind.SHARE:
        hide = disclosure.share_disclosive(measure.part, measure.base)
    else:
        hide = measure.base is None or measure.base < disclosure.THRESHOLD
    if hide:
        return Measure(None, state=State.SUPPRESSED)
    return measure


def _baseline_measure(definition: KpiDefinition, baseline: Baseline | None) -> Measure:
    if baseline is None:
        return Measure(None, state=State.NOT_MEASURED)
    days = (baseline.until - baseline.since).days
    values: Figures = {definition.key: baseline.value}
    if definition.base_key:
        values[definition.base_key] = baseline.base
    return _primary(_measure(definition, values, days), definition)


def build(call: Call | None = None, until: date | None = None) -> Matrix:
    """The matrix for a call's sites (the latest call with running grants by default), results from each site's
    launch to ``until`` (exclusive; tomorrow by default, so today counts)."""
    until = until or timezone.localdate() + timedelta(days=1)
    grants = programme_sites(call)
    call = call or (grants[0].application.call if grants else None)
    definitions = list(kpis.REGISTRY)
    baselines = baselines_of(g.site_id for g in grants if g.site_id is not None)
    rows = []
    for grant in grants:
        assert grant.site is not None
        since = grant.launch_date or until
        row = SiteRow(grant, since, until)
        figures = kpis.figures(grant.site.pk, since, until) if since < until else {}
        days = (until - since).days
        for definition in definitions:
            if grant.site.programme_type not in definition.types:
                na = Measure(None, state=State.NOT_APPLICABLE)
                row.cells[definition.code] = Cell(definition, na, Measure(None, state=State.NOT_APPLICABLE))
                continue
            values = figures.get(definition.source, {})
            measured = _measure(definition, values, days) if values else Measure(None, state=State.NO_DATA)
            row.raw[definition.code] = measured
            current = _primary(measured, definition)
            row.cells[definition.code] = Cell(
                definition, current, _baseline_measure(definition, baselines.get((grant.site.pk, definition.code)))
            )
        rows.append(row)
    totals = {d.code: _secondary(d, rows) for d in definitions}
    for row in rows:
        row.ordered = [row.cells[d.code] for d in definitions]
    return Matrix(call, until, definitions, rows, totals)


def _secondary(definition: KpiDefinition, rows: list[SiteRow]) -> Total:
    """Hide further cells of a column so none hidden can be recovered from the national figure, and compute that
    figure: a sum for counts, the pooled share for shares; medians do not pool, so they have none."""
    if definition.kind == Kind.MEDIAN:
        return Total(None, State.NO_DATA)
    # The raw figures, before primary suppression, are what a reader could subtract from the total.
    # Keyed by site, so every build hides the same cells (a view must not show what another one hides).
    raw = {
        row.grant.site_id or 0: row
        for row in rows
        if definition.code in row.raw and row.raw[definition.code].state == State.SHOWN
    }
    if not raw:
        return Total(None, State.NO_DATA)
    figures = {key: _raw(definition, row.raw[definition.code]) for key, row in raw.items()}
    if definition.kind in (Kind.COUNT, Kind.STOCK):
        hidden, total_hidden = disclosure.hidden_cells({k: f[0] for k, f in figures.items()})
        total_value: float | None = float(sum(f[0] or 0 for f in figures.values()))
    else:
        parts = {k: f[0] for k, f in figures.items()}
        rests = {k: (f[1] or 0) - (f[0] or 0) for k, f in figures.items()}
        hidden_parts, hide_a = disclosure.hidden_cells(parts)
        hidden_rests, hide_b = disclosure.hidden_cells(rests)
        hidden, total_hidden = hidden_parts | hidden_rests, hide_a or hide_b
        whole = sum(f[1] or 0 for f in figures.values())
        part = sum(f[0] or 0 for f in figures.values())
        total_value = round(100 * part / whole, 1) if whole else None
        total_hidden = total_hidden or disclosure.share_disclosive(part, whole)
    for key in hidden:
        cell = raw[key].cells[definition.code]
        cell.current = Measure(None, state=State.SUPPRESSED)
    if total_hidden:
        return Total(None, State.SUPPRESSED)
    return Total(total_value, State.SHOWN if total_value is not None else State.NO_DATA)


def _raw(definition: KpiDefinition, measure: Measure) -> tuple[int | None, int | None]:
    """(count or part, base) of a figure before suppression."""
    if definition.kind in (Kind.COUNT, Kind.STOCK):
        return measure.count, None
    return measure.part, measure.base


def row_for(matrix: Matrix, site_id: int) -> SiteRow | None:
    return next((row for row in matrix.rows if row.grant.site_id == site_id), None)


def state_label(state: State) -> str:
    return {
        State.SHOWN: "",
        State.SUPPRESSED: _("hidden (small count)"),
        State.NO_DATA: _("no data"),
        State.NOT_MEASURED: _("not measured"),
        State.NOT_APPLICABLE: _("not applicable"),
    }[state]

"""Plots of the dashboard and the site report, as numbers an inline SVG template draws (no script, so they print
and go into the PDF as they are)."""

from __future__ import annotations

from dataclasses import dataclass

from maeul.programme.kpis import KpiDefinition
from maeul.programme.results import Matrix, State

WIDTH = 250.0  # pixels for the largest value
ROW = 40  # pixels per site


@dataclass(frozen=True)
class Bar:
    site: str
    y: int
    current: float | None
    current_width: float
    current_state: State
    baseline: float | None
    baseline_width: float
    baseline_state: State


@dataclass(frozen=True)
class Plot:
    definition: KpiDefinition
    bars: list[Bar]
    height: int


def plots(matrix: Matrix, site_id: int | None = None) -> list[Plot]:
    """One plot per KPI that has a figure to show: each site's current value against its baseline."""
    out = []
    for definition in matrix.definitions:
        rows = [r for r in matrix.rows if site_id is None or r.grant.site_id == site_id]
        cells = [(r.site_name, r.cells[definition.code]) for r in rows]
        values = [
            m.value
            for _name, cell in cells
            for m in (cell.current, cell.baseline)
            if m.state == State.SHOWN and m.value is not None
        ]
        if not values:
            continue
        peak = max(max(values), 1e-9)
        bars = []
        for n, (name, cell) in enumerate(cells):
            current = cell.current.value if cell.current.state == State.SHOWN else None
            baseline = cell.baseline.value if cell.baseline.state == State.SHOWN else None
            bars.append(
                Bar(
                    site=name.split()[-1] if name else "",  # the si/gun/gu's own name: 해운대구, 순천시
                    y=n * ROW,
                    current=current,
                    current_width=WIDTH * (current or 0) / peak,
                    current_state=cell.current.state,
                    baseline=baseline,
                    baseline_width=WIDTH * (baseline or 0) / peak,
                    baseline_state=cell.baseline.state,
                )
            )
        out.append(Plot(definition, bars, ROW * len(bars) + 8))
    return out

"""Pictures of a household's activity, as data for templates: hourly bars for an alert's evidence, a strip per
day, and a weekday × hour heat-map of the usual week. Server-rendered (SVG and CSS grids), no script needed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    count: int
    hour: datetime


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: float
    marker_x: float | None
    ticks: list[tuple[float, str]]
    peak: int


@dataclass(frozen=True)
class Cell:
    count: float
    level: int  # 0 (none) to 4 (busiest), for the colour
    title: str


def _hour(at: datetime) -> datetime:
    return timezone.localtime(at).replace(minute=0, second=0, microsecond=0)


def _level(count: float, peak: float) -> int:
    if count <= 0 or peak <= 0:
        return 0
    return min(4, 1 + int(3 * count / peak))


def activity_bars(
    hourly: dict[datetime, int], start: datetime, end: datetime, marker: datetime | None = None, height: float = 80
) -> BarChart:
    """One bar per hour from ``start`` to ``end`` (local time), with a marker at the alert."""
    counts = {_hour(k): v for k, v in hourly.items()}
    first = _hour(start)
    hours = max(1, int((end - first).total_seconds() // 3600) + 1)
    peak = max([counts.get(first + timedelta(hours=i), 0) for i in range(hours)] + [1])
    step = 10.0
    bars = []
    ticks = []
    for i in range(hours):
        hour = first + timedelta(hours=i)
        count = counts.get(hour, 0)
        # An empty hour still gets a thin bar, so "nothing" reads as measured silence, not missing data.
        bar = round(height * count / peak, 1) if count else 2.0
        bars.append(Bar(x=i * step, y=round(height - bar, 1), height=bar, count=count, hour=hour))
        if hour.hour % 6 == 0:
            ticks.append((i * step, hour.strftime("%m.%d") if hour.hour == 0 else hour.strftime("%H:00")))
    marker_x = None
    if marker is not None and first <= marker <= first + timedelta(hours=hours):
        marker_x = round((marker - first).total_seconds() / 3600 * step, 1)
    return BarChart(bars=bars, width=hours * step, marker_x=marker_x, ticks=ticks, peak=peak)


def day_strips(hourly: dict[datetime, int], first_day: datetime, days: int) -> list[tuple[datetime, list[Cell]]]:
    """A row of 24 hourly cells per day, oldest first: the timeline of the last days."""
    counts = {_hour(k): v for k, v in hourly.items()}
    peak = max(counts.values(), default=0)
    rows = []
    for d in range(days):
        day = _hour(first_day) + timedelta(days=d)
        cells = []
        for h in range(24):
            count = counts.get(day + timedelta(hours=h), 0)
            cells.append(Cell(count, _level(count, peak), f"{day:%m.%d} {h:02d}:00 — {count}"))
        rows.append((day, cells))
    return rows


def weekly_heatmap(hourly: dict[datetime, int], first_day: datetime, days: int) -> list[list[Cell]]:
    """Seven rows (Monday first) of 24 cells: the average activity at that weekday and hour over ``days`` days."""
    totals = [[0.0] * 24 for _ in range(7)]
    seen = [0] * 7
    start = _hour(first_day)
    for d in range(days):
        seen[(start + timedelta(days=d)).weekday()] += 1
    for at, count in hourly.items():
        local = _hour(at)
        if local >= start:
            totals[local.weekday()][local.hour] += count
    averages = [[totals[w][h] / seen[w] if seen[w] else 0.0 for h in range(24)] for w in range(7)]
    peak = max(max(row) for row in averages)
    return [
        [Cell(round(v, 1), _level(v, peak), f"{h:02d}:00 — {v:.1f}") for h, v in enumerate(row)] for row in averages
    ]

"""Normalisation, ranking and allocation: pure functions over scores, so the method can be read and tested apart.

**Normalisation** (ADR 0016). Experts differ in leniency and spread, and a conflicted expert does not score every
application, so raw totals are not comparable across applications.

- ``z_score`` (default): each expert's totals are turned into standard scores over the applications *that expert*
  scored, z = (total − expert's mean) / expert's standard deviation (0 when an expert gave everyone the same total).
  An application's score is the mean of its experts' z, put back on the 100-point scale with the mean and
  standard deviation of all raw totals (score = overall mean + overall sd × mean z), so it still reads as points.
- ``trimmed_mean``: the mean of the application's raw totals after dropping the highest and the lowest one (when it
  has at least three; otherwise the plain mean).

**Ranking**: by score, highest first. **Ties** (equal to 4 decimals) are broken by the mean raw points on the
call's highest-weighted criterion (the first of them in the rubric when several share the weight), then by the
earlier submission; each broken tie is noted on the result.

**Allocation**: ``score_bands`` gives the selected applications of each band of ranks the band's amount (never
more than requested); ``pro_rata`` gives each its request (capped per local government) scaled by one factor so
that the total fits the national total. Amounts are rounded down to 1,000 KRW, so neither cap is ever exceeded.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from maeul.programme.models import AllocationRule, Normalisation

ROUND_TO_KRW = 1_000


@dataclass(frozen=True)
class Sheet:
    expert_id: int
    application_id: int
    total: float
    tie_points: float  # points on the tie-break criterion


@dataclass(frozen=True)
class Ranked:
    application_id: int
    raw_mean: float
    score: float
    tie_break: float
    experts: int
    rank: int
    tie_note: str


def normalise(sheets: list[Sheet], method: str) -> dict[int, float]:
    by_application: dict[int, list[Sheet]] = defaultdict(list)
    for sheet in sheets:
        by_application[sheet.application_id].append(sheet)
    if method == Normalisation.TRIMMED_MEAN:
        out = {}
        for application_id, own in by_application.items():
            totals = sorted(s.total for s in own)
            kept = totals[1:-1] if len(totals) >= 3 else totals
            out[application_id] = statistics.fmean(kept)
        return out
    by_expert: dict[int, list[float]] = defaultdict(list)
    for sheet in sheets:
        by_expert[sheet.expert_id].append(sheet.total)
    moments = {
        expert: (statistics.fmean(totals), statistics.pstdev(totals) if len(totals) > 1 else 0.0)
        for expert, totals in by_expert.items()
    }
    all_totals = [s.total for s in sheets]
    overall_mean = statistics.fmean(all_totals)
    overall_sd = statistics.pstdev(all_totals) if len(all_totals) > 1 else 0.0
    out = {}
    for application_id, own in by_application.items():
        zs = []
        for sheet in own:
            mean, sd = moments[sheet.expert_id]
            zs.append((sheet.total - mean) / sd if sd > 0 else 0.0)
        out[application_id] = overall_mean + overall_sd * statistics.fmean(zs)
    return out


def rank(sheets: list[Sheet], method: str, submitted_at: dict[int, datetime]) -> list[Ranked]:
    scores = normalise(sheets, method)
    by_application: dict[int, list[Sheet]] = defaultdict(list)
    for sheet in sheets:
        by_application[sheet.application_id].append(sheet)
    tie_break = {a: statistics.fmean(s.tie_points for s in own) for a, own in by_application.items()}
    raw = {a: statistics.fmean(s.total for s in own) for a, own in by_application.items()}

    def key(application_id: int) -> tuple[float, float, datetime, int]:
        return (
            -round(scores[application_id], 4),
            -round(tie_break[application_id], 4),
            submitted_at[application_id],
            application_id,
        )

    ordered = sorted(scores, key=key)
    ranked = []
    for position, application_id in enumerate(ordered, start=1):
        note = ""
        neighbours = [ordered[i] for i in (position - 2, position) if 0 <= i < len(ordered)]
        for other in neighbours:
            if round(scores[other], 4) != round(scores[application_id], 4):
                continue
            if round(tie_break[other], 4) != round(tie_break[application_id], 4):
                note = "tie broken by the highest-weighted criterion"
            else:
                note = "tie broken by the earlier submission"
        ranked.append(
            Ranked(
                application_id=application_id,
                raw_mean=round(raw[application_id], 4),
                score=round(scores[application_id], 4),
                tie_break=round(tie_break[application_id], 4),
                experts=len(by_application[application_id]),
                rank=position,
                tie_note=note,
            )
        )
    return ranked


def _floor(amount: float) -> int:
    return int(amount // ROUND_TO_KRW) * ROUND_TO_KRW


def allocate(
    requests: list[tuple[int, int]],
    rule: str,
    cap_krw: int,
    total_krw: int,
    bands: list[tuple[int, int]],
) -> dict[int, int]:
    """Amounts for the selected applications, given as (application id, national request) in rank order.
    ``bands`` are (ranks, amount) from rank 1."""
    if rule == AllocationRule.SCORE_BANDS:
        amounts: dict[int, int] = {}
        band_of: list[int] = []
        for ranks, amount in bands:
            band_of.extend([amount] * ranks)
        for position, (application_id, requested) in enumerate(requests):
            band_amount = band_of[position] if position < len(band_of) else 0
            amounts[application_id] = _floor(min(requested, band_amount, cap_krw))
    else:
        capped = {application_id: min(requested, cap_krw) for application_id, requested in requests}
        asked = sum(capped.values())
        factor = min(1.0, total_krw / asked) if asked else 0.0
        amounts = {application_id: _floor(amount * factor) for application_id, amount in capped.items()}
    if sum(amounts.values()) > total_krw:
        raise ValueError("the allocation exceeds the national total")
    return amounts

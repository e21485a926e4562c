"""The KPI registry: every result the programme shows comes from a registered definition naming the function of
another app that computes it. Nothing is typed in.

Each source is ``programme_figures(site_id: int, since: date, until: date) -> dict[str, float | int | None]`` in
an app's ``services.py``, for ``since`` ≤ day < ``until``, answering counts, shares (0–1) and medians only — never a
person-level row. A definition names the key of its value in that dict and, for a share or a median, the key of
the count it was computed from (what small-count suppression is judged on).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Figures = dict[str, float | int | None]
Source = Callable[[int, date, date], Figures]


class Kind(StrEnum):
    COUNT = "count"  # events in the period (a flow), compared per 30 days
    STOCK = "stock"  # a count at the period's end
    SHARE = "share"  # part of a base count, 0–1, shown as a percentage
    MEDIAN = "median"  # the median of ``base`` observations


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    NEITHER = "neither"  # a workload figure: more is not better or worse by itself


@dataclass(frozen=True)
class KpiDefinition:
    code: str
    label: str | Promise
    kind: Kind
    unit: str | Promise
    source: str  # dotted path of the app function that computes it
    key: str
    base_key: str = ""
    better: Better = Better.HIGHER
    types: tuple[int, ...] = (1, 2)  # the programme types the KPI applies to

    def load(self) -> Source:
        module, _sep, name = self.source.rpartition(".")
        function: Source = getattr(importlib.import_module(module), name)
        return function


SAFETY = "maeul.safety.services.programme_figures"
WATCH = "maeul.watch.services.programme_figures"
SENSING = "maeul.sensing.services.programme_figures"
SAFETYNET = "maeul.safetynet.services.programme_figures"
DISASTER = "maeul.disaster.services.programme_figures"
SCREENING = "maeul.screening.services.programme_figures"

REGISTRY: tuple[KpiDefinition, ...] = (
    KpiDefinition("hazards_reported", _("Hazards reported"), Kind.COUNT, _("reports"), SAFETY, "hazards_reported"),
    KpiDefinition(
        "hazard_days_to_resolve",
        _("Median days to resolve a hazard"),
        Kind.MEDIAN,
        _("days"),
        SAFETY,
        "median_days_to_resolve",
        base_key="hazards_resolved",
        better=Better.LOWER,
    ),
    KpiDefinition("tasks_done", _("Improvement tasks done"), Kind.COUNT, _("tasks"), SAFETY, "tasks_done"),
    KpiDefinition(
        "households_monitored",
        _("Households monitored by sensors"),
        Kind.STOCK,
        _("households"),
        SENSING,
        "households_monitored",
        types=(2,),
    ),
    KpiDefinition(
        "alerts", _("Alerts about people"), Kind.COUNT, _("alerts"), WATCH, "alerts", better=Better.NEITHER, types=(2,)
    ),
    KpiDefinition(
        "alert_minutes_to_response",
        _("Median minutes to a human response"),
        Kind.MEDIAN,
        _("minutes"),
        WATCH,
        "median_minutes_to_response",
        base_key="alerts_taken",
        better=Better.LOWER,
        types=(2,),
    ),
    KpiDefinition(
        "false_alarm_rate",
        _("False-alarm rate"),
        Kind.SHARE,
        "%",
        WATCH,
        "false_alarm_share",
        base_key="alerts_resolved",
        better=Better.LOWER,
        types=(2,),
    ),
    KpiDefinition(
        "helper_coverage",
        _("Households with a helper"),
        Kind.SHARE,
        "%",
        SAFETYNET,
        "helper_coverage_share",
        base_key="households_for_care",
        types=(2,),
    ),
    KpiDefinition(
        "check_ins_on_time",
        _("Check-ins on time"),
        Kind.SHARE,
        "%",
        SAFETYNET,
        "check_ins_on_time_share",
        base_key="check_ins_due",
        types=(2,),
    ),
    KpiDefinition(
        "blind_spots_found",
        _("Blind-spot households found"),
        Kind.COUNT,
        _("households"),
        SCREENING,
        "blind_spot_households_found",
        types=(2,),
    ),
    KpiDefinition(
        "blind_spots_linked",
        _("Blind-spot households linked to support"),
        Kind.SHARE,
        "%",
        SCREENING,
        "share_linked_to_support",
        base_key="blind_spot_households_found",
        types=(2,),
    ),
    KpiDefinition(
        "roll_call_minutes",
        _("Median minutes to complete a disaster roll-call"),
        Kind.MEDIAN,
        _("minutes"),
        DISASTER,
        "median_roll_call_minutes",
        base_key="responses_completed",
        better=Better.LOWER,
    ),
    KpiDefinition(
        "roll_call_reached",
        _("Households reached in disaster roll-calls"),
        Kind.SHARE,
        "%",
        DISASTER,
        "share_reached",
        base_key="households_to_reach",
    ),
)

BY_CODE = {definition.code: definition for definition in REGISTRY}


def applicable(programme_type: int) -> list[KpiDefinition]:
    return [d for d in REGISTRY if programme_type in d.types]


def figures(site_id: int, since: date, until: date) -> dict[str, Figures]:
    """Every source's figures for one site, each source called once: source path → figures."""
    out: dict[str, Figures] = {}
    for definition in REGISTRY:
        if definition.source not in out:
            out[definition.source] = definition.load()(site_id, since, until)
    return out

"""One screening batch end to end — intake → features → scoring → ranking — and training with its evaluation.
Used by ``maeul screening``, by the services (which store what comes out) and by ``benchmarks/screening.py``."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from maeul.screening import model as risk
from maeul.screening import pipeline

LABELS = {"in_need": 1, "not_in_need": 0}  # "no_contact" and "wrong_address" say nothing about need


@dataclass
class BatchResult:
    data: pipeline.Intake
    features: pa.Table  # every roster household, ordered by key
    scored: pa.Table  # household_key, area_code, score, indicator_count
    ranked: pa.Table  # the outreach list: scored columns + rank, per area
    scorer: str  # "model" or "rule"
    timings: dict[str, float] = field(default_factory=dict)


def screen(
    con: Any,
    directory: Path,
    *,
    as_of: date,
    area_codes: Iterable[str],
    capacity_per_area: int,
    trained: risk.TrainedModel | None = None,
    exclude: Iterable[str] = (),
    signals: pa.Table | None = None,
    max_quarantine_share: float = 0.05,
) -> BatchResult:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    data = pipeline.intake(
        con, directory, as_of=as_of, area_codes=area_codes, max_quarantine_share=max_quarantine_share
    )
    timings["intake"] = time.perf_counter() - start
    start = time.perf_counter()
    features = pipeline.to_arrow(con, pipeline.features(con, data, as_of=as_of, signals=signals))
    timings["features"] = time.perf_counter() - start
    start = time.perf_counter()
    scores = trained.predict(risk.matrix(features)) if trained is not None else risk.rule_scores(features)
    scored = pa.table(
        {
            "household_key": features.column("household_key"),
            "area_code": features.column("area_code"),
            "score": pa.array(scores, pa.float64()),
            "indicator_count": features.column("indicator_count"),
        }
    )
    timings["scoring"] = time.perf_counter() - start
    start = time.perf_counter()
    ranked = pipeline.rank(con, scored, capacity_per_area=capacity_per_area, exclude=exclude)
    timings["ranking"] = time.perf_counter() - start
    return BatchResult(data, features, scored, ranked, "model" if trained else "rule", timings)


def read_outcomes(path: Path) -> pa.Table:
    """Past visits: household_key, selection (random or flagged/ranked), outcome."""
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={"household_key": pa.string()}))


@dataclass
class Labelled:
    x: np.ndarray
    y: np.ndarray
    keys: list[str]
    selection: list[str]
    rule: np.ndarray
    groups: dict[str, list[str]]


def labelled(features: pa.Table, outcomes: pa.Table) -> Labelled:
    """Features of the households with a recorded outcome that says something about need (the latest per key)."""
    usable = outcomes.filter(pc.is_in(outcomes.column("outcome"), value_set=pa.array(list(LABELS))))
    if "visited_on" in usable.column_names:
        usable = usable.sort_by([("household_key", "ascending"), ("visited_on", "descending")])
    keys_seen: set[str] = set()
    rows = []
    for key, sel, outcome in zip(
        usable.column("household_key").to_pylist(),
        usable.column("selection").to_pylist(),
        usable.column("outcome").to_pylist(),
        strict=True,
    ):
        if key not in keys_seen:
            keys_seen.add(key)
            rows.append((key, sel, LABELS[outcome]))
    latest = pa.table(
        {
            "household_key": pa.array([r[0] for r in rows], pa.string()),
            "selection": pa.array([r[1] for r in rows], pa.string()),
            "label": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
    joined = features.join(latest, "household_key", join_type="inner").sort_by("household_key")
    return Labelled(
        x=risk.matrix(joined),
        y=joined.column("label").to_numpy(),
        keys=joined.column("household_key").to_pylist(),
        selection=joined.column("selection").to_pylist(),
        rule=risk.rule_scores(joined),
        groups={
            "age_band": joined.column("age_band").to_pylist(),
            "sex": joined.column("sex").to_pylist(),
            "area": joined.column("area_code").to_pylist(),
        },
    )


@dataclass
class Training:
    trained: risk.TrainedModel | None
    report: dict[str, Any]
    train_rows: int
    train_in_need: int


def train_and_evaluate(features: pa.Table, outcomes: pa.Table, *, capacity_share: float, seed: int = 0) -> Training:
    """Train on every labelled visit except the held-out half of the random ones, and evaluate model and rule on
    that held-out half. Too few labels: no model, the report covers the rule alone."""
    data = labelled(features, outcomes)
    held_out = risk.holdout_mask(data.keys, data.selection)
    if held_out.sum() == 0:
        raise ValueError("no randomly chosen visits to evaluate on: record a few visits chosen at random")
    train_x, train_y = data.x[~held_out], data.y[~held_out]
    try:
        trained: risk.TrainedModel | None = risk.train(train_x, train_y, seed=seed)
    except ValueError:
        trained = None
    test_keys = [k for k, h in zip(data.keys, held_out, strict=True) if h]
    groups = {name: [v for v, h in zip(values, held_out, strict=True) if h] for name, values in data.groups.items()}
    report = risk.evaluate(
        data.y[held_out],
        trained.predict(data.x[held_out]) if trained else None,
        data.rule[held_out],
        test_keys,
        groups,
        capacity_share,
    )
    report["train_rows"] = len(train_y)
    report["train_in_need"] = int(train_y.sum())
    return Training(trained, report, len(train_y), int(train_y.sum()))

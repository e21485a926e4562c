"""The risk model and the rule baseline, their evaluation, and plain-word explanations.

- **Rule baseline** (the cold start at a site with no outcomes yet): the number of indicators present, ties broken
  by key. It is what sites already do by hand with the national list.
- **Model**: gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``) on the 40 indicators,
  calibrated with isotonic regression on out-of-fold predictions, so a score reads as a probability of being found
  in need.
  Every indicator may only *raise* the risk (a monotonic constraint; age is free): a household is never ranked lower
  because it has one more arrear, and explanations stay readable. Sex and area are never inputs; they are used only
  to audit the result for gaps.
- **Labels** are outcomes recorded by people: *in need* (1) or *not in need* (0); "no contact" and "wrong address"
  say nothing about need and are left out. Visits chosen at random (``selection == "random"``) are the only unbiased
  sample of the population, so half of them (by key) are held out for evaluation and never trained on.
- **Explanations** are exact for the model used: a factor's weight is how much the household's risk (log-odds)
  falls when that one indicator is set to "nothing reported". The top factors above a small threshold are shown in
  plain words (``maeul.screening.explanations``, which the pages use without this module's libraries).
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
import pyarrow as pa
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from maeul.screening.catalogue import CODES, INDICATORS
from maeul.screening.explanations import Factor

FEATURES: tuple[str, ...] = CODES
# The value that means "nothing reported" for each input; age's is a working-age adult (an age alone is no risk).
REFERENCE = {code: (45 if code == "age" else 0) for code in FEATURES}
MIN_LABELS = 200  # fewer labelled outcomes (or fewer than MIN_POSITIVES in need): the rule stays in use
MIN_POSITIVES = 20
EXPLANATION_MIN_LOGIT = 0.05
ALGORITHM = "hist_gradient_boosting+isotonic"
# Lists of 0.5 %, 1 % (about the national system's bimonthly share: 1.2–1.4 M people a year of ~22 M households),
# 2 % and 5 % of households.
CAPACITY_SHARES = (0.005, 0.01, 0.02, 0.05)


def matrix(table: pa.Table) -> np.ndarray:
    """The model's input matrix from a feature table (any extra columns are ignored)."""
    return np.column_stack([table.column(c).to_numpy(zero_copy_only=False).astype(np.float64) for c in FEATURES])


def rule_scores(table: pa.Table) -> np.ndarray:
    out: np.ndarray = table.column("indicator_count").to_numpy(zero_copy_only=False).astype(np.float64)
    return out


def holdout_mask(keys: Sequence[str], selection: Sequence[str]) -> np.ndarray:
    """Half of the randomly chosen visits, by a hash of the key: the same split on every run and every engine."""
    out = np.zeros(len(keys), dtype=bool)
    for i, (key, sel) in enumerate(zip(keys, selection, strict=True)):
        if sel == "random":
            out[i] = hashlib.sha256(key.encode()).digest()[0] % 2 == 0
    return out


@dataclass
class TrainedModel:
    estimator: Any
    features: tuple[str, ...]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities, computed once per distinct row: most households share a handful of indicator patterns
        (nothing reported but an age), so a site's million rows have far fewer distinct ones."""
        rows = np.ascontiguousarray(x, dtype=np.float64)
        packed = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
        _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
        p: np.ndarray = self.estimator.predict_proba(rows[first])[:, 1]
        return p[inverse.ravel()]

    def log_odds(self, x: np.ndarray) -> np.ndarray:
        """The uncalibrated risk (log-odds) of the boosted trees: smooth, for explanations."""
        parts = [c.estimator.decision_function(x) for c in self.estimator.calibrated_classifiers_]
        out: np.ndarray = np.mean(parts, axis=0)
        return out

    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump({"estimator": self.estimator, "features": self.features}, buffer, compress=3)
        return buffer.getvalue()

    @classmethod
    def loads(cls, blob: bytes) -> TrainedModel:
        # Only blobs Maeul wrote are loaded: the model version stores their SHA-256 and checks it first.
        data = joblib.load(io.BytesIO(blob))
        if tuple(data["features"]) != FEATURES:
            raise ValueError("the stored model was trained on other indicators; train a new one")
        return cls(estimator=data["estimator"], features=tuple(data["features"]))


def train(x: np.ndarray, y: np.ndarray, *, seed: int = 0) -> TrainedModel:
    if len(y) < MIN_LABELS or int(y.sum()) < MIN_POSITIVES:
        raise ValueError(
            f"{len(y)} labelled outcomes with {int(y.sum())} in need: at least {MIN_LABELS} and {MIN_POSITIVES} "
            "are needed before a model can be trained; the rule baseline stays in use"
        )
    monotonic = [0 if code == "age" else 1 for code in FEATURES]
    boosted = HistGradientBoostingClassifier(
        learning_rate=0.1,
        max_iter=250,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        monotonic_cst=monotonic,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=25,
        random_state=seed,
    )
    # One model on all labels, calibrated on out-of-fold predictions (not an ensemble of three): a third of the
    # scoring time.
    calibrated = CalibratedClassifierCV(boosted, method="isotonic", cv=3, ensemble=False)
    calibrated.fit(x, y)
    return TrainedModel(estimator=calibrated, features=FEATURES)


# --- evaluation --------------------------------------------------------------------------------------------------


def _order(scores: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    """Highest score first, ties by key: the same order the outreach list uses."""
    key_rank = np.argsort(np.argsort(np.asarray(keys, dtype=object)))
    return np.lexsort((key_rank, -scores))


def precision_at(y: np.ndarray, scores: np.ndarray, keys: Sequence[str], k: int) -> float:
    top = _order(scores, keys)[:k]
    return float(y[top].mean()) if k else math.nan


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Predicted against observed by deciles of the prediction."""
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        if chunk.size:
            out.append({"predicted": float(p[chunk].mean()), "observed": float(y[chunk].mean()), "n": int(chunk.size)})
    return out


def _safe_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else None


def _safe_ap(y: np.ndarray, s: np.ndarray) -> float | None:
    return float(average_precision_score(y, s)) if y.sum() > 0 else None


def metrics(y: np.ndarray, scores: np.ndarray, keys: Sequence[str], k: int, probabilities: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "roc_auc": _safe_auc(y, scores),
        "pr_auc": _safe_ap(y, scores),
        "precision_at_capacity": precision_at(y, scores, keys, k),
        "recall_at_capacity": float(y[_order(scores, keys)[:k]].sum() / y.sum()) if y.sum() else None,
    }
    if probabilities:
        bins = calibration_bins(y, scores)
        out["brier"] = float(brier_score_loss(y, scores))
        out["calibration"] = bins
        out["calibration_error"] = float(
            sum(b["n"] * abs(b["predicted"] - b["observed"]) for b in bins) / max(1, len(y))
        )
    return out


def subgroups(
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    keys: Sequence[str],
    groups: Mapping[str, Sequence[str]],
    k: int,
    min_positives: int = 10,
) -> list[dict[str, Any]]:
    """Per age band, sex and area: size, share in need, and for each scorer the AUC, the share of the group's
    households in need that the capacity-sized list reaches (recall), and the group's share of the list. Groups with
    fewer than ``min_positives`` households in need are reported but marked too small to compare."""
    rows: list[dict[str, Any]] = []
    for attribute, values in groups.items():
        arr = np.asarray(values, dtype=object)
        selected = {name: np.zeros(len(y), dtype=bool) for name in scores}
        for name, s in scores.items():
            selected[name][_order(s, keys)[:k]] = True
        for value in sorted(set(values)):
            mask = arr == value
            yy = y[mask]
            row: dict[str, Any] = {
                "attribute": attribute,
                "group": value,
                "n": int(mask.sum()),
                "in_need": int(yy.sum()),
                "comparable": int(yy.sum()) >= min_positives,
            }
            for name, s in scores.items():
                row[f"{name}_roc_auc"] = _safe_auc(yy, s[mask])
                reached = selected[name][mask]
                row[f"{name}_recall"] = float(yy[reached].sum() / yy.sum()) if yy.sum() else None
                row[f"{name}_list_share"] = float(reached.sum() / max(1, selected[name].sum()))
                if name == "model":
                    row["model_mean_score"] = float(s[mask].mean())
                    row["observed_rate"] = float(yy.mean()) if yy.size else None
            rows.append(row)
    return rows


def gaps(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """The largest difference between comparable groups of each attribute, per measure."""
    out: dict[str, dict[str, float | None]] = {}
    for attribute in sorted({r["attribute"] for r in rows}):
        comparable = [r for r in rows if r["attribute"] == attribute and r["comparable"]]
        measures: dict[str, float | None] = {}
        for measure in ("model_roc_auc", "rule_roc_auc", "model_recall", "rule_recall"):
            values = [r[measure] for r in comparable if r.get(measure) is not None]
            measures[measure] = (max(values) - min(values)) if len(values) >= 2 else None
        out[attribute] = measures
    return out


def evaluate(
    y: np.ndarray,
    model_scores: np.ndarray | None,
    rule: np.ndarray,
    keys: Sequence[str],
    groups: Mapping[str, Sequence[str]],
    capacity_share: float,
) -> dict[str, Any]:
    """The evaluation report: the model (if any) beside the rule on the same held-out households."""
    k = max(10, round(capacity_share * len(y)))
    report: dict[str, Any] = {
        "n": len(y),
        "in_need": int(y.sum()),
        "capacity": k,
        "capacity_share": capacity_share,
        "rule": metrics(y, rule, keys, k, probabilities=False),
    }
    scores = {"rule": rule}
    if model_scores is not None:
        report["model"] = metrics(y, model_scores, keys, k, probabilities=True)
        scores["model"] = model_scores
    # Precision at other capacities: the list's length changes what "better" means, so the card shows several.
    report["precision_by_capacity"] = [
        {
            "share": share,
            "percent": round(share * 100, 1),
            "k": max(10, round(share * len(y))),
            **{name: precision_at(y, s, keys, max(10, round(share * len(y)))) for name, s in scores.items()},
        }
        for share in CAPACITY_SHARES
    ]
    report["subgroups"] = subgroups(y, scores, keys, groups, k)
    report["gaps"] = gaps(report["subgroups"])
    if model_scores is not None:
        m, r = report["model"], report["rule"]
        report["model_beats_rule"] = bool(
            (m["pr_auc"] or 0) > (r["pr_auc"] or 0) and m["precision_at_capacity"] > r["precision_at_capacity"]
        )
    return report


# --- explanations ------------------------------------------------------------------------------------------------


def contributions(model: TrainedModel, x: np.ndarray) -> np.ndarray:
    """Per household and indicator: how much the risk (log-odds) falls when that indicator is set to its
    "nothing reported" value. Exact for the model, computed only for the households being listed."""
    base = model.log_odds(x)
    out = np.zeros_like(x)
    for j, code in enumerate(FEATURES):
        changed = x[:, j] != REFERENCE[code]
        if not changed.any():
            continue
        x_ref = x[changed].copy()
        x_ref[:, j] = REFERENCE[code]
        out[changed, j] = base[changed] - model.log_odds(x_ref)
    return out


def top_factors(row: dict[str, int], weights: np.ndarray | None, limit: int = 4) -> list[Factor]:
    """The factors to show: the model's largest contributions, or under the rule every indicator present (most
    specific first: cut-offs and stopped benefits before arrears, in catalogue order)."""
    if weights is not None:
        order = np.argsort(-weights, kind="stable")
        return [
            Factor(FEATURES[j], int(row[FEATURES[j]]), float(weights[j]))
            for j in order[:limit]
            if weights[j] >= EXPLANATION_MIN_LOGIT
        ]
    present = [i for i in INDICATORS if row[i.code] >= i.present_at]
    present.sort(key=lambda i: (i.unit != "flag", INDICATORS.index(i)))
    return [Factor(i.code, int(row[i.code]), 1.0) for i in present[:limit]]

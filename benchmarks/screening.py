"""Screening benchmark: a site of 1,000,000 households × 40 indicators, end to end.

    python benchmarks/screening.py [--households 1000000] [--capacity 300] [--no-spark] [--data DIR]

1. Writes the synthetic files (``maeul.screening.synth``: roster, persons, 17 source files in CSV and Parquet, the
   outcomes of past visits) — not timed.
2. Trains the model on the past visits and prints the evaluation report on the held-out random visits: the model
   beside the rule baseline (ROC-AUC, PR-AUC, precision at capacity, calibration) and the subgroup table by age
   band, sex and area. The same for the variant whose truth is the indicator count alone (200,000 households),
   where the model must not do worse than the rule.
3. Runs intake + features + scoring + ranking on DuckDB in a fresh process and prints its wall time and peak memory
   (target: under 60 s and 4 GB on 2 cores), then the same run on local Apache Spark beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maeul.testing.settings")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

AS_OF = date(2026, 11, 1)


def _setup() -> None:
    import django

    django.setup()


def _phase(data: Path, model_path: Path, engine: str, capacity: int) -> None:
    """The timed run, alone in its process so its peak memory is its own."""
    _setup()
    from maeul.screening import batch, pipeline, synth
    from maeul.screening.model import TrainedModel

    trained = TrainedModel.loads(model_path.read_bytes())
    start = time.perf_counter()
    con = pipeline.engine(engine)
    connect = time.perf_counter() - start
    start = time.perf_counter()
    result = batch.screen(
        con, data, as_of=AS_OF, area_codes=synth.JONGNO_AREAS, capacity_per_area=capacity, trained=trained
    )
    total = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "engine": engine,
                "connect_s": round(connect, 1),
                "total_s": round(total, 1),
                "timings": {k: round(v, 1) for k, v in result.timings.items()},
                "households": result.features.num_rows,
                "rows_read": result.data.rows_read,
                "listed": result.ranked.num_rows,
                "peak_rss_mb": round(peak_mb),
            }
        )
    )


def _table(report: dict[str, object]) -> None:
    rule, model = report["rule"], report["model"]  # type: ignore[index]
    print(f"  held-out households {report['n']}, in need {report['in_need']}, capacity {report['capacity']}")
    print(f"  {'':28}{'model':>10}{'rule':>10}")
    for key in ("roc_auc", "pr_auc", "precision_at_capacity", "recall_at_capacity"):
        print(f"  {key:28}{model[key]:>10.3f}{rule[key]:>10.3f}")  # type: ignore[index]
    print(f"  {'brier':28}{model['brier']:>10.4f}{'—':>10}")  # type: ignore[index]
    print(f"  {'calibration_error':28}{model['calibration_error']:>10.4f}{'—':>10}")  # type: ignore[index]
    print(f"  model beats rule on PR-AUC and precision at capacity: {report['model_beats_rule']}")
    curve = ", ".join(
        f"{c['share']:.1%} (k={c['k']}): {c['model']:.3f} / {c['rule']:.3f}"
        for c in report["precision_by_capacity"]  # type: ignore[attr-defined]
    )
    print(f"  precision model / rule by list length: {curve}")


def _subgroups(report: dict[str, object]) -> None:
    print(f"  {'group':22}{'n':>7}{'need':>6}{'AUC m':>8}{'AUC r':>8}{'reach m':>9}{'reach r':>9}{'pred/obs':>14}")
    for row in report["subgroups"]:  # type: ignore[attr-defined]

        def f(v: object) -> str:
            return f"{v:.3f}" if isinstance(v, float) else "—"

        mark = "" if row["comparable"] else " (few)"
        print(
            f"  {row['attribute'] + ':' + row['group'] + mark:22}{row['n']:>7}{row['in_need']:>6}"
            f"{f(row['model_roc_auc']):>8}{f(row['rule_roc_auc']):>8}{f(row['model_recall']):>9}"
            f"{f(row['rule_recall']):>9}{f(row['model_mean_score']):>7}/{f(row['observed_rate'])}"
        )
    print("  largest gaps between comparable groups:", json.dumps(report["gaps"]))


def _train(data: Path, capacity_share: float) -> tuple[bytes, dict[str, object], float]:
    from maeul.screening import batch, pipeline, synth

    con = pipeline.engine("duckdb")
    intake = pipeline.intake(con, data, as_of=AS_OF, area_codes=synth.JONGNO_AREAS)
    features = pipeline.to_arrow(con, pipeline.features(con, intake, as_of=AS_OF))
    start = time.perf_counter()
    training = batch.train_and_evaluate(
        features, batch.read_outcomes(data / "outcomes.csv"), capacity_share=capacity_share
    )
    assert training.trained is not None
    return training.trained.dumps(), training.report, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument(
        "--capacity",
        type=int,
        help="visits per area per round (default: 1 %% of households over 17 areas, about the national list's share)",
    )
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--data", help="reuse (or keep) the synthetic files here")
    parser.add_argument("--phase", choices=("duckdb", "pyspark"), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        assert args.capacity is not None
        _phase(Path(args.data), Path(args.model), args.phase, args.capacity)
        return
    _setup()
    from maeul.screening import synth

    if args.capacity is None:
        args.capacity = max(1, round(args.households * 0.01 / len(synth.JONGNO_AREAS)))
    work = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="maeul-bench-screening-"))
    if not (work / "synth.json").exists():
        start = time.perf_counter()
        synth.generate(work, args.households, seed=7, as_of=AS_OF)
        print(f"synthetic files: {args.households} households in {time.perf_counter() - start:.0f} s → {work}")
    capacity_share = args.capacity * len(synth.JONGNO_AREAS) / args.households
    blob, report, seconds = _train(work, capacity_share)
    print(f"\nEvaluation (latent truth; model trained in {seconds:.0f} s):")
    _table(report)
    _subgroups(report)
    count_dir = Path(tempfile.mkdtemp(prefix="maeul-bench-screening-count-"))
    synth.generate(count_dir, 200_000, seed=8, as_of=AS_OF, truth="count")
    _blob, count_report, _s = _train(count_dir, capacity_share)
    print("\nEvaluation (truth = indicator count only, 200,000 households; the model must not do worse):")
    _table(count_report)
    model_path = work / "model.joblib"
    model_path.write_bytes(blob)
    engines = ["duckdb"] if args.no_spark else ["duckdb", "pyspark"]
    print("\nEnd to end (intake + features + scoring + ranking), each in a fresh process:")
    for engine in engines:
        out = subprocess.run(
            [sys.executable, __file__, "--phase", engine, "--data", str(work), "--model", str(model_path),
             "--capacity", str(args.capacity)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode != 0 or not lines:
            print(f"  {engine}: failed\n{out.stderr[-2000:]}")
            continue
        figures = json.loads(lines[-1])
        target = " (target < 60 s, < 4096 MB)" if engine == "duckdb" else ""
        print(
            f"  {engine:8} {figures['total_s']:>6.1f} s  peak {figures['peak_rss_mb']:>5} MB{target}  "
            f"{figures['timings']}  session {figures['connect_s']} s  {figures['households']} households, "
            f"{figures['rows_read']} rows read, {figures['listed']} listed"
        )


if __name__ == "__main__":
    main()

"""The same pipeline on DuckDB and on local Apache Spark over the same files must give identical results: the
quarantine, the feature table and the outreach list. The only Spark test module: one local session for all of it."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from maeul.screening import batch, pipeline, synth

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = pipeline.local_spark()
    yield session
    session.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("engines")
    synth.generate(directory, 400, seed=11)
    # Two bad rows for the quarantine: a number that is not one, and a repeated key.
    path = directory / "kepco.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[1][1] = "three"
    rows.append(rows[2])
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return directory


def _run(con: Any, directory: Path) -> batch.BatchResult:
    return batch.screen(
        con,
        directory,
        as_of=AS_OF,
        area_codes=synth.JONGNO_AREAS,
        capacity_per_area=4,
        exclude=["HK0000000000000000"],
        max_quarantine_share=0.5,
    )


def test_duckdb_and_spark_agree(spark: Any, files: Path) -> None:
    on_duckdb = _run(pipeline.engine("duckdb"), files)
    on_spark = _run(pipeline.engine("pyspark", spark), files)
    assert on_duckdb.data.quarantined == on_spark.data.quarantined
    assert {(p.file, p.column, p.reason) for p in on_duckdb.data.quarantined} == {
        ("kepco.csv", "electricity_arrears_months", "not a whole number"),
        ("kepco.csv", "household_key", "duplicate key"),
    }
    assert on_duckdb.features.num_rows == 400
    assert on_duckdb.features.equals(on_spark.features)
    assert on_duckdb.ranked.num_rows > 0
    assert on_duckdb.ranked.equals(on_spark.ranked)

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from maeul.screening import synth
from maeul.screening.catalogue import CODES, ROSTER_DERIVED


def _digest(directory: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_same_arguments_write_the_same_files(tmp_path: Path) -> None:
    a = synth.generate(tmp_path / "a", 800, seed=3)
    b = synth.generate(tmp_path / "b", 800, seed=3)
    assert a.files == b.files
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_files_cover_every_indicator_in_both_formats(tmp_path: Path) -> None:
    result = synth.generate(tmp_path, 3000, seed=1)
    with (tmp_path / "catalogue.csv").open(encoding="utf-8") as fh:
        catalogue = list(csv.DictReader(fh))
    assert {row["indicator"] for row in catalogue} == set(CODES) - set(ROSTER_DERIVED)
    assert {Path(row["file"]).suffix for row in catalogue} == {".csv", ".parquet"}
    roster = pq.read_table(tmp_path / "households.parquet")
    assert roster.num_rows == 3000
    assert set(roster.column("head_sex").to_pylist()) == {"F", "M"}
    # Keys are pseudonymous: never 13 digits like a resident registration number.
    assert all(k.startswith("HK") and len(k) == 18 for k in roster.column("household_key").to_pylist())
    persons = pq.read_table(tmp_path / "persons.parquet")
    assert persons.num_rows == result.persons
    outcomes = pacsv.read_csv(tmp_path / "outcomes.csv").to_pylist()
    assert {o["selection"] for o in outcomes} == {"flagged", "random"}
    assert {o["outcome"] for o in outcomes} == {"in_need", "not_in_need", "no_contact", "wrong_address"}
    with (tmp_path / "national_list.csv").open(encoding="utf-8") as fh:
        national = list(csv.DictReader(fh))
    assert len(national) == result.flagged > 0
    assert len({row["national_case_no"] for row in national}) == len(national)


def test_prevalence_is_near_the_documented_share(tmp_path: Path) -> None:
    result = synth.generate(tmp_path, 20000, seed=5)
    assert 0.015 < result.in_need / result.households < 0.05


def test_count_truth_variant(tmp_path: Path) -> None:
    result = synth.generate(tmp_path, 5000, seed=2, truth="count")
    assert result.in_need > 0
    with pytest.raises(ValueError, match="truth"):
        synth.generate(tmp_path, 100, truth="other")


def test_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("screening", "synth", "--households", "500", "--out", str(tmp_path), "--seed", "9")
    assert "500 households" in capsys.readouterr().out
    assert (tmp_path / "households.parquet").exists()

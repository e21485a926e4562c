"""The screening pipeline, written once in Ibis: schema validation with quarantine, the household feature table and
the ranking per area. DuckDB (embedded) runs it by default; Apache Spark runs the same expressions at national scale
(``engine("pyspark")``). Files are read with Arrow (CSV as text, so a bad value is reported rather than guessed at),
each row numbered as the person who made the file sees it: the CSV line (the header is line 1) or the Parquet row.

Scoring happens between features and ranking, in Python (``maeul.screening.model``), over the feature table.

``Problem``, ``IntakeRejected`` and the key checks are defined in ``maeul.screening.problems``, which the pages can
import without Ibis and Arrow, and re-exported here.
"""

from __future__ import annotations

import csv
import functools
import itertools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from maeul.screening.catalogue import BY_CODE, CODES, INDICATORS, ROSTER_DERIVED, SOURCES, KeyKind, age_band
from maeul.screening.problems import KEY_PATTERN, KEY_REASON, RRN_PATTERN, RRN_REASON, IntakeRejected, Problem

ROSTER_COLUMNS = ("household_key", "area_code", "head_birth_year", "head_sex", "members")
PERSON_COLUMNS = ("person_key", "household_key")
CATALOGUE_COLUMNS = ("file", "source", "institution", "indicator", "meaning", "unit", "refreshed_on")
ROW = "_row"  # the row number column added on reading
_names = itertools.count(1)


@dataclass(frozen=True)
class SourceFile:
    name: str
    source: str
    institution: str
    indicators: tuple[str, ...]
    refreshed_on: date

    @property
    def key(self) -> str:
        return "person_key" if SOURCES[self.source].key_kind == KeyKind.PERSON else "household_key"


@dataclass
class Intake:
    """What was read and validated: clean Arrow tables, the quarantined rows, and the counts."""

    roster: pa.Table
    persons: pa.Table | None
    sources: list[tuple[SourceFile, pa.Table]]
    quarantined: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    stale: list[str] = field(default_factory=list)  # files refreshed longer ago than the screening period


def engine(name: str = "duckdb", spark: Any = None) -> Any:
    """An Ibis connection: ``duckdb`` (in-process, the default) or ``pyspark`` over the given SparkSession."""
    if name == "duckdb":
        return ibis.duckdb.connect()
    if name == "pyspark":
        if spark is None:
            spark = local_spark()
        return ibis.pyspark.connect(spark)
    raise ValueError(f"unknown engine {name!r} (duckdb or pyspark)")


def local_spark(cores: int = 2) -> Any:
    """A local Spark session for tests and the benchmark; at national scale, point ``engine`` at a cluster's."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("maeul-screening")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )


# --- reading ---------------------------------------------------------------------------------------------------


def _read(path: Path) -> pa.Table:
    """A file with a row number: the CSV line (header = 1, every column read as text so a bad value is reported,
    not guessed at) or the 1-based Parquet row (columns keep their Parquet types)."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        first = 1
    else:
        with path.open("rb") as fh:
            header = fh.readline().decode("utf-8-sig").strip().split(",")
        names = [h.strip().strip('"') for h in header]
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf-8"),
            convert_options=pacsv.ConvertOptions(
                strings_can_be_null=True, column_types={n: pa.string() for n in names}
            ),
        )
        first = 2
    return table.append_column(ROW, pa.array(range(first, first + table.num_rows), pa.int64()))


def read_catalogue(path: Path, as_of: date) -> tuple[list[SourceFile], list[Problem], list[str]]:
    """The source catalogue: one row per indicator column of each file. Returns files, problems, stale files."""
    problems: list[Problem] = []
    grouped: dict[str, dict[str, Any]] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in CATALOGUE_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                return [], [Problem(path.name, 0, ",".join(missing), "missing columns")], []
            rows = list(reader)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(path.name, 0, "", f"cannot be read: {exc}")], []
    for line, row in enumerate(rows, start=2):
        code, source = row["indicator"].strip(), row["source"].strip()
        indicator = BY_CODE.get(code)
        if source not in SOURCES:
            problems.append(Problem(path.name, line, "source", f"unknown source {source!r}"))
            continue
        if indicator is None or code in ROSTER_DERIVED:
            problems.append(Problem(path.name, line, "indicator", f"unknown indicator {code!r}"))
            continue
        if indicator.source != source:
            problems.append(Problem(path.name, line, "source", f"{code} comes from {indicator.source}, not {source}"))
            continue
        if row["unit"].strip() != indicator.unit:
            problems.append(Problem(path.name, line, "unit", f"{code} is counted in {indicator.unit}"))
            continue
        try:
            refreshed = date.fromisoformat(row["refreshed_on"].strip())
        except ValueError:
            problems.append(Problem(path.name, line, "refreshed_on", "not a date (YYYY-MM-DD)"))
            continue
        if refreshed > as_of:
            problems.append(Problem(path.name, line, "refreshed_on", "after the screening date"))
            continue
        entry = grouped.setdefault(
            row["file"].strip(),
            {"source": source, "institution": row["institution"].strip(), "codes": [], "refreshed": refreshed},
        )
        if entry["source"] != source:
            problems.append(Problem(path.name, line, "file", "one file holds one source"))
            continue
        entry["codes"].append(code)
        entry["refreshed"] = min(entry["refreshed"], refreshed)
    files = [
        SourceFile(name, e["source"], e["institution"], tuple(e["codes"]), e["refreshed"])
        for name, e in sorted(grouped.items())
    ]
    seen: dict[str, str] = {}
    for f in files:
        for code in f.indicators:
            if code in seen:
                problems.append(Problem(path.name, 0, code, f"{code} is in both {seen[code]} and {f.name}"))
            seen[code] = f.name
    stale = [f.name for f in files if (as_of - f.refreshed_on).days > 62]
    return files, problems, stale


def _structure(name: str, table: pa.Table, required: Iterable[str], allowed: Iterable[str]) -> list[Problem]:
    columns = set(table.column_names) - {ROW}
    problems = [Problem(name, 0, c, "missing column") for c in required if c not in columns]
    problems += [Problem(name, 0, c, "unexpected column") for c in sorted(columns - set(allowed))]
    return problems


# --- validation as Ibis expressions ----------------------------------------------------------------------------


def _checks(
    t: ir.Table, key: str, integer_columns: dict[str, tuple[int, int]]
) -> list[tuple[str, ir.BooleanValue, str]]:
    """(column, failing condition, reason) for each check; text columns (CSV) are parsed, typed ones (Parquet)
    checked for their type's meaning."""
    k = t[key].cast("string")
    out: list[tuple[str, ir.BooleanValue, str]] = [
        (key, k.isnull() | (k.strip() == ""), "missing key"),
        (key, k.notnull() & (k.strip() != "") & ~k.re_search(KEY_PATTERN), KEY_REASON),
        (key, k.notnull() & k.re_search(RRN_PATTERN), RRN_REASON),
    ]  # fmt: skip
    for column, (low, high) in integer_columns.items():
        raw = t[column]
        if raw.type().is_string():
            number = raw.try_cast("int64")
            out.append((column, raw.notnull() & (raw.strip() != "") & number.isnull(), "not a whole number"))
        elif raw.type().is_floating():
            number = raw.cast("int64")
            out.append((column, raw.notnull() & (raw != number.cast(raw.type())), "not a whole number"))
        elif raw.type().is_integer():
            number = raw.cast("int64")
        else:
            out.append((column, ibis.literal(True), f"a number was expected, not {raw.type()}"))
            continue
        out.append((column, number.notnull() & ((number < low) | (number > high)), f"outside {low}–{high}"))
    return out


@dataclass(frozen=True)
class _Spec:
    name: str
    table: pa.Table
    checks: Any  # ibis table -> [(column, failing condition, reason)]
    key: str


def _validate(con: Any, specs: Sequence[_Spec]) -> dict[str, tuple[pa.Table, list[Problem]]]:
    """Run every file's checks on the engine — a repeated key is a problem too — and return each file's clean rows
    and problems. One query finds the rows that fail anything in any file; a second examines only those rows check
    by check for the report. (Two queries whatever the number of files: a Spark job has a fixed cost.)"""
    found_parts = []
    for index, spec in enumerate(specs):
        t = _table(con, spec.table)
        conditions = [condition.fill_null(False) for _, condition, _ in spec.checks(t)]
        # Every occurrence of a key after its first is a duplicate (found by grouping: no sort of the whole file).
        keyed = t.filter(t[spec.key].notnull())
        firsts = keyed.group_by(keyed[spec.key].name("dup_key")).aggregate(first=keyed[ROW].min(), n=keyed.count())
        repeated = firsts.filter(firsts.n > 1)
        dup = keyed.inner_join(repeated, keyed[spec.key] == repeated.dup_key)
        dup = dup.filter(dup[ROW] != dup.first)
        failing = t.filter(functools.reduce(operator.or_, conditions))
        found_parts.append(failing.select(file=ibis.literal(index), row=t[ROW], duplicate=ibis.literal(False)))
        found_parts.append(dup.select(file=ibis.literal(index), row=dup[ROW], duplicate=ibis.literal(True)))
    found = con.to_pyarrow(ibis.union(*found_parts))
    out: dict[str, tuple[pa.Table, list[Problem]]] = {spec.name: (spec.table, []) for spec in specs}
    detail_parts = []
    bad_by_file: dict[int, pa.Array] = {}
    for index, spec in enumerate(specs):
        mine = found.filter(pc.equal(found["file"], index))
        if mine.num_rows == 0:
            continue
        duplicates = pc.filter(mine["row"], mine["duplicate"]).to_pylist()
        problems = [Problem(spec.name, r, spec.key, "duplicate key") for r in duplicates]
        out[spec.name] = (spec.table, problems)
        bad_rows = pc.unique(mine["row"])
        bad_by_file[index] = bad_rows
        subset = _table(con, spec.table.filter(pc.is_in(spec.table.column(ROW), value_set=bad_rows)))
        detail_parts += [
            subset.filter(condition).select(
                file=ibis.literal(index), row=subset[ROW], column=ibis.literal(column), reason=ibis.literal(reason)
            )
            for column, condition, reason in spec.checks(subset)
        ]
    if detail_parts:
        for r in con.to_pyarrow(ibis.union(*detail_parts)).to_pylist():
            out[specs[r["file"]].name][1].append(
                Problem(specs[r["file"]].name, int(r["row"]), r["column"], r["reason"])
            )
    for index, bad_rows in bad_by_file.items():
        spec = specs[index]
        clean = spec.table.filter(pc.invert(pc.is_in(spec.table.column(ROW), value_set=bad_rows)))
        out[spec.name] = (clean, sorted(out[spec.name][1]))
    return out


def intake(
    con: Any,
    directory: Path,
    *,
    as_of: date,
    area_codes: Iterable[str],
    max_quarantine_share: float = 0.05,
) -> Intake:
    """Read and validate a screening set: ``catalogue.csv``, ``households`` (the pseudonymised roster),
    ``persons`` (person key → household key, needed by person-keyed sources) and the files the catalogue names.

    Bad rows are quarantined (file, row, column, reason) and left out; a structural problem (a missing file or
    column, an unknown indicator, a key that looks like a resident registration number) or more than
    ``max_quarantine_share`` of a file's rows quarantined rejects the whole set: nothing is applied.
    """
    fatal: list[Problem] = []
    catalogue_path = directory / "catalogue.csv"
    if not catalogue_path.exists():
        raise IntakeRejected([Problem("catalogue.csv", 0, "", "missing file")])
    files, catalogue_problems, stale = read_catalogue(catalogue_path, as_of)
    fatal += catalogue_problems

    def find(stem: str) -> Path | None:
        for suffix in (".parquet", ".csv"):
            if (directory / f"{stem}{suffix}").exists():
                return directory / f"{stem}{suffix}"
        return None

    roster_path = find("households")
    if roster_path is None:
        raise IntakeRejected([*fatal, Problem("households", 0, "", "missing file (households.csv or .parquet)")])
    tables: dict[str, pa.Table] = {}
    try:
        tables[roster_path.name] = _read(roster_path)
        persons_path = find("persons")
        if persons_path is not None:
            tables[persons_path.name] = _read(persons_path)
        for f in files:
            if not (directory / f.name).exists():
                fatal.append(Problem(f.name, 0, "", "named in the catalogue but missing"))
                continue
            tables[f.name] = _read(directory / f.name)
    except (pa.ArrowInvalid, OSError) as exc:
        where = str(getattr(exc, "filename", "") or "file")
        raise IntakeRejected([*fatal, Problem(where, 0, "", f"cannot be read: {exc}")]) from exc

    roster = tables[roster_path.name]
    fatal += _structure(roster_path.name, roster, ROSTER_COLUMNS, ROSTER_COLUMNS)
    persons = tables.get(persons_path.name) if persons_path else None
    if persons is not None and persons_path is not None:
        fatal += _structure(persons_path.name, persons, PERSON_COLUMNS, PERSON_COLUMNS)
    for f in files:
        if f.name not in tables:
            continue
        if f.key == "person_key" and persons is None:
            fatal.append(Problem(f.name, 0, "person_key", "person-keyed sources need persons.csv or persons.parquet"))
        fatal += _structure(f.name, tables[f.name], (f.key, *f.indicators), (f.key, *f.indicators))
    if fatal:
        raise IntakeRejected(fatal)

    quarantined: list[Problem] = []
    areas = sorted(set(area_codes))

    def roster_checks(t: ir.Table) -> list[tuple[str, ir.BooleanValue, str]]:
        checks = _checks(t, "household_key", {"head_birth_year": (as_of.year - 120, as_of.year), "members": (1, 50)})
        checks.append(
            ("area_code", t.area_code.isnull() | ~t.area_code.isin(areas), "not an eup/myeon/dong of the site")
        )
        checks.append(("head_sex", t.head_sex.notnull() & ~t.head_sex.isin(["F", "M"]), "F or M"))
        checks.append(("head_birth_year", t.head_birth_year.isnull(), "missing"))
        return checks

    specs = [_Spec(roster_path.name, roster, roster_checks, "household_key")]
    if persons is not None and persons_path is not None:
        specs.append(_Spec(persons_path.name, persons, lambda t: _checks(t, "person_key", {}), "person_key"))
    for f in files:
        ranges = {code: (0, BY_CODE[code].maximum) for code in f.indicators}
        specs.append(_Spec(f.name, tables[f.name], lambda t, f=f, r=ranges: _checks(t, f.key, r), f.key))
    results = _validate(con, specs)
    rejected_share: list[Problem] = []
    for spec in specs:
        problems = results[spec.name][1]
        quarantined += problems
        bad = len({p.row for p in problems})
        if spec.table.num_rows and bad / spec.table.num_rows > max_quarantine_share:
            rejected_share.append(
                Problem(spec.name, 0, "", f"{bad} of {spec.table.num_rows} rows have problems "
                        f"(more than {max_quarantine_share:.0%})")
            )  # fmt: skip
    clean_roster = results[roster_path.name][0]
    clean_persons = results[persons_path.name][0] if persons is not None and persons_path is not None else None
    sources = [(f, results[f.name][0]) for f in files]
    registration_numbers = [p for p in quarantined if p.reason == RRN_REASON]
    if registration_numbers:
        # Never processed, not even quarantined: the files must be pseudonymised again at the source.
        raise IntakeRejected(registration_numbers[:100])
    if rejected_share:
        raise IntakeRejected([*rejected_share, *sorted(quarantined)[:1000]])
    return Intake(
        roster=clean_roster,
        persons=clean_persons,
        sources=sources,
        quarantined=sorted(quarantined),
        rows_read=sum(t.num_rows for t in tables.values()),
        stale=stale,
    )


# --- features --------------------------------------------------------------------------------------------------


def features(con: Any, data: Intake, *, as_of: date, signals: pa.Table | None = None) -> ir.Table:
    """The household feature table: one row per roster household, every indicator (0 when no source reported it),
    the area, sex and age band for the fairness audit, and the rule baseline's indicator count.

    ``signals`` (household_key + Maeul's own indicator columns) comes from Maeul's services for the households it
    knows; a value from a source file and from Maeul for the same indicator: the larger counts.
    """
    roster = _table(con, data.roster)
    persons = _table(con, data.persons) if data.persons is not None else None
    tables = list(data.sources)
    if signals is not None and signals.num_rows:
        codes = tuple(c for c in signals.column_names if c != "household_key")
        tables.append((SourceFile("maeul", "sensing", "Maeul", codes, as_of), signals))
    person_tables = {f.name: _table(con, table) for f, table in tables if f.key == "person_key"}
    household_of = None
    if person_tables:
        assert persons is not None
        # The persons any person-keyed source names, joined to the roster of persons once (not once per source).
        named = ibis.union(*(t.select("person_key") for t in person_tables.values()), distinct=True)
        household_of = named.inner_join(persons, named.person_key == persons.person_key).select(
            pk=named.person_key, hk=persons.household_key
        )
    file_codes = [c for c in CODES if c not in ROSTER_DERIVED]
    null_int = ibis.null("int64")
    null_str = ibis.null("string")
    # One long union, one group-by: the roster row brings the household's facts, each source row its indicators,
    # and the maximum per household is the worst value any member or duplicate reported. (Chained joins cost a
    # hash table per source; this costs one aggregation on any engine.)
    parts = [
        roster.select(
            household_key=roster.household_key,
            area_code=roster.area_code,
            head_sex=roster.head_sex.cast("string"),
            head_birth_year=roster.head_birth_year.cast("int64"),
            members=roster.members.cast("int64"),
            **{c: null_int for c in file_codes},
        )
    ]
    for f, table in tables:
        t = person_tables[f.name] if f.name in person_tables else _table(con, table)
        if household_of is not None and f.key == "person_key":
            t = t.inner_join(household_of, t.person_key == household_of.pk).mutate(household_key=household_of.hk)
        parts.append(
            t.select(
                household_key=t.household_key,
                area_code=null_str,
                head_sex=null_str,
                head_birth_year=null_int,
                members=null_int,
                **{c: (t[c].cast("int64") if c in f.indicators else null_int) for c in file_codes},
            )
        )
    long = ibis.union(*parts) if len(parts) > 1 else parts[0]
    grouped = long.group_by("household_key").aggregate(
        area_code=long.area_code.max(),
        head_sex=long.head_sex.max(),
        head_birth_year=long.head_birth_year.max(),
        members=long.members.max(),
        **{c: long[c].max() for c in file_codes},
    )
    joined = grouped.filter(grouped.area_code.notnull())  # households on the roster only
    values: dict[str, ir.IntegerValue] = {c: joined[c].fill_null(0) for c in file_codes}
    age = (ibis.literal(as_of.year) - joined.head_birth_year.cast("int64")).cast("int64")
    values["age"] = age
    values["living_alone"] = (joined.members.cast("int64") == 1).cast("int64")
    count = sum(((values[i.code] >= i.present_at).cast("int64") for i in INDICATORS), ibis.literal(0, "int64"))
    band = (
        ibis.cases(
            (age < 40, "<40"), (age < 65, "40-64"), (age < 80, "65-79"), else_="80+"
        )
    )  # fmt: skip
    return joined.select(
        household_key=joined.household_key,
        area_code=joined.area_code,
        sex=joined.head_sex.fill_null("U"),
        age_band=band,
        **{code: values[code] for code in CODES},
        indicator_count=count,
    )


def rank(
    con: Any,
    scored: pa.Table,
    *,
    capacity_per_area: int,
    exclude: Iterable[str] = (),
) -> pa.Table:
    """The outreach list: per area the ``capacity_per_area`` highest scores, households in ``exclude`` (already
    supported or checked recently) skipped; ties go to the smaller key so every engine gives the same list."""
    t = _table(con, scored)
    excluded = sorted(set(exclude))
    if excluded:
        t = t.filter(~t.household_key.isin(excluded))
    w = ibis.window(group_by=t.area_code, order_by=[ibis.desc(t.score), t.household_key])
    ranked = t.mutate(rank=(ibis.row_number().over(w) + 1).cast("int64"))
    ranked = ranked.filter(ranked["rank"] <= capacity_per_area)
    return con.to_pyarrow(ranked.order_by(["area_code", "rank"]))


def _table(con: Any, table: pa.Table) -> ir.Table:
    """An Arrow table as an Ibis table on the engine. DuckDB scans it in place as a registered view, so its planner
    knows the row counts (an Ibis memtable reaches it with none, and joins then build on the wrong side)."""
    if getattr(con, "name", "") == "duckdb":
        name = f"arrow_{next(_names)}"
        con.con.register(name, table)
        return con.table(name)
    return ibis.memtable(table)


def to_arrow(con: Any, table: ir.Table) -> pa.Table:
    return con.to_pyarrow(table.order_by("household_key"))


__all__ = [
    "KEY_PATTERN",
    "KEY_REASON",
    "RRN_PATTERN",
    "RRN_REASON",
    "IntakeRejected",
    "Problem",
    "SourceFile",
    "age_band",
    "engine",
    "features",
    "intake",
    "rank",
]

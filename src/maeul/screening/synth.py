"""Synthetic screening data: a site's households, the per-source indicator files the institutions would send, the
national system's flagged list, and the outcomes of past visits — for the demo, the tests and the benchmark.

Written once, before any model work, and not tuned afterwards (issue 7): the model is judged on a world it was not
fitted to. Every run with the same arguments writes the same files.

Assumptions, each tied to a published figure (rounded; the generator needs orders of magnitude, not decimals):

- **Household size.** 35.5 % of households are one person (Statistics Korea, 2023 Population and Housing Census:
  7.83 M of 22.07 M); two persons 28.8 %, three 19.2 %, four or more 16.5 % (same census).
- **Age of the head.** One-person households are older: 20–39 35 %, 40–64 35 %, 65–79 20 %, 80+ 10 % (Statistics
  Korea, 2023 one-person household statistics: 70+ 18.6 %, 60s 17.3 %, 20s 18.6 %); other households 20 / 55 /
  18 / 7 %. About a quarter of all heads are 65+ (2023 census: 25.1 %).
- **Sex of the head.** Female 34 % overall (2023 census: 33.9 % female-headed); older people living alone are
  mostly women (about 70 %).
- **Disability.** 2.65 M registered disabled persons (Ministry of Health and Welfare, 2023) — about 1 in 10
  households; 38 % of registered disabilities are severe.
- **Need.** About 1.2–1.4 M people a year are flagged by the national blind-spot system and about half receive any
  support (BRIEF.md); basic livelihood recipients are about 5 % of the population. The generator puts about 3 % of
  households in real need at a screening round, more in poorer areas and among older people living alone with
  failing health and money trouble together.
- **Indicators.** Institutions send only households with something to report, as the national system's sources do.
  Arrears are common well outside crisis (telephone and pension arrears especially), cut-offs, stopped benefits and
  health-insurance arrears of many months much less so; some signals (a mental-health crisis, a cut-off) are rare and
  strong. Need grows with the *combination* of money trouble, poor health and isolation, which is what a count of
  indicators cannot see and a learned model can. Maeul's own signals exist only for the few households with sensors
  (≈3 %) or a helper (≈4 %), where they are strong.
- **Past visits.** Households the old rule flagged (three or more indicators; 40 % of them visited) and a small
  random sample (``random_visits``, default 5 %) were visited before; a visit finds a household in need 85 % of the
  time it is, and ends in "no contact" or "wrong address" about one time in seven — the national system's lists are
  known to lose many cases that way (BRIEF.md).

``truth="count"`` makes need depend on the number of indicators present and nothing else: there the model has
nothing to learn beyond the rule and must not do worse than it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from maeul.screening.catalogue import BY_CODE, INDICATORS, ROSTER_DERIVED, SOURCES, KeyKind

# The 17 administrative dongs of Jongno-gu, Seoul (the demo site), from the MOIS list in areas/data.
JONGNO_AREAS = (
    "1111051500", "1111053000", "1111054000", "1111055000", "1111056000", "1111057000", "1111058000", "1111060000",
    "1111061500", "1111063000", "1111064000", "1111065000", "1111067000", "1111068000", "1111069000", "1111070000",
    "1111071000",
)  # fmt: skip

# Which sources are sent as Parquet (the rest as CSV): both formats are exercised by every generated set.
PARQUET_SOURCES = frozenset({"nhis", "keis", "kait", "ssis"})

# Per indicator: (base logit, weight of money trouble, weight of poor health, weight of isolation, weight of need).
# A months indicator's value grows with the same drivers. Age and living alone come from the roster.
_DRIVERS: dict[str, tuple[float, float, float, float, float]] = {
    "electricity_arrears_months": (-3.6, 0.9, 0.0, 0.2, 1.4),
    "electricity_cutoff": (-6.2, 1.0, 0.0, 0.3, 2.4),
    "water_arrears_months": (-3.4, 0.9, 0.0, 0.2, 1.3),
    "water_cutoff": (-6.4, 1.0, 0.0, 0.3, 2.3),
    "gas_arrears_months": (-3.5, 0.9, 0.0, 0.1, 1.3),
    "gas_cutoff": (-6.0, 1.0, 0.0, 0.2, 2.2),
    "health_insurance_arrears_months": (-3.2, 1.1, 0.1, 0.1, 1.6),
    "catastrophic_medical_costs": (-5.2, 0.3, 1.3, 0.0, 1.1),
    "out_of_pocket_ceiling": (-4.4, 0.1, 1.1, 0.0, 0.5),
    "no_medical_use": (-4.6, 0.3, -0.2, 1.0, 0.9),
    "long_term_care_unused": (-5.6, 0.2, 1.0, 0.6, 1.2),
    "pension_arrears_months": (-2.0, 0.7, 0.0, 0.0, 0.4),
    "rent_arrears_months": (-4.2, 1.0, 0.0, 0.2, 1.5),
    "housing_fee_arrears_months": (-4.0, 0.9, 0.0, 0.2, 1.0),
    "employment_insurance_lost": (-3.4, 0.8, 0.2, 0.0, 0.7),
    "unemployment_benefit_ended": (-4.2, 0.8, 0.1, 0.0, 0.9),
    "debt_adjustment": (-4.6, 1.0, 0.0, 0.0, 0.8),
    "loan_delinquency": (-3.4, 1.0, 0.0, 0.0, 0.6),
    "telecom_arrears_months": (-2.2, 0.6, 0.0, 0.0, 0.3),
    "business_closed": (-4.4, 0.7, 0.0, 0.0, 0.5),
    "released_from_prison": (-7.2, 0.5, 0.3, 0.5, 1.6),
    "industrial_accident_ended": (-6.0, 0.4, 0.9, 0.0, 0.8),
    "livelihood_benefit_ended": (-5.4, 0.9, 0.2, 0.2, 1.9),
    "emergency_aid_past": (-4.6, 0.8, 0.2, 0.2, 0.9),
    "prior_support_count": (-3.0, 0.7, 0.5, 0.3, 0.6),
    "care_service_ended": (-6.0, 0.2, 0.8, 0.9, 1.6),
    "single_parent": (-3.8, 0.4, 0.0, 0.0, 0.3),
    "disability": (-2.4, 0.1, 1.2, 0.0, 0.2),
    "severe_disability": (-3.5, 0.1, 1.5, 0.0, 0.3),
    "mental_health_crisis": (-7.0, 0.4, 0.8, 0.8, 2.6),
    "insecure_housing": (-5.0, 0.9, 0.2, 0.6, 1.3),
    "semi_basement": (-3.6, 0.6, 0.0, 0.1, 0.4),
    "local_tax_arrears_months": (-3.0, 0.7, 0.0, 0.0, 0.3),
    "member_died_recently": (-5.0, 0.1, 0.4, 0.8, 0.9),
    "moved_in_recently": (-2.2, 0.2, 0.0, 0.2, 0.3),
    "activity_decline_pct": (-1.8, 0.0, 0.9, 0.6, 2.2),
    "helper_crisis_signs": (-2.8, 0.8, 0.3, 0.3, 2.6),
    "unanswered_check_ins": (-2.4, 0.0, 0.6, 0.8, 1.8),
}

MAEUL_SIGNALS = ("activity_decline_pct", "helper_crisis_signs", "unanswered_check_ins")
_SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
_GIVEN = "민서지현영수정희준호성진숙자순옥미경은혜동철재석"
_ROADS = (
    "자하문로",
    "창의문로",
    "사직로",
    "삼청로",
    "평창문화로",
    "통일로",
    "대학로",
    "창신길",
    "종로",
    "율곡로",
    "혜화로",
)


@dataclass(frozen=True)
class SynthResult:
    out_dir: Path
    households: int
    persons: int
    in_need: int
    outcomes: int
    flagged: int
    files: tuple[str, ...]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def _keys(rng: np.random.Generator, prefix: str, n: int) -> np.ndarray:
    """Pseudonymous keys: a prefix and 16 random hex digits, unique, meaning nothing outside the data set."""
    values = rng.choice(np.iinfo(np.int64).max, size=n, replace=False)
    return np.array([f"{prefix}{v:016x}" for v in values], dtype=object)


def generate(
    out_dir: Path,
    households: int,
    *,
    seed: int = 7,
    areas: tuple[str, ...] = JONGNO_AREAS,
    truth: str = "latent",
    as_of: date | None = None,
    random_visits: float = 0.05,
) -> SynthResult:
    if truth not in ("latent", "count"):
        raise ValueError("truth must be 'latent' or 'count'")
    if households < 10:
        raise ValueError("at least 10 households")
    as_of = as_of or date(2026, 11, 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = households

    # --- the roster -----------------------------------------------------------------------------------------
    area_idx = rng.integers(0, len(areas), size=n)
    area_poverty = rng.normal(0.0, 0.45, size=len(areas))[area_idx]
    size_draw = rng.random(n)
    members = np.select([size_draw < 0.355, size_draw < 0.643, size_draw < 0.835], [1, 2, 3], default=4)
    members = members + (members == 4) * rng.binomial(2, 0.2, size=n)
    alone = members == 1
    band_draw = rng.random(n)
    alone_cut = np.array([0.35, 0.70, 0.90])
    other_cut = np.array([0.20, 0.75, 0.93])
    cuts = np.where(alone[:, None], alone_cut, other_cut)
    band = (band_draw[:, None] >= cuts).sum(axis=1)
    low = np.array([20, 40, 65, 80])[band]
    high = np.array([39, 64, 79, 98])[band]
    age = low + (rng.random(n) * (high - low + 1)).astype(np.int64)
    female_p = np.where(alone & (age >= 65), 0.70, np.where(alone, 0.42, 0.28))
    female = rng.random(n) < female_p
    birth_year = as_of.year - age

    # --- latent drivers and the truth -----------------------------------------------------------------------
    money = rng.normal(0.0, 1.0, size=n) + 0.6 * area_poverty
    health = rng.normal(0.0, 1.0, size=n) + 0.035 * np.clip(age - 55, 0, None)
    isolation = alone * (0.6 + 0.025 * np.clip(age - 60, 0, None)) + rng.normal(0.0, 0.5, size=n)
    has_sensors = rng.random(n) < np.where(alone & (age >= 65), 0.12, 0.01)
    has_helper = rng.random(n) < np.where(alone & (age >= 65), 0.15, 0.015)

    def relu(x: np.ndarray) -> np.ndarray:
        clipped: np.ndarray = np.clip(x, 0.0, None)
        return clipped

    if truth == "latent":
        logit = (
            -5.6
            + 1.5 * relu(money - 0.4)
            + 0.9 * relu(health - 0.9)
            + 1.1 * relu(isolation) * relu(money)
            + 0.8 * relu(health) * relu(isolation)
            + 0.5 * area_poverty
        )
        need = rng.random(n) < _sigmoid(logit)
    else:
        need = np.zeros(n, dtype=bool)  # decided from the indicator count below

    # --- indicators -----------------------------------------------------------------------------------------
    values: dict[str, np.ndarray] = {}
    for indicator in INDICATORS:
        if indicator.code in ROSTER_DERIVED:
            continue
        base, w_money, w_health, w_iso, w_need = _DRIVERS[indicator.code]
        # Under truth="count" indicators do not depend on need; need then follows from their number.
        w_need_now = w_need if truth == "latent" else 0.0
        p = _sigmoid(base + w_money * money + w_health * health + w_iso * isolation + w_need_now * need)
        present = rng.random(n) < p
        if indicator.code in MAEUL_SIGNALS:
            present &= has_sensors if indicator.code == "activity_decline_pct" else has_helper
        if indicator.code == "severe_disability":
            present &= values["disability"] > 0
        if indicator.code == "no_medical_use":
            present &= age >= 65
        if indicator.unit == "flag":
            value = present.astype(np.int64)
        elif indicator.unit == "percent":
            pct = 20 + 12 * (health + isolation) + 25 * need * (truth == "latent") + rng.normal(0, 10, size=n)
            value = np.where(present, np.clip(pct, 1, 100).round().astype(np.int64), 0)
        else:
            lam = np.exp(0.7 + 0.35 * money + 0.7 * need * (truth == "latent"))
            extra = rng.poisson(np.clip(lam, 0.1, 20.0))
            floor = indicator.present_at - 1 if indicator.unit == "months" else 0
            value = np.where(present, np.clip(1 + floor // 2 + extra, 1, indicator.maximum), 0)
        values[indicator.code] = value.astype(np.int64)

    count = np.zeros(n, dtype=np.int64)
    for indicator in INDICATORS:
        v = values[indicator.code] if indicator.code not in ROSTER_DERIVED else None
        if indicator.code == "living_alone":
            v = alone.astype(np.int64)
        elif indicator.code == "age":
            v = age
        assert v is not None
        count += (v >= indicator.present_at).astype(np.int64)
    if truth == "count":
        need = rng.random(n) < _sigmoid(-6.2 + 0.95 * count)

    # --- keys and persons -----------------------------------------------------------------------------------
    hh_keys = _keys(rng, "HK", n)
    total_persons = int(members.sum())
    p_keys = _keys(rng, "PK", total_persons)
    person_hh = np.repeat(np.arange(n), members)
    head_of = np.concatenate(([0], np.cumsum(members)[:-1]))  # index of each household's first person

    files: list[str] = []

    def write(name: str, table: pa.Table, parquet: bool) -> str:
        path = out_dir / (f"{name}.parquet" if parquet else f"{name}.csv")
        if parquet:
            pq.write_table(table, path)
        else:
            pacsv.write_csv(table, path)
        files.append(path.name)
        return path.name

    roster = pa.table(
        {
            "household_key": pa.array(hh_keys, pa.string()),
            "area_code": pa.array(np.array(areas, dtype=object)[area_idx], pa.string()),
            "head_birth_year": pa.array(birth_year, pa.int64()),
            "head_sex": pa.array(np.where(female, "F", "M"), pa.string()),
            "members": pa.array(members, pa.int64()),
        }
    )
    write("households", roster, parquet=True)
    write(
        "persons",
        pa.table({"person_key": pa.array(p_keys, pa.string()), "household_key": pa.array(hh_keys[person_hh])}),
        parquet=True,
    )

    catalogue_rows: list[dict[str, str]] = []
    for source in SOURCES.values():
        codes = [i.code for i in INDICATORS if i.source == source.code and i.code not in ROSTER_DERIVED]
        if not codes:
            continue
        stacked = np.stack([values[c] for c in codes], axis=1)
        rows = np.nonzero(stacked.any(axis=1))[0]
        if source.key_kind == KeyKind.PERSON:
            # A person-keyed source names one member: the head, or another member one time in four.
            offset = (rng.random(rows.size) < 0.25) * rng.integers(0, members[rows])
            key_col = {"person_key": pa.array(p_keys[head_of[rows] + offset], pa.string())}
        else:
            key_col = {"household_key": pa.array(hh_keys[rows], pa.string())}
        table = pa.table({**key_col, **{c: pa.array(values[c][rows], pa.int64()) for c in codes}})
        name = write(source.code, table, parquet=source.code in PARQUET_SOURCES)
        refreshed = as_of - timedelta(days=int(rng.integers(3, 40)))
        for c in codes:
            catalogue_rows.append(
                {
                    "file": name,
                    "source": source.code,
                    "institution": str(source.institution),
                    "indicator": c,
                    "meaning": str(BY_CODE[c].label),
                    "unit": str(BY_CODE[c].unit),
                    "refreshed_on": refreshed.isoformat(),
                }
            )
    with (out_dir / "catalogue.csv").open("w", newline="", encoding="utf-8") as fh:
        catalogue_writer = csv.DictWriter(fh, fieldnames=list(catalogue_rows[0]))
        catalogue_writer.writeheader()
        catalogue_writer.writerows(catalogue_rows)
    files.append("catalogue.csv")

    # --- past visits and their outcomes ---------------------------------------------------------------------
    flagged_before = (count >= 3) & (rng.random(n) < 0.40)
    sampled = rng.random(n) < random_visits
    visited = flagged_before | sampled
    idx = np.nonzero(visited)[0]
    draw = rng.random(idx.size)
    found = np.where(need[idx], draw < 0.85, draw < 0.88)
    lost = rng.random(idx.size) < 0.66  # of the visits that found nobody: no contact (2/3) or wrong address
    outcome = np.where(
        found, np.where(need[idx], "in_need", "not_in_need"), np.where(lost, "no_contact", "wrong_address")
    )
    visit_day = np.array([(as_of - timedelta(days=int(d))).isoformat() for d in rng.integers(60, 420, size=idx.size)])
    write(
        "outcomes",
        pa.table(
            {
                "household_key": pa.array(hh_keys[idx], pa.string()),
                "visited_on": pa.array(visit_day, pa.string()),
                "selection": pa.array(np.where(sampled[idx], "random", "flagged"), pa.string()),
                "outcome": pa.array(outcome, pa.string()),
            }
        ),
        parquet=False,
    )
    write(
        "truth",
        pa.table({"household_key": pa.array(hh_keys, pa.string()), "in_need": pa.array(need.astype(np.int64))}),
        parquet=True,
    )

    # --- the national system's flagged list for this round --------------------------------------------------
    national = np.nonzero((count >= 3) & (rng.random(n) < 0.5))[0][:5000]
    round_code = f"{as_of.year}-{(as_of.month + 1) // 2:02d}"
    with (out_dir / "national_list.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["national_case_no", "round", "household_key", "person_key", "name", "birth_date", "sex", "area_code",
             "address", "phone", "indicators"]
        )  # fmt: skip
        for k, h in enumerate(national):
            flagged_codes = [
                i.code for i in INDICATORS if i.code not in ROSTER_DERIVED and values[i.code][h] >= i.present_at
            ]
            name = _SURNAMES[rng.integers(len(_SURNAMES))] + "".join(
                _GIVEN[j] for j in rng.integers(0, len(_GIVEN), size=2)
            )
            birth = date(int(birth_year[h]), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
            road = _ROADS[rng.integers(len(_ROADS))]
            writer.writerow(
                [
                    f"B{as_of.year}{k + 1:07d}",
                    round_code,
                    hh_keys[h],
                    p_keys[head_of[h]],
                    name,
                    birth.isoformat(),
                    "F" if female[h] else "M",
                    areas[area_idx[h]],
                    f"서울특별시 종로구 {road} {int(rng.integers(1, 200))}",
                    f"010-{int(rng.integers(2000, 9999)):04d}-{int(rng.integers(0, 9999)):04d}",
                    "|".join(flagged_codes),
                ]
            )
    files.append("national_list.csv")
    (out_dir / "synth.json").write_text(
        json.dumps(
            {
                "households": n,
                "seed": seed,
                "truth": truth,
                "as_of": as_of.isoformat(),
                "random_visits": random_visits,
                "areas": list(areas),
                "in_need": int(need.sum()),
            },
            indent=2,
        )
    )
    files.append("synth.json")
    return SynthResult(
        out_dir=out_dir,
        households=n,
        persons=total_persons,
        in_need=int(need.sum()),
        outcomes=int(idx.size),
        flagged=int(national.size),
        files=tuple(files),
    )

"""The indicator catalogue: what each risk indicator means, which institution sends it, its unit and how it reads in
plain words. The pipeline, the synthetic generator, validation and the explanations all read this one table.

The list follows the kinds of risk information the national welfare blind-spot discovery system (복지 사각지대
발굴관리시스템) receives from about 19 institutions — utility arrears and cut-offs, health-insurance premium arrears,
rent arrears, loss of employment insurance, catastrophic medical costs, debt adjustment, … — plus the register's
household facts and Maeul's own signals (sensor activity trend, helpers' crisis signs, unanswered check-ins).
Sex and area are kept for the fairness audit only: they are never model inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Unit(StrEnum):
    FLAG = "flag"  # 0 or 1
    MONTHS = "months"  # months unpaid
    COUNT = "count"
    YEARS = "years"
    PERCENT = "percent"  # 0–100


class KeyKind(StrEnum):
    HOUSEHOLD = "household"
    PERSON = "person"


@dataclass(frozen=True)
class Source:
    code: str
    institution: Promise
    key_kind: KeyKind
    maeul: bool = False  # computed by Maeul from its own records, not received in a file


@dataclass(frozen=True)
class Indicator:
    code: str
    source: str
    unit: Unit
    label: Promise
    # Plain words for an explanation; ``%(value)s`` is the household's value.
    phrase: Promise
    # The value from which the indicator counts as present for the rule baseline (indicator count).
    present_at: int
    maximum: int  # values above are refused by validation (months up to 10 years, ages up to 120, …)
    sensitive: bool = False  # health data under PIPA Art. 23: shown only to officials, never in exports


SOURCES: dict[str, Source] = {
    s.code: s
    for s in (
        Source("register", _("Resident register (MOIS)"), KeyKind.HOUSEHOLD),
        Source("kepco", _("Korea Electric Power Corporation"), KeyKind.HOUSEHOLD),
        Source("water", _("Local waterworks"), KeyKind.HOUSEHOLD),
        Source("gas", _("City gas suppliers"), KeyKind.HOUSEHOLD),
        Source("nhis", _("National Health Insurance Service"), KeyKind.HOUSEHOLD),
        Source("nps", _("National Pension Service"), KeyKind.PERSON),
        Source("lh", _("Korea Land and Housing Corporation"), KeyKind.HOUSEHOLD),
        Source("keis", _("Korea Employment Information Service"), KeyKind.PERSON),
        Source("ccrs", _("Credit Counseling and Recovery Service"), KeyKind.PERSON),
        Source("kcis", _("Korea Credit Information Services"), KeyKind.PERSON),
        Source("kait", _("Telecommunications carriers (KAIT)"), KeyKind.PERSON),
        Source("nts", _("National Tax Service"), KeyKind.PERSON),
        Source("moj", _("Ministry of Justice"), KeyKind.PERSON),
        Source("comwel", _("Korea Workers' Compensation and Welfare Service"), KeyKind.PERSON),
        Source("ssis", _("Social Security Information Service"), KeyKind.HOUSEHOLD),
        Source("health_centre", _("Public health centre"), KeyKind.PERSON),
        Source("local", _("Local government"), KeyKind.HOUSEHOLD),
        Source("sensing", _("Maeul sensors"), KeyKind.HOUSEHOLD, maeul=True),
        Source("safetynet", _("Maeul safety net"), KeyKind.HOUSEHOLD, maeul=True),
    )
}

_M = Unit.MONTHS
_F = Unit.FLAG

INDICATORS: tuple[Indicator, ...] = (
    Indicator("electricity_arrears_months", "kepco", _M, _("Electricity bill arrears"),
              _("electricity bill unpaid %(value)s months"), 2, 120),
    Indicator("electricity_cutoff", "kepco", _F, _("Electricity limited or cut off"),
              _("electricity limited or cut off"), 1, 1),
    Indicator("water_arrears_months", "water", _M, _("Water bill arrears"),
              _("water bill unpaid %(value)s months"), 2, 120),
    Indicator("water_cutoff", "water", _F, _("Water cut off"), _("water cut off"), 1, 1),
    Indicator("gas_arrears_months", "gas", _M, _("Gas bill arrears"), _("gas bill unpaid %(value)s months"), 2, 120),
    Indicator("gas_cutoff", "gas", _F, _("Gas cut off"), _("gas cut off"), 1, 1),
    Indicator("health_insurance_arrears_months", "nhis", _M, _("Health-insurance premium arrears"),
              _("health-insurance premiums unpaid %(value)s months"), 3, 120),
    Indicator("catastrophic_medical_costs", "nhis", _F, _("Catastrophic medical costs"),
              _("catastrophic medical costs this year"), 1, 1, sensitive=True),
    Indicator("out_of_pocket_ceiling", "nhis", _F, _("Out-of-pocket ceiling exceeded"),
              _("medical bills over the out-of-pocket ceiling"), 1, 1, sensitive=True),
    Indicator("no_medical_use", "nhis", _F, _("No medical care used in a year (older adult)"),
              _("no medical care used in a year"), 1, 1, sensitive=True),
    Indicator("long_term_care_unused", "nhis", _F, _("Long-term care granted but not used"),
              _("long-term care granted but not used"), 1, 1, sensitive=True),
    Indicator("pension_arrears_months", "nps", _M, _("National pension contribution arrears"),
              _("pension contributions unpaid %(value)s months"), 6, 120),
    Indicator("rent_arrears_months", "lh", _M, _("Public rental rent arrears"),
              _("rent unpaid %(value)s months"), 3, 120),
    Indicator("housing_fee_arrears_months", "lh", _M, _("Public housing management fee arrears"),
              _("housing management fee unpaid %(value)s months"), 3, 120),
    Indicator("employment_insurance_lost", "keis", _F, _("Employment insurance lost"),
              _("lost employment insurance (job ended)"), 1, 1),
    Indicator("unemployment_benefit_ended", "keis", _F, _("Unemployment benefit ended"),
              _("unemployment benefit ended"), 1, 1),
    Indicator("debt_adjustment", "ccrs", _F, _("In debt adjustment"), _("in debt adjustment"), 1, 1),
    Indicator("loan_delinquency", "kcis", _F, _("Loan delinquency"), _("loan repayments overdue"), 1, 1),
    Indicator("telecom_arrears_months", "kait", _M, _("Telephone bill arrears"),
              _("phone bill unpaid %(value)s months"), 3, 120),
    Indicator("business_closed", "nts", _F, _("Business closed"), _("closed their business"), 1, 1),
    Indicator("released_from_prison", "moj", _F, _("Recently released from a correctional facility"),
              _("recently released from a correctional facility"), 1, 1),
    Indicator("industrial_accident_ended", "comwel", _F, _("Industrial-accident care ended"),
              _("industrial-accident care ended"), 1, 1),
    Indicator("livelihood_benefit_ended", "ssis", _F, _("Basic livelihood benefit stopped"),
              _("basic livelihood benefit stopped"), 1, 1),
    Indicator("emergency_aid_past", "ssis", _F, _("Emergency welfare aid in the past"),
              _("received emergency welfare aid before"), 1, 1),
    Indicator("prior_support_count", "ssis", Unit.COUNT, _("Public support received before"),
              _("%(value)s kinds of public support received before"), 2, 50),
    Indicator("care_service_ended", "ssis", _F, _("Care service for older people ended"),
              _("care service for older people ended"), 1, 1),
    Indicator("single_parent", "ssis", _F, _("Single-parent household"), _("single-parent household"), 1, 1),
    Indicator("disability", "ssis", _F, _("Registered disability"), _("a registered disability"), 1, 1,
              sensitive=True),
    Indicator("severe_disability", "ssis", _F, _("Severe disability"), _("a severe disability"), 1, 1,
              sensitive=True),
    Indicator("mental_health_crisis", "health_centre", _F, _("Mental-health crisis (suicide risk)"),
              _("a recent mental-health crisis"), 1, 1, sensitive=True),
    Indicator("insecure_housing", "local", _F, _("Insecure housing (goshiwon, jjokbang, greenhouse)"),
              _("lives in insecure housing"), 1, 1),
    Indicator("semi_basement", "local", _F, _("Semi-basement home"), _("lives in a semi-basement"), 1, 1),
    Indicator("local_tax_arrears_months", "local", _M, _("Local tax arrears"),
              _("local taxes unpaid %(value)s months"), 6, 120),
    Indicator("living_alone", "register", _F, _("Lives alone"), _("lives alone"), 1, 1),
    Indicator("age", "register", Unit.YEARS, _("Age of the head of household"), _("aged %(value)s"), 65, 120),
    Indicator("member_died_recently", "register", _F, _("A household member died recently"),
              _("a household member died in the last six months"), 1, 1),
    Indicator("moved_in_recently", "register", _F, _("Moved in recently"), _("moved in within the last year"),
              1, 1),
    Indicator("activity_decline_pct", "sensing", Unit.PERCENT, _("Declining activity at home (sensors)"),
              _("activity at home down %(value)s%% over four weeks"), 30, 100),
    Indicator("helper_crisis_signs", "safetynet", Unit.COUNT, _("Crisis signs seen by a helper"),
              _("a helper saw %(value)s crisis signs"), 1, 50),
    Indicator("unanswered_check_ins", "safetynet", Unit.COUNT, _("Unanswered check-ins"),
              _("%(value)s check-ins unanswered"), 2, 50),
)  # fmt: skip

BY_CODE: dict[str, Indicator] = {i.code: i for i in INDICATORS}
CODES: tuple[str, ...] = tuple(i.code for i in INDICATORS)

# Household facts that come with the roster rather than from a source file.
ROSTER_DERIVED = ("living_alone", "age")

# How long ago an indicator may have been refreshed before a run warns that the source is stale (the national
# system screens every two months).
STALE_AFTER_DAYS = 62


def indicators_of(source: str) -> tuple[Indicator, ...]:
    return tuple(i for i in INDICATORS if i.source == source and i.code not in ROSTER_DERIVED)


def age_band(age: int | None) -> str:
    """The bands of the fairness table: under 40, 40–64, 65–79, 80 and over."""
    if age is None:
        return "unknown"
    if age < 40:
        return "<40"
    if age < 65:
        return "40-64"
    if age < 80:
        return "65-79"
    return "80+"

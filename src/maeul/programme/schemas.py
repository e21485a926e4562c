"""Typed inputs of the programme, shared by the web forms and the JSON API. A malformed value is refused here,
before anything is stored; whether an application meets its call is judged at submission (``services``)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from maeul.programme.models import AllocationRule, AttachmentKind, BudgetCategory, Normalisation


class CriterionInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=400)
    points: int = Field(ge=1, le=100)


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ranks: int = Field(ge=1, le=500, description="How many ranks the band covers, continuing from the last band")
    amount_krw: int = Field(ge=0)


# The default rubric, in the ministry's language (call data, edited per call like any other value): need and local
# conditions 20, feasibility 25, community participation 20, technology and data 15, measurable targets 20.
DEFAULT_CRITERIA = [
    CriterionInput(code="need", name="지역 여건과 필요성", points=20, description="취약 주민과 안전 위험의 현황"),
    CriterionInput(
        code="feasibility", name="사업계획의 구체성과 실현 가능성", points=25, description="추진 단계, 조직, 일정, 예산"
    ),
    CriterionInput(
        code="participation",
        name="주민 참여와 민관 협력",
        points=20,
        description="안전협의체, 인적 안전망, 자원 기관과의 연계",
    ),
    CriterionInput(code="technology", name="기술과 데이터 활용", points=15, description="IoT, 데이터, 서비스 연계"),
    CriterionInput(
        code="outcomes",
        name="성과 목표와 지속 가능성",
        points=20,
        description="기준선 대비 성과지표 목표, 지원 종료 후 지속 방안",
    ),
]

# 8 × 50 M + 8 × 45 M + 6 × 40 M = 1,000 M for 22 sites: both caps hold.
DEFAULT_BANDS = [
    Band(ranks=8, amount_krw=50_000_000),
    Band(ranks=8, amount_krw=45_000_000),
    Band(ranks=6, amount_krw=40_000_000),
]


class CallInput(BaseModel):
    """A call's configuration; the defaults are the programme's announcement."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    year: int = Field(ge=2020, le=2100)
    title: str = Field(min_length=1, max_length=200)
    types: list[int] = Field(default_factory=lambda: [1, 2])
    cap_per_local_government_krw: int = Field(50_000_000, ge=1)
    national_total_krw: int = Field(1_000_000_000, ge=1)
    national_share_percent: int = Field(50, ge=1, le=100)
    sites_to_select: int = Field(22, ge=1, le=500)
    opens_on: date
    closes_on: date
    evaluation_due_on: date
    results_on: date
    execution_ends_on: date
    report_due_days: int = Field(20, ge=1, le=90)
    baseline_days: int = Field(90, ge=7, le=730)
    allocation_rule: AllocationRule = AllocationRule.SCORE_BANDS
    bands: list[Band] = Field(default_factory=lambda: list(DEFAULT_BANDS))
    normalisation: Normalisation = Normalisation.Z_SCORE
    min_experts_per_application: int = Field(3, ge=1, le=20)
    required_attachments: list[AttachmentKind] = Field(
        default_factory=lambda: [AttachmentKind.PLAN, AttachmentKind.MATCHING_FUNDS]
    )
    criteria: list[CriterionInput] = Field(default_factory=lambda: list(DEFAULT_CRITERIA))

    @model_validator(mode="after")
    def _consistent(self) -> CallInput:
        if not self.types or not set(self.types) <= {1, 2}:
            raise ValueError("types: offer type 1, type 2 or both")
        if not self.opens_on <= self.closes_on <= self.evaluation_due_on <= self.results_on <= self.execution_ends_on:
            raise ValueError(
                "dates: they must follow in order — opens, closes, evaluation due, results, execution ends"
            )
        if self.cap_per_local_government_krw > self.national_total_krw:
            raise ValueError("cap_per_local_government_krw: the cap per local government exceeds the national total")
        codes = [c.code for c in self.criteria]
        if not codes or len(set(codes)) != len(codes):
            raise ValueError("criteria: give at least one criterion, each with its own code")
        if sum(c.points for c in self.criteria) != 100:
            raise ValueError(f"criteria: the points must add up to 100, not {sum(c.points for c in self.criteria)}")
        if self.allocation_rule == AllocationRule.SCORE_BANDS:
            self._check_bands()
        return self

    def _check_bands(self) -> None:
        cap, total = self.cap_per_local_government_krw, self.national_total_krw
        over = [b.amount_krw for b in self.bands if b.amount_krw > cap]
        if over:
            raise ValueError(
                f"bands: a band's amount ({over[0]:,} KRW) exceeds the cap per local government ({cap:,} KRW)"
            )
        if sum(b.ranks for b in self.bands) < self.sites_to_select:
            raise ValueError(f"bands: the bands cover fewer ranks than the {self.sites_to_select} sites to select")
        committed, left = 0, self.sites_to_select
        for band in self.bands:
            taken = min(band.ranks, left)
            committed += taken * band.amount_krw
            left -= taken
        if committed > total:
            raise ValueError(
                f"bands: the selected sites' bands add up to {committed:,} KRW, more than the national total of "
                f"{total:,} KRW"
            )


class BudgetLineInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: BudgetCategory
    description: str = Field(min_length=1, max_length=200)
    national_krw: int = Field(ge=0, le=10_000_000_000)
    local_krw: int = Field(ge=0, le=10_000_000_000)


class KpiTargetInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kpi: str = Field(min_length=1, max_length=40)
    target: float
    note: str = Field("", max_length=200)


class ApplicationInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    programme_type: int = Field(ge=1, le=2)
    target_area_codes: list[str] = Field(default_factory=list, max_length=60)
    title: str = Field(min_length=1, max_length=200)
    plan: str = Field("", max_length=20_000)
    budget_lines: list[BudgetLineInput] = Field(default_factory=list, max_length=50)
    kpi_targets: list[KpiTargetInput] = Field(default_factory=list, max_length=20)


class SpendingInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    line_id: int
    spent_on: date
    national_krw: int = Field(0, ge=0)
    local_krw: int = Field(0, ge=0)
    description: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _something_spent(self) -> SpendingInput:
        if self.national_krw == 0 and self.local_krw == 0:
            raise ValueError("national_krw: enter the amount spent (national, local or both)")
        return self


class QuarterlyReportInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    year: int = Field(ge=2020, le=2100)
    quarter: int = Field(ge=1, le=4)
    progress: str = Field(min_length=10, max_length=10_000)
    issues: str = Field("", max_length=5_000)

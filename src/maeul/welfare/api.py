"""The JSON API for cases, referrals, follow-ups and verification tasks; every operation calls welfare.services."""

from dataclasses import asdict
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.welfare import services
from maeul.welfare.models import CaseSource, VerificationKind

router = Router(tags=["welfare"])


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request), channel="api")


class CaseRowOut(Schema):
    id: int
    household_id: int
    household_reference: str
    primary_name: str
    area_code: str
    source: str
    status: str
    priority: int
    assigned_to_name: str
    opened_at: datetime
    updated_at: datetime
    active_referrals: int
    next_follow_up: date | None


class CasePageOut(Schema):
    rows: list[CaseRowOut]
    total: int
    page: int
    pages: int


class CaseHandleOut(Schema):
    id: int
    household_id: int
    household_reference: str
    area_code: str
    status: str
    source: str
    priority: int
    assigned_to_id: int | None
    opened_at: datetime
    created: bool


class NeedOut(Schema):
    domain: str
    level: int
    note: str
    by: str
    at: datetime


class ReferralEventOut(Schema):
    at: datetime
    from_status: str
    to_status: str
    reason: str
    by: str


class ReferralOut(Schema):
    id: int
    case_id: int
    household_reference: str
    service_id: UUID
    service_name: str
    organization_id: UUID
    organization_name: str
    need_domain: str
    status: str
    note: str
    sent_at: datetime
    accepted_at: datetime | None
    declined_at: datetime | None
    decline_reason: str
    delivered_at: datetime | None
    closed_at: datetime | None
    unsuccessful_reason: str
    response_note: str
    next_statuses: list[str]
    history: list[ReferralEventOut]


class FollowUpOut(Schema):
    id: int
    case_id: int
    due_on: date
    what: str
    assigned_to_id: int | None
    done_at: datetime | None
    result: str
    cancelled: bool
    overdue: bool


class CaseDetailOut(Schema):
    id: int
    household_id: int
    household_reference: str
    primary_name: str
    phone: str
    address: str
    area_code: str
    source: str
    source_ref: str
    status: str
    priority: int
    assigned_to_id: int | None
    summary: str
    plan: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    outcome: str
    closing_note: str
    needs: list[NeedOut]
    referrals: list[ReferralOut]
    follow_ups: list[FollowUpOut]
    partner_sharing_allowed: bool


class CaseQuery(Schema):
    status: str = Field("open", pattern=r"^(open|closed|all)$")
    mine: bool = False
    area_code: str = Field("", pattern=r"^(\d{10})?$")
    source: str = ""
    sort: str = Field("priority", pattern=r"^(priority|updated)$")
    page: int = Field(1, ge=1, le=100_000)


class CaseIn(Schema):
    household_id: int
    source: CaseSource = CaseSource.WALK_IN
    source_ref: str = Field("", max_length=64)
    summary: str = Field("", max_length=4000)
    needs: list[str] = Field(default_factory=list, description="Need domains: income, food, housing, …")


class AssessIn(Schema):
    domain: str
    level: int = Field(ge=0, le=4, description="0 none, 1 low, 2 moderate, 3 high, 4 critical")
    note: str = Field("", max_length=2000)


class PlanIn(Schema):
    plan: str = Field(max_length=8000)


class CloseIn(Schema):
    outcome: str = Field(description="needs_met, referred_and_served, client_refused, moved_away, deceased, …")
    note: str = Field("", max_length=2000)


class ReferralIn(Schema):
    service_id: UUID
    need_domain: str = ""
    note: str = Field("", max_length=2000)


class TransitionIn(Schema):
    status: str = Field(description="accepted, declined, delivered or closed_unsuccessful")
    reason: str = Field("", description="For closed_unsuccessful: client_refused, no_capacity, …")
    note: str = Field("", max_length=2000)


class PartnerReferralOut(Schema):
    id: int
    household_reference: str
    name: str
    phone: str
    address: str
    need_domain: str
    note: str
    service_name: str
    organization_name: str
    status: str
    sent_at: datetime
    updated_at: datetime
    decline_reason: str
    unsuccessful_reason: str
    response_note: str
    next_statuses: list[str]


class InboxRowOut(Schema):
    id: int
    household_reference: str
    name: str
    need_domain: str
    service_name: str
    organization_name: str
    status: str
    sent_at: datetime
    updated_at: datetime


class FollowUpIn(Schema):
    due_on: date
    what: str = Field(min_length=1, max_length=500)
    assigned_to_id: int | None = None


class FollowUpDoneIn(Schema):
    result: str = Field("", max_length=2000)


class VerificationIn(Schema):
    household_id: int
    kind: VerificationKind
    source: str = Field(max_length=20)
    source_ref: str = Field("", max_length=64)
    note: str = Field("", max_length=2000)


class VerificationOut(Schema):
    id: int
    household_id: int
    household_reference: str
    area_code: str
    kind: str
    source: str
    source_ref: str
    note: str
    status: str
    assigned_to_id: int | None
    opened_at: datetime
    resolution: str
    resolved_at: datetime | None
    created: bool


class VerificationResolveIn(Schema):
    resolution: str = Field(description="verified, corrected or unreachable")
    note: str = Field("", max_length=2000)
    address: str = Field("", max_length=200)
    address_detail: str = Field("", max_length=100)
    phone: str = Field("", max_length=20)


class CaseHandoverIn(Schema):
    from_user_id: int
    to_user_id: int


class CaseHandoverOut(Schema):
    cases: int
    follow_ups: int
    verification_tasks: int


# --- cases -------------------------------------------------------------------------------------------------


@router.get("/cases", response=CasePageOut, summary="Cases in your areas, by priority or last change")
@api_requires(Resource.CASE, Action.VIEW)
def list_cases(request: HttpRequest, query: Query[CaseQuery]) -> dict[str, Any]:
    filters = services.CaseFilters(
        status=query.status, mine=query.mine, area_code=query.area_code, source=query.source, sort=query.sort
    )
    page = services.list_cases(_actor(request), filters, page=query.page)
    return {"rows": [asdict(r) for r in page.rows], "total": page.total, "page": page.page, "pages": page.pages}


@router.post(
    "/cases", response={200: CaseHandleOut, 201: CaseHandleOut}, summary="Open a case (or add to the open one)"
)
@api_requires(Resource.CASE, Action.CREATE)
def open_case(request: HttpRequest, payload: CaseIn) -> Status[Any]:
    case = services.open_case(
        _actor(request),
        payload.household_id,
        source=payload.source,
        source_ref=payload.source_ref,
        summary=payload.summary,
        needs=payload.needs,
    )
    return Status(201 if case.created else 200, case)


@router.get("/cases/{case_id}", response=CaseDetailOut, summary="One case with needs, referrals and follow-ups")
@api_requires(Resource.CASE, Action.VIEW)
def get_case(request: HttpRequest, case_id: int) -> services.CaseDetail:
    return services.read_case(_actor(request), case_id)


@router.post("/cases/{case_id}/assessments", response=NeedOut, summary="Assess one need domain")
@api_requires(Resource.CASE, Action.CHANGE)
def assess(request: HttpRequest, case_id: int, payload: AssessIn) -> services.NeedView:
    return services.assess(_actor(request), case_id, payload.domain, payload.level, payload.note)


@router.put("/cases/{case_id}/plan", response=PlanIn, summary="Replace the plan")
@api_requires(Resource.CASE, Action.CHANGE)
def plan(request: HttpRequest, case_id: int, payload: PlanIn) -> dict[str, str]:
    return {"plan": services.update_plan(_actor(request), case_id, payload.plan)}


@router.post("/cases/{case_id}/close", response=CaseHandleOut, summary="Close with an outcome")
@api_requires(Resource.CASE, Action.CHANGE)
def close(request: HttpRequest, case_id: int, payload: CloseIn) -> services.CaseView:
    return services.close_case(_actor(request), case_id, payload.outcome, payload.note)


@router.post("/cases/handover", response=CaseHandoverOut, summary="Move an official's open work to a successor")
@api_requires(Resource.CASE, Action.CHANGE)
def handover(request: HttpRequest, payload: CaseHandoverIn) -> dict[str, int]:
    return services.hand_over(_actor(request), payload.from_user_id, payload.to_user_id)


# --- referrals ---------------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/referrals", response={201: ReferralOut}, summary="Refer to a partner's service")
@api_requires(Resource.REFERRAL, Action.CREATE)
def refer(request: HttpRequest, case_id: int, payload: ReferralIn) -> Status[Any]:
    return Status(
        201,
        services.send_referral(
            _actor(request), case_id, payload.service_id, need_domain=payload.need_domain, note=payload.note
        ),
    )


class ReferralQuery(Schema):
    status: str = ""
    page: int = Field(1, ge=1, le=100_000)


@router.get("/referrals", response=list[InboxRowOut], summary="Referrals you may see (partners: your organisation's)")
@api_requires(Resource.REFERRAL, Action.VIEW)
def list_referrals(request: HttpRequest, query: Query[ReferralQuery]) -> list[services.PartnerInboxRow]:
    rows, _total = services.referral_inbox(_actor(request), query.status, page=query.page)
    return rows


@router.get("/referrals/{referral_id}", response=PartnerReferralOut, summary="One referral, minimum personal data")
@api_requires(Resource.REFERRAL, Action.VIEW)
def get_referral(request: HttpRequest, referral_id: int) -> services.PartnerReferral:
    return services.read_referral(_actor(request), referral_id)


@router.post("/referrals/{referral_id}/status", response=ReferralOut, summary="Accept, decline, deliver or close")
@api_requires(Resource.REFERRAL, Action.CHANGE)
def transition(request: HttpRequest, referral_id: int, payload: TransitionIn) -> services.ReferralView:
    return services.transition_referral(
        _actor(request), referral_id, payload.status, reason=payload.reason, note=payload.note
    )


# --- follow-ups --------------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/follow-ups", response={201: FollowUpOut}, summary="Plan a follow-up")
@api_requires(Resource.CASE, Action.CHANGE)
def add_follow_up(request: HttpRequest, case_id: int, payload: FollowUpIn) -> Status[Any]:
    return Status(
        201,
        services.add_follow_up(
            _actor(request), case_id, due_on=payload.due_on, what=payload.what, assigned_to_id=payload.assigned_to_id
        ),
    )


@router.post("/follow-ups/{follow_up_id}/done", response=FollowUpOut, summary="Record a follow-up as done")
@api_requires(Resource.CASE, Action.CHANGE)
def follow_up_done(request: HttpRequest, follow_up_id: int, payload: FollowUpDoneIn) -> services.FollowUpView:
    return services.complete_follow_up(_actor(request), follow_up_id, payload.result)


@router.get("/follow-ups", response=list[FollowUpOut], summary="Your open follow-ups, soonest first")
@api_requires(Resource.CASE, Action.VIEW)
def my_follow_ups(request: HttpRequest) -> list[services.FollowUpView]:
    return services.my_follow_ups(_actor(request))


# --- verification tasks ------------------------------------------------------------------------------------


@router.get("/verification-tasks", response=list[VerificationOut], summary="Address and contact checks")
@api_requires(Resource.CASE, Action.VIEW)
def list_verification(request: HttpRequest, status: str = "open") -> list[services.VerificationTaskView]:
    return services.list_verification_tasks(_actor(request), status)


@router.post("/verification-tasks", response={200: VerificationOut, 201: VerificationOut}, summary="Open a check")
@api_requires(Resource.CASE, Action.CREATE)
def open_verification(request: HttpRequest, payload: VerificationIn) -> Status[Any]:
    task = services.open_verification_task(
        _actor(request),
        payload.household_id,
        kind=payload.kind,
        source=payload.source,
        source_ref=payload.source_ref,
        note=payload.note,
    )
    return Status(201 if task.created else 200, task)


@router.post("/verification-tasks/{task_id}/resolve", response=VerificationOut, summary="Resolve a check")
@api_requires(Resource.CASE, Action.CHANGE)
def resolve_verification(
    request: HttpRequest, task_id: int, payload: VerificationResolveIn
) -> services.VerificationTaskView:
    return services.resolve_verification_task(
        _actor(request),
        task_id,
        resolution=payload.resolution,
        note=payload.note,
        address=payload.address,
        address_detail=payload.address_detail,
        phone=payload.phone,
    )

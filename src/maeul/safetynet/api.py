"""The JSON API of the safety net: helpers, assignments, suggestions, schedules, the due list and check-ins.

``POST /check-ins`` is idempotent on ``client_id``: 201 when stored, 200 with the stored one on a repeat."""

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.safetynet import services
from maeul.safetynet.models import CheckInSchedule
from maeul.safetynet.schemas import (
    MAX_ID,
    AssignmentInput,
    CheckInInput,
    HelperInput,
    HelperRecordInput,
    ScheduleInput,
)

router = Router(tags=["safety net"])


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request), channel="api")


class RecordOut(Schema):
    id: int
    kind: str
    title: str
    completed_on: date
    expires_on: date | None


class HelperOut(Schema):
    id: int
    kind: str
    name: str
    phone: str
    area_codes: list[str]
    skills: list[str]
    languages: list[str]
    availability: list[str]
    max_households: int
    load: int
    latitude: float | None
    longitude: float | None
    active: bool
    consent_given_on: date | None
    consent_withdrawn_on: date | None
    account_id: int | None
    coordinator_id: int | None
    records: list[RecordOut]


class AssignmentOut(Schema):
    id: int
    household_id: int
    household_reference: str
    helper_id: int
    helper_name: str
    role: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str


class HelperDetailOut(Schema):
    helper: HelperOut
    assignments: list[AssignmentOut]
    recent_check_ins: int


class HelperQuery(Schema):
    area_code: str = Field("", pattern=r"^(\d{10})?$")
    kind: str = ""
    status: str = Field("active", pattern=r"^(active|inactive|all)$")
    q: str = Field("", max_length=60, description="Exact name or phone number")


class DeactivateIn(Schema):
    reason: str = Field("", max_length=120)
    consent_withdrawn: bool = False


class EndIn(Schema):
    reason: str = Field("", max_length=120)


class HelperSuggestionOut(Schema):
    helper_id: int
    name: str
    kind: str
    score: float
    distance_km: float | None
    load: int
    max_households: int
    reasons: list[str]


class ScheduleOut(Schema):
    id: int
    household_id: int
    kind: str
    interval_days: int
    helper_id: int | None
    follows_primary: bool
    next_due_on: date
    active: bool
    last_result: str
    last_check_in_at: datetime | None


class CheckInOut(Schema):
    id: int
    household_id: int
    helper_id: int | None
    helper_name: str
    kind: str
    result: str
    crisis_signs: list[str]
    note: str
    occurred_at: datetime
    recorded_at: datetime
    case_id: int | None
    verification_task_id: int | None


class SafetyNetOut(Schema):
    household_id: int
    status: str
    assignments: list[AssignmentOut]
    schedules: list[ScheduleOut]
    check_ins: list[CheckInOut]


class DueItemOut(Schema):
    schedule_id: int
    household_id: int
    household_reference: str
    resident_name: str
    address: str
    phone: str
    kind: str
    due_on: date
    overdue_days: int
    last_result: str
    last_check_in_at: datetime | None


class DueQuery(Schema):
    on: date | None = None


class CheckInOutcomeOut(Schema):
    check_in_id: int
    created: bool
    case_id: int | None
    verification_task_id: int | None
    alert_id: int | None


class CoverageQuery(Schema):
    area_code: str = Field("", pattern=r"^(\d{10})?$")
    lapsed_after_days: int = Field(7, ge=0, le=90)


class UncoveredOut(Schema):
    id: int
    reference: str
    care_level: int


class LapsedOut(Schema):
    schedule_id: int
    household_id: int
    reference: str
    kind: str
    due_on: date
    overdue_days: int
    helper_id: int | None


class AreaCoverageOut(Schema):
    area_code: str
    area_name: str
    households: int
    covered: int
    uncovered_count: int
    uncovered: list[UncoveredOut]
    lapsed: list[LapsedOut]
    helpers: int


class CoverageOut(Schema):
    areas: list[AreaCoverageOut]
    overloaded: list[HelperOut]
    lapsed_after_days: int


class HelperHandoverIn(Schema):
    from_user_id: int = Field(ge=1, le=MAX_ID)
    to_user_id: int = Field(ge=1, le=MAX_ID)


class HelperHandoverOut(Schema):
    id: int
    from_user_id: int | None
    to_user_id: int | None
    at: datetime
    counts: dict[str, int]


def _schedule(s: CheckInSchedule) -> dict[str, Any]:
    return {
        "id": s.pk,
        "household_id": s.household_id,
        "kind": s.kind,
        "interval_days": s.interval_days,
        "helper_id": s.helper_id,
        "follows_primary": s.follows_primary,
        "next_due_on": s.next_due_on,
        "active": s.active,
        "last_result": s.last_result,
        "last_check_in_at": s.last_check_in_at,
    }


# --- helpers ---------------------------------------------------------------------------------------------------


@router.get("/helpers", response=list[HelperOut], summary="Helpers in your scope, with their load")
@api_requires(Resource.HELPER, Action.VIEW)
def list_helpers(request: HttpRequest, query: Query[HelperQuery]) -> list[services.HelperView]:
    filters = services.HelperFilters(
        area_code=query.area_code,
        kind=query.kind,
        active={"active": True, "inactive": False}.get(query.status),
        q=query.q,
    )
    return services.list_helpers(_actor(request), filters)


@router.post("/helpers", response={201: HelperOut}, summary="Register a helper (name and phone stored encrypted)")
@api_requires(Resource.HELPER, Action.CREATE)
def register_helper(request: HttpRequest, payload: HelperInput) -> Status[services.HelperView]:
    return Status(201, services.register_helper(_actor(request), payload))


@router.get("/helpers/{helper_id}", response=HelperDetailOut, summary="One helper with records and assignments")
@api_requires(Resource.HELPER, Action.VIEW)
def get_helper(request: HttpRequest, helper_id: int) -> services.HelperDetail:
    return services.read_helper(_actor(request), helper_id)


@router.put("/helpers/{helper_id}", response=HelperOut, summary="Replace a helper's details")
@api_requires(Resource.HELPER, Action.CHANGE)
def update_helper(request: HttpRequest, helper_id: int, payload: HelperInput) -> services.HelperView:
    return services.update_helper(_actor(request), helper_id, payload)


@router.post(
    "/helpers/{helper_id}/deactivate", response=list[int], summary="Deactivate; returns the households it leaves"
)
@api_requires(Resource.HELPER, Action.CHANGE)
def deactivate_helper(request: HttpRequest, helper_id: int, payload: DeactivateIn) -> list[int]:
    return services.deactivate_helper(
        _actor(request), helper_id, payload.reason, consent_withdrawn=payload.consent_withdrawn
    )


@router.post("/helpers/{helper_id}/records", response={201: RecordOut}, summary="Add a training or background check")
@api_requires(Resource.HELPER, Action.CHANGE)
def add_record(request: HttpRequest, helper_id: int, payload: HelperRecordInput) -> Status[dict[str, Any]]:
    record = services.add_record(_actor(request), helper_id, payload)
    return Status(
        201,
        {
            "id": record.pk,
            "kind": record.kind,
            "title": record.title,
            "completed_on": record.completed_on,
            "expires_on": record.expires_on,
        },
    )


@router.post("/helper-handovers", response={201: HelperHandoverOut}, summary="Hand an official's post to a successor")
@api_requires(Resource.MEMBERS, Action.CHANGE)
def hand_over(request: HttpRequest, payload: HelperHandoverIn) -> Status[dict[str, Any]]:
    done = services.hand_over(_actor(request), payload.from_user_id, payload.to_user_id)
    return Status(
        201,
        {
            "id": done.pk,
            "from_user_id": done.from_user_id,
            "to_user_id": done.to_user_id,
            "at": done.at,
            "counts": done.counts,
        },
    )


# --- households: assignments, suggestions, schedules -----------------------------------------------------------


@router.get("/households/{household_id}/safety-net", response=SafetyNetOut, summary="Helpers, schedules, check-ins")
@api_requires(Resource.CHECK_IN, Action.VIEW)
def household_safety_net(request: HttpRequest, household_id: int) -> dict[str, Any]:
    net = services.household_safety_net(_actor(request), household_id)
    return {
        "household_id": net.household_id,
        "status": net.status,
        "assignments": [asdict(a) for a in net.assignments],
        "schedules": [_schedule(s) for s in net.schedules],
        "check_ins": [asdict(c) for c in net.check_ins],
    }


@router.post(
    "/households/{household_id}/assignments", response={201: AssignmentOut}, summary="Assign a primary or backup"
)
@api_requires(Resource.CHECK_IN, Action.CHANGE)
def assign_helper(request: HttpRequest, household_id: int, payload: AssignmentInput) -> Status[services.AssignmentView]:
    return Status(201, services.assign_helper(_actor(request), household_id, payload))


@router.post("/assignments/{assignment_id}/end", response={204: None}, summary="End an assignment")
@api_requires(Resource.CHECK_IN, Action.CHANGE)
def end_assignment(request: HttpRequest, assignment_id: int, payload: EndIn) -> Status[None]:
    services.end_assignment(_actor(request), assignment_id, payload.reason)
    return Status(204, None)


@router.get(
    "/households/{household_id}/helper-suggestions",
    response=list[HelperSuggestionOut],
    summary="Helpers to assign, best first, with the reasons",
)
@api_requires(Resource.CHECK_IN, Action.CHANGE)
def suggestions(request: HttpRequest, household_id: int, language: str = "") -> list[services.Suggestion]:
    return services.suggest_helpers(_actor(request), household_id, language=language[:3])


@router.post("/households/{household_id}/schedules", response={201: ScheduleOut}, summary="Add a check-in schedule")
@api_requires(Resource.CHECK_IN, Action.CHANGE)
def add_schedule(request: HttpRequest, household_id: int, payload: ScheduleInput) -> Status[dict[str, Any]]:
    return Status(201, _schedule(services.add_schedule(_actor(request), household_id, payload)))


@router.post("/schedules/{schedule_id}/end", response={204: None}, summary="Stop a schedule")
@api_requires(Resource.CHECK_IN, Action.CHANGE)
def end_schedule(request: HttpRequest, schedule_id: int) -> Status[None]:
    services.end_schedule(_actor(request), schedule_id)
    return Status(204, None)


@router.get("/coverage", response=CoverageOut, summary="Households without a helper, lapsed visits, overloaded helpers")
@api_requires(Resource.CHECK_IN, Action.VIEW)
def coverage(request: HttpRequest, query: Query[CoverageQuery]) -> services.CoverageReport:
    return services.coverage_report(
        _actor(request), area_code=query.area_code, lapsed_after_days=query.lapsed_after_days
    )


# --- the helper's day ----------------------------------------------------------------------------------------


@router.get("/check-ins/due", response=list[DueItemOut], summary="Your check-ins due today (helpers)")
@api_requires(Resource.CHECK_IN, Action.VIEW)
def due(request: HttpRequest, query: Query[DueQuery]) -> list[services.DueItem]:
    return services.due_list(_actor(request), query.on)


@router.post(
    "/check-ins",
    response={200: CheckInOutcomeOut, 201: CheckInOutcomeOut},
    summary="Record a check-in; repeating a client_id returns the stored one (200)",
)
@api_requires(Resource.CHECK_IN, Action.CREATE)
def record_check_in(request: HttpRequest, payload: CheckInInput) -> Status[services.CheckInOutcome]:
    outcome = services.record_check_in(_actor(request), payload)
    return Status(201 if outcome.created else 200, outcome)

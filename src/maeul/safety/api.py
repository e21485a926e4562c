"""The JSON API for Type 1 work: reading and triaging hazard reports, the map, improvement tasks and the yearly
plan. Residents' apps file reports through Open311 (``/open311/v2/``), the interchange standard for that."""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.safety import services
from maeul.safety.models import ImprovementTask
from maeul.safety.schemas import StatusChange, TaskInput, TriageInput

router = Router(tags=["safety"])


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request), channel="api")


class UpdateOut(Schema):
    at: datetime
    status: str
    responder: str
    note: str


class ReportOut(Schema):
    id: int
    reference: str
    area_code: str
    area_name: str
    category_code: str
    category_name: str
    latitude: float
    longitude: float
    location_approximate: bool
    address: str
    description: str
    attributes: dict[str, Any]
    status: str
    status_notes: str
    is_open: bool
    likelihood: int | None
    severity: int | None
    risk_score: int | None
    risk_level: str
    urgent: bool
    responder_code: str
    responder_name: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    overdue: bool
    task_id: int | None
    duplicate_of: str
    followers: int
    updates: list[UpdateOut]


class ReportRowOut(Schema):
    id: int
    reference: str
    area_name: str
    category_code: str
    category_name: str
    status: str
    urgent: bool
    risk_score: int | None
    risk_level: str
    responder_name: str
    created_at: datetime
    due_at: datetime
    overdue: bool


class ReportPageOut(Schema):
    rows: list[ReportRowOut]
    total: int
    page: int
    pages: int


class ReportQuery(Schema):
    status: str = Field("open", pattern=r"^(open|closed|all|submitted|routed|in_progress|resolved|duplicate|rejected)$")
    category: str = Field("", max_length=40)
    area_code: str = Field("", pattern=r"^(\d{10})?$")
    urgent: bool = False
    overdue: bool = False
    q: str = Field("", max_length=20, description="A report number, e.g. R-000123")
    since: date | None = None
    page: int = Field(1, ge=1, le=100000)
    per_page: int = Field(25, ge=1, le=200)


class MapQuery(Schema):
    south: float = Field(ge=-90, le=90)
    west: float = Field(ge=-180, le=180)
    north: float = Field(ge=-90, le=90)
    east: float = Field(ge=-180, le=180)
    zoom: int = Field(13, ge=1, le=20)
    density: bool = False
    status: str = Field("open", pattern=r"^(open|closed|all|submitted|routed|in_progress|resolved|duplicate|rejected)$")
    category: str = Field("", max_length=40)


class CategoryChange(Schema):
    category: str = Field(min_length=1, max_length=40)
    note: str = Field("", max_length=500)


class TaskOut(Schema):
    id: int
    area_code: str
    title: str
    description: str
    source: str
    responder_code: str
    budget_krw: int
    plan_year: int
    due_date: date | None
    status: str
    confirmed_at: datetime | None
    report_references: list[str]


class PlanOut(Schema):
    area_code: str
    year: int
    tasks: list[TaskOut]
    budget_total: int
    budget_by_status: dict[str, int]
    closed: int


def _task_out(task: ImprovementTask) -> TaskOut:
    return TaskOut(
        id=task.pk,
        area_code=task.area_id,
        title=task.title,
        description=task.description,
        source=task.source,
        responder_code=task.responder.code if task.responder else "",
        budget_krw=task.budget_krw,
        plan_year=task.plan_year,
        due_date=task.due_date,
        status=task.status,
        confirmed_at=task.confirmed_at,
        report_references=list(task.reports.values_list("reference", flat=True)),
    )


def _filters(query: ReportQuery | MapQuery) -> services.ReportFilters:
    if isinstance(query, MapQuery):
        return services.ReportFilters(status=query.status, category=query.category)
    return services.ReportFilters(**query.model_dump(exclude={"page", "per_page"}))


@router.get("/hazards", response=ReportPageOut, summary="Hazard reports in your scope")
@api_requires(Resource.HAZARD, Action.VIEW)
def list_reports(request: HttpRequest, query: Query[ReportQuery]) -> services.ReportPage:
    return services.list_reports(request_principal(request), _filters(query), query.page, query.per_page)


@router.get("/hazards/map", response=dict[str, Any], summary="Every report in a box, as points or counted cells")
@api_requires(Resource.HAZARD, Action.VIEW)
def report_map(request: HttpRequest, query: Query[MapQuery]) -> dict[str, Any]:
    qs = services.filtered_reports(services.visible_reports(request_principal(request)), _filters(query))
    return services.map_data(qs, (query.south, query.west, query.north, query.east), query.zoom, query.density)


@router.get("/hazards/{report_id}", response=ReportOut, summary="One hazard report with its history")
@api_requires(Resource.HAZARD, Action.VIEW)
def get_report(request: HttpRequest, report_id: int) -> services.ReportView:
    return services.read_report(request_principal(request), report_id)


@router.post("/hazards/{report_id}/triage", response=ReportOut, summary="Score on the 5×5 matrix and route")
@api_requires(Resource.HAZARD, Action.CHANGE)
def triage(request: HttpRequest, report_id: int, payload: TriageInput) -> services.ReportView:
    services.triage(_actor(request), report_id, payload)
    return services.read_report(request_principal(request), report_id)


@router.post("/hazards/{report_id}/category", response=ReportOut, summary="Move to the right category (re-routes)")
@api_requires(Resource.HAZARD, Action.CHANGE)
def recategorise(request: HttpRequest, report_id: int, payload: CategoryChange) -> services.ReportView:
    services.recategorise(_actor(request), report_id, payload.category, payload.note)
    return services.read_report(request_principal(request), report_id)


@router.post("/hazards/{report_id}/status", response=ReportOut, summary="In progress, resolved, rejected, duplicate")
@api_requires(Resource.HAZARD, Action.CHANGE)
def change_status(request: HttpRequest, report_id: int, payload: StatusChange) -> services.ReportView:
    services.change_status(_actor(request), report_id, payload)
    return services.read_report(request_principal(request), report_id)


@router.get("/safety/tasks", response=list[TaskOut], summary="Improvement tasks in your scope")
@api_requires(Resource.SAFETY_TASK, Action.VIEW)
def list_tasks(
    request: HttpRequest,
    area_code: str = Query("", pattern=r"^(\d{10})?$"),  # type: ignore[type-arg]
    year: int | None = Query(None, ge=2000, le=2100),  # type: ignore[type-arg]
) -> list[TaskOut]:
    qs = services.visible_tasks(request_principal(request)).select_related("responder")
    if area_code:
        qs = qs.filter(area_id=area_code)
    if year is not None:
        qs = qs.filter(plan_year=year)
    return [_task_out(t) for t in qs.prefetch_related("reports").order_by("due_date", "id")[:500]]


@router.post("/safety/tasks", response={201: TaskOut}, summary="Create an improvement task (links reports)")
@api_requires(Resource.SAFETY_TASK, Action.CREATE)
def create_task(request: HttpRequest, payload: TaskInput) -> Status[TaskOut]:
    return Status(201, _task_out(services.create_task(_actor(request), payload)))


@router.get("/safety/plan/{area_code}/{year}", response=PlanOut, summary="An area's yearly safety-improvement plan")
@api_requires(Resource.SAFETY_TASK, Action.VIEW)
def plan(
    request: HttpRequest,
    area_code: str = Path(..., pattern=r"^\d{10}$"),  # type: ignore[type-arg]
    year: int = Path(..., ge=2000, le=2100),  # type: ignore[type-arg]
) -> PlanOut:
    found = services.yearly_plan(request_principal(request), area_code, year)
    return PlanOut(
        area_code=found.area.code,
        year=found.year,
        tasks=[_task_out(line.task) for line in found.lines],
        budget_total=found.budget_total,
        budget_by_status=found.budget_by_status,
        closed=found.closed,
    )

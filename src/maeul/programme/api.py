"""The programme's JSON API: calls, a local government's application and its submission, and sites' results
(the suppressed matrix the national dashboard shows)."""

from datetime import date

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.people.errors import RegistryError
from maeul.programme import results, services
from maeul.programme.errors import NotFound, ProgrammeError
from maeul.programme.models import Application, Call, CallStatus
from maeul.programme.schemas import ApplicationInput

router = Router(tags=["programme"])


class CallOut(Schema):
    id: int
    year: int
    title: str
    status: str
    types: list[int]
    cap_per_local_government_krw: int
    national_total_krw: int
    national_share_percent: int
    sites_to_select: int
    opens_on: date
    closes_on: date
    allocation_rule: str
    normalisation: str


class ProblemOut(Schema):
    field: str
    code: str
    message: str


class ApplicationOut(Schema):
    id: int
    reference: str
    status: str
    local_government_code: str
    problems: list[ProblemOut]

    @staticmethod
    def resolve_local_government_code(obj: Application) -> str:
        return obj.local_government_id


class FigureOut(Schema):
    kpi: str
    state: str
    value: float | None
    baseline_state: str
    baseline: float | None


class SiteResultOut(Schema):
    site_id: int
    site: str
    since: date
    figures: list[FigureOut]


class TotalOut(Schema):
    kpi: str
    state: str
    value: float | None


class ResultsOut(Schema):
    call_id: int | None
    until: date
    sites: list[SiteResultOut]
    totals: list[TotalOut]


@router.get("/programme/calls", response=list[CallOut], summary="Calls for proposals")
@api_requires(Resource.PROGRAMME_CALL, Action.VIEW)
def list_calls(request: HttpRequest) -> list[Call]:
    principal = request_principal(request)
    calls = Call.objects.all()
    if not principal.can(Resource.PROGRAMME_CALL, Action.CHANGE):
        calls = calls.exclude(status=CallStatus.DRAFT)
    return list(calls)


def _refused(exc: ProgrammeError) -> RegistryError:
    return RegistryError(exc.field, exc.code, exc.message)


@router.post("/programme/calls/{call_id}/applications", response={201: ApplicationOut}, summary="Start an application")
@api_requires(Resource.APPLICATION, Action.CREATE)
def create_application(request: HttpRequest, call_id: int, payload: ApplicationInput) -> tuple[int, Application]:
    actor = Actor.from_request(request, request_principal(request), channel="api")
    try:
        return 201, services.create_application(actor, call_id, payload)
    except NotFound as exc:
        raise Http404(f"no call {call_id}") from exc
    except ProgrammeError as exc:
        raise _refused(exc) from exc


@router.post(
    "/programme/applications/{application_id}/submit",
    response=ApplicationOut,
    summary="Submit an application: it is checked against the call and recorded as submitted or rejected with reasons",
)
@api_requires(Resource.APPLICATION, Action.CHANGE)
def submit_application(request: HttpRequest, application_id: int) -> Application:
    actor = Actor.from_request(request, request_principal(request), channel="api")
    try:
        return services.submit_application(actor, application_id)
    except NotFound as exc:
        raise Http404(f"no application {application_id}") from exc
    except ProgrammeError as exc:
        raise _refused(exc) from exc


@router.get("/programme/results", response=ResultsOut, summary="Sites' KPI figures against their baselines")
@api_requires(Resource.PROGRAMME_RESULTS, Action.VIEW)
def programme_results(request: HttpRequest, call_id: int | None = None) -> ResultsOut:
    principal = request_principal(request)
    call = Call.objects.filter(pk=call_id).first() if call_id is not None else None
    if call_id is not None and call is None:
        raise Http404(f"no call {call_id}")
    matrix = results.build(call)
    rows = matrix.rows
    if principal.scope(Resource.PROGRAMME_RESULTS, Action.VIEW) != "all":
        rows = [r for r in rows if r.grant.site_id == principal.site_id]
    return ResultsOut(
        call_id=matrix.call.pk if matrix.call else None,
        until=matrix.until,
        sites=[
            SiteResultOut(
                site_id=row.grant.site_id or 0,
                site=row.site_name,
                since=row.since,
                figures=[
                    FigureOut(
                        kpi=c.definition.code,
                        state=c.current.state,
                        value=c.current.value if c.current.state == results.State.SHOWN else None,
                        baseline_state=c.baseline.state,
                        baseline=c.baseline.value if c.baseline.state == results.State.SHOWN else None,
                    )
                    for c in row.ordered
                ],
            )
            for row in rows
        ],
        totals=[
            TotalOut(kpi=d.code, state=t.state, value=t.value if t.state == results.State.SHOWN else None)
            for d, t in matrix.total_cells
        ]
        if principal.scope(Resource.PROGRAMME_RESULTS, Action.VIEW) == "all"
        else [],
    )

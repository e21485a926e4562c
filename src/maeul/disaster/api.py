"""The JSON API of disaster response: responses and their counts, manual activation, contacts, one's own roll-call.

CAP messages are posted by their senders with the sender's own token (``cap_api``), not through this router."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.disaster import services
from maeul.disaster.errors import NotFound
from maeul.disaster.models import Response
from maeul.disaster.schemas import ContactInput, ManualActivation

router = Router(tags=["disaster response"])


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request), channel="api")


class CountsOut(Schema):
    total: int
    accounted: int
    fine: int
    needs_help: int
    evacuated: int
    not_reached: int
    pending: int
    overdue: int
    escalated: int


class ResponseOut(Schema):
    id: int
    hazard: str
    level: str
    origin: str
    status: str
    title: str
    headline: str
    activated_at: datetime
    reach_by: datetime
    completed_at: datetime | None
    area_codes: list[str]
    counts: CountsOut


class EntryOut(Schema):
    id: int
    household_id: int
    reference: str
    area_code: str
    priority: int
    reasons: list[str]
    status: str
    attempts: int
    due_at: datetime
    overdue: bool
    name: str
    phone: str
    address: str


class MyResponseOut(Schema):
    response_id: int
    title: str
    hazard: str
    reach_by: datetime
    entries: list[EntryOut]


def _counts(c: services.Counts) -> CountsOut:
    return CountsOut(
        total=c.total, accounted=c.accounted, fine=c.fine, needs_help=c.needs_help, evacuated=c.evacuated,
        not_reached=c.not_reached, pending=c.pending, overdue=c.overdue, escalated=c.escalated,
    )  # fmt: skip


def _out(summary: services.ResponseSummary) -> ResponseOut:
    r: Response = summary.response
    return ResponseOut(
        id=r.pk, hazard=r.hazard, level=r.level, origin=r.origin, status=r.status, title=r.title, headline=r.headline,
        activated_at=r.activated_at, reach_by=r.reach_by, completed_at=r.completed_at,
        area_codes=sorted(r.areas.values_list("code", flat=True)), counts=_counts(summary.counts),
    )  # fmt: skip


@router.get("/disaster/responses", response=list[ResponseOut], summary="Disaster responses in your areas")
@api_requires(Resource.DISASTER, Action.VIEW)
def list_responses(request: HttpRequest, status: str = "") -> list[ResponseOut]:
    return [_out(s) for s in services.list_responses(request_principal(request), status=status)]


@router.get("/disaster/responses/{response_id}", response=ResponseOut, summary="One response with its counts")
@api_requires(Resource.DISASTER, Action.VIEW)
def get_response(request: HttpRequest, response_id: int) -> ResponseOut:
    for summary in services.list_responses(request_principal(request), limit=1000):
        if summary.response.pk == response_id:
            return _out(summary)
    raise NotFound("response", response_id)


@router.post("/disaster/responses", response={201: ResponseOut}, summary="Activate a response by hand")
@api_requires(Resource.DISASTER, Action.CREATE)
def activate(request: HttpRequest, payload: ManualActivation) -> Status[ResponseOut]:
    response = services.activate_manual(_actor(request), payload)
    summary = next(s for s in services.list_responses(request_principal(request)) if s.response.pk == response.pk)
    return Status(201, _out(summary))


@router.post("/disaster/roll-call/{entry_id}/contacts", response=EntryOut, summary="Record a contact")
@api_requires(Resource.ROLL_CALL, Action.CHANGE)
def record_contact(request: HttpRequest, entry_id: int, payload: ContactInput) -> EntryOut:
    actor = _actor(request)
    entry = services.record_contact(actor, entry_id, payload)
    row, _contacts = services.entry_contacts(actor, entry.pk)
    return EntryOut(**{k: getattr(row, k) for k in EntryOut.model_fields})


@router.get("/disaster/my", response=list[MyResponseOut], summary="The households handed to you in running responses")
@api_requires(Resource.ROLL_CALL, Action.VIEW)
def my_roll_call(request: HttpRequest) -> list[MyResponseOut]:
    return [
        MyResponseOut(
            response_id=m.response.pk,
            title=m.response.title,
            hazard=m.response.hazard,
            reach_by=m.response.reach_by,
            entries=[EntryOut(**{k: getattr(row, k) for k in EntryOut.model_fields}) for row in m.entries],
        )
        for m in services.my_roll_call(_actor(request))
    ]

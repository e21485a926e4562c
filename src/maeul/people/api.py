from datetime import date, datetime

from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.people import services
from maeul.people.models import Consent
from maeul.people.schemas import (
    ConsentInput,
    ContactInput,
    HouseholdChange,
    HouseholdInput,
    PersonInput,
    StatusInput,
)

router = Router(tags=["households"])


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request), channel="api")


class PersonOut(Schema):
    id: int
    name: str
    birth_year: int | None
    sex: str
    phone: str
    conditions: list[str]
    condition_note: str
    is_primary: bool


class ContactOut(Schema):
    id: int
    name: str
    relation: str
    phone: str
    receives_alerts: bool
    priority: int


class ConsentOut(Schema):
    id: int
    purpose: str
    method: str
    given_on: date
    withdrawn_at: datetime | None


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    at: datetime
    reason: str


class HouseholdOut(Schema):
    id: int
    reference: str
    site_id: int
    area_code: str
    area_name: str
    address: str
    address_detail: str
    latitude: float | None
    longitude: float | None
    housing_type: str
    living_alone: bool
    older_adult: bool
    disability: bool
    chronic_illness: bool
    bedridden: bool
    financial_crisis: bool
    care_level: int
    status: str
    processing_stopped: bool
    retain_until: date | None
    created_at: datetime
    updated_at: datetime
    persons: list[PersonOut]
    contacts: list[ContactOut]
    consents: list[ConsentOut]
    status_changes: list[StatusChangeOut]


class HouseholdRow(Schema):
    id: int
    reference: str
    area_code: str
    area_name: str
    primary_name: str
    birth_year: int | None
    housing_type: str
    living_alone: bool
    care_level: int
    status: str
    flags: list[str]
    processing_stopped: bool
    updated_at: datetime


class HouseholdPageOut(Schema):
    rows: list[HouseholdRow]
    total: int
    page: int
    pages: int
    per_page: int


class HouseholdQuery(Schema):
    q: str = Field("", max_length=100, description="Exact name, phone, full address or H-number")
    area_code: str = Field("", pattern=r"^(\d{10})?$")
    status: str = Field("", pattern="^(active|in_hospital|moved|deceased)?$")
    housing_type: str = Field("", max_length=16)
    care_level: int | None = Field(None, ge=1, le=3)
    flag: str = Field("", max_length=20)
    include_stopped: bool = False
    sort: str = Field("reference", pattern=r"^(reference|-care_level|area|-updated|birth_year)$")
    page: int = Field(1, ge=1, le=100000)
    per_page: int = Field(25, ge=1, le=200)


class ImportOut(Schema):
    imported: int
    references: list[str]


@router.get("", response=HouseholdPageOut, summary="Households in your scope")
@api_requires(Resource.HOUSEHOLD, Action.VIEW)
def list_households(request: HttpRequest, query: Query[HouseholdQuery]) -> services.HouseholdPage:
    filters = services.HouseholdFilters(**query.model_dump(exclude={"page", "per_page"}))
    return services.list_households(_actor(request), filters, page=query.page, per_page=query.per_page)


@router.post("", response={201: HouseholdOut}, summary="Register a household")
@api_requires(Resource.HOUSEHOLD, Action.CREATE)
def create_household(request: HttpRequest, payload: HouseholdInput) -> Status[services.HouseholdView]:
    return Status(201, services.register_household(_actor(request), payload))


@router.post("/import", response={201: ImportOut}, summary="Import households from CSV (all rows or none)")
@api_requires(Resource.HOUSEHOLD, Action.IMPORT)
def import_households(request: HttpRequest, file: File[UploadedFile]) -> Status[dict[str, object]]:
    created = services.import_households_csv(_actor(request), file.read())
    return Status(201, {"imported": len(created), "references": [h.reference for h in created]})


@router.get("/{household_id}", response=HouseholdOut, summary="One household with its people and history")
@api_requires(Resource.HOUSEHOLD, Action.VIEW)
def get_household(request: HttpRequest, household_id: int) -> services.HouseholdView:
    return services.read_household(_actor(request), household_id)


@router.patch("/{household_id}", response=HouseholdOut, summary="Change a household's details")
@api_requires(Resource.HOUSEHOLD, Action.CHANGE)
def patch_household(request: HttpRequest, household_id: int, payload: HouseholdChange) -> services.HouseholdView:
    return services.update_household(_actor(request), household_id, payload)


@router.post("/{household_id}/status", response=HouseholdOut, summary="Change status (moved, in hospital, ...)")
@api_requires(Resource.HOUSEHOLD, Action.CHANGE)
def post_status(request: HttpRequest, household_id: int, payload: StatusInput) -> services.HouseholdView:
    return services.change_status(_actor(request), household_id, payload)


@router.post("/{household_id}/persons", response={201: PersonOut}, summary="Add a person")
@api_requires(Resource.HOUSEHOLD, Action.CHANGE)
def post_person(request: HttpRequest, household_id: int, payload: PersonInput) -> Status[services.PersonView]:
    return Status(201, services.add_person(_actor(request), household_id, payload))


@router.post("/{household_id}/contacts", response={201: ContactOut}, summary="Add a guardian or emergency contact")
@api_requires(Resource.HOUSEHOLD, Action.CHANGE)
def post_contact(request: HttpRequest, household_id: int, payload: ContactInput) -> Status[services.ContactView]:
    return Status(201, services.add_contact(_actor(request), household_id, payload))


@router.post("/{household_id}/consents", response={201: ConsentOut}, summary="Record consent")
@api_requires(Resource.HOUSEHOLD, Action.CHANGE)
def post_consent(request: HttpRequest, household_id: int, payload: ConsentInput) -> Status[Consent]:
    return Status(201, services.record_consent(_actor(request), household_id, payload))


@router.post("/{household_id}/consents/{consent_id}/withdraw", response=ConsentOut, summary="Record a withdrawal")
@api_requires(Resource.HOUSEHOLD, Action.CHANGE)
def withdraw_consent(request: HttpRequest, household_id: int, consent_id: int) -> Consent:
    return services.withdraw_consent(_actor(request), household_id, consent_id)

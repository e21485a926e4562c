"""The JSON API of the resource directory: search, organisations, one service, HSDS import and export."""

import json
import uuid
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.directory import services
from maeul.directory.models import NeedDomain, Organization

router = Router(tags=["directory"])

HsdsKind = Literal["organization", "service", "service_at_location"]
ImportKind = Literal["organization", "service", "service_at_location", "location", "taxonomy", "taxonomy_term"]


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request), channel="api")


class ServiceQuery(Schema):
    need: NeedDomain | None = None
    area_code: str | None = Field(None, pattern=r"^[0-9]{10}$")
    age: int | None = Field(None, ge=0, le=150)
    income_band: int | None = Field(None, ge=0, le=1000, description="Household income, % of the national median")
    disability: bool | None = None
    text: str | None = Field(None, max_length=100)


class ServiceOut(Schema):
    id: uuid.UUID
    name: str
    description: str
    status: str
    organization_id: uuid.UUID
    organization_name: str
    needs: list[str]
    area_codes: list[str]
    minimum_age: int | None
    maximum_age: int | None
    income_ceiling_percent: int | None
    disability: str
    capacity: int | None
    capacity_left: int | None


class OrganizationOut(Schema):
    id: uuid.UUID
    name: str
    alternate_name: str
    description: str
    email: str
    website: str
    service_ids: list[uuid.UUID]


class DirectoryImportOut(Schema):
    items: int
    organizations: int
    services: int
    locations: int
    records: int


@router.get("/directory/services", response=list[ServiceOut], summary="Active services by need, area and eligibility")
@api_requires(Resource.DIRECTORY, Action.VIEW)
def search_services(request: HttpRequest, query: Query[ServiceQuery]) -> list[services.ServiceSummary]:
    return services.search_services(request_principal(request), **query.model_dump())


@router.get("/directory/organizations", response=list[OrganizationOut], summary="Organisations of your site")
@api_requires(Resource.DIRECTORY, Action.VIEW)
def list_organizations(request: HttpRequest) -> list[OrganizationOut]:
    return [_organization_out(o) for o in services.list_organizations(request_principal(request))]


def _organization_out(organization: Organization) -> OrganizationOut:
    return OrganizationOut(
        id=organization.id,
        name=organization.name,
        alternate_name=organization.alternate_name,
        description=organization.description,
        email=organization.email,
        website=organization.website,
        service_ids=[s.id for s in organization.services.all()],
    )


@router.get("/directory/services/{service_id}", response=ServiceOut, summary="One service")
@api_requires(Resource.DIRECTORY, Action.VIEW)
def get_service(request: HttpRequest, service_id: uuid.UUID) -> services.ServiceSummary:
    return services.service_summary(request_principal(request), service_id)


@router.post(
    "/directory/import",
    response={201: DirectoryImportOut},
    summary="Import Open Referral HSDS 3.1 JSON or a zipped CSV data package (all or nothing)",
)
@api_requires(Resource.DIRECTORY, Action.IMPORT)
def import_hsds(
    request: HttpRequest, file: File[UploadedFile], kind: ImportKind | None = None
) -> Status[services.ImportSummary]:
    summary = services.import_hsds(_actor(request), file.read(), kind=kind, source=file.name or "upload")
    return Status(201, summary)


@router.get(
    "/directory/export",
    summary="Export as HSDS 3.1: a _list page of full records (JSON) or the CSV data package (zip)",
    response={200: dict[str, object]},
)
@api_requires(Resource.DIRECTORY, Action.EXPORT)
def export_hsds(
    request: HttpRequest, format: Literal["json", "zip"] = "json", kind: HsdsKind = "organization"
) -> HttpResponse:
    if format == "zip":
        response = HttpResponse(services.export_package(_actor(request)), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="hsds-datapackage.zip"'
        return response
    page = services.export_json(_actor(request), kind)
    return HttpResponse(json.dumps(page, ensure_ascii=False), content_type="application/json")

"""The JSON API for devices: a household's devices, the site's device health, the CSV import, unclaimed devices,
gateways and dead letters. Readings arrive through ingestion (MQTT, or the gateways' HTTP endpoint), not here."""

from datetime import datetime

from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.sensing import services
from maeul.sensing.models import UnclaimedDevice
from maeul.sensing.schemas import ClaimInput, DeviceChange, DeviceInput, GatewayChange, GatewayInput
from maeul.sites.models import Site

router = Router(tags=["devices"])


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request), channel="api")


class DeviceOut(Schema):
    id: int
    household_id: int
    household_reference: str
    area_code: str
    protocol: str
    identity: str
    vendor: str
    model: str
    room: str
    label: str
    kinds: list[str]
    gateway_id: int | None
    gateway_name: str
    battery_percent: float | None
    last_seen_at: datetime | None
    available: bool | None
    availability_changed_at: datetime | None
    active: bool
    health: str = Field(description="offline, never_seen, battery_low, ok or inactive")
    created_at: datetime


class HealthCountsOut(Schema):
    total: int
    offline: int
    never_seen: int
    battery_low: int


class DevicePageOut(Schema):
    rows: list[DeviceOut]
    counts: HealthCountsOut
    total: int
    page: int
    pages: int


class DeviceQuery(Schema):
    health: str = Field("", pattern=r"^(|offline|never_seen|battery_low)$")
    sort: str = Field("problems", pattern=r"^(problems|last_seen|battery|household)$")
    page: int = Field(1, ge=1, le=100000)
    per_page: int = Field(50, ge=1, le=200)


class ImportOut(Schema):
    imported: int
    device_ids: list[int]


class UnclaimedOut(Schema):
    id: int
    protocol: str
    identity: str
    first_seen_at: datetime
    last_seen_at: datetime
    messages: int
    kinds: list[str]
    sample_topic: str
    sample_payload: str
    ignored: bool


class GatewayOut(Schema):
    id: int
    name: str
    token_hint: str
    heartbeat_minutes: int
    last_seen_at: datetime | None
    active: bool
    status: str = Field(description="up, down, never_seen or inactive")
    devices: int
    created_at: datetime


class GatewayTokenOut(GatewayOut):
    token: str = Field(description="Shown once: only its hash is kept. Send it as `Authorization: Bearer <token>`")


class DeadLetterOut(Schema):
    id: int
    received_at: datetime
    source: str
    topic: str
    payload: str
    payload_cut: bool
    reason: str
    detail: str


class DeadLetterPageOut(Schema):
    rows: list[DeadLetterOut]
    total: int
    page: int
    pages: int


class DeadLetterQuery(Schema):
    reason: str = Field("", pattern=r"^(|malformed|unrecognised|rejected)$")
    source: str = Field("", pattern=r"^(|zigbee2mqtt|tasmota|generic|http|unknown)$")
    page: int = Field(1, ge=1, le=100000)
    per_page: int = Field(50, ge=1, le=200)


@router.get(
    "/households/{int:household_id}/devices",
    response=list[DeviceOut],
    summary="A household's devices (recorded as a read)",
)
@api_requires(Resource.DEVICE, Action.VIEW)
def household_devices(request: HttpRequest, household_id: int) -> list[services.DeviceView]:
    return services.household_devices(_actor(request), household_id).devices


@router.post("/households/{int:household_id}/devices", response={201: DeviceOut}, summary="Provision a device")
@api_requires(Resource.DEVICE, Action.CREATE)
def provision_device(request: HttpRequest, household_id: int, payload: DeviceInput) -> Status[services.DeviceView]:
    return Status(201, services.provision_device(_actor(request), household_id, payload))


@router.get("/devices", response=DevicePageOut, summary="Devices in your scope with their health, problems first")
@api_requires(Resource.DEVICE, Action.VIEW)
def device_list(request: HttpRequest, query: Query[DeviceQuery]) -> services.DevicePage:
    return services.device_health(
        _actor(request), health=query.health, sort=query.sort, page=query.page, per_page=query.per_page
    )


@router.post("/devices/import", response={201: ImportOut}, summary="Provision devices from CSV (all rows or none)")
@api_requires(Resource.DEVICE, Action.IMPORT)
def import_devices(request: HttpRequest, file: File[UploadedFile]) -> Status[dict[str, object]]:
    site = Site.objects.get(pk=request_principal(request).site_pk)
    created = services.bulk_provision_csv(_actor(request), site, file.read())
    return Status(201, {"imported": len(created), "device_ids": [d.id for d in created]})


@router.patch("/devices/{int:device_id}", response=DeviceOut, summary="Change a device (only the fields sent)")
@api_requires(Resource.DEVICE, Action.CHANGE)
def update_device(request: HttpRequest, device_id: int, payload: DeviceChange) -> services.DeviceView:
    return services.update_device(_actor(request), device_id, payload)


@router.post("/devices/{int:device_id}/deactivate", response=DeviceOut, summary="Remove a device from its household")
@api_requires(Resource.DEVICE, Action.CHANGE)
def deactivate_device(request: HttpRequest, device_id: int) -> services.DeviceView:
    return services.deactivate_device(_actor(request), device_id)


@router.get("/devices/unclaimed", response=list[UnclaimedOut], summary="Devices sending messages no household has")
@api_requires(Resource.DEVICE, Action.VIEW)
def unclaimed(request: HttpRequest, include_ignored: bool = False) -> list[UnclaimedDevice]:
    return services.unclaimed_devices(request_principal(request), include_ignored=include_ignored)


@router.post(
    "/devices/unclaimed/{int:unclaimed_id}/claim",
    response={201: DeviceOut},
    summary="Provision an unclaimed device in a household (its earlier messages are not imported)",
)
@api_requires(Resource.DEVICE, Action.CREATE)
def claim(request: HttpRequest, unclaimed_id: int, payload: ClaimInput) -> Status[services.DeviceView]:
    return Status(201, services.claim_device(_actor(request), unclaimed_id, payload))


@router.post("/devices/unclaimed/{int:unclaimed_id}/ignore", response=UnclaimedOut, summary="Stop listing it")
@api_requires(Resource.DEVICE, Action.CHANGE)
def ignore(request: HttpRequest, unclaimed_id: int) -> UnclaimedDevice:
    return services.ignore_unclaimed(_actor(request), unclaimed_id)


@router.get("/gateways", response=list[GatewayOut], summary="The site's gateways with their status")
@api_requires(Resource.DEVICE, Action.VIEW)
def gateway_list(request: HttpRequest) -> list[services.GatewayView]:
    return services.gateways(request_principal(request))


def _with_token(view: services.GatewayView, token: str) -> dict[str, object]:
    return {**view.__dict__, "token": token}


@router.post("/gateways", response={201: GatewayTokenOut}, summary="Add a gateway; its token is shown once")
@api_requires(Resource.DEVICE, Action.CREATE)
def gateway_create(request: HttpRequest, payload: GatewayInput) -> Status[dict[str, object]]:
    view, token = services.create_gateway(_actor(request), payload)
    return Status(201, _with_token(view, token))


@router.patch("/gateways/{int:gateway_id}", response=GatewayOut, summary="Rename a gateway or change its heartbeat")
@api_requires(Resource.DEVICE, Action.CHANGE)
def gateway_update(request: HttpRequest, gateway_id: int, payload: GatewayChange) -> services.GatewayView:
    return services.update_gateway(_actor(request), gateway_id, payload)


@router.post("/gateways/{int:gateway_id}/rotate", response=GatewayTokenOut, summary="A new token; the old one stops")
@api_requires(Resource.DEVICE, Action.CHANGE)
def gateway_rotate(request: HttpRequest, gateway_id: int) -> dict[str, object]:
    view, token = services.rotate_gateway_token(_actor(request), gateway_id)
    return _with_token(view, token)


@router.post("/gateways/{int:gateway_id}/deactivate", response=GatewayOut, summary="Deactivate; its token stops")
@api_requires(Resource.DEVICE, Action.CHANGE)
def gateway_deactivate(request: HttpRequest, gateway_id: int) -> services.GatewayView:
    return services.deactivate_gateway(_actor(request), gateway_id)


@router.get("/dead-letters", response=DeadLetterPageOut, summary="Messages that could not be read, newest first")
@api_requires(Resource.DEVICE, Action.VIEW)
def dead_letter_list(request: HttpRequest, query: Query[DeadLetterQuery]) -> services.DeadLetterPage:
    return services.dead_letters(
        request_principal(request), reason=query.reason, source=query.source, page=query.page, per_page=query.per_page
    )

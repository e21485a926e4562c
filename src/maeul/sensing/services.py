"""Device registry, gateways, unclaimed devices, dead letters, retention and reading queries.

The only code that writes devices and gateways; the ingestion worker's store path (``store.py``) writes readings
and what messages say about a device (last seen, battery, availability), dead letters and unclaimed devices.

Scope comes from the permission matrix (``Resource.DEVICE``): site administrators act on their site, officials on
the households of their eup/myeon/dong. Gateways, dead letters and unclaimed devices belong to the site, not to a
household: whoever may view devices sees their site's; only site-wide scope manages gateways, whose tokens let a
machine write readings. A household's devices and readings are personal data: each read through a page or the API
is written to the access record. The reading queries at the end take a household the caller has already
authorised, and leave the access record to the caller.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, F, IntegerField, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncHour
from django.utils import timezone
from pydantic import ValidationError

from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.people.models import Household
from maeul.people.services import read_csv_text
from maeul.sensing import tokens
from maeul.sensing.adapters import ACTIVITY_KINDS, BATTERY_LOW_PERCENT, OFFLINE_HOURS, Kind
from maeul.sensing.errors import ImportRejected, NotFound, RowError, SensingError
from maeul.sensing.models import (
    DeadLetter,
    DeadLetterReason,
    DeliveryKey,
    Device,
    Gateway,
    HourlyReading,
    IngestCounter,
    Reading,
    Room,
    UnclaimedDevice,
)
from maeul.sensing.schemas import ClaimInput, DeviceChange, DeviceInput, GatewayChange, GatewayInput, identity_problem
from maeul.sites.models import Site

RESOURCE = "device"  # audit resource: a household's devices
GATEWAY = "gateway"
UNCLAIMED = "unclaimed_device"

# Storage policy. Raw readings are kept this many days (``MAEUL_RAW_READING_DAYS`` overrides), then rolled up by
# hour; the roll-ups are kept two years. Dead letters help find a misconfigured device for a month; delivery keys
# only guard against a broker redelivering within the day.
RAW_READING_DAYS = 35
HOURLY_READING_DAYS = 730
DEAD_LETTER_DAYS = 30
DELIVERY_KEY_HOURS = 24
IGNORED_UNCLAIMED_DAYS = 90

# Health uses the detectors' defaults, so the device list and the device alerts agree.
OFFLINE_AFTER = timedelta(hours=OFFLINE_HOURS)
# As in the detectors: on and off are both someone's doing for these; for the other activity kinds only 1 is.
_EVERY_CHANGE_KINDS = frozenset({Kind.SWITCH, Kind.PRESENCE, Kind.APPLIANCE})
_PAYLOAD_SHOWN = 1000  # characters of a dead letter's or unclaimed device's payload shown on a page


# --- scope -------------------------------------------------------------------------------------------------


def _filter_scope(principal: Principal, action: Action, qs: QuerySet[Any], area_field: str) -> QuerySet[Any]:
    scope = principal.scope(Resource.DEVICE, action)
    if principal.site_id is None or scope not in (Scope.SITE, Scope.AREA):
        return qs.none()
    qs = qs.filter(site_id=principal.site_id)
    if scope == Scope.AREA:
        qs = qs.filter(**{f"{area_field}__in": principal.area_codes})
    return qs


def visible_devices(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Device]:
    """Devices of the households this principal may act on for ``action`` (none of destroyed households)."""
    return _filter_scope(principal, action, Device.objects.filter(household__destroyed_at=None), "household__area_id")


def device_households(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Household]:
    """Households whose devices this principal may act on for ``action``."""
    return _filter_scope(principal, action, Household.objects.filter(destroyed_at=None), "area_id")


def may_view_devices(principal: Principal) -> bool:
    return principal.can(Resource.DEVICE, Action.VIEW)


def _household(principal: Principal, household_id: int, action: Action) -> Household:
    household = device_households(principal, action).filter(pk=household_id).first()
    if household is None:
        # Outside scope reads as absent, so probing reveals nothing about other areas.
        raise NotFound("household", household_id)
    return household


def require_household(principal: Principal, household_id: int, action: Action) -> None:
    """Raise NotFound unless the household's devices are in scope for ``action``; reads no personal data."""
    _household(principal, household_id, action)


def _site_id(principal: Principal, action: Action, site_wide: bool = False) -> int:
    """The principal's site, for site-level records (gateways, dead letters, unclaimed devices)."""
    scope = principal.scope(Resource.DEVICE, action)
    allowed = (Scope.SITE,) if site_wide else (Scope.SITE, Scope.AREA)
    if principal.site_id is None or scope not in allowed:
        raise PermissionDenied
    return principal.site_id


def may_manage_gateways(principal: Principal) -> bool:
    return principal.site_id is not None and principal.scope(Resource.DEVICE, Action.CHANGE) == Scope.SITE


# --- devices: reading ----------------------------------------------------------------------------------------


class Health(StrEnum):
    """A device's state, worst first: the order of the device list."""

    OFFLINE = "offline"  # it said so, or nothing came for longer than the detectors wait
    NEVER_SEEN = "never_seen"  # provisioned but no message yet: not installed, or its identity is wrong
    BATTERY_LOW = "battery_low"
    OK = "ok"
    INACTIVE = "inactive"


def health_of(device: Device, now: datetime) -> Health:
    if not device.active:
        return Health.INACTIVE
    if device.available is False:
        return Health.OFFLINE
    if device.last_seen_at is None:
        return Health.NEVER_SEEN
    if device.last_seen_at < now - OFFLINE_AFTER:
        return Health.OFFLINE
    if device.battery_percent is not None and device.battery_percent < BATTERY_LOW_PERCENT:
        return Health.BATTERY_LOW
    return Health.OK


def _health_conditions(now: datetime) -> dict[Health, Q]:
    """The same states as ``health_of``, as query conditions (each excludes the worse ones)."""
    offline = Q(available=False) | Q(last_seen_at__lt=now - OFFLINE_AFTER)
    never = Q(last_seen_at=None) & ~Q(available=False)
    battery = Q(battery_percent__lt=BATTERY_LOW_PERCENT) & ~offline & ~never
    return {Health.OFFLINE: offline, Health.NEVER_SEEN: never, Health.BATTERY_LOW: battery}


@dataclass(frozen=True)
class DeviceView:
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
    health: Health
    created_at: datetime


def _device_view(d: Device, now: datetime) -> DeviceView:
    return DeviceView(
        id=d.pk,
        household_id=d.household_id,
        household_reference=d.household.reference,
        area_code=d.household.area_id,
        protocol=d.protocol,
        identity=d.identity,
        vendor=d.vendor,
        model=d.model,
        room=d.room,
        label=d.label,
        kinds=list(d.kinds),
        gateway_id=d.gateway_id,
        gateway_name=d.gateway.name if d.gateway else "",
        battery_percent=d.battery_percent,
        last_seen_at=d.last_seen_at,
        available=d.available,
        availability_changed_at=d.availability_changed_at,
        active=d.active,
        health=health_of(d, now),
        created_at=d.created_at,
    )


def _audit(actor: Actor, action: AuditAction, household: Household, **details: Any) -> None:
    audit.log(
        actor,
        action,
        RESOURCE,
        household_id=household.pk,
        site_id=household.site_id,
        area_code=household.area_id,
        **details,
    )


@dataclass(frozen=True)
class HouseholdDevices:
    household_id: int
    reference: str
    processing_stopped: bool
    devices: list[DeviceView]  # active first


def household_devices(actor: Actor, household_id: int) -> HouseholdDevices:
    """A household's devices; recorded as a read of the household's data."""
    household = _household(actor.principal, household_id, Action.VIEW)
    devices = Device.objects.filter(household=household).select_related("household", "gateway")
    now = timezone.now()
    rows = sorted((_device_view(d, now) for d in devices), key=lambda v: (not v.active, v.room, v.identity))
    _audit(actor, AuditAction.VIEW, household, object_id=household.pk, record_count=len(rows))
    return HouseholdDevices(household.pk, household.reference, household.processing_stopped, rows)


def read_device(principal: Principal, device_id: int, action: Action = Action.VIEW) -> DeviceView:
    """One device's registry record (no readings), for its edit form."""
    device = visible_devices(principal, action).select_related("household", "gateway").filter(pk=device_id).first()
    if device is None:
        raise NotFound("device", device_id)
    return _device_view(device, timezone.now())


@dataclass(frozen=True)
class HealthCounts:
    total: int
    offline: int
    never_seen: int
    battery_low: int


@dataclass(frozen=True)
class DevicePage:
    rows: list[DeviceView]
    counts: HealthCounts
    total: int
    page: int
    pages: int


DEVICE_SORTS: dict[str, tuple[Any, ...]] = {
    "problems": ("health_rank", F("last_seen_at").asc(nulls_first=True), "id"),
    "last_seen": (F("last_seen_at").asc(nulls_first=True), "id"),
    "battery": (F("battery_percent").asc(nulls_last=True), "id"),
    "household": ("household__reference", "room", "identity"),
}


def device_health(
    actor: Actor,
    *,
    health: str = "",
    sort: str = "problems",
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> DevicePage:
    """Active devices in scope with counts of those offline, never seen and low on battery; problem devices
    first unless another order is asked for. The households on the page are recorded as listed."""
    now = now or timezone.now()
    conditions = _health_conditions(now)
    qs = visible_devices(actor.principal).filter(active=True)
    counts = qs.aggregate(
        total=Count("id"),
        offline=Count("id", filter=conditions[Health.OFFLINE]),
        never_seen=Count("id", filter=conditions[Health.NEVER_SEEN]),
        battery_low=Count("id", filter=conditions[Health.BATTERY_LOW]),
    )
    if health in conditions:
        qs = qs.filter(conditions[Health(health)])
    ranked = qs.annotate(
        health_rank=Case(
            *(When(condition, then=Value(rank)) for rank, condition in enumerate(conditions.values())),
            default=Value(len(conditions)),
            output_field=IntegerField(),
        )
    )
    total = ranked.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    order = DEVICE_SORTS.get(sort, DEVICE_SORTS["problems"])
    devices = list(
        ranked.select_related("household", "gateway").order_by(*order)[(page - 1) * per_page : page * per_page]
    )
    household_ids = list(dict.fromkeys(d.household_id for d in devices))
    if household_ids:
        audit.log_many(actor, AuditAction.LIST, RESOURCE, household_ids, site_id=actor.principal.site_id)
    return DevicePage(
        rows=[_device_view(d, now) for d in devices],
        counts=HealthCounts(**counts),
        total=total,
        page=page,
        pages=pages,
    )


# --- devices: writing ----------------------------------------------------------------------------------------


def _snapshot(d: Device) -> dict[str, Any]:
    return {
        "household": d.household.reference if d.household_id else "",
        "protocol": d.protocol,
        "identity": d.identity,
        "vendor": d.vendor,
        "model": d.model,
        "room": d.room,
        "label": d.label,
        "kinds": list(d.kinds),
        "gateway_id": d.gateway_id,
        "active": d.active,
    }


def _gateway(site_id: int, gateway_id: int | None) -> Gateway | None:
    if gateway_id is None:
        return None
    gateway = Gateway.objects.filter(site_id=site_id, pk=gateway_id, active=True).first()
    if gateway is None:
        raise SensingError("gateway_id", "unknown_gateway", f"no active gateway {gateway_id} on this site")
    return gateway


def _holder(principal: Principal, site_id: int, protocol: str, identity: str, exclude: int | None = None) -> str:
    """Why the identity cannot be given to a device ('' if it can): an active device holds it. An inactive
    holder the principal may change (or one of a destroyed household) is reused instead."""
    holders = Device.objects.filter(site_id=site_id, protocol=protocol, identity=identity)
    if exclude is not None:
        holders = holders.exclude(pk=exclude)
    holder = holders.select_related("household").first()
    if holder is None:
        return ""
    in_scope = visible_devices(principal, Action.CHANGE).filter(pk=holder.pk).exists()
    if holder.active:
        where = f"household {holder.household.reference}" if in_scope else "another eup/myeon/dong"
        return f"{protocol} device {identity!r} is already provisioned in {where}"
    if exclude is not None or not (in_scope or holder.household.destroyed_at is not None):
        return f"a deactivated {protocol} device holds {identity!r}; ask your site administrator to move it"
    return ""


def _provision(actor: Actor, household: Household, data: DeviceInput) -> Device:
    """Provision (or reactivate and move the deactivated device that holds the identity); inside a transaction."""
    problem = _holder(actor.principal, household.site_id, data.protocol, data.identity)
    if problem:
        raise SensingError("identity", "identity_taken", problem)
    gateway = _gateway(household.site_id, data.gateway_id)
    device = (
        Device.objects.select_for_update()
        .select_related("household")
        .filter(site_id=household.site_id, protocol=data.protocol, identity=data.identity)
        .first()
    )
    before = _snapshot(device) if device is not None else {}
    if device is None:
        device = Device(site_id=household.site_id, protocol=data.protocol, identity=data.identity)
    device.household = household
    device.gateway = gateway
    device.vendor, device.model, device.room, device.label = data.vendor, data.model, data.room, data.label
    device.kinds = data.kinds
    device.active = True
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError as exc:  # provisioned by someone else a moment ago
        raise SensingError("identity", "identity_taken", f"{data.identity!r} was just provisioned") from exc
    UnclaimedDevice.objects.filter(site_id=household.site_id, protocol=data.protocol, identity=data.identity).delete()
    action = AuditAction.CHANGE if before else AuditAction.CREATE
    _audit(actor, action, household, object_id=device.pk, changes=audit.diff(before, _snapshot(device)))
    return device


def _writable(household: Household) -> None:
    if household.processing_stopped:
        raise SensingError(
            "household_id", "processing_stopped", "consent to the care registry was withdrawn: no devices are added"
        )


def provision_device(actor: Actor, household_id: int, data: DeviceInput) -> DeviceView:
    household = _household(actor.principal, household_id, Action.CREATE)
    _writable(household)
    with transaction.atomic():
        device = _provision(actor, household, data)
    return read_device(actor.principal, device.pk)


def _changeable(principal: Principal, device_id: int) -> Device:
    device = (
        visible_devices(principal, Action.CHANGE).select_for_update().select_related("household").filter(pk=device_id)
    ).first()
    if device is None:
        raise NotFound("device", device_id)
    return device


def update_device(actor: Actor, device_id: int, change: DeviceChange) -> DeviceView:
    """Change what was sent: a renamed Zigbee2MQTT device gets its new friendly name here."""
    sent = change.model_fields_set
    with transaction.atomic():
        device = _changeable(actor.principal, device_id)
        before = _snapshot(device)
        if change.identity is not None and change.identity != device.identity:
            problem = identity_problem(device.protocol, change.identity) or _holder(
                actor.principal, device.site_id, device.protocol, change.identity, exclude=device.pk
            )
            if problem:
                raise SensingError("identity", "invalid_identity", problem)
            device.identity = change.identity
        if "gateway_id" in sent:
            device.gateway = _gateway(device.site_id, change.gateway_id)
        for name in ("vendor", "model", "room", "label", "kinds"):
            value = getattr(change, name)
            if value is not None:
                setattr(device, name, value)
        try:
            with transaction.atomic():
                device.save()
        except IntegrityError as exc:
            raise SensingError("identity", "identity_taken", f"{device.identity!r} was just provisioned") from exc
        _audit(
            actor,
            AuditAction.CHANGE,
            device.household,
            object_id=device.pk,
            changes=audit.diff(before, _snapshot(device)),
        )
    return read_device(actor.principal, device.pk)


def deactivate_device(actor: Actor, device_id: int) -> DeviceView:
    """The device was removed from the home: its messages are no longer stored (they show as unclaimed)."""
    with transaction.atomic():
        device = _changeable(actor.principal, device_id)
        if device.active:
            device.active = False
            device.save(update_fields=["active"])
            _audit(actor, AuditAction.CHANGE, device.household, object_id=device.pk, changes={"active": [True, False]})
    return read_device(actor.principal, device.pk)


# --- devices: CSV ----------------------------------------------------------------------------------------------

CSV_COLUMNS = ("household_reference", "protocol", "identity", "vendor", "model", "room", "label", "kinds", "gateway")
CSV_REQUIRED = ("household_reference", "protocol", "identity")
_CSV_FIELD_COLUMN = {"gateway_id": "gateway"}


def bulk_provision_csv(actor: Actor, site: Site, content: bytes, max_rows: int = 20000) -> list[DeviceView]:
    """All rows or none. Columns: ``household_reference, protocol, identity`` (required), ``vendor, model, room,
    label, kinds, gateway``; ``kinds`` separated by ``|`` (e.g. ``motion|battery``), ``room`` one of
    bedroom, living, kitchen, bathroom, entrance, other; ``gateway`` a gateway's name. Every row is checked first
    and every problem is reported by row and column."""
    principal = actor.principal
    if principal.site_id != site.pk or principal.scope(Resource.DEVICE, Action.IMPORT) not in (Scope.SITE, Scope.AREA):
        raise PermissionDenied
    reader = csv.DictReader(io.StringIO(read_csv_text(content), newline=""))
    try:
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        errors = [RowError(1, c, "required column is missing") for c in CSV_REQUIRED if c not in header]
        errors += [RowError(1, c, "unknown column") for c in header if c not in CSV_COLUMNS]
        if errors:
            raise ImportRejected(errors)
        rows = list(reader)
    except csv.Error as exc:
        raise ImportRejected([RowError(reader.line_num, "", f"not a readable CSV file: {exc}")]) from exc
    if len(rows) > max_rows:
        raise ImportRejected([RowError(max_rows + 2, "", f"more than {max_rows} rows; split the file")])
    references = {(r.get("household_reference") or "").strip().upper() for r in rows}
    households = {h.reference: h for h in device_households(principal, Action.IMPORT).filter(reference__in=references)}
    gateways = {g.name: g.pk for g in Gateway.objects.filter(site=site, active=True)}
    parsed: list[tuple[Household, DeviceInput]] = []
    seen: dict[tuple[str, str], int] = {}
    for row_no, raw in enumerate(rows, start=2):
        row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        row_errors: list[RowError] = []
        household = households.get(row.get("household_reference", "").upper())
        if household is None:
            message = "required" if not row.get("household_reference") else "no such household that you may equip"
            row_errors.append(RowError(row_no, "household_reference", message))
        elif household.processing_stopped:
            row_errors.append(RowError(row_no, "household_reference", "consent was withdrawn: no devices are added"))
        gateway_id = None
        if row.get("gateway"):
            gateway_id = gateways.get(row["gateway"])
            if gateway_id is None:
                row_errors.append(RowError(row_no, "gateway", f"no active gateway named {row['gateway']!r}"))
        try:
            data = DeviceInput(
                protocol=row.get("protocol", "").lower(),
                identity=row.get("identity", ""),
                vendor=row.get("vendor", ""),
                model=row.get("model", ""),
                room=(row.get("room") or "other").lower(),
                label=row.get("label", ""),
                kinds=row.get("kinds", "").split("|"),
                gateway_id=gateway_id,
            )
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                message = err["msg"].removeprefix("Value error, ")
                row_errors.append(RowError(row_no, _CSV_FIELD_COLUMN.get(field, field), message))
            errors += row_errors
            continue
        key = (data.protocol, data.identity)
        if key in seen:
            row_errors.append(RowError(row_no, "identity", f"the same device as row {seen[key]}"))
        else:
            seen[key] = row_no
            problem = _holder(principal, site.pk, data.protocol, data.identity)
            if problem:
                row_errors.append(RowError(row_no, "identity", problem))
        if row_errors:
            errors += row_errors
        elif household is not None:
            parsed.append((household, data))
    if errors:
        raise ImportRejected(errors)
    if not parsed:
        raise ImportRejected([RowError(0, "", "the file holds no rows")])
    with transaction.atomic():
        created = [_provision(actor, household, data) for household, data in parsed]
        audit.log(actor, AuditAction.IMPORT, RESOURCE, record_count=len(created), site_id=site.pk)
    now = timezone.now()
    return [
        _device_view(d, now)
        for d in Device.objects.filter(pk__in=[d.pk for d in created]).select_related("household", "gateway")
    ]


# --- unclaimed devices -----------------------------------------------------------------------------------------


def unclaimed_devices(principal: Principal, include_ignored: bool = False, limit: int = 500) -> list[UnclaimedDevice]:
    """Devices sending messages that no household has, most recently heard first."""
    qs = UnclaimedDevice.objects.filter(site_id=_site_id(principal, Action.VIEW))
    if not include_ignored:
        qs = qs.filter(ignored=False)
    return list(qs.order_by("-last_seen_at")[:limit])


def read_unclaimed(principal: Principal, unclaimed_id: int, action: Action = Action.VIEW) -> UnclaimedDevice:
    found = UnclaimedDevice.objects.filter(site_id=_site_id(principal, action), pk=unclaimed_id).first()
    if found is None:
        raise NotFound("unclaimed device", unclaimed_id)
    return found


def shown_payload(text: str) -> tuple[str, bool]:
    """A payload for a page: at most ``_PAYLOAD_SHOWN`` characters, and whether it was cut."""
    return text[:_PAYLOAD_SHOWN], len(text) > _PAYLOAD_SHOWN


def claim_device(actor: Actor, unclaimed_id: int, data: ClaimInput) -> DeviceView:
    """Provision an unclaimed device in a household. Its earlier messages are not imported: readings start
    with the next message."""
    unclaimed = read_unclaimed(actor.principal, unclaimed_id, Action.CREATE)
    household = _household(actor.principal, data.household_id, Action.CREATE)
    _writable(household)
    try:
        device_input = DeviceInput(
            protocol=unclaimed.protocol,
            identity=unclaimed.identity,
            **data.model_dump(exclude={"household_id"}),
        )
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise SensingError("identity", "invalid_identity", message) from exc
    with transaction.atomic():
        device = _provision(actor, household, device_input)
    return read_device(actor.principal, device.pk)


def ignore_unclaimed(actor: Actor, unclaimed_id: int) -> UnclaimedDevice:
    """Hide it from the list (a neighbour's device on a shared broker, a test); deleted after 90 silent days."""
    unclaimed = read_unclaimed(actor.principal, unclaimed_id, Action.CHANGE)
    if not unclaimed.ignored:
        unclaimed.ignored = True
        unclaimed.save(update_fields=["ignored"])
        audit.log(actor, AuditAction.CHANGE, UNCLAIMED, object_id=unclaimed.pk, site_id=unclaimed.site_id)
    return unclaimed


@dataclass(frozen=True)
class HouseholdChoice:
    id: int
    reference: str
    area_name: str


def find_households(principal: Principal, q: str, limit: int = 10) -> list[HouseholdChoice]:
    """Households to claim a device for, by (part of) their H-number; no personal data is read."""
    q = q.strip()
    if not q:
        return []
    qs = device_households(principal, Action.CREATE).filter(reference__icontains=q, processing_stopped=False)
    return [
        HouseholdChoice(id=h["pk"], reference=h["reference"], area_name=h["area__name"])
        for h in qs.order_by("reference").values("pk", "reference", "area__name")[:limit]
    ]


# --- gateways ----------------------------------------------------------------------------------------------


class GatewayStatus(StrEnum):
    UP = "up"
    DOWN = "down"  # it said so, or silent longer than its heartbeat: its homes cannot be seen
    NEVER_SEEN = "never_seen"
    INACTIVE = "inactive"


def gateway_status(gateway: Gateway, now: datetime) -> GatewayStatus:
    if not gateway.active:
        return GatewayStatus.INACTIVE
    if gateway.online is False:
        return GatewayStatus.DOWN
    if gateway.last_seen_at is None:
        return GatewayStatus.NEVER_SEEN
    if gateway.last_seen_at < now - timedelta(minutes=gateway.heartbeat_minutes):
        return GatewayStatus.DOWN
    return GatewayStatus.UP


@dataclass(frozen=True)
class GatewayView:
    id: int
    name: str
    token_hint: str
    heartbeat_minutes: int
    last_seen_at: datetime | None
    active: bool
    status: GatewayStatus
    devices: int
    created_at: datetime


def _gateway_view(g: Gateway, now: datetime, devices: int) -> GatewayView:
    return GatewayView(
        id=g.pk,
        name=g.name,
        token_hint=g.token_hint,
        heartbeat_minutes=g.heartbeat_minutes,
        last_seen_at=g.last_seen_at,
        active=g.active,
        status=gateway_status(g, now),
        devices=devices,
        created_at=g.created_at,
    )


def gateways(principal: Principal, now: datetime | None = None) -> list[GatewayView]:
    """The site's gateways, active first, with how many active devices each forwards."""
    now = now or timezone.now()
    qs = Gateway.objects.filter(site_id=_site_id(principal, Action.VIEW)).annotate(
        device_count=Count("devices", filter=Q(devices__active=True))
    )
    return [_gateway_view(g, now, g.device_count) for g in qs.order_by("-active", "name")]


def gateway_for_token(token: str) -> Gateway | None:
    """The active gateway this bearer token belongs to, or None. For the HTTP ingestion endpoint."""
    if not token or len(token) > 200:
        return None
    return Gateway.objects.filter(token_hash=tokens.token_hash(token), active=True).select_related("site").first()


def _managed_gateway(principal: Principal, gateway_id: int) -> Gateway:
    gateway = Gateway.objects.filter(site_id=_site_id(principal, Action.CHANGE, site_wide=True), pk=gateway_id).first()
    if gateway is None:
        raise NotFound("gateway", gateway_id)
    return gateway


def _gateway_saved(actor: Actor, gateway: Gateway, action: AuditAction, changes: dict[str, Any]) -> GatewayView:
    try:
        with transaction.atomic():
            gateway.save()
    except IntegrityError as exc:
        raise SensingError("name", "name_taken", f"a gateway named {gateway.name!r} exists on this site") from exc
    audit.log(actor, action, GATEWAY, object_id=gateway.pk, site_id=gateway.site_id, changes=changes)
    return _gateway_view(gateway, timezone.now(), gateway.devices.filter(active=True).count())


def create_gateway(actor: Actor, data: GatewayInput) -> tuple[GatewayView, str]:
    """A new gateway and its token. The token is returned once and never stored: only its hash is kept."""
    site_id = _site_id(actor.principal, Action.CREATE, site_wide=True)
    token = tokens.new_token()
    gateway = Gateway(
        site_id=site_id,
        name=data.name,
        heartbeat_minutes=data.heartbeat_minutes,
        token_hash=tokens.token_hash(token),
        token_hint=token[:8],
        created_by_id=actor.principal.user_id,
    )
    view = _gateway_saved(actor, gateway, AuditAction.CREATE, data.model_dump())
    return view, token


def rotate_gateway_token(actor: Actor, gateway_id: int) -> tuple[GatewayView, str]:
    """A new token for the gateway; the old one stops working at once."""
    gateway = _managed_gateway(actor.principal, gateway_id)
    token = tokens.new_token()
    before = gateway.token_hint
    gateway.token_hash, gateway.token_hint = tokens.token_hash(token), token[:8]
    view = _gateway_saved(actor, gateway, AuditAction.CHANGE, {"token_hint": [before, gateway.token_hint]})
    return view, token


def update_gateway(actor: Actor, gateway_id: int, change: GatewayChange) -> GatewayView:
    gateway = _managed_gateway(actor.principal, gateway_id)
    before = {"name": gateway.name, "heartbeat_minutes": gateway.heartbeat_minutes}
    if change.name is not None:
        gateway.name = change.name
    if change.heartbeat_minutes is not None:
        gateway.heartbeat_minutes = change.heartbeat_minutes
    after = {"name": gateway.name, "heartbeat_minutes": gateway.heartbeat_minutes}
    return _gateway_saved(actor, gateway, AuditAction.CHANGE, audit.diff(before, after))


def deactivate_gateway(actor: Actor, gateway_id: int) -> GatewayView:
    """Its token stops working; its devices stay provisioned (move them to another gateway if they moved)."""
    gateway = _managed_gateway(actor.principal, gateway_id)
    gateway.active = False
    return _gateway_saved(actor, gateway, AuditAction.CHANGE, {"active": [True, False]})


# --- dead letters ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetterView:
    id: int
    received_at: datetime
    source: str
    topic: str
    payload: str
    payload_cut: bool
    reason: str
    detail: str


@dataclass(frozen=True)
class DeadLetterPage:
    rows: list[DeadLetterView]
    total: int
    page: int
    pages: int


UNKNOWN_SOURCE = "unknown"  # the filter value for dead letters whose protocol could not be told


def dead_letters(
    principal: Principal, *, reason: str = "", source: str = "", page: int = 1, per_page: int = 50
) -> DeadLetterPage:
    """The site's dead letters, newest first; ``source`` is a protocol or ``unknown``."""
    qs = DeadLetter.objects.filter(site_id=_site_id(principal, Action.VIEW))
    if reason:
        qs = qs.filter(reason=reason)
    if source:
        qs = qs.filter(source="" if source == UNKNOWN_SOURCE else source)
    total = qs.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = []
    for d in qs.order_by("-received_at", "-id")[(page - 1) * per_page : page * per_page]:
        payload, cut = shown_payload(d.payload)
        rows.append(DeadLetterView(d.pk, d.received_at, d.source, d.topic, payload, cut, d.reason, d.detail))
    return DeadLetterPage(rows=rows, total=total, page=page, pages=pages)


@dataclass(frozen=True)
class DeadLetterCounts:
    by_reason: dict[str, tuple[int, int]]  # every reason → (last 24 hours, last 7 days), from the dead letters kept
    outcomes: dict[str, tuple[int, int]]  # ingestion outcome → (messages today, messages in the last 7 days)


def dead_letter_counts(principal: Principal, now: datetime | None = None) -> DeadLetterCounts:
    now = now or timezone.now()
    site_id = _site_id(principal, Action.VIEW)
    day, week = now - timedelta(hours=24), now - timedelta(days=7)
    letters = (
        DeadLetter.objects.filter(site_id=site_id, received_at__gte=week)
        .values("reason")
        .annotate(day=Count("id", filter=Q(received_at__gte=day)), week=Count("id"))
    )
    today = timezone.localdate(now)
    counters = (
        IngestCounter.objects.filter(site_id=site_id, day__gt=today - timedelta(days=7), day__lte=today)
        .values("outcome")
        .annotate(today=Sum("messages", filter=Q(day=today)), week=Sum("messages"))
    )
    found = {r["reason"]: (r["day"], r["week"]) for r in letters}
    return DeadLetterCounts(
        by_reason={reason: found.get(reason, (0, 0)) for reason in DeadLetterReason.values},
        outcomes={c["outcome"]: (c["today"] or 0, c["week"] or 0) for c in counters},
    )


# --- retention and downsampling ------------------------------------------------------------------------------


def raw_reading_days() -> int:
    raw = os.environ.get("MAEUL_RAW_READING_DAYS", "").strip()
    days = int(raw) if raw else RAW_READING_DAYS
    if days < 1:
        raise ValueError("MAEUL_RAW_READING_DAYS must be at least 1")
    return days


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


_TABLE_READING = Reading._meta.db_table
_TABLE_HOURLY = HourlyReading._meta.db_table


def _roll_up_sql() -> str:
    """One statement (PostgreSQL) or two (SQLite) that move raw readings in [start, end) into hourly roll-ups,
    adding to a roll-up already there (a late reading of an hour rolled up before)."""
    r, h = _TABLE_READING, _TABLE_HOURLY
    if connection.vendor == "postgresql":
        least, greatest, hour = "LEAST", "GREATEST", "date_trunc('hour', at)"
    else:
        least, greatest, hour = "min", "max", "strftime('%%Y-%%m-%%d %%H:00:00', at)"
    merge = (
        f" ON CONFLICT (device_id, kind, hour) DO UPDATE SET count = {h}.count + excluded.count,"
        f" total = {h}.total + excluded.total, minimum = {least}({h}.minimum, excluded.minimum),"
        f" maximum = {greatest}({h}.maximum, excluded.maximum)"
    )
    columns = f"INSERT INTO {h} (device_id, household_id, kind, hour, count, total, minimum, maximum)"
    # A device moved between households within the hour: its hour stays one row, under the later household.
    aggregate = (
        f"SELECT device_id, MAX(household_id), kind, {hour}, COUNT(*), SUM(value), MIN(value), MAX(value)"  # noqa: S608
        f" FROM {{source}} WHERE at >= %s AND at < %s GROUP BY device_id, kind, {hour}"
    )
    if connection.vendor == "postgresql":
        # Aggregating exactly the rows deleted, so a reading committed meanwhile is neither lost nor counted twice.
        return (
            f"WITH moved AS (DELETE FROM {r} WHERE at >= %s AND at < %s"  # noqa: S608 — model table names; values are parameters
            " RETURNING device_id, household_id, kind, value, at),"
            f" merged AS ({columns} {aggregate.format(source='moved')}{merge} RETURNING 1)"
            " SELECT COUNT(*) FROM moved"
        )
    return f"{columns} {aggregate.format(source=r)}{merge}"


def _roll_up(start: datetime, end: datetime) -> int:
    """Move one window of raw readings into the roll-ups, in one transaction; returns the readings moved."""
    lo, hi = connection.ops.adapt_datetimefield_value(start), connection.ops.adapt_datetimefield_value(end)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_roll_up_sql(), [lo, hi, lo, hi])
            return int(cursor.fetchone()[0])
        # SQLite has one writer: once this transaction writes, nothing else commits until it ends.
        cursor.execute(_roll_up_sql(), [lo, hi])
        cursor.execute(f"DELETE FROM {_TABLE_READING} WHERE at >= %s AND at < %s", [lo, hi])  # noqa: S608
        return int(cursor.rowcount)


@dataclass(frozen=True)
class RetentionResult:
    readings_rolled_up: int
    hourly_deleted: int
    dead_letters_deleted: int
    delivery_keys_deleted: int
    unclaimed_deleted: int


def apply_retention(now: datetime | None = None, window: timedelta = timedelta(hours=1)) -> RetentionResult:
    """Roll raw readings older than ``raw_reading_days()`` into hourly roll-ups (count, total, minimum, maximum
    per device, kind and hour) and delete them; delete what is past its keeping time. Idempotent: a second run
    finds nothing to do. Raw readings are moved one time window per transaction, the windows on whole hours, so a
    backlog of tens of millions of rows never sits in one transaction."""
    now = now or timezone.now()
    cutoff = _hour(now - timedelta(days=raw_reading_days()))
    moved = 0
    start = Reading.objects.filter(at__lt=cutoff).aggregate(first=Min("at"))["first"]
    while start is not None:
        start = _hour(start)
        end = min(start + window, cutoff)
        moved += _roll_up(start, end)
        start = Reading.objects.filter(at__gte=end, at__lt=cutoff).aggregate(first=Min("at"))["first"]
    hourly, _ = HourlyReading.objects.filter(hour__lt=_hour(now - timedelta(days=HOURLY_READING_DAYS))).delete()
    letters, _ = DeadLetter.objects.filter(received_at__lt=now - timedelta(days=DEAD_LETTER_DAYS)).delete()
    keys, _ = DeliveryKey.objects.filter(stored_at__lt=now - timedelta(hours=DELIVERY_KEY_HOURS)).delete()
    unclaimed, _ = UnclaimedDevice.objects.filter(
        ignored=True, last_seen_at__lt=now - timedelta(days=IGNORED_UNCLAIMED_DAYS)
    ).delete()
    return RetentionResult(moved, hourly, letters, keys, unclaimed)


# --- reading queries (for a household the caller has authorised) -----------------------------------------------


def _activity_q(prefix: str = "") -> Q:
    kinds = [str(k) for k in ACTIVITY_KINDS]
    every = [str(k) for k in _EVERY_CHANGE_KINDS]
    return Q(**{f"{prefix}kind__in": kinds}) & (Q(**{f"{prefix}kind__in": every}) | Q(**{f"{prefix}value__gte": 1}))


def activity_by_hour(household_id: int, start: datetime, end: datetime) -> dict[datetime, int]:
    """Signs of someone moving about per hour in [start, end): motion seen, a door or the fridge opened, a button
    pressed, a flush, and any change of a switch, a bed/seat mat or an appliance — from raw readings and from the
    hourly roll-ups of older ones. Keys are whole hours in UTC (aware); hours with none are absent."""
    out: dict[datetime, int] = {}
    raw = (
        Reading.objects.filter(household_id=household_id, at__gte=start, at__lt=end)
        .filter(_activity_q())
        .annotate(hour=TruncHour("at", tzinfo=UTC))
        .values("hour")
        .annotate(n=Count("id"))
    )
    for row in raw:
        out[row["hour"]] = out.get(row["hour"], 0) + row["n"]
    # In a roll-up, ``total`` counts the 1s of a 0/1 kind; ``count`` counts every change.
    every = [str(k) for k in _EVERY_CHANGE_KINDS]
    hourly = (
        HourlyReading.objects.filter(
            household_id=household_id, hour__gte=_hour(start), hour__lt=end, kind__in=[str(k) for k in ACTIVITY_KINDS]
        )
        .values("hour")
        .annotate(
            changes=Sum("count", filter=Q(kind__in=every)),
            ones=Sum("total", filter=~Q(kind__in=every)),
        )
    )
    for row in hourly:
        n = int(row["changes"] or 0) + round(row["ones"] or 0)
        if n:
            hour = row["hour"].astimezone(UTC)
            out[hour] = out.get(hour, 0) + n
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class ReadingRow:
    at: datetime
    kind: str
    value: float
    device_id: int
    room: str
    label: str


def recent_readings(
    household_id: int, start: datetime, end: datetime, kinds: list[str] | None = None, limit: int = 5000
) -> list[ReadingRow]:
    """Raw readings in [start, end), newest first, with the device's room and label."""
    qs = Reading.objects.filter(household_id=household_id, at__gte=start, at__lt=end)
    if kinds is not None:
        qs = qs.filter(kind__in=kinds)
    rows = list(qs.order_by("-at", "-id").values("at", "kind", "value", "device_id")[:limit])
    devices = {
        d["pk"]: (d["room"], d["label"])
        for d in Device.objects.filter(pk__in={r["device_id"] for r in rows}).values("pk", "room", "label")
    }
    return [
        ReadingRow(r["at"], r["kind"], r["value"], r["device_id"], *devices.get(r["device_id"], (Room.OTHER, "")))
        for r in rows
    ]


@dataclass(frozen=True)
class DeviceSummary:
    devices: list[DeviceView]  # active devices
    offline: int
    never_seen: int
    battery_low: int
    last_seen_at: datetime | None  # the latest message from any of them


def device_summary(household_id: int, now: datetime | None = None) -> DeviceSummary:
    """A household's active devices and their health."""
    now = now or timezone.now()
    devices = Device.objects.filter(household_id=household_id, active=True).select_related("household", "gateway")
    views = sorted((_device_view(d, now) for d in devices), key=lambda v: (list(Health).index(v.health), v.room))
    seen = [v.last_seen_at for v in views if v.last_seen_at is not None]
    return DeviceSummary(
        devices=views,
        offline=sum(v.health == Health.OFFLINE for v in views),
        never_seen=sum(v.health == Health.NEVER_SEEN for v in views),
        battery_low=sum(v.health == Health.BATTERY_LOW for v in views),
        last_seen_at=max(seen, default=None),
    )


# --- programme figures ----------------------------------------------------------------------------------------


def programme_figures(site_id: int, since: date, until: date) -> dict[str, float | int | None]:
    """The site's monitoring figure for the programme (``maeul.programme``): the households with at least one
    active device registered before ``until`` — a count, never a household. ``since`` is accepted so that every
    source answers the same call; a stock has no period."""
    end = timezone.make_aware(datetime.combine(until, datetime.min.time()))
    monitored = (
        Device.objects.filter(site_id=site_id, active=True, created_at__lt=end)
        .values("household_id")
        .distinct()
        .count()
    )
    return {"households_monitored": monitored}


def activity_decline(
    household_ids: list[int], now: datetime, recent_days: int = 28, before_days: int = 56
) -> dict[int, int]:
    """For screening: how far each household's activity fell, in percent, over the last ``recent_days`` against
    the same length of time before (averaged over ``before_days``). Only households with activity in the earlier
    window appear; no fall gives 0. Counts as in ``activity_by_hour`` (raw readings and hourly roll-ups)."""
    if not household_ids:
        return {}
    split = now - timedelta(days=recent_days)
    start = split - timedelta(days=before_days)
    every = [str(k) for k in _EVERY_CHANGE_KINDS]
    kinds = [str(k) for k in ACTIVITY_KINDS]
    recent: dict[int, float] = {}
    earlier: dict[int, float] = {}
    for since, until, into in ((split, now, recent), (start, split, earlier)):
        raw = (
            Reading.objects.filter(household_id__in=household_ids, at__gte=since, at__lt=until)
            .filter(_activity_q())
            .values("household_id")
            .annotate(n=Count("id"))
        )
        for row in raw:
            into[row["household_id"]] = into.get(row["household_id"], 0) + row["n"]
        hourly = (
            HourlyReading.objects.filter(
                household_id__in=household_ids, hour__gte=_hour(since), hour__lt=until, kind__in=kinds
            )
            .values("household_id")
            .annotate(changes=Sum("count", filter=Q(kind__in=every)), ones=Sum("total", filter=~Q(kind__in=every)))
        )
        for row in hourly:
            n = int(row["changes"] or 0) + round(row["ones"] or 0)
            into[row["household_id"]] = into.get(row["household_id"], 0) + n
    out: dict[int, int] = {}
    for household_id, total in earlier.items():
        per_window = total * recent_days / before_days
        if per_window > 0:
            out[household_id] = max(0, min(100, round(100 * (1 - recent.get(household_id, 0) / per_window))))
    return out

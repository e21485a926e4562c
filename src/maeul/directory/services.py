"""Directory actions: the only code that writes organisations, services and the HSDS records around them.

The directory holds no personal data: reads are not audit-logged, every change and every import and export is.
Scope is the site: a principal sees and changes the directory of its own site only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Prefetch, Q, QuerySet

from maeul.accounts.models import Membership
from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.accounts.roles import Role
from maeul.areas.models import Area
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.directory import hsds
from maeul.directory.models import (
    Contact,
    DisabilityRule,
    HsdsRecord,
    Language,
    Location,
    LocationType,
    NeedDomain,
    Organization,
    OrganizationStaff,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceNeed,
    ServiceStatus,
    SiteRecord,
)
from maeul.directory.schemas import OrganizationInput, ServiceInput
from maeul.events import services as events
from maeul.people.errors import ImportRejected, NotFound, RegistryError, RowError

RESOURCE = "directory"

# --- scope -------------------------------------------------------------------------------------------------


def _site_in_scope(principal: Principal, action: Action) -> int:
    """The site whose directory the principal may act on."""
    if principal.scope(Resource.DIRECTORY, action) != Scope.SITE or principal.site_id is None:
        raise PermissionDenied
    return principal.site_id


def visible_organizations(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Organization]:
    scope = principal.scope(Resource.DIRECTORY, action)
    if scope == Scope.SITE and principal.site_id is not None:
        return Organization.objects.filter(site_id=principal.site_id)
    return Organization.objects.none()


def visible_services(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Service]:
    scope = principal.scope(Resource.DIRECTORY, action)
    if scope == Scope.SITE and principal.site_id is not None:
        return Service.objects.filter(organization__site_id=principal.site_id)
    return Service.objects.none()


# --- for the welfare app -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRef:
    """What a referral needs to know about a service."""

    id: uuid.UUID
    name: str
    organization_id: uuid.UUID
    organization_name: str
    site_id: int
    status: str
    needs: tuple[str, ...]
    capacity: int | None
    places_in_use: int

    @property
    def capacity_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.places_in_use, 0)


def _parse_uuid(kind: str, value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(kind, value) from None


def service_ref(service_id: uuid.UUID | str) -> ServiceRef:
    """The active service with this id; NotFound when there is none or it is not active."""
    ident = _parse_uuid("service", service_id)
    service = (
        Service.objects.filter(pk=ident, status=ServiceStatus.ACTIVE)
        .select_related("organization")
        .prefetch_related("needs")
        .first()
    )
    if service is None:
        raise NotFound("service", service_id)
    return _ref(service)


def _ref(service: Service) -> ServiceRef:
    return ServiceRef(
        id=service.id,
        name=service.name,
        organization_id=service.organization_id,
        organization_name=service.organization.name,
        site_id=service.organization.site_id,
        status=service.status,
        needs=tuple(service.need_list),
        capacity=service.capacity,
        places_in_use=service.places_in_use,
    )


def organization_ids_for_user(user_id: int) -> list[uuid.UUID]:
    """The organisations a partner staff account works for."""
    return list(
        OrganizationStaff.objects.filter(user_id=user_id)
        .order_by("organization_id")
        .values_list("organization_id", flat=True)
    )


def add_staff(actor: Actor, organization_id: uuid.UUID | str, user_id: int) -> OrganizationStaff:
    """Link a partner staff account of the site to an organisation (site administrator)."""
    site_id = _site_in_scope(actor.principal, Action.CHANGE)
    ident = _parse_uuid("organization", organization_id)
    organization = Organization.objects.filter(pk=ident, site_id=site_id).first()
    if organization is None:
        raise NotFound("organization", organization_id)
    membership = Membership.objects.filter(user_id=user_id, site_id=site_id).first()
    if membership is None or membership.role != Role.PARTNER_STAFF:
        raise RegistryError("user_id", "not_partner_staff", "the account is not a partner staff account of this site")
    staff, created = OrganizationStaff.objects.get_or_create(organization=organization, user_id=user_id)
    if created:
        audit.log(
            actor,
            AuditAction.CREATE,
            "directory_staff",
            object_id=str(organization.id),
            site_id=site_id,
            changes={"user_id": [None, user_id]},
        )
        events.record(
            "directory.staff_added",
            site_id=site_id,
            subject=("organization", str(organization.id)),
            data={"user_id": user_id},
        )
    return staff


def remove_staff(actor: Actor, organization_id: uuid.UUID | str, user_id: int) -> None:
    site_id = _site_in_scope(actor.principal, Action.CHANGE)
    ident = _parse_uuid("organization", organization_id)
    deleted, _ = OrganizationStaff.objects.filter(
        organization_id=ident, organization__site_id=site_id, user_id=user_id
    ).delete()
    if deleted:
        audit.log(
            actor,
            AuditAction.DELETE,
            "directory_staff",
            object_id=str(ident),
            site_id=site_id,
            changes={"user_id": [user_id, None]},
        )


def adjust_places_in_use(service_id: uuid.UUID | str, delta: int) -> ServiceRef:
    """A referral took (+1) or freed (-1) a place; never below zero."""
    ident = _parse_uuid("service", service_id)
    with transaction.atomic():
        service = (
            Service.objects.select_for_update(of=("self",)).filter(pk=ident).select_related("organization").first()
        )
        if service is None:
            raise NotFound("service", service_id)
        service.places_in_use = max(service.places_in_use + delta, 0)
        service.save(update_fields=["places_in_use", "updated_at"])
    return _ref(service)


# --- HSDS import -------------------------------------------------------------------------------------------

_NEED_WORDS: dict[str, tuple[str, ...]] = {
    NeedDomain.INCOME: ("income", "financ", "benefit", "money", "debt", "cash", "소득", "생계", "긴급복지"),
    NeedDomain.FOOD: ("food", "meal", "nutrition", "식품", "급식", "도시락", "푸드"),
    NeedDomain.HOUSING: ("housing", "shelter", "home repair", "rent", "주거", "집수리"),
    NeedDomain.HEALTH: ("health", "medical", "mental", "counsel", "건강", "의료", "정신"),
    NeedDomain.CARE: ("care", "personal assistance", "돌봄", "요양"),
    NeedDomain.SAFETY: ("safety", "violence", "abuse", "안전", "학대"),
    NeedDomain.ISOLATION: ("isolation", "lonel", "befriend", "social contact", "고립", "고독", "말벗"),
}

_EXTENSION_SCHEMA = {
    "type": "object",
    "properties": {
        "needs": {"type": "array", "items": {"enum": list(NeedDomain.values)}, "uniqueItems": True},
        "income_ceiling_percent": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000},
        "disability": {"enum": list(DisabilityRule.values)},
        "area_codes": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{10}$"}},
        "capacity": {"type": ["integer", "null"], "minimum": 0},
        "places_in_use": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}
# The HSDS tables linked to other records only, kept with their original row.
_LINKED: dict[str, type[SiteRecord]] = {
    "service_at_location": ServiceAtLocation,
    "contact": Contact,
    "phone": Phone,
    "schedule": Schedule,
    "service_area": ServiceArea,
    "language": Language,
}
_MODELLED: dict[str, type[models.Model]] = {
    "organization": Organization,
    "location": Location,
    "service": Service,
    **_LINKED,
}


class HsdsRejected(ImportRejected):
    """Nothing was imported; ``problems`` says where and why, ``errors`` the same as rows for the API."""

    def __init__(self, problems: list[hsds.Problem]) -> None:
        super().__init__([RowError(p.row, f"{p.source}#{p.pointer}", p.message) for p in problems])
        self.problems = problems


@dataclass(frozen=True)
class ImportSummary:
    items: int
    organizations: int
    services: int
    locations: int
    records: int


def _text(value: Any, limit: int | None = None) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text[:limit] if limit else text


def _age(value: Any) -> int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 150:
        return int(value)
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _needs_from_taxonomy(service_id: str, tables: hsds.Tables) -> set[str]:
    """Need domains suggested by the taxonomy terms attached to a service, by the words of the term."""
    found: set[str] = set()
    for attribute in tables.rows.get("attribute", {}).values():
        if str(attribute.get("link_id")) != service_id:
            continue
        term = tables.get("taxonomy_term", attribute.get("taxonomy_term_id")) or {}
        words = " ".join(_text(term.get(k)) for k in ("code", "name", "description")).lower()
        found.update(domain for domain, keys in _NEED_WORDS.items() if any(k in words for k in keys))
    return found


def _check_references(site_id: int, tables: hsds.Tables) -> list[hsds.Problem]:
    problems: list[hsds.Problem] = []
    for table, model in _MODELLED.items():
        ids = [_uuid_or_none(i) for i in tables.rows.get(table, {})]
        site_field = "site_id" if table != "service" else "organization__site_id"
        elsewhere = model._default_manager.filter(pk__in=[i for i in ids if i]).exclude(**{site_field: site_id})
        for ident in elsewhere.values_list("pk", flat=True):
            source, line = tables.origins.get((table, str(ident)), ("", 0))
            problems.append(hsds.Problem(source, line, "/id", f"{table} {ident} belongs to another site's directory"))
    known_orgs = set(tables.rows.get("organization", {})) | {
        str(i) for i in Organization.objects.filter(site_id=site_id).values_list("id", flat=True)
    }
    for ident, row in tables.rows.get("service", {}).items():
        source, line = tables.origins.get(("service", ident), ("", 0))
        if str(row.get("organization_id", "")) not in known_orgs:
            problems.append(
                hsds.Problem(
                    source,
                    line,
                    "/organization_id",
                    f"service {ident}: organization {row.get('organization_id') or '(none)'} is neither in the "
                    "upload nor in the directory",
                )
            )
        extension = row.get(hsds.EXTENSION)
        if extension is not None:
            errors = jsonschema.Draft202012Validator(_EXTENSION_SCHEMA).iter_errors(extension)
            problems.extend(hsds.problems_of(errors, source, line, f"/{hsds.EXTENSION}"))
            codes = extension.get("area_codes", []) if isinstance(extension, dict) else []
            known = set(
                Area.objects.filter(code__in=[c for c in codes if isinstance(c, str)]).values_list("code", flat=True)
            )
            problems.extend(
                hsds.Problem(source, line, f"/{hsds.EXTENSION}/area_codes", f"unknown area code {code}")
                for code in codes
                if isinstance(code, str) and code not in known
            )
    return problems


class _Applier:
    """Writes the rows of one import, in dependency order, linking only to records of the same site."""

    def __init__(self, site_id: int, tables: hsds.Tables) -> None:
        self.site_id = site_id
        self.tables = tables
        self.known: dict[str, set[str]] = {}

    def _known(self, table: str) -> set[str]:
        if table not in self.known:
            model = _MODELLED[table]
            site_field = "site_id" if table != "service" else "organization__site_id"
            self.known[table] = {
                str(i) for i in model._default_manager.filter(**{site_field: self.site_id}).values_list("pk", flat=True)
            }
        return self.known[table]

    def _link(self, row: hsds.Row, table: str) -> str | None:
        value = row.get(f"{table}_id")
        return str(value) if value not in (None, "") and str(value) in self._known(table) else None

    def _save(self, table: str, ident: str, values: dict[str, Any]) -> None:
        model = _MODELLED[table]
        model._default_manager.update_or_create(pk=uuid.UUID(ident), defaults=values)
        self._known(table).add(ident)

    def apply(self) -> None:
        rows = self.tables.rows
        for ident, row in rows.get("organization", {}).items():
            self._save(
                "organization",
                ident,
                {
                    "site_id": self.site_id,
                    "name": _text(row.get("name"), 300),
                    "alternate_name": _text(row.get("alternate_name"), 300),
                    "description": _text(row.get("description")),
                    "email": _text(row.get("email"), 254),
                    "website": _text(row.get("website"), 500),
                    "hsds": row,
                },
            )
        for ident, row in rows.get("location", {}).items():
            self._save(
                "location",
                ident,
                {
                    "site_id": self.site_id,
                    "organization_id": self._link(row, "organization"),
                    "location_type": row.get("location_type") or LocationType.PHYSICAL,
                    "name": _text(row.get("name"), 300),
                    "description": _text(row.get("description")),
                    "address": self._address_of(ident),
                    "latitude": _number(row.get("latitude")),
                    "longitude": _number(row.get("longitude")),
                    "hsds": row,
                },
            )
        for ident, row in rows.get("service", {}).items():
            self._save("service", ident, self._service_values(ident, row))
        self._simple("service_at_location", ("service", "location"), {"description": None})
        self._simple(
            "contact",
            ("organization", "service", "location", "service_at_location"),
            {"name": 300, "title": 300, "department": 300, "email": 254},
        )
        self._simple(
            "phone",
            ("organization", "service", "location", "contact", "service_at_location"),
            {"number": 60, "extension": 20, "type": 20, "description": None},
        )
        self._simple(
            "schedule",
            ("service", "location", "service_at_location"),
            {"freq": 20, "byday": 60, "opens_at": 20, "closes_at": 20, "description": None},
        )
        self._simple("language", ("service", "location", "phone"), {"name": 100, "code": 20})
        self._service_areas()
        for ident, row in rows.get("service", {}).items():
            self._eligibility(ident, row)
        for table, table_rows in rows.items():
            if table in _MODELLED:
                continue
            for ident, row in table_rows.items():
                HsdsRecord.objects.update_or_create(
                    site_id=self.site_id, table=table, record_id=uuid.UUID(ident), defaults={"data": row}
                )

    def _address_of(self, location_id: str) -> str:
        for address in self.tables.rows.get("address", {}).values():
            if str(address.get("location_id")) == location_id:
                parts = ("address_1", "address_2", "city", "state_province", "postal_code")
                return _text(" ".join(_text(address.get(p)) for p in parts if address.get(p)), 500)
        return ""

    def _simple(self, table: str, links: tuple[str, ...], columns: dict[str, int | None]) -> None:
        for ident, row in self.tables.rows.get(table, {}).items():
            values: dict[str, Any] = {"site_id": self.site_id, "hsds": row}
            values.update({f"{link}_id": self._link(row, link) for link in links})
            values.update({column: _text(row.get(column), limit) for column, limit in columns.items()})
            self._save(table, ident, values)

    def _service_values(self, ident: str, row: hsds.Row) -> dict[str, Any]:
        return {
            "organization_id": self._link(row, "organization"),
            "name": _text(row.get("name"), 300),
            "alternate_name": _text(row.get("alternate_name"), 300),
            "description": _text(row.get("description")),
            "status": row.get("status") or ServiceStatus.ACTIVE,
            "url": _text(row.get("url"), 500),
            "email": _text(row.get("email"), 254),
            "application_process": _text(row.get("application_process")),
            "eligibility_description": _text(row.get("eligibility_description")),
            "fees_description": _text(row.get("fees_description")),
            "minimum_age": _age(row.get("minimum_age")),
            "maximum_age": _age(row.get("maximum_age")),
            "hsds": row,
        }

    def _service_areas(self) -> None:
        rows = self.tables.rows.get("service_area", {})
        named = {
            ident: next((v for v in (row.get("extent"), row.get("name")) if isinstance(v, str) and v.isdigit()), "")
            for ident, row in rows.items()
        }
        areas = set(Area.objects.filter(code__in=[c for c in named.values() if c]).values_list("code", flat=True))
        for ident, row in rows.items():
            self._save(
                "service_area",
                ident,
                {
                    "site_id": self.site_id,
                    "service_id": self._link(row, "service"),
                    "name": _text(row.get("name")),
                    "description": _text(row.get("description")),
                    "area_id": named[ident] if named[ident] in areas else None,
                    "hsds": row,
                },
            )

    def _eligibility(self, ident: str, row: hsds.Row) -> None:
        service = Service.objects.get(pk=uuid.UUID(ident))
        extension = row.get(hsds.EXTENSION)
        area_codes = set(
            ServiceArea.objects.filter(service=service).exclude(area=None).values_list("area_id", flat=True)
        )
        if isinstance(extension, dict):
            needs = set(extension.get("needs", []))
            service.income_ceiling_percent = extension.get("income_ceiling_percent")
            service.disability = extension.get("disability", DisabilityRule.ANY)
            service.capacity = extension.get("capacity")
            service.places_in_use = extension.get("places_in_use", service.places_in_use)
            area_codes |= set(extension.get("area_codes", []))
            service.save()
        else:
            needs = _needs_from_taxonomy(ident, self.tables) | set(service.need_list)
        service.needs.exclude(domain__in=needs).delete()
        for domain in sorted(needs - set(service.need_list)):
            ServiceNeed.objects.create(service=service, domain=domain)
        if area_codes:
            service.areas.add(*Area.objects.filter(code__in=area_codes))


def import_hsds(
    actor: Actor, payload: bytes | Mapping[str, bytes], *, kind: str | None = None, source: str = "upload"
) -> ImportSummary:
    """Import HSDS JSON (a record, a ``_list`` page, a ``_package``, the tabular package as JSON) or the tabular
    package of CSV files (a zip, or the files by name).

    Everything is validated first; any problem refuses the whole upload (``HsdsRejected``). Records are matched
    by id, so importing again updates them.
    """
    site_id = _site_in_scope(actor.principal, Action.IMPORT)
    if kind is not None and kind not in hsds.IMPORT_KINDS:
        raise RegistryError("kind", "unknown_kind", f"kind must be one of {', '.join(hsds.IMPORT_KINDS)}")
    parsed = hsds.read_upload(payload, kind, source)
    if parsed.problems:
        raise HsdsRejected(parsed.problems)
    with transaction.atomic():
        problems = _check_references(site_id, parsed.tables)
        if problems:
            raise HsdsRejected(problems)
        _Applier(site_id, parsed.tables).apply()
        counts = {table: len(rows) for table, rows in parsed.tables.rows.items()}
        summary = ImportSummary(
            items=parsed.items,
            organizations=counts.get("organization", 0),
            services=counts.get("service", 0),
            locations=counts.get("location", 0),
            records=parsed.tables.count(),
        )
        audit.log(
            actor,
            AuditAction.IMPORT,
            RESOURCE,
            object_id=source[:64],
            site_id=site_id,
            record_count=summary.records,
        )
        events.record("directory.imported", site_id=site_id, data={"tables": counts})
    return summary


# --- HSDS export -------------------------------------------------------------------------------------------


def _overlay(row: dict[str, Any], values: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The original row with Maeul's current values over it; a cleared optional value leaves the row."""
    merged = dict(row)
    for key, value in values.items():
        if value in (None, "") and key not in required:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _site_tables(site_id: int) -> hsds.Tables:
    tables = hsds.Tables()
    values: dict[str, Any]
    for org in Organization.objects.filter(site_id=site_id):
        values = {
            "id": str(org.id),
            "name": org.name,
            "alternate_name": org.alternate_name,
            "description": org.description,
            "email": org.email,
            "website": org.website,
        }
        tables.add("organization", _overlay(org.hsds, values, ("name", "description")))
    services = Service.objects.filter(organization__site_id=site_id).prefetch_related("needs", "areas")
    for service in services:
        values = {
            "id": str(service.id),
            "organization_id": str(service.organization_id),
            "name": service.name,
            "alternate_name": service.alternate_name,
            "description": service.description,
            "status": service.status,
            "url": service.url,
            "email": service.email,
            "application_process": service.application_process,
            "eligibility_description": service.eligibility_description,
            "fees_description": service.fees_description,
            "minimum_age": service.minimum_age,
            "maximum_age": service.maximum_age,
            hsds.EXTENSION: {
                "needs": service.need_list,
                "income_ceiling_percent": service.income_ceiling_percent,
                "disability": service.disability,
                "area_codes": sorted(a.code for a in service.areas.all()),
                "capacity": service.capacity,
                "places_in_use": service.places_in_use,
            },
        }
        tables.add("service", _overlay(service.hsds, values, ("name", "status")))
    for location in Location.objects.filter(site_id=site_id):
        values = {
            "id": str(location.id),
            "location_type": location.location_type,
            "name": location.name,
            "description": location.description,
            "latitude": location.latitude,
            "longitude": location.longitude,
        }
        if location.organization_id is not None:
            values["organization_id"] = str(location.organization_id)
        tables.add("location", _overlay(location.hsds, values, ("location_type",)))
    for table, model in _LINKED.items():
        for record in model._default_manager.filter(site_id=site_id):
            tables.add(table, _overlay(record.hsds, _record_values(table, record), _REQUIRED.get(table, ())))
    for extra in HsdsRecord.objects.filter(site_id=site_id).order_by("table", "record_id"):
        tables.add(extra.table, extra.data)
    return tables


_REQUIRED = {"phone": ("number",)}
_RECORD_COLUMNS = {
    "service_at_location": ("description",),
    "contact": ("name", "title", "department", "email"),
    "phone": ("number", "extension", "type", "description"),
    "schedule": ("freq", "byday", "opens_at", "closes_at", "description"),
    "service_area": ("name", "description"),
    "language": ("name", "code"),
}
_RECORD_LINKS = {
    "service_at_location": ("service", "location"),
    "contact": ("organization", "service", "location", "service_at_location"),
    "phone": ("organization", "service", "location", "contact", "service_at_location"),
    "schedule": ("service", "location", "service_at_location"),
    "service_area": ("service",),
    "language": ("service", "location", "phone"),
}


def _record_values(table: str, record: SiteRecord) -> dict[str, Any]:
    values: dict[str, Any] = {"id": str(record.pk)}
    columns = hsds.table_schemas()[table]["properties"]
    for column in _RECORD_COLUMNS[table]:
        values[column] = getattr(record, column)
        if columns[column].get("type") == "number" and values[column] != "":
            values[column] = _as_number(values[column])
    for link in _RECORD_LINKS[table]:
        linked = getattr(record, f"{link}_id")
        if linked is not None:
            values[f"{link}_id"] = str(linked)
    return values


def _as_number(value: str) -> int | float | None:
    """A number column Maeul keeps as text (a phone extension); text that is no number is left out."""
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


def export_json(actor: Actor, kind: str = "organization") -> dict[str, Any]:
    """The site's directory as an HSDS ``_list`` page of full ``kind`` records (the compiled shapes)."""
    site_id = _site_in_scope(actor.principal, Action.EXPORT)
    if kind not in hsds.ROOT_KINDS:
        raise RegistryError("kind", "unknown_kind", f"kind must be one of {', '.join(hsds.ROOT_KINDS)}")
    tables = _site_tables(site_id)
    index = hsds.Index(tables)
    schema = hsds.compiled_schema(kind)
    contents = [hsds.nest(tables.rows[kind][ident], schema, index) for ident in sorted(tables.rows.get(kind, {}))]
    audit.log(
        actor, AuditAction.EXPORT, RESOURCE, object_id=f"{kind}_list", site_id=site_id, record_count=len(contents)
    )
    return hsds.page(contents)


def export_package(actor: Actor) -> bytes:
    """The site's directory as the HSDS tabular data package, zipped."""
    site_id = _site_in_scope(actor.principal, Action.EXPORT)
    tables = _site_tables(site_id)
    audit.log(
        actor, AuditAction.EXPORT, RESOURCE, object_id="datapackage", site_id=site_id, record_count=tables.count()
    )
    return hsds.write_package(tables)


# --- search and reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceSummary:
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


def _summary(service: Service) -> ServiceSummary:
    return ServiceSummary(
        id=service.id,
        name=service.name,
        description=service.description,
        status=service.status,
        organization_id=service.organization_id,
        organization_name=service.organization.name,
        needs=service.need_list,
        area_codes=sorted(a.code for a in service.areas.all()),
        minimum_age=service.minimum_age,
        maximum_age=service.maximum_age,
        income_ceiling_percent=service.income_ceiling_percent,
        disability=service.disability,
        capacity=service.capacity,
        capacity_left=service.capacity_left,
    )


SEARCH_LIMIT = 200


def search_services(
    principal: Principal,
    *,
    need: str | None = None,
    area_code: str | None = None,
    age: int | None = None,
    income_band: int | None = None,
    disability: bool | None = None,
    text: str | None = None,
) -> list[ServiceSummary]:
    """Active services of the site a person could use.

    ``area_code``: services serving that eup/myeon/dong, or the whole site (no areas set). ``age``: within the
    age limits. ``income_band``: the household's income as % of the national median; services whose ceiling is
    at or above it. ``disability=False`` leaves out services only for people with a disability.
    """
    qs = visible_services(principal).filter(status=ServiceStatus.ACTIVE)
    if need:
        qs = qs.filter(needs__domain=need)
    if area_code:
        qs = qs.filter(Q(areas=None) | Q(areas__code=area_code))
    if age is not None:
        qs = qs.filter(Q(minimum_age=None) | Q(minimum_age__lte=age), Q(maximum_age=None) | Q(maximum_age__gte=age))
    if income_band is not None:
        qs = qs.filter(Q(income_ceiling_percent=None) | Q(income_ceiling_percent__gte=income_band))
    if disability is False:
        qs = qs.exclude(disability=DisabilityRule.REQUIRED)
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(description__icontains=text) | Q(organization__name__icontains=text))
    services = (qs.select_related("organization").prefetch_related("needs", "areas").distinct().order_by("name", "id"))[
        :SEARCH_LIMIT
    ]
    return [_summary(s) for s in services]


def list_organizations(principal: Principal) -> list[Organization]:
    return list(visible_organizations(principal).prefetch_related("services"))


def get_organization(principal: Principal, organization_id: uuid.UUID | str) -> Organization:
    ident = _parse_uuid("organization", organization_id)
    organization = (
        visible_organizations(principal)
        .filter(pk=ident)
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.prefetch_related("needs", "areas")),
            "locations",
            "phones",
            Prefetch("staff", queryset=OrganizationStaff.objects.select_related("user")),
        )
        .first()
    )
    if organization is None:
        raise NotFound("organization", organization_id)
    return organization


def get_service(principal: Principal, service_id: uuid.UUID | str) -> Service:
    ident = _parse_uuid("service", service_id)
    service = (
        visible_services(principal)
        .filter(pk=ident)
        .select_related("organization")
        .prefetch_related(
            "needs",
            "areas",
            "phones",
            "contacts",
            "schedules",
            "languages",
            "service_areas",
            Prefetch("at_locations", queryset=ServiceAtLocation.objects.select_related("location")),
        )
        .first()
    )
    if service is None:
        raise NotFound("service", service_id)
    return service


def service_summary(principal: Principal, service_id: uuid.UUID | str) -> ServiceSummary:
    return _summary(get_service(principal, service_id))


def site_areas(principal: Principal) -> QuerySet[Area]:
    """The current eup/myeon/dong of the principal's site, for area filters and service areas."""
    if principal.site_id is None:
        return Area.objects.none()
    return Area.objects.filter(member_of_sites__id=principal.site_id, abolished=False).order_by("code")


def partner_accounts(principal: Principal) -> list[tuple[int, str]]:
    """Partner staff accounts of the site, as (user id, username), for linking to an organisation."""
    if principal.site_id is None:
        return []
    rows = Membership.objects.filter(site_id=principal.site_id, role=Role.PARTNER_STAFF).select_related("user")
    return sorted((m.user_id, m.user.get_username()) for m in rows)


# --- changing ----------------------------------------------------------------------------------------------


def _organization_state(org: Organization) -> dict[str, Any]:
    return {k: getattr(org, k) for k in ("name", "alternate_name", "description", "email", "website")}


def create_organization(actor: Actor, data: OrganizationInput) -> Organization:
    site_id = _site_in_scope(actor.principal, Action.CREATE)
    with transaction.atomic():
        org = Organization.objects.create(site_id=site_id, **data.model_dump())
        audit.log(
            actor,
            AuditAction.CREATE,
            "directory_organization",
            object_id=str(org.id),
            site_id=site_id,
            changes=audit.diff({}, _organization_state(org)),
        )
        events.record("directory.organization_created", site_id=site_id, subject=("organization", str(org.id)))
    return org


def update_organization(actor: Actor, organization_id: uuid.UUID | str, data: OrganizationInput) -> Organization:
    site_id = _site_in_scope(actor.principal, Action.CHANGE)
    with transaction.atomic():
        org = (
            visible_organizations(actor.principal, Action.CHANGE)
            .select_for_update()
            .filter(pk=_parse_uuid("organization", organization_id))
            .first()
        )
        if org is None:
            raise NotFound("organization", organization_id)
        before = _organization_state(org)
        for key, value in data.model_dump().items():
            setattr(org, key, value)
        org.save()
        changes = audit.diff(before, _organization_state(org))
        if changes:
            audit.log(
                actor,
                AuditAction.CHANGE,
                "directory_organization",
                object_id=str(org.id),
                site_id=site_id,
                changes=changes,
            )
    return org


def _service_state(service: Service) -> dict[str, Any]:
    state = {
        k: getattr(service, k)
        for k in (
            "name",
            "description",
            "status",
            "minimum_age",
            "maximum_age",
            "income_ceiling_percent",
            "disability",
            "capacity",
            "eligibility_description",
            "application_process",
        )
    }
    state["needs"] = service.need_list
    state["area_codes"] = sorted(a.code for a in service.areas.all())
    return state


def _write_service(service: Service, data: ServiceInput, site_id: int) -> None:
    areas = list(Area.objects.filter(code__in=data.area_codes, member_of_sites__id=site_id))
    unknown = sorted(set(data.area_codes) - {a.code for a in areas})
    if unknown:
        raise RegistryError("area_codes", "area_not_in_site", f"not an area of this site: {', '.join(unknown)}")
    values = data.model_dump(exclude={"needs", "area_codes"})
    for key, value in values.items():
        setattr(service, key, value)
    service.save()
    service.needs.exclude(domain__in=data.needs).delete()
    have = set(service.needs.values_list("domain", flat=True))
    ServiceNeed.objects.bulk_create([ServiceNeed(service=service, domain=d) for d in data.needs if d not in have])
    service.areas.set(areas)


def create_service(actor: Actor, organization_id: uuid.UUID | str, data: ServiceInput) -> Service:
    site_id = _site_in_scope(actor.principal, Action.CREATE)
    with transaction.atomic():
        org = (
            visible_organizations(actor.principal, Action.CREATE)
            .filter(pk=_parse_uuid("organization", organization_id))
            .first()
        )
        if org is None:
            raise NotFound("organization", organization_id)
        service = Service(organization=org)
        _write_service(service, data, site_id)
        audit.log(
            actor,
            AuditAction.CREATE,
            "directory_service",
            object_id=str(service.id),
            site_id=site_id,
            changes=audit.diff({}, _service_state(service)),
        )
        events.record("directory.service_created", site_id=site_id, subject=("service", str(service.id)))
    return service


def update_service(actor: Actor, service_id: uuid.UUID | str, data: ServiceInput) -> Service:
    site_id = _site_in_scope(actor.principal, Action.CHANGE)
    with transaction.atomic():
        service = (
            visible_services(actor.principal, Action.CHANGE)
            .select_for_update()
            .filter(pk=_parse_uuid("service", service_id))
            .first()
        )
        if service is None:
            raise NotFound("service", service_id)
        before = _service_state(service)
        _write_service(service, data, site_id)
        changes = audit.diff(before, _service_state(service))
        if changes:
            audit.log(
                actor,
                AuditAction.CHANGE,
                "directory_service",
                object_id=str(service.id),
                site_id=site_id,
                changes=changes,
            )
            if "status" in changes:
                events.record(
                    "directory.service_status_changed",
                    site_id=site_id,
                    subject=("service", str(service.id)),
                    data={"status": service.status},
                )
    return service

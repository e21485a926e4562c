"""Registry actions: the only code that writes households, persons, contacts and consents.

Every function takes an ``Actor`` (who, from where) and checks scope through ``visible_households``; each
read of a person-level record and each change is written to the audit log, changes with before/after.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from pydantic import ValidationError

from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.areas.models import Area
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.events import services as events
from maeul.people.errors import ImportRejected, NotFound, RegistryError, RowError
from maeul.people.models import (
    VULNERABILITY_FLAGS,
    Consent,
    ConsentPurpose,
    EmergencyContact,
    GrantKind,
    Household,
    HouseholdGrant,
    HouseholdStatus,
    HouseholdStatusChange,
    Person,
)
from maeul.people.schemas import (
    ConsentInput,
    ContactInput,
    HouseholdChange,
    HouseholdInput,
    PersonInput,
    StatusInput,
)
from maeul.protection import fields
from maeul.protection.phone import canonical_phone, format_phone
from maeul.sites.models import Site

RESOURCE = "household"


# --- scope -------------------------------------------------------------------------------------------------


def visible_households(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Household]:
    """Households this principal may act on, as a query filter. Nothing for a role without a scope."""
    scope = principal.scope(Resource.HOUSEHOLD, action)
    qs = Household.objects.filter(destroyed_at=None)
    if scope == Scope.SITE and principal.site_id is not None:
        return qs.filter(site_id=principal.site_id)
    if scope == Scope.AREA and principal.site_id is not None:
        return qs.filter(site_id=principal.site_id, area_id__in=principal.area_codes)
    if scope == Scope.GRANTED and principal.user_id is not None:
        return qs.filter(grants__user_id=principal.user_id, grants__revoked_at=None).distinct()
    return qs.none()


def assignable_areas(principal: Principal, action: Action = Action.CREATE) -> QuerySet[Area]:
    scope = principal.scope(Resource.HOUSEHOLD, action)
    if principal.site_id is None or scope not in (Scope.SITE, Scope.AREA):
        return Area.objects.none()
    qs = Area.objects.filter(member_of_sites__id=principal.site_id, abolished=False)
    if scope == Scope.AREA:
        qs = qs.filter(code__in=principal.area_codes)
    return qs.order_by("code")


def _get_scoped(principal: Principal, household_id: int, action: Action) -> Household:
    household = visible_households(principal, action).filter(pk=household_id).select_related("area", "site").first()
    if household is None:
        # Outside scope reads as absent, so probing reveals nothing about other areas.
        raise NotFound("household", household_id)
    return household


def require_household(principal: Principal, household_id: int, action: Action) -> None:
    """Raise NotFound unless the household is in scope; reads no personal data, so writes no audit row."""
    if not visible_households(principal, action).filter(pk=household_id).exists():
        raise NotFound("household", household_id)


def _area_in_scope(principal: Principal, area_code: str, action: Action) -> Area:
    area = assignable_areas(principal, action).filter(code=area_code).first()
    if area is None:
        raise RegistryError(
            "area_code",
            "area_not_allowed",
            f"area {area_code} is not a current eup/myeon/dong you may register households in",
        )
    return area


# --- reading -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonView:
    id: int
    name: str
    birth_year: int | None
    sex: str
    phone: str
    conditions: list[str]
    condition_note: str
    is_primary: bool


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    relation: str
    phone: str
    receives_alerts: bool
    priority: int


@dataclass(frozen=True)
class HouseholdSummary:
    """One row of a list: what a list needs and no more (no conditions)."""

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
    updated_at: Any


@dataclass(frozen=True)
class HouseholdView:
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
    created_at: Any
    updated_at: Any
    persons: list[PersonView] = field(default_factory=list)
    contacts: list[ContactView] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    status_changes: list[HouseholdStatusChange] = field(default_factory=list)


FLAG_FIELDS = VULNERABILITY_FLAGS


def _flags(h: Household) -> list[str]:
    return [f for f in FLAG_FIELDS if getattr(h, f)]


def _person_view(p: Person, with_conditions: bool) -> PersonView:
    conditions = fields.decrypt_json(p.conditions_encrypted, default={}) if with_conditions else {}
    return PersonView(
        id=p.pk,
        name=fields.decrypt(p.name_encrypted),
        birth_year=p.birth_year,
        sex=p.sex,
        phone=format_phone(fields.decrypt(p.phone_encrypted)),
        conditions=list(conditions.get("codes", [])),
        condition_note=str(conditions.get("note", "")),
        is_primary=p.is_primary,
    )


def _view(h: Household) -> HouseholdView:
    return HouseholdView(
        id=h.pk,
        reference=h.reference,
        site_id=h.site_id,
        area_code=h.area_id,
        area_name=h.area.full_name,
        address=fields.decrypt(h.address_encrypted),
        address_detail=fields.decrypt(h.address_detail_encrypted),
        latitude=h.latitude,
        longitude=h.longitude,
        housing_type=h.housing_type,
        living_alone=h.living_alone,
        older_adult=h.older_adult,
        disability=h.disability,
        chronic_illness=h.chronic_illness,
        bedridden=h.bedridden,
        financial_crisis=h.financial_crisis,
        care_level=h.care_level,
        status=h.status,
        processing_stopped=h.processing_stopped,
        retain_until=h.retain_until,
        created_at=h.created_at,
        updated_at=h.updated_at,
        persons=[_person_view(p, with_conditions=True) for p in h.persons.all()],
        contacts=[
            ContactView(
                id=c.pk,
                name=fields.decrypt(c.name_encrypted),
                relation=c.relation,
                phone=format_phone(fields.decrypt(c.phone_encrypted)),
                receives_alerts=c.receives_alerts,
                priority=c.priority,
            )
            for c in h.contacts.all()
        ],
        consents=list(h.consents.select_related("recorded_by", "withdrawn_by").all()),
        status_changes=list(h.status_changes.select_related("by").all()),
    )


def read_household(actor: Actor, household_id: int) -> HouseholdView:
    household = _get_scoped(actor.principal, household_id, Action.VIEW)
    _audit(actor, AuditAction.VIEW, household, resource=RESOURCE, object_id=household.pk)
    return _view(household)


@dataclass(frozen=True)
class HouseholdFilters:
    q: str = ""
    area_code: str = ""
    status: str = ""
    housing_type: str = ""
    care_level: int | None = None
    flag: str = ""
    include_stopped: bool = False
    sort: str = "reference"


SORTS: dict[str, tuple[Any, ...]] = {
    "reference": ("reference",),
    "-care_level": ("-care_level", "reference"),
    "area": ("area_id", "reference"),
    "-updated": ("-updated_at", "-id"),
    # Oldest main resident first; households without a birth year last on every database.
    "birth_year": (F("primary_birth_year").asc(nulls_last=True), "reference"),
}


@dataclass(frozen=True)
class HouseholdPage:
    rows: list[HouseholdSummary]
    total: int
    page: int
    pages: int
    per_page: int


def _search_query(q: str) -> Q:
    """Exact search through blind indexes: reference, name, phone or full address. No partial matching,
    by design: partial matching on encrypted personal data would need the data in clear.

    The matching households are looked up first, each criterion through its own index, so that lists filter
    on primary keys instead of joining every person of every household in scope."""
    q = q.strip()
    person = Q(name_index=fields.blind_index(fields.normalise_name(q)))
    with contextlib.suppress(DjangoValidationError):  # not a phone number: the other criteria still apply
        person |= Q(phone_index=fields.blind_index(canonical_phone(q)))
    address_ix = fields.blind_index(fields.normalise_text(q))
    matches = (
        Person.objects.filter(person)
        .order_by()
        .values_list("household_id", flat=True)
        .union(
            Household.objects.filter(address_index=address_ix).order_by().values_list("pk", flat=True),
            Household.objects.filter(reference__iexact=q).order_by().values_list("pk", flat=True),
        )
    )
    return Q(pk__in=sorted(matches))


def filtered_households(
    principal: Principal, filters: HouseholdFilters, action: Action = Action.VIEW
) -> QuerySet[Household]:
    qs = visible_households(principal, action)
    if not filters.include_stopped:
        qs = qs.filter(processing_stopped=False)
    if filters.q:
        qs = qs.filter(_search_query(filters.q))  # a primary-key filter: no join, so no duplicates
    if filters.area_code:
        qs = qs.filter(area_id=filters.area_code)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.housing_type:
        qs = qs.filter(housing_type=filters.housing_type)
    if filters.care_level:
        qs = qs.filter(care_level=filters.care_level)
    if filters.flag in FLAG_FIELDS:
        qs = qs.filter(**{filters.flag: True})
    return qs


def list_households(actor: Actor, filters: HouseholdFilters, page: int = 1, per_page: int = 25) -> HouseholdPage:
    qs = filtered_households(actor.principal, filters)
    order = SORTS.get(filters.sort, SORTS["reference"])
    total = qs.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    ids = list(qs.order_by(*order).values_list("pk", flat=True)[(page - 1) * per_page : page * per_page])
    # The page's households with their main resident's encrypted name, in one query.
    primary = Person.objects.filter(household=OuterRef("pk")).order_by("-is_primary", "id")
    households = {
        h["pk"]: h
        for h in Household.objects.filter(pk__in=ids).values(
            "pk",
            "reference",
            "area_id",
            "area__name",
            "housing_type",
            "care_level",
            "status",
            "processing_stopped",
            "updated_at",
            "primary_birth_year",
            *FLAG_FIELDS,
            primary_name=Subquery(primary.values("name_encrypted")[:1]),
        )
    }
    rows = []
    for hid in ids:
        h = households[hid]
        rows.append(
            HouseholdSummary(
                id=hid,
                reference=h["reference"],
                area_code=h["area_id"],
                area_name=h["area__name"],
                primary_name=fields.decrypt(h["primary_name"] or ""),
                birth_year=h["primary_birth_year"],
                housing_type=h["housing_type"],
                living_alone=h["living_alone"],
                care_level=h["care_level"],
                status=h["status"],
                flags=[f for f in FLAG_FIELDS if h[f]],
                processing_stopped=h["processing_stopped"],
                updated_at=h["updated_at"],
            )
        )
    if ids:
        action = AuditAction.SEARCH if filters.q else AuditAction.LIST
        audit.log_many(actor, action, RESOURCE, ids, site_id=actor.principal.site_id)
    return HouseholdPage(rows=rows, total=total, page=page, pages=pages, per_page=per_page)


def map_points(actor: Actor, area_code: str | None = None, limit: int = 2000) -> list[dict[str, Any]]:
    """Coordinates and coded fields only (no names): what a map of an area shows. A household's location is
    personal data, so each one shown is logged."""
    qs = visible_households(actor.principal).filter(processing_stopped=False).exclude(latitude=None)
    if area_code:
        qs = qs.filter(area_id=area_code)
    rows = list(qs.values("pk", "reference", "latitude", "longitude", "care_level", "status")[:limit])
    if rows:
        audit.log_many(actor, AuditAction.LIST, RESOURCE, [r["pk"] for r in rows])
    return [
        {
            "id": r["pk"],
            "reference": r["reference"],
            "lat": r["latitude"],
            "lon": r["longitude"],
            "care_level": r["care_level"],
            "status": r["status"],
        }
        for r in rows
    ]


def counts_by_area(principal: Principal) -> dict[str, dict[str, int]]:
    qs = visible_households(principal).filter(processing_stopped=False)
    out: dict[str, dict[str, int]] = {}
    for row in qs.values("area_id").annotate(
        total=Count("id"), high=Count("id", filter=Q(care_level=3)), alone=Count("id", filter=Q(living_alone=True))
    ):
        out[row["area_id"]] = {"total": row["total"], "high": row["high"], "alone": row["alone"]}
    return out


def _audit(
    actor: Actor,
    action: AuditAction,
    household: Household,
    *,
    resource: str = RESOURCE,
    object_id: str | int = "",
    **details: Any,
) -> None:
    """An access record about one household, with its site and area."""
    audit.log(
        actor,
        action,
        resource,
        object_id=object_id,
        household_id=household.pk,
        site_id=household.site_id,
        area_code=household.area_id,
        **details,
    )


def _event(
    kind: str,
    household: Household,
    *,
    actor: Actor,
    subject: tuple[str, str | int] | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """A domain event about one household (codes only, never personal data)."""
    events.record(
        kind,
        site_id=household.site_id,
        area_code=household.area_id,
        household_id=household.pk,
        subject=subject or ("household", household.pk),
        actor_role=actor.principal.role or "",
        data=data,
    )


# --- writing -----------------------------------------------------------------------------------------------


def _next_reference() -> str:
    last = Household.objects.order_by("-id").values_list("id", flat=True).first() or 0
    candidate = last + 1
    while Household.objects.filter(reference=f"H-{candidate:06d}").exists():
        candidate += 1
    return f"H-{candidate:06d}"


def _encrypt_person(person: Person, data: PersonInput) -> None:
    person.name_encrypted = fields.encrypt(data.name)
    person.name_index = fields.blind_index(fields.normalise_name(data.name))
    person.birth_year = data.birth_year
    person.sex = data.sex
    person.phone_encrypted = fields.encrypt(data.phone or "")
    person.phone_index = fields.blind_index(data.phone or "")
    person.conditions_encrypted = (
        fields.encrypt_json({"codes": data.conditions, "note": data.condition_note})
        if data.conditions or data.condition_note
        else ""
    )


def build_contact(household: Household, data: ContactInput, priority: int) -> EmergencyContact:
    """An unsaved emergency contact, encrypted and indexed as the registry stores it."""
    return EmergencyContact(
        household=household,
        name_encrypted=fields.encrypt(data.name),
        relation=data.relation,
        phone_encrypted=fields.encrypt(data.phone),
        phone_index=fields.blind_index(data.phone),
        priority=priority,
        receives_alerts=data.receives_alerts,
    )


def _snapshot(h: Household) -> dict[str, Any]:
    return {
        "area_code": h.area_id,
        "address": fields.decrypt(h.address_encrypted),
        "address_detail": fields.decrypt(h.address_detail_encrypted),
        "latitude": h.latitude,
        "longitude": h.longitude,
        "housing_type": h.housing_type,
        "care_level": int(h.care_level),
        **{f: getattr(h, f) for f in FLAG_FIELDS},
    }


def build_household(reference: str, site: Site, area: Area, data: HouseholdInput) -> tuple[Household, Person]:
    """An unsaved household and its main resident, encrypted and indexed exactly as the registry stores them.
    Registration saves them; the benchmark's bulk seeding uses the same rows."""
    household = Household(
        reference=reference,
        site=site,
        area=area,
        address_encrypted=fields.encrypt(data.address),
        address_index=fields.blind_index(fields.normalise_text(data.address)),
        address_detail_encrypted=fields.encrypt(data.address_detail),
        latitude=data.latitude,
        longitude=data.longitude,
        housing_type=data.housing_type,
        living_alone=data.living_alone,
        older_adult=data.older_adult,
        disability=data.disability,
        chronic_illness=data.chronic_illness,
        bedridden=data.bedridden,
        financial_crisis=data.financial_crisis,
        care_level=data.care_level,
        primary_birth_year=data.primary_person.birth_year,
    )
    person = Person(household=household, is_primary=True)
    _encrypt_person(person, data.primary_person)
    return household, person


def _create(actor: Actor, site: Site, area: Area, data: HouseholdInput) -> Household:
    household, person = build_household(_next_reference(), site, area, data)
    household.save()
    person.household = household  # re-assign so the saved primary key is taken
    person.save()
    EmergencyContact.objects.bulk_create([build_contact(household, c, i) for i, c in enumerate(data.contacts, 1)])
    user_id = actor.principal.user_id
    Consent.objects.bulk_create(
        [
            Consent(
                household=household,
                person=person,
                purpose=c.purpose,
                method=c.method,
                given_on=c.given_on,
                recorded_by_id=user_id,
            )
            for c in data.consents
        ]
    )
    HouseholdStatusChange.objects.create(household=household, to_status=HouseholdStatus.ACTIVE, by_id=user_id)
    _audit(
        actor,
        AuditAction.CREATE,
        household,
        object_id=household.pk,
        changes={k: [None, v] for k, v in _snapshot(household).items()},
    )
    _event(
        "household.registered",
        household,
        actor=actor,
        data={"care_level": int(household.care_level), "flags": _flags(household)},
    )
    return household


@transaction.atomic
def register_household(actor: Actor, data: HouseholdInput) -> HouseholdView:
    principal = actor.principal
    area = _area_in_scope(principal, data.area_code, Action.CREATE)
    site = Site.objects.get(pk=principal.site_pk)
    if not any(c.purpose == ConsentPurpose.CARE_REGISTRY for c in data.consents):
        raise RegistryError(
            "consents",
            "consent_required",
            "registration needs the resident's consent to the care registry (care_registry)",
        )
    household = _create(actor, site, area, data)
    return _view(household)


@transaction.atomic
def update_household(actor: Actor, household_id: int, change: HouseholdChange) -> HouseholdView:
    household = _get_scoped(actor.principal, household_id, Action.CHANGE)
    if household.processing_stopped:
        raise RegistryError("", "processing_stopped", "consent was withdrawn: this record may not be changed")
    before = _snapshot(household)
    given = change.model_dump(exclude_unset=True)
    if "area_code" in given and given["area_code"] is not None:
        household.area = _area_in_scope(actor.principal, given.pop("area_code"), Action.CHANGE)
    if "address" in given and given["address"] is not None:
        address = given.pop("address")
        household.address_encrypted = fields.encrypt(address)
        household.address_index = fields.blind_index(fields.normalise_text(address))
    if "address_detail" in given:
        household.address_detail_encrypted = fields.encrypt(given.pop("address_detail") or "")
    for name, value in given.items():
        if value is None and name not in ("latitude", "longitude"):
            continue
        setattr(household, name, value)
    household.save()
    after = _snapshot(household)
    changed = audit.diff(before, after)
    if changed:
        _audit(actor, AuditAction.CHANGE, household, resource=RESOURCE, object_id=household.pk, changes=changed)
        _event(
            "household.updated",
            household,
            subject=("household", household.pk),
            data={"fields": sorted(changed)},
            actor=actor,
        )
    return _view(household)


@transaction.atomic
def add_person(actor: Actor, household_id: int, data: PersonInput) -> PersonView:
    household = _get_scoped(actor.principal, household_id, Action.CHANGE)
    person = Person(household=household, is_primary=not household.persons.exists())
    _encrypt_person(person, data)
    person.save()
    if person.is_primary:
        household.primary_birth_year = data.birth_year
    _audit(
        actor,
        AuditAction.CREATE,
        household,
        resource="person",
        object_id=person.pk,
        changes={
            "name": [None, data.name],
            "birth_year": [None, data.birth_year],
            "phone": [None, data.phone],
            "conditions": [None, data.conditions],
        },
    )
    household.save(update_fields=["updated_at", "primary_birth_year"])
    return _person_view(person, with_conditions=True)


@transaction.atomic
def update_person(actor: Actor, household_id: int, person_id: int, data: PersonInput) -> PersonView:
    household = _get_scoped(actor.principal, household_id, Action.CHANGE)
    person = Person.objects.filter(pk=person_id, household=household).first()
    if person is None:
        raise NotFound("person", person_id)
    old = _person_view(person, with_conditions=True)
    _encrypt_person(person, data)
    person.save()
    new = _person_view(person, with_conditions=True)
    changed = audit.diff(
        {
            "name": old.name,
            "birth_year": old.birth_year,
            "sex": old.sex,
            "phone": old.phone,
            "conditions": old.conditions,
            "condition_note": old.condition_note,
        },
        {
            "name": new.name,
            "birth_year": new.birth_year,
            "sex": new.sex,
            "phone": new.phone,
            "conditions": new.conditions,
            "condition_note": new.condition_note,
        },
    )
    if changed:
        _audit(actor, AuditAction.CHANGE, household, resource="person", object_id=person.pk, changes=changed)
        if person.is_primary:
            household.primary_birth_year = data.birth_year
        household.save(update_fields=["updated_at", "primary_birth_year"])
    return new


@transaction.atomic
def add_contact(actor: Actor, household_id: int, data: ContactInput) -> ContactView:
    household = _get_scoped(actor.principal, household_id, Action.CHANGE)
    priority = household.contacts.count() + 1
    contact = build_contact(household, data, priority)
    contact.save()
    _audit(
        actor,
        AuditAction.CREATE,
        household,
        resource="contact",
        object_id=contact.pk,
        changes={"name": [None, data.name], "relation": [None, data.relation], "phone": [None, data.phone]},
    )
    return ContactView(
        id=contact.pk,
        name=data.name,
        relation=data.relation,
        phone=format_phone(data.phone),
        receives_alerts=data.receives_alerts,
        priority=priority,
    )


@transaction.atomic
def record_consent(actor: Actor, household_id: int, data: ConsentInput) -> Consent:
    household = _get_scoped(actor.principal, household_id, Action.CHANGE)
    consent = Consent.objects.create(
        household=household,
        purpose=data.purpose,
        method=data.method,
        given_on=data.given_on,
        recorded_by_id=actor.principal.user_id,
        person=household.persons.filter(is_primary=True).first(),
    )
    if data.purpose == ConsentPurpose.CARE_REGISTRY and household.processing_stopped:
        household.processing_stopped = False
        household.retain_until = None
        household.save(update_fields=["processing_stopped", "retain_until", "updated_at"])
    _audit(
        actor,
        AuditAction.CREATE,
        household,
        resource="consent",
        object_id=consent.pk,
        changes={"purpose": [None, data.purpose], "given_on": [None, data.given_on.isoformat()]},
    )
    _event("consent.given", household, subject=("consent", consent.pk), data={"purpose": data.purpose}, actor=actor)
    return consent


def retention_days(site: Site) -> int:
    from maeul.sites.services import settings_of

    return settings_of(site).personal_data_retention_days


@transaction.atomic
def withdraw_consent(actor: Actor, household_id: int, consent_id: int) -> Consent:
    """Withdrawal stops processing for that purpose; withdrawing the care-registry consent stops all
    processing of the household: it leaves lists and is kept only until its retention date, then destroyed."""
    household = _get_scoped(actor.principal, household_id, Action.CHANGE)
    consent = Consent.objects.filter(pk=consent_id, household=household, withdrawn_at=None).first()
    if consent is None:
        raise NotFound("consent", consent_id)
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by_id = actor.principal.user_id
    consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
    if consent.purpose == ConsentPurpose.CARE_REGISTRY:
        household.processing_stopped = True
        household.retain_until = timezone.localdate() + timedelta(days=retention_days(household.site))
        household.save(update_fields=["processing_stopped", "retain_until", "updated_at"])
        HouseholdGrant.objects.filter(household=household, revoked_at=None).update(revoked_at=timezone.now())
    _audit(
        actor,
        AuditAction.CHANGE,
        household,
        resource="consent",
        object_id=consent.pk,
        changes={"withdrawn": [False, True]},
    )
    _event(
        "consent.withdrawn", household, subject=("consent", consent.pk), data={"purpose": consent.purpose}, actor=actor
    )
    return consent


def processing_allowed(household_id: int, purpose: ConsentPurpose) -> bool:
    """What other modules ask before processing a household's data for a purpose."""
    household = Household.objects.filter(pk=household_id, destroyed_at=None).first()
    if household is None or household.processing_stopped or household.status == HouseholdStatus.DECEASED:
        return False
    return Consent.objects.filter(household=household, purpose=purpose, withdrawn_at=None).exists()


@transaction.atomic
def change_status(actor: Actor, household_id: int, data: StatusInput) -> HouseholdView:
    household = _get_scoped(actor.principal, household_id, Action.CHANGE)
    if household.status == data.status:
        raise RegistryError("status", "unchanged", "the household already has this status")
    previous = household.status
    household.status = data.status
    if data.status in (HouseholdStatus.MOVED, HouseholdStatus.DECEASED):
        household.retain_until = timezone.localdate() + timedelta(days=retention_days(household.site))
    elif not household.processing_stopped:
        household.retain_until = None
    household.save(update_fields=["status", "retain_until", "updated_at"])
    HouseholdStatusChange.objects.create(
        household=household,
        from_status=previous,
        to_status=data.status,
        by_id=actor.principal.user_id,
        reason=data.reason,
    )
    _audit(
        actor,
        AuditAction.CHANGE,
        household,
        resource=RESOURCE,
        object_id=household.pk,
        changes={"status": [previous, data.status]},
    )
    _event(
        "household.status_changed",
        household,
        subject=("household", household.pk),
        data={"from": previous, "to": data.status},
        actor=actor,
    )
    return _view(household)


@transaction.atomic
def grant_access(actor: Actor, household_id: int, user_id: int, kind: GrantKind) -> HouseholdGrant:
    """Give a helper, partner staff member or guardian account access to one household."""
    from maeul.accounts.models import Membership
    from maeul.accounts.roles import Role

    household = _get_scoped(actor.principal, household_id, Action.CHANGE)
    expected = {GrantKind.HELPER: Role.HELPER, GrantKind.PARTNER: Role.PARTNER_STAFF, GrantKind.GUARDIAN: Role.GUARDIAN}
    membership = Membership.objects.filter(user_id=user_id, role=expected[kind], site_id=household.site_id).first()
    if membership is None:
        raise RegistryError("user_id", "wrong_role", f"user {user_id} is not a {expected[kind]} of this site")
    grant, _ = HouseholdGrant.objects.get_or_create(
        household=household,
        user_id=user_id,
        kind=kind,
        revoked_at=None,
        defaults={"granted_by_id": actor.principal.user_id},
    )
    _audit(
        actor,
        AuditAction.CHANGE,
        household,
        resource="household_grant",
        object_id=grant.pk,
        changes={"grant": [None, f"{kind}:{user_id}"]},
    )
    return grant


@transaction.atomic
def revoke_access(actor: Actor, household_id: int, user_id: int, kind: GrantKind) -> int:
    """End a grant made with ``grant_access`` (the grant row stays, with its revocation time). Returns how many
    were revoked (0 when there was none)."""
    household = _get_scoped(actor.principal, household_id, Action.CHANGE)
    grants = list(HouseholdGrant.objects.filter(household=household, user_id=user_id, kind=kind, revoked_at=None))
    if not grants:
        return 0
    HouseholdGrant.objects.filter(pk__in=[g.pk for g in grants]).update(revoked_at=timezone.now())
    for grant in grants:
        _audit(
            actor,
            AuditAction.CHANGE,
            household,
            resource="household_grant",
            object_id=grant.pk,
            changes={"grant": [f"{kind}:{user_id}", None]},
        )
    return len(grants)


# --- bulk --------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "area_code",
    "address",
    "address_detail",
    "latitude",
    "longitude",
    "housing_type",
    *VULNERABILITY_FLAGS,
    "care_level",
    "name",
    "birth_year",
    "sex",
    "phone",
    "conditions",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
    "consent_given_on",
)
_TRUE = {"1", "true", "yes", "y", "예", "o", "x"}  # 'x'/'o' as ticked boxes in Korean spreadsheets


def _row_to_input(row: dict[str, str]) -> HouseholdInput:
    def text(name: str) -> str:
        return (row.get(name) or "").strip()

    def number(name: str) -> float | None:
        return float(text(name)) if text(name) else None

    person: dict[str, Any] = {
        "name": text("name"),
        "phone": text("phone") or None,
        "conditions": [c for c in text("conditions").replace(",", ";").split(";") if c.strip()],
    }
    if text("birth_year"):
        person["birth_year"] = int(text("birth_year"))
    if text("sex"):
        person["sex"] = text("sex").upper()
    contacts = []
    if text("guardian_name") or text("guardian_phone"):
        contacts.append(
            {
                "name": text("guardian_name"),
                "relation": text("guardian_relation") or "가족",
                "phone": text("guardian_phone"),
                "receives_alerts": False,
            }
        )
    consents = []
    if text("consent_given_on"):
        consents.append(
            {
                "purpose": ConsentPurpose.CARE_REGISTRY,
                "method": "written",
                "given_on": date.fromisoformat(text("consent_given_on")),
            }
        )
    data: dict[str, Any] = {
        "area_code": text("area_code"),
        "address": text("address"),
        "address_detail": text("address_detail"),
        "latitude": number("latitude"),
        "longitude": number("longitude"),
        "housing_type": text("housing_type") or "other",
        **{f: text(f).lower() in _TRUE for f in VULNERABILITY_FLAGS},
        "care_level": int(text("care_level") or 1),
        "primary_person": person,
        "contacts": contacts,
        "consents": consents,
    }
    return HouseholdInput.model_validate(data)


def read_csv_text(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRejected([RowError(0, "", "the file is neither UTF-8 nor CP949 text")])


def import_households_csv(actor: Actor, content: bytes, max_rows: int = 20000) -> list[Household]:
    """All rows or none: every row is checked first and the report lists each problem by row and column."""
    reader = csv.DictReader(io.StringIO(read_csv_text(content), newline=""))
    try:
        header = list(reader.fieldnames or [])
        records = list(reader)
    except csv.Error as exc:
        raise ImportRejected([RowError(reader.line_num, "", f"not a readable CSV file: {exc}")]) from exc
    missing = [c for c in ("area_code", "address", "name", "consent_given_on") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        header_errors = [RowError(1, c, "required column is missing") for c in missing]
        header_errors += [RowError(1, c, "unknown column") for c in unknown]
        raise ImportRejected(header_errors)
    allowed = {a.code for a in assignable_areas(actor.principal, Action.IMPORT)}
    parsed: list[HouseholdInput] = []
    errors: list[RowError] = []
    for row_no, row in enumerate(records, start=2):
        if row_no - 1 > max_rows:
            errors.append(RowError(row_no, "", f"more than {max_rows} rows; split the file"))
            break
        try:
            item = _row_to_input(row)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [str(x) for x in err["loc"]]
                column = {
                    "primary_person": loc[-1],
                    "contacts": "guardian_" + loc[-1],
                    "consents": "consent_given_on",
                }.get(loc[0], loc[0])
                errors.append(RowError(row_no, column, err["msg"]))
            continue
        except ValueError as exc:
            errors.append(RowError(row_no, "", f"value cannot be read: {exc}"))
            continue
        if item.area_code not in allowed:
            errors.append(RowError(row_no, "area_code", f"{item.area_code} is not an area you may register in"))
            continue
        if not item.consents:
            errors.append(RowError(row_no, "consent_given_on", "consent date is required"))
            continue
        parsed.append(item)
    if errors:
        raise ImportRejected(errors)
    if not parsed:
        raise ImportRejected([RowError(0, "", "the file holds no rows")])
    site = Site.objects.get(pk=actor.principal.site_pk)
    areas = {a.code: a for a in Area.objects.filter(code__in={p.area_code for p in parsed})}
    with transaction.atomic():
        created = [_create(actor, site, areas[item.area_code], item) for item in parsed]
        audit.log(actor, AuditAction.IMPORT, RESOURCE, record_count=len(created), site_id=site.pk)
    return created


def export_households_csv(actor: Actor, filters: HouseholdFilters, reason: str) -> tuple[str, int]:
    """A bulk download: needs a stated reason, logged with the number of records and each household."""
    if len(reason.strip()) < 5:
        raise RegistryError("reason", "reason_required", "state why you need this download (at least 5 characters)")
    qs = filtered_households(actor.principal, filters, Action.EXPORT).select_related("area").prefetch_related("persons")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "reference",
            "area_code",
            "area_name",
            "address",
            "address_detail",
            "housing_type",
            "status",
            "care_level",
            *FLAG_FIELDS,
            "name",
            "birth_year",
            "phone",
        ]
    )
    ids: list[int] = []
    for h in qs.order_by("reference").iterator(chunk_size=500):
        primary = next(iter(h.persons.all()), None)
        writer.writerow(
            [
                h.reference,
                h.area_id,
                h.area.full_name,
                fields.decrypt(h.address_encrypted),
                fields.decrypt(h.address_detail_encrypted),
                h.housing_type,
                h.status,
                h.care_level,
                *[int(getattr(h, f)) for f in FLAG_FIELDS],
                fields.decrypt(primary.name_encrypted) if primary else "",
                primary.birth_year if primary else "",
                format_phone(fields.decrypt(primary.phone_encrypted)) if primary else "",
            ]
        )
        ids.append(h.pk)
    audit.log(
        actor,
        AuditAction.EXPORT,
        RESOURCE,
        record_count=len(ids),
        reason=reason.strip(),
        site_id=actor.principal.site_id,
    )
    audit.log_many(actor, AuditAction.EXPORT, RESOURCE, ids, reason=reason.strip())
    return out.getvalue(), len(ids)


# --- retention and keys ------------------------------------------------------------------------------------


@transaction.atomic
def destroy_expired(actor: Actor, today: date | None = None) -> int:
    """Destroy the personal data of households past their retention date: persons, contacts and
    consents are deleted, the encrypted address is wiped; the coded row and its events stay for statistics."""
    today = today or timezone.localdate()
    expired = list(Household.objects.filter(retain_until__lt=today, destroyed_at=None))
    for household in expired:
        household.persons.all().delete()
        household.contacts.all().delete()
        household.consents.all().delete()
        household.grants.all().delete()
        household.address_encrypted = ""
        household.address_index = ""
        household.address_detail_encrypted = ""
        household.latitude = household.longitude = household.primary_birth_year = None
        household.destroyed_at = timezone.now()
        household.save()
        _audit(
            actor,
            AuditAction.DESTROY,
            household,
            resource=RESOURCE,
            object_id=household.pk,
            reason="retention period ended",
        )
        _event("household.data_destroyed", household, subject=("household", household.pk), actor=actor)
    return len(expired)


def _rotate_rows(model: Any, encrypted: Iterable[str], indexes: dict[str, tuple[str, Any]]) -> int:
    count = 0
    for obj in model.objects.all().iterator(chunk_size=500):
        for name in encrypted:
            setattr(obj, name, fields.rotate(getattr(obj, name)))
        for index_name, (source, normalise) in indexes.items():
            value = fields.decrypt(getattr(obj, source))
            setattr(obj, index_name, fields.blind_index(normalise(value)) if value else "")
        obj.save(update_fields=[*encrypted, *indexes])
        count += 1
    return count


@transaction.atomic
def rotate_field_key() -> dict[str, int]:
    """Re-encrypt every protected value under the first key of MAEUL_FIELD_KEY and rebuild blind indexes.
    Run after putting the new key first; remove the old key once this has finished."""
    from maeul.accounts.models import SecondFactor
    from maeul.audit.models import AuditEntry

    def same(v: str) -> str:
        return v

    counts = {
        "households": _rotate_rows(
            Household,
            ["address_encrypted", "address_detail_encrypted"],
            {"address_index": ("address_encrypted", fields.normalise_text)},
        ),
        "persons": _rotate_rows(
            Person,
            ["name_encrypted", "phone_encrypted", "conditions_encrypted"],
            {"name_index": ("name_encrypted", fields.normalise_name), "phone_index": ("phone_encrypted", same)},
        ),
        "contacts": _rotate_rows(
            EmergencyContact, ["name_encrypted", "phone_encrypted"], {"phone_index": ("phone_encrypted", same)}
        ),
        "second_factors": _rotate_rows(SecondFactor, ["secret_encrypted"], {}),
    }
    # Every other app's protected columns, by convention: ``<x>_encrypted`` holds a token and ``<x>_index`` (name,
    # phone or address) its blind index — so a new app's data is rotated without being listed here.
    normalisers = {"name": fields.normalise_name, "phone": same, "address": fields.normalise_text}
    handled = {Household, Person, EmergencyContact, SecondFactor, AuditEntry}
    for model in apps.get_models():
        if model in handled:
            continue
        names = {f.name for f in model._meta.concrete_fields}
        encrypted = sorted(n for n in names if n.endswith("_encrypted"))
        if not encrypted:
            continue
        indexes = {
            f"{base}_index": (f"{base}_encrypted", normalise)
            for base, normalise in normalisers.items()
            if f"{base}_index" in names and f"{base}_encrypted" in names
        }
        counts[model._meta.label_lower] = _rotate_rows(model, encrypted, indexes)
    rotated = 0
    for entry in AuditEntry.objects.exclude(changes_encrypted="").iterator(chunk_size=1000):
        AuditEntry.objects.filter(pk=entry.pk).update(changes_encrypted=fields.rotate(entry.changes_encrypted))
        rotated += 1
    counts["audit_entries"] = rotated
    return counts

"""Safety-net actions: the only code that writes helpers, assignments, check-in schedules and check-ins.

Each function takes an ``Actor`` and checks scope (``Resource.HELPER`` for the registry, ``Resource.CHECK_IN`` for
assignments, schedules and check-ins); reads of contact data and every change are written to the audit log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from maeul.accounts.models import Membership
from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.accounts.roles import Role
from maeul.areas.models import Area
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.directory.models import NeedDomain
from maeul.events import services as events
from maeul.people import services as people
from maeul.people.errors import NotFound, RegistryError
from maeul.people.models import GrantKind, Household, HouseholdGrant, HouseholdStatus, Person
from maeul.protection import fields
from maeul.protection.phone import format_phone
from maeul.safetynet.models import (
    Assignment,
    AssignmentRole,
    CheckIn,
    CheckInResult,
    CheckInSchedule,
    CrisisSign,
    Handover,
    Helper,
    HelperKind,
    HelperRecord,
    Skill,
)
from maeul.safetynet.schemas import (
    AssignmentInput,
    CheckInInput,
    HelperInput,
    HelperRecordInput,
    ScheduleInput,
)
from maeul.watch import services as watch
from maeul.watch.detectors import Alert as Detected
from maeul.watch.models import AlertKind, AlertStatus, Severity
from maeul.welfare import services as welfare
from maeul.welfare.models import CaseSource, VerificationKind

HELPER_RESOURCE = "helper"
CHECK_IN_RESOURCE = "check_in"
# A check-in this many days past its due date is missed: an alert is raised and walks the escalation chain.
MISSED_GRACE_DAYS = 2
# A single "no answer" is common (the person was out): the call is tried again the next day. The second
# consecutive "no answer" at a household raises an alert at once.
NO_ANSWER_ALERT_AFTER = 2
# Welfare need domains a crisis sign points to, for the case a check-in opens.
SIGN_NEEDS: dict[str, tuple[str, ...]] = {
    CrisisSign.UNPAID_BILLS: (NeedDomain.INCOME,),
    CrisisSign.UTILITIES_CUT: (NeedDomain.INCOME, NeedDomain.HOUSING),
    CrisisSign.NO_FOOD: (NeedDomain.FOOD,),
    CrisisSign.POOR_HYGIENE: (NeedDomain.CARE,),
    CrisisSign.ILLNESS: (NeedDomain.HEALTH,),
    CrisisSign.ISOLATION: (NeedDomain.ISOLATION,),
    CrisisSign.SOMEONE_ELSE_LIVING: (NeedDomain.HOUSING,),
}
# Skills a household's recorded flags and conditions call for, used to rank suggested helpers.
FLAG_SKILLS = {"bedridden": Skill.CARE, "disability": Skill.DISABILITY}
CONDITION_SKILLS = {
    "dementia": Skill.DEMENTIA,
    "mental_health": Skill.MENTAL_HEALTH,
    "mobility": Skill.CARE,
    "stroke": Skill.CARE,
    "disability_physical": Skill.DISABILITY,
    "disability_intellectual": Skill.DISABILITY,
}


# --- scope -------------------------------------------------------------------------------------------------


def visible_helpers(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Helper]:
    """Helpers this principal may act on: officials those covering their areas, the site admin the site's,
    a helper their own profile."""
    scope = principal.scope(Resource.HELPER, action)
    qs = Helper.objects.all()
    if scope == Scope.SITE and principal.site_id is not None:
        return qs.filter(site_id=principal.site_id)
    if scope == Scope.AREA and principal.site_id is not None:
        covering = Helper.areas.through.objects.filter(helper_id=OuterRef("pk"), area_id__in=principal.area_codes)
        return qs.filter(Exists(covering), site_id=principal.site_id)
    if scope == Scope.OWN and principal.user_id is not None:
        return qs.filter(account_id=principal.user_id)
    return qs.none()


def check_in_households(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Household]:
    """Households whose assignments, schedules and check-ins this principal may act on."""
    scope = principal.scope(Resource.CHECK_IN, action)
    qs = Household.objects.filter(destroyed_at=None)
    if scope == Scope.SITE and principal.site_id is not None:
        return qs.filter(site_id=principal.site_id)
    if scope == Scope.AREA and principal.site_id is not None:
        return qs.filter(site_id=principal.site_id, area_id__in=principal.area_codes)
    if scope == Scope.GRANTED and principal.user_id is not None:
        held = HouseholdGrant.objects.filter(household_id=OuterRef("pk"), user_id=principal.user_id, revoked_at=None)
        return qs.filter(Exists(held))
    return qs.none()


def _household(principal: Principal, household_id: int, action: Action) -> Household:
    household = check_in_households(principal, action).filter(pk=household_id).first()
    if household is None:
        raise NotFound("household", household_id)
    return household


def _helper(principal: Principal, helper_id: int, action: Action) -> Helper:
    helper = visible_helpers(principal, action).filter(pk=helper_id).first()
    if helper is None:
        raise NotFound("helper", helper_id)
    return helper


def helper_of(principal: Principal) -> Helper | None:
    """The helper profile of a signed-in helper, if the account has one."""
    if principal.user_id is None or principal.role != Role.HELPER:
        return None
    return Helper.objects.filter(account_id=principal.user_id, active=True).first()


def _areas_allowed(principal: Principal, action: Action) -> QuerySet[Area]:
    scope = principal.scope(Resource.HELPER, action)
    if principal.site_id is None or scope not in (Scope.SITE, Scope.AREA):
        return Area.objects.none()
    qs = Area.objects.filter(member_of_sites__id=principal.site_id, abolished=False)
    if scope == Scope.AREA:
        qs = qs.filter(code__in=principal.area_codes)
    return qs


def _audit_household(
    actor: Actor, action: AuditAction, household: Household, resource: str, object_id: int | str, **details: Any
) -> None:
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


def _event(kind: str, actor: Actor, site_id: int, **values: Any) -> None:
    events.record(kind, site_id=site_id, actor_role=actor.principal.role or "", **values)


# --- the registry of helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HelperRecordView:
    id: int
    kind: str
    title: str
    completed_on: date
    expires_on: date | None

    @property
    def expired(self) -> bool:
        return self.expires_on is not None and self.expires_on < timezone.localdate()


@dataclass(frozen=True)
class HelperView:
    id: int
    site_id: int
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
    account_username: str
    coordinator_id: int | None
    coordinator_username: str
    records: list[HelperRecordView] = field(default_factory=list)

    @property
    def overloaded(self) -> bool:
        return self.load > self.max_households

    @property
    def background_check_valid(self) -> bool:
        return any(r.kind == "background_check" and not r.expired for r in self.records)


def _loads(helper_ids: list[int]) -> dict[int, int]:
    rows = (
        Assignment.objects.filter(helper_id__in=helper_ids, ended_at=None)
        .values("helper_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {r["helper_id"]: r["n"] for r in rows}


def _helper_view(helper: Helper, load: int, *, with_records: bool = False) -> HelperView:
    return HelperView(
        id=helper.pk,
        site_id=helper.site_id,
        kind=helper.kind,
        name=fields.decrypt(helper.name_encrypted),
        phone=format_phone(fields.decrypt(helper.phone_encrypted)),
        area_codes=sorted(a.code for a in helper.areas.all()),
        skills=list(helper.skills),
        languages=list(helper.languages),
        availability=list(helper.availability),
        max_households=helper.max_households,
        load=load,
        latitude=helper.latitude,
        longitude=helper.longitude,
        active=helper.active,
        consent_given_on=helper.consent_given_on,
        consent_withdrawn_on=helper.consent_withdrawn_on,
        account_id=helper.account_id,
        account_username=helper.account.get_username() if helper.account else "",
        coordinator_id=helper.coordinator_id,
        coordinator_username=helper.coordinator.get_username() if helper.coordinator else "",
        records=[HelperRecordView(r.pk, r.kind, r.title, r.completed_on, r.expires_on) for r in helper.records.all()]
        if with_records
        else [],
    )


def _snapshot(helper: Helper) -> dict[str, Any]:
    return {
        "kind": helper.kind,
        "name": fields.decrypt(helper.name_encrypted),
        "phone": fields.decrypt(helper.phone_encrypted),
        "areas": sorted(a.code for a in helper.areas.all()),
        "skills": list(helper.skills),
        "languages": list(helper.languages),
        "availability": list(helper.availability),
        "max_households": helper.max_households,
        "location": [helper.latitude, helper.longitude],
        "active": helper.active,
        "consent_given_on": helper.consent_given_on.isoformat() if helper.consent_given_on else None,
        "account": helper.account_id,
        "coordinator": helper.coordinator_id,
    }


def _apply(helper: Helper, data: HelperInput, principal: Principal, action: Action) -> list[Area]:
    areas = list(_areas_allowed(principal, action).filter(code__in=data.area_codes))
    missing = sorted(set(data.area_codes) - {a.code for a in areas})
    if missing:
        raise RegistryError(
            "area_codes",
            "area_not_allowed",
            _("Not eup/myeon/dong you manage: %(codes)s") % {"codes": ", ".join(missing)},
        )
    site_id = principal.site_pk
    if data.account_id is not None and data.account_id != helper.account_id:
        if not Membership.objects.filter(user_id=data.account_id, site_id=site_id, role=Role.HELPER).exists():
            raise RegistryError("account_id", "wrong_role", _("That account is not a helper account of this site."))
        if Helper.objects.filter(account_id=data.account_id).exclude(pk=helper.pk).exists():
            raise RegistryError("account_id", "taken", _("That account already belongs to another helper."))
    if (
        data.coordinator_id is not None
        and not Membership.objects.filter(
            user_id=data.coordinator_id, site_id=site_id, role__in=(Role.WELFARE_OFFICIAL, Role.SAFETY_OFFICIAL)
        ).exists()
    ):
        raise RegistryError("coordinator_id", "wrong_role", _("The coordinator must be an official of this site."))
    helper.site_id = site_id
    helper.kind = data.kind
    helper.name_encrypted = fields.encrypt(data.name)
    helper.name_index = fields.blind_index(fields.normalise_name(data.name))
    helper.phone_encrypted = fields.encrypt(data.phone or "")
    helper.phone_index = fields.blind_index(data.phone or "")
    helper.skills = [str(s) for s in data.skills]
    helper.languages = data.languages
    helper.availability = data.availability
    helper.max_households = data.max_households
    helper.latitude = data.latitude
    helper.longitude = data.longitude
    helper.consent_given_on = data.consent_given_on
    helper.account_id = data.account_id
    helper.coordinator_id = data.coordinator_id
    return areas


@transaction.atomic
def register_helper(actor: Actor, data: HelperInput) -> HelperView:
    helper = Helper()
    areas = _apply(helper, data, actor.principal, Action.CREATE)
    if helper.coordinator_id is None and actor.principal.role in (Role.WELFARE_OFFICIAL, Role.SAFETY_OFFICIAL):
        helper.coordinator_id = actor.principal.user_id
    helper.save()
    helper.areas.set(areas)
    audit.log(actor, AuditAction.CREATE, HELPER_RESOURCE, object_id=helper.pk, changes=_snapshot(helper))
    _event("helper.registered", actor, helper.site_id, subject=("helper", helper.pk), data={"kind": helper.kind})
    return _helper_view(helper, 0)


@transaction.atomic
def update_helper(actor: Actor, helper_id: int, data: HelperInput) -> HelperView:
    helper = _helper(actor.principal, helper_id, Action.CHANGE)
    before = _snapshot(helper)
    areas = _apply(helper, data, actor.principal, Action.CHANGE)
    helper.save()
    helper.areas.set(areas)
    after = _snapshot(helper)
    audit.log(actor, AuditAction.CHANGE, HELPER_RESOURCE, object_id=helper.pk, changes=audit.diff(before, after))
    return _helper_view(helper, _loads([helper.pk]).get(helper.pk, 0))


@transaction.atomic
def deactivate_helper(actor: Actor, helper_id: int, reason: str = "", *, consent_withdrawn: bool = False) -> list[int]:
    """Take a helper out of the net: their assignments end (the households show as uncovered until someone else
    is assigned) and their schedules wait for a new helper. Returns the households left without that helper."""
    helper = _helper(actor.principal, helper_id, Action.CHANGE)
    if not helper.active:
        return []
    ended: list[int] = []
    for assignment in Assignment.objects.filter(helper=helper, ended_at=None).select_related("household"):
        _end(actor, assignment, reason or "helper deactivated")
        ended.append(assignment.household_id)
    helper.active = False
    update = ["active", "updated_at"]
    if consent_withdrawn:
        helper.consent_withdrawn_on = timezone.localdate()
        update.append("consent_withdrawn_on")
    helper.save(update_fields=update)
    audit.log(
        actor,
        AuditAction.CHANGE,
        HELPER_RESOURCE,
        object_id=helper.pk,
        reason=reason,
        changes={"active": [True, False], "consent_withdrawn": [None, consent_withdrawn]},
    )
    _event("helper.deactivated", actor, helper.site_id, subject=("helper", helper.pk), data={"households": len(ended)})
    return ended


@transaction.atomic
def reactivate_helper(actor: Actor, helper_id: int) -> HelperView:
    helper = _helper(actor.principal, helper_id, Action.CHANGE)
    helper.active = True
    helper.consent_withdrawn_on = None
    helper.save(update_fields=["active", "consent_withdrawn_on", "updated_at"])
    audit.log(actor, AuditAction.CHANGE, HELPER_RESOURCE, object_id=helper.pk, changes={"active": [False, True]})
    return _helper_view(helper, 0)


@transaction.atomic
def add_record(actor: Actor, helper_id: int, data: HelperRecordInput) -> HelperRecord:
    helper = _helper(actor.principal, helper_id, Action.CHANGE)
    record = HelperRecord.objects.create(
        helper=helper,
        kind=data.kind,
        title=data.title,
        completed_on=data.completed_on,
        expires_on=data.expires_on,
        recorded_by_id=actor.principal.user_id,
    )
    audit.log(
        actor,
        AuditAction.CREATE,
        "helper_record",
        object_id=record.pk,
        changes={"helper": helper.pk, "kind": data.kind, "completed_on": data.completed_on.isoformat()},
    )
    return record


@dataclass(frozen=True)
class HelperFilters:
    area_code: str = ""
    kind: str = ""
    active: bool | None = True
    q: str = ""


def list_helpers(actor: Actor, filters: HelperFilters | None = None, limit: int = 500) -> list[HelperView]:
    """Helpers in scope with their current load. Names and phones are shown, so each helper listed is logged."""
    filters = filters or HelperFilters()
    qs = visible_helpers(actor.principal).select_related("account", "coordinator").prefetch_related("areas")
    if filters.area_code:
        qs = qs.filter(areas__code=filters.area_code)
    if filters.kind in HelperKind.values:
        qs = qs.filter(kind=filters.kind)
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    if filters.q:
        query = filters.q.strip()
        qs = qs.filter(
            Q(name_index=fields.blind_index(fields.normalise_name(query)))
            | Q(phone_index=fields.blind_index("".join(c for c in query if c.isdigit())))
        )
    helpers = list(qs.distinct().order_by("id")[:limit])
    loads = _loads([h.pk for h in helpers])
    if helpers:
        action = AuditAction.SEARCH if filters.q else AuditAction.LIST
        audit.log_each(actor, action, HELPER_RESOURCE, [h.pk for h in helpers], site_id=actor.principal.site_id)
    return [_helper_view(h, loads.get(h.pk, 0)) for h in helpers]


@dataclass(frozen=True)
class AssignmentView:
    id: int
    household_id: int
    household_reference: str
    helper_id: int
    helper_name: str
    role: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str


def _assignment_view(a: Assignment) -> AssignmentView:
    return AssignmentView(
        id=a.pk,
        household_id=a.household_id,
        household_reference=a.household.reference,
        helper_id=a.helper_id,
        helper_name=fields.decrypt(a.helper.name_encrypted),
        role=a.role,
        started_at=a.started_at,
        ended_at=a.ended_at,
        end_reason=a.end_reason,
    )


@dataclass(frozen=True)
class HelperDetail:
    helper: HelperView
    assignments: list[AssignmentView]
    recent_check_ins: int


def read_helper(actor: Actor, helper_id: int) -> HelperDetail:
    helper = _helper(actor.principal, helper_id, Action.VIEW)
    assignments = list(
        Assignment.objects.filter(helper=helper)
        .select_related("household", "helper")
        .order_by("ended_at", "-started_at")[:200]
    )
    load = sum(1 for a in assignments if a.ended_at is None)
    audit.log(actor, AuditAction.VIEW, HELPER_RESOURCE, object_id=helper.pk)
    since = timezone.now() - timedelta(days=30)
    return HelperDetail(
        helper=_helper_view(helper, load, with_records=True),
        assignments=[_assignment_view(a) for a in assignments],
        recent_check_ins=CheckIn.objects.filter(helper=helper, occurred_at__gte=since).count(),
    )


# --- assignments -------------------------------------------------------------------------------------------


def _follow_primary(household_id: int, helper_id: int | None) -> None:
    CheckInSchedule.objects.filter(household_id=household_id, follows_primary=True).update(helper_id=helper_id)


def _end(actor: Actor, assignment: Assignment, reason: str) -> None:
    assignment.ended_at = timezone.now()
    assignment.ended_by_id = actor.principal.user_id
    assignment.end_reason = reason[:120]
    assignment.save(update_fields=["ended_at", "ended_by", "end_reason"])
    helper = assignment.helper
    if helper.account_id is not None:
        people.revoke_access(actor, assignment.household_id, helper.account_id, GrantKind.HELPER)
    if assignment.role == AssignmentRole.PRIMARY:
        _follow_primary(assignment.household_id, None)
    CheckInSchedule.objects.filter(household_id=assignment.household_id, follows_primary=False, helper=helper).update(
        helper_id=None, follows_primary=True
    )
    _audit_household(
        actor,
        AuditAction.CHANGE,
        assignment.household,
        "assignment",
        assignment.pk,
        reason=reason,
        changes={"ended": [None, f"{assignment.role}:{helper.pk}"]},
    )
    _event(
        "helper.unassigned",
        actor,
        assignment.household.site_id,
        area_code=assignment.household.area_id,
        household_id=assignment.household_id,
        subject=("assignment", assignment.pk),
        data={"role": assignment.role},
    )


@transaction.atomic
def assign_helper(actor: Actor, household_id: int, data: AssignmentInput) -> AssignmentView:
    """Make a helper the household's primary or backup (replacing whoever held that role) and give the helper's
    account access to the household, so alerts reach them."""
    household = _household(actor.principal, household_id, Action.CHANGE)
    helper = (
        Helper.objects.filter(pk=data.helper_id, site_id=household.site_id, active=True)
        .select_related("account")
        .first()
    )
    if helper is None:
        raise RegistryError("helper_id", "no_helper", _("No active helper with that number in this site."))
    if helper.consent_withdrawn_on is not None:
        raise RegistryError("helper_id", "consent_withdrawn", _("This helper has withdrawn their consent."))
    if not helper.areas.filter(code=household.area_id).exists():
        raise RegistryError("helper_id", "area_not_covered", _("This helper does not cover the household's area."))
    active = Assignment.objects.filter(household=household, ended_at=None).select_related("helper", "household")
    for current in active:
        if current.helper_id == helper.pk and current.role == data.role:
            return _assignment_view(current)
        if current.role == data.role or current.helper_id == helper.pk:
            _end(actor, current, "replaced")
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                household=household,
                helper=helper,
                role=data.role,
                started_at=timezone.now(),
                started_by_id=actor.principal.user_id,
            )
    except IntegrityError as exc:
        raise RegistryError("role", "taken", _("Someone else changed this household's helpers; try again.")) from exc
    if helper.account_id is not None:
        people.grant_access(actor, household.pk, helper.account_id, GrantKind.HELPER)
    if data.role == AssignmentRole.PRIMARY:
        _follow_primary(household.pk, helper.pk)
    _audit_household(
        actor,
        AuditAction.CREATE,
        household,
        "assignment",
        assignment.pk,
        changes={"assigned": [None, f"{data.role}:{helper.pk}"]},
    )
    _event(
        "helper.assigned",
        actor,
        household.site_id,
        area_code=household.area_id,
        household_id=household.pk,
        subject=("assignment", assignment.pk),
        data={"role": str(data.role), "helper_kind": helper.kind},
    )
    return _assignment_view(assignment)


@transaction.atomic
def end_assignment(actor: Actor, assignment_id: int, reason: str = "") -> int:
    """End an assignment; returns its household."""
    assignment = (
        Assignment.objects.filter(pk=assignment_id, ended_at=None).select_related("helper", "household").first()
    )
    if assignment is None:
        raise NotFound("assignment", assignment_id)
    _household(actor.principal, assignment.household_id, Action.CHANGE)
    _end(actor, assignment, reason or "ended")
    return assignment.household_id


# --- suggestions ---------------------------------------------------------------------------------------------


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Suggestion:
    helper_id: int
    name: str
    kind: str
    score: float
    distance_km: float | None
    load: int
    max_households: int
    reasons: list[str]


def _needed_skills(household: Household) -> set[str]:
    needed = {str(skill) for flag, skill in FLAG_SKILLS.items() if getattr(household, flag)}
    for encrypted in Person.objects.filter(household=household).values_list("conditions_encrypted", flat=True):
        codes = fields.decrypt_json(encrypted, default={}).get("codes", []) if encrypted else []
        needed |= {str(CONDITION_SKILLS[c]) for c in codes if c in CONDITION_SKILLS}
    return needed


def suggest_helpers(actor: Actor, household_id: int, *, language: str = "", limit: int = 10) -> list[Suggestion]:
    """Active, consenting helpers covering the household's area who have room, best first. The score adds up
    closeness (40 at the door, nothing from 5 km), spare capacity (30 when free), skills the household's
    conditions call for (15 each) and the asked-for language (20); every part is given as a reason."""
    household = _household(actor.principal, household_id, Action.CHANGE)
    needed = _needed_skills(household)
    taken = Assignment.objects.filter(household=household, ended_at=None).values("helper_id")
    candidates = list(
        Helper.objects.filter(
            site_id=household.site_id, active=True, consent_withdrawn_on=None, areas__code=household.area_id
        )
        .exclude(pk__in=taken)
        .distinct()
    )
    loads = _loads([h.pk for h in candidates])
    suggestions: list[Suggestion] = []
    for helper in candidates:
        load = loads.get(helper.pk, 0)
        if load >= helper.max_households:
            continue
        reasons: list[str] = []
        score = 0.0
        distance: float | None = None
        if None not in (helper.latitude, helper.longitude, household.latitude, household.longitude):
            distance = haversine_km(
                float(helper.latitude or 0),
                float(helper.longitude or 0),
                float(household.latitude or 0),
                float(household.longitude or 0),
            )
            score += max(0.0, 40.0 - 8.0 * distance)
            reasons.append(_("%(km).1f km away") % {"km": distance})
        else:
            score += 10.0
            reasons.append(_("distance unknown"))
        score += 30.0 * (1 - load / helper.max_households)
        reasons.append(_("%(load)d of %(max)d households") % {"load": load, "max": helper.max_households})
        matched = sorted(needed & set(helper.skills))
        if matched:
            score += 15.0 * len(matched)
            labels = ", ".join(str(Skill(s).label) for s in matched)
            reasons.append(_("skills: %(skills)s") % {"skills": labels})
        if language and language in helper.languages:
            score += 20.0
            reasons.append(_("speaks %(language)s") % {"language": language})
        suggestions.append(
            Suggestion(
                helper_id=helper.pk,
                name=fields.decrypt(helper.name_encrypted),
                kind=helper.kind,
                score=round(score, 1),
                distance_km=round(distance, 2) if distance is not None else None,
                load=load,
                max_households=helper.max_households,
                reasons=reasons,
            )
        )
    suggestions.sort(key=lambda s: (-s.score, s.distance_km if s.distance_km is not None else math.inf, s.helper_id))
    chosen = suggestions[:limit]
    _audit_household(actor, AuditAction.VIEW, household, "helper_suggestions", household.pk, reason="skills needed")
    if chosen:
        audit.log_each(actor, AuditAction.LIST, HELPER_RESOURCE, [s.helper_id for s in chosen])
    return chosen


# --- coverage ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UncoveredHousehold:
    id: int
    reference: str
    care_level: int


@dataclass(frozen=True)
class LapsedSchedule:
    schedule_id: int
    household_id: int
    reference: str
    kind: str
    due_on: date
    overdue_days: int
    helper_id: int | None


@dataclass(frozen=True)
class AreaCoverage:
    area_code: str
    area_name: str
    households: int
    covered: int
    uncovered: list[UncoveredHousehold]
    uncovered_count: int
    lapsed: list[LapsedSchedule]
    helpers: int


@dataclass(frozen=True)
class CoverageReport:
    areas: list[AreaCoverage]
    overloaded: list[HelperView]
    lapsed_after_days: int


def coverage_report(
    actor: Actor, *, area_code: str = "", lapsed_after_days: int = 7, today: date | None = None, per_area: int = 50
) -> CoverageReport:
    """Per eup/myeon/dong: households with no active primary helper (highest care level first), schedules
    overdue by more than ``lapsed_after_days``, and helpers carrying more households than they agreed to."""
    today = today or timezone.localdate()
    households = check_in_households(actor.principal).filter(
        processing_stopped=False, status__in=(HouseholdStatus.ACTIVE, HouseholdStatus.IN_HOSPITAL)
    )
    if area_code:
        households = households.filter(area_id=area_code)
    primary = Assignment.objects.filter(household_id=OuterRef("pk"), role=AssignmentRole.PRIMARY, ended_at=None)
    counts = {
        r["area_id"]: r
        for r in households.values("area_id")
        .annotate(total=Count("pk"), covered=Count("pk", filter=Q(Exists(primary))))
        .order_by()
    }
    names = dict(Area.objects.filter(code__in=counts).values_list("code", "name"))
    helper_counts = {
        r["area_id"]: r["n"]
        for r in Helper.areas.through.objects.filter(
            area_id__in=counts, helper__site_id=actor.principal.site_pk, helper__active=True
        )
        .values("area_id")
        .annotate(n=Count("helper_id"))
        .order_by()
    }
    shown: list[int] = []
    rows: list[AreaCoverage] = []
    cutoff = today - timedelta(days=lapsed_after_days)
    for code in sorted(counts):
        uncovered_qs = households.filter(area_id=code).exclude(Exists(primary)).order_by("-care_level", "reference")
        uncovered = [
            UncoveredHousehold(h["pk"], h["reference"], h["care_level"])
            for h in uncovered_qs.values("pk", "reference", "care_level")[:per_area]
        ]
        lapsed = [
            LapsedSchedule(
                s.pk,
                s.household_id,
                s.household.reference,
                s.kind,
                s.next_due_on,
                (today - s.next_due_on).days,
                s.helper_id,
            )
            for s in CheckInSchedule.objects.filter(
                active=True, next_due_on__lt=cutoff, household__in=households.filter(area_id=code)
            )
            .select_related("household")
            .order_by("next_due_on")[:per_area]
        ]
        shown += [u.id for u in uncovered] + [s.household_id for s in lapsed]
        rows.append(
            AreaCoverage(
                area_code=code,
                area_name=names.get(code, code),
                households=counts[code]["total"],
                covered=counts[code]["covered"],
                uncovered=uncovered,
                uncovered_count=counts[code]["total"] - counts[code]["covered"],
                lapsed=lapsed,
                helpers=helper_counts.get(code, 0),
            )
        )
    helpers = visible_helpers(actor.principal).filter(active=True).prefetch_related("areas")
    if area_code:
        helpers = helpers.filter(areas__code=area_code)
    loaded = list(helpers.distinct())
    loads = _loads([h.pk for h in loaded])
    overloaded = [_helper_view(h, loads[h.pk]) for h in loaded if loads.get(h.pk, 0) > h.max_households]
    if shown:
        audit.log_many(actor, AuditAction.LIST, "coverage", sorted(set(shown)), site_id=actor.principal.site_id)
    if overloaded:
        audit.log_each(actor, AuditAction.LIST, HELPER_RESOURCE, [h.id for h in overloaded])
    return CoverageReport(areas=rows, overloaded=overloaded, lapsed_after_days=lapsed_after_days)


# --- schedules -----------------------------------------------------------------------------------------------


@transaction.atomic
def add_schedule(actor: Actor, household_id: int, data: ScheduleInput) -> CheckInSchedule:
    household = _household(actor.principal, household_id, Action.CHANGE)
    active = {a.helper_id: a for a in Assignment.objects.filter(household=household, ended_at=None)}
    if data.helper_id is not None:
        if data.helper_id not in active:
            raise RegistryError("helper_id", "not_assigned", _("That helper is not assigned to this household."))
        helper_id: int | None = data.helper_id
    else:
        helper_id = next((h for h, a in active.items() if a.role == AssignmentRole.PRIMARY), None)
    schedule = CheckInSchedule.objects.create(
        household=household,
        kind=data.kind,
        interval_days=data.interval_days,
        helper_id=helper_id,
        follows_primary=data.helper_id is None,
        next_due_on=data.first_due_on or timezone.localdate(),
        created_by_id=actor.principal.user_id,
    )
    _audit_household(
        actor,
        AuditAction.CREATE,
        household,
        "check_in_schedule",
        schedule.pk,
        changes={"kind": data.kind, "interval_days": data.interval_days, "helper": helper_id},
    )
    return schedule


@transaction.atomic
def end_schedule(actor: Actor, schedule_id: int) -> int:
    """Stop a schedule; returns its household."""
    schedule = CheckInSchedule.objects.filter(pk=schedule_id, active=True).select_related("household").first()
    if schedule is None:
        raise NotFound("schedule", schedule_id)
    _household(actor.principal, schedule.household_id, Action.CHANGE)
    schedule.active = False
    schedule.save(update_fields=["active"])
    _audit_household(
        actor,
        AuditAction.CHANGE,
        schedule.household,
        "check_in_schedule",
        schedule.pk,
        changes={"active": [True, False]},
    )
    return schedule.household_id


@dataclass(frozen=True)
class CheckInView:
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


def _check_in_view(c: CheckIn) -> CheckInView:
    return CheckInView(
        id=c.pk,
        household_id=c.household_id,
        helper_id=c.helper_id,
        helper_name=fields.decrypt(c.helper.name_encrypted) if c.helper else "",
        kind=c.kind,
        result=c.result,
        crisis_signs=list(c.crisis_signs),
        note=fields.decrypt(c.note_encrypted),
        occurred_at=c.occurred_at,
        recorded_at=c.recorded_at,
        case_id=c.case_id,
        verification_task_id=c.verification_task_id,
    )


@dataclass(frozen=True)
class HouseholdSafetyNet:
    """What the household page shows: its helpers, schedules and recent check-ins."""

    household_id: int
    status: str
    assignments: list[AssignmentView]
    schedules: list[CheckInSchedule]
    check_ins: list[CheckInView]

    @property
    def primary(self) -> AssignmentView | None:
        return next((a for a in self.assignments if a.role == AssignmentRole.PRIMARY), None)

    @property
    def backup(self) -> AssignmentView | None:
        return next((a for a in self.assignments if a.role == AssignmentRole.BACKUP), None)

    @property
    def reported_in_hospital(self) -> CheckInView | None:
        """The latest check-in found the resident in hospital, but the household's status does not say so:
        an official decides whether to change it."""
        latest = self.check_ins[0] if self.check_ins else None
        if latest and latest.result == CheckInResult.IN_HOSPITAL and self.status != HouseholdStatus.IN_HOSPITAL:
            return latest
        return None


def household_safety_net(actor: Actor, household_id: int, recent: int = 10) -> HouseholdSafetyNet:
    household = _household(actor.principal, household_id, Action.VIEW)
    assignments = list(
        Assignment.objects.filter(household=household, ended_at=None).select_related("household", "helper")
    )
    schedules = list(
        CheckInSchedule.objects.filter(household=household, active=True).select_related("helper").order_by("kind")
    )
    check_ins = list(
        CheckIn.objects.filter(household=household).select_related("helper").order_by("-occurred_at", "-id")[:recent]
    )
    _audit_household(actor, AuditAction.VIEW, household, CHECK_IN_RESOURCE, household.pk)
    return HouseholdSafetyNet(
        household_id=household.pk,
        status=household.status,
        assignments=[_assignment_view(a) for a in assignments],
        schedules=schedules,
        check_ins=[_check_in_view(c) for c in check_ins],
    )


# --- the helper's day ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
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


def due_list(actor: Actor, on: date | None = None) -> list[DueItem]:
    """A helper's check-ins due on or before ``on`` (today), most overdue first. One indexed range read on the
    schedules' persisted due dates, one read of the households' encrypted contact data; every household shown
    is logged."""
    on = on or timezone.localdate()
    principal = actor.principal
    helper = helper_of(principal)
    if helper is None or principal.user_id is None or principal.scope(Resource.CHECK_IN, Action.VIEW) != Scope.GRANTED:
        return []
    held = HouseholdGrant.objects.filter(
        household_id=OuterRef("household_id"), user_id=principal.user_id, revoked_at=None
    )
    schedules = list(
        CheckInSchedule.objects.filter(
            Exists(held),
            helper=helper,
            active=True,
            next_due_on__lte=on,
            household__destroyed_at=None,
            household__processing_stopped=False,
        )
        .order_by("next_due_on", "household_id", "pk")
        .values("pk", "household_id", "kind", "next_due_on", "last_result", "last_check_in_at")
    )
    if not schedules:
        return []
    primary = Person.objects.filter(household=OuterRef("pk")).order_by("-is_primary", "id")
    households = {
        h["pk"]: h
        for h in Household.objects.filter(pk__in={s["household_id"] for s in schedules}).values(
            "pk",
            "reference",
            "address_encrypted",
            "address_detail_encrypted",
            name=Subquery(primary.values("name_encrypted")[:1]),
            phone=Subquery(primary.values("phone_encrypted")[:1]),
        )
    }
    # Decrypted once per household: a household is often due for a call and a visit.
    contact = {
        pk: (
            fields.decrypt(h["name"] or ""),
            " ".join(
                part
                for part in (fields.decrypt(h["address_encrypted"]), fields.decrypt(h["address_detail_encrypted"]))
                if part
            ),
            format_phone(fields.decrypt(h["phone"] or "")),
        )
        for pk, h in households.items()
    }
    items = []
    for s in schedules:
        h = households[s["household_id"]]
        name, address, phone = contact[s["household_id"]]
        items.append(
            DueItem(
                schedule_id=s["pk"],
                household_id=s["household_id"],
                household_reference=h["reference"],
                resident_name=name,
                address=address,
                phone=phone,
                kind=s["kind"],
                due_on=s["next_due_on"],
                overdue_days=max(0, (on - s["next_due_on"]).days),
                last_result=s["last_result"],
                last_check_in_at=s["last_check_in_at"],
            )
        )
    audit.log_many(
        actor, AuditAction.LIST, CHECK_IN_RESOURCE, sorted(households), site_id=principal.site_id, reason="due list"
    )
    return items


@dataclass(frozen=True)
class CheckInOutcome:
    check_in_id: int
    created: bool
    case_id: int | None = None
    verification_task_id: int | None = None
    alert_id: int | None = None


def _outcome(check_in: CheckIn, created: bool, alert_id: int | None = None) -> CheckInOutcome:
    return CheckInOutcome(check_in.pk, created, check_in.case_id, check_in.verification_task_id, alert_id)


def _schedule_for(household: Household, data: CheckInInput) -> CheckInSchedule | None:
    if data.schedule_id is not None:
        schedule = CheckInSchedule.objects.filter(pk=data.schedule_id, household=household).first()
        if schedule is None:
            raise RegistryError("schedule_id", "no_schedule", _("This household has no such check-in schedule."))
        return schedule
    # An unscheduled check-in of a kind the household has a schedule for counts towards that schedule.
    return (
        CheckInSchedule.objects.filter(household=household, kind=data.kind, active=True).order_by("next_due_on").first()
    )


def record_check_in(actor: Actor, data: CheckInInput) -> CheckInOutcome:
    """Store one check-in exactly once per ``client_id`` and act on it:

    - a crisis sign or "needs help" opens a welfare case with the needs the signs point to;
    - "not at this address" or "someone else living at the address" opens an address verification task;
    - a second "no answer" in a row raises an alert that walks the escalation chain; after a first one the
      schedule is due again the next day;
    - "in hospital" is recorded for an official to decide on the household's status (never changed here);
    - the schedule's next due date moves on.

    A repeated ``client_id`` (a retry from the phone, even concurrent) returns the stored check-in, created=False.
    """
    existing = stored_check_in(data.client_id)
    if existing is not None:
        return _repeat(actor, existing)
    household = _household(actor.principal, data.household_id, Action.CREATE)
    helper = helper_of(actor.principal)
    try:
        with transaction.atomic():
            schedule = _schedule_for(household, data)
            check_in = CheckIn.objects.create(
                household=household,
                helper=helper,
                schedule=schedule,
                kind=data.kind,
                result=data.result,
                crisis_signs=[str(s) for s in data.crisis_signs],
                note_encrypted=fields.encrypt(data.note),
                occurred_at=data.occurred_at,
                recorded_by_id=actor.principal.user_id,
                client_id=data.client_id,
                due_on=schedule.next_due_on if schedule is not None else None,
            )
            alert_id = _act_on(actor, household, check_in, schedule)
    except IntegrityError:
        # The same submission stored concurrently (a retry racing the original): answer with that one.
        existing = CheckIn.objects.filter(client_id=data.client_id).first()
        if existing is None:
            raise
        return _repeat(actor, existing)
    return _outcome(check_in, True, alert_id)


def stored_check_in(client_id: UUID) -> CheckIn | None:
    return CheckIn.objects.filter(client_id=client_id).first()


def _repeat(actor: Actor, existing: CheckIn) -> CheckInOutcome:
    if existing.recorded_by_id != actor.principal.user_id:
        raise RegistryError("client_id", "taken", _("This check-in number was already used by someone else."))
    return _outcome(existing, False)


def _act_on(actor: Actor, household: Household, check_in: CheckIn, schedule: CheckInSchedule | None) -> int | None:
    signs = list(check_in.crisis_signs)
    source_ref = f"check_in:{check_in.pk}"
    update: list[str] = []
    if signs or check_in.result == CheckInResult.NEEDS_HELP:
        needs = tuple(dict.fromkeys(need for sign in signs for need in SIGN_NEEDS.get(sign, ())))
        summary = ", ".join(str(CrisisSign(s).label) for s in signs) or str(CheckInResult.NEEDS_HELP.label)
        case = welfare.open_case(
            actor, household.pk, source=CaseSource.CHECK_IN, source_ref=source_ref, summary=summary, needs=needs
        )
        check_in.case_id = case.id
        update.append("case_id")
    if check_in.result == CheckInResult.NOT_AT_ADDRESS or CrisisSign.SOMEONE_ELSE_LIVING in signs:
        task = welfare.open_verification_task(
            actor, household.pk, kind=VerificationKind.ADDRESS, source="check_in", source_ref=source_ref
        )
        check_in.verification_task_id = task.id
        update.append("verification_task_id")
    if update:
        check_in.save(update_fields=update)
    alert_id = None
    if check_in.result == CheckInResult.NO_ANSWER:
        alert_id = _after_no_answer(household, check_in)
    if schedule is not None:
        _advance(schedule, check_in)
    _audit_household(
        actor,
        AuditAction.CREATE,
        household,
        CHECK_IN_RESOURCE,
        check_in.pk,
        changes={"result": check_in.result, "kind": check_in.kind, "crisis_signs": signs},
    )
    _event(
        "check_in.recorded",
        actor,
        household.site_id,
        area_code=household.area_id,
        household_id=household.pk,
        subject=("check_in", check_in.pk),
        occurred_at=check_in.occurred_at,
        data={"kind": check_in.kind, "result": check_in.result, "signs": signs, "case": check_in.case_id is not None},
    )
    return alert_id


def _advance(schedule: CheckInSchedule, check_in: CheckIn) -> None:
    """Move the schedule on from this check-in; a late upload of an older check-in does not move it back."""
    if schedule.last_check_in_at is not None and check_in.occurred_at < schedule.last_check_in_at:
        return
    day = timezone.localdate(check_in.occurred_at)
    retry = check_in.result == CheckInResult.NO_ANSWER and schedule.last_result != CheckInResult.NO_ANSWER
    schedule.next_due_on = day + timedelta(days=1 if retry else schedule.interval_days)
    schedule.last_check_in_at = check_in.occurred_at
    schedule.last_result = check_in.result
    schedule.missed_alerted_on = None
    schedule.save(update_fields=["next_due_on", "last_check_in_at", "last_result", "missed_alerted_on"])


def _after_no_answer(household: Household, check_in: CheckIn) -> int | None:
    recent = list(
        CheckIn.objects.filter(household=household, occurred_at__lte=check_in.occurred_at)
        .order_by("-occurred_at", "-id")
        .values_list("result", flat=True)[:NO_ANSWER_ALERT_AFTER]
    )
    if len(recent) < NO_ANSWER_ALERT_AFTER or any(r != CheckInResult.NO_ANSWER for r in recent):
        return None

    detected = Detected(
        household=household.reference,
        kind=AlertKind.NO_ANSWER,
        raised_at=check_in.occurred_at,
        severity=Severity.HIGH,
        reason=f"No answer at {NO_ANSWER_ALERT_AFTER} check-ins in a row.",
        cause="no_answer",
        reason_code="check_in_no_answer",
        reason_params={"count": NO_ANSWER_ALERT_AFTER},
    )
    alert = watch.raise_alert(household.site_id, household.pk, detected)
    return alert.pk if alert is not None else None


def check_missed(now: datetime | None = None, grace_days: int = MISSED_GRACE_DAYS) -> int:
    """Worker step: raise one alert per schedule and missed due date once a check-in is ``grace_days`` overdue.
    Derived from the schedules' persisted due dates, so a restarted worker neither misses nor repeats one."""

    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = today - timedelta(days=grace_days)
    due = (
        CheckInSchedule.objects.filter(
            active=True,
            next_due_on__lt=cutoff,
            household__destroyed_at=None,
            household__processing_stopped=False,
            household__status=HouseholdStatus.ACTIVE,
        )
        .filter(
            Q(missed_alerted_on=None)
            | Q(missed_alerted_on__lt=F("next_due_on"))
            | Q(missed_alerted_on__gt=F("next_due_on"))
        )
        .select_related("household")
        .order_by("next_due_on")[:500]
    )
    raised = 0
    for schedule in list(due):
        claimed = (
            CheckInSchedule.objects.filter(pk=schedule.pk, next_due_on=schedule.next_due_on)
            .exclude(missed_alerted_on=schedule.next_due_on)
            .update(missed_alerted_on=schedule.next_due_on)
        )
        if not claimed:
            continue  # another worker took it, or a check-in arrived meanwhile
        overdue = (today - schedule.next_due_on).days
        detected = Detected(
            household=schedule.household.reference,
            kind=AlertKind.CHECK_IN_MISSED,
            raised_at=now,
            severity=Severity.WARNING,
            reason=f"The {schedule.kind} due on {schedule.next_due_on.isoformat()} is {overdue} days overdue.",
            cause=f"check_in_missed:{schedule.pk}",
            reason_code="check_in_missed",
            reason_params={"kind": schedule.kind, "due_on": schedule.next_due_on.isoformat(), "days": overdue},
        )
        if watch.raise_alert(schedule.household.site_id, schedule.household_id, detected, now) is not None:
            raised += 1
    return raised


@dataclass(frozen=True)
class HelperAlert:
    alert_id: int
    household_id: int | None
    household_reference: str
    kind: str
    kind_label: str
    severity: str
    status: str
    reason: str
    raised_at: datetime


def helper_alerts(actor: Actor) -> list[HelperAlert]:
    """Open and acknowledged alerts on the households assigned to the helper (acknowledge with
    ``maeul.watch.services.acknowledge``)."""

    if actor.principal.scope(Resource.ALERT, Action.VIEW) != Scope.GRANTED:
        return []
    alerts = list(
        watch.visible_alerts(actor.principal)
        .exclude(status=AlertStatus.RESOLVED)
        .select_related("household")
        .order_by("-raised_at")[:100]
    )
    household_ids = sorted({a.household_id for a in alerts if a.household_id})
    if household_ids:
        audit.log_many(
            actor, AuditAction.VIEW, "alert", household_ids, site_id=actor.principal.site_id, reason="helper alerts"
        )
    open_first = sorted(alerts, key=lambda a: (a.status != AlertStatus.OPEN, -a.raised_at.timestamp()))
    return [
        HelperAlert(
            alert_id=a.pk,
            household_id=a.household_id,
            household_reference=a.household.reference if a.household else "",
            kind=a.kind,
            kind_label=str(AlertKind(a.kind).label),
            severity=a.severity,
            status=a.status,
            reason=watch.reason_text(a),
            raised_at=a.raised_at,
        )
        for a in open_first
    ]


def acknowledge_alert(actor: Actor, alert_id: int) -> None:
    watch.acknowledge(actor, alert_id)


def recent_check_ins(actor: Actor, household_id: int, limit: int = 20) -> list[CheckInView]:
    household = _household(actor.principal, household_id, Action.VIEW)
    rows = list(CheckIn.objects.filter(household=household).select_related("helper").order_by("-occurred_at")[:limit])
    _audit_household(actor, AuditAction.VIEW, household, CHECK_IN_RESOURCE, household.pk)
    return [_check_in_view(c) for c in rows]


# --- handover ------------------------------------------------------------------------------------------------


@transaction.atomic
def hand_over(actor: Actor, from_user_id: int, to_user_id: int) -> Handover:
    """An official leaves their post: the helpers they coordinate, then their welfare cases, follow-ups and open
    tasks move to the successor in one step, recorded. Area memberships stay as the site administrator sets them."""
    if actor.principal.scope(Resource.MEMBERS, Action.CHANGE) != Scope.SITE:
        raise RegistryError("from_user_id", "not_allowed", _("Only the site administrator hands a post over."))
    site_id = actor.principal.site_pk
    if from_user_id == to_user_id:
        raise RegistryError("to_user_id", "same_user", _("Choose a different successor."))
    officials = set(
        Membership.objects.filter(
            user_id__in=(from_user_id, to_user_id),
            site_id=site_id,
            role__in=(Role.WELFARE_OFFICIAL, Role.SAFETY_OFFICIAL),
        ).values_list("user_id", flat=True)
    )
    for name, user_id in (("from_user_id", from_user_id), ("to_user_id", to_user_id)):
        if user_id not in officials:
            raise RegistryError(name, "not_official", _("Choose an official of this site."))
    if not get_user_model().objects.filter(pk=to_user_id, is_active=True).exists():
        raise RegistryError("to_user_id", "inactive", _("The successor's account is closed."))
    helpers = Helper.objects.filter(site_id=site_id, coordinator_id=from_user_id).update(coordinator_id=to_user_id)
    moved = welfare.hand_over(actor, from_user_id, to_user_id)
    counts = {"helpers": helpers, **{str(k): int(v) for k, v in moved.items()}}
    handover = Handover.objects.create(
        site_id=site_id,
        from_user_id=from_user_id,
        to_user_id=to_user_id,
        by_id=actor.principal.user_id,
        at=timezone.now(),
        counts=counts,
    )
    audit.log(
        actor,
        AuditAction.CHANGE,
        "handover",
        object_id=handover.pk,
        changes={"from": from_user_id, "to": to_user_id, **counts},
    )
    _event("official.handed_over", actor, site_id, subject=("handover", handover.pk), data=counts)
    return handover


def handovers(actor: Actor, limit: int = 50) -> list[Handover]:
    if actor.principal.scope(Resource.MEMBERS, Action.CHANGE) != Scope.SITE:
        return []
    return list(
        Handover.objects.filter(site_id=actor.principal.site_pk).select_related("from_user", "to_user", "by")[:limit]
    )


def officials_of_site(actor: Actor) -> list[tuple[int, str]]:
    rows = (
        Membership.objects.filter(
            site_id=actor.principal.site_pk, role__in=(Role.WELFARE_OFFICIAL, Role.SAFETY_OFFICIAL)
        )
        .select_related("user")
        .order_by("user__username")
    )
    return [(m.user_id, m.user.get_full_name() or m.user.get_username()) for m in rows]


def registrable_areas(principal: Principal, action: Action = Action.CREATE) -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in _areas_allowed(principal, action).order_by("code")]


def helper_accounts(actor: Actor, keep: int | None = None) -> list[tuple[int, str]]:
    """Helper logins of the site not yet linked to a helper profile (and ``keep``, the one already linked)."""
    linked = Helper.objects.exclude(account_id=None).exclude(account_id=keep).values("account_id")
    rows = (
        Membership.objects.filter(site_id=actor.principal.site_pk, role=Role.HELPER, user__is_active=True)
        .exclude(user_id__in=linked)
        .select_related("user")
        .order_by("user__username")
    )
    return [(m.user_id, m.user.get_username()) for m in rows]


# --- programme figures ----------------------------------------------------------------------------------------


def programme_figures(site_id: int, since: date, until: date) -> dict[str, float | int | None]:
    """The site's safety-net figures for the programme (``maeul.programme``), for ``since`` ≤ day < ``until``:
    counts only, never a household or a helper. Households registered for care (still at home or in hospital)
    at ``until`` and those with a primary helper then; check-ins against a due date in the period and those made
    by it (the same rule as the safety-net report)."""
    end = timezone.make_aware(datetime.combine(until, datetime.min.time()))
    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    households = Household.objects.filter(
        site_id=site_id,
        destroyed_at=None,
        processing_stopped=False,
        status__in=(HouseholdStatus.ACTIVE, HouseholdStatus.IN_HOSPITAL),
        created_at__lt=end,
    )
    primary = Assignment.objects.filter(
        household=OuterRef("pk"), role=AssignmentRole.PRIMARY, started_at__lt=end
    ).filter(Q(ended_at=None) | Q(ended_at__gte=end))
    scheduled = CheckIn.objects.filter(household__site_id=site_id, occurred_at__gte=start, occurred_at__lt=end).exclude(
        due_on=None
    )
    on_time = len(
        [
            occurred
            for occurred, due in scheduled.values_list("occurred_at", "due_on")
            if due is not None and timezone.localtime(occurred).date() <= due
        ]
    )
    total = households.count()
    covered = households.filter(Exists(primary)).count()
    due = scheduled.count()
    return {
        "households_for_care": total,
        "households_with_helper": covered,
        "helper_coverage_share": covered / total if total else None,
        "check_ins_due": due,
        "check_ins_on_time": on_time,
        "check_ins_on_time_share": on_time / due if due else None,
    }


def screening_signals(household_ids: list[int], since: datetime) -> dict[int, tuple[int, int]]:
    """For screening: per household, the crisis signs helpers recorded and the check-ins nobody answered since
    ``since`` — (crisis signs, unanswered). Households with neither are absent. Codes only, no notes."""
    out: dict[int, tuple[int, int]] = {}
    rows = CheckIn.objects.filter(household_id__in=household_ids, occurred_at__gte=since).values_list(
        "household_id", "result", "crisis_signs"
    )
    for household_id, result, signs in rows:
        crisis, unanswered = out.get(household_id, (0, 0))
        out[household_id] = (crisis + len(signs or []), unanswered + (result == CheckInResult.NO_ANSWER))
    return {k: v for k, v in out.items() if v != (0, 0)}


def checked_since(household_ids: list[int], since: datetime) -> set[int]:
    """For screening: households a helper reached (any answered check-in) since ``since``."""
    return set(
        CheckIn.objects.filter(household_id__in=household_ids, occurred_at__gte=since)
        .exclude(result__in=[CheckInResult.NO_ANSWER, CheckInResult.NOT_AT_ADDRESS])
        .values_list("household_id", flat=True)
    )

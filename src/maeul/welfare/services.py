"""Case actions: the only code that writes cases, assessments, plans, referrals, follow-ups and verification tasks.

Scope follows ``Resource.CASE`` and ``Resource.REFERRAL`` in the permission matrix: officials work on their areas'
households, the site administrator on the whole site. Partner staff see only referrals sent to the organisations
they work for, and only the minimum needed to act on them (reference, main resident's name, phone, address, the
need and the note) — never the household record, and no household grant is given to them.

Every read of personal data and every change is written to the access record; each change also emits a domain
event carrying codes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from maeul.accounts.models import Membership
from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.accounts.roles import Role
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.directory import services as directory
from maeul.directory.models import NeedDomain
from maeul.events import services as events
from maeul.people import services as people
from maeul.people.errors import NotFound
from maeul.people.models import Consent, ConsentPurpose, Household, Person
from maeul.people.schemas import HouseholdChange, PersonInput
from maeul.protection import fields
from maeul.protection.phone import canonical_phone, format_phone
from maeul.welfare.errors import CaseNotFound, WelfareError
from maeul.welfare.models import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseOutcome,
    CasePriority,
    CaseSource,
    CaseStatus,
    FollowUp,
    NeedAssessment,
    NeedLevel,
    Referral,
    ReferralEvent,
    ReferralStatus,
    UnsuccessfulReason,
    VerificationKind,
    VerificationResolution,
    VerificationStatus,
    VerificationTask,
)

__all__ = [
    "CaseSource",
    "CaseView",
    "TimelineEntry",
    "VerificationKind",
    "VerificationTaskView",
    "hand_over",
    "household_case_entries",
    "open_case",
    "open_verification_task",
]

CASE = "case"
REFERRAL = "referral"
FOLLOW_UP = "follow_up"
VERIFICATION = "verification_task"
HANDOVER = "case_handover"

# The roles that hold cases: the successor of a handover and the default assignee must be one of these.
OFFICIAL_ROLES = (Role.WELFARE_OFFICIAL, Role.SAFETY_OFFICIAL)

# Which referral states may follow which; every other change is refused with ``invalid_transition``.
TRANSITIONS: dict[str, frozenset[str]] = {
    ReferralStatus.SENT: frozenset(
        {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.CLOSED_UNSUCCESSFUL}
    ),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.DELIVERED, ReferralStatus.CLOSED_UNSUCCESSFUL}),
}
ACTIVE_REFERRAL = (ReferralStatus.SENT, ReferralStatus.ACCEPTED)


# --- scope -------------------------------------------------------------------------------------------------


def visible_cases(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Case]:
    """Cases this principal may act on, as a query filter. Nothing for a role without a CASE scope."""
    scope = principal.scope(Resource.CASE, action)
    if scope == Scope.SITE and principal.site_id is not None:
        return Case.objects.filter(site_id=principal.site_id)
    if scope == Scope.AREA and principal.site_id is not None:
        return Case.objects.filter(site_id=principal.site_id, area_id__in=principal.area_codes)
    return Case.objects.none()


def _case_households(principal: Principal, action: Action) -> QuerySet[Household]:
    """Households whose cases this principal may act on (not destroyed; consent checked separately)."""
    scope = principal.scope(Resource.CASE, action)
    qs = Household.objects.filter(destroyed_at=None)
    if scope == Scope.SITE and principal.site_id is not None:
        return qs.filter(site_id=principal.site_id)
    if scope == Scope.AREA and principal.site_id is not None:
        return qs.filter(site_id=principal.site_id, area_id__in=principal.area_codes)
    return qs.none()


def visible_referrals(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Referral]:
    """Officials: their areas' referrals. Partner staff: referrals sent to organisations they work for."""
    scope = principal.scope(Resource.REFERRAL, action)
    qs = Referral.objects.all()
    if scope == Scope.SITE and principal.site_id is not None:
        return qs.filter(case__site_id=principal.site_id)
    if scope == Scope.AREA and principal.site_id is not None:
        return qs.filter(case__site_id=principal.site_id, case__area_id__in=principal.area_codes)
    if scope == Scope.GRANTED and principal.user_id is not None and principal.site_id is not None:
        organizations = directory.organization_ids_for_user(principal.user_id)
        return qs.filter(organization_id__in=organizations, case__site_id=principal.site_id)
    return qs.none()


def visible_verification_tasks(principal: Principal, action: Action = Action.VIEW) -> QuerySet[VerificationTask]:
    scope = principal.scope(Resource.CASE, action)
    if scope == Scope.SITE and principal.site_id is not None:
        return VerificationTask.objects.filter(site_id=principal.site_id)
    if scope == Scope.AREA and principal.site_id is not None:
        return VerificationTask.objects.filter(site_id=principal.site_id, area_id__in=principal.area_codes)
    return VerificationTask.objects.none()


def _triggerable_household(principal: Principal, household_id: int) -> Household:
    """The household a case or verification task may be opened for by this principal.

    Officials and administrators open them in their CASE scope. A helper may *trigger* one for a household granted
    to them (their check-in found a crisis sign or nobody at the address) without gaining any right to see cases.
    """
    if principal.can(Resource.CASE, Action.CREATE):
        qs = _case_households(principal, Action.CREATE)
    elif principal.role == Role.HELPER:
        qs = people.visible_households(principal, Action.VIEW)
    else:
        qs = Household.objects.none()
    household = qs.filter(pk=household_id).select_related("area").first()
    if household is None:
        raise NotFound("household", household_id)
    if household.processing_stopped:
        raise WelfareError("household_id", "processing_stopped", _("Consent was withdrawn: no new work may start."))
    return household


def _scoped_case(principal: Principal, case_id: int, action: Action) -> Case:
    case = visible_cases(principal, action).filter(pk=case_id).select_related("household", "area").first()
    if case is None:
        raise CaseNotFound(case_id)
    return case


def _scoped_referral(principal: Principal, referral_id: int, action: Action) -> Referral:
    referral = (
        visible_referrals(principal, action)
        .filter(pk=referral_id)
        .select_related("case", "case__household", "service", "organization")
        .first()
    )
    if referral is None:
        raise NotFound("referral", referral_id)
    return referral


def _default_assignee(household: Household, principal: Principal) -> int | None:
    """The area's welfare official when there is exactly one; else the actor if an official; else nobody."""
    officials = list(
        Membership.objects.filter(
            site_id=household.site_id, role=Role.WELFARE_OFFICIAL, areas=household.area_id, user__is_active=True
        ).values_list("user_id", flat=True)[:2]
    )
    if len(officials) == 1:
        return officials[0]
    if principal.role in OFFICIAL_ROLES:
        return principal.user_id
    return None


# --- views -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    detail: str
    url: str


@dataclass(frozen=True)
class CaseView:
    """A handle on a case: codes and dates, no personal data (what a helper who triggered it may get back)."""

    id: int
    household_id: int
    household_reference: str
    area_code: str
    status: str
    source: str
    priority: int
    assigned_to_id: int | None
    opened_at: datetime
    created: bool


@dataclass(frozen=True)
class VerificationTaskView:
    id: int
    household_id: int
    household_reference: str
    area_code: str
    kind: str
    source: str
    source_ref: str
    note: str
    status: str
    assigned_to_id: int | None
    assigned_to_name: str
    opened_at: datetime
    resolution: str
    resolved_at: datetime | None
    created: bool


def _case_view(case: Case, created: bool = False) -> CaseView:
    return CaseView(
        id=case.pk,
        household_id=case.household_id,
        household_reference=case.household.reference,
        area_code=case.area_id,
        status=case.status,
        source=case.source,
        priority=case.priority,
        assigned_to_id=case.assigned_to_id,
        opened_at=case.opened_at,
        created=created,
    )


def _username(user_id: int | None) -> str:
    if user_id is None:
        return ""
    return str(get_user_model().objects.filter(pk=user_id).values_list("username", flat=True).first() or "")


def _task_view(task: VerificationTask, created: bool = False) -> VerificationTaskView:
    return VerificationTaskView(
        id=task.pk,
        household_id=task.household_id,
        household_reference=task.household.reference,
        area_code=task.area_id,
        kind=task.kind,
        source=task.source,
        source_ref=task.source_ref,
        note=fields.decrypt(task.note_encrypted),
        status=task.status,
        assigned_to_id=task.assigned_to_id,
        assigned_to_name=_username(task.assigned_to_id),
        opened_at=task.opened_at,
        resolution=task.resolution,
        resolved_at=task.resolved_at,
        created=created,
    )


# --- recording ---------------------------------------------------------------------------------------------


def _audit_case(
    actor: Actor, action: AuditAction, case: Case, *, resource: str = CASE, object_id: int | str = "", **details: Any
) -> None:
    audit.log(
        actor,
        action,
        resource,
        object_id=object_id or case.pk,
        household_id=case.household_id,
        site_id=case.site_id,
        area_code=case.area_id,
        **details,
    )


def _event(kind: str, case: Case, actor: Actor, subject: tuple[str, int] | None = None, **data: Any) -> None:
    events.record(
        kind,
        site_id=case.site_id,
        area_code=case.area_id,
        household_id=case.household_id,
        subject=subject or ("case", case.pk),
        actor_role=actor.principal.role or "",
        data=data,
    )


def _history(case: Case, kind: CaseEventKind, actor: Actor, at: datetime | None = None, **data: Any) -> None:
    CaseEvent.objects.create(case=case, at=at or timezone.now(), kind=kind, by_id=actor.principal.user_id, data=data)


def _touch(case: Case, now: datetime) -> None:
    case.updated_at = now
    case.save(update_fields=["updated_at"])


def _check_domains(needs: Sequence[str]) -> list[str]:
    unknown = sorted(set(needs) - set(NeedDomain.values))
    if unknown:
        raise WelfareError(
            "needs", "unknown_domain", _("Unknown need domain(s): %(codes)s.") % {"codes": ", ".join(unknown)}
        )
    return list(dict.fromkeys(needs))


# --- opening -----------------------------------------------------------------------------------------------


@transaction.atomic
def open_case(
    actor: Actor,
    household_id: int,
    *,
    source: CaseSource,
    source_ref: str = "",
    summary: str = "",
    needs: Sequence[str] = (),
) -> CaseView:
    """Open the household's case, or record a new signal on the one already open (one open case per household).

    Who may: an official or administrator with CASE create scope over the household; or a **helper** for a
    household granted to them (their check-in found a crisis sign). The helper triggers the case but gets no right
    to view cases: the returned ``CaseView`` carries codes only. ``needs`` are need-domain codes flagged (e.g.
    from crisis signs), recorded as initial assessments at level *high* and raising the priority to high.

    A new case is assigned to the area's welfare official when there is exactly one, else to the actor when the
    actor is an official, else left unassigned for the area's officials to take.
    """
    source = CaseSource(source)
    flagged = _check_domains(needs)
    household = _triggerable_household(actor.principal, household_id)
    now = timezone.now()
    user_id = actor.principal.user_id
    existing = Case.objects.select_for_update().filter(household=household, status=CaseStatus.OPEN).first()
    created = existing is None
    if existing is None:
        priority = CasePriority.HIGH if flagged or source == CaseSource.IOT_ALERT else CasePriority.NORMAL
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    site_id=household.site_id,
                    household=household,
                    area_id=household.area_id,
                    source=source,
                    source_ref=source_ref[:64],
                    priority=priority,
                    assigned_to_id=_default_assignee(household, actor.principal),
                    summary_encrypted=fields.encrypt(summary.strip()),
                    opened_at=now,
                    opened_by_id=user_id,
                    updated_at=now,
                )
        except IntegrityError:
            # Opened concurrently by someone else: the new signal joins that case.
            case = Case.objects.select_for_update().get(household=household, status=CaseStatus.OPEN)
            created = False
    else:
        case = existing
    if created:
        _history(case, CaseEventKind.OPENED, actor, now, source=source, source_ref=source_ref[:64])
        _audit_case(
            actor,
            AuditAction.CREATE,
            case,
            changes={"source": [None, source], "source_ref": [None, source_ref], "summary": [None, summary]},
        )
        _event("case.opened", case, actor, source=source, priority=int(case.priority), needs=flagged)
    else:
        _history(case, CaseEventKind.SOURCE_ADDED, actor, now, source=source, source_ref=source_ref[:64])
        changes: dict[str, Any] = {"source_added": [None, f"{source}:{source_ref}"]}
        if summary.strip():
            # The new signal's description is kept with the case's history, after what was known.
            old = fields.decrypt(case.summary_encrypted)
            case.summary_encrypted = fields.encrypt(f"{old}\n{summary.strip()}".strip())
            case.save(update_fields=["summary_encrypted"])
            changes["summary"] = [old, fields.decrypt(case.summary_encrypted)]
        if flagged and case.priority < CasePriority.HIGH:
            changes["priority"] = [int(case.priority), int(CasePriority.HIGH)]
            case.priority = CasePriority.HIGH
            case.save(update_fields=["priority"])
        _touch(case, now)
        _audit_case(actor, AuditAction.CHANGE, case, changes=changes)
        _event("case.source_added", case, actor, source=source, needs=flagged)
    for domain in flagged:
        NeedAssessment.objects.create(case=case, domain=domain, level=NeedLevel.HIGH, by_id=user_id, at=now)
        _history(case, CaseEventKind.ASSESSED, actor, now, domain=domain, level=int(NeedLevel.HIGH))
    case.household = household
    return _case_view(case, created=created)


@transaction.atomic
def open_verification_task(
    actor: Actor,
    household_id: int,
    *,
    kind: VerificationKind,
    source: str,
    source_ref: str = "",
    note: str = "",
) -> VerificationTaskView:
    """Ask an official to verify a household's address or contact; one open task per household and kind (an open
    one is returned as it is, the new note added to it).

    Who may: as for ``open_case`` — an official or administrator in CASE scope, or a helper for a household
    granted to them (e.g. 'not at this address' on a check-in), who gets no right to see the task list.
    Officials resolve tasks as verified, corrected (the new address or phone recorded in the register) or
    unreachable.
    """
    kind = VerificationKind(kind)
    household = _triggerable_household(actor.principal, household_id)
    now = timezone.now()
    existing = (
        VerificationTask.objects.select_for_update()
        .filter(household=household, kind=kind, status=VerificationStatus.OPEN)
        .first()
    )
    if existing is not None:
        if note.strip():
            old = fields.decrypt(existing.note_encrypted)
            existing.note_encrypted = fields.encrypt(f"{old}\n{note.strip()}".strip())
            existing.save(update_fields=["note_encrypted"])
            audit.log(
                actor,
                AuditAction.CHANGE,
                VERIFICATION,
                object_id=existing.pk,
                household_id=household.pk,
                site_id=household.site_id,
                area_code=household.area_id,
                changes={"note": [old, fields.decrypt(existing.note_encrypted)]},
            )
        existing.household = household
        return _task_view(existing)
    try:
        with transaction.atomic():
            task = VerificationTask.objects.create(
                site_id=household.site_id,
                household=household,
                area_id=household.area_id,
                kind=kind,
                source=source[:20],
                source_ref=source_ref[:64],
                note_encrypted=fields.encrypt(note.strip()),
                assigned_to_id=_default_assignee(household, actor.principal),
                opened_at=now,
                opened_by_id=actor.principal.user_id,
            )
    except IntegrityError:
        task = VerificationTask.objects.get(household=household, kind=kind, status=VerificationStatus.OPEN)
        task.household = household
        return _task_view(task)
    audit.log(
        actor,
        AuditAction.CREATE,
        VERIFICATION,
        object_id=task.pk,
        household_id=household.pk,
        site_id=household.site_id,
        area_code=household.area_id,
        changes={"kind": [None, kind], "source": [None, source], "note": [None, note]},
    )
    events.record(
        "verification.opened",
        site_id=household.site_id,
        area_code=household.area_id,
        household_id=household.pk,
        subject=("verification_task", task.pk),
        actor_role=actor.principal.role or "",
        data={"kind": kind, "source": source[:20]},
    )
    task.household = household
    return _task_view(task, created=True)


# --- reading cases -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilters:
    status: str = CaseStatus.OPEN
    mine: bool = False
    area_code: str = ""
    source: str = ""
    sort: str = "priority"


CASE_SORTS: dict[str, tuple[str, ...]] = {
    "priority": ("-priority", "-updated_at", "-id"),
    "updated": ("-updated_at", "-id"),
}


@dataclass(frozen=True)
class CaseRow:
    id: int
    household_id: int
    household_reference: str
    primary_name: str
    area_code: str
    area_name: str
    source: str
    status: str
    priority: int
    assigned_to_name: str
    opened_at: datetime
    updated_at: datetime
    active_referrals: int
    next_follow_up: date | None


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    total: int
    page: int
    pages: int
    per_page: int


def filtered_cases(principal: Principal, filters: CaseFilters) -> QuerySet[Case]:
    qs = visible_cases(principal)
    if filters.status in CaseStatus.values:
        qs = qs.filter(status=filters.status)
    if filters.mine:
        qs = qs.filter(assigned_to_id=principal.user_id)
    if filters.area_code:
        qs = qs.filter(area_id=filters.area_code)
    if filters.source in CaseSource.values:
        qs = qs.filter(source=filters.source)
    return qs


def list_cases(actor: Actor, filters: CaseFilters, page: int = 1, per_page: int = 25) -> CasePage:
    """One page of cases: ids are picked from the case table alone (indexed), then the page's rows are read with
    the household reference and main resident's name; each household shown is logged."""
    qs = filtered_cases(actor.principal, filters)
    total = qs.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    order = CASE_SORTS.get(filters.sort, CASE_SORTS["priority"])
    ids = list(qs.order_by(*order).values_list("pk", flat=True)[(page - 1) * per_page : page * per_page])
    primary = Person.objects.filter(household=OuterRef("household_id")).order_by("-is_primary", "id")
    referrals = (
        Referral.objects.filter(case_id=OuterRef("pk"), status__in=ACTIVE_REFERRAL)
        .order_by()
        .values("case_id")
        .annotate(n=Count("id"))
    )
    due = (
        FollowUp.objects.filter(case_id=OuterRef("pk"), done_at=None)
        .order_by()
        .values("case_id")
        .annotate(first=Min("due_on"))
    )
    rows_by_id = {
        r["pk"]: r
        for r in Case.objects.filter(pk__in=ids).values(
            "pk",
            "household_id",
            "household__reference",
            "area_id",
            "area__name",
            "source",
            "status",
            "priority",
            "assigned_to__username",
            "opened_at",
            "updated_at",
            primary_name=Subquery(primary.values("name_encrypted")[:1]),
            # Counted per row in the same query: a page is 25 rows, and a query fewer is a millisecond of Python.
            active_referrals=Coalesce(Subquery(referrals.values("n")), 0),
            next_follow_up=Subquery(due.values("first")),
        )
    }
    rows = []
    for cid in ids:
        r = rows_by_id[cid]
        rows.append(
            CaseRow(
                id=cid,
                household_id=r["household_id"],
                household_reference=r["household__reference"],
                primary_name=fields.decrypt(r["primary_name"] or ""),
                area_code=r["area_id"],
                area_name=r["area__name"],
                source=r["source"],
                status=r["status"],
                priority=r["priority"],
                assigned_to_name=r["assigned_to__username"] or "",
                opened_at=r["opened_at"],
                updated_at=r["updated_at"],
                active_referrals=r["active_referrals"],
                next_follow_up=r["next_follow_up"],
            )
        )
    if rows:
        audit.log_many(actor, AuditAction.LIST, CASE, [r.household_id for r in rows], site_id=actor.principal.site_id)
    return CasePage(rows=rows, total=total, page=page, pages=pages, per_page=per_page)


@dataclass(frozen=True)
class NeedView:
    domain: str
    level: int
    note: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ReferralEventView:
    at: datetime
    from_status: str
    to_status: str
    reason: str
    by: str


@dataclass(frozen=True)
class ReferralView:
    id: int
    case_id: int
    household_id: int
    household_reference: str
    service_id: UUID
    service_name: str
    organization_id: UUID
    organization_name: str
    need_domain: str
    status: str
    note: str
    sent_by: str
    sent_at: datetime
    accepted_at: datetime | None
    declined_at: datetime | None
    decline_reason: str
    delivered_at: datetime | None
    closed_at: datetime | None
    unsuccessful_reason: str
    response_note: str
    updated_at: datetime
    next_statuses: list[str]
    history: list[ReferralEventView] = field(default_factory=list)


@dataclass(frozen=True)
class FollowUpView:
    id: int
    case_id: int
    due_on: date
    what: str
    assigned_to_id: int | None
    assigned_to_name: str
    done_at: datetime | None
    result: str
    cancelled: bool
    overdue: bool


@dataclass(frozen=True)
class CaseEventView:
    at: datetime
    kind: str
    by: str
    data: dict[str, Any]


@dataclass(frozen=True)
class CaseDetail:
    id: int
    household_id: int
    household_reference: str
    primary_name: str
    phone: str
    address: str
    area_code: str
    area_name: str
    source: str
    source_ref: str
    status: str
    priority: int
    assigned_to_id: int | None
    assigned_to_name: str
    summary: str
    plan: str
    opened_at: datetime
    opened_by: str
    updated_at: datetime
    closed_at: datetime | None
    outcome: str
    closing_note: str
    needs: list[NeedView]
    assessments: list[NeedView]
    referrals: list[ReferralView]
    follow_ups: list[FollowUpView]
    history: list[CaseEventView]
    partner_sharing_allowed: bool


def _primary(household_id: int) -> Person | None:
    return Person.objects.filter(household_id=household_id).order_by("-is_primary", "id").first()


def _referral_view(r: Referral, with_history: bool = False) -> ReferralView:
    history = (
        [
            ReferralEventView(
                at=e.at,
                from_status=e.from_status,
                to_status=e.to_status,
                reason=e.reason,
                by=e.by.get_username() if e.by else "",
            )
            for e in r.events.select_related("by")
        ]
        if with_history
        else []
    )
    return ReferralView(
        id=r.pk,
        case_id=r.case_id,
        household_id=r.case.household_id,
        household_reference=r.case.household.reference,
        service_id=r.service_id,
        service_name=r.service.name,
        organization_id=r.organization_id,
        organization_name=r.organization.name,
        need_domain=r.need_domain,
        status=r.status,
        note=fields.decrypt(r.note_encrypted),
        sent_by=r.sent_by.get_username() if r.sent_by else "",
        sent_at=r.sent_at,
        accepted_at=r.accepted_at,
        declined_at=r.declined_at,
        decline_reason=fields.decrypt(r.decline_reason_encrypted),
        delivered_at=r.delivered_at,
        closed_at=r.closed_at,
        unsuccessful_reason=r.unsuccessful_reason,
        response_note=fields.decrypt(r.response_note_encrypted),
        updated_at=r.updated_at,
        next_statuses=sorted(TRANSITIONS.get(r.status, frozenset())),
        history=history,
    )


def _follow_up_view(f: FollowUp, today: date) -> FollowUpView:
    return FollowUpView(
        id=f.pk,
        case_id=f.case_id,
        due_on=f.due_on,
        what=fields.decrypt(f.what_encrypted),
        assigned_to_id=f.assigned_to_id,
        assigned_to_name=f.assigned_to.get_username() if f.assigned_to else "",
        done_at=f.done_at,
        result=fields.decrypt(f.result_encrypted),
        cancelled=f.cancelled,
        overdue=f.done_at is None and f.due_on < today,
    )


def _need_view(a: NeedAssessment) -> NeedView:
    return NeedView(
        domain=a.domain,
        level=a.level,
        note=fields.decrypt(a.note_encrypted),
        by=a.by.get_username() if a.by else "",
        at=a.at,
    )


def read_case(actor: Actor, case_id: int) -> CaseDetail:
    case = _scoped_case(actor.principal, case_id, Action.VIEW)
    household = case.household
    person = _primary(household.pk)
    assessments = [_need_view(a) for a in case.assessments.select_related("by").order_by("-at", "-id")]
    latest: dict[str, NeedView] = {}
    for a in assessments:
        latest.setdefault(a.domain, a)
    today = timezone.localdate()
    detail = CaseDetail(
        id=case.pk,
        household_id=household.pk,
        household_reference=household.reference,
        primary_name=fields.decrypt(person.name_encrypted) if person else "",
        phone=format_phone(fields.decrypt(person.phone_encrypted)) if person else "",
        address=" ".join(
            p
            for p in (fields.decrypt(household.address_encrypted), fields.decrypt(household.address_detail_encrypted))
            if p
        ),
        area_code=case.area_id,
        area_name=case.area.name,
        source=case.source,
        source_ref=case.source_ref,
        status=case.status,
        priority=case.priority,
        assigned_to_id=case.assigned_to_id,
        assigned_to_name=_username(case.assigned_to_id),
        summary=fields.decrypt(case.summary_encrypted),
        plan=fields.decrypt(case.plan_encrypted),
        opened_at=case.opened_at,
        opened_by=_username(case.opened_by_id),
        updated_at=case.updated_at,
        closed_at=case.closed_at,
        outcome=case.outcome,
        closing_note=fields.decrypt(case.closing_note_encrypted),
        needs=[latest[d] for d in NeedDomain.values if d in latest],
        assessments=assessments,
        referrals=[
            _referral_view(r, with_history=True)
            for r in case.referrals.select_related("case", "case__household", "service", "organization", "sent_by")
        ],
        follow_ups=[_follow_up_view(f, today) for f in case.follow_ups.select_related("assigned_to")],
        history=[
            CaseEventView(at=e.at, kind=e.kind, by=e.by.get_username() if e.by else "", data=e.data)
            for e in case.events.select_related("by")
        ],
        partner_sharing_allowed=people.processing_allowed(household.pk, ConsentPurpose.PARTNER_SHARING),
    )
    _audit_case(actor, AuditAction.VIEW, case)
    return detail


def household_cases(actor: Actor, household_id: int) -> list[CaseView]:
    """The household's cases, newest first, for its page: codes only, so no access record is needed."""
    qs = visible_cases(actor.principal).filter(household_id=household_id).select_related("household")
    return [_case_view(c) for c in qs.order_by("-opened_at", "-id")]


# --- working on a case -------------------------------------------------------------------------------------


def _open_case_for_change(actor: Actor, case_id: int) -> Case:
    case = _scoped_case(actor.principal, case_id, Action.CHANGE)
    if case.status != CaseStatus.OPEN:
        raise WelfareError("", "case_closed", _("This case is closed; open a new case for new work."))
    return case


@transaction.atomic
def assess(actor: Actor, case_id: int, domain: str, level: int, note: str = "") -> NeedView:
    case = _open_case_for_change(actor, case_id)
    _check_domains([domain])
    if level not in NeedLevel.values:
        raise WelfareError("level", "invalid_level", _("Choose a level from none to critical."))
    now = timezone.now()
    assessment = NeedAssessment.objects.create(
        case=case,
        domain=domain,
        level=level,
        note_encrypted=fields.encrypt(note.strip()),
        by_id=actor.principal.user_id,
        at=now,
    )
    _history(case, CaseEventKind.ASSESSED, actor, now, domain=domain, level=level)
    if level == NeedLevel.CRITICAL and case.priority < CasePriority.URGENT:
        _history(case, CaseEventKind.PRIORITY_CHANGED, actor, now, old=int(case.priority), new=int(CasePriority.URGENT))
        case.priority = CasePriority.URGENT
        case.save(update_fields=["priority"])
    _touch(case, now)
    _audit_case(
        actor,
        AuditAction.CHANGE,
        case,
        resource="need_assessment",
        object_id=assessment.pk,
        changes={"domain": [None, domain], "level": [None, level], "note": [None, note]},
    )
    _event("case.assessed", case, actor, domain=domain, level=level)
    return NeedView(domain=domain, level=level, note=note.strip(), by=actor.principal.username, at=now)


@transaction.atomic
def update_plan(actor: Actor, case_id: int, plan: str) -> str:
    case = _open_case_for_change(actor, case_id)
    old = fields.decrypt(case.plan_encrypted)
    new = plan.strip()
    if old == new:
        return new
    now = timezone.now()
    case.plan_encrypted = fields.encrypt(new)
    case.save(update_fields=["plan_encrypted"])
    _history(case, CaseEventKind.PLAN_CHANGED, actor, now)
    _touch(case, now)
    _audit_case(actor, AuditAction.CHANGE, case, changes={"plan": [old, new]})
    _event("case.plan_changed", case, actor)
    return new


@transaction.atomic
def set_priority(actor: Actor, case_id: int, priority: int) -> CaseView:
    case = _open_case_for_change(actor, case_id)
    if priority not in CasePriority.values:
        raise WelfareError("priority", "invalid_priority", _("Choose a priority from low to urgent."))
    if case.priority != priority:
        now = timezone.now()
        _history(case, CaseEventKind.PRIORITY_CHANGED, actor, now, old=int(case.priority), new=priority)
        _audit_case(actor, AuditAction.CHANGE, case, changes={"priority": [int(case.priority), priority]})
        case.priority = priority
        case.save(update_fields=["priority"])
        _touch(case, now)
        _event("case.priority_changed", case, actor, priority=priority)
    return _case_view(case)


def _check_official(site_id: int, user_id: int, field_name: str) -> None:
    if not Membership.objects.filter(
        user_id=user_id, site_id=site_id, role__in=OFFICIAL_ROLES, user__is_active=True
    ).exists():
        raise WelfareError(field_name, "not_an_official", _("Choose an active official of this site."))


@transaction.atomic
def assign(actor: Actor, case_id: int, user_id: int | None) -> CaseView:
    case = _open_case_for_change(actor, case_id)
    if user_id is not None:
        _check_official(case.site_id, user_id, "assigned_to")
    if case.assigned_to_id != user_id:
        now = timezone.now()
        _history(case, CaseEventKind.ASSIGNED, actor, now, old=case.assigned_to_id, new=user_id)
        _audit_case(actor, AuditAction.CHANGE, case, changes={"assigned_to": [case.assigned_to_id, user_id]})
        case.assigned_to_id = user_id
        case.save(update_fields=["assigned_to"])
        _touch(case, now)
        _event("case.assigned", case, actor)
    return _case_view(case)


@transaction.atomic
def close_case(actor: Actor, case_id: int, outcome: str, note: str = "") -> CaseView:
    """Close with an outcome. Referrals still in progress must be answered or closed first; open follow-ups are
    closed with the case (marked cancelled). 'Referred and served' needs a delivered referral."""
    case = _open_case_for_change(actor, case_id)
    if outcome not in CaseOutcome.values:
        raise WelfareError("outcome", "invalid_outcome", _("Choose how the case ended."))
    if case.referrals.filter(status__in=ACTIVE_REFERRAL).exists():
        raise WelfareError(
            "outcome", "referrals_open", _("Referrals are still in progress: close or complete them first.")
        )
    if (
        outcome == CaseOutcome.REFERRED_AND_SERVED
        and not case.referrals.filter(status=ReferralStatus.DELIVERED).exists()
    ):
        raise WelfareError(
            "outcome", "no_service_delivered", _("No referral of this case was delivered; choose another outcome.")
        )
    now = timezone.now()
    cancelled = case.follow_ups.filter(done_at=None).update(
        done_at=now, done_by_id=actor.principal.user_id, cancelled=True
    )
    case.status = CaseStatus.CLOSED
    case.outcome = outcome
    case.closed_at = now
    case.closed_by_id = actor.principal.user_id
    case.closing_note_encrypted = fields.encrypt(note.strip())
    case.updated_at = now
    case.save(update_fields=["status", "outcome", "closed_at", "closed_by", "closing_note_encrypted", "updated_at"])
    _history(case, CaseEventKind.CLOSED, actor, now, outcome=outcome, follow_ups_cancelled=cancelled)
    _audit_case(
        actor,
        AuditAction.CHANGE,
        case,
        changes={"status": [CaseStatus.OPEN, CaseStatus.CLOSED], "outcome": [None, outcome], "note": [None, note]},
    )
    _event("case.closed", case, actor, outcome=outcome, days_open=(now - case.opened_at).days)
    return _case_view(case)


# --- referrals ---------------------------------------------------------------------------------------------


@transaction.atomic
def send_referral(
    actor: Actor, case_id: int, service_id: UUID | str, *, need_domain: str = "", note: str = ""
) -> ReferralView:
    """Refer the case to a partner organisation's service. The household's consent to sharing with partner
    organisations is checked first, and the consent row in force is kept with the referral."""
    principal = actor.principal
    if not principal.can(Resource.REFERRAL, Action.CREATE):
        raise CaseNotFound(case_id)
    case = _open_case_for_change(actor, case_id)
    if not people.processing_allowed(case.household_id, ConsentPurpose.PARTNER_SHARING):
        raise WelfareError(
            "service_id",
            "consent_required",
            _(
                "The household has not consented to sharing with welfare organisations: record the consent "
                "before referring."
            ),
        )
    consent = (
        Consent.objects.filter(
            household_id=case.household_id, purpose=ConsentPurpose.PARTNER_SHARING, withdrawn_at=None
        )
        .order_by("-given_on", "-id")
        .first()
    )
    if need_domain:
        _check_domains([need_domain])
    service = directory.service_ref(service_id)  # NotFound unless active
    if service.site_id != case.site_id:
        raise NotFound("service", service_id)
    if case.referrals.filter(service_id=service.id, status__in=ACTIVE_REFERRAL).exists():
        raise WelfareError("service_id", "already_referred", _("This case is already referred to this service."))
    now = timezone.now()
    referral = Referral.objects.create(
        case=case,
        service_id=service.id,
        organization_id=service.organization_id,
        need_domain=need_domain,
        note_encrypted=fields.encrypt(note.strip()),
        consent=consent,
        sent_by_id=principal.user_id,
        sent_at=now,
        updated_at=now,
    )
    ReferralEvent.objects.create(referral=referral, at=now, to_status=ReferralStatus.SENT, by_id=principal.user_id)
    _history(
        case,
        CaseEventKind.REFERRAL,
        actor,
        now,
        referral=referral.pk,
        status=ReferralStatus.SENT,
        organization=str(service.organization_id),
    )
    _touch(case, now)
    _audit_case(
        actor,
        AuditAction.CREATE,
        case,
        resource=REFERRAL,
        object_id=referral.pk,
        changes={
            "service": [None, str(service.id)],
            "organization": [None, str(service.organization_id)],
            "consent": [None, consent.pk if consent else None],
            "note": [None, note],
        },
    )
    _event(
        "referral.sent",
        case,
        actor,
        subject=("referral", referral.pk),
        organization=str(service.organization_id),
        service=str(service.id),
        need_domain=need_domain,
    )
    return _referral_view(
        Referral.objects.select_related("case__household", "service", "organization", "sent_by").get(pk=referral.pk)
    )


@transaction.atomic
def transition_referral(
    actor: Actor, referral_id: int, to_status: str, *, reason: str = "", note: str = ""
) -> ReferralView:
    """Move a referral along sent → accepted / declined → delivered, or close it unsuccessful with a reason.

    A decline needs a reason in words (``note``); an unsuccessful closure needs a reason code (``reason``:
    client_refused, no_capacity, unable_to_contact, no_longer_needed). Any other change is refused with
    ``invalid_transition``.
    """
    referral = _scoped_referral(actor.principal, referral_id, Action.CHANGE)
    Referral.objects.select_for_update().filter(pk=referral.pk).first()
    referral.refresh_from_db(fields=["status"])
    current = referral.status
    if to_status not in ReferralStatus.values or to_status not in TRANSITIONS.get(current, frozenset()):
        raise WelfareError(
            "status",
            "invalid_transition",
            _("A referral that is %(current)s cannot become %(new)s.")
            % {"current": ReferralStatus(current).label, "new": _label(ReferralStatus, to_status)},
        )
    now = timezone.now()
    updated = ["status", "updated_at"]
    if to_status == ReferralStatus.ACCEPTED:
        referral.accepted_at = now
        updated.append("accepted_at")
    elif to_status == ReferralStatus.DECLINED:
        if not note.strip():
            raise WelfareError("note", "reason_required", _("Say why the referral is declined."))
        referral.declined_at = now
        referral.decline_reason_encrypted = fields.encrypt(note.strip())
        updated += ["declined_at", "decline_reason_encrypted"]
    elif to_status == ReferralStatus.DELIVERED:
        referral.delivered_at = now
        referral.response_note_encrypted = fields.encrypt(note.strip())
        updated += ["delivered_at", "response_note_encrypted"]
    else:
        if reason not in UnsuccessfulReason.values:
            raise WelfareError("reason", "reason_required", _("Choose why the referral ended without service."))
        referral.closed_at = now
        referral.unsuccessful_reason = reason
        referral.response_note_encrypted = fields.encrypt(note.strip())
        updated += ["closed_at", "unsuccessful_reason", "response_note_encrypted"]
    referral.status = to_status
    referral.updated_at = now
    referral.save(update_fields=updated)
    # An accepted referral holds one of the service's places until it is delivered or closed.
    if to_status == ReferralStatus.ACCEPTED:
        directory.adjust_places_in_use(referral.service_id, 1)
    elif current == ReferralStatus.ACCEPTED:
        directory.adjust_places_in_use(referral.service_id, -1)
    code = reason if to_status == ReferralStatus.CLOSED_UNSUCCESSFUL else ""
    ReferralEvent.objects.create(
        referral=referral, at=now, from_status=current, to_status=to_status, reason=code, by_id=actor.principal.user_id
    )
    case = referral.case
    _history(case, CaseEventKind.REFERRAL, actor, now, referral=referral.pk, status=to_status, reason=code)
    _touch(case, now)
    _audit_case(
        actor,
        AuditAction.CHANGE,
        case,
        resource=REFERRAL,
        object_id=referral.pk,
        changes={"status": [current, to_status], "reason": [None, code or None], "note": [None, note or None]},
    )
    _event(
        f"referral.{to_status}",
        case,
        actor,
        subject=("referral", referral.pk),
        organization=str(referral.organization_id),
        reason=code,
    )
    return _referral_view(referral, with_history=True)


def _label(choices: Any, value: str) -> str:
    return str(dict(choices.choices).get(value, value))


def list_case_referrals(actor: Actor, status: str = "") -> list[ReferralView]:
    """Referrals in the reader's scope, newest change first (officials: their areas)."""
    qs = visible_referrals(actor.principal).select_related("case__household", "service", "organization", "sent_by")
    if status in ReferralStatus.values:
        qs = qs.filter(status=status)
    rows = [_referral_view(r) for r in qs.order_by("-updated_at", "-id")[:200]]
    if rows:
        audit.log_many(
            actor, AuditAction.LIST, REFERRAL, [r.household_id for r in rows], site_id=actor.principal.site_id
        )
    return rows


@dataclass(frozen=True)
class PartnerReferral:
    """What partner staff see of a referral: the minimum to act on it, not the household record."""

    id: int
    household_reference: str
    name: str
    phone: str
    address: str
    need_domain: str
    note: str
    service_name: str
    organization_name: str
    status: str
    sent_at: datetime
    updated_at: datetime
    decline_reason: str
    unsuccessful_reason: str
    response_note: str
    next_statuses: list[str]


def _partner_referral(r: Referral, person: Person | None) -> PartnerReferral:
    household = r.case.household
    return PartnerReferral(
        id=r.pk,
        household_reference=household.reference,
        name=fields.decrypt(person.name_encrypted) if person else "",
        phone=format_phone(fields.decrypt(person.phone_encrypted)) if person else "",
        address=" ".join(
            p
            for p in (fields.decrypt(household.address_encrypted), fields.decrypt(household.address_detail_encrypted))
            if p
        ),
        need_domain=r.need_domain,
        note=fields.decrypt(r.note_encrypted),
        service_name=r.service.name,
        organization_name=r.organization.name,
        status=r.status,
        sent_at=r.sent_at,
        updated_at=r.updated_at,
        decline_reason=fields.decrypt(r.decline_reason_encrypted),
        unsuccessful_reason=r.unsuccessful_reason,
        response_note=fields.decrypt(r.response_note_encrypted),
        next_statuses=sorted(TRANSITIONS.get(r.status, frozenset())),
    )


@dataclass(frozen=True)
class PartnerInboxRow:
    id: int
    household_reference: str
    name: str
    need_domain: str
    service_name: str
    organization_name: str
    status: str
    sent_at: datetime
    updated_at: datetime


def referral_inbox(
    actor: Actor, status: str = "", page: int = 1, per_page: int = 25
) -> tuple[list[PartnerInboxRow], int]:
    """A partner's referrals (or an official's, in their areas), newest change first; each household shown is
    logged. Returns the page and the total."""
    qs = visible_referrals(actor.principal)
    if status in ReferralStatus.values:
        qs = qs.filter(status=status)
    total = qs.count()
    page = max(1, page)
    primary = Person.objects.filter(household=OuterRef("case__household_id")).order_by("-is_primary", "id")
    rows = list(
        qs.order_by("-updated_at", "-id").values(
            "pk",
            "case__household_id",
            "case__household__reference",
            "need_domain",
            "service__name",
            "organization__name",
            "status",
            "sent_at",
            "updated_at",
            primary_name=Subquery(primary.values("name_encrypted")[:1]),
        )[(page - 1) * per_page : page * per_page]
    )
    if rows:
        audit.log_many(
            actor, AuditAction.LIST, REFERRAL, [r["case__household_id"] for r in rows], site_id=actor.principal.site_id
        )
    return [
        PartnerInboxRow(
            id=r["pk"],
            household_reference=r["case__household__reference"],
            name=fields.decrypt(r["primary_name"] or ""),
            need_domain=r["need_domain"],
            service_name=r["service__name"],
            organization_name=r["organization__name"],
            status=r["status"],
            sent_at=r["sent_at"],
            updated_at=r["updated_at"],
        )
        for r in rows
    ], total


def read_referral(actor: Actor, referral_id: int) -> PartnerReferral:
    """One referral with the minimum personal data to act on it; the read is logged against the household."""
    referral = _scoped_referral(actor.principal, referral_id, Action.VIEW)
    view = _partner_referral(referral, _primary(referral.case.household_id))
    _audit_case(actor, AuditAction.VIEW, referral.case, resource=REFERRAL, object_id=referral.pk)
    return view


# --- follow-ups --------------------------------------------------------------------------------------------


@transaction.atomic
def add_follow_up(
    actor: Actor, case_id: int, *, due_on: date, what: str, assigned_to_id: int | None = None
) -> FollowUpView:
    case = _open_case_for_change(actor, case_id)
    if not what.strip():
        raise WelfareError("what", "required", _("Say what is to be done."))
    if due_on < timezone.localdate():
        raise WelfareError("due_on", "in_past", _("The due date is in the past."))
    assignee = assigned_to_id if assigned_to_id is not None else case.assigned_to_id or actor.principal.user_id
    if assignee is not None:
        _check_official(case.site_id, assignee, "assigned_to")
    now = timezone.now()
    follow_up = FollowUp.objects.create(
        case=case,
        due_on=due_on,
        what_encrypted=fields.encrypt(what.strip()),
        assigned_to_id=assignee,
        created_by_id=actor.principal.user_id,
        created_at=now,
    )
    _history(case, CaseEventKind.FOLLOW_UP, actor, now, follow_up=follow_up.pk, due_on=due_on.isoformat())
    _touch(case, now)
    _audit_case(
        actor,
        AuditAction.CREATE,
        case,
        resource=FOLLOW_UP,
        object_id=follow_up.pk,
        changes={"due_on": [None, due_on.isoformat()], "what": [None, what]},
    )
    _event("case.follow_up_added", case, actor, subject=("follow_up", follow_up.pk), due_on=due_on.isoformat())
    return _follow_up_view(FollowUp.objects.select_related("assigned_to").get(pk=follow_up.pk), timezone.localdate())


@transaction.atomic
def complete_follow_up(actor: Actor, follow_up_id: int, result: str) -> FollowUpView:
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .filter(pk=follow_up_id, case__in=visible_cases(actor.principal, Action.CHANGE))
        .select_related("case", "assigned_to")
        .first()
    )
    if follow_up is None:
        raise NotFound("follow_up", follow_up_id)
    if follow_up.done_at is not None:
        raise WelfareError("", "already_done", _("This follow-up is already done."))
    now = timezone.now()
    follow_up.done_at = now
    follow_up.done_by_id = actor.principal.user_id
    follow_up.result_encrypted = fields.encrypt(result.strip())
    follow_up.save(update_fields=["done_at", "done_by", "result_encrypted"])
    case = follow_up.case
    _history(case, CaseEventKind.FOLLOW_UP, actor, now, follow_up=follow_up.pk, done=True)
    _touch(case, now)
    _audit_case(
        actor, AuditAction.CHANGE, case, resource=FOLLOW_UP, object_id=follow_up.pk, changes={"result": [None, result]}
    )
    _event("case.follow_up_done", case, actor, subject=("follow_up", follow_up.pk), late=follow_up.due_on < now.date())
    return _follow_up_view(follow_up, timezone.localdate())


def my_follow_ups(actor: Actor) -> list[FollowUpView]:
    """Open follow-ups assigned to the reader, soonest first (their text is personal data: logged)."""
    qs = (
        FollowUp.objects.filter(
            assigned_to_id=actor.principal.user_id, done_at=None, case__in=visible_cases(actor.principal)
        )
        .select_related("assigned_to", "case")
        .order_by("due_on", "id")[:100]
    )
    rows = list(qs)
    if rows:
        audit.log_many(actor, AuditAction.LIST, FOLLOW_UP, [f.case.household_id for f in rows])
    today = timezone.localdate()
    return [_follow_up_view(f, today) for f in rows]


# --- verification tasks ------------------------------------------------------------------------------------


def list_verification_tasks(actor: Actor, status: str = VerificationStatus.OPEN) -> list[VerificationTaskView]:
    qs = visible_verification_tasks(actor.principal).select_related("household")
    if status in VerificationStatus.values:
        qs = qs.filter(status=status)
    rows = [_task_view(t) for t in qs.order_by("opened_at", "id")[:200]]
    if rows:
        audit.log_many(actor, AuditAction.LIST, VERIFICATION, [t.household_id for t in rows])
    return rows


def read_verification_task(actor: Actor, task_id: int) -> VerificationTaskView:
    task = visible_verification_tasks(actor.principal).filter(pk=task_id).select_related("household").first()
    if task is None:
        raise NotFound("verification_task", task_id)
    audit.log(
        actor,
        AuditAction.VIEW,
        VERIFICATION,
        object_id=task.pk,
        household_id=task.household_id,
        site_id=task.site_id,
        area_code=task.area_id,
    )
    return _task_view(task)


@transaction.atomic
def resolve_verification_task(
    actor: Actor,
    task_id: int,
    *,
    resolution: str,
    note: str = "",
    address: str = "",
    address_detail: str = "",
    phone: str = "",
) -> VerificationTaskView:
    """Resolve as verified, unreachable, or corrected — a correction records the new address (address tasks) or
    the main resident's new phone (contact tasks) in the register through the registry's own actions."""
    task = (
        visible_verification_tasks(actor.principal, Action.CHANGE)
        .select_for_update()
        .filter(pk=task_id)
        .select_related("household")
        .first()
    )
    if task is None:
        raise NotFound("verification_task", task_id)
    if task.status != VerificationStatus.OPEN:
        raise WelfareError("", "already_resolved", _("This task is already resolved."))
    if resolution not in VerificationResolution.values:
        raise WelfareError("resolution", "invalid_resolution", _("Choose verified, corrected or unreachable."))
    if resolution == VerificationResolution.CORRECTED:
        if task.kind == VerificationKind.ADDRESS:
            if not address.strip():
                raise WelfareError("address", "required", _("Enter the correct address."))
            people.update_household(
                actor,
                task.household_id,
                HouseholdChange(address=address.strip(), address_detail=address_detail.strip()),
            )
        else:
            if not phone.strip():
                raise WelfareError("phone", "required", _("Enter the correct phone number."))
            _correct_phone(actor, task.household_id, phone)
    now = timezone.now()
    task.status = VerificationStatus.RESOLVED
    task.resolution = resolution
    task.resolved_at = now
    task.resolved_by_id = actor.principal.user_id
    task.resolution_note_encrypted = fields.encrypt(note.strip())
    task.save(update_fields=["status", "resolution", "resolved_at", "resolved_by", "resolution_note_encrypted"])
    audit.log(
        actor,
        AuditAction.CHANGE,
        VERIFICATION,
        object_id=task.pk,
        household_id=task.household_id,
        site_id=task.site_id,
        area_code=task.area_id,
        changes={"resolution": [None, resolution], "note": [None, note or None]},
    )
    events.record(
        "verification.resolved",
        site_id=task.site_id,
        area_code=task.area_id,
        household_id=task.household_id,
        subject=("verification_task", task.pk),
        actor_role=actor.principal.role or "",
        data={"kind": task.kind, "resolution": resolution},
    )
    return _task_view(task)


def _correct_phone(actor: Actor, household_id: int, phone: str) -> None:
    try:
        digits = canonical_phone(phone)
    except Exception as exc:
        raise WelfareError("phone", "invalid_phone", _("Enter a Korean phone number, e.g. 010-1234-5678.")) from exc
    household = people.read_household(actor, household_id)
    person = next((p for p in household.persons if p.is_primary), None)
    if person is None:
        raise WelfareError("phone", "no_resident", _("The household has no main resident to correct."))
    people.update_person(
        actor,
        household_id,
        person.id,
        PersonInput(
            name=person.name,
            birth_year=person.birth_year,
            sex=person.sex,
            phone=digits,
            conditions=person.conditions,
            condition_note=person.condition_note,
        ),
    )


# --- handover ----------------------------------------------------------------------------------------------


@transaction.atomic
def hand_over(actor: Actor, from_user_id: int, to_user_id: int) -> dict[str, int]:
    """Move an official's open cases, open follow-ups and open verification tasks to their successor in one step.

    The site administrator hands over anyone's work in the site; an official hands over their own work (within
    their areas). The successor must be an active official of the same site. Each moved case records the
    handover in its history; the whole handover is one access record with the counts.
    """
    principal = actor.principal
    scope = principal.scope(Resource.CASE, Action.CHANGE)
    if scope is None or principal.site_id is None:
        raise NotFound("user", from_user_id)
    if scope != Scope.SITE and from_user_id != principal.user_id:
        raise WelfareError("from_user_id", "not_yours", _("Officials hand over their own work only."))
    if from_user_id == to_user_id:
        raise WelfareError("to_user_id", "same_person", _("Choose a different successor."))
    _check_official(principal.site_id, to_user_id, "to_user_id")
    cases = visible_cases(principal, Action.CHANGE).filter(assigned_to_id=from_user_id, status=CaseStatus.OPEN)
    case_ids = list(cases.values_list("pk", flat=True))
    now = timezone.now()
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=cid,
                at=now,
                kind=CaseEventKind.HANDED_OVER,
                by_id=principal.user_id,
                data={"old": from_user_id, "new": to_user_id},
            )
            for cid in case_ids
        ]
    )
    moved_cases = Case.objects.filter(pk__in=case_ids).update(assigned_to_id=to_user_id, updated_at=now)
    moved_follow_ups = FollowUp.objects.filter(
        assigned_to_id=from_user_id, done_at=None, case__in=visible_cases(principal, Action.CHANGE)
    ).update(assigned_to_id=to_user_id)
    moved_tasks = (
        visible_verification_tasks(principal, Action.CHANGE)
        .filter(assigned_to_id=from_user_id, status=VerificationStatus.OPEN)
        .update(assigned_to_id=to_user_id)
    )
    counts = {"cases": moved_cases, "follow_ups": moved_follow_ups, "verification_tasks": moved_tasks}
    audit.log(
        actor,
        AuditAction.CHANGE,
        HANDOVER,
        object_id=from_user_id,
        site_id=principal.site_id,
        record_count=sum(counts.values()),
        changes={"assigned_to": [from_user_id, to_user_id], **{k: [0, v] for k, v in counts.items()}},
    )
    events.record(
        "case.handed_over",
        site_id=principal.site_id,
        subject=("user", from_user_id),
        actor_role=principal.role or "",
        data=counts,
    )
    return counts


# --- the household timeline --------------------------------------------------------------------------------


def household_case_entries(actor: Actor, household_id: int) -> list[TimelineEntry]:
    """The household's cases for its timeline: cases opened and closed, new signals, referral state changes and
    follow-ups, newest first. Empty for readers without CASE view over the household; logged when shown."""
    cases = list(visible_cases(actor.principal).filter(household_id=household_id).select_related("household"))
    if not cases:
        return []
    by_id = {c.pk: c for c in cases}
    entries: list[TimelineEntry] = []
    for e in CaseEvent.objects.filter(case_id__in=by_id).order_by("-at", "-id"):
        url = reverse("case_detail", args=[e.case_id])
        if e.kind == CaseEventKind.OPENED:
            entries.append(
                TimelineEntry(e.at, "case_opened", _("Case opened"), _label(CaseSource, e.data.get("source", "")), url)
            )
        elif e.kind == CaseEventKind.SOURCE_ADDED:
            entries.append(
                TimelineEntry(
                    e.at, "case_signal", _("New signal on the case"), _label(CaseSource, e.data.get("source", "")), url
                )
            )
        elif e.kind == CaseEventKind.CLOSED:
            entries.append(
                TimelineEntry(
                    e.at, "case_closed", _("Case closed"), _label(CaseOutcome, e.data.get("outcome", "")), url
                )
            )
    referrals = Referral.objects.filter(case_id__in=by_id).select_related("service", "organization")
    names = {r.pk: f"{r.organization.name} · {r.service.name}" for r in referrals}
    for re in ReferralEvent.objects.filter(referral_id__in=names).select_related("referral").order_by("-at", "-id"):
        title = _("Referral: %(status)s") % {"status": _label(ReferralStatus, re.to_status)}
        detail = names[re.referral_id]
        if re.reason:
            detail = f"{detail} ({_label(UnsuccessfulReason, re.reason)})"
        entries.append(
            TimelineEntry(
                re.at, f"referral_{re.to_status}", title, detail, reverse("case_detail", args=[re.referral.case_id])
            )
        )
    for f in FollowUp.objects.filter(case_id__in=by_id).order_by("-created_at"):
        url = reverse("case_detail", args=[f.case_id])
        entries.append(
            TimelineEntry(
                f.created_at,
                "follow_up_planned",
                _("Follow-up planned"),
                _("due %(date)s") % {"date": f.due_on.isoformat()},
                url,
            )
        )
        if f.done_at is not None and not f.cancelled:
            entries.append(TimelineEntry(f.done_at, "follow_up_done", _("Follow-up done"), "", url))
    entries.sort(key=lambda t: t.at, reverse=True)
    case = cases[0]
    audit.log(
        actor,
        AuditAction.VIEW,
        CASE,
        object_id=",".join(str(c) for c in sorted(by_id))[:64],
        household_id=household_id,
        site_id=case.site_id,
        area_code=case.area_id,
        record_count=len(cases),
    )
    return entries


# --- read-only figures for screening ---------------------------------------------------------------------------


def households_with_open_case(household_ids: list[int]) -> set[int]:
    """For screening: households already followed by an open case (they are skipped from outreach lists)."""
    return set(
        Case.objects.filter(household_id__in=household_ids, status=CaseStatus.OPEN).values_list(
            "household_id", flat=True
        )
    )


def cases_with_support(case_ids: list[int]) -> set[int]:
    """For screening's programme figures: cases that led to support — a referral delivered, or closed as needs
    met / referred and served (a service recorded)."""
    delivered = Referral.objects.filter(case_id__in=case_ids, status=ReferralStatus.DELIVERED).values_list(
        "case_id", flat=True
    )
    served = Case.objects.filter(
        pk__in=case_ids, outcome__in=[CaseOutcome.NEEDS_MET, CaseOutcome.REFERRED_AND_SERVED]
    ).values_list("pk", flat=True)
    return set(delivered) | set(served)

"""The programme's services: calls, applications and their checks, expert evaluation, selection and allocation,
grants and their execution, and sites' results against their baselines.

Every step is checked against the actor's scope, written to the access record, appended to the programme's own
ledger (``Record``) and recorded as a domain event (codes only). Nothing here reads a resident's record: results
come from the other apps' ``programme_figures`` through the KPI registry.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.accounts.roles import Role
from maeul.areas.models import Area, AreaLevel
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.events import services as events
from maeul.programme import evaluation, kpis
from maeul.programme.errors import ApplicationProblem, NotFound, ProgrammeError
from maeul.programme.models import (
    Application,
    ApplicationStatus,
    Attachment,
    AttachmentKind,
    Baseline,
    BudgetLine,
    Call,
    CallStatus,
    ConflictDeclaration,
    Criterion,
    Expert,
    Grant,
    GrantLine,
    KpiTarget,
    Notice,
    Panel,
    QuarterlyReport,
    Record,
    RecordKind,
    Result,
    Scoresheet,
    Spending,
)
from maeul.programme.schemas import ApplicationInput, CallInput, QuarterlyReportInput, SpendingInput
from maeul.sites.models import Site

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ATTACHMENT_TYPES = {
    "application/pdf": ".pdf",
    "application/x-hwp": ".hwp",
    "application/haansofthwp": ".hwp",
    "application/vnd.hancom.hwpx": ".hwpx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "image/jpeg": ".jpg",
    "image/png": ".png",
}
MIN_PLAN_CHARACTERS = 200


def _now() -> datetime:
    return timezone.now()


def _krw(amount: int) -> str:
    return f"{amount:,}"


# --- scope -------------------------------------------------------------------------------------------------------


def local_government_code(principal: Principal) -> str | None:
    """The si/gun/gu a principal acts for in the programme: a local government officer's one area, or the si/gun/gu
    of a site administrator's site."""
    if principal.role == Role.LOCAL_GOVERNMENT:
        return next(iter(principal.area_codes), None)
    if principal.role == Role.SITE_ADMIN and principal.site_id is not None:
        return Site.objects.filter(pk=principal.site_id).values_list("sigungu_id", flat=True).first()
    return None


def expert_of(principal: Principal) -> Expert | None:
    if principal.role != Role.EXPERT or principal.user_id is None:
        return None
    return Expert.objects.filter(account_id=principal.user_id).first()


def _require(principal: Principal, resource: Resource, action: Action) -> Scope:
    scope = principal.scope(resource, action)
    if scope is None:
        raise ProgrammeError("", "forbidden", _("Your role may not do this."))
    return scope


def visible_applications(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Application]:
    qs = Application.objects.select_related("call", "local_government")
    scope = principal.scope(Resource.APPLICATION, action)
    if scope == Scope.ALL:
        return qs
    if scope == Scope.LOCAL_GOVERNMENT:
        code = local_government_code(principal)
        return qs.filter(local_government_id=code) if code else qs.none()
    if scope == Scope.GRANTED:
        expert = expert_of(principal)
        if expert is None:
            return qs.none()
        return qs.filter(panel__experts=expert, status__in=_EVALUATED).distinct()
    return qs.none()


_EVALUATED = (ApplicationStatus.SUBMITTED, ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED)


def visible_grants(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Grant]:
    qs = Grant.objects.select_related("application__call", "application__local_government", "site")
    scope = principal.scope(Resource.GRANT, action)
    if scope == Scope.ALL:
        return qs
    if scope == Scope.LOCAL_GOVERNMENT:
        code = local_government_code(principal)
        return qs.filter(application__local_government_id=code) if code else qs.none()
    return qs.none()


def _application(principal: Principal, application_id: int, action: Action) -> Application:
    found = visible_applications(principal, action).filter(pk=application_id).first()
    if found is None:
        raise NotFound("application", application_id)
    return found


def _call(call_id: int) -> Call:
    found = Call.objects.filter(pk=call_id).first()
    if found is None:
        raise NotFound("call", call_id)
    return found


def _record(actor: Actor, call: Call, kind: RecordKind, application: Application | None = None, **data: Any) -> Record:
    record = Record.objects.create(
        call=call,
        application=application,
        kind=kind,
        at=_now(),
        actor_username=actor.principal.username,
        actor_role=actor.principal.role or "",
        data=data,
    )
    events.record(
        f"programme.{kind}",
        site_id=None,
        subject=("application", application.pk) if application else ("call", call.pk),
        actor_role=actor.principal.role or "",
        data={"call": call.pk, **{k: v for k, v in data.items() if isinstance(v, int | float | str | bool)}},
    )
    return record


# --- calls ------------------------------------------------------------------------------------------------------


def default_call(year: int, opens_on: date) -> CallInput:
    """A call with the announcement's defaults: four weeks to apply, three to evaluate, results a week later,
    execution to the year's end."""
    closes = opens_on + timedelta(days=28)
    return CallInput(
        year=year,
        title=f"{year}년 스마트 읍·면·동 복지·안전 서비스 개선 모델 공모",
        opens_on=opens_on,
        closes_on=closes,
        evaluation_due_on=closes + timedelta(days=21),
        results_on=closes + timedelta(days=28),
        execution_ends_on=date(year, 12, 31)
        if date(year, 12, 31) >= closes + timedelta(days=28)
        else closes + timedelta(days=300),
    )


_CALL_FIELDS = [name for name in CallInput.model_fields if name not in ("criteria", "bands", "required_attachments")]


@transaction.atomic
def create_call(actor: Actor, data: CallInput) -> Call:
    _require(actor.principal, Resource.PROGRAMME_CALL, Action.CREATE)
    call = Call.objects.create(
        **{name: getattr(data, name) for name in _CALL_FIELDS},
        bands=[b.model_dump() for b in data.bands],
        required_attachments=[str(k) for k in data.required_attachments],
        created_by_id=actor.principal.user_id,
    )
    _set_criteria(call, data)
    audit.log(actor, AuditAction.CREATE, "programme_call", object_id=call.pk)
    _record(actor, call, RecordKind.CALL_CREATED, year=call.year)
    return call


def _set_criteria(call: Call, data: CallInput) -> None:
    call.criteria.all().delete()
    Criterion.objects.bulk_create(
        [
            Criterion(call=call, code=c.code, name=c.name, description=c.description, points=c.points, position=i)
            for i, c in enumerate(data.criteria)
        ]
    )


def call_input(call: Call) -> CallInput:
    """A stored call as its input, e.g. to edit it."""
    return CallInput.model_validate(
        {
            **{name: getattr(call, name) for name in _CALL_FIELDS},
            "bands": call.bands,
            "required_attachments": call.required_attachments,
            "criteria": [
                {"code": c.code, "name": c.name, "description": c.description, "points": c.points}
                for c in call.criteria.all()
            ],
        }
    )


@transaction.atomic
def update_call(actor: Actor, call_id: int, data: CallInput) -> Call:
    """A draft call changes freely; once open, applicants rely on it, so it no longer changes."""
    _require(actor.principal, Resource.PROGRAMME_CALL, Action.CHANGE)
    call = _call(call_id)
    if call.status != CallStatus.DRAFT:
        raise ProgrammeError("status", "call_not_draft", _("Only a draft call can be changed; this one is open."))
    before = call_input(call).model_dump(mode="json")
    for name in _CALL_FIELDS:
        setattr(call, name, getattr(data, name))
    call.bands = [b.model_dump() for b in data.bands]
    call.required_attachments = [str(k) for k in data.required_attachments]
    call.save()
    _set_criteria(call, data)
    changes = audit.diff(before, data.model_dump(mode="json"))
    audit.log(actor, AuditAction.CHANGE, "programme_call", object_id=call.pk, changes=changes)
    _record(actor, call, RecordKind.CALL_CHANGED, fields=",".join(sorted(changes)))
    return call


@transaction.atomic
def open_call(actor: Actor, call_id: int) -> Call:
    _require(actor.principal, Resource.PROGRAMME_CALL, Action.CHANGE)
    call = _call(call_id)
    if call.status != CallStatus.DRAFT:
        raise ProgrammeError("status", "call_not_draft", _("This call is already open."))
    call.status = CallStatus.OPEN
    call.save(update_fields=["status"])
    audit.log(actor, AuditAction.CHANGE, "programme_call", object_id=call.pk, changes={"status": ["draft", "open"]})
    _record(actor, call, RecordKind.CALL_OPENED)
    return call


@transaction.atomic
def close_call(actor: Actor, call_id: int, today: date | None = None) -> Call:
    """After the deadline: submitted applications go to evaluation; drafts left unsubmitted are not considered."""
    _require(actor.principal, Resource.PROGRAMME_CALL, Action.CHANGE)
    call = _call(call_id)
    today = today or timezone.localdate()
    if call.status != CallStatus.OPEN:
        raise ProgrammeError("status", "call_not_open", _("Only an open call can be closed."))
    if today <= call.closes_on:
        raise ProgrammeError(
            "closes_on",
            "deadline_not_passed",
            _("Applications may be submitted until %(day)s; close the call after that.")
            % {"day": call.closes_on.strftime("%Y.%m.%d")},
        )
    call.status = CallStatus.EVALUATION
    call.save(update_fields=["status"])
    audit.log(
        actor, AuditAction.CHANGE, "programme_call", object_id=call.pk, changes={"status": ["open", "evaluation"]}
    )
    counts = {s: call.applications.filter(status=s).count() for s in ApplicationStatus.values}
    _record(actor, call, RecordKind.CALL_CLOSED, None, **{f"applications_{k}": v for k, v in counts.items() if v})
    return call


# --- applications -----------------------------------------------------------------------------------------------


def _local_government_areas(code: str) -> QuerySet[Area]:
    """The current eup/myeon/dong of a si/gun/gu (a city with districts includes its districts' ones)."""
    return Area.objects.filter(level=AreaLevel.EMD, abolished=False).filter(
        Q(parent_id=code) | Q(parent__parent_id=code)
    )


def _write_application(application: Application, data: ApplicationInput) -> None:
    areas = list(Area.objects.filter(code__in=data.target_area_codes))
    unknown = sorted(set(data.target_area_codes) - {a.code for a in areas})
    if unknown:
        raise ProgrammeError(
            "target_area_codes",
            "unknown_area",
            _("No eup/myeon/dong has the code %(codes)s.") % {"codes": ", ".join(unknown)},
        )
    application.programme_type = data.programme_type
    application.title = data.title
    application.plan = data.plan
    application.save()
    application.target_areas.set(areas)
    application.budget_lines.all().delete()
    BudgetLine.objects.bulk_create(
        [BudgetLine(application=application, **line.model_dump()) for line in data.budget_lines]
    )
    application.kpi_targets.all().delete()
    KpiTarget.objects.bulk_create([KpiTarget(application=application, **t.model_dump()) for t in data.kpi_targets])


def _open_for_applicants(call: Call, today: date) -> None:
    if call.status != CallStatus.OPEN or not call.opens_on <= today <= call.closes_on:
        raise ProgrammeError(
            "call",
            "call_closed",
            _("This call takes applications from %(opens)s to %(closes)s.")
            % {"opens": call.opens_on.strftime("%Y.%m.%d"), "closes": call.closes_on.strftime("%Y.%m.%d")},
        )


@transaction.atomic
def create_application(actor: Actor, call_id: int, data: ApplicationInput, today: date | None = None) -> Application:
    principal = actor.principal
    _require(principal, Resource.APPLICATION, Action.CREATE)
    code = local_government_code(principal)
    if code is None:
        raise ProgrammeError("", "no_local_government", _("Your account does not act for a local government."))
    call = _call(call_id)
    _open_for_applicants(call, today or timezone.localdate())
    reference = f"{call.year}-{secrets.token_hex(3).upper()}"
    try:
        with transaction.atomic():
            application = Application.objects.create(
                call=call,
                local_government_id=code,
                reference=reference,
                programme_type=data.programme_type,
                title=data.title,
                created_by_id=principal.user_id,
            )
    except IntegrityError as exc:
        raise ProgrammeError(
            "call", "already_applied", _("Your local government already has an application for this call.")
        ) from exc
    application.reference = f"{call.year}-{application.pk:04d}"
    application.save(update_fields=["reference"])
    _write_application(application, data)
    audit.log(actor, AuditAction.CREATE, "application", object_id=application.pk)
    return application


@transaction.atomic
def update_application(
    actor: Actor, application_id: int, data: ApplicationInput, today: date | None = None
) -> Application:
    """A draft, or a rejected application before the deadline (it becomes a draft again, to be resubmitted)."""
    application = _application(actor.principal, application_id, Action.CHANGE)
    _open_for_applicants(application.call, today or timezone.localdate())
    if application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED):
        raise ProgrammeError("status", "submitted", _("A submitted application can no longer be changed."))
    application.status = ApplicationStatus.DRAFT
    _write_application(application, data)
    audit.log(actor, AuditAction.CHANGE, "application", object_id=application.pk)
    return application


@transaction.atomic
def add_attachment(
    actor: Actor, application_id: int, kind: str, name: str, content_type: str, content: bytes
) -> Attachment:
    application = _application(actor.principal, application_id, Action.CHANGE)
    if application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED):
        raise ProgrammeError("file", "submitted", _("A submitted application can no longer be changed."))
    if kind not in AttachmentKind.values:
        raise ProgrammeError("kind", "attachment_kind", _("Choose what the file is from the list."))
    if content_type not in ATTACHMENT_TYPES:
        raise ProgrammeError("file", "attachment_type", _("Attach a PDF, HWP/HWPX, DOCX, XLSX, JPEG or PNG file."))
    if not content:
        raise ProgrammeError("file", "attachment_empty", _("The file is empty."))
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ProgrammeError("file", "attachment_size", _("A file may be at most 20 MB."))
    attachment = Attachment(
        application=application,
        kind=kind,
        name=name[:200] or kind,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by_id=actor.principal.user_id,
    )
    attachment.file.save(f"{secrets.token_hex(12)}{ATTACHMENT_TYPES[content_type]}", ContentFile(content), save=False)
    attachment.save()
    audit.log(actor, AuditAction.CREATE, "application_attachment", object_id=attachment.pk)
    return attachment


def attachment_for(actor: Actor, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.filter(
        pk=attachment_id, application__in=visible_applications(actor.principal)
    ).first()
    if attachment is None:
        raise NotFound("attachment", attachment_id)
    audit.log(actor, AuditAction.VIEW, "application_attachment", object_id=attachment.pk)
    return attachment


def check_application(application: Application) -> list[ApplicationProblem]:
    """Everything that keeps an application from meeting its call, each with the field and what to change."""
    call = application.call
    problems: list[ApplicationProblem] = []

    def problem(field: str, code: str, message: str) -> None:
        problems.append(ApplicationProblem(field, code, message))

    if application.programme_type not in call.types:
        problem(
            "programme_type",
            "type_not_offered",
            _("This call does not offer type %(type)s.") % {"type": application.programme_type},
        )
    areas = set(application.target_areas.values_list("code", flat=True))
    own = set(_local_government_areas(application.local_government_id).values_list("code", flat=True))
    if not areas:
        problem("target_area_codes", "no_target_area", _("Name at least one eup/myeon/dong the project will run in."))
    outside = sorted(areas - own)
    if outside:
        problem(
            "target_area_codes",
            "area_outside",
            _("Not a current eup/myeon/dong of your local government: %(codes)s.") % {"codes": ", ".join(outside)},
        )
    if len(application.plan) < MIN_PLAN_CHARACTERS:
        problem(
            "plan",
            "plan_too_short",
            _("Describe the plan in at least %(n)s characters (now %(have)s).")
            % {"n": MIN_PLAN_CHARACTERS, "have": len(application.plan)},
        )
    lines = list(application.budget_lines.all())
    national = sum(line.national_krw for line in lines)
    local = sum(line.local_krw for line in lines)
    if not lines or national == 0:
        problem("budget_lines", "no_national_request", _("Add budget lines with the national funding you request."))
    if national > call.cap_per_local_government_krw:
        problem(
            "budget_lines",
            "over_cap",
            _("The national request of KRW %(asked)s exceeds the cap of KRW %(cap)s per local government.")
            % {"asked": _krw(national), "cap": _krw(call.cap_per_local_government_krw)},
        )
    share = call.national_share_percent
    if national and national * 100 > share * (national + local):
        needed = -(-national * (100 - share) // share)  # the least local amount keeping national at most share %
        problem(
            "budget_lines",
            "matching_ratio",
            _(
                "National funds may cover at most %(share)s %% of the budget: with KRW %(national)s national, "
                "the local government must add at least KRW %(needed)s; this budget adds KRW %(local)s."
            )
            % {"share": share, "national": _krw(national), "needed": _krw(needed), "local": _krw(local)},
        )
    targets = list(application.kpi_targets.all())
    if not targets:
        problem("kpi_targets", "no_kpi", _("Set a target for at least one KPI."))
    allowed = {d.code for d in kpis.applicable(application.programme_type)}
    unknown_kpis = sorted({t.kpi for t in targets} - allowed)
    if unknown_kpis:
        problem(
            "kpi_targets",
            "unknown_kpi",
            _("Not a KPI of this programme type: %(codes)s.") % {"codes": ", ".join(unknown_kpis)},
        )
    attached = set(application.attachments.values_list("kind", flat=True))
    for kind in call.required_attachments:
        if kind not in attached:
            problem("attachments", f"missing_{kind}", _("Attach: %(kind)s.") % {"kind": AttachmentKind(kind).label})
    return problems


@transaction.atomic
def submit_application(actor: Actor, application_id: int, now: datetime | None = None) -> Application:
    """Submit before the deadline. An application that does not meet the call is recorded as rejected with every
    reason; its local government may correct it and submit again until the deadline."""
    application = _application(actor.principal, application_id, Action.CHANGE)
    now = now or _now()
    _open_for_applicants(application.call, timezone.localdate(now))
    if application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED):
        raise ProgrammeError("status", "submitted", _("This application has already been submitted."))
    problems = check_application(application)
    application.submitted_at = now
    application.problems = [{"field": p.field, "code": p.code, "message": p.message} for p in problems]
    application.status = ApplicationStatus.REJECTED if problems else ApplicationStatus.SUBMITTED
    application.save(update_fields=["submitted_at", "problems", "status"])
    audit.log(
        actor,
        AuditAction.CHANGE,
        "application",
        object_id=application.pk,
        changes={"status": ["draft", application.status]},
    )
    if problems:
        _record(
            actor,
            application.call,
            RecordKind.APPLICATION_REJECTED,
            application,
            reasons=",".join(p.code for p in problems),
        )
    else:
        _record(actor, application.call, RecordKind.APPLICATION_SUBMITTED, application)
    return application


@transaction.atomic
def withdraw_application(actor: Actor, application_id: int) -> Application:
    application = _application(actor.principal, application_id, Action.CHANGE)
    if application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED, ApplicationStatus.SUBMITTED):
        raise ProgrammeError("status", "decided", _("A decided application cannot be withdrawn."))
    application.status = ApplicationStatus.WITHDRAWN
    application.save(update_fields=["status"])
    audit.log(actor, AuditAction.CHANGE, "application", object_id=application.pk, changes={"status": ["", "withdrawn"]})
    _record(actor, application.call, RecordKind.APPLICATION_WITHDRAWN, application)
    return application


@dataclass(frozen=True)
class Totals:
    national_krw: int
    local_krw: int

    @property
    def national_share(self) -> float | None:
        whole = self.national_krw + self.local_krw
        return 100 * self.national_krw / whole if whole else None


def application_totals(application: Application) -> Totals:
    sums = application.budget_lines.aggregate(n=Sum("national_krw"), loc=Sum("local_krw"))
    return Totals(sums["n"] or 0, sums["loc"] or 0)


# --- evaluation -------------------------------------------------------------------------------------------------


@transaction.atomic
def register_expert(actor: Actor, account_id: int, affiliation: str, field: str = "") -> Expert:
    _require(actor.principal, Resource.EVALUATION, Action.CREATE)
    from maeul.accounts.models import Membership

    if not Membership.objects.filter(user_id=account_id, role=Role.EXPERT).exists():
        raise ProgrammeError("account", "not_expert", _("Only an account with the expert role can be registered."))
    expert, _created = Expert.objects.update_or_create(
        account_id=account_id, defaults={"affiliation": affiliation.strip()[:120], "field": field.strip()[:120]}
    )
    audit.log(actor, AuditAction.CHANGE, "programme_expert", object_id=expert.pk)
    return expert


@transaction.atomic
def form_panel(actor: Actor, call_id: int, name: str, expert_ids: list[int], application_ids: list[int]) -> Panel:
    """A panel of experts for some of the call's eligible applications (all of them when none are named)."""
    _require(actor.principal, Resource.EVALUATION, Action.CREATE)
    call = _call(call_id)
    if call.status != CallStatus.EVALUATION:
        raise ProgrammeError("status", "not_evaluating", _("Panels are formed once the call has closed."))
    experts = list(Expert.objects.filter(pk__in=expert_ids))
    if len(experts) < call.min_experts_per_application:
        raise ProgrammeError(
            "experts",
            "too_few_experts",
            _("A panel needs at least %(n)s experts.") % {"n": call.min_experts_per_application},
        )
    eligible = call.applications.filter(status=ApplicationStatus.SUBMITTED)
    chosen = eligible.filter(pk__in=application_ids) if application_ids else eligible
    if application_ids and chosen.count() != len(set(application_ids)):
        raise ProgrammeError(
            "applications", "not_eligible", _("Only eligible applications of this call can be evaluated.")
        )
    panel = Panel.objects.create(call=call, name=name.strip()[:120] or _("Panel"))
    panel.experts.set(experts)
    chosen.update(panel=panel)
    audit.log(actor, AuditAction.CREATE, "programme_panel", object_id=panel.pk)
    _record(actor, call, RecordKind.PANEL_FORMED, panel=panel.pk, experts=len(experts), applications=chosen.count())
    return panel


def _expert_application(actor: Actor, application_id: int) -> tuple[Expert, Application]:
    _require(actor.principal, Resource.EVALUATION, Action.CREATE)
    expert = expert_of(actor.principal)
    if expert is None:
        raise ProgrammeError("", "not_expert", _("Only a registered expert can do this."))
    application = visible_applications(actor.principal).filter(pk=application_id).first()
    if application is None:
        raise NotFound("application", application_id)
    if application.call.status != CallStatus.EVALUATION:
        raise ProgrammeError("status", "not_evaluating", _("This call is not under evaluation."))
    return expert, application


@transaction.atomic
def declare(actor: Actor, application_id: int, conflicted: bool, reason: str = "") -> ConflictDeclaration:
    """An expert's conflict-of-interest declaration on one application, made before scoring and final."""
    expert, application = _expert_application(actor, application_id)
    if conflicted and not reason.strip():
        raise ProgrammeError("reason", "reason_required", _("Say what the conflict of interest is."))
    try:
        with transaction.atomic():
            declaration = ConflictDeclaration.objects.create(
                expert=expert,
                application=application,
                conflicted=conflicted,
                reason=reason.strip()[:300],
                declared_at=_now(),
            )
    except IntegrityError as exc:
        raise ProgrammeError("", "declared", _("You have already declared on this application.")) from exc
    audit.log(actor, AuditAction.CREATE, "conflict_declaration", object_id=declaration.pk)
    kind = RecordKind.CONFLICT_DECLARED if conflicted else RecordKind.NO_CONFLICT_DECLARED
    _record(actor, application.call, kind, application, expert=expert.pk)
    return declaration


@transaction.atomic
def score(actor: Actor, application_id: int, points: dict[str, float], comment: str = "") -> Scoresheet:
    """Independent scoring on the rubric: one final scoresheet per expert and application, only after declaring no
    conflict. Each criterion gets 0 to its points."""
    expert, application = _expert_application(actor, application_id)
    declaration = ConflictDeclaration.objects.filter(expert=expert, application=application).first()
    if declaration is None:
        raise ProgrammeError("", "declare_first", _("Declare whether you have a conflict of interest first."))
    if declaration.conflicted:
        raise ProgrammeError(
            "", "conflicted", _("You declared a conflict of interest: you cannot score this application.")
        )
    criteria = list(application.call.criteria.all())
    errors = []
    clean: dict[str, float] = {}
    for criterion in criteria:
        value = points.get(criterion.code)
        if value is None:
            errors.append(_("%(name)s: give a score.") % {"name": criterion.name})
        elif not 0 <= value <= criterion.points:
            errors.append(_("%(name)s: give 0 to %(max)s points.") % {"name": criterion.name, "max": criterion.points})
        else:
            clean[criterion.code] = float(value)
    extra = sorted(set(points) - {c.code for c in criteria})
    if extra:
        errors.append(_("Not criteria of this call: %(codes)s.") % {"codes": ", ".join(extra)})
    if errors:
        raise ProgrammeError("scores", "invalid_scores", " ".join(errors))
    try:
        with transaction.atomic():
            sheet = Scoresheet.objects.create(
                expert=expert,
                application=application,
                scores=clean,
                total=round(sum(clean.values()), 4),
                comment=comment.strip(),
                submitted_at=_now(),
            )
    except IntegrityError as exc:
        raise ProgrammeError("", "scored", _("You have already submitted your scores for this application.")) from exc
    audit.log(actor, AuditAction.CREATE, "scoresheet", object_id=sheet.pk)
    _record(actor, application.call, RecordKind.SCORED, application, expert=expert.pk)
    return sheet


@dataclass(frozen=True)
class Assignment:
    application: Application
    declaration: ConflictDeclaration | None
    sheet: Scoresheet | None


def expert_assignments(principal: Principal) -> list[Assignment]:
    expert = expert_of(principal)
    if expert is None:
        return []
    applications = list(visible_applications(principal).order_by("call__year", "reference"))
    declarations = {d.application_id: d for d in ConflictDeclaration.objects.filter(expert=expert)}
    sheets = {s.application_id: s for s in Scoresheet.objects.filter(expert=expert)}
    return [Assignment(a, declarations.get(a.pk), sheets.get(a.pk)) for a in applications]


def _tie_criterion(call: Call) -> Criterion:
    criteria = list(call.criteria.all())
    return max(criteria, key=lambda c: (c.points, -c.position))


@transaction.atomic
def rank_applications(actor: Actor, call_id: int) -> list[Result]:
    """Normalise the experts' scores with the call's method and rank the eligible applications."""
    _require(actor.principal, Resource.EVALUATION, Action.CHANGE)
    call = _call(call_id)
    if call.status != CallStatus.EVALUATION:
        raise ProgrammeError("status", "not_evaluating", _("This call is not under evaluation."))
    eligible = list(call.applications.filter(status=ApplicationStatus.SUBMITTED))
    if not eligible:
        raise ProgrammeError("", "nothing_to_rank", _("No eligible application to rank."))
    sheets = list(Scoresheet.objects.filter(application__in=eligible))
    count: dict[int, int] = {}
    for sheet in sheets:
        count[sheet.application_id] = count.get(sheet.application_id, 0) + 1
    short = [a.reference for a in eligible if count.get(a.pk, 0) < call.min_experts_per_application]
    if short:
        raise ProgrammeError(
            "",
            "scores_missing",
            _("These applications have fewer than %(n)s scoresheets: %(refs)s.")
            % {"n": call.min_experts_per_application, "refs": ", ".join(short)},
        )
    tie = _tie_criterion(call)
    ranked = evaluation.rank(
        [evaluation.Sheet(s.expert_id, s.application_id, s.total, float(s.scores.get(tie.code, 0))) for s in sheets],
        call.normalisation,
        {a.pk: a.submitted_at or a.created_at for a in eligible},
    )
    Result.objects.filter(application__call=call).delete()
    results = Result.objects.bulk_create(
        [
            Result(
                application_id=r.application_id,
                raw_mean=r.raw_mean,
                score=r.score,
                tie_break=r.tie_break,
                experts=r.experts,
                rank=r.rank,
                tie_note=r.tie_note,
            )
            for r in ranked
        ]
    )
    audit.log(actor, AuditAction.CREATE, "programme_ranking", object_id=call.pk, record_count=len(results))
    _record(
        actor, call, RecordKind.RANKED, method=call.normalisation, applications=len(results), tie_criterion=tie.code
    )
    return results


@transaction.atomic
def select(actor: Actor, call_id: int) -> list[Grant]:
    """Select the call's number of sites by rank, allocate national funds by the call's rule (both caps hold) and
    open a grant for each, with its budget lines scaled to the amount awarded."""
    _require(actor.principal, Resource.EVALUATION, Action.CHANGE)
    call = _call(call_id)
    if call.status != CallStatus.EVALUATION:
        raise ProgrammeError("status", "not_evaluating", _("This call is not under evaluation."))
    results = list(Result.objects.filter(application__call=call).select_related("application").order_by("rank"))
    if not results:
        raise ProgrammeError("", "not_ranked", _("Rank the applications first."))
    chosen = results[: call.sites_to_select]
    requests = [(r.application_id, application_totals(r.application).national_krw) for r in chosen]
    amounts = evaluation.allocate(
        requests,
        call.allocation_rule,
        call.cap_per_local_government_krw,
        call.national_total_krw,
        [(int(b["ranks"]), int(b["amount_krw"])) for b in call.bands],
    )
    grants = []
    for result in results:
        selected = result in chosen and amounts.get(result.application_id, 0) > 0
        result.selected = selected
        result.awarded_krw = amounts.get(result.application_id, 0) if selected else 0
        result.save(update_fields=["selected", "awarded_krw"])
        application = result.application
        application.status = ApplicationStatus.SELECTED if selected else ApplicationStatus.NOT_SELECTED
        application.save(update_fields=["status"])
        if selected:
            grants.append(_open_grant(application, result.awarded_krw))
    awarded = sum(g.national_krw for g in grants)
    assert awarded <= call.national_total_krw
    assert all(g.national_krw <= call.cap_per_local_government_krw for g in grants)
    audit.log(actor, AuditAction.CREATE, "programme_selection", object_id=call.pk, record_count=len(grants))
    _record(actor, call, RecordKind.SELECTED, selected=len(grants), awarded_krw=awarded, rule=call.allocation_rule)
    return grants


def _open_grant(application: Application, national_krw: int) -> Grant:
    lines = list(application.budget_lines.all())
    requested = sum(line.national_krw for line in lines)
    scaled = [line.national_krw * national_krw // requested if requested else 0 for line in lines]
    scaled = [amount - amount % 1000 for amount in scaled]
    if lines:
        # What rounding left over goes to the largest line, so the lines add up to the award exactly.
        largest = max(range(len(lines)), key=lambda i: lines[i].national_krw)
        scaled[largest] += national_krw - sum(scaled)
    site = Site.objects.filter(sigungu_id=application.local_government_id).first()
    grant = Grant.objects.create(
        application=application,
        site=site,
        national_krw=national_krw,
        local_krw=sum(line.local_krw for line in lines),
    )
    GrantLine.objects.bulk_create(
        [
            GrantLine(
                grant=grant,
                category=line.category,
                description=line.description,
                national_budget_krw=amount,
                local_budget_krw=line.local_krw,
            )
            for line, amount in zip(lines, scaled, strict=True)
        ]
    )
    return grant


@transaction.atomic
def issue_notices(actor: Actor, call_id: int) -> list[Notice]:
    """A notice to every local government that submitted: selected with its amount, not selected with its rank
    and score, or rejected with the reasons. The call is then decided."""
    _require(actor.principal, Resource.EVALUATION, Action.CHANGE)
    call = _call(call_id)
    if (
        call.status != CallStatus.EVALUATION
        or not Result.objects.filter(application__call=call, selected=True).exists()
    ):
        raise ProgrammeError("status", "not_selected", _("Select the sites before issuing the notices."))
    now = _now()
    notices = []
    decided = call.applications.filter(
        status__in=(ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED, ApplicationStatus.REJECTED)
    ).select_related("local_government")
    for application in decided:
        notices.append(
            Notice(application=application, outcome=application.status, body=_notice_body(application), issued_at=now)
        )
    Notice.objects.filter(application__call=call).delete()
    Notice.objects.bulk_create(notices)
    call.status = CallStatus.DECIDED
    call.save(update_fields=["status"])
    audit.log(actor, AuditAction.CREATE, "programme_notice", object_id=call.pk, record_count=len(notices))
    _record(actor, call, RecordKind.NOTICES_ISSUED, notices=len(notices))
    return notices


def _notice_body(application: Application) -> str:
    call = application.call
    if application.status == ApplicationStatus.REJECTED:
        reasons = "\n".join(f"- {p['message']}" for p in application.problems)
        return _("Your application %(ref)s does not meet the call and was not evaluated:\n%(reasons)s") % {
            "ref": application.reference,
            "reasons": reasons,
        }
    result = application.result
    if application.status == ApplicationStatus.SELECTED:
        return _(
            "Your application %(ref)s was selected (rank %(rank)s of %(of)s, score %(score).1f). National funding "
            "of KRW %(amount)s is awarded; your local government matches it as its budget states."
        ) % {
            "ref": application.reference,
            "rank": result.rank,
            "of": Result.objects.filter(application__call=call).count(),
            "score": result.score,
            "amount": _krw(result.awarded_krw),
        }
    return _(
        "Your application %(ref)s was not selected: rank %(rank)s of %(of)s, score %(score).1f; %(n)s sites were "
        "selected."
    ) % {
        "ref": application.reference,
        "rank": result.rank,
        "of": Result.objects.filter(application__call=call).count(),
        "score": result.score,
        "n": call.sites_to_select,
    }


def notice_for(actor: Actor, application_id: int) -> Notice | None:
    application = _application(actor.principal, application_id, Action.VIEW)
    notice = Notice.objects.filter(application=application).first()
    if (
        notice is not None
        and notice.read_at is None
        and local_government_code(actor.principal) == application.local_government_id
    ):
        notice.read_at = _now()
        notice.save(update_fields=["read_at"])
    return notice


# --- grants -----------------------------------------------------------------------------------------------------


def _grant(principal: Principal, grant_id: int, action: Action) -> Grant:
    grant = visible_grants(principal, action).filter(pk=grant_id).first()
    if grant is None:
        raise NotFound("grant", grant_id)
    return grant


@transaction.atomic
def link_site(actor: Actor, grant_id: int, site_id: int, launch_date: date) -> Grant:
    """The ministry names the site that runs a grant (the local government's si/gun/gu) and its launch date."""
    grant = _grant(actor.principal, grant_id, Action.CHANGE)
    if actor.principal.scope(Resource.GRANT, Action.CHANGE) != Scope.ALL:
        raise ProgrammeError("", "forbidden", _("Your role may not do this."))
    site = Site.objects.filter(pk=site_id).first()
    if site is None or site.sigungu_id != grant.application.local_government_id:
        raise ProgrammeError("site", "wrong_site", _("Choose the site of the grant's own local government."))
    grant.site = site
    grant.launch_date = launch_date
    grant.save(update_fields=["site", "launch_date"])
    audit.log(actor, AuditAction.CHANGE, "grant", object_id=grant.pk, changes={"site": [None, site.pk]})
    _record(actor, grant.application.call, RecordKind.GRANT_LINKED, grant.application, site=site.pk)
    return grant


@transaction.atomic
def record_spending(actor: Actor, grant_id: int, data: SpendingInput, today: date | None = None) -> Spending:
    """Spending on one budget line; refused beyond the line's budget or outside the execution period."""
    grant = _grant(actor.principal, grant_id, Action.CHANGE)
    line = grant.lines.filter(pk=data.line_id).first()
    if line is None:
        raise ProgrammeError("line_id", "unknown_line", _("Choose a budget line of this grant."))
    call = grant.application.call
    today = today or timezone.localdate()
    if data.spent_on > today:
        raise ProgrammeError("spent_on", "future", _("Spending cannot be dated in the future."))
    if not call.results_on <= data.spent_on <= call.execution_ends_on:
        raise ProgrammeError(
            "spent_on",
            "outside_execution",
            _("Spending must fall between %(start)s and %(end)s.")
            % {"start": call.results_on.strftime("%Y.%m.%d"), "end": call.execution_ends_on.strftime("%Y.%m.%d")},
        )
    spent = line.spending.aggregate(n=Sum("national_krw"), loc=Sum("local_krw"))
    if (spent["n"] or 0) + data.national_krw > line.national_budget_krw:
        raise ProgrammeError(
            "national_krw",
            "over_budget",
            _("This would bring national spending on the line to KRW %(total)s, over its budget of KRW %(budget)s.")
            % {"total": _krw((spent["n"] or 0) + data.national_krw), "budget": _krw(line.national_budget_krw)},
        )
    if (spent["loc"] or 0) + data.local_krw > line.local_budget_krw:
        raise ProgrammeError(
            "local_krw",
            "over_budget",
            _("This would bring local spending on the line to KRW %(total)s, over its budget of KRW %(budget)s.")
            % {"total": _krw((spent["loc"] or 0) + data.local_krw), "budget": _krw(line.local_budget_krw)},
        )
    spending = Spending.objects.create(
        line=line,
        spent_on=data.spent_on,
        national_krw=data.national_krw,
        local_krw=data.local_krw,
        description=data.description,
        recorded_by_id=actor.principal.user_id,
    )
    audit.log(actor, AuditAction.CREATE, "grant_spending", object_id=spending.pk)
    _record(
        actor,
        call,
        RecordKind.SPENDING_RECORDED,
        grant.application,
        national_krw=data.national_krw,
        local_krw=data.local_krw,
    )
    return spending


@dataclass(frozen=True)
class LineStatus:
    line_id: int
    category: str
    description: str
    national_budget_krw: int
    local_budget_krw: int
    national_spent_krw: int
    local_spent_krw: int

    @property
    def national_left_krw(self) -> int:
        return self.national_budget_krw - self.national_spent_krw

    @property
    def local_left_krw(self) -> int:
        return self.local_budget_krw - self.local_spent_krw

    @property
    def spent_percent(self) -> float | None:
        budget = self.national_budget_krw + self.local_budget_krw
        return round(100 * (self.national_spent_krw + self.local_spent_krw) / budget, 1) if budget else None


def budget_status(grant: Grant, until: date | None = None) -> list[LineStatus]:
    """Budget versus spending per line, national and local, up to ``until`` (inclusive) or everything."""
    out = []
    for line in grant.lines.all():
        spending = line.spending.all()
        if until is not None:
            spending = spending.filter(spent_on__lte=until)
        sums = spending.aggregate(n=Sum("national_krw"), loc=Sum("local_krw"))
        out.append(
            LineStatus(
                line.pk,
                line.category,
                line.description,
                line.national_budget_krw,
                line.local_budget_krw,
                sums["n"] or 0,
                sums["loc"] or 0,
            )
        )
    return out


def quarter_end(year: int, quarter: int) -> date:
    return (date(year, 3 * quarter, 1) + timedelta(days=31)).replace(day=1) - timedelta(days=1)


def quarter_due(call: Call, year: int, quarter: int) -> date:
    return quarter_end(year, quarter) + timedelta(days=call.report_due_days)


@transaction.atomic
def submit_quarterly_report(
    actor: Actor, grant_id: int, data: QuarterlyReportInput, today: date | None = None
) -> QuarterlyReport:
    grant = _grant(actor.principal, grant_id, Action.CHANGE)
    call = grant.application.call
    today = today or timezone.localdate()
    end = quarter_end(data.year, data.quarter)
    if end >= today:
        raise ProgrammeError("quarter", "quarter_open", _("Report a quarter after it has ended."))
    if end < call.results_on or quarter_end(data.year, data.quarter) - timedelta(days=92) > call.execution_ends_on:
        raise ProgrammeError("quarter", "outside_execution", _("This quarter is outside the grant's execution period."))
    lines = [
        {
            "description": s.description,
            "category": s.category,
            "national_budget_krw": s.national_budget_krw,
            "local_budget_krw": s.local_budget_krw,
            "national_spent_krw": s.national_spent_krw,
            "local_spent_krw": s.local_spent_krw,
        }
        for s in budget_status(grant, until=end)
    ]
    try:
        with transaction.atomic():
            report = QuarterlyReport.objects.create(
                grant=grant,
                year=data.year,
                quarter=data.quarter,
                progress=data.progress,
                issues=data.issues,
                lines=lines,
                submitted_by_id=actor.principal.user_id,
                submitted_at=_now(),
            )
    except IntegrityError as exc:
        raise ProgrammeError("quarter", "reported", _("This quarter has already been reported.")) from exc
    audit.log(actor, AuditAction.CREATE, "quarterly_report", object_id=report.pk)
    _record(actor, call, RecordKind.QUARTER_REPORTED, grant.application, year=data.year, quarter=data.quarter)
    return report


@dataclass(frozen=True)
class QuarterStatus:
    year: int
    quarter: int
    due_on: date
    report: QuarterlyReport | None
    overdue: bool


def quarters(grant: Grant, today: date | None = None) -> list[QuarterStatus]:
    """Every quarter of the execution period, its due date and its report (or whether it is overdue)."""
    call = grant.application.call
    today = today or timezone.localdate()
    reports = {(r.year, r.quarter): r for r in grant.quarterly_reports.all()}
    out = []
    year, quarter = call.results_on.year, (call.results_on.month - 1) // 3 + 1
    while date(year, 3 * quarter - 2, 1) <= call.execution_ends_on:
        due = quarter_due(call, year, quarter)
        report = reports.get((year, quarter))
        out.append(QuarterStatus(year, quarter, due, report, report is None and due < today))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return out


# --- results ----------------------------------------------------------------------------------------------------


def programme_sites(call: Call | None = None) -> list[Grant]:
    """The grants running at a site (of one call, or of the latest call that has any)."""
    qs = Grant.objects.exclude(site=None).select_related("site", "application__call").order_by("site__name")
    if call is not None:
        return list(qs.filter(application__call=call))
    latest = qs.order_by("-application__call__year", "-application__call_id").first()
    if latest is None:
        return []
    return list(qs.filter(application__call_id=latest.application.call_id).order_by("site__name"))


@transaction.atomic
def measure_baseline(actor: Actor, grant_id: int, today: date | None = None) -> list[Baseline]:
    """Compute and keep each KPI over the ``baseline_days`` before the site's launch. Once kept, a baseline never
    changes; a KPI added to the registry later is measured over the same window when this runs again."""
    _require(actor.principal, Resource.PROGRAMME_RESULTS, Action.CHANGE)
    grant = _grant(actor.principal, grant_id, Action.VIEW)
    if grant.site is None or grant.launch_date is None:
        raise ProgrammeError("site", "no_site", _("Link the grant to its site and launch date first."))
    today = today or timezone.localdate()
    if grant.launch_date > today:
        raise ProgrammeError("launch_date", "not_launched", _("The baseline is measured once the site has launched."))
    since = grant.launch_date - timedelta(days=grant.application.call.baseline_days)
    kept = set(Baseline.objects.filter(site=grant.site).values_list("kpi", flat=True))
    computed = kpis.figures(grant.site.pk, since, grant.launch_date)
    made = []
    for definition in kpis.REGISTRY:
        if definition.source is None or definition.code in kept:
            continue
        values = computed[definition.source]
        made.append(
            Baseline.objects.create(
                site=grant.site,
                kpi=definition.code,
                since=since,
                until=grant.launch_date,
                value=_as_float(values.get(definition.key)),
                base=_as_int(values.get(definition.base_key)) if definition.base_key else None,
                measured_at=_now(),
            )
        )
    audit.log(actor, AuditAction.CREATE, "programme_baseline", object_id=grant.site.pk, record_count=len(made))
    _record(actor, grant.application.call, RecordKind.BASELINE_MEASURED, grant.application, kpis=len(made))
    return made


def _as_float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _as_int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def baselines_of(site_ids: Iterable[int]) -> dict[tuple[int, str], Baseline]:
    return {(b.site_id, b.kpi): b for b in Baseline.objects.filter(site_id__in=list(site_ids))}

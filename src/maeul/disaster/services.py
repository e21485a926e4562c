"""Disaster actions: the only code that writes alerts received, responses, roll-calls, contacts, plans, zones, alert
sources, messages owed and reviews.

An alert (CAP 1.2 by HTTP POST, a polled feed, an upload or ``maeul alerts import``) or an official activates a
*response* for a hazard over some eup/myeon/dong. The response's *roll-call* lists every registered household inside
— ordered by priority, with the reasons — split among the households' helpers and the consultative body members of
each area; each contact is recorded. Households not accounted for by the plan's deadline are escalated (officials →
guardians → the 24-hour line) by ``maeul worker``, from timers stored on each roll-call entry. Messages are owed as
``Dispatch`` rows written with the change that calls for them and sent by the worker.

Scope comes from the permission matrix: officials act in their areas, site administrators in their site; helpers and
members see only the roll-call entries assigned to them while the response runs. Every read of a household's
details and every change is in the access record; domain events carry codes and counts only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as fields_of
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any

import httpx
import numpy as np
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from maeul.accounts.models import Membership
from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.accounts.roles import Role
from maeul.areas.models import Area, AreaBoundary
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.disaster import cap, catalogue, columns, matching, pgcopy
from maeul.disaster.errors import DisasterError, NotFound
from maeul.disaster.models import (
    ACCOUNTED,
    OUTSTANDING,
    AlertSource,
    Audience,
    CapMessage,
    Channel,
    ChecklistLine,
    Contact,
    Dispatch,
    DispatchKind,
    EntryStatus,
    ForecastZone,
    Hazard,
    HouseholdReadiness,
    Lesson,
    Level,
    MessageOutcome,
    Origin,
    PlanItem,
    Preparedness,
    Response,
    ResponseArea,
    ResponsePlan,
    ResponseStatus,
    Review,
    RollCallEntry,
    SourceKind,
    TimelineEntry,
    TimelineKind,
)
from maeul.disaster.schemas import (
    ContactInput,
    LessonInput,
    ManualActivation,
    PlanInput,
    PlanItemInput,
    SourceInput,
    ZoneInput,
)
from maeul.events import services as events
from maeul.notify import services as notify
from maeul.people.models import EmergencyContact, Household, Person
from maeul.protection import fields
from maeul.protection.phone import format_phone
from maeul.safety import services as safety
from maeul.safety.errors import SafetyError
from maeul.safety.models import BodyMember
from maeul.safety.schemas import TaskInput
from maeul.safetynet.models import Assignment, AssignmentRole, Helper
from maeul.sensing.models import Device, Reading
from maeul.sites import services as sites
from maeul.sites.models import Site
from maeul.watch import escalation as watch_escalation
from maeul.watch.models import DEVICE_KINDS, Alert, AlertStatus

log = logging.getLogger(__name__)
RESOURCE = "roll_call"  # audit resource for a household's roll-call entry and contacts
OFFICIAL_ROLES = (Role.WELFARE_OFFICIAL, Role.SAFETY_OFFICIAL)
QUIET_HOURS = 12
INDOOR_WINDOW = timedelta(hours=1)
INDOOR_EVERY = timedelta(minutes=5)
BOARD_AUDIT_WINDOW = 600  # seconds: a board refreshed every 10 s records who saw which homes once per 10 minutes
FEED_TIMEOUT = 10.0
FEED_MAX_LINKS = 50


# --- scope -------------------------------------------------------------------------------------------------


def visible_responses(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Response]:
    scope = principal.scope(Resource.DISASTER, action)
    qs = Response.objects.all()
    if principal.site_id is None:
        return qs.none()
    if scope == Scope.SITE:
        return qs.filter(site_id=principal.site_id)
    if scope == Scope.AREA:
        ids = ResponseArea.objects.filter(area_id__in=principal.area_codes).values("response_id")
        return qs.filter(site_id=principal.site_id, pk__in=ids)
    return qs.none()


def visible_entries(principal: Principal, action: Action = Action.VIEW,
                    response: Response | None = None) -> QuerySet[RollCallEntry]:  # fmt: skip
    """Roll-call entries this principal may act on (of one ``response``, if given). A helper or member sees only the
    entries assigned to them, and only until the response is closed."""
    scope = principal.scope(Resource.ROLL_CALL, action)
    qs = RollCallEntry.objects.all()
    if principal.site_id is None:
        return qs.none()
    if response is not None:
        # The response is in hand: compare it here rather than join it. Just after a roll-call is written the
        # planner has no statistics for its entries, and with the join it read the response once per entry.
        if response.site_id != principal.site_id or (
            scope == Scope.GRANTED and response.status == ResponseStatus.CLOSED
        ):
            return qs.none()
        qs = qs.filter(response_id=response.pk)
    else:
        qs = qs.filter(response__site_id=principal.site_id)
    if scope == Scope.SITE:
        return qs
    if scope == Scope.AREA:
        return qs.filter(area_id__in=principal.area_codes)
    if scope == Scope.GRANTED and principal.user_id is not None:
        qs = qs.filter(assignee_id=principal.user_id)
        return qs if response is not None else qs.exclude(response__status=ResponseStatus.CLOSED)
    return qs.none()


def _response(principal: Principal, response_id: int, action: Action = Action.VIEW) -> Response:
    found = visible_responses(principal, action).filter(pk=response_id).first()
    if found is None:
        raise NotFound("response", response_id)
    return found


def working_areas(principal: Principal, action: Action = Action.CREATE) -> QuerySet[Area]:
    """The current eup/myeon/dong this principal may activate a response in."""
    return safety.working_areas(principal, Resource.DISASTER, action)


def _setup_site(principal: Principal, action: Action) -> Site:
    if principal.scope(Resource.DISASTER_SETUP, action) not in (Scope.SITE,) or principal.site_id is None:
        raise DisasterError("", "not_allowed", "your role may not change the site's disaster set-up")
    return Site.objects.get(pk=principal.site_id)


def _system_actor(site_id: int | None, channel: str) -> Actor:
    return Actor(principal=Principal(user_id=None, username="maeul", role=None, site_id=site_id), channel=channel)


def _event(
    kind: str,
    response: Response,
    *,
    actor: Actor | None = None,
    data: dict[str, Any] | None = None,
    household_id: int | None = None,
    area_code: str | None = None,
) -> None:
    events.record(
        kind,
        site_id=response.site_id,
        area_code=area_code,
        household_id=household_id,
        subject=("disaster_response", response.pk),
        actor_role=(actor.principal.role or "") if actor else "",
        data=data,
    )  # fmt: skip


def _timeline(
    response: Response, kind: TimelineKind, at: datetime, *, by: int | None = None, text: str = "", **data: Any
) -> TimelineEntry:
    return TimelineEntry.objects.create(response=response, kind=kind, at=at, by_id=by, text=text[:500], data=data)


# --- plans --------------------------------------------------------------------------------------------------


def plan_for(site_id: int, hazard: str) -> ResponsePlan:
    """The site's plan for a hazard, made from the defaults the first time it is needed."""
    plan = ResponsePlan.objects.filter(site_id=site_id, hazard=hazard).first()
    if plan is not None:
        return plan
    default = catalogue.DEFAULT_PLANS[Hazard(hazard)]
    with transaction.atomic():
        plan, created = ResponsePlan.objects.get_or_create(
            site_id=site_id,
            hazard=hazard,
            defaults={
                "reach_within_minutes": default.reach_within_minutes,
                "escalation_minutes": default.escalation_minutes,
                "indoor_celsius": default.indoor_celsius,
                "message_assignment": default.assignment,
                "message_update": catalogue.MESSAGE_UPDATE,
                "message_cancel": catalogue.MESSAGE_CANCEL,
                "message_overdue": catalogue.MESSAGE_OVERDUE,
                "message_guardian": catalogue.MESSAGE_GUARDIAN,
            },
        )
        if created:
            PlanItem.objects.bulk_create(
                PlanItem(plan=plan, audience=item.audience, text_ko=item.text_ko, text_en=item.text_en, order=i)
                for i, item in enumerate(default.items)
            )
    return plan


def plans(site_id: int) -> list[ResponsePlan]:
    return [plan_for(site_id, hazard) for hazard in Hazard.values]


def item_text(text_ko: str, text_en: str) -> str:
    """A checklist line in the reader's language (Korean when no English was written)."""
    return text_en if (get_language() or "ko").startswith("en") and text_en else text_ko


@transaction.atomic
def update_plan(actor: Actor, hazard: str, data: PlanInput) -> ResponsePlan:
    site = _setup_site(actor.principal, Action.CHANGE)
    plan = plan_for(site.pk, Hazard(hazard))
    before = {k: getattr(plan, k) for k in data.model_dump()}
    for key, value in data.model_dump().items():
        setattr(plan, key, value)
    plan.updated_by_id = actor.principal.user_id
    plan.save()
    audit.log(
        actor, AuditAction.CHANGE, "disaster_plan", object_id=plan.pk, changes=audit.diff(before, data.model_dump())
    )
    return plan


@transaction.atomic
def add_plan_item(actor: Actor, hazard: str, data: PlanItemInput) -> PlanItem:
    site = _setup_site(actor.principal, Action.CHANGE)
    plan = plan_for(site.pk, Hazard(hazard))
    last = plan.items.aggregate(n=Max("order"))["n"] or 0
    item = PlanItem.objects.create(plan=plan, audience=data.audience, text_ko=data.text_ko, text_en=data.text_en,
                                   order=last + 1)  # fmt: skip
    audit.log(actor, AuditAction.CREATE, "disaster_plan_item", object_id=item.pk)
    return item


@transaction.atomic
def remove_plan_item(actor: Actor, item_id: int) -> None:
    site = _setup_site(actor.principal, Action.CHANGE)
    deleted, _count = PlanItem.objects.filter(pk=item_id, plan__site=site).delete()
    if not deleted:
        raise NotFound("checklist item", item_id)
    audit.log(actor, AuditAction.DELETE, "disaster_plan_item", object_id=item_id)


# --- forecast zones -----------------------------------------------------------------------------------------


def zones(site_id: int) -> list[ForecastZone]:
    return list(ForecastZone.objects.filter(site_id=site_id).prefetch_related("areas"))


def _site_codes(site: Site, codes: Iterable[str], field_name: str) -> list[Area]:
    wanted = sorted(set(codes))
    found = list(Area.objects.filter(member_of_sites=site, abolished=False, level="emd", code__in=wanted))
    missing = sorted(set(wanted) - {a.code for a in found})
    if missing:
        raise DisasterError(
            field_name, "area_not_in_site", f"not current eup/myeon/dong of this site: {', '.join(missing)}"
        )
    return found


@transaction.atomic
def save_zone(actor: Actor, data: ZoneInput) -> ForecastZone:
    site = _setup_site(actor.principal, Action.CHANGE)
    found = _site_codes(site, data.area_codes, "area_codes")
    zone, created = ForecastZone.objects.update_or_create(site=site, code=data.code, defaults={"name": data.name})
    zone.areas.set(found)
    audit.log(actor, AuditAction.CREATE if created else AuditAction.CHANGE, "forecast_zone", object_id=zone.pk,
              changes={"code": data.code, "areas": [a.code for a in found]})  # fmt: skip
    return zone


@transaction.atomic
def delete_zone(actor: Actor, zone_id: int) -> None:
    site = _setup_site(actor.principal, Action.CHANGE)
    deleted, _count = ForecastZone.objects.filter(site=site, pk=zone_id).delete()
    if not deleted:
        raise NotFound("forecast zone", zone_id)
    audit.log(actor, AuditAction.DELETE, "forecast_zone", object_id=zone_id)


@transaction.atomic
def import_zones_csv(actor: Actor, content: bytes) -> int:
    """``zone_code,zone_name,area_code`` rows (one per zone and eup/myeon/dong; UTF-8 or CP949). All or nothing:
    every bad row is named. Zones in the file replace those of the same code; others are kept."""
    from maeul.people.errors import ImportRejected, RowError
    from maeul.people.services import read_csv_text

    site = _setup_site(actor.principal, Action.CHANGE)
    reader = csv.DictReader(io.StringIO(read_csv_text(content)))
    missing = {"zone_code", "zone_name", "area_code"} - set(reader.fieldnames or [])
    if missing:
        raise ImportRejected([RowError(1, c, "missing column") for c in sorted(missing)])
    known = set(Area.objects.filter(member_of_sites=site, abolished=False, level="emd").values_list("code", flat=True))
    grouped: dict[str, tuple[str, set[str]]] = {}
    problems = []
    for row_no, row in enumerate(reader, start=2):
        code, name, area = (row.get(k, "").strip() for k in ("zone_code", "zone_name", "area_code"))
        if not code:
            problems.append(RowError(row_no, "zone_code", "required"))
            continue
        if area not in known:
            problems.append(
                RowError(row_no, "area_code", f"{area or '(empty)'} is not a current eup/myeon/dong of this site")
            )
            continue
        grouped.setdefault(code, (name or code, set()))[1].add(area)
    if problems:
        raise ImportRejected(problems)
    for code, (name, codes) in grouped.items():
        save_zone(actor, ZoneInput(code=code, name=name, area_codes=sorted(codes)))
    return len(grouped)


# --- alert sources ------------------------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sources(site_id: int) -> list[AlertSource]:
    return list(AlertSource.objects.filter(site_id=site_id))


@transaction.atomic
def create_source(actor: Actor, data: SourceInput) -> tuple[AlertSource, str]:
    """A CAP source. A push source gets a token, shown once (only its hash is kept); a polled one needs a URL."""
    site = _setup_site(actor.principal, Action.CHANGE)
    if data.kind == SourceKind.POLL and not data.url:
        raise DisasterError("url", "url_required", "a polled feed needs its address")
    if AlertSource.objects.filter(site=site, name=data.name).exists():
        raise DisasterError("name", "duplicate", f"a source called “{data.name}” exists")
    token = secrets.token_urlsafe(32) if data.kind == SourceKind.PUSH else ""
    source = AlertSource.objects.create(
        site=site, name=data.name, kind=data.kind, url=data.url if data.kind == SourceKind.POLL else "",
        poll_minutes=data.poll_minutes, token_hash=_hash_token(token) if token else "", token_hint=token[:6],
        created_by_id=actor.principal.user_id,
    )  # fmt: skip
    audit.log(actor, AuditAction.CREATE, "alert_source", object_id=source.pk)
    return source, token


@transaction.atomic
def set_source_active(actor: Actor, source_id: int, active: bool) -> AlertSource:
    site = _setup_site(actor.principal, Action.CHANGE)
    source = AlertSource.objects.filter(site=site, pk=source_id).first()
    if source is None:
        raise NotFound("alert source", source_id)
    source.active = active
    source.save(update_fields=["active"])
    audit.log(actor, AuditAction.CHANGE, "alert_source", object_id=source.pk, changes={"active": [not active, active]})
    return source


def source_for_token(token: str) -> AlertSource | None:
    if not token:
        return None
    return (
        AlertSource.objects.filter(token_hash=_hash_token(token), kind=SourceKind.PUSH, active=True)
        .select_related("site")
        .first()
    )


def messages(site_id: int, limit: int = 100) -> list[CapMessage]:
    return list(CapMessage.objects.filter(site_id=site_id).select_related("source")[:limit])


# --- matching an alert ------------------------------------------------------------------------------------------


@dataclass
class HazardGroup:
    """The infos of one alert about one hazard, with what their areas cover at one site."""

    hazard: Hazard
    level: Level
    info: cap.CapInfo  # the one whose texts are shown (Korean first)
    matches: list[matching.AreaMatch]

    @property
    def mask(self) -> np.ndarray:
        combined = self.matches[0].mask.copy()
        for m in self.matches[1:]:
            combined |= m.mask
        return combined

    @property
    def codes(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for m in self.matches:
            for code, by in m.codes.items():
                out.setdefault(code, by)
        return out

    @property
    def shapes(self) -> list[dict[str, Any]]:
        return [{"description": m.description, **m.shapes} for m in self.matches]


def _korean_first(infos: Sequence[cap.CapInfo]) -> cap.CapInfo:
    return next((i for i in infos if i.language.lower().startswith("ko")), infos[0])


def _unique_areas(infos: Sequence[cap.CapInfo]) -> list[cap.CapArea]:
    """The areas of several infos (the same warning in Korean and English repeats them) without repeats."""
    seen: set[str] = set()
    out = []
    for info in infos:
        for area in info.areas:
            key = repr(area.shapes_json())
            if key not in seen:
                seen.add(key)
                out.append(area)
    return out


def group_by_hazard(
    alert: cap.CapAlert, geo: matching.SiteGeography, table: matching.HouseholdTable
) -> list[HazardGroup]:
    by_hazard: dict[Hazard, list[cap.CapInfo]] = defaultdict(list)
    for info in alert.infos:
        hazard = catalogue.hazard_of(info)
        if hazard is not None:
            by_hazard[hazard].append(info)
    groups = []
    for hazard, infos in by_hazard.items():
        areas = _unique_areas(infos)
        matches = [matching.match_area(geo, table, a) for a in areas]
        if not matches:
            continue
        levels = [catalogue.level_of(i) for i in infos]
        level = Level.WARNING if Level.WARNING in levels else Level.ADVISORY if Level.ADVISORY in levels else Level.NONE
        groups.append(HazardGroup(hazard, level, _korean_first(infos), matches))
    return groups


def preview(raw: bytes, site_list: Sequence[Site]) -> dict[str, Any]:
    """What an alert would activate, changing nothing: what ``maeul alerts import --dry-run`` prints. Raises
    ``cap.CapError`` for a message that would be rejected."""
    alert = cap.parse(raw)
    per_site = [(site, matching.SiteGeography.of(site.pk), matching.load_households(site.pk)) for site in site_list]
    infos = []
    for info in alert.infos:
        hazard = catalogue.hazard_of(info)
        areas_out = []
        for area in info.areas:
            codes: set[str] = set()
            households = 0
            unmatched: list[tuple[str, str]] = list(area.geocodes)
            for _site, geo, table in per_site:
                found = matching.match_area(geo, table, area)
                codes |= set(found.codes)
                households += found.households
                unmatched = [g for g in unmatched if g in found.unmatched_geocodes]
            areas_out.append(
                {
                    "areaDesc": area.description,
                    **area.shapes_json(),
                    "matched_codes": sorted(codes),
                    "unmatched_geocodes": [{"valueName": n, "value": v} for n, v in unmatched],
                    "households": households,
                }
            )
        infos.append(
            {
                "language": info.language,
                "event": info.event,
                "category": info.categories,
                "urgency": info.urgency,
                "severity": info.severity,
                "certainty": info.certainty,
                "hazard": hazard.value if hazard else None,
                "level": catalogue.level_of(info).value or None if hazard else None,
                "headline": info.headline,
                "expires": info.expires.isoformat() if info.expires else None,
                "areas": areas_out,
            }
        )
    return {
        "identifier": alert.identifier,
        "sender": alert.sender,
        "sent": alert.sent.isoformat(),
        "status": alert.status,
        "msgType": alert.msg_type,
        "scope": alert.scope,
        "references": [{"sender": r.sender, "identifier": r.identifier, "sent": r.sent.isoformat() if r.sent else None}
                       for r in alert.references],
        "info": infos,
        "sites": [
            {"site": site.slug, "would": _would(alert, site, groups)}
            for site, groups in ((s, group_by_hazard(alert, g, t)) for s, g, t in per_site)
        ],
    }  # fmt: skip


def _would(alert: cap.CapAlert, site: Site, groups: list[HazardGroup]) -> dict[str, Any]:
    """What applying the alert at ``site`` would do, as the dry run reports it."""
    decision = _decide(alert, site, groups)
    return {
        "action": decision.outcome,
        "reason": decision.reason,
        "responses": [r.pk for r in decision.responses],
        "hazards": [
            {"hazard": g.hazard.value, "level": g.level.value or None, "codes": sorted(g.codes),
             "households": int(g.mask.sum())}
            for g in groups
        ],
    }  # fmt: skip


@dataclass
class Decision:
    outcome: MessageOutcome
    reason: str
    detail: str = ""
    responses: list[Response] = field(default_factory=list)


def _referenced(alert: cap.CapAlert, site: Site) -> list[Response]:
    keys = {r.key for r in alert.references}
    if not keys:
        return []
    found = []
    for response in Response.objects.filter(site=site).exclude(status=ResponseStatus.CLOSED).order_by("activated_at"):
        if keys & set(response.cap_keys):
            found.append(response)
    return found


def _decide(alert: cap.CapAlert, site: Site, groups: list[HazardGroup]) -> Decision:
    if alert.status != "Actual":
        return Decision(MessageOutcome.IGNORED, "not_actual", f"status {alert.status}: only Actual alerts are acted on")
    if alert.msg_type in ("Ack", "Error"):
        return Decision(MessageOutcome.IGNORED, "not_an_alert", f"msgType {alert.msg_type} carries no warning")
    if (
        CapMessage.objects.filter(site=site, sender=alert.sender, identifier=alert.identifier, sent=alert.sent)
        .exclude(outcome=MessageOutcome.REJECTED)
        .exists()
    ):
        return Decision(MessageOutcome.DUPLICATE, "duplicate", "this message was received before")
    if alert.msg_type == "Cancel":
        referenced = _referenced(alert, site)
        if not referenced:
            return Decision(MessageOutcome.IGNORED, "nothing_to_cancel", "it cancels no response running here")
        return Decision(MessageOutcome.CANCELLED, "cancelled", responses=referenced)
    if not groups:
        return Decision(MessageOutcome.IGNORED, "hazard_not_handled",
                        "no info is about a heat wave, cold wave, heavy rain, typhoon or earthquake")  # fmt: skip
    if not any(g.codes or g.mask.any() for g in groups):
        return Decision(MessageOutcome.IGNORED, "outside_site", "its areas cover no eup/myeon/dong of this site")
    if alert.msg_type == "Update":
        referenced = _referenced(alert, site)
        if referenced:
            return Decision(MessageOutcome.UPDATED, "updated", responses=referenced)
        return Decision(MessageOutcome.ACTIVATED, "update_of_unknown",
                        "an update of an alert not received here: activated as new")  # fmt: skip
    return Decision(MessageOutcome.ACTIVATED, "activated")


# --- receiving alerts -------------------------------------------------------------------------------------------


@dataclass
class Received:
    outcome: MessageOutcome
    reason: str
    detail: str
    message_ids: list[int]
    responses: list[Response]


def _store(
    raw: bytes,
    *,
    site: Site | None,
    source: AlertSource | None,
    channel: Channel,
    url: str,
    now: datetime,
    alert: cap.CapAlert | None,
    outcome: MessageOutcome,
    reason: str,
    detail: str,
) -> CapMessage:
    return CapMessage.objects.create(
        site=site, source=source, channel=channel, url=url[:500], received_at=now,
        raw=raw.decode("utf-8", errors="replace"),
        identifier=alert.identifier[:200] if alert else "", sender=alert.sender[:200] if alert else "",
        sent=alert.sent if alert else None, msg_type=alert.msg_type if alert else "",
        status=alert.status if alert else "", outcome=outcome, reason=reason, detail=detail[:1000],
    )  # fmt: skip


def receive(
    raw: bytes,
    *,
    channel: Channel,
    site_list: Sequence[Site],
    source: AlertSource | None = None,
    url: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Received:
    """Take a CAP message for the given sites: reject it (kept, with the reason), or activate, update or cancel
    responses. Each site is decided on its own; the answer is the most consequential outcome."""
    now = now or timezone.now()
    try:
        alert = cap.parse(raw)
    except cap.CapError as exc:
        stored = _store(raw, site=site_list[0] if len(site_list) == 1 else None, source=source, channel=channel,
                        url=url, now=now, alert=None, outcome=MessageOutcome.REJECTED, reason=exc.code,
                        detail=exc.detail)  # fmt: skip
        log.warning("CAP message rejected (%s): %s", exc.code, exc.detail)
        return Received(MessageOutcome.REJECTED, exc.code, exc.detail, [stored.pk], [])
    results = []
    for site in site_list:
        with transaction.atomic():
            geo = matching.SiteGeography.of(site.pk)
            table = matching.load_households(site.pk)
            groups = group_by_hazard(alert, geo, table)
            decision = _decide(alert, site, groups)
            acting = actor or _system_actor(site.pk, "worker" if channel == Channel.POLL else "api")
            touched: list[Response] = []
            if decision.outcome == MessageOutcome.ACTIVATED:
                for group in groups:
                    if group.codes or group.mask.any():
                        touched.append(_activate_from_alert(alert, site, group, table, acting, now))
            elif decision.outcome == MessageOutcome.UPDATED:
                for response in decision.responses:
                    group = next((g for g in groups if g.hazard == response.hazard), groups[0])
                    _apply_update(response, alert, group, table, acting, now)
                    touched.append(response)
            elif decision.outcome == MessageOutcome.CANCELLED:
                for response in decision.responses:
                    _cancel(response, acting, now, key=alert.key, by_alert=True)
                    touched.append(response)
            stored = _store(raw, site=site, source=source, channel=channel, url=url, now=now, alert=alert,
                            outcome=decision.outcome, reason=decision.reason, detail=decision.detail)  # fmt: skip
            stored.responses.set(touched)
        results.append((decision, stored.pk, touched))
    rank = [MessageOutcome.ACTIVATED, MessageOutcome.UPDATED, MessageOutcome.CANCELLED, MessageOutcome.DUPLICATE,
            MessageOutcome.IGNORED]  # fmt: skip
    results.sort(key=lambda r: rank.index(r[0].outcome))
    first = results[0][0] if results else Decision(MessageOutcome.IGNORED, "no_site", "no site to apply it to")
    return Received(
        first.outcome, first.reason, first.detail, [r[1] for r in results], [resp for r in results for resp in r[2]]
    )


def poll_due(now: datetime | None = None) -> int:
    """Worker step: fetch every active feed whose interval has passed; each new alert in it is received. A feed that
    cannot be read keeps its error on the source page and is tried again at the next interval."""
    now = now or timezone.now()
    received = 0
    for source in AlertSource.objects.filter(kind=SourceKind.POLL, active=True).select_related("site"):
        if source.last_polled_at and now - source.last_polled_at < timedelta(minutes=source.poll_minutes):
            continue
        source.last_polled_at = now
        try:
            received += _poll(source, now)
            source.last_error = ""
        except (httpx.HTTPError, cap.CapError) as exc:
            source.last_error = str(exc)[:300]
            log.warning("feed %s: %s", source.name, exc)
        source.save(update_fields=["last_polled_at", "last_error"])
    return received


def _fetch(url: str) -> bytes:
    response = httpx.get(url, timeout=FEED_TIMEOUT, follow_redirects=True)
    response.raise_for_status()
    return response.content


def _poll(source: AlertSource, now: datetime) -> int:
    body = _fetch(source.url)
    if cap.is_cap(body):
        candidates = [(source.url, body)]
    else:
        links = cap.feed_links(body)[:FEED_MAX_LINKS]
        seen = set(CapMessage.objects.filter(source=source, url__in=links).values_list("url", flat=True))
        candidates = [(link, _fetch(link)) for link in links if link not in seen]
    count = 0
    for url, raw in candidates:
        receive(raw, channel=Channel.POLL, site_list=[source.site], source=source, url=url, now=now)
        count += 1
    return count


# --- activating ---------------------------------------------------------------------------------------------


def _activate_from_alert(alert: cap.CapAlert, site: Site, group: HazardGroup, table: matching.HouseholdTable,
                         actor: Actor, now: datetime) -> Response:  # fmt: skip
    info = group.info
    hazard_label = str(Hazard(group.hazard).label)
    with translation.override(django_settings.LANGUAGE_CODE):
        title = info.headline or info.event or str(Hazard(group.hazard).label)
    return _activate(
        site,
        hazard=group.hazard,
        level=group.level,
        origin=Origin.CAP,
        title=title[:200] or hazard_label,
        texts={
            "event": info.event[:200], "headline": info.headline[:300], "instruction": info.instruction,
            "severity": info.severity[:10], "urgency": info.urgency[:10], "certainty": info.certainty[:10],
        },
        expires_at=info.expires,
        cap_keys=[alert.key],
        shapes=group.shapes,
        codes=group.codes,
        table=table,
        mask=group.mask,
        actor=actor,
        now=now,
    )  # fmt: skip


@transaction.atomic
def activate_manual(actor: Actor, data: ManualActivation, now: datetime | None = None) -> Response:
    """An official activates a response over eup/myeon/dong they work in (picked on the map or from the list)."""
    now = now or timezone.now()
    principal = actor.principal
    allowed = {a.code for a in working_areas(principal, Action.CREATE)}
    outside = [c for c in data.area_codes if c not in allowed]
    if outside:
        raise DisasterError("area_codes", "area_not_allowed", f"not eup/myeon/dong you work in: {', '.join(outside)}")
    site = Site.objects.get(pk=principal.site_pk)
    table = matching.load_households(site.pk)
    match = matching.match_codes(table, data.area_codes, data.title)
    return _activate(
        site, hazard=Hazard(data.hazard), level=Level(data.level), origin=Origin.MANUAL, title=data.title,
        texts={"instruction": data.instruction}, expires_at=None, cap_keys=[], shapes=[{"description": data.title,
        "codes": data.area_codes}], codes=match.codes, table=table, mask=match.mask, actor=actor, now=now,
    )  # fmt: skip


def _activate(site: Site, *, hazard: Hazard, level: Level, origin: Origin, title: str, texts: dict[str, Any],
              expires_at: datetime | None, cap_keys: list[str], shapes: list[dict[str, Any]], codes: dict[str, str],
              table: matching.HouseholdTable, mask: np.ndarray, actor: Actor, now: datetime) -> Response:  # fmt: skip
    plan = plan_for(site.pk, hazard)
    response = Response.objects.create(
        site=site, hazard=hazard, level=level, origin=origin, title=title, expires_at=expires_at, cap_keys=cap_keys,
        shapes=shapes, activated_at=now, activated_by_id=actor.principal.user_id,
        reach_by=now + timedelta(minutes=plan.reach_within_minutes), **texts,
    )  # fmt: skip
    ResponseArea.objects.bulk_create(
        ResponseArea(response=response, area_id=c, matched_by=by) for c, by in codes.items()
    )
    ChecklistLine.objects.bulk_create(
        ChecklistLine(response=response, audience=i.audience, text_ko=i.text_ko, text_en=i.text_en, order=i.order)
        for i in plan.items.all()
    )
    added = _add_entries(response, plan, table, mask, now)
    _timeline(response, TimelineKind.ACTIVATED, now, by=actor.principal.user_id, households=added.count,
              areas=sorted(codes), origin=origin, level=level)  # fmt: skip
    _owe(response, now, DispatchKind.ASSIGNMENT, added)
    if added.count == 0:
        response.completed_at = now
        response.save(update_fields=["completed_at"])
    audit.log(actor, AuditAction.CREATE, "disaster_response", object_id=response.pk, site_id=site.pk,
              record_count=added.count)  # fmt: skip
    _event("disaster.activated", response, actor=actor,
           data={"hazard": hazard, "level": level, "origin": origin, "households": added.count,
                 "areas": len(codes)})  # fmt: skip
    return response


# --- building the roll-call ---------------------------------------------------------------------------------------


NONE = -1  # "no helper / member / account" in the numpy columns below


@dataclass(frozen=True)
class _HelperTable:
    """Each household with an active helper: the household, its helper and the helper's account (NONE if none), as
    numpy columns sorted by household."""

    household: np.ndarray
    helper: np.ndarray
    account: np.ndarray

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each household key, its helper and account, or NONE."""
        helper = np.full(keys.size, NONE, dtype=np.int64)
        account = np.full(keys.size, NONE, dtype=np.int64)
        if not self.household.size or not keys.size:
            return helper, account
        position = np.clip(np.searchsorted(self.household, keys), 0, self.household.size - 1)
        hit = self.household[position] == keys
        helper[hit] = self.helper[position[hit]]
        account[hit] = self.account[position[hit]]
        return helper, account


def _helpers(site_id: int) -> _HelperTable:
    """Active assignments read as numpy columns (``columns.read``): 60,000 row tuples and a dictionary would cost a
    tenth of the roll-call's budget."""
    is_backup = f"CASE WHEN a.role = '{AssignmentRole.PRIMARY.value}' THEN 0 ELSE 1 END"
    texts = columns.read(
        ("a.household_id", "a.helper_id", f"COALESCE(h.account_id, {NONE})", is_backup),
        f"FROM {Assignment._meta.db_table} a JOIN {Helper._meta.db_table} h ON h.id = a.helper_id"
        " WHERE a.ended_at IS NULL AND h.active = %s AND h.site_id = %s",  # a helper works for one site
        [True, site_id],
    )
    household, helper, account, backup = (columns.numbers(text) for text in texts)
    # Primary before backup, so the primary wins when a household has both.
    order = np.lexsort((backup, household))
    household, helper, account = household[order], helper[order], account[order]
    first = np.ones(household.size, dtype=bool)
    first[1:] = household[1:] != household[:-1]
    return _HelperTable(household[first], helper[first], account[first])


@dataclass
class _Context:
    """What ordering and splitting a roll-call needs about a site, read in a handful of queries as plain rows and
    numpy columns."""

    readiness: dict[int, tuple[str, str, bool]]
    helpers: _HelperTable
    members: dict[str, list[tuple[int, int | None]]]  # area → [(member, its account)]
    open_alerts: set[int]
    quiet: set[int]  # monitored households no device has been heard from for QUIET_HOURS
    indoor: dict[int, float]


def _rows_of(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def _context(site_id: int, hazard: Hazard, plan: ResponsePlan, now: datetime) -> _Context:
    """Read as plain tuples, not model instances: for tens of thousands of assignments and devices the ORM's
    per-row work would take longer than building the whole roll-call."""
    readiness = {
        hid: (cool, heat, bool(help_))
        for hid, cool, heat, help_ in HouseholdReadiness.objects.filter(household__site_id=site_id).values_list(
            "household_id", "has_cooling", "has_heating", "needs_evacuation_help"
        )
    }
    helpers = _helpers(site_id)
    today = timezone.localdate(now)
    members: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for member_id, area_id, account_id in (
        BodyMember.objects.filter(site_id=site_id, term_start__lte=today)
        .filter(Q(term_end=None) | Q(term_end__gte=today))
        .order_by("id")
        .values_list("id", "area_id", "account_id")
    ):
        members[area_id].append((member_id, account_id))
    open_alerts = set(
        Alert.objects.filter(site_id=site_id, household__isnull=False)
        .exclude(status=AlertStatus.RESOLVED)
        .exclude(kind__in=list(DEVICE_KINDS))
        .values_list("household_id", flat=True)
    )
    cutoff = connection.ops.adapt_datetimefield_value(now - timedelta(hours=QUIET_HOURS))
    quiet = {
        row[0]
        for row in _rows_of(
            f"SELECT household_id FROM {Device._meta.db_table} WHERE site_id = %s AND active = %s"  # noqa: S608
            " GROUP BY household_id HAVING MAX(last_seen_at) IS NULL OR MAX(last_seen_at) < %s",
            [site_id, True, cutoff],
        )
    }
    return _Context(readiness, helpers, dict(members), open_alerts, quiet, _indoor(site_id, hazard, plan, now))


def _indoor(site_id: int, hazard: str, plan: ResponsePlan, now: datetime) -> dict[int, float]:
    """Households whose own indoor temperature in the last hour is dangerous for this hazard: the hottest reading
    at or above the plan's limit in a heat wave, the coldest at or below it in a cold wave."""
    if plan.indoor_celsius is None or hazard not in (Hazard.HEAT, Hazard.COLD):
        return {}
    devices = Device.objects.filter(site_id=site_id, active=True).values("household_id")
    readings = Reading.objects.filter(at__gte=now - INDOOR_WINDOW, at__lte=now, kind="temperature",
                                      household_id__in=devices).order_by().values("household_id")  # fmt: skip
    if hazard == Hazard.HEAT:
        rows = readings.annotate(t=Max("value")).filter(t__gte=plan.indoor_celsius)
    else:
        rows = readings.annotate(t=Min("value")).filter(t__lte=plan.indoor_celsius)
    return {r["household_id"]: float(r["t"]) for r in rows}


def _reason_columns(table: matching.HouseholdTable, picked: np.ndarray, hazard: Hazard,
                    ctx: _Context) -> dict[str, np.ndarray]:  # fmt: skip
    """Each reason as a boolean column over the picked households (numpy: 100,000 households in milliseconds)."""
    ids = table.ids[picked]

    def among(found: Iterable[int]) -> np.ndarray:
        return np.isin(ids, np.fromiter(found, dtype=np.int64)) if ids.size else np.zeros(0, dtype=bool)

    housing = table.housing[picked]
    care = table.care[picked]
    ready = ctx.readiness
    return {
        "bedridden": table.flags["bedridden"][picked],
        "disability": table.flags["disability"][picked],
        "living_alone": table.flags["living_alone"][picked],
        "older_adult": table.flags["older_adult"][picked],
        "care_high": care == 3,
        "care_medium": care == 2,
        "chronic_illness": table.flags["chronic_illness"][picked],
        "financial_crisis": table.flags["financial_crisis"][picked],
        "semi_basement": housing == "semi_basement",
        "rooftop": housing == "rooftop",
        "goshiwon": housing == "goshiwon",
        "no_cooling": among(h for h, r in ready.items() if r[0] == Preparedness.NO),
        "no_heating": among(h for h, r in ready.items() if r[1] == Preparedness.NO),
        "needs_evacuation_help": among(h for h, r in ready.items() if r[2]),
        "indoor_hot": among(ctx.indoor) if hazard == Hazard.HEAT else np.zeros(ids.size, dtype=bool),
        "indoor_cold": among(ctx.indoor) if hazard == Hazard.COLD else np.zeros(ids.size, dtype=bool),
        "open_alert": among(ctx.open_alerts),
        "quiet": among(ctx.quiet),
    }


@dataclass
class _Added:
    count: int
    # (helper, member, assignee) → households, and area → households nobody was assigned: the messages owed.
    people: Counter[tuple[int | None, int | None, int | None]]
    unassigned: Counter[str]


def _add_entries(response: Response, plan: ResponsePlan, table: matching.HouseholdTable, mask: np.ndarray,
                 now: datetime, skip: set[int] | None = None) -> _Added:  # fmt: skip
    """Insert roll-call entries for the households selected by ``mask`` (minus ``skip``): ordered by the plan's
    weights (the reasons kept as bits), handed to the household's helper, else to the area's consultative body
    members in turn, else left to the area's officials. Column by column with numpy: 100,000 households in well
    under a second."""
    hazard = Hazard(response.hazard)
    ctx = _context(response.site_id, hazard, plan, now)
    weights = catalogue.weights_for(hazard)
    picked = mask.copy() if table.size else np.zeros(0, dtype=bool)
    if skip and table.size:
        picked &= ~np.isin(table.ids, np.fromiter(skip, dtype=np.int64))
    reason_columns = _reason_columns(table, picked, hazard, ctx)
    ids = table.ids[picked]
    priority = np.zeros(ids.size, dtype=np.int64)
    bits = np.zeros(ids.size, dtype=np.int64)
    for code, column in reason_columns.items():
        if weights.get(code):  # only what counts for this hazard is shown as a reason
            priority += weights[code] * column
            bits |= catalogue.BIT[code] * column
    # Highest priority first (then the household's number), so members take their turns from the top.
    order = np.lexsort((ids, -priority))
    ids, priority, bits, areas = ids[order], priority[order], bits[order], table.area[picked][order]
    helper, assignee = ctx.helpers.lookup(ids)
    member = np.full(ids.size, NONE, dtype=np.int64)
    for area, pool in ctx.members.items():
        turn = np.flatnonzero((helper == NONE) & (areas == area))
        if turn.size:
            chosen = np.arange(turn.size) % len(pool)
            member[turn] = np.array([m for m, _a in pool], dtype=np.int64)[chosen]
            assignee[turn] = np.array([NONE if a is None else a for _m, a in pool], dtype=np.int64)[chosen]
    people: Counter[tuple[int | None, int | None, int | None]] = Counter()
    unassigned: Counter[str] = Counter()
    nobody = (helper == NONE) & (member == NONE)
    for area, n in zip(*np.unique(areas[nobody], return_counts=True), strict=True):
        unassigned[str(area)] = int(n)
    if (~nobody).any():
        # A household has a helper or a member, never both, and each has one account: one integer names the pair
        # (a helper's id, or -2 - a member's), which numpy counts far faster than rows of three.
        held_by = np.where(helper != NONE, helper, -2 - member)[~nobody]
        keys, first, counts = np.unique(held_by, return_index=True, return_counts=True)
        accounts = assignee[~nobody][first]
        for key, account, n in zip(keys.tolist(), accounts.tolist(), counts.tolist(), strict=True):
            pair = (key, None) if key >= 0 else (None, -2 - key)
            people[(*pair, None if account == NONE else account)] += n
    indoor = np.array([ctx.indoor.get(h, np.nan) for h in ids.tolist()]) if ctx.indoor else np.full(ids.size, np.nan)
    # Written in household order (on PostgreSQL, within each row layout of the COPY): the unique index then grows
    # mostly at its end.
    by_household = np.argsort(ids, kind="stable")
    new_entries = _EntryColumns(ids, areas, priority, bits, helper, member, assignee, indoor).sorted(by_household)
    due = response.reach_by if response.reach_by > now else now + timedelta(minutes=plan.reach_within_minutes)
    first_step = due + timedelta(minutes=(plan.escalation_minutes or [0])[0])
    _insert_entries(response.pk, new_entries, due, first_step)
    return _Added(int(ids.size), people, unassigned)


@dataclass(frozen=True)
class _EntryColumns:
    """New roll-call entries as numpy columns; NONE marks no helper, member or account, NaN no indoor reading."""

    household: np.ndarray
    area: np.ndarray
    priority: np.ndarray
    reasons: np.ndarray
    helper: np.ndarray
    member: np.ndarray
    assignee: np.ndarray
    indoor: np.ndarray

    def sorted(self, order: np.ndarray) -> _EntryColumns:
        return _EntryColumns(*(getattr(self, f.name)[order] for f in fields_of(self)))

    def rows(self) -> list[tuple[Any, ...]]:
        def nullable(values: np.ndarray) -> list[int | None]:
            return [None if v == NONE else v for v in values.tolist()]

        return list(
            zip(
                self.household.tolist(), self.area.tolist(), self.priority.tolist(), self.reasons.tolist(),
                nullable(self.helper), nullable(self.member), nullable(self.assignee),
                [None if t != t else t for t in self.indoor.tolist()],  # NaN (no reading) is the one t != t
                strict=True,
            )
        )  # fmt: skip


_ENTRY_COLUMNS = (
    "response_id", "household_id", "area_id", "priority", "reasons", "helper_id", "member_id", "assignee_id",
    "indoor_celsius", "due_at", "next_escalation_at",
)  # fmt: skip


def _insert_entries(response_id: int, new: _EntryColumns, due: datetime, first_step: datetime) -> None:
    """Many rows at once: a binary COPY on PostgreSQL, one prepared INSERT on SQLite (``bulk_create`` builds a model
    per row, which alone takes longer than the 2-second target for 100,000 households). Every new entry has the same
    deadline and first escalation time; status, attempts and escalation level are the columns' database defaults."""
    count = int(new.household.size)
    if not count:
        return
    table = RollCallEntry._meta.db_table
    columns = ", ".join(_ENTRY_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The wire types are the columns' (``bigint`` keys, the user model's ``integer`` one); a mismatch fails
            # the COPY, and the PostgreSQL test run writes roll-calls.
            stream = pgcopy.payload([
                pgcopy.bigint(np.full(count, response_id)), pgcopy.bigint(new.household), pgcopy.text(new.area),
                pgcopy.smallint(new.priority), pgcopy.integer(new.reasons),
                pgcopy.bigint(new.helper, new.helper == NONE), pgcopy.bigint(new.member, new.member == NONE),
                pgcopy.integer(new.assignee, new.assignee == NONE), pgcopy.double(new.indoor),
                pgcopy.timestamptz(due, count), pgcopy.timestamptz(first_step, count),
            ])  # fmt: skip
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(stream)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            fixed_values = (adapt(due), adapt(first_step))
            placeholders = ", ".join(["%s"] * len(_ENTRY_COLUMNS))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 — fixed names only
                [(response_id, *row, *fixed_values) for row in new.rows()],
            )


_DISPATCH_COLUMNS = ("response_id", "kind", "helper_id", "member_id", "user_id", "area_id", "households",
                     "reference", "created_at", "channels")  # fmt: skip


def _owe(response: Response, now: datetime, kind: DispatchKind, added: _Added) -> int:
    """The messages owed for households just handed out: one per helper and member, and one per official of each
    area for the households nobody was assigned. Written as plain rows: a large site has thousands of helpers."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    rows: list[tuple[Any, ...]] = [
        (response.pk, kind.value, helper_id, member_id, assignee, None, n, "", stamp, "")
        for (helper_id, member_id, assignee), n in added.people.items()
    ]
    for area, n in added.unassigned.items():
        rows += [
            (response.pk, kind.value, None, None, u, area, n, "", stamp, "")
            for u in _officials(response.site_id, area, now)
        ]
    if not rows:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one COPY, not a round trip per row
            with cursor.cursor.copy(
                f"COPY {Dispatch._meta.db_table} ({', '.join(_DISPATCH_COLUMNS)}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(_DISPATCH_COLUMNS))
            cursor.executemany(
                f"INSERT INTO {Dispatch._meta.db_table} ({', '.join(_DISPATCH_COLUMNS)})"  # noqa: S608 — fixed names
                f" VALUES ({placeholders})",
                rows,
            )
    return len(rows)


def _owe_assignments(response: Response, now: datetime, kind: DispatchKind, only: set[int] | None = None) -> int:
    """One message per person with outstanding households in the response: each helper and member, and each area's
    officials for the households nobody was assigned. ``only``: limit to these entries (households just added)."""
    entries = RollCallEntry.objects.filter(response=response, in_area=True, status__in=OUTSTANDING)
    if only is not None:
        entries = entries.filter(pk__in=only)
    owed = []
    for row in entries.order_by().values("helper_id", "member_id", "assignee_id").annotate(n=Count("id")):
        if row["helper_id"] is None and row["member_id"] is None and row["assignee_id"] is None:
            continue
        owed.append(Dispatch(response=response, kind=kind, helper_id=row["helper_id"], member_id=row["member_id"],
                             user_id=row["assignee_id"], households=row["n"], created_at=now))  # fmt: skip
    unassigned = (
        entries.filter(helper=None, member=None, assignee=None).order_by().values("area_id").annotate(n=Count("id"))
    )
    for row in unassigned:
        for user_id in _officials(response.site_id, row["area_id"], now):
            owed.append(Dispatch(response=response, kind=kind, user_id=user_id, area_id=row["area_id"],
                                 households=row["n"], created_at=now))  # fmt: skip
    Dispatch.objects.bulk_create(owed)
    return len(owed)


def _officials(site_id: int, area_code: str, now: datetime) -> list[int]:
    """The area's officials in office hours; the official on call at other times (or, with nobody on call, the
    area's officials anyway)."""
    settings = sites.settings_of(Site.objects.get(pk=site_id))
    if not watch_escalation.in_office_hours(site_id, settings, now):
        duty = watch_escalation.on_call(site_id, now)
        if duty:
            return duty
    return list(
        Membership.objects.filter(site_id=site_id, role__in=OFFICIAL_ROLES, user__is_active=True, areas__code=area_code)
        .values_list("user_id", flat=True)
        .distinct()
    )


# --- updates and cancellations ----------------------------------------------------------------------------------


def _apply_update(response: Response, alert: cap.CapAlert, group: HazardGroup, table: matching.HouseholdTable,
                  actor: Actor, now: datetime) -> None:  # fmt: skip
    """An Update replaces the alert's area and texts: households newly inside join the roll-call (and their
    people are told); households no longer inside that nobody has contacted leave it; contacts already made stay."""
    plan = plan_for(response.site_id, response.hazard)
    inside = set(table.ids[group.mask].tolist()) if table.size else set()
    existing = dict(RollCallEntry.objects.filter(response=response).values_list("household_id", "in_area"))
    back = [hid for hid, in_area in existing.items() if not in_area and hid in inside]
    if back:
        RollCallEntry.objects.filter(response=response, household_id__in=back).update(
            in_area=True, next_escalation_at=now + timedelta(minutes=plan.reach_within_minutes)
        )
    leaving = RollCallEntry.objects.filter(response=response, in_area=True, status=EntryStatus.PENDING).exclude(
        household_id__in=inside
    )
    removed = leaving.update(in_area=False, next_escalation_at=None)
    added = _add_entries(response, plan, table, group.mask, now, skip=set(existing))
    previous_level = response.level
    info = group.info
    response.level = group.level or response.level
    response.headline = info.headline[:300] or response.headline
    response.instruction = info.instruction or response.instruction
    response.expires_at = info.expires or response.expires_at
    response.severity, response.urgency, response.certainty = info.severity[:10], info.urgency[:10], info.certainty[:10]
    response.shapes = group.shapes
    response.cap_keys = [*response.cap_keys, alert.key]
    response.save()
    for code, by in group.codes.items():
        ResponseArea.objects.get_or_create(response=response, area_id=code, defaults={"matched_by": by})
    _timeline(response, TimelineKind.UPDATED, now, by=actor.principal.user_id, added=added.count + len(back),
              removed=removed, level_from=previous_level, level_to=response.level,
              areas=sorted(group.codes))  # fmt: skip
    if added.count:
        _owe(response, now, DispatchKind.ASSIGNMENT, added)
    _owe_assignments(response, now, DispatchKind.UPDATE, only=None)
    _settle_completion(response, now)
    _event(
        "disaster.updated",
        response,
        actor=actor,
        data={"added": added.count, "removed": removed, "level": response.level},
    )


def _cancel(response: Response, actor: Actor, now: datetime, *, key: str = "", by_alert: bool) -> None:
    """The alert is withdrawn: no more escalations; the people still calling are told to finish and record."""
    if response.status != ResponseStatus.ACTIVE:
        return
    response.status = ResponseStatus.CANCELLED
    response.cancelled_at = now
    if key:
        response.cap_keys = [*response.cap_keys, key]
    response.save(update_fields=["status", "cancelled_at", "cap_keys"])
    RollCallEntry.objects.filter(response=response).update(next_escalation_at=None)
    _timeline(response, TimelineKind.CANCELLED, now, by=actor.principal.user_id, by_alert=by_alert)
    _owe_assignments(response, now, DispatchKind.CANCEL)
    _event("disaster.cancelled", response, actor=actor, data={"by_alert": by_alert})


@transaction.atomic
def stand_down(actor: Actor, response_id: int, now: datetime | None = None) -> Response:
    """An official stops escalations because the danger is over (no cancelling alert came)."""
    response = _response(actor.principal, response_id, Action.CHANGE)
    _cancel(response, actor, now or timezone.now(), by_alert=False)
    audit.log(
        actor,
        AuditAction.CHANGE,
        "disaster_response",
        object_id=response.pk,
        changes={"status": ["active", "cancelled"]},
    )
    return response


@transaction.atomic
def close(actor: Actor, response_id: int, now: datetime | None = None) -> Response:
    """Close the response: the roll-call is finished (or given up on, which the report will show)."""
    now = now or timezone.now()
    response = _response(actor.principal, response_id, Action.CHANGE)
    if response.status == ResponseStatus.CLOSED:
        raise DisasterError("", "already_closed", "this response is already closed")
    outstanding = RollCallEntry.objects.filter(response=response, in_area=True, status__in=OUTSTANDING).count()
    before = response.status
    response.status = ResponseStatus.CLOSED
    response.closed_at = now
    response.closed_by_id = actor.principal.user_id
    response.save(update_fields=["status", "closed_at", "closed_by"])
    RollCallEntry.objects.filter(response=response).update(next_escalation_at=None)
    _timeline(response, TimelineKind.CLOSED, now, by=actor.principal.user_id, outstanding=outstanding)
    audit.log(
        actor, AuditAction.CHANGE, "disaster_response", object_id=response.pk, changes={"status": [before, "closed"]}
    )
    _event("disaster.closed", response, actor=actor, data={"outstanding": outstanding})
    return response


@transaction.atomic
def add_note(actor: Actor, response_id: int, text: str, now: datetime | None = None) -> TimelineEntry:
    response = _response(actor.principal, response_id, Action.CHANGE)
    if not text.strip():
        raise DisasterError("text", "required", "write the note")
    return _timeline(response, TimelineKind.NOTE, now or timezone.now(), by=actor.principal.user_id, text=text.strip())


@transaction.atomic
def tick(actor: Actor, line_id: int, done: bool, note: str = "", now: datetime | None = None) -> ChecklistLine:
    """Mark a checklist line done (or not). Officials tick any line; members the lines for members."""
    principal = actor.principal
    if not principal.can(Resource.DISASTER, Action.CONFIRM):
        raise DisasterError("", "not_allowed", "your role does not tick checklists")
    line = (
        ChecklistLine.objects.filter(pk=line_id, response__in=visible_responses(principal))
        .select_related("response")
        .first()
    )
    if line is None:
        raise NotFound("checklist line", line_id)
    if principal.role == Role.BODY_MEMBER and line.audience != Audience.MEMBER:
        raise DisasterError("", "not_allowed", "this line is for officials")
    now = now or timezone.now()
    line.done_at = now if done else None
    line.done_by_id = principal.user_id if done else None
    line.note = note[:300]
    line.save(update_fields=["done_at", "done_by", "note"])
    _timeline(line.response, TimelineKind.CHECKLIST, now, by=principal.user_id, line=line.pk, done=done)
    return line


# --- contacts ------------------------------------------------------------------------------------------------


def _settle_completion(response: Response, now: datetime) -> None:
    """Keep ``completed_at`` true: set when the last household is accounted for, cleared when one is not again."""
    outstanding = RollCallEntry.objects.filter(response=response, in_area=True, status__in=OUTSTANDING).exists()
    if not outstanding and response.completed_at is None:
        response.completed_at = now
        response.save(update_fields=["completed_at"])
        total = RollCallEntry.objects.filter(response=response, in_area=True).count()
        _timeline(response, TimelineKind.COMPLETED, now, households=total,
                  minutes=round((now - response.activated_at).total_seconds() / 60))  # fmt: skip
        _event("disaster.completed", response, data={"households": total,
               "minutes": round((now - response.activated_at).total_seconds() / 60)})  # fmt: skip
    elif outstanding and response.completed_at is not None:
        response.completed_at = None
        response.save(update_fields=["completed_at"])


@transaction.atomic
def record_contact(actor: Actor, entry_id: int, data: ContactInput, now: datetime | None = None) -> RollCallEntry:
    now = now or timezone.now()
    principal = actor.principal
    entry = (
        visible_entries(principal, Action.CHANGE)
        .select_for_update(of=("self",))
        .select_related("response", "household")
        .filter(pk=entry_id)
        .first()
    )
    if entry is None:
        raise NotFound("roll-call entry", entry_id)
    if entry.response.status == ResponseStatus.CLOSED:
        raise DisasterError("", "closed", "this response is closed; contacts can no longer be recorded")
    Contact.objects.create(entry=entry, at=now, result=data.result, method=data.method,
                           note_encrypted=fields.encrypt(data.note) if data.note else "", by_id=principal.user_id,
                           by_role=principal.role or "")  # fmt: skip
    before = entry.status
    entry.status = data.result
    entry.attempts += 1
    entry.last_contact_at = now
    if data.result in ACCOUNTED:
        entry.accounted_at = entry.accounted_at or now
        entry.next_escalation_at = None
    else:
        entry.accounted_at = None
        if entry.next_escalation_at is None and entry.response.status == ResponseStatus.ACTIVE and entry.in_area:
            plan = plan_for(entry.response.site_id, entry.response.hazard)
            steps = plan.escalation_minutes or [0]
            level = min(entry.escalation_level, len(steps) - 1)
            entry.next_escalation_at = max(now, entry.due_at + timedelta(minutes=steps[level]))
    entry.save()
    _learn_readiness(entry.household_id, data, principal.user_id)
    audit.log(actor, AuditAction.CHANGE, RESOURCE, object_id=entry.pk, household_id=entry.household_id,
              site_id=entry.response.site_id, area_code=entry.area_id,
              changes={"status": [before, data.result], "method": data.method})  # fmt: skip
    _event("disaster.contact", entry.response, actor=actor, household_id=entry.household_id, area_code=entry.area_id,
           data={"result": data.result, "method": data.method, "attempt": entry.attempts})  # fmt: skip
    _settle_completion(entry.response, now)
    return entry


def _learn_readiness(household_id: int, data: ContactInput, user_id: int | None) -> None:
    changes = {
        k: v
        for k, v in (("has_cooling", data.has_cooling), ("has_heating", data.has_heating),
                     ("needs_evacuation_help", data.needs_evacuation_help))
        if v is not None
    }  # fmt: skip
    if changes:
        HouseholdReadiness.objects.update_or_create(
            household_id=household_id, defaults={**changes, "updated_by_id": user_id}
        )


def erase_destroyed_notes(actor: Actor) -> int:
    """Retention: the free-text notes of contacts with households whose personal data has been destroyed are
    wiped too (the coded results stay, for the figures)."""
    erased = (
        Contact.objects.filter(entry__household__destroyed_at__isnull=False)
        .exclude(note_encrypted="")
        .update(note_encrypted="")
    )
    if erased:
        audit.log(actor, AuditAction.DESTROY, "roll_call_note", record_count=erased, reason="retention period ended")
    return erased


@transaction.atomic
def reassign(actor: Actor, entry_ids: Sequence[int], *, helper_id: int | None = None, member_id: int | None = None,
             to_self: bool = False, now: datetime | None = None) -> int:  # fmt: skip
    """Move outstanding households to another helper or member of the site, or to the acting official."""
    now = now or timezone.now()
    principal = actor.principal
    entries = visible_entries(principal, Action.CHANGE).filter(pk__in=entry_ids, status__in=OUTSTANDING)
    if principal.scope(Resource.ROLL_CALL, Action.CHANGE) == Scope.GRANTED:
        raise DisasterError("", "not_allowed", "only officials hand households to someone else")
    values: dict[str, Any] = {"helper_id": None, "member_id": None, "assignee_id": None}
    if helper_id is not None:
        helper = Helper.objects.filter(pk=helper_id, site_id=principal.site_pk, active=True).first()
        if helper is None:
            raise DisasterError("helper_id", "unknown_helper", "no active helper with that number at this site")
        values.update(helper_id=helper.pk, assignee_id=helper.account_id)
    elif member_id is not None:
        member = BodyMember.objects.filter(pk=member_id, site_id=principal.site_pk).first()
        if member is None:
            raise DisasterError("member_id", "unknown_member", "no consultative body member with that number here")
        values.update(member_id=member.pk, assignee_id=member.account_id)
    elif to_self:
        values.update(assignee_id=principal.user_id)
    ids = list(entries.values_list("pk", flat=True))
    moved = RollCallEntry.objects.filter(pk__in=ids).update(**values)
    if moved:
        response_ids = set(RollCallEntry.objects.filter(pk__in=ids).values_list("response_id", flat=True))
        for response in Response.objects.filter(pk__in=response_ids):
            if not to_self:
                _owe_assignments(response, now, DispatchKind.ASSIGNMENT, only=set(ids))
            audit.log(actor, AuditAction.CHANGE, "disaster_response", object_id=response.pk, record_count=moved,
                      changes={"reassigned": ids, **{k: v for k, v in values.items() if v}})  # fmt: skip
    return moved


# --- the worker: escalation, indoor flags, messages -------------------------------------------------------------


LEVEL_OFFICIALS, LEVEL_GUARDIANS, LEVEL_DUTY_LINE = 0, 1, 2


def escalate_due(now: datetime | None = None, limit: int = 5000) -> int:
    """Worker step: every household not accounted for whose timer has run out moves one step — its area's officials
    (or the official on call) are told how many are overdue, then its guardians who asked for alerts, then the
    site's 24-hour line. The timer is a column, so a restart continues where the last pass stopped."""
    now = now or timezone.now()
    ids = list(
        RollCallEntry.objects.filter(next_escalation_at__lte=now, status__in=OUTSTANDING, in_area=True,
                                     response__status=ResponseStatus.ACTIVE)
        .order_by("next_escalation_at")
        .values_list("pk", flat=True)[:limit]
    )  # fmt: skip
    moved = 0
    for response_id in set(RollCallEntry.objects.filter(pk__in=ids).values_list("response_id", flat=True)):
        with transaction.atomic():
            locked = RollCallEntry.objects.filter(pk__in=ids, response_id=response_id, next_escalation_at__lte=now)
            if connection.vendor == "postgresql":
                locked = locked.select_for_update(skip_locked=True)
            entries = list(locked.select_related("response"))
            if entries:
                moved += _escalate(entries[0].response, entries, now)
    return moved


def _escalate(response: Response, entries: list[RollCallEntry], now: datetime) -> int:
    plan = plan_for(response.site_id, response.hazard)
    steps = plan.escalation_minutes or [0]
    site_settings = sites.settings_of(Site.objects.get(pk=response.site_id))
    by_level: dict[int, list[RollCallEntry]] = defaultdict(list)
    for entry in entries:
        by_level[entry.escalation_level].append(entry)
    owed: list[Dispatch] = []
    for level, group in by_level.items():
        if level == LEVEL_OFFICIALS:
            for area, n in Counter(e.area_id for e in group).items():
                owed += [Dispatch(response=response, kind=DispatchKind.OVERDUE, user_id=u, area_id=area, households=n,
                                  created_at=now) for u in _officials(response.site_id, area, now)]  # fmt: skip
        elif level == LEVEL_GUARDIANS:
            references = dict(
                Household.objects.filter(pk__in=[e.household_id for e in group]).values_list("pk", "reference")
            )
            for contact in EmergencyContact.objects.filter(household_id__in=references, receives_alerts=True):
                owed.append(Dispatch(response=response, kind=DispatchKind.GUARDIAN, contact=contact,
                                     reference=references[contact.household_id], households=1,
                                     area_id=next(e.area_id for e in group if e.household_id == contact.household_id),
                                     created_at=now))  # fmt: skip
        elif level == LEVEL_DUTY_LINE and site_settings.round_the_clock_contact_phone:
            owed.append(Dispatch(response=response, kind=DispatchKind.DUTY_LINE, households=len(group), created_at=now))
        _timeline(response, TimelineKind.ESCALATED, now, level=level, households=len(group))
        for entry in group:
            entry.escalation_level = level + 1
            following = level + 1
            entry.next_escalation_at = (
                entry.due_at + timedelta(minutes=steps[following]) if following < len(steps) else None
            )
    Dispatch.objects.bulk_create(owed)
    RollCallEntry.objects.bulk_update(entries, ["escalation_level", "next_escalation_at"])
    _event("disaster.escalated", response, data={"households": len(entries), "messages": len(owed)})
    return len(entries)


def refresh_indoor(now: datetime | None = None) -> int:
    """Worker step: every five minutes, flag the roll-call households of running heat and cold responses whose own
    indoor temperature has become dangerous; they move up the list with the reason shown."""
    now = now or timezone.now()
    flagged = 0
    running = Response.objects.filter(status=ResponseStatus.ACTIVE, hazard__in=[Hazard.HEAT, Hazard.COLD]).filter(
        Q(indoor_checked_at=None) | Q(indoor_checked_at__lte=now - INDOOR_EVERY)
    )
    for response in running:
        plan = plan_for(response.site_id, response.hazard)
        found = _indoor(response.site_id, response.hazard, plan, now)
        reason = "indoor_hot" if response.hazard == Hazard.HEAT else "indoor_cold"
        weight = catalogue.weights_for(response.hazard)[reason]
        with transaction.atomic():
            new = list(
                RollCallEntry.objects.filter(response=response, household_id__in=list(found), indoor_celsius=None)
            )
            for entry in new:
                entry.indoor_celsius = found[entry.household_id]
                entry.priority += weight
                entry.reasons |= catalogue.BIT[reason]
            RollCallEntry.objects.bulk_update(new, ["indoor_celsius", "priority", "reasons"])
            response.indoor_checked_at = now
            response.save(update_fields=["indoor_checked_at"])
            if new:
                _timeline(response, TimelineKind.INDOOR, now, households=len(new))
                _event("disaster.indoor_flagged", response, data={"households": len(new)})
        flagged += len(new)
    return flagged


def _link(response: Response) -> str:
    return f"{django_settings.MAEUL_PUBLIC_URL}/disaster/{response.pk}/"


def _my_link() -> str:
    return f"{django_settings.MAEUL_PUBLIC_URL}/disaster/my/"


def _message(dispatch: Dispatch, plan: ResponsePlan) -> tuple[str, str]:
    response = dispatch.response
    with translation.override("ko"):
        area_name = Area.objects.filter(pk=dispatch.area_id).values_list("name", flat=True).first() or ""
        values = {
            "title": response.title,
            "hazard": str(Hazard(response.hazard).label),
            "count": str(dispatch.households),
            "deadline": timezone.localtime(response.reach_by).strftime("%m월 %d일 %H:%M"),
            "link": _my_link() if dispatch.helper_id or dispatch.member_id else _link(response),
            "area": area_name,
        }
        template = {
            DispatchKind.ASSIGNMENT: plan.message_assignment,
            DispatchKind.UPDATE: plan.message_update,
            DispatchKind.CANCEL: plan.message_cancel,
            DispatchKind.OVERDUE: plan.message_overdue,
            DispatchKind.DUTY_LINE: plan.message_overdue,
            DispatchKind.GUARDIAN: plan.message_guardian,
        }[DispatchKind(dispatch.kind)]
        if dispatch.kind == DispatchKind.ASSIGNMENT and not (dispatch.helper_id or dispatch.member_id):
            values["link"] = _link(response)
        subject = (
            f"[마을] {Hazard(response.hazard).label} {Level(response.level).label if response.level else ''}".strip()
        )
    return subject[:200], catalogue.render(template, values)


def _addresses(dispatch: Dispatch) -> list[tuple[str, str, int | None]]:
    """(channel, address, user) for a dispatch: an account gets the live view and e-mail; a helper or member gets a
    text on their phone (they may have no account), a guardian and the duty line a text."""
    wanted: list[tuple[str, str, int | None]] = []
    user_id = dispatch.user_id
    if user_id is not None:
        wanted.append(("web", str(user_id), user_id))
        email = get_user_model().objects.filter(pk=user_id).values_list("email", flat=True).first()
        if email:
            wanted.append(("email", email, user_id))
    phone = ""
    if dispatch.helper_id is not None:
        phone = fields.decrypt(
            Helper.objects.filter(pk=dispatch.helper_id).values_list("phone_encrypted", flat=True).first() or ""
        )
    elif dispatch.member_id is not None:
        phone = fields.decrypt(
            BodyMember.objects.filter(pk=dispatch.member_id).values_list("phone_encrypted", flat=True).first() or ""
        )
    elif dispatch.contact_id is not None:
        phone = fields.decrypt(
            EmergencyContact.objects.filter(pk=dispatch.contact_id).values_list("phone_encrypted", flat=True).first()
            or ""
        )
    elif dispatch.kind == DispatchKind.DUTY_LINE:
        phone = sites.settings_of(dispatch.response.site).round_the_clock_contact_phone
    if phone:
        try:
            wanted.append((notify.phone_channel(), phone, user_id))
        except notify.ChannelUnavailable:
            log.warning("dispatch %s: no phone channel configured", dispatch.pk)
    return wanted


def send_dispatches(limit: int = 200) -> int:
    """Worker step: send the messages owed, oldest first, each in its own transaction (a failure to queue one is
    recorded on it and does not hold back the others; delivery retries are the outbox's)."""
    sent = 0
    pending = list(
        Dispatch.objects.filter(sent_at=None).order_by("created_at", "id").values_list("pk", flat=True)[:limit]
    )
    for dispatch_id in pending:
        with transaction.atomic():
            query = Dispatch.objects.filter(pk=dispatch_id, sent_at=None).select_related("response", "response__site")
            if connection.vendor == "postgresql":
                query = query.select_for_update(skip_locked=True, of=("self",))
            dispatch = query.first()
            if dispatch is None:
                continue
            plan = plan_for(dispatch.response.site_id, dispatch.response.hazard)
            subject, body = _message(dispatch, plan)
            channels = []
            for channel, address, user_id in _addresses(dispatch):
                try:
                    notify.queue(site_id=dispatch.response.site_id, channel=channel, address=address, subject=subject,
                                 body=body, topic=f"disaster:{dispatch.response_id}", user_id=user_id)  # fmt: skip
                    channels.append(channel)
                except (notify.ChannelUnavailable, ValueError) as exc:
                    channels.append(f"{channel} failed ({exc})")
            dispatch.sent_at = timezone.now()
            dispatch.channels = ", ".join(channels)[:200] or _("no way to reach them")
            dispatch.save(update_fields=["sent_at", "channels"])
            sent += 1
    if pending:
        for response_id, n in Counter(
            Dispatch.objects.filter(pk__in=pending).exclude(sent_at=None).values_list("response_id", flat=True)
        ).items():
            response = Response.objects.get(pk=response_id)
            _timeline(response, TimelineKind.MESSAGES, timezone.now(), messages=n)
    return sent


def work(now: datetime | None = None) -> dict[str, int]:
    """Everything ``maeul worker`` does for disaster response on one pass."""
    now = now or timezone.now()
    return {
        "polled": poll_due(now),
        "escalated": escalate_due(now),
        "indoor": refresh_indoor(now),
        "messages": send_dispatches(),
    }


# --- reading: responses, the board, one's own list -------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    total: int = 0
    pending: int = 0
    not_reached: int = 0
    fine: int = 0
    needs_help: int = 0
    evacuated: int = 0
    overdue: int = 0
    escalated: int = 0
    unassigned: int = 0
    flagged_indoor: int = 0

    @property
    def accounted(self) -> int:
        return self.fine + self.needs_help + self.evacuated

    @property
    def outstanding(self) -> int:
        return self.pending + self.not_reached

    @property
    def percent(self) -> int:
        return round(100 * self.accounted / self.total) if self.total else 100


def _count_expressions(now: datetime) -> dict[str, Any]:
    return {
        "total": Count("id"),
        "pending": Count("id", filter=Q(status=EntryStatus.PENDING)),
        "not_reached": Count("id", filter=Q(status=EntryStatus.NOT_REACHED)),
        "fine": Count("id", filter=Q(status=EntryStatus.FINE)),
        "needs_help": Count("id", filter=Q(status=EntryStatus.NEEDS_HELP)),
        "evacuated": Count("id", filter=Q(status=EntryStatus.EVACUATED)),
        "overdue": Count("id", filter=Q(status__in=OUTSTANDING, due_at__lt=now)),
        "escalated": Count("id", filter=Q(status__in=OUTSTANDING, escalation_level__gt=0)),
        "unassigned": Count("id", filter=Q(helper=None, member=None, assignee=None)),
        "flagged_indoor": Count("id", filter=Q(indoor_celsius__isnull=False)),
    }


def _counts(entries: QuerySet[RollCallEntry], now: datetime) -> Counts:
    row = entries.filter(in_area=True).aggregate(**_count_expressions(now))
    return Counts(**{k: int(v or 0) for k, v in row.items()})


def _counts_by_area(entries: QuerySet[RollCallEntry], now: datetime) -> dict[str, Counts]:
    """Per eup/myeon/dong in one pass over the entries."""
    rows = entries.filter(in_area=True).order_by().values("area_id").annotate(**_count_expressions(now))
    return {row["area_id"]: Counts(**{k: int(row[k] or 0) for k in _count_expressions(now)}) for row in rows}


def _area_lines(response: Response, entries: QuerySet[RollCallEntry], now: datetime) -> list[AreaLine]:
    names = dict(response.areas.values_list("code", "name"))
    return [
        AreaLine(code, names.get(code, code), counts) for code, counts in sorted(_counts_by_area(entries, now).items())
    ]


@dataclass(frozen=True)
class ResponseSummary:
    response: Response
    counts: Counts
    area_names: list[str]


def list_responses(principal: Principal, status: str = "", limit: int = 100) -> list[ResponseSummary]:
    qs = visible_responses(principal)
    if status:
        qs = qs.filter(status=status)
    now = timezone.now()
    out = []
    for response in qs.order_by("-activated_at")[:limit]:
        entries = RollCallEntry.objects.filter(response=response)
        if principal.scope(Resource.DISASTER, Action.VIEW) == Scope.AREA:
            entries = entries.filter(area_id__in=principal.area_codes)
        names = list(response.areas.order_by("code").values_list("name", flat=True)[:6])
        out.append(ResponseSummary(response, _counts(entries, now), names))
    return out


def active_for(principal: Principal) -> list[ResponseSummary]:
    return list_responses(principal, status=ResponseStatus.ACTIVE, limit=10)


@dataclass(frozen=True)
class EntryRow:
    id: int
    household_id: int
    reference: str
    area_code: str
    area_name: str
    priority: int
    reasons: list[str]
    status: str
    status_label: str
    assignee: str
    attempts: int
    last_contact_at: datetime | None
    due_at: datetime
    overdue: bool
    escalation_level: int
    indoor_celsius: float | None
    in_area: bool
    name: str = ""
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class AreaLine:
    code: str
    name: str
    counts: Counts


@dataclass(frozen=True)
class Board:
    response: Response
    counts: Counts
    areas: list[AreaLine]
    entries: list[EntryRow]
    total_listed: int
    checklist: list[ChecklistLine]
    timeline: list[TimelineEntry]
    helpers: list[tuple[int, str]]
    members: list[tuple[int, str]]


@dataclass
class BoardFilters:
    status: str = "outstanding"
    area_code: str = ""
    page: int = 1
    per_page: int = 25


def _assignee_labels(entries: Sequence[RollCallEntry]) -> dict[int, str]:
    helper_names = {
        h.pk: fields.decrypt(h.name_encrypted)
        for h in Helper.objects.filter(pk__in={e.helper_id for e in entries if e.helper_id})
    }
    member_names = {
        m.pk: fields.decrypt(m.name_encrypted)
        for m in BodyMember.objects.filter(pk__in={e.member_id for e in entries if e.member_id})
    }
    users = dict(
        get_user_model()
        .objects.filter(pk__in={e.assignee_id for e in entries if e.assignee_id})
        .values_list("pk", "username")
    )
    out = {}
    for e in entries:
        if e.helper_id:
            out[e.pk] = _("helper %(name)s") % {"name": helper_names.get(e.helper_id, "")}
        elif e.member_id:
            out[e.pk] = _("member %(name)s") % {"name": member_names.get(e.member_id, "")}
        elif e.assignee_id:
            out[e.pk] = users.get(e.assignee_id, "")
        else:
            out[e.pk] = _("officials of the area")
    return out


def _rows(entries: Sequence[RollCallEntry], now: datetime, *, personal: bool) -> list[EntryRow]:
    """Rows for a list. With ``personal``, the main resident's name and phone and the address are decrypted (the
    caller writes the access record)."""
    households = {
        h.pk: h for h in Household.objects.filter(pk__in=[e.household_id for e in entries]).select_related("area")
    }
    residents: dict[int, Person] = {}
    if personal:
        for person in Person.objects.filter(household_id__in=list(households)).order_by(
            "household_id", "-is_primary", "id"
        ):
            residents.setdefault(person.household_id, person)
    labels = _assignee_labels(entries)
    rows = []
    for e in entries:
        h = households[e.household_id]
        resident = residents.get(e.household_id)
        rows.append(
            EntryRow(
                id=e.pk, household_id=e.household_id, reference=h.reference, area_code=e.area_id, area_name=h.area.name,
                priority=e.priority, reasons=catalogue.reason_labels(e.reasons), status=e.status,
                status_label=str(EntryStatus(e.status).label), assignee=labels[e.pk], attempts=e.attempts,
                last_contact_at=e.last_contact_at, due_at=e.due_at, overdue=e.status in OUTSTANDING and e.due_at < now,
                escalation_level=e.escalation_level, indoor_celsius=e.indoor_celsius, in_area=e.in_area,
                name=fields.decrypt(resident.name_encrypted) if resident else "",
                phone=format_phone(fields.decrypt(resident.phone_encrypted))
                if resident and resident.phone_encrypted else "",
                address=" ".join(filter(None, [fields.decrypt(h.address_encrypted),
                                               fields.decrypt(h.address_detail_encrypted)]))
                if personal else "",
            )
        )  # fmt: skip
    return rows


def board(actor: Actor, response_id: int, filters: BoardFilters, now: datetime | None = None) -> Board:
    now = now or timezone.now()
    principal = actor.principal
    response = _response(principal, response_id)
    entries = visible_entries(principal, response=response)
    listed = entries.filter(in_area=True)
    if filters.area_code:
        listed = listed.filter(area_id=filters.area_code)
    if filters.status == "outstanding":
        listed = listed.filter(status__in=OUTSTANDING)
    elif filters.status == "overdue":
        listed = listed.filter(status__in=OUTSTANDING, due_at__lt=now)
    elif filters.status == "removed":
        listed = entries.filter(in_area=False)
    elif filters.status in EntryStatus.values:
        listed = listed.filter(status=filters.status)
    total = listed.count()
    start = (max(filters.page, 1) - 1) * filters.per_page
    page = list(listed.order_by("-priority", "id")[start : start + filters.per_page])
    rows = _rows(page, now, personal=True)
    if page:
        audit.log_many(actor, AuditAction.LIST, RESOURCE, [e.household_id for e in page], site_id=response.site_id)
    per_area = _area_lines(response, entries, now)
    helpers = [
        (h.pk, fields.decrypt(h.name_encrypted))
        for h in Helper.objects.filter(site_id=response.site_id, active=True).order_by("pk")[:500]
    ]
    members = [
        (m.pk, fields.decrypt(m.name_encrypted))
        for m in BodyMember.objects.filter(site_id=response.site_id).order_by("pk")[:500]
    ]
    return Board(
        response=response, counts=_counts(entries, now), areas=per_area, entries=rows, total_listed=total,
        checklist=list(response.checklist.all()), timeline=list(response.timeline.order_by("-at", "-id")[:30]),
        helpers=helpers, members=members,
    )  # fmt: skip


def map_data(actor: Actor, response_id: int, limit: int = 5000) -> dict[str, Any]:
    """The board's map: the alert's shapes (GeoJSON order), the areas, and each household's point and status (no
    names). Who saw which homes is recorded once per viewer and response every 10 minutes, not on each refresh."""
    principal = actor.principal
    response = _response(principal, response_id)
    entries = list(
        visible_entries(principal, response=response)
        .filter(in_area=True, household__latitude__isnull=False)
        .order_by("-priority", "id")
        .values("household_id", "household__reference", "household__latitude", "household__longitude", "status",
                "priority")[:limit]
    )  # fmt: skip
    if entries and cache.add(f"disaster:map:{principal.user_id}:{response.pk}", 1, BOARD_AUDIT_WINDOW):
        audit.log_many(
            actor, AuditAction.LIST, RESOURCE, [e["household_id"] for e in entries], site_id=response.site_id
        )
    shapes = []
    for shape in response.shapes:
        for polygon in shape.get("polygons", []):
            shapes.append({"type": "Polygon", "coordinates": [[[lon, lat] for lat, lon in polygon]]})
        for circle in shape.get("circles", []):
            shapes.append(
                {
                    "type": "Circle",
                    "center": [circle["center"][1], circle["center"][0]],
                    "radius_km": circle["radius_km"],
                }
            )
    codes = list(response.areas.values_list("code", flat=True))
    outlines = {b.area_id: b.geojson for b in AreaBoundary.objects.filter(area_id__in=codes)}
    return {
        "shapes": shapes,
        "areas": [
            {"code": a.code, "name": a.name, "lat": a.latitude, "lon": a.longitude, "outline": outlines.get(a.code)}
            for a in Area.objects.filter(code__in=codes)
        ],
        "points": [
            {"reference": e["household__reference"], "lat": e["household__latitude"], "lon": e["household__longitude"],
             "status": e["status"], "priority": e["priority"]}
            for e in entries
        ],
    }  # fmt: skip


@dataclass(frozen=True)
class MyResponse:
    response: Response
    entries: list[EntryRow]
    outstanding: int


def my_roll_call(actor: Actor, now: datetime | None = None) -> list[MyResponse]:
    """A helper's or member's households to reach in running responses, most urgent first, with what they need to
    reach them (name, phone, address): each one shown is in the access record."""
    now = now or timezone.now()
    principal = actor.principal
    if principal.scope(Resource.ROLL_CALL, Action.VIEW) != Scope.GRANTED:
        return []
    mine = list(
        visible_entries(principal).filter(in_area=True).select_related("response").order_by("-priority", "id")[:500]
    )
    out = []
    for response in sorted({e.response for e in mine}, key=lambda r: r.activated_at, reverse=True):
        entries = sorted((e for e in mine if e.response_id == response.pk),
                         key=lambda e: (e.status not in OUTSTANDING, -e.priority, e.pk))  # fmt: skip
        out.append(
            MyResponse(response, _rows(entries, now, personal=True), sum(e.status in OUTSTANDING for e in entries))
        )
    if mine:
        audit.log_many(actor, AuditAction.LIST, RESOURCE, [e.household_id for e in mine], site_id=principal.site_id)
    return out


def entry_contacts(actor: Actor, entry_id: int) -> tuple[EntryRow, list[Contact]]:
    entry = visible_entries(actor.principal).filter(pk=entry_id).select_related("response").first()
    if entry is None:
        raise NotFound("roll-call entry", entry_id)
    audit.log(actor, AuditAction.VIEW, RESOURCE, object_id=entry.pk, household_id=entry.household_id,
              site_id=entry.response.site_id, area_code=entry.area_id)  # fmt: skip
    return _rows([entry], timezone.now(), personal=True)[0], list(entry.contacts.select_related("by"))


def contact_note(contact: Contact) -> str:
    return fields.decrypt(contact.note_encrypted) if contact.note_encrypted else ""


# --- the situation report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    kind: str
    text: str


def timeline_text(entry: TimelineEntry) -> str:
    """A timeline entry in the reader's language (the record keeps codes and figures)."""
    d = entry.data
    kind = entry.kind
    if kind == TimelineKind.ACTIVATED:
        how = _("by an official") if d.get("origin") == Origin.MANUAL else _("from a CAP alert")
        return _("Activated %(how)s: %(n)s households in %(areas)s eup/myeon/dong to reach.") % {
            "how": how,
            "n": d.get("households", 0),
            "areas": len(d.get("areas", [])),
        }
    if kind == TimelineKind.UPDATED:
        return _("Alert updated: %(added)s households added, %(removed)s no longer in the area.") % {
            "added": d.get("added", 0),
            "removed": d.get("removed", 0),
        }
    if kind == TimelineKind.CANCELLED:
        return (
            _("The alert was cancelled; escalations stopped.")
            if d.get("by_alert")
            else _("Stood down by an official; escalations stopped.")
        )
    if kind == TimelineKind.MESSAGES:
        return _("%(n)s messages sent.") % {"n": d.get("messages", 0)}
    if kind == TimelineKind.ESCALATED:
        step = {0: _("the area's officials"), 1: _("guardians"), 2: _("the 24-hour line")}.get(d.get("level"), "")
        return _("%(n)s households not reached in time: %(step)s told.") % {"n": d.get("households", 0), "step": step}
    if kind == TimelineKind.INDOOR:
        return _("%(n)s households flagged for a dangerous indoor temperature.") % {"n": d.get("households", 0)}
    if kind == TimelineKind.CHECKLIST:
        line = ChecklistLine.objects.filter(pk=d.get("line")).first()
        text = item_text(line.text_ko, line.text_en) if line else ""
        return (_("Done: %(item)s") if d.get("done") else _("Reopened: %(item)s")) % {"item": text}
    if kind == TimelineKind.COMPLETED:
        return _("Every household accounted for (%(n)s), %(minutes)s minutes after activation.") % {
            "n": d.get("households", 0),
            "minutes": d.get("minutes", 0),
        }
    if kind == TimelineKind.CLOSED:
        return _("Closed with %(n)s households not accounted for.") % {"n": d.get("outstanding", 0)}
    if kind == TimelineKind.REVIEWED:
        return _("After-action review written.")
    return entry.text  # fmt: skip


@dataclass(frozen=True)
class Report:
    response: Response
    counts: Counts
    areas: list[AreaLine]
    timeline: list[TimelineLine]
    checklist: list[ChecklistLine]
    messages: dict[str, int]
    median_minutes_to_account: float | None
    accounted_by_deadline: int
    generated_at: datetime
    review: Review | None
    lessons: list[Lesson]
    area_names: dict[str, str]


def report(actor: Actor, response_id: int, now: datetime | None = None) -> Report:
    """Figures, timeline and checklist of a response: codes and counts, no names."""
    now = now or timezone.now()
    principal = actor.principal
    response = _response(principal, response_id)
    entries = visible_entries(principal, response=response)
    names = dict(response.areas.values_list("code", "name"))
    areas = _area_lines(response, entries, now)
    accounted = [at for at in entries.filter(in_area=True).values_list("accounted_at", flat=True) if at is not None]
    minutes = [(at - response.activated_at).total_seconds() / 60 for at in accounted]
    review = Review.objects.filter(response=response).first()
    return Report(
        response=response,
        counts=_counts(entries, now),
        areas=areas,
        timeline=[TimelineLine(t.at, t.kind, timeline_text(t)) for t in response.timeline.all()],
        checklist=list(response.checklist.all()),
        messages=dict(Counter(Dispatch.objects.filter(response=response).exclude(sent_at=None)
                              .values_list("kind", flat=True))),
        median_minutes_to_account=round(median(minutes), 1) if minutes else None,
        accounted_by_deadline=sum(at <= response.reach_by for at in accounted),
        generated_at=now,
        review=review,
        lessons=list(review.lessons.all()) if review else [],
        area_names=names,
    )  # fmt: skip


CSV_COLUMNS = [
    "reference", "area_code", "area_name", "priority", "reasons", "status", "assigned_to", "attempts",
    "first_contact_at", "accounted_at", "minutes_to_account", "escalation_level", "indoor_celsius", "in_area",
]  # fmt: skip


def roll_call_csv(actor: Actor, response_id: int, reason: str) -> tuple[str, int]:
    """The roll-call, one row per household: H-number, area, coded reasons and what happened — no names, phones or
    addresses. A download is person-level all the same: it needs a reason, and each household is recorded."""
    principal = actor.principal
    if not principal.can(Resource.ROLL_CALL, Action.EXPORT):
        raise DisasterError("", "not_allowed", "your role may not download the roll-call")
    if len(reason.strip()) < 5:
        raise DisasterError("reason", "reason_required", "say why you need the download (at least 5 characters)")
    response = _response(principal, response_id)
    entries = list(visible_entries(principal, Action.EXPORT, response).order_by("-priority", "id"))
    references = dict(Household.objects.filter(pk__in=[e.household_id for e in entries]).values_list("pk", "reference"))
    names = dict(response.areas.values_list("code", "name"))
    first = dict(
        Contact.objects.filter(entry__in=entries)
        .order_by()
        .values("entry_id")
        .annotate(t=Min("at"))
        .values_list("entry_id", "t")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        assigned = (
            "helper" if e.helper_id else "member" if e.member_id else "official" if e.assignee_id else "area_officials"
        )
        minutes = round((e.accounted_at - response.activated_at).total_seconds() / 60) if e.accounted_at else ""
        writer.writerow([
            references[e.household_id], e.area_id, names.get(e.area_id, ""), e.priority,
            " ".join(catalogue.reason_codes(e.reasons)), e.status, assigned,
            e.attempts, timezone.localtime(first[e.pk]).isoformat(timespec="minutes") if e.pk in first else "",
            timezone.localtime(e.accounted_at).isoformat(timespec="minutes") if e.accounted_at else "", minutes,
            e.escalation_level, "" if e.indoor_celsius is None else e.indoor_celsius, int(e.in_area),
        ])  # fmt: skip
    audit.log_many(actor, AuditAction.EXPORT, RESOURCE, [e.household_id for e in entries], site_id=response.site_id,
                   reason=reason)  # fmt: skip
    return out.getvalue(), len(entries)


def figures_csv(report_: Report) -> str:
    """The report's figures per eup/myeon/dong (counts only)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["area_code", "area_name", "households", "accounted", "fine", "needs_help", "evacuated",
                     "not_reached", "pending", "overdue", "escalated"])  # fmt: skip
    for line in [*report_.areas, AreaLine("", "total", report_.counts)]:
        c = line.counts
        writer.writerow([line.code, line.name, c.total, c.accounted, c.fine, c.needs_help, c.evacuated, c.not_reached,
                         c.pending, c.overdue, c.escalated])  # fmt: skip
    return out.getvalue()


def report_pdf(html: str) -> bytes:
    """The situation report as PDF, from the same HTML as the page (WeasyPrint; Korean through the Noto CJK fonts
    fontconfig finds — Debian's fonts-noto-cjk)."""
    from weasyprint import HTML

    return bytes(HTML(string=html, base_url=django_settings.MAEUL_PUBLIC_URL).write_pdf())


# --- after-action review ---------------------------------------------------------------------------------------


@transaction.atomic
def save_review(actor: Actor, response_id: int, went_well: str, to_improve: str, now: datetime | None = None) -> Review:
    now = now or timezone.now()
    response = _response(actor.principal, response_id, Action.CHANGE)
    review, created = Review.objects.update_or_create(
        response=response,
        defaults={"went_well": went_well.strip()[:5000], "to_improve": to_improve.strip()[:5000],
                  "written_by_id": actor.principal.user_id, "written_at": now},
    )  # fmt: skip
    if created:
        _timeline(response, TimelineKind.REVIEWED, now, by=actor.principal.user_id)
    audit.log(actor, AuditAction.CREATE if created else AuditAction.CHANGE, "disaster_review", object_id=review.pk)
    return review


def _task_for(actor: Actor, response: Response, lesson: Lesson) -> int:
    """The lesson as an improvement task of the area's safety plan (``safety.services``)."""
    if not actor.principal.can(Resource.SAFETY_TASK, Action.CREATE):
        raise DisasterError("make_task", "not_allowed",
                            "only safety officials and site administrators create improvement tasks; "
                            "save the lesson without a task and ask them")  # fmt: skip
    try:
        task = safety.create_task(
            actor,
            TaskInput(area_code=lesson.area_id, title=lesson.text, source="review", plan_year=timezone.localdate().year,
                      description=f"{response.title} ({timezone.localtime(response.activated_at):%Y.%m.%d})"),
        )  # fmt: skip
    except SafetyError as exc:
        raise DisasterError("area_code", exc.code, exc.message) from exc
    return task.pk


@transaction.atomic
def add_lesson(actor: Actor, response_id: int, data: LessonInput, now: datetime | None = None) -> Lesson:
    """A lesson of the review; with ``make_task`` it becomes an improvement task at once (all or nothing)."""
    response = _response(actor.principal, response_id, Action.CHANGE)
    if data.area_code not in set(response.areas.values_list("code", flat=True)):
        raise DisasterError("area_code", "area_not_in_response", "choose one of the response's eup/myeon/dong")
    review = Review.objects.filter(response=response).first() or save_review(actor, response_id, "", "", now)
    lesson = Lesson.objects.create(
        review=review, area_id=data.area_code, text=data.text, created_by_id=actor.principal.user_id
    )
    if data.make_task:
        lesson.task_id = _task_for(actor, response, lesson)
        lesson.save(update_fields=["task_id"])
    _event(
        "disaster.lesson", response, actor=actor, area_code=data.area_code, data={"task": lesson.task_id is not None}
    )
    return lesson


@transaction.atomic
def lesson_to_task(actor: Actor, lesson_id: int) -> Lesson:
    lesson = (
        Lesson.objects.filter(pk=lesson_id, review__response__in=visible_responses(actor.principal, Action.CHANGE))
        .select_related("review__response")
        .first()
    )
    if lesson is None:
        raise NotFound("lesson", lesson_id)
    if lesson.task_id is None:
        lesson.task_id = _task_for(actor, lesson.review.response, lesson)
        lesson.save(update_fields=["task_id"])
    return lesson


# --- programme figures (the ministry's comparison, issue 8) -------------------------------------------------------


def programme_figures(site_id: int, since: date, until: date) -> dict[str, float | int | None]:
    """A site's disaster-response results for responses activated on ``since`` ≤ day < ``until`` (Korean time), as
    every ``programme_figures`` counts: counts, shares and medians only — no household, person or area is named.
    ``None`` where there is nothing to measure."""
    tz = timezone.get_default_timezone()
    start = datetime.combine(since, time.min, tzinfo=tz)
    end = datetime.combine(until, time.min, tzinfo=tz)
    responses = list(
        Response.objects.filter(site_id=site_id, activated_at__gte=start, activated_at__lt=end).values_list(
            "pk", "activated_at", "completed_at", "origin"
        )
    )
    ids = [r[0] for r in responses]
    entries = RollCallEntry.objects.filter(response_id__in=ids, in_area=True)
    totals = entries.aggregate(
        to_reach=Count("id"),
        reached=Count("id", filter=Q(status__in=ACCOUNTED)),
        escalated=Count("id", filter=Q(escalation_level__gt=0)),
        by_deadline=Count("id", filter=Q(accounted_at__isnull=False, accounted_at__lte=F("due_at"))),
    )
    activated = {r[0]: r[1] for r in responses}
    completion = [(done - at).total_seconds() / 60 for _pk, at, done, _origin in responses if done is not None]
    to_reach, reached = int(totals["to_reach"] or 0), int(totals["reached"] or 0)
    reach_minutes = [
        (accounted - activated[response_id]).total_seconds() / 60
        for response_id, accounted in entries.values_list("response_id", "accounted_at")
        if accounted is not None
    ]
    return {
        "activations": len(responses),
        "activations_from_alerts": sum(r[3] == Origin.CAP for r in responses),
        "responses_completed": len(completion),
        "households_to_reach": to_reach,
        "households_reached": reached,
        "share_reached": round(reached / to_reach, 4) if to_reach else None,
        "share_reached_by_deadline": round(int(totals["by_deadline"] or 0) / to_reach, 4) if to_reach else None,
        "households_escalated": int(totals["escalated"] or 0),
        "median_roll_call_minutes": round(median(completion), 1) if completion else None,
        "median_minutes_to_reach_household": round(median(reach_minutes), 1) if reach_minutes else None,
        "lessons_made_tasks": Lesson.objects.filter(review__response_id__in=ids, task_id__isnull=False).count(),
    }


def outstanding_for(principal: Principal) -> int:
    """How many households handed to this helper or member are still to be reached in running responses."""
    return (
        visible_entries(principal)
        .filter(in_area=True, status__in=OUTSTANDING)
        .exclude(response__status=ResponseStatus.CLOSED)
        .count()
    )

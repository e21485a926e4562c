"""Alert actions: the only code that writes alerts, their history, the on-call roster and detector state.

Detectors decide (``watch.detectors``); this module records what they decided, reaches people through the
escalation chain, and takes a person's acknowledgement and outcome. No alert closes itself on a person's behalf:
only the system alert for interrupted monitoring is marked recovered by the system, and it stays for a person
to read.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from maeul.accounts.models import Membership
from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.events import services as events
from maeul.notify import services as notify
from maeul.people.models import Household
from maeul.sites import services as sites
from maeul.sites.models import Site
from maeul.watch import detectors, escalation, reasons
from maeul.watch.errors import AlertNotFound, WatchError
from maeul.watch.models import (
    CONFIRMED_OUTCOMES,
    DEVICE_KINDS,
    SEVERITY_ORDER,
    Alert,
    AlertKind,
    AlertStatus,
    AlertStep,
    OnCallShift,
    Outcome,
    Severity,
    SiteHoliday,
    StepKind,
    WatchState,
)

log = logging.getLogger(__name__)
RESOURCE = "alert"
FEEDBACK_DAYS = 90
BOARD_AUDIT_WINDOW = timedelta(minutes=10)


# --- scope -------------------------------------------------------------------------------------------------


def visible_alerts(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Alert]:
    """Alerts this principal may see. Officials see their areas' households and the site's system alerts."""
    scope = principal.scope(Resource.ALERT, action)
    qs = Alert.objects.all()
    if scope == Scope.SITE and principal.site_id is not None:
        return qs.filter(site_id=principal.site_id)
    if scope == Scope.AREA and principal.site_id is not None:
        return qs.filter(Q(area_id__in=principal.area_codes) | Q(household=None), site_id=principal.site_id)
    if scope == Scope.GRANTED and principal.user_id is not None:
        return qs.filter(household__grants__user_id=principal.user_id, household__grants__revoked_at=None).distinct()
    return qs.none()


def _scoped(principal: Principal, alert_id: int, action: Action) -> Alert:
    alert = visible_alerts(principal, action).filter(pk=alert_id).select_related("household", "area").first()
    if alert is None:
        raise AlertNotFound(alert_id)
    return alert


# --- raising -----------------------------------------------------------------------------------------------


def _step(
    alert: Alert,
    kind: StepKind,
    at: datetime,
    *,
    level: int = 0,
    actor_id: int | None = None,
    recipient: str = "",
    detail: str = "",
) -> AlertStep:
    return AlertStep.objects.create(
        alert=alert, kind=kind, at=at, level=level, actor_id=actor_id, recipient=recipient[:120], detail=detail
    )


def _in_site_language() -> Any:
    """Steps the system writes (not a person) are in the site's language, whoever reads them later."""
    return translation.override(django_settings.LANGUAGE_CODE)


def raise_alert(
    site_id: int, household_id: int | None, detected: detectors.Alert, now: datetime | None = None
) -> Alert | None:
    """Record a detector's alert and reach the first people in its chain. ``None`` when one is already open for
    the same cause (no storms: a cause raises again only after a person resolved it)."""
    now = now or timezone.now()
    cause = detected.cause or detected.kind
    household = Household.objects.filter(pk=household_id).only("area_id").first() if household_id is not None else None
    severity = Severity.SYSTEM if detected.kind == AlertKind.INGESTION_BLIND else detected.severity
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                site_id=site_id,
                household_id=household_id,
                area_id=household.area_id if household else None,
                kind=detected.kind,
                cause=cause[:220],
                severity=severity,
                device=detected.device[:200],
                reason=detected.reason[:400],
                reason_code=detected.reason_code,
                reason_params=detected.reason_params,
                raised_at=detected.raised_at,
            )
    except IntegrityError:
        # Already open for this cause: the person handling it sees that it happened again, on the same alert.
        existing = (
            Alert.objects.filter(site_id=site_id, cause=cause[:220])
            .filter(Q(household=None) if household_id is None else Q(household_id=household_id))
            .exclude(status=AlertStatus.RESOLVED)
            .first()
        )
        if existing is not None and existing.raised_at != detected.raised_at:
            with _in_site_language():
                again = reasons.render(detected.reason_code, detected.reason_params) or detected.reason
                _step(existing, StepKind.NOTE, now, detail=_("Detected again: %(reason)s") % {"reason": again})
        return None
    with transaction.atomic(), _in_site_language():
        _step(alert, StepKind.RAISED, now, detail=reason_text(alert))
        events.record(
            "alert.raised",
            site_id=site_id,
            area_code=alert.area_id,
            household_id=household_id,
            subject=("alert", alert.pk),
            occurred_at=now,
            data={"kind": alert.kind, "severity": alert.severity},
        )
        _reach_from(alert, 0, now, wave=0)
    return alert


def _reach_from(alert: Alert, step: int, now: datetime, wave: int) -> None:
    """Notify the first non-empty level of the chain at or after ``step`` (the ``wave``-th time people are reached
    about this alert) and set the timer for the next level, if there is one."""
    settings = sites.settings_of(Site.objects.get(pk=alert.site_id))
    chain = escalation.levels_for(alert)
    while step < len(chain):
        people = escalation.recipients(alert, chain[step], settings, now)
        if people:
            for person in people:
                _notify(alert, person, chain[step], now)
            break
        step += 1
    alert.escalation_level = min(step, len(chain) - 1)
    alert.next_escalation_at = now + escalation.wait_after(settings, wave) if step < len(chain) - 1 else None
    alert.save(update_fields=["escalation_level", "next_escalation_at"])


def message_for(alert: Alert) -> tuple[str, str]:
    """Subject and body in Korean (officials, helpers and guardians are Korean speakers), with what to do."""
    what = reason_text(alert)
    reference = alert.household.reference if alert.household_id and alert.household else ""
    subject = f"[마을] {AlertKind(alert.kind).label} {reference}".strip()
    lines = [what]
    if alert.severity == Severity.CRITICAL:
        lines.append(_("Critical: if the person cannot be reached at once, call 119."))
    lines.append(_("Acknowledge in Maeul: %(url)s") % {"url": f"{django_settings.MAEUL_PUBLIC_URL}/alerts/{alert.pk}/"})
    return subject[:200], "\n".join(lines)


def _notify(alert: Alert, person: escalation.Recipient, level: int, now: datetime) -> None:
    with translation.override("ko"):
        subject, body = message_for(alert)
    topic = f"alert:{alert.pk}"
    sent: list[str] = []
    wanted: list[tuple[str, str]] = []
    if person.user_id is not None:
        wanted.append(("web", str(person.user_id)))
    if person.email:
        wanted.append(("email", person.email))
    if person.phone:
        try:
            wanted.append((notify.phone_channel(), person.phone))
        except notify.ChannelUnavailable:
            sent.append(_("no phone channel configured"))
    for channel, address in wanted:
        try:
            notify.queue(
                site_id=alert.site_id,
                channel=channel,
                address=address,
                subject=subject,
                body=body,
                topic=topic,
                user_id=person.user_id,
            )
        except notify.ChannelUnavailable:
            sent.append(_("%(channel)s not configured") % {"channel": channel})
            continue
        sent.append(
            f"{channel} {notify.mask_phone(address)}" if channel in ("sms", "console") and person.phone else channel
        )
    _step(alert, StepKind.NOTIFIED, now, level=level, recipient=person.label, detail=", ".join(sent))


# --- escalation worker ---------------------------------------------------------------------------------------


def escalate_due(now: datetime | None = None) -> int:
    """Worker step: move every unacknowledged alert whose timer has run out to the next level. The timer is a
    column, so a restarted worker continues exactly where the last one stopped."""
    now = now or timezone.now()
    moved = 0
    due = Alert.objects.filter(status=AlertStatus.OPEN, next_escalation_at__lte=now).values_list("pk", flat=True)
    for alert_id in list(due[:500]):
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update(of=("self",))
                .select_related("household")
                .filter(pk=alert_id, status=AlertStatus.OPEN, next_escalation_at__lte=now)
                .first()
            )
            if alert is None:
                continue
            with _in_site_language():
                _step(
                    alert,
                    StepKind.ESCALATED,
                    now,
                    level=alert.escalation_level + 1,
                    detail=_("Not acknowledged in time; moved to the next person."),
                )
            waves = AlertStep.objects.filter(alert=alert, kind=StepKind.ESCALATED).count()
            _reach_from(alert, alert.escalation_level + 1, now, wave=waves)
            moved += 1
    return moved


# --- a person's actions --------------------------------------------------------------------------------------


def acknowledge(actor: Actor, alert_id: int, now: datetime | None = None) -> Alert:
    """``now`` dates an acknowledgement replayed from history (the demo); it defaults to the clock."""
    with transaction.atomic():
        alert = _scoped(actor.principal, alert_id, Action.CHANGE)
        if alert.status != AlertStatus.OPEN:
            return alert
        now = now or timezone.now()
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by_id = actor.principal.user_id
        alert.next_escalation_at = None
        alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "next_escalation_at"])
        _step(alert, StepKind.ACKNOWLEDGED, now, actor_id=actor.principal.user_id, recipient=actor.principal.username)
        _audit(actor, AuditAction.CHANGE, alert, {"status": ["open", "acknowledged"]})
        events.record(
            "alert.acknowledged",
            site_id=alert.site_id,
            area_code=alert.area_id,
            household_id=alert.household_id,
            subject=("alert", alert.pk),
            occurred_at=now,
            data={"kind": alert.kind, "seconds": int((now - alert.created_at).total_seconds())},
        )
    return alert


def resolve(actor: Actor, alert_id: int, outcome: str, note: str = "", now: datetime | None = None) -> Alert:
    """Close an alert with what a person found. ``now`` dates a resolution replayed from history (the demo)."""
    try:
        chosen = Outcome(outcome)
    except ValueError as exc:
        raise WatchError("outcome", _("Choose an outcome from the list.")) from exc
    if chosen == Outcome.RECOVERED:
        raise WatchError("outcome", _("Only the system marks monitoring as recovered."))
    with transaction.atomic():
        alert = _scoped(actor.principal, alert_id, Action.CHANGE)
        if alert.status == AlertStatus.RESOLVED:
            raise WatchError("status", _("This alert is already resolved."))
        now = now or timezone.now()
        if alert.acknowledged_at is None:
            alert.acknowledged_at = now
            alert.acknowledged_by_id = actor.principal.user_id
        before = alert.status
        alert.status = AlertStatus.RESOLVED
        alert.outcome = chosen
        alert.resolved_at = now
        alert.resolved_by_id = actor.principal.user_id
        alert.next_escalation_at = None
        alert.save()
        _step(
            alert,
            StepKind.RESOLVED,
            now,
            actor_id=actor.principal.user_id,
            recipient=actor.principal.username,
            detail=f"{chosen.label}. {note}".strip(),
        )
        _audit(actor, AuditAction.CHANGE, alert, {"status": [before, "resolved"], "outcome": ["", chosen.value]})
        events.record(
            "alert.resolved",
            site_id=alert.site_id,
            area_code=alert.area_id,
            household_id=alert.household_id,
            subject=("alert", alert.pk),
            occurred_at=now,
            data={"kind": alert.kind, "outcome": chosen.value},
        )
    return alert


def add_note(actor: Actor, alert_id: int, note: str) -> AlertStep:
    note = note.strip()
    if not note:
        raise WatchError("note", _("Write the note first."))
    with transaction.atomic():
        alert = _scoped(actor.principal, alert_id, Action.CHANGE)
        step = _step(
            alert,
            StepKind.NOTE,
            timezone.now(),
            actor_id=actor.principal.user_id,
            recipient=actor.principal.username,
            detail=note[:2000],
        )
        _audit(actor, AuditAction.CHANGE, alert, {"note": ["", "added"]})
    return step


def _audit(actor: Actor, action: AuditAction, alert: Alert, changes: dict[str, Any] | None = None) -> None:
    audit.log(
        actor,
        action,
        RESOURCE,
        object_id=alert.pk,
        household_id=alert.household_id,
        site_id=alert.site_id,
        area_code=alert.area_id or "",
        changes=changes,
    )


def recover_blind(site_id: int, now: datetime) -> int:
    """Monitoring is back: mark the open system alert recovered (it stays on the board for a person to read)."""
    recovered = 0
    for alert in Alert.objects.filter(site_id=site_id, kind=AlertKind.INGESTION_BLIND).exclude(
        status=AlertStatus.RESOLVED
    ):
        alert.status = AlertStatus.RESOLVED
        alert.outcome = Outcome.RECOVERED
        alert.resolved_at = now
        alert.next_escalation_at = None
        alert.save(update_fields=["status", "outcome", "resolved_at", "next_escalation_at"])
        with _in_site_language():
            _step(alert, StepKind.RESOLVED, now, detail=_("Monitoring recovered."))
        recovered += 1
    return recovered


# --- reading ---------------------------------------------------------------------------------------------------


def reason_text(alert: Alert) -> str:
    """The reason in the reader's language, from the detector's code and figures; English as recorded otherwise."""
    return reasons.render(alert.reason_code, alert.reason_params) or alert.reason


@dataclass(frozen=True)
class BoardFilters:
    area_code: str = ""
    status: str = "active"  # active (open + acknowledged), open, acknowledged, resolved
    kind: str = ""


def board(actor: Actor, filters: BoardFilters, limit: int = 200) -> list[Alert]:
    qs = visible_alerts(actor.principal).select_related("household", "area", "acknowledged_by")
    if filters.status == "active":
        qs = qs.exclude(status=AlertStatus.RESOLVED)
    elif filters.status in AlertStatus.values:
        qs = qs.filter(status=filters.status)
    if filters.area_code:
        qs = qs.filter(area_id=filters.area_code)
    if filters.kind in AlertKind.values:
        qs = qs.filter(kind=filters.kind)
    alerts = list(qs.order_by("-raised_at")[:limit])
    alerts.sort(
        key=lambda a: (
            a.status == AlertStatus.RESOLVED,
            a.kind in DEVICE_KINDS,
            a.status != AlertStatus.OPEN,
            _severity_rank(a.severity),
            -a.raised_at.timestamp(),
        )
    )
    households = _not_logged_recently(actor.principal.user_id, {a.household_id for a in alerts if a.household_id})
    if households:
        audit.log_many(
            actor, AuditAction.VIEW, RESOURCE, households, site_id=actor.principal.site_id, reason="alert board"
        )
    return alerts


def _not_logged_recently(user_id: int | None, household_ids: set[int]) -> list[int]:
    """The board refreshes itself every few seconds: a household shown again to the same person within
    ``BOARD_AUDIT_WINDOW`` is the same read, so it is recorded once per window (per web process), not per refresh."""
    now = timezone.now().timestamp()
    cutoff = now - BOARD_AUDIT_WINDOW.total_seconds()
    key = f"alert-board-audit:{user_id}"
    logged: dict[int, float] = {h: t for h, t in (cache.get(key) or {}).items() if t >= cutoff}
    fresh = sorted(h for h in household_ids if h not in logged)
    if fresh:
        logged.update(dict.fromkeys(fresh, now))
        cache.set(key, logged, int(BOARD_AUDIT_WINDOW.total_seconds()))
    return fresh


def _severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.get(Severity(severity), 9)


def read_alert(actor: Actor, alert_id: int) -> Alert:
    alert = _scoped(actor.principal, alert_id, Action.VIEW)
    _audit(actor, AuditAction.VIEW, alert)
    return alert


def household_alerts(actor: Actor, household_id: int, limit: int = 50) -> list[Alert]:
    return list(visible_alerts(actor.principal).filter(household_id=household_id).order_by("-raised_at")[:limit])


def active_counts(principal: Principal) -> dict[str, int]:
    qs = visible_alerts(principal).exclude(status=AlertStatus.RESOLVED)
    rows = qs.values("status", "severity").annotate(n=Count("pk"))
    counts: Counter[str] = Counter()
    for row in rows:
        counts[row["status"]] += row["n"]
        counts[row["severity"]] += row["n"]
    return dict(counts)


@dataclass(frozen=True)
class OutcomeRates:
    label: str
    resolved: int
    false_alarms: int
    confirmed: int

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.resolved if self.resolved else None


def outcome_rates(principal: Principal, since: datetime) -> tuple[list[OutcomeRates], list[OutcomeRates]]:
    """False-alarm rates by detector and by household (worst first), from people's recorded outcomes."""
    qs = (
        visible_alerts(principal)
        .filter(status=AlertStatus.RESOLVED, resolved_at__gte=since)
        .exclude(outcome=Outcome.RECOVERED)
    )

    def rates(key: str, label_of: Any) -> list[OutcomeRates]:
        rows = qs.values(key).annotate(
            resolved=Count("pk"),
            false_alarms=Count("pk", filter=Q(outcome=Outcome.FALSE_ALARM)),
            confirmed=Count("pk", filter=Q(outcome__in=CONFIRMED_OUTCOMES)),
        )
        return [OutcomeRates(label_of(r[key]), r["resolved"], r["false_alarms"], r["confirmed"]) for r in rows]

    by_kind = sorted(rates("kind", lambda k: str(AlertKind(k).label)), key=lambda r: -(r.false_alarm_rate or 0))
    references = dict(Household.objects.filter(pk__in=qs.values("household_id")).values_list("pk", "reference"))
    by_household = sorted(
        rates("household_id", lambda h: references.get(h, "—")), key=lambda r: (-(r.false_alarm_rate or 0), r.label)
    )
    return by_kind, by_household[:20]


def feedback(household_ids: Iterable[int], now: datetime) -> dict[int, tuple[int, int]]:
    """Recent false alarms and confirmed incidents of the inactivity detector per household: the detectors widen
    a household's margin after false alarms and narrow it back after confirmed ones."""
    rows = (
        Alert.objects.filter(
            household_id__in=list(household_ids),
            kind=AlertKind.INACTIVITY,
            status=AlertStatus.RESOLVED,
            resolved_at__gte=now - timedelta(days=FEEDBACK_DAYS),
        )
        .values("household_id")
        .annotate(
            false_alarms=Count("pk", filter=Q(outcome=Outcome.FALSE_ALARM)),
            confirmed=Count("pk", filter=Q(outcome__in=CONFIRMED_OUTCOMES)),
        )
    )
    return {r["household_id"]: (r["false_alarms"], r["confirmed"]) for r in rows}


def open_causes(household_ids: Iterable[int]) -> dict[int, set[str]]:
    causes: dict[int, set[str]] = {}
    for household_id, cause in (
        Alert.objects.filter(household_id__in=list(household_ids))
        .exclude(status=AlertStatus.RESOLVED)
        .values_list("household_id", "cause")
    ):
        causes.setdefault(household_id, set()).add(cause)
    return causes


# --- detector state --------------------------------------------------------------------------------------------


def save_states(states: dict[int, tuple[dict[str, Any], datetime | None]], now: datetime) -> None:
    """Persist detector state per household, so a restarted worker continues as if it had not stopped. One upsert
    per 500 households (PostgreSQL and SQLite both have ON CONFLICT), since a large site saves thousands a minute."""
    if not states:
        return
    WatchState.objects.bulk_create(
        [WatchState(household_id=h, state=s, through=t, saved_at=now) for h, (s, t) in states.items()],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["household"],
        update_fields=["state", "through", "saved_at"],
    )


def load_states(household_ids: Iterable[int]) -> dict[int, tuple[dict[str, Any], datetime | None]]:
    return {
        w.household_id: (w.state, w.through) for w in WatchState.objects.filter(household_id__in=list(household_ids))
    }


# --- on-call roster and holidays -------------------------------------------------------------------------------


def add_shift(actor: Actor, user_id: int, starts_at: datetime, ends_at: datetime, note: str = "") -> OnCallShift:
    site_id = actor.principal.site_pk
    if ends_at <= starts_at:
        raise WatchError("ends_at", _("A shift must end after it starts."))
    if ends_at - starts_at > timedelta(days=7):
        raise WatchError("ends_at", _("A shift can last at most 7 days; add several for longer periods."))
    if not Membership.objects.filter(user_id=user_id, site_id=site_id, role__in=escalation.OFFICIAL_ROLES).exists():
        raise WatchError("user", _("Only an official of this site can be on call."))
    shift = OnCallShift.objects.create(
        site_id=site_id,
        user_id=user_id,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note[:120],
        created_by_id=actor.principal.user_id,
    )
    audit.log(
        actor,
        AuditAction.CREATE,
        "on_call_shift",
        object_id=shift.pk,
        site_id=site_id,
        changes={"user": user_id, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
    )
    return shift


def remove_shift(actor: Actor, shift_id: int) -> None:
    shift = OnCallShift.objects.filter(pk=shift_id, site_id=actor.principal.site_pk).first()
    if shift is None:
        raise WatchError("shift", _("No such shift."))
    audit.log(actor, AuditAction.DELETE, "on_call_shift", object_id=shift.pk, site_id=shift.site_id)
    shift.delete()


def add_site_holiday(actor: Actor, day: Any, name: str) -> SiteHoliday:
    site_id = actor.principal.site_pk
    name = name.strip()
    if not name:
        raise WatchError("name", _("Name the holiday."))
    holiday, _created = SiteHoliday.objects.update_or_create(site_id=site_id, day=day, defaults={"name": name[:80]})
    audit.log(actor, AuditAction.CHANGE, "site_holiday", object_id=holiday.pk, site_id=site_id)
    return holiday


def shifts(site_id: int, start: datetime, end: datetime) -> list[OnCallShift]:
    return list(
        OnCallShift.objects.filter(site_id=site_id, ends_at__gt=start, starts_at__lt=end).select_related("user")
    )


# --- programme figures ----------------------------------------------------------------------------------------


def programme_figures(site_id: int, since: date, until: date) -> dict[str, float | int | None]:
    """The site's alert figures for the programme (``maeul.programme``), for ``since`` ≤ day < ``until``: counts
    and a median only, never an alert or a household. Alerts about people (device health left out) raised in the
    period, how many a person took (acknowledged, or resolved straight away) and the median minutes from raising
    to that first human response; alerts resolved in the period with a person's outcome, and how many of those
    were false alarms."""
    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(until, datetime.min.time()))
    person = Alert.objects.filter(site_id=site_id).exclude(kind__in=DEVICE_KINDS)
    raised = person.filter(raised_at__gte=start, raised_at__lt=end)
    minutes = [
        max(0.0, (taken - at).total_seconds() / 60)
        for at, taken in raised.exclude(acknowledged_at=None).values_list("raised_at", "acknowledged_at")
        if taken is not None
    ]
    resolved = person.filter(status=AlertStatus.RESOLVED, resolved_at__gte=start, resolved_at__lt=end).exclude(
        outcome=Outcome.RECOVERED
    )
    counts = resolved.aggregate(n=Count("pk"), false=Count("pk", filter=Q(outcome=Outcome.FALSE_ALARM)))
    return {
        "alerts": raised.count(),
        "alerts_taken": len(minutes),
        "median_minutes_to_response": round(statistics.median(minutes), 1) if minutes else None,
        "alerts_resolved": counts["n"],
        "false_alarms": counts["false"],
        "false_alarm_share": counts["false"] / counts["n"] if counts["n"] else None,
    }

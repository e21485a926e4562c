"""One household's story in one list: sensor alerts, check-ins, cases and referrals, newest first.

Each part comes from its own app's services and only if the principal may see that kind of record; reading the
timeline is audit-logged once, as a view of the household.
"""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _

from maeul.accounts.policy import Action, Resource
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.people import services as people
from maeul.safetynet.models import CheckIn, CheckInResult, CrisisSign
from maeul.watch import services as watch
from maeul.watch.models import Alert
from maeul.welfare import services as welfare
from maeul.welfare.services import TimelineEntry

LIMIT = 100


def _alert_entry(alert: Alert) -> TimelineEntry:
    return TimelineEntry(
        at=alert.raised_at,
        kind="alert",
        title=_("Alert: %(cause)s") % {"cause": alert.get_kind_display()},
        detail=f"{alert.get_severity_display()} · {alert.get_status_display()}"
        + (f" · {alert.get_outcome_display()}" if alert.outcome else ""),
        url=reverse("alert_detail", args=[alert.pk]),
    )


def _check_in_entry(check_in: CheckIn) -> TimelineEntry:
    signs = dict(CrisisSign.choices)
    detail = ", ".join(str(signs.get(code, code)) for code in check_in.crisis_signs)
    return TimelineEntry(
        at=check_in.occurred_at,
        kind="check_in",
        title=_("%(kind)s: %(result)s")
        % {"kind": check_in.get_kind_display(), "result": dict(CheckInResult.choices).get(check_in.result, "")},
        detail=detail,
        url="",
    )


def household_timeline(actor: Actor, household_id: int) -> list[TimelineEntry]:
    """Entries the actor may see, newest first. Raises NotFound outside the actor's scope."""
    principal = actor.principal
    people.require_household(principal, household_id, Action.VIEW)
    entries: list[TimelineEntry] = []
    if principal.can(Resource.ALERT, Action.VIEW):
        entries += [_alert_entry(a) for a in watch.household_alerts(actor, household_id, limit=LIMIT)]
    if principal.can(Resource.CHECK_IN, Action.VIEW):
        check_ins = CheckIn.objects.filter(household_id=household_id).order_by("-occurred_at", "-id")[:LIMIT]
        entries += [_check_in_entry(c) for c in check_ins]
    if principal.can(Resource.CASE, Action.VIEW):
        entries += welfare.household_case_entries(actor, household_id)
    entries.sort(key=_newest_first)
    audit.log(
        actor,
        AuditAction.VIEW,
        "household_timeline",
        object_id=household_id,
        household_id=household_id,
        site_id=principal.site_id,
        record_count=len(entries),
    )
    return entries[:LIMIT]


def _newest_first(entry: TimelineEntry) -> tuple[float, str]:
    at: datetime = entry.at
    return (-at.timestamp(), entry.kind)

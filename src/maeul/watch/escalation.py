"""Who is reached about an alert, and when.

The chain, per the site's settings: the household's assigned helper → the area official (in office hours) or the
official on call (nights, weekends, public holidays) → the guardians who asked for alerts → for critical alerts, the
site's 24-hour duty line. A level with nobody in it is skipped. ``escalation_minutes`` are minutes after the alert
was raised at which it moves on if nobody has acknowledged it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from maeul.accounts.models import Membership
from maeul.accounts.roles import Role
from maeul.people.models import EmergencyContact, GrantKind, HouseholdGrant
from maeul.protection import fields
from maeul.sites.settings_schema import SiteSettings
from maeul.watch.models import DEVICE_KINDS, Alert, OnCallShift, Severity, SiteHoliday

KST = ZoneInfo("Asia/Seoul")
OFFICIAL_ROLES = (Role.WELFARE_OFFICIAL, Role.SAFETY_OFFICIAL)


class Level:
    HELPER = 0
    OFFICIAL = 1
    GUARDIAN = 2
    ROUND_THE_CLOCK = 3


LEVEL_LABELS = {
    Level.HELPER: _("Assigned helper"),
    Level.OFFICIAL: _("Area official or on-call official"),
    Level.GUARDIAN: _("Guardian"),
    Level.ROUND_THE_CLOCK: _("24-hour duty line"),
}


@dataclass(frozen=True)
class Recipient:
    """Someone to reach: an account (web and e-mail) or a phone (guardian, duty line). ``label`` names them
    without contact details, for the alert's history."""

    label: str
    user_id: int | None = None
    email: str = ""
    phone: str = ""


@lru_cache(maxsize=8)
def _national_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("KR", years=year, language="ko"))


def holiday_name(site_id: int, day: date) -> str | None:
    """The public holiday (substitute holidays included) or the site's own holiday on that day, if any."""
    national = _national_holidays(day.year).get(day)
    if national:
        return national
    own = SiteHoliday.objects.filter(site_id=site_id, day=day).values_list("name", flat=True).first()
    return own


def in_office_hours(site_id: int, settings: SiteSettings, at: datetime) -> bool:
    local = at.astimezone(KST)
    if local.weekday() >= 5 or holiday_name(site_id, local.date()):
        return False
    return settings.office_hours_start <= local.hour < settings.office_hours_end


def on_call(site_id: int, at: datetime) -> list[int]:
    return list(
        OnCallShift.objects.filter(site_id=site_id, starts_at__lte=at, ends_at__gt=at).values_list("user_id", flat=True)
    )


def _accounts(user_ids: list[int]) -> list[Recipient]:
    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True).order_by("pk")
    return [Recipient(label=u.get_username(), user_id=u.pk, email=u.email or "") for u in users]


def recipients(alert: Alert, level: int, settings: SiteSettings, at: datetime) -> list[Recipient]:
    site_id = alert.site_id
    if level == Level.HELPER:
        if alert.household_id is None:
            return []
        helpers = HouseholdGrant.objects.filter(
            household_id=alert.household_id, kind=GrantKind.HELPER, revoked_at=None
        ).values_list("user_id", flat=True)
        return _accounts(list(helpers))
    if level == Level.OFFICIAL:
        if not in_office_hours(site_id, settings, at):
            duty = on_call(site_id, at)
            if duty:
                return _accounts(duty)
        members = Membership.objects.filter(site_id=site_id, user__is_active=True)
        if alert.household_id is None or alert.kind == "ingestion_blind":
            members = members.filter(role__in=[*OFFICIAL_ROLES, Role.SITE_ADMIN])
        else:
            members = members.filter(role__in=OFFICIAL_ROLES, areas__code=alert.area_id)
        return _accounts(list(members.values_list("user_id", flat=True).distinct()))
    if level == Level.GUARDIAN:
        if alert.household_id is None:
            return []
        contacts = EmergencyContact.objects.filter(household_id=alert.household_id, receives_alerts=True)
        return [
            Recipient(label=c.relation, user_id=c.account_id, phone=fields.decrypt(c.phone_encrypted))
            for c in contacts.order_by("priority", "pk")
        ]
    if level == Level.ROUND_THE_CLOCK and settings.round_the_clock_contact_phone:
        return [
            Recipient(
                label=settings.round_the_clock_contact_name or str(LEVEL_LABELS[Level.ROUND_THE_CLOCK]),
                phone=settings.round_the_clock_contact_phone,
            )
        ]
    return []


def levels_for(alert: Alert) -> list[int]:
    """The chain this alert walks. Device health goes to officials only; guardians are not woken for a battery.
    Only a critical alert ends at the 24-hour line, and a system alert goes to officials and the line."""
    if alert.kind in DEVICE_KINDS:
        chain = [Level.OFFICIAL]
        if alert.kind == "ingestion_blind":
            chain.append(Level.ROUND_THE_CLOCK)
        return chain
    chain = [Level.HELPER, Level.OFFICIAL, Level.GUARDIAN]
    if alert.severity == Severity.CRITICAL:
        chain.append(Level.ROUND_THE_CLOCK)
    return chain


def wait_after(settings: SiteSettings, wave: int) -> timedelta:
    """How long people reached in the ``wave``-th round (0 = when raised) have before the alert moves on: the
    site's escalation minutes count from the alert; past the list, each round takes as long as the last one."""
    minutes = [0, *settings.escalation_minutes]
    if wave + 1 < len(minutes):
        return timedelta(minutes=minutes[wave + 1] - minutes[wave])
    return timedelta(minutes=minutes[-1] - minutes[-2])


def holidays_of(site_id: int, year: int) -> list[tuple[date, str, bool]]:
    """The year's public holidays and the site's own, in date order; the flag says which are the site's own."""
    days = [(d, name, False) for d, name in _national_holidays(year).items()]
    days += [(h.day, h.name, True) for h in SiteHoliday.objects.filter(site_id=site_id, day__year=year)]
    return sorted(days)

"""Template filters for Korean conventions."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from maeul.protection.phone import format_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return format_phone(digits) if digits else ""


@register.filter
def age(birth_year: int | None) -> str:
    from django.utils import timezone

    return "" if not birth_year else str(timezone.localdate().year - int(birth_year))


@register.filter
def get_item(mapping: dict[str, object], key: str) -> object:
    return mapping.get(key, key)


def _label(choices: Iterable[tuple[str, object]], value: str) -> str:
    return str(dict(choices).get(value, value))


@register.filter
def housing(value: str) -> str:
    from maeul.people.models import HousingType

    return _label(HousingType.choices, value)


@register.filter
def household_status(value: str) -> str:
    from maeul.people.models import HouseholdStatus

    return _label(HouseholdStatus.choices, value)


@register.filter
def sex(value: str) -> str:
    from maeul.people.models import Sex

    return _label(Sex.choices, value)


@register.filter
def role_label(value: str) -> str:
    from maeul.accounts.roles import Role

    return _label(Role.choices, value)


@register.filter
def resource_label(value: str) -> str:
    from django.utils.translation import gettext

    labels = {
        "household": gettext("Household"),
        "person": gettext("Person"),
        "contact": gettext("Contact"),
        "consent": gettext("Consent"),
        "session": gettext("Login session"),
        "site_settings": gettext("Site settings"),
        "audit": gettext("Access records"),
        "household_grant": gettext("Access grant"),
        "device": gettext("Device"),
        "gateway": gettext("Gateway"),
        "unclaimed_device": gettext("Unclaimed device"),
        "alert": gettext("Alert"),
        "on_call_shift": gettext("On-call shift"),
        "site_holiday": gettext("Site holiday"),
        "helper": gettext("Helper"),
        "helper_record": gettext("Helper training or check"),
        "assignment": gettext("Helper assignment"),
        "check_in_schedule": gettext("Check-in schedule"),
        "check_in": gettext("Check-in"),
        "handover": gettext("Handover"),
        "coverage": gettext("Helper coverage"),
        "case": gettext("Case"),
        "referral": gettext("Referral"),
        "follow_up": gettext("Follow-up"),
        "verification_task": gettext("Verification task"),
        "need_assessment": gettext("Needs assessment"),
        "case_handover": gettext("Case handover"),
        "household_timeline": gettext("Household timeline"),
        "welfare_report": gettext("Safety net report"),
        "directory_organization": gettext("Partner organisation"),
        "directory_service": gettext("Partner service"),
        "directory_staff": gettext("Partner staff link"),
    }
    return labels.get(value, value)

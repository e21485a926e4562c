"""Labels for the welfare codes, and whether the viewer may see or open cases at all."""

from __future__ import annotations

from functools import cache

from django import template
from django.utils.translation import get_language

from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import Principal
from maeul.directory.models import NeedDomain
from maeul.welfare.models import (
    CaseEventKind,
    CaseOutcome,
    CasePriority,
    CaseSource,
    CaseStatus,
    NeedLevel,
    ReferralStatus,
    UnsuccessfulReason,
    VerificationKind,
    VerificationResolution,
    VerificationStatus,
)

register = template.Library()

_CHOICES = {
    "source": CaseSource,
    "case_status": CaseStatus,
    "outcome": CaseOutcome,
    "priority": CasePriority,
    "domain": NeedDomain,
    "level": NeedLevel,
    "referral_status": ReferralStatus,
    "unsuccessful_reason": UnsuccessfulReason,
    "verification_kind": VerificationKind,
    "verification_status": VerificationStatus,
    "resolution": VerificationResolution,
    "event": CaseEventKind,
}


@register.filter
def welfare_label(value: object, kind: str) -> str:
    """``{{ case.source|welfare_label:"source" }}``: the translated label of a code, or the code itself."""
    return _labels(kind, get_language()).get(str(value), str(value))


@cache
def _labels(kind: str, language: str | None) -> dict[str, str]:
    """The labels of one kind of code in one language (lists call the filter twice a row)."""
    return {str(v): str(label) for v, label in _CHOICES[kind].choices}


@register.filter
def may_view_cases(principal: Principal | None) -> bool:
    return principal is not None and principal.can(Resource.CASE, Action.VIEW)


@register.filter
def may_open_cases(principal: Principal | None) -> bool:
    return principal is not None and principal.can(Resource.CASE, Action.CREATE)

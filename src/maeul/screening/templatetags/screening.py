from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from maeul.screening.models import Method, OutreachStatus, Result
from maeul.screening.services import CandidateRow

register = template.Library()

_CHOICES = {"status": OutreachStatus, "result": Result, "method": Method}


@register.filter
def screening_label(value: str, kind: str) -> str:
    choices = _CHOICES[kind]
    return str(choices(value).label) if value in choices.values else value


@register.filter
def score(row: CandidateRow) -> str:
    """A model's score as a probability of being found in need; the rule's as its indicator count."""
    if row.scorer == "model":
        return _("%(pct)s%% risk") % {"pct": round(row.score * 100)}
    return _("%(n)s indicators") % {"n": row.indicator_count}

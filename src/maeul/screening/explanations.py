"""A rank's explaining factors in plain words: what the outreach list, a household's entry and the answer to a
resident (PIPA Art. 37-2) show.

Kept apart from ``maeul.screening.model``, which computes the factors with NumPy and scikit-learn, so that the pages
can word them without importing those: every web process loads the views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from maeul.screening.catalogue import BY_CODE


@dataclass(frozen=True)
class Factor:
    code: str
    value: int
    weight: float  # log-odds for the model; 1 for each present indicator under the rule


def phrase(factor: Factor) -> str:
    return str(BY_CODE[factor.code].phrase) % {"value": factor.value}


def explain(factors: Sequence[Factor]) -> str:
    """Plain words, e.g. "water bill unpaid 3 months; health-insurance premiums unpaid 6 months; lives alone"."""
    return "; ".join(phrase(f) for f in factors) if factors else _("no single indicator stands out")


__all__ = ["Factor", "explain", "phrase"]

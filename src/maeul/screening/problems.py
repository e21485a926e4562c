"""What is wrong with a file or a row the site was sent, and the checks of a key that the pipeline's intake and the
national list import share.

Kept apart from ``maeul.screening.pipeline`` so that the pages (the national list upload shows these problems) can
name them without importing Ibis, DuckDB and Arrow: every web process loads the views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

KEY_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
# A resident registration number (주민등록번호): six digits of birth date, a seventh digit 1–8, six more.
RRN_PATTERN = r"^[0-9]{6}-?[1-8][0-9]{6}$"
KEY_REASON = "not a pseudonymous key (8–64 letters, digits, - or _)"
RRN_REASON = "looks like a resident registration number: send pseudonymous keys only"


class IntakeRejected(Exception):
    """Nothing of the run is applied; ``problems`` says why (file-level problems have row 0)."""

    def __init__(self, problems: Sequence[Problem], message: str = "") -> None:
        self.problems = list(problems)
        super().__init__(message or f"{len(self.problems)} problems; nothing was applied")


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    row: int  # 0: the file as a whole
    column: str
    reason: str


__all__ = ["KEY_PATTERN", "KEY_REASON", "RRN_PATTERN", "RRN_REASON", "IntakeRejected", "Problem"]

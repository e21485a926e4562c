"""Welfare errors: each names the field, a stable code and a message a person can act on."""

from __future__ import annotations

from maeul.people.errors import NotFound, RegistryError


class WelfareError(RegistryError):
    """Refused input on a case, referral, follow-up or verification task; shown on the named field, or as
    problem+json by the API."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(field, code, message)


class CaseNotFound(NotFound):
    """Absent, or outside the reader's scope: the two look the same, so probing reveals nothing."""

    def __init__(self, case_id: int) -> None:
        super().__init__("case", case_id)

"""Watch errors: each names the field and carries a message a person can act on."""

from __future__ import annotations

from maeul.people.errors import NotFound, RegistryError


class WatchError(RegistryError):
    """Refused input on an alert, a shift or a holiday; shown on the named field, or as problem+json."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(field, code, message)


class AlertNotFound(NotFound):
    """Absent, or outside the reader's scope: the two look the same, so probing reveals nothing."""

    def __init__(self, alert_id: int) -> None:
        super().__init__("alert", alert_id)

"""Korean telephone numbers: validation, canonical digits and display in Korean convention."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SEOUL = "02"
# Mobile 010/011/016-019, area codes 031-064, internet telephony 070, nationwide 15xx/16xx/18xx.
_PATTERN = re.compile(r"^(?:01[016789]\d{7,8}|02\d{7,8}|0[3-6][1-5]\d{7,8}|070\d{8}|1[568]\d{6})$")


def canonical_phone(raw: str) -> str:
    """Digits only, with +82 turned into the domestic leading 0. Raises ValidationError when invalid."""
    digits = re.sub(r"[\s\-().]", "", raw.strip())
    if digits.startswith("+82"):
        digits = "0" + digits[3:].lstrip("0")
    elif digits.startswith("82") and len(digits) >= 11:
        digits = "0" + digits[2:].lstrip("0")
    if not digits.isdigit() or not _PATTERN.match(digits):
        raise ValidationError(
            _("“%(value)s” is not a Korean telephone number (for example 010-1234-5678 or 02-123-4567)."),
            code="invalid_phone",
            params={"value": raw},
        )
    return digits


def checked_phone(raw: str) -> str:
    """``canonical_phone`` for pydantic validators: a ValueError carrying the message a person can act on."""
    try:
        return canonical_phone(raw)
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from exc


def format_phone(digits: str) -> str:
    """010-1234-5678, 02-123-4567, 031-123-4567, 1588-1234."""
    if not digits:
        return ""
    if len(digits) == 8 and digits[0] == "1":
        return f"{digits[:4]}-{digits[4:]}"
    head = 2 if digits.startswith(_SEOUL) else 3
    rest = digits[head:]
    middle = len(rest) - 4
    return f"{digits[:head]}-{rest[:middle]}-{rest[middle:]}"

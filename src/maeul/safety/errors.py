"""Safety errors: each names the field, a stable code and a message a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field

from maeul.people.errors import NotFound, RegistryError

__all__ = ["DuplicatesFound", "NotFound", "SafetyError"]


class SafetyError(RegistryError):
    """Refused input; shown on the named form field, or as problem+json / an Open311 error."""


@dataclass
class DuplicatesFound(Exception):
    """Open reports of the same kind nearby: the reporter chooses to follow one or to file anyway."""

    candidates: list[object] = field(default_factory=list)

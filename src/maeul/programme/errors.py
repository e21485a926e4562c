"""Programme errors: each names the field, a stable code and a message a person can act on."""

from __future__ import annotations

from dataclasses import dataclass

from maeul.people.errors import NotFound, RegistryError

__all__ = ["ApplicationProblem", "NotFound", "ProgrammeError"]


class ProgrammeError(RegistryError):
    """Refused input or a step out of order; nothing stored was changed."""


@dataclass(frozen=True)
class ApplicationProblem:
    """One reason an application does not meet its call: the field it concerns and what to change."""

    field: str
    code: str
    message: str

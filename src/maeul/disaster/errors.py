"""Disaster errors: each names the field, a stable code and a message a person can act on."""

from __future__ import annotations

from maeul.people.errors import NotFound, RegistryError

__all__ = ["DisasterError", "NotFound"]


class DisasterError(RegistryError):
    """Refused input on a response, plan, zone table, source or contact; shown on the named field, or as
    problem+json by the API."""

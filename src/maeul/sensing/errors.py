"""Sensing errors: each names the field, a stable code and a message a person can act on."""

from __future__ import annotations

from maeul.people.errors import ImportRejected, NotFound, RegistryError, RowError

__all__ = ["ImportRejected", "NotFound", "RowError", "SensingError"]


class SensingError(RegistryError):
    """Refused input about a device, gateway or unclaimed device; shown on the named form field, or as
    problem+json in the API."""

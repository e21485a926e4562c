"""Registry errors: each names the field, a stable code and a message a person can act on."""

from __future__ import annotations

from dataclasses import dataclass


class RegistryError(Exception):
    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


class NotFound(Exception):
    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


class ImportRejected(Exception):
    """Nothing was imported; ``errors`` lists every problem found."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing imported")
        self.errors = errors

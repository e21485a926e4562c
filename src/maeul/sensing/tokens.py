"""Gateway tokens: a random secret shown once; the database keeps only its SHA-256, which is enough for a
high-entropy token (no password hashing needed) and lets the HTTP endpoint find the gateway by index."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "mgw_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

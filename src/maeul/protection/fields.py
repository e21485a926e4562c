"""Encryption at rest for contact and sensitive fields, and exact search through blind indexes.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the keys in ``MAEUL_FIELD_KEY``
(comma-separated; the first encrypts, every key decrypts, so keys can be rotated without downtime).
A blind index is an HMAC-SHA256 of the *normalised* value under a key derived from the current field key:
equal inputs give equal indexes, so exact search works without storing the value in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import unicodedata
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class FieldKeyError(ImproperlyConfigured):
    pass


def _keys(raw: str) -> list[bytes]:
    keys = [k.strip().encode() for k in raw.split(",") if k.strip()]
    if not keys:
        raise FieldKeyError("MAEUL_FIELD_KEY holds no key.")
    for key in keys:
        try:
            Fernet(key)
        except ValueError as exc:
            raise FieldKeyError("MAEUL_FIELD_KEY: each key must be 32 url-safe base64-encoded bytes.") from exc
    return keys


@cache
def _cipher(raw: str) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in _keys(raw)])


@cache
def _index_key(raw: str) -> bytes:
    primary = _keys(raw)[0]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"maeul blind index v1").derive(
        base64.urlsafe_b64decode(primary)
    )


def encrypt(value: str) -> str:
    if value == "":
        return ""
    return _cipher(settings.MAEUL_FIELD_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if token == "":
        return ""
    try:
        return _cipher(settings.MAEUL_FIELD_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise FieldKeyError("A stored value cannot be decrypted with any key in MAEUL_FIELD_KEY.") from exc


def encrypt_json(value: Any) -> str:
    return encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))


def decrypt_json(token: str, default: Any = None) -> Any:
    if token == "":
        return default
    return json.loads(decrypt(token))


def rotate(token: str) -> str:
    """Re-encrypt a token under the first (current) key."""
    if token == "":
        return ""
    return _cipher(settings.MAEUL_FIELD_KEY).rotate(token.encode()).decode()


def normalise_name(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", value)).casefold()


def normalise_text(value: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip().casefold()


def blind_index(normalised: str) -> str:
    if normalised == "":
        return ""
    key = _index_key(settings.MAEUL_FIELD_KEY)
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()[:32]


def generate_key() -> str:
    return Fernet.generate_key().decode()

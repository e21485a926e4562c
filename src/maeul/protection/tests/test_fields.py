from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from maeul.protection import fields
from maeul.protection.phone import canonical_phone, format_phone


def test_encryption_round_trips_and_hides_the_value() -> None:
    token = fields.encrypt("김영자")
    assert "김영자" not in token
    assert fields.decrypt(token) == "김영자"
    assert fields.encrypt("김영자") != token  # random IV: equal values do not look equal


def test_blind_index_is_stable_for_equal_normalised_values() -> None:
    a = fields.blind_index(fields.normalise_name("김 영자"))
    b = fields.blind_index(fields.normalise_name("김영자"))
    assert a == b and len(a) == 32
    assert fields.blind_index(fields.normalise_name("김영수")) != a


def test_a_value_from_another_key_is_refused_clearly() -> None:
    token = fields.encrypt("secret")
    with override_settings(MAEUL_FIELD_KEY=fields.generate_key()), pytest.raises(fields.FieldKeyError):
        fields.decrypt(token)


def test_rotation_keeps_old_values_readable() -> None:
    token = fields.encrypt("secret")
    old = fields.generate_key()
    with override_settings(MAEUL_FIELD_KEY=old):
        token = fields.encrypt("secret")
    new = fields.generate_key()
    with override_settings(MAEUL_FIELD_KEY=f"{new},{old}"):
        rotated = fields.rotate(token)
    with override_settings(MAEUL_FIELD_KEY=new):
        assert fields.decrypt(rotated) == "secret"


def test_malformed_keys_are_reported() -> None:
    with override_settings(MAEUL_FIELD_KEY="not-a-key"), pytest.raises(fields.FieldKeyError, match="32"):
        fields.encrypt("x")


@pytest.mark.parametrize(
    ("raw", "digits", "shown"),
    [
        ("010-1234-5678", "01012345678", "010-1234-5678"),
        ("+82 10 1234 5678", "01012345678", "010-1234-5678"),
        ("02-123-4567", "021234567", "02-123-4567"),
        ("(031) 1234-5678", "03112345678", "031-1234-5678"),
        ("1588-1234", "15881234", "1588-1234"),
    ],
)
def test_korean_phone_numbers(raw: str, digits: str, shown: str) -> None:
    assert canonical_phone(raw) == digits
    assert format_phone(digits) == shown


@pytest.mark.parametrize("raw", ["12345", "010-12-34", "phone", "+1 415 555 0100"])
def test_invalid_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        canonical_phone(raw)

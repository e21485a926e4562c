"""Fixtures for Type 1: a safety official, a body member with an account, and photos with and without GPS."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from PIL import Image

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, MakeUser, actor_of
from maeul.safety import services
from maeul.safety.models import BodyMember
from maeul.safety.schemas import MemberInput, ReportInput
from maeul.sites.models import Site

# A point in 청운효자동 (종로구), near 자하문로.
NEAR_CHEONGUN = (37.5826, 126.9700)


@pytest.fixture
def safety_official(site: Site, make_user: MakeUser) -> User:
    return make_user(Role.SAFETY_OFFICIAL, site, [CHEONGUN])


@pytest.fixture
def body_member(site: Site, make_user: MakeUser, safety_official: User) -> tuple[User, BodyMember]:
    user = make_user(Role.BODY_MEMBER, site, [CHEONGUN])
    member = services.add_member(
        actor_of(safety_official),
        MemberInput(
            area_code=CHEONGUN,
            name="박순자",
            phone="010-3456-7890",
            kind="village_head",
            role="member",
            term_start=date(2025, 1, 1),
        ),
        account_id=user.pk,
    )
    return user, member


def report_data(**extra: Any) -> ReportInput:
    values: dict[str, Any] = {
        "category": "pothole",
        "description": "차도 가장자리에 깊은 포트홀이 있어요",
        "latitude": NEAR_CHEONGUN[0],
        "longitude": NEAR_CHEONGUN[1],
        "address": "자하문로 92 앞",
    }
    values.update(extra)
    return ReportInput(**values)


def _rational(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60, 4)
    return (float(d), float(m), s)


def jpeg(size: tuple[int, int] = (2400, 1800), gps: tuple[float, float] | None = None, rotate: bool = False) -> bytes:
    """A camera-like JPEG: large, with EXIF (make, model, and optionally GPS and an orientation tag)."""
    image = Image.new("RGB", size, (120, 90, 60))
    exif = image.getexif()
    exif[0x010F] = "TestPhone"  # Make
    exif[0x0110] = "Model X"  # Model
    if rotate:
        exif[0x0112] = 6  # Orientation: turn 90° clockwise to view
    if gps is not None:
        exif[0x8825] = {1: "N", 2: _rational(gps[0]), 3: "E", 4: _rational(gps[1])}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()

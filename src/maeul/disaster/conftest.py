"""Disaster fixtures: Jongno-gu households placed where the Korean test vectors fall (the heat polygon over
청운효자동 and 사직동, the rain circle around 혜화동, the typhoon's 종로1.2.3.4가동 and 종로5.6가동), with a helper, a
consultative body member and officials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, SAJIK, MakeUser, actor_of, household_data
from maeul.people import services as people
from maeul.people.schemas import ContactInput
from maeul.safety import services as safety
from maeul.safety.schemas import MemberInput
from maeul.safetynet import services as safetynet
from maeul.safetynet.models import HelperKind
from maeul.safetynet.schemas import AssignmentInput, HelperInput
from maeul.sites.models import Site

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"  # Korean alerts over Jongno-gu (also the demo's)
OASIS = Path(__file__).resolve().parent / "tests" / "cap"  # the four examples of the CAP 1.2 specification
MUAK, GYONAM, HYEHWA, IHWA = "1111057000", "1111058000", "1111065000", "1111064000"
JONGNO1234, JONGNO56 = "1111061500", "1111063000"


def vector(name: str) -> bytes:
    return ((OASIS if name.startswith("oasis") else SAMPLES) / name).read_bytes()


@dataclass
class Town:
    """Households by name: where they are and what they need."""

    site: Site
    admin: User
    official: User  # safety official of 청운효자동 and 사직동
    helper_user: User
    member_user: User
    homes: dict[str, int]
    helper_id: int
    member_id: int


@pytest.fixture
def town(site: Site, make_user: MakeUser) -> Town:
    admin = make_user(Role.SITE_ADMIN, site)
    official = make_user(Role.SAFETY_OFFICIAL, site, [CHEONGUN, SAJIK])
    helper_user = make_user(Role.HELPER, site, [CHEONGUN])
    member_user = make_user(Role.BODY_MEMBER, site, [CHEONGUN])
    a = actor_of(admin)
    homes: dict[str, Any] = {}

    def home(key: str, area: str, lat: float | None, lon: float | None, **extra: Any) -> None:
        data = household_data(area, name=f"주민{key}", latitude=lat, longitude=lon, **extra)
        homes[key] = people.register_household(a, data).id

    # Inside the heat polygon (37.572–37.592 N, 126.960–126.976 E).
    home("bedridden", CHEONGUN, 37.5850, 126.9690, bedridden=True, housing_type="rooftop")
    home("alone", CHEONGUN, 37.5830, 126.9700, living_alone=True, housing_type="apartment", care_level=1,
         contacts=[ContactInput(name="김딸", relation="딸", phone="010-7777-1234", receives_alerts=True)])  # fmt: skip
    home(
        "sajik", SAJIK, 37.5740, 126.9700, living_alone=False, older_adult=False, care_level=1, housing_type="apartment"
    )
    # Registered in 청운효자동 without coordinates: counted by its area.
    home("nocoords", CHEONGUN, None, None, living_alone=False, care_level=2, housing_type="apartment")
    # 청운효자동 by registration, but its point lies outside the polygon (north of 37.592): not in the heat alert.
    home("north", CHEONGUN, 37.5960, 126.9680, living_alone=False, care_level=1, housing_type="apartment")
    # 무악동 and 교남동: only inside the update's larger polygon.
    home("muak", MUAK, 37.5770, 126.9580, housing_type="apartment")
    home("gyonam", GYONAM, 37.5700, 126.9640, housing_type="apartment")
    # Around 혜화동 (the rain circle, 1 km) and 이화동.
    home("hyehwa", HYEHWA, 37.5868, 126.9996, housing_type="semi_basement")
    home("ihwa", IHWA, 37.5805, 127.0025, housing_type="apartment", living_alone=False)
    # The typhoon's two dongs, one without coordinates.
    home("jongno1", JONGNO1234, 37.5700, 126.9900, housing_type="semi_basement")
    home("jongno5", JONGNO56, None, None, housing_type="rooftop")

    helper = safetynet.register_helper(
        actor_of(official),
        HelperInput(kind=HelperKind.NEIGHBOUR, name="박도움", phone="010-3456-7890", area_codes=[CHEONGUN],
                    consent_given_on=date(2026, 3, 1), account_id=helper_user.pk),
    )  # fmt: skip
    safetynet.assign_helper(actor_of(official), homes["bedridden"], AssignmentInput(helper_id=helper.id))
    member = safety.add_member(
        actor_of(official),
        MemberInput(area_code=CHEONGUN, name="최위원", phone="010-5100-2201", kind="village_head",
                    term_start=date(2025, 3, 1)),
        account_id=member_user.pk,
    )  # fmt: skip
    return Town(site, admin, official, helper_user, member_user, homes, helper.id, member.pk)

"""Shared fixtures: reference areas, two sites, accounts per role and households, built through services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from maeul.accounts import services as accounts
from maeul.accounts.middleware import SESSION_VERIFIED_KEY
from maeul.accounts.principal import principal_for
from maeul.accounts.roles import Role
from maeul.areas import services as areas
from maeul.areas.models import Area
from maeul.audit.services import Actor
from maeul.people import services as people
from maeul.people.schemas import ConsentInput, HouseholdInput, PersonInput
from maeul.sites import services as sites
from maeul.sites.models import ProgrammeType, Site

pytest_plugins = ["maeul.testing.browser"]

CHEONGUN = "1111051500"  # 청운효자동, 종로구
SAJIK = "1111053000"  # 사직동, 종로구
YANGPYEONG_EUP = "4183025000"  # 양평읍, 양평군


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Load the reference areas once into the test database: tests that roll back keep them. pytest-django runs
    transactional tests last, and their flush removes the areas, so ``reference`` loads them again there."""
    with django_db_blocker.unblock():
        areas.load_reference()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate limits and the alert board's audit window live in the cache; each test starts without them (ids
    repeat across rolled-back tests)."""
    cache.clear()


@pytest.fixture
def reference(db: Any) -> None:
    if not areas.reference_loaded():
        areas.load_reference()


@pytest.fixture
def site(reference: None) -> Site:
    return sites.create_site("jongno", "서울특별시 종로구", "1111000000", ProgrammeType.SAFETY_WELFARE)


@pytest.fixture
def other_site(reference: None) -> Site:
    return sites.create_site("yangpyeong", "경기도 양평군", "4183000000", ProgrammeType.SAFETY)


MakeUser = Callable[..., User]


@pytest.fixture
def make_user(db: Any) -> MakeUser:
    counter = iter(range(1, 10_000))

    def make(
        role: Role, site: Site | None = None, area_codes: list[str] | None = None, username: str | None = None
    ) -> User:
        name = username or f"{role.value}-{next(counter)}"
        return accounts.create_account(
            name,
            "correct-horse-battery",
            role,
            site=site,
            areas=list(Area.objects.filter(code__in=area_codes or [])),
        )

    return make


def actor_of(user: User) -> Actor:
    return Actor(principal=principal_for(user), address="127.0.0.1", channel="test")


def signed_in(user: User) -> Client:
    """A client past password and second factor (those steps have their own tests)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_VERIFIED_KEY] = True
    session.save()
    return client


def household_data(
    area_code: str = CHEONGUN, name: str = "김영자", phone: str | None = "010-2345-6789", **extra: Any
) -> HouseholdInput:
    values: dict[str, Any] = {
        "area_code": area_code,
        "address": "서울특별시 종로구 자하문로 92",
        "address_detail": "101호",
        "latitude": 37.5826,
        "longitude": 126.9700,
        "housing_type": "semi_basement",
        "living_alone": True,
        "older_adult": True,
        "care_level": 3,
        "primary_person": PersonInput(name=name, birth_year=1940, sex="F", phone=phone, conditions=["dementia"]),
        "consents": [ConsentInput(purpose="care_registry", given_on=date(2026, 1, 5))],
    }
    values.update(extra)
    return HouseholdInput(**values)


@pytest.fixture
def site_admin(site: Site, make_user: MakeUser) -> User:
    return make_user(Role.SITE_ADMIN, site)


@pytest.fixture
def official(site: Site, make_user: MakeUser) -> User:
    return make_user(Role.WELFARE_OFFICIAL, site, [CHEONGUN])


@pytest.fixture
def household(site_admin: User) -> people.HouseholdView:
    return people.register_household(actor_of(site_admin), household_data())

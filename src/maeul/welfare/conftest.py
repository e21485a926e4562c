"""Welfare fixtures: partner organisations with a service each, their staff, a helper granted the household and
the household's consent to sharing with partner organisations."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User

from maeul.accounts.roles import Role
from maeul.conftest import MakeUser, actor_of
from maeul.directory import services as directory
from maeul.directory.models import Organization, Service
from maeul.people import services as people
from maeul.people.models import GrantKind
from maeul.people.schemas import ConsentInput
from maeul.sites.models import Site


@pytest.fixture
def food_bank(site: Site) -> Organization:
    return Organization.objects.create(site=site, name="종로 푸드뱅크")


@pytest.fixture
def health_centre(site: Site) -> Organization:
    return Organization.objects.create(site=site, name="종로구 보건소")


@pytest.fixture
def food_service(food_bank: Organization) -> Service:
    return Service.objects.create(organization=food_bank, name="긴급 식품 지원", capacity=10)


@pytest.fixture
def health_service(health_centre: Organization) -> Service:
    return Service.objects.create(organization=health_centre, name="방문 건강 관리")


def _staff(make_user: MakeUser, site: Site, site_admin: User, organization: Organization) -> User:
    user = make_user(Role.PARTNER_STAFF, site)
    directory.add_staff(actor_of(site_admin), organization.id, user.pk)
    return user


@pytest.fixture
def food_staff(make_user: MakeUser, site: Site, site_admin: User, food_bank: Organization) -> User:
    return _staff(make_user, site, site_admin, food_bank)


@pytest.fixture
def health_staff(make_user: MakeUser, site: Site, site_admin: User, health_centre: Organization) -> User:
    return _staff(make_user, site, site_admin, health_centre)


@pytest.fixture
def sharing_consent(household: Any, site_admin: User) -> None:
    people.record_consent(
        actor_of(site_admin), household.id, ConsentInput(purpose="partner_sharing", given_on=date(2026, 2, 1))
    )


@pytest.fixture
def helper(make_user: MakeUser, site: Site, household: Any, site_admin: User) -> User:
    user = make_user(Role.HELPER, site)
    people.grant_access(actor_of(site_admin), household.id, user.pk, GrantKind.HELPER)
    return user

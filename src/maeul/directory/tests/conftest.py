"""Fixtures for the directory: the official HSDS 3.1 examples and a small directory built through services."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, SAJIK, MakeUser, actor_of
from maeul.directory import services
from maeul.directory.models import Organization, Service
from maeul.directory.schemas import OrganizationInput, ServiceInput
from maeul.sites.models import Site

EXAMPLES = Path(__file__).parent / "hsds_examples"
# Every official JSON example holding records, with the kind of record it holds. (base.json, the API's root
# document with the HSDS version and profile, holds none.)
JSON_EXAMPLES = {
    "organization_full.json": "organization",
    "service_full.json": "service",
    "service_at_location_full.json": "service_at_location",
    "organization_list.json": "organization",
    "service_list.json": "service",
    "service_at_location_list.json": "service_at_location",
    "location.json": "location",
    "taxonomy.json": "taxonomy",
    "taxonomy_list.json": "taxonomy",
    "taxonomy_term.json": "taxonomy_term",
    "taxonomy_term_list.json": "taxonomy_term",
}


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def csv_files() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((EXAMPLES / "csv").glob("*.csv"))}


@pytest.fixture
def helper(site: Site, make_user: MakeUser) -> User:
    return make_user(Role.HELPER, site, [CHEONGUN])


@pytest.fixture
def partner(site: Site, make_user: MakeUser) -> User:
    return make_user(Role.PARTNER_STAFF, site)


@pytest.fixture
def food_bank(site_admin: User) -> Organization:
    return services.create_organization(
        actor_of(site_admin),
        OrganizationInput(name="종로 푸드뱅크", description="식품 지원", email="food@example.org"),
    )


@pytest.fixture
def meal_service(site_admin: User, food_bank: Organization) -> Service:
    """Meals for older people of 청운효자동 on up to 75 % of median income, 10 places."""
    return services.create_service(
        actor_of(site_admin),
        food_bank.id,
        ServiceInput(
            name="어르신 도시락 배달",
            description="주 3회 도시락",
            needs=["food", "isolation"],
            minimum_age=65,
            income_ceiling_percent=75,
            area_codes=[CHEONGUN],
            capacity=10,
        ),
    )


@pytest.fixture
def disability_service(site_admin: User, food_bank: Organization) -> Service:
    return services.create_service(
        actor_of(site_admin),
        food_bank.id,
        ServiceInput(
            name="장애인 활동지원",
            needs=["care"],
            disability="required",
            area_codes=[SAJIK],
        ),
    )

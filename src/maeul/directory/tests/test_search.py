"""Search by need, area and eligibility; what the welfare app calls; staff links."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from maeul.accounts.principal import principal_for
from maeul.accounts.roles import Role
from maeul.audit.models import AuditEntry
from maeul.conftest import CHEONGUN, SAJIK, MakeUser, actor_of
from maeul.directory import services
from maeul.directory.models import Organization, Service, ServiceStatus
from maeul.directory.schemas import ServiceInput
from maeul.people.errors import NotFound, RegistryError
from maeul.sites.models import Site

pytestmark = pytest.mark.django_db


def _names(results: list[services.ServiceSummary]) -> list[str]:
    return [r.name for r in results]


def test_search_by_need_area_and_eligibility(
    official: User, meal_service: Service, disability_service: Service
) -> None:
    p = principal_for(official)
    assert _names(services.search_services(p)) == ["어르신 도시락 배달", "장애인 활동지원"]
    assert _names(services.search_services(p, need="food")) == ["어르신 도시락 배달"]
    assert _names(services.search_services(p, area_code=SAJIK)) == ["장애인 활동지원"]
    assert _names(services.search_services(p, area_code=CHEONGUN, age=70)) == ["어르신 도시락 배달"]
    assert _names(services.search_services(p, need="food", age=40)) == []
    assert _names(services.search_services(p, need="food", income_band=80)) == []
    assert _names(services.search_services(p, need="food", income_band=60)) == ["어르신 도시락 배달"]
    assert _names(services.search_services(p, disability=False)) == ["어르신 도시락 배달"]
    assert _names(services.search_services(p, disability=True)) == ["어르신 도시락 배달", "장애인 활동지원"]
    assert _names(services.search_services(p, text="푸드뱅크")) == ["어르신 도시락 배달", "장애인 활동지원"]


def test_a_service_for_the_whole_site_matches_every_area(site_admin: User, food_bank: Organization) -> None:
    services.create_service(actor_of(site_admin), food_bank.id, ServiceInput(name="긴급 식품 지원", needs=["food"]))
    assert _names(services.search_services(principal_for(site_admin), area_code=SAJIK)) == ["긴급 식품 지원"]


def test_inactive_services_are_excluded_and_capacity_left_shows(
    site_admin: User, official: User, meal_service: Service
) -> None:
    services.adjust_places_in_use(meal_service.id, 3)
    [found] = services.search_services(principal_for(official), need="food")
    assert (found.capacity, found.capacity_left) == (10, 7)
    data = ServiceInput(name=meal_service.name, status=ServiceStatus.INACTIVE, needs=["food"])
    services.update_service(actor_of(site_admin), meal_service.id, data)
    assert services.search_services(principal_for(official), need="food") == []
    assert AuditEntry.objects.filter(resource="directory_service", action="change").exists()


def test_another_sites_directory_is_not_visible(meal_service: Service, other_site: Site, make_user: MakeUser) -> None:
    stranger = principal_for(make_user(Role.WELFARE_OFFICIAL, other_site))
    assert services.search_services(stranger) == []
    with pytest.raises(NotFound):
        services.get_service(stranger, meal_service.id)
    with pytest.raises(NotFound):
        services.get_organization(stranger, meal_service.organization_id)


def test_service_ref_for_the_welfare_app(meal_service: Service, disability_service: Service) -> None:
    ref = services.service_ref(str(meal_service.id))
    assert (ref.name, ref.organization_name, ref.needs, ref.capacity, ref.capacity_left) == (
        "어르신 도시락 배달",
        "종로 푸드뱅크",
        ("food", "isolation"),
        10,
        10,
    )
    assert services.service_ref(disability_service.id).capacity_left is None
    Service.objects.filter(pk=meal_service.id).update(status=ServiceStatus.DEFUNCT)
    with pytest.raises(NotFound):
        services.service_ref(meal_service.id)
    with pytest.raises(NotFound):
        services.service_ref(uuid.uuid4())
    with pytest.raises(NotFound):
        services.service_ref("not-a-uuid")


def test_places_in_use_never_go_below_zero(meal_service: Service) -> None:
    assert services.adjust_places_in_use(meal_service.id, 1).capacity_left == 9
    assert services.adjust_places_in_use(meal_service.id, -5).places_in_use == 0


def test_staff_links(site_admin: User, partner: User, official: User, food_bank: Organization) -> None:
    assert services.organization_ids_for_user(partner.pk) == []
    staff = services.add_staff(actor_of(site_admin), food_bank.id, partner.pk)
    assert services.add_staff(actor_of(site_admin), str(food_bank.id), partner.pk).pk == staff.pk
    assert services.organization_ids_for_user(partner.pk) == [food_bank.id]
    assert AuditEntry.objects.filter(resource="directory_staff", action="create").count() == 1
    with pytest.raises(RegistryError):
        services.add_staff(actor_of(site_admin), food_bank.id, official.pk)
    with pytest.raises(PermissionDenied):
        services.add_staff(actor_of(official), food_bank.id, partner.pk)
    services.remove_staff(actor_of(site_admin), food_bank.id, partner.pk)
    assert services.organization_ids_for_user(partner.pk) == []


def test_service_areas_must_belong_to_the_site(site_admin: User, food_bank: Organization) -> None:
    with pytest.raises(RegistryError) as caught:
        services.create_service(
            actor_of(site_admin), food_bank.id, ServiceInput(name="양평 서비스", area_codes=["4183025000"])
        )
    assert caught.value.field == "area_codes"
    assert Service.objects.count() == 0


def test_helpers_and_officials_cannot_change_or_import(helper: User, official: User, food_bank: Organization) -> None:
    for user in (helper, official):
        with pytest.raises(PermissionDenied):
            services.create_service(actor_of(user), food_bank.id, ServiceInput(name="x"))
        with pytest.raises(PermissionDenied):
            services.import_hsds(actor_of(user), b"{}")

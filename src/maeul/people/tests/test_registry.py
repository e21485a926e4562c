from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from pydantic import ValidationError

from maeul.accounts.roles import Role
from maeul.audit.models import AuditAction, AuditEntry
from maeul.audit.services import changes_of
from maeul.conftest import CHEONGUN, SAJIK, YANGPYEONG_EUP, actor_of, household_data
from maeul.events.models import DomainEvent
from maeul.people import services
from maeul.people.errors import NotFound, RegistryError
from maeul.people.models import ConsentPurpose, GrantKind, Household, HouseholdStatus
from maeul.people.schemas import ContactInput, HouseholdChange, PersonInput, StatusInput
from maeul.protection import fields

pytestmark = pytest.mark.django_db


def _raw_rows() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM people_person")
        persons = cursor.fetchall()
        cursor.execute("SELECT * FROM people_household")
        households = cursor.fetchall()
        cursor.execute("SELECT changes_encrypted FROM audit_auditentry")
        audits = cursor.fetchall()
    return repr(persons) + repr(households) + repr(audits)


def test_contact_and_sensitive_fields_are_encrypted_at_rest(household) -> None:  # type: ignore[no-untyped-def]
    raw = _raw_rows()
    for plain in ("김영자", "01023456789", "010-2345-6789", "자하문로", "dementia"):
        assert plain not in raw
    assert household.persons[0].name == "김영자"
    assert household.persons[0].phone == "010-2345-6789"
    assert household.persons[0].conditions == ["dementia"]


def test_registration_records_an_event_and_an_audit_entry(household, site_admin) -> None:  # type: ignore[no-untyped-def]
    event = DomainEvent.objects.get(kind="household.registered", household_id=household.id)
    assert event.area_id == CHEONGUN and event.data["care_level"] == 3
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, household_id=household.id, resource="household")
    assert entry.actor_id == site_admin.pk
    assert changes_of(entry)["address"] == [None, "서울특별시 종로구 자하문로 92"]


def test_registration_needs_care_registry_consent(site_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryError) as err:
        services.register_household(actor_of(site_admin), household_data(consents=[]))
    assert err.value.code == "consent_required"
    assert not Household.objects.exists()


def test_no_resident_registration_number_field_exists() -> None:
    names = {f.name for model in (Household,) for f in model._meta.get_fields()}
    assert not {n for n in names if "resident" in n or "rrn" in n or "jumin" in n}
    with pytest.raises(ValidationError):
        PersonInput(name="김영자", resident_number="400101-2345678")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "query", ["김영자", "김 영자", "010-2345-6789", "01023456789", "서울특별시 종로구 자하문로 92"]
)
def test_exact_search_through_blind_indexes(site_admin, household, query) -> None:  # type: ignore[no-untyped-def]
    services.register_household(
        actor_of(site_admin), household_data(name="박순자", phone="010-9999-0000", address="서울특별시 종로구 사직로 8")
    )
    page = services.list_households(actor_of(site_admin), services.HouseholdFilters(q=query))
    assert [r.reference for r in page.rows] == [household.reference]


def test_search_by_reference_and_partial_names_do_not_match(site_admin, household) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(site_admin)
    assert services.list_households(actor, services.HouseholdFilters(q=household.reference)).total == 1
    assert services.list_households(actor, services.HouseholdFilters(q="김영")).total == 0


def test_lists_filter_sort_and_page(site_admin) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(site_admin)
    for i in range(30):
        services.register_household(
            actor,
            household_data(
                area_code=CHEONGUN if i % 2 else SAJIK,
                name=f"주민{i}",
                phone=None,
                care_level=1 + i % 3,
                living_alone=i % 5 == 0,
            ),
        )
    page = services.list_households(actor, services.HouseholdFilters(area_code=SAJIK, sort="-care_level"))
    assert page.total == 15 and all(r.area_code == SAJIK for r in page.rows)
    assert [r.care_level for r in page.rows] == sorted([r.care_level for r in page.rows], reverse=True)
    alone = services.list_households(actor, services.HouseholdFilters(flag="living_alone"))
    assert alone.total == 6
    second = services.list_households(actor, services.HouseholdFilters(), page=2, per_page=25)
    assert second.page == 2 and len(second.rows) == 5 and second.pages == 2
    listed = AuditEntry.objects.filter(action=AuditAction.LIST).count()
    assert listed >= 15 + 6 + 5  # one access record per household shown


def test_area_official_sees_only_their_areas(site, make_user, site_admin) -> None:  # type: ignore[no-untyped-def]
    admin = actor_of(site_admin)
    mine = services.register_household(admin, household_data(area_code=CHEONGUN))
    theirs = services.register_household(admin, household_data(area_code=SAJIK, name="이말순"))
    official = make_user(Role.WELFARE_OFFICIAL, site, [CHEONGUN])
    actor = actor_of(official)
    assert [r.id for r in services.list_households(actor, services.HouseholdFilters()).rows] == [mine.id]
    with pytest.raises(NotFound):
        services.read_household(actor, theirs.id)
    with pytest.raises(NotFound):
        services.update_household(actor, theirs.id, HouseholdChange(care_level=1))
    with pytest.raises(RegistryError, match="not a current eup/myeon/dong"):
        services.register_household(actor, household_data(area_code=SAJIK))


def test_sites_are_isolated(site_admin, other_site, make_user, household) -> None:  # type: ignore[no-untyped-def]
    other_admin = make_user(Role.SITE_ADMIN, other_site)
    actor = actor_of(other_admin)
    assert services.list_households(actor, services.HouseholdFilters()).total == 0
    with pytest.raises(NotFound):
        services.read_household(actor, household.id)
    with pytest.raises(RegistryError):
        services.register_household(actor, household_data(area_code=CHEONGUN))
    services.register_household(actor, household_data(area_code=YANGPYEONG_EUP))
    assert services.list_households(actor_of(site_admin), services.HouseholdFilters()).total == 1


def test_helpers_and_guardians_see_only_granted_households(site, make_user, site_admin) -> None:  # type: ignore[no-untyped-def]
    admin = actor_of(site_admin)
    first = services.register_household(admin, household_data())
    services.register_household(admin, household_data(name="최봉순"))
    helper = make_user(Role.HELPER, site, [CHEONGUN])
    assert services.list_households(actor_of(helper), services.HouseholdFilters()).total == 0
    services.grant_access(admin, first.id, helper.pk, GrantKind.HELPER)
    assert [r.id for r in services.list_households(actor_of(helper), services.HouseholdFilters()).rows] == [first.id]
    with pytest.raises(NotFound):
        services.update_household(actor_of(helper), first.id, HouseholdChange(care_level=1))
    member = make_user(Role.BODY_MEMBER, site, [CHEONGUN])
    with pytest.raises(RegistryError, match="not a helper"):
        services.grant_access(admin, first.id, member.pk, GrantKind.HELPER)


def test_ministry_sees_no_person_level_records(make_user, household) -> None:  # type: ignore[no-untyped-def]
    ministry = make_user(Role.MINISTRY)
    assert services.list_households(actor_of(ministry), services.HouseholdFilters()).total == 0


def test_changes_keep_before_and_after_in_the_audit(site_admin, household) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(site_admin)
    services.update_household(
        actor, household.id, HouseholdChange(address="서울특별시 종로구 필운대로 1", care_level=2)
    )
    entry = AuditEntry.objects.filter(action=AuditAction.CHANGE, household_id=household.id).latest("at")
    assert changes_of(entry) == {
        "address": ["서울특별시 종로구 자하문로 92", "서울특별시 종로구 필운대로 1"],
        "care_level": [3, 2],
    }
    assert services.list_households(actor, services.HouseholdFilters(q="서울특별시 종로구 필운대로 1")).total == 1


def test_person_changes_are_audited(site_admin, household) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(site_admin)
    person = household.persons[0]
    services.update_person(
        actor, household.id, person.id, PersonInput(name="김영자", birth_year=1941, sex="F", phone="010-1111-2222")
    )
    entry = AuditEntry.objects.filter(resource="person", action=AuditAction.CHANGE).get()
    assert changes_of(entry)["phone"] == ["010-2345-6789", "010-1111-2222"]
    assert changes_of(entry)["birth_year"] == [1940, 1941]
    services.add_contact(actor, household.id, ContactInput(name="김딸", relation="딸", phone="010-5555-6666"))
    assert services.read_household(actor, household.id).contacts[0].phone == "010-5555-6666"


def test_status_history_is_kept(site_admin, household) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(site_admin)
    services.change_status(actor, household.id, StatusInput(status=HouseholdStatus.IN_HOSPITAL, reason="낙상"))
    view = services.change_status(actor, household.id, StatusInput(status=HouseholdStatus.ACTIVE))
    assert [(s.from_status, s.to_status) for s in view.status_changes] == [
        ("in_hospital", "active"),
        ("active", "in_hospital"),
        ("", "active"),
    ]
    with pytest.raises(RegistryError, match="already"):
        services.change_status(actor, household.id, StatusInput(status=HouseholdStatus.ACTIVE))
    moved = services.change_status(actor, household.id, StatusInput(status=HouseholdStatus.MOVED))
    assert moved.retain_until == date.today() + timedelta(days=1825)


def test_withdrawing_consent_stops_processing(site, make_user, site_admin, household) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(site_admin)
    helper = make_user(Role.HELPER, site)
    services.grant_access(actor, household.id, helper.pk, GrantKind.HELPER)
    assert services.processing_allowed(household.id, ConsentPurpose.CARE_REGISTRY)
    consent = household.consents[0]
    services.withdraw_consent(actor, household.id, consent.id)
    assert not services.processing_allowed(household.id, ConsentPurpose.CARE_REGISTRY)
    assert services.list_households(actor, services.HouseholdFilters()).total == 0
    assert services.list_households(actor, services.HouseholdFilters(include_stopped=True)).total == 1
    assert services.list_households(actor_of(helper), services.HouseholdFilters()).total == 0
    with pytest.raises(RegistryError, match="withdrawn"):
        services.update_household(actor, household.id, HouseholdChange(care_level=1))
    assert DomainEvent.objects.filter(kind="consent.withdrawn", household_id=household.id).exists()


def test_expired_personal_data_is_destroyed_and_logged(site_admin, household) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(site_admin)
    services.change_status(actor, household.id, StatusInput(status=HouseholdStatus.DECEASED))
    assert services.destroy_expired(actor, today=date.today()) == 0
    destroyed = services.destroy_expired(actor, today=date.today() + timedelta(days=1826))
    assert destroyed == 1
    row = Household.objects.get(pk=household.id)
    assert row.destroyed_at is not None and row.address_encrypted == "" and not row.persons.exists()
    assert AuditEntry.objects.filter(action=AuditAction.DESTROY, household_id=household.id).exists()
    with pytest.raises(NotFound):
        services.read_household(actor, household.id)


def test_key_rotation_reencrypts_and_reindexes(site_admin, household) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    old = settings.MAEUL_FIELD_KEY
    new = fields.generate_key()
    with override_settings(MAEUL_FIELD_KEY=f"{new},{old}"):
        counts = services.rotate_field_key()
        assert counts["households"] == 1 and counts["persons"] == 1
    with override_settings(MAEUL_FIELD_KEY=new):
        actor = actor_of(site_admin)
        view = services.read_household(actor, household.id)
        assert view.persons[0].name == "김영자"
        assert services.list_households(actor, services.HouseholdFilters(q="김영자")).total == 1
        assert services.list_households(actor, services.HouseholdFilters(q="010-2345-6789")).total == 1

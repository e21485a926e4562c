"""The registry of helpers: encrypted contacts, scope, records, deactivation."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import User

from maeul.accounts.roles import Role
from maeul.audit.models import AuditEntry
from maeul.conftest import CHEONGUN, SAJIK, MakeUser, actor_of
from maeul.people.errors import NotFound, RegistryError
from maeul.people.models import HouseholdGrant
from maeul.people.services import HouseholdView
from maeul.safetynet import services
from maeul.safetynet.conftest import MakeHelper
from maeul.safetynet.models import CheckInSchedule, Helper, HelperKind, RecordKind
from maeul.safetynet.schemas import HelperInput, HelperRecordInput
from maeul.sites.models import Site

pytestmark = pytest.mark.django_db


def test_contacts_are_encrypted_with_a_blind_index_and_changes_are_logged(
    helper: services.HelperView, official: User
) -> None:
    stored = Helper.objects.get(pk=helper.id)
    assert "박순자" not in stored.name_encrypted
    assert "01034567890" not in stored.phone_encrypted
    assert helper.phone == "010-3456-7890"
    assert helper.coordinator_id == official.pk  # the registering official coordinates
    found = services.list_helpers(actor_of(official), services.HelperFilters(q="010-3456-7890"))
    assert [h.id for h in found] == [helper.id]
    assert AuditEntry.objects.filter(resource="helper", object_id=str(helper.id), action="create").exists()
    assert AuditEntry.objects.filter(resource="helper", object_id=str(helper.id), action="search").exists()


def test_officials_see_helpers_covering_their_areas_and_helpers_their_own(
    make_helper: MakeHelper, make_user: MakeUser, site: Site, site_admin: User, official: User
) -> None:
    mine = make_helper()
    elsewhere = services.register_helper(
        actor_of(site_admin), HelperInput(kind=HelperKind.MAIL_CARRIER, name="이우편", area_codes=[SAJIK])
    )
    assert [h.id for h in services.list_helpers(actor_of(official))] == [mine.id]
    assert {h.id for h in services.list_helpers(actor_of(site_admin))} == {mine.id, elsewhere.id}
    own = User.objects.get(pk=mine.account_id)
    assert [h.id for h in services.list_helpers(actor_of(own))] == [mine.id]
    with pytest.raises(NotFound):
        services.read_helper(actor_of(official), elsewhere.id)
    sajik_official = make_user(Role.WELFARE_OFFICIAL, site, [SAJIK])
    with pytest.raises(NotFound):
        services.read_helper(actor_of(sajik_official), mine.id)


def test_an_official_registers_only_in_their_areas(official: User) -> None:
    with pytest.raises(RegistryError) as refused:
        services.register_helper(
            actor_of(official), HelperInput(kind=HelperKind.NEIGHBOUR, name="최이웃", area_codes=[SAJIK])
        )
    assert refused.value.code == "area_not_allowed"


def test_the_account_must_be_a_helper_of_the_site(official: User, make_user: MakeUser, site: Site) -> None:
    partner = make_user(Role.PARTNER_STAFF, site)
    with pytest.raises(RegistryError) as refused:
        services.register_helper(
            actor_of(official),
            HelperInput(kind=HelperKind.VOLUNTEER, name="정봉사", area_codes=[CHEONGUN], account_id=partner.pk),
        )
    assert refused.value.field == "account_id"


def test_records_and_background_check_validity(helper: services.HelperView, official: User) -> None:
    actor = actor_of(official)
    services.add_record(
        actor,
        helper.id,
        HelperRecordInput(
            kind=RecordKind.BACKGROUND_CHECK,
            title="범죄경력 조회",
            completed_on=date(2020, 1, 1),
            expires_on=date(2021, 1, 1),
        ),
    )
    assert not services.read_helper(actor, helper.id).helper.background_check_valid
    services.add_record(
        actor,
        helper.id,
        HelperRecordInput(kind=RecordKind.BACKGROUND_CHECK, title="범죄경력 조회", completed_on=date(2026, 1, 1)),
    )
    detail = services.read_helper(actor, helper.id)
    assert detail.helper.background_check_valid
    assert len(detail.helper.records) == 2


def test_deactivating_ends_assignments_revokes_access_and_leaves_schedules_uncovered(
    official: User,
    household: HouseholdView,
    helper: services.HelperView,
    assigned: services.AssignmentView,
    weekly_visit: CheckInSchedule,
) -> None:
    assert weekly_visit.helper_id == helper.id
    left = services.deactivate_helper(actor_of(official), helper.id, "moved away", consent_withdrawn=True)
    assert left == [household.id]
    assert not HouseholdGrant.objects.filter(user_id=helper.account_id, revoked_at=None).exists()
    weekly_visit.refresh_from_db()
    assert weekly_visit.helper_id is None
    report = services.coverage_report(actor_of(official))
    assert [u.id for u in report.areas[0].uncovered] == [household.id]
    stored = Helper.objects.get(pk=helper.id)
    assert not stored.active and stored.consent_withdrawn_on is not None

"""Assignments, suggestions with reasons, coverage and the handover of an official's post."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from maeul.accounts.roles import Role
from maeul.audit.models import AuditEntry
from maeul.conftest import CHEONGUN, SAJIK, MakeUser, actor_of, household_data
from maeul.people import services as people
from maeul.people.errors import RegistryError
from maeul.people.models import GrantKind, HouseholdGrant
from maeul.people.services import HouseholdView
from maeul.safetynet import services
from maeul.safetynet.conftest import MakeHelper
from maeul.safetynet.models import AssignmentRole, CheckInKind, Handover, Helper, Skill
from maeul.safetynet.schemas import AssignmentInput, ScheduleInput
from maeul.sites.models import Site
from maeul.welfare import services as welfare
from maeul.welfare.models import CaseSource

pytestmark = pytest.mark.django_db


def test_assigning_grants_access_and_one_helper_per_role(
    official: User, household: HouseholdView, make_helper: MakeHelper
) -> None:
    actor = actor_of(official)
    first, second = make_helper(), make_helper()
    services.assign_helper(actor, household.id, AssignmentInput(helper_id=first.id))
    assert HouseholdGrant.objects.filter(
        household_id=household.id, user_id=first.account_id, kind=GrantKind.HELPER, revoked_at=None
    ).exists()
    services.assign_helper(actor, household.id, AssignmentInput(helper_id=second.id))  # replaces the primary
    net = services.household_safety_net(actor, household.id)
    assert net.primary is not None and net.primary.helper_id == second.id
    assert net.backup is None
    assert not HouseholdGrant.objects.filter(user_id=first.account_id, revoked_at=None).exists()
    services.assign_helper(actor, household.id, AssignmentInput(helper_id=first.id, role=AssignmentRole.BACKUP))
    net = services.household_safety_net(actor, household.id)
    assert (net.primary and net.primary.helper_id, net.backup and net.backup.helper_id) == (second.id, first.id)
    # Moving the backup to primary ends both of its former places: still one helper per role.
    services.assign_helper(actor, household.id, AssignmentInput(helper_id=first.id))
    net = services.household_safety_net(actor, household.id)
    assert [(a.role, a.helper_id) for a in net.assignments] == [("primary", first.id)]


def test_a_helper_must_cover_the_area_and_be_active(
    site_admin: User, household: HouseholdView, make_helper: MakeHelper
) -> None:
    far = make_helper(area_codes=[CHEONGUN])
    Helper.objects.filter(pk=far.id).update(active=False)
    with pytest.raises(RegistryError):
        services.assign_helper(actor_of(site_admin), household.id, AssignmentInput(helper_id=far.id))
    sajik_household = people.register_household(actor_of(site_admin), household_data(area_code=SAJIK))
    near = make_helper()
    with pytest.raises(RegistryError) as refused:
        services.assign_helper(actor_of(site_admin), sajik_household.id, AssignmentInput(helper_id=near.id))
    assert refused.value.code == "area_not_covered"


def test_schedules_follow_the_primary_helper(official: User, household: HouseholdView, make_helper: MakeHelper) -> None:
    actor = actor_of(official)
    schedule = services.add_schedule(actor, household.id, ScheduleInput(kind=CheckInKind.CALL, interval_days=3))
    assert schedule.helper_id is None
    helper = make_helper()
    services.assign_helper(actor, household.id, AssignmentInput(helper_id=helper.id))
    schedule.refresh_from_db()
    assert schedule.helper_id == helper.id


def test_suggestions_rank_by_distance_load_and_skills_with_reasons(
    official: User, household: HouseholdView, make_helper: MakeHelper, site_admin: User
) -> None:
    near = make_helper(name="가까운", latitude=37.5827, longitude=126.9701)
    far = make_helper(name="먼", latitude=37.6100, longitude=126.9900)
    skilled = make_helper(name="치매전문", latitude=37.6100, longitude=126.9900, skills=[Skill.DEMENTIA])
    full = make_helper(name="가득", latitude=37.5826, longitude=126.9700, max_households=1)
    other = people.register_household(actor_of(site_admin), household_data(name="이복순"))
    services.assign_helper(actor_of(official), other.id, AssignmentInput(helper_id=full.id))
    with translation.override("en"):
        suggestions = services.suggest_helpers(actor_of(official), household.id)
    assert [s.helper_id for s in suggestions] == [near.id, skilled.id, far.id]  # the full one is left out
    by_id = {s.helper_id: s for s in suggestions}
    assert by_id[near.id].distance_km is not None and by_id[near.id].distance_km < 0.1
    assert any("km" in r for r in by_id[near.id].reasons)
    assert "0 of 5 households" in by_id[near.id].reasons
    assert any("Dementia" in r for r in by_id[skilled.id].reasons)  # the resident's condition calls for it
    with_language = services.suggest_helpers(actor_of(official), household.id, language="vi")
    assert all(not any("speaks" in r for r in s.reasons) for s in with_language)


def test_coverage_reports_uncovered_overloaded_and_lapsed(
    official: User, household: HouseholdView, make_helper: MakeHelper, site_admin: User
) -> None:
    actor = actor_of(official)
    helper = make_helper(max_households=1)
    other = people.register_household(actor_of(site_admin), household_data(name="이복순"))
    third = people.register_household(actor_of(site_admin), household_data(name="최말순"))
    services.assign_helper(actor, household.id, AssignmentInput(helper_id=helper.id))
    services.assign_helper(actor, other.id, AssignmentInput(helper_id=helper.id))
    Helper.objects.filter(pk=helper.id).update(max_households=1)
    services.add_schedule(
        actor, household.id, ScheduleInput(kind=CheckInKind.VISIT, interval_days=7, first_due_on=date(2026, 11, 1))
    )
    report = services.coverage_report(actor, lapsed_after_days=7, today=date(2026, 11, 25))
    (area,) = report.areas
    assert (area.households, area.covered, area.uncovered_count) == (3, 2, 1)
    assert [u.id for u in area.uncovered] == [third.id]
    assert [(s.household_id, s.overdue_days) for s in area.lapsed] == [(household.id, 24)]
    assert [h.id for h in report.overloaded] == [helper.id]
    assert AuditEntry.objects.filter(resource="coverage", household_id=third.id).exists()


def test_handover_moves_coordinated_helpers_and_welfare_work(
    official: User, site_admin: User, household: HouseholdView, make_helper: MakeHelper, make_user: MakeUser, site: Site
) -> None:
    helper = make_helper()
    successor = make_user(Role.WELFARE_OFFICIAL, site, [CHEONGUN])
    case = welfare.open_case(actor_of(official), household.id, source=CaseSource.WALK_IN)
    welfare.assign(actor_of(official), case.id, official.pk)
    done = services.hand_over(actor_of(site_admin), official.pk, successor.pk)
    assert Helper.objects.get(pk=helper.id).coordinator_id == successor.pk
    assert done.counts["helpers"] == 1
    assert sum(v for k, v in done.counts.items() if k != "helpers") >= 1
    assert Handover.objects.filter(from_user=official, to_user=successor, by=site_admin).exists()
    assert AuditEntry.objects.filter(resource="handover", object_id=str(done.pk)).exists()
    with pytest.raises(RegistryError):
        services.hand_over(actor_of(official), official.pk, successor.pk)

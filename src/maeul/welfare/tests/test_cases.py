"""Cases, referrals, follow-ups, verification tasks and handover through the service layer: one open case per
household, consent before referral, the referral state machine, partner isolation, scope and the access record."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from maeul.accounts.roles import Role
from maeul.audit.models import AuditEntry
from maeul.conftest import SAJIK, MakeUser, actor_of, household_data
from maeul.directory.models import Service
from maeul.events.models import DomainEvent
from maeul.people import services as people
from maeul.people.errors import NotFound
from maeul.people.models import Consent, Household
from maeul.sites.models import Site
from maeul.welfare import services
from maeul.welfare.errors import WelfareError
from maeul.welfare.models import (
    Case,
    CaseEvent,
    CaseOutcome,
    CasePriority,
    CaseSource,
    CaseStatus,
    FollowUp,
    NeedAssessment,
    Referral,
    ReferralStatus,
    VerificationKind,
    VerificationTask,
)

pytestmark = [pytest.mark.django_db]


def _open(user: User, household: Any, **kwargs: Any) -> services.CaseView:
    kwargs.setdefault("source", CaseSource.WALK_IN)
    return services.open_case(actor_of(user), household.id, **kwargs)


# --- opening -----------------------------------------------------------------------------------------------


def test_one_open_case_per_household_new_signals_join_it(official: User, household: Any) -> None:
    first = _open(official, household, summary="Came to the centre: rent arrears.")
    again = _open(official, household, source=CaseSource.IOT_ALERT, source_ref="17", needs=["food"])
    assert first.created and not again.created and again.id == first.id
    case = Case.objects.get()
    assert case.assigned_to_id == official.pk  # the only welfare official of the area
    assert case.priority == CasePriority.HIGH  # a flagged need raises it
    kinds = list(CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("kind", flat=True))
    assert kinds == ["opened", "source_added", "assessed"]
    assert NeedAssessment.objects.get(case=case).domain == "food"
    assert "rent arrears" not in case.summary_encrypted  # free text is encrypted
    assert AuditEntry.objects.filter(resource="case", household_id=household.id, action="create").count() == 1
    assert AuditEntry.objects.filter(resource="case", household_id=household.id, action="change").count() == 1
    assert set(DomainEvent.objects.filter(household_id=household.id).values_list("kind", flat=True)) >= {
        "case.opened",
        "case.source_added",
    }


def test_a_closed_case_lets_the_next_signal_open_a_new_one(official: User, household: Any) -> None:
    first = _open(official, household)
    services.close_case(actor_of(official), first.id, CaseOutcome.NEEDS_MET)
    second = _open(official, household, source=CaseSource.SCREENING)
    assert second.created and second.id != first.id
    assert Case.objects.filter(household_id=household.id, status=CaseStatus.OPEN).count() == 1


def test_unknown_need_domain_is_refused(official: User, household: Any) -> None:
    with pytest.raises(WelfareError) as refused:
        _open(official, household, needs=["money"])
    assert refused.value.code == "unknown_domain"
    assert not Case.objects.exists()


def test_helper_may_trigger_a_case_for_a_granted_household_but_not_see_cases(
    helper: User, household: Any, official: User
) -> None:
    view = _open(helper, household, source=CaseSource.CHECK_IN, source_ref="c-1", needs=["isolation"])
    assert view.created and view.assigned_to_id == official.pk
    assert not hasattr(view, "summary")  # a handle: codes only
    assert not services.visible_cases(actor_of(helper).principal).exists()
    with pytest.raises(NotFound):
        services.read_case(actor_of(helper), view.id)


def test_helper_cannot_trigger_a_case_for_a_household_not_granted(
    make_user: MakeUser, site: Site, household: Any
) -> None:
    stranger = make_user(Role.HELPER, site)
    with pytest.raises(NotFound):
        _open(stranger, household, source=CaseSource.CHECK_IN)


def test_official_of_another_area_cannot_open_read_or_change(
    make_user: MakeUser, site: Site, official: User, household: Any
) -> None:
    case = _open(official, household)
    other = make_user(Role.WELFARE_OFFICIAL, site, [SAJIK])
    with pytest.raises(NotFound):
        _open(other, household)
    with pytest.raises(NotFound):
        services.read_case(actor_of(other), case.id)
    with pytest.raises(NotFound):
        services.update_plan(actor_of(other), case.id, "x")
    assert services.list_cases(actor_of(other), services.CaseFilters()).total == 0


def test_consent_withdrawn_stops_new_cases(official: User, household: Any, site_admin: User) -> None:
    registry = Consent.objects.get(household_id=household.id, purpose="care_registry")
    people.withdraw_consent(actor_of(site_admin), household.id, registry.pk)
    with pytest.raises(WelfareError) as refused:
        _open(official, household)
    assert refused.value.code == "processing_stopped"


def test_assessment_plan_priority_and_read_are_recorded(official: User, household: Any) -> None:
    actor = actor_of(official)
    case = _open(official, household)
    services.assess(actor, case.id, "housing", 2, "Damp semi-basement.")
    services.assess(actor, case.id, "housing", 4, "Flooded last night.")
    services.update_plan(actor, case.id, "Emergency housing support; visit weekly.")
    detail = services.read_case(actor, case.id)
    assert [(n.domain, n.level, n.note) for n in detail.needs] == [("housing", 4, "Flooded last night.")]
    assert len(detail.assessments) == 2
    assert detail.plan.startswith("Emergency housing")
    assert detail.priority == CasePriority.URGENT  # a critical need makes the case urgent
    assert detail.primary_name == "김영자" and detail.phone == "010-2345-6789"
    assert AuditEntry.objects.filter(resource="case", action="view", household_id=household.id).count() == 1
    assert AuditEntry.objects.filter(resource="need_assessment", action="change").count() == 2


def test_case_list_filters_orders_and_logs(make_user: MakeUser, site: Site, official: User, site_admin: User) -> None:
    colleague = make_user(Role.WELFARE_OFFICIAL, site, ["1111051500"])
    households = [
        people.register_household(actor_of(site_admin), household_data(name=f"주민{i}", phone=None)) for i in range(3)
    ]
    cases = [_open(official, h) for h in households]
    services.set_priority(actor_of(official), cases[1].id, CasePriority.URGENT)
    services.assign(actor_of(official), cases[2].id, colleague.pk)
    page = services.list_cases(actor_of(official), services.CaseFilters())
    assert page.total == 3 and page.rows[0].id == cases[1].id
    assert {r.primary_name for r in page.rows} == {"주민0", "주민1", "주민2"}
    mine = services.list_cases(actor_of(colleague), services.CaseFilters(mine=True))
    assert [r.id for r in mine.rows] == [cases[2].id]
    closed = services.list_cases(actor_of(official), services.CaseFilters(status="closed"))
    assert closed.total == 0
    assert AuditEntry.objects.filter(resource="case", action="list").count() == 4


# --- referrals ---------------------------------------------------------------------------------------------


def test_referral_needs_partner_sharing_consent(official: User, household: Any, food_service: Service) -> None:
    case = _open(official, household)
    with pytest.raises(WelfareError) as refused:
        services.send_referral(actor_of(official), case.id, food_service.id)
    assert refused.value.code == "consent_required"
    assert not Referral.objects.exists()


@pytest.mark.usefixtures("sharing_consent")
def test_referral_state_machine_and_places(
    official: User, household: Any, food_service: Service, food_staff: User
) -> None:
    case = _open(official, household)
    referral = services.send_referral(
        actor_of(official), case.id, food_service.id, need_domain="food", note="Needs rice and side dishes."
    )
    assert referral.status == ReferralStatus.SENT and referral.next_statuses == [
        "accepted",
        "closed_unsuccessful",
        "declined",
    ]
    stored = Referral.objects.get()
    assert stored.consent is not None and stored.consent.purpose == "partner_sharing"
    partner = actor_of(food_staff)
    with pytest.raises(WelfareError) as refused:
        services.transition_referral(partner, referral.id, ReferralStatus.DELIVERED)
    assert refused.value.code == "invalid_transition"
    services.transition_referral(partner, referral.id, ReferralStatus.ACCEPTED)
    food_service.refresh_from_db()
    assert food_service.places_in_use == 1
    done = services.transition_referral(partner, referral.id, ReferralStatus.DELIVERED, note="Delivered 10 kg rice.")
    assert done.status == ReferralStatus.DELIVERED and done.delivered_at is not None
    food_service.refresh_from_db()
    assert food_service.places_in_use == 0
    with pytest.raises(WelfareError) as terminal:
        services.transition_referral(partner, referral.id, ReferralStatus.CLOSED_UNSUCCESSFUL, reason="no_capacity")
    assert terminal.value.code == "invalid_transition"
    assert [e.to_status for e in done.history] == ["sent", "accepted", "delivered"]
    closed = services.close_case(actor_of(official), case.id, CaseOutcome.REFERRED_AND_SERVED)
    assert closed.status == CaseStatus.CLOSED


@pytest.mark.usefixtures("sharing_consent")
def test_decline_and_unsuccessful_closure_need_reasons(
    official: User, household: Any, food_service: Service, health_service: Service, food_staff: User
) -> None:
    actor = actor_of(official)
    case = _open(official, household)
    first = services.send_referral(actor, case.id, food_service.id)
    with pytest.raises(WelfareError) as refused:
        services.send_referral(actor, case.id, food_service.id)
    assert refused.value.code == "already_referred"
    with pytest.raises(WelfareError) as no_reason:
        services.transition_referral(actor_of(food_staff), first.id, ReferralStatus.DECLINED)
    assert no_reason.value.code == "reason_required"
    services.transition_referral(actor_of(food_staff), first.id, ReferralStatus.DECLINED, note="Outside our area.")
    second = services.send_referral(actor, case.id, health_service.id)
    with pytest.raises(WelfareError) as open_referrals:
        services.close_case(actor, case.id, CaseOutcome.NEEDS_MET)
    assert open_referrals.value.code == "referrals_open"
    with pytest.raises(WelfareError) as no_code:
        services.transition_referral(actor, second.id, ReferralStatus.CLOSED_UNSUCCESSFUL)
    assert no_code.value.code == "reason_required"
    services.transition_referral(actor, second.id, ReferralStatus.CLOSED_UNSUCCESSFUL, reason="client_refused")
    with pytest.raises(WelfareError) as not_served:
        services.close_case(actor, case.id, CaseOutcome.REFERRED_AND_SERVED)
    assert not_served.value.code == "no_service_delivered"
    services.close_case(actor, case.id, CaseOutcome.CLIENT_REFUSED, note="Prefers family help.")


@pytest.mark.usefixtures("sharing_consent")
def test_partner_sees_only_their_organisations_referrals_with_minimum_data(
    official: User,
    household: Any,
    food_service: Service,
    health_service: Service,
    food_staff: User,
    health_staff: User,
) -> None:
    case = _open(official, household, summary="Confidential: debt and family conflict.")
    to_food = services.send_referral(actor_of(official), case.id, food_service.id, note="Needs food parcels.")
    to_health = services.send_referral(actor_of(official), case.id, health_service.id)
    rows, total = services.referral_inbox(actor_of(food_staff))
    assert total == 1 and [r.id for r in rows] == [to_food.id] and rows[0].name == "김영자"
    seen = services.read_referral(actor_of(food_staff), to_food.id)
    assert (seen.name, seen.phone, seen.note) == ("김영자", "010-2345-6789", "Needs food parcels.")
    assert "자하문로" in seen.address
    assert not hasattr(seen, "summary") and not hasattr(seen, "conditions")
    with pytest.raises(NotFound):
        services.read_referral(actor_of(food_staff), to_health.id)
    with pytest.raises(NotFound):
        services.transition_referral(actor_of(food_staff), to_health.id, ReferralStatus.ACCEPTED)
    # No case rights and no household access: the referral is all they get.
    with pytest.raises(NotFound):
        services.read_case(actor_of(food_staff), case.id)
    with pytest.raises(NotFound):
        people.read_household(actor_of(food_staff), household.id)
    assert services.household_case_entries(actor_of(food_staff), household.id) == []
    assert AuditEntry.objects.filter(
        actor=food_staff, resource="referral", action="view", household_id=household.id
    ).exists()
    assert services.referral_inbox(actor_of(health_staff))[1] == 1


# --- follow-ups, timeline, verification, handover ----------------------------------------------------------


def test_follow_ups_are_planned_done_and_cancelled_with_the_case(official: User, household: Any) -> None:
    actor = actor_of(official)
    case = _open(official, household)
    with pytest.raises(WelfareError):
        services.add_follow_up(actor, case.id, due_on=date(2020, 1, 1), what="Call")
    soon = timezone.localdate() + timedelta(days=3)
    first = services.add_follow_up(actor, case.id, due_on=soon, what="Call to check food parcels arrived")
    second = services.add_follow_up(actor, case.id, due_on=soon, what="Home visit")
    assert first.assigned_to_id == official.pk and not first.overdue
    done = services.complete_follow_up(actor, first.id, "Parcels arrived.")
    assert done.result == "Parcels arrived." and done.done_at is not None
    services.close_case(actor, case.id, CaseOutcome.NEEDS_MET)
    assert FollowUp.objects.get(pk=second.id).cancelled
    entries = services.household_case_entries(actor, household.id)
    assert entries[0].kind == "case_closed"
    assert {"case_opened", "follow_up_planned", "follow_up_done"} <= {e.kind for e in entries}
    assert all(e.url == f"/cases/{case.id}/" for e in entries)


def test_verification_task_one_open_per_kind_and_corrected_address(
    helper: User, official: User, household: Any
) -> None:
    task = services.open_verification_task(
        actor_of(helper), household.id, kind=VerificationKind.ADDRESS, source="check_in", note="Nobody lives here."
    )
    again = services.open_verification_task(
        actor_of(helper), household.id, kind=VerificationKind.ADDRESS, source="check_in", note="Neighbour confirms."
    )
    contact = services.open_verification_task(
        actor_of(official), household.id, kind=VerificationKind.CONTACT, source="walk_in"
    )
    assert task.created and not again.created and again.id == task.id and contact.id != task.id
    assert "Neighbour confirms." in again.note
    assert not services.visible_verification_tasks(actor_of(helper).principal).exists()
    with pytest.raises(WelfareError) as missing:
        services.resolve_verification_task(actor_of(official), task.id, resolution="corrected")
    assert missing.value.code == "required"
    resolved = services.resolve_verification_task(
        actor_of(official), task.id, resolution="corrected", address="서울특별시 종로구 필운대로 1", note="Moved."
    )
    assert resolved.status == "resolved"
    assert people.read_household(actor_of(official), household.id).address == "서울특별시 종로구 필운대로 1"
    services.resolve_verification_task(actor_of(official), contact.id, resolution="corrected", phone="010-9999-8888")
    assert people.read_household(actor_of(official), household.id).persons[0].phone == "010-9999-8888"
    assert [t.id for t in services.list_verification_tasks(actor_of(official))] == []
    with pytest.raises(WelfareError):
        services.resolve_verification_task(actor_of(official), task.id, resolution="verified")


def test_handover_moves_open_work_in_one_recorded_step(
    make_user: MakeUser, site: Site, official: User, site_admin: User, household: Any
) -> None:
    successor = make_user(Role.WELFARE_OFFICIAL, site, ["1111051500"])
    second_household = people.register_household(actor_of(site_admin), household_data(name="박철수"))
    actor = actor_of(official)
    open_case = _open(official, household)
    closed_case = _open(official, second_household)
    services.close_case(actor, closed_case.id, CaseOutcome.NO_LONGER_NEEDED)
    services.add_follow_up(actor, open_case.id, due_on=timezone.localdate(), what="Call")
    services.open_verification_task(actor, household.id, kind=VerificationKind.CONTACT, source="walk_in")
    with pytest.raises(WelfareError):
        services.hand_over(actor_of(successor), official.pk, successor.pk)  # not their own work
    counts = services.hand_over(actor_of(site_admin), official.pk, successor.pk)
    assert counts == {"cases": 1, "follow_ups": 1, "verification_tasks": 1}
    assert Case.objects.get(pk=open_case.id).assigned_to_id == successor.pk
    assert Case.objects.get(pk=closed_case.id).assigned_to_id == official.pk  # history stays as it was
    assert FollowUp.objects.get().assigned_to_id == successor.pk
    assert VerificationTask.objects.get().assigned_to_id == successor.pk
    assert CaseEvent.objects.filter(case_id=open_case.id, kind="handed_over").exists()
    entry = AuditEntry.objects.get(resource="case_handover")
    assert entry.record_count == 3 and entry.actor_id == site_admin.pk
    with pytest.raises(WelfareError) as not_official:
        services.hand_over(actor_of(site_admin), successor.pk, site_admin.pk)
    assert not_official.value.code == "not_an_official"


def test_household_without_open_case_in_other_site_is_invisible(
    make_user: MakeUser, other_site: Site, official: User, household: Any
) -> None:
    _open(official, household)
    stranger = make_user(Role.SITE_ADMIN, other_site)
    assert not services.visible_cases(actor_of(stranger).principal).exists()
    assert services.household_case_entries(actor_of(stranger), household.id) == []
    assert Household.objects.count() == 1

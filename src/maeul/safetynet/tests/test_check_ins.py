"""The helper's day: the due list, recording check-ins exactly once, and what a check-in sets in motion."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

from maeul.audit.models import AuditEntry
from maeul.conftest import actor_of
from maeul.people.errors import NotFound
from maeul.people.services import HouseholdView
from maeul.safetynet import services
from maeul.safetynet.models import CheckIn, CheckInKind, CheckInResult, CheckInSchedule, CrisisSign
from maeul.safetynet.schemas import CheckInInput
from maeul.watch.models import Alert, AlertKind, AlertStatus
from maeul.welfare.models import Case, VerificationTask

pytestmark = pytest.mark.django_db
KST = ZoneInfo("Asia/Seoul")


def _check_in(household_id: int, result: str = CheckInResult.FINE, **values: Any) -> CheckInInput:
    data: dict[str, Any] = {
        "client_id": uuid.uuid4(),
        "household_id": household_id,
        "kind": CheckInKind.VISIT,
        "result": result,
        "occurred_at": datetime(2026, 11, 25, 10, 0, tzinfo=KST),
    }
    data.update(values)
    return CheckInInput(**data)


def test_due_list_shows_overdue_first_with_contact_and_is_logged(
    helper_user: User, household: HouseholdView, weekly_visit: CheckInSchedule, official: User
) -> None:
    services.add_schedule(
        actor_of(official),
        household.id,
        services.ScheduleInput(kind=CheckInKind.CALL, interval_days=3, first_due_on=date(2026, 11, 25)),
    )
    items = services.due_list(actor_of(helper_user), on=date(2026, 11, 25))
    assert [(i.kind, i.overdue_days) for i in items] == [("visit", 5), ("call", 0)]
    first = items[0]
    assert first.resident_name == "김영자"
    assert first.phone == "010-2345-6789"
    assert first.address == "서울특별시 종로구 자하문로 92 101호"
    assert first.household_reference == household.reference
    assert AuditEntry.objects.filter(actor=helper_user, household_id=household.id, reason="due list").exists()
    assert services.due_list(actor_of(helper_user), on=date(2026, 11, 19)) == []


def test_due_list_is_empty_for_others(official: User, weekly_visit: CheckInSchedule) -> None:
    assert services.due_list(actor_of(official), on=date(2026, 11, 25)) == []


def test_check_in_is_stored_once_per_client_id_and_advances_the_schedule(
    helper_user: User, household: HouseholdView, weekly_visit: CheckInSchedule
) -> None:
    data = _check_in(household.id, schedule_id=weekly_visit.pk, note="잘 지내심")
    first = services.record_check_in(actor_of(helper_user), data)
    again = services.record_check_in(actor_of(helper_user), data)
    assert first.created and not again.created
    assert again.check_in_id == first.check_in_id
    assert CheckIn.objects.count() == 1
    weekly_visit.refresh_from_db()
    assert weekly_visit.next_due_on == date(2026, 12, 2)
    assert weekly_visit.last_result == CheckInResult.FINE
    stored = CheckIn.objects.get()
    assert "잘 지내심" not in stored.note_encrypted
    assert services.due_list(actor_of(helper_user), on=date(2026, 11, 25)) == []


def test_a_late_upload_of_an_older_check_in_does_not_move_the_schedule_back(
    helper_user: User, household: HouseholdView, weekly_visit: CheckInSchedule
) -> None:
    services.record_check_in(actor_of(helper_user), _check_in(household.id, schedule_id=weekly_visit.pk))
    older = datetime(2026, 11, 21, 10, 0, tzinfo=KST)
    services.record_check_in(actor_of(helper_user), _check_in(household.id, occurred_at=older))
    weekly_visit.refresh_from_db()
    assert weekly_visit.next_due_on == date(2026, 12, 2)


def test_a_helper_records_only_for_households_they_hold(
    helper_user: User, household: HouseholdView, official: User
) -> None:
    with pytest.raises(NotFound):
        services.record_check_in(actor_of(helper_user), _check_in(household.id))


def test_crisis_signs_open_a_case_with_their_needs(
    helper_user: User, household: HouseholdView, weekly_visit: CheckInSchedule
) -> None:
    data = _check_in(
        household.id, CheckInResult.NEEDS_HELP, crisis_signs=[CrisisSign.NO_FOOD, CrisisSign.UTILITIES_CUT]
    )
    outcome = services.record_check_in(actor_of(helper_user), data)
    case = Case.objects.get(pk=outcome.case_id)
    assert case.household_id == household.id
    assert case.source == "check_in"
    assert case.source_ref == f"check_in:{outcome.check_in_id}"
    assert set(case.assessments.values_list("domain", flat=True)) == {"food", "income", "housing"}
    assert outcome.verification_task_id is None


def test_not_at_address_opens_an_address_verification_task(
    helper_user: User, household: HouseholdView, weekly_visit: CheckInSchedule
) -> None:
    outcome = services.record_check_in(actor_of(helper_user), _check_in(household.id, CheckInResult.NOT_AT_ADDRESS))
    task = VerificationTask.objects.get(pk=outcome.verification_task_id)
    assert (task.household_id, task.kind) == (household.id, "address")
    assert outcome.case_id is None


def test_someone_else_living_there_opens_a_case_and_an_address_task(
    helper_user: User, household: HouseholdView, weekly_visit: CheckInSchedule
) -> None:
    data = _check_in(household.id, crisis_signs=[CrisisSign.SOMEONE_ELSE_LIVING])
    outcome = services.record_check_in(actor_of(helper_user), data)
    assert outcome.case_id is not None
    assert VerificationTask.objects.filter(pk=outcome.verification_task_id, kind="address").exists()


def test_in_hospital_is_suggested_to_the_official_not_applied(
    helper_user: User, official: User, household: HouseholdView, weekly_visit: CheckInSchedule
) -> None:
    services.record_check_in(actor_of(helper_user), _check_in(household.id, CheckInResult.IN_HOSPITAL))
    net = services.household_safety_net(actor_of(official), household.id)
    assert net.status == "active"
    assert net.reported_in_hospital is not None


def test_no_answer_twice_raises_one_alert_that_reaches_the_helper(
    helper_user: User, household: HouseholdView, weekly_visit: CheckInSchedule
) -> None:
    actor = actor_of(helper_user)
    day = datetime(2026, 11, 25, 10, 0, tzinfo=KST)
    first = services.record_check_in(actor, _check_in(household.id, CheckInResult.NO_ANSWER, occurred_at=day))
    assert first.alert_id is None
    weekly_visit.refresh_from_db()
    assert weekly_visit.next_due_on == date(2026, 11, 26)  # tried again the next day
    second = services.record_check_in(
        actor, _check_in(household.id, CheckInResult.NO_ANSWER, occurred_at=day + timedelta(days=1))
    )
    alert = Alert.objects.get(pk=second.alert_id)
    assert (alert.kind, alert.household_id, alert.status) == (AlertKind.NO_ANSWER, household.id, AlertStatus.OPEN)
    assert alert.steps.filter(kind="notified", recipient=helper_user.username).exists()
    third = services.record_check_in(
        actor, _check_in(household.id, CheckInResult.NO_ANSWER, occurred_at=day + timedelta(days=2))
    )
    assert third.alert_id is None
    assert Alert.objects.filter(kind=AlertKind.NO_ANSWER).count() == 1
    alerts = services.helper_alerts(actor)
    assert [a.alert_id for a in alerts] == [alert.pk]
    services.acknowledge_alert(actor, alert.pk)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED


def test_a_missed_check_in_raises_one_alert_and_escalates(
    household: HouseholdView, weekly_visit: CheckInSchedule, helper_user: User, official: User
) -> None:
    from maeul.watch import services as watch

    now = datetime(2026, 11, 22, 12, 0, tzinfo=KST)
    assert services.check_missed(now) == 0  # two days overdue is within the grace
    now = datetime(2026, 11, 23, 12, 0, tzinfo=KST)
    assert services.check_missed(now) == 1
    assert services.check_missed(now + timedelta(hours=1)) == 0
    alert = Alert.objects.get(kind=AlertKind.CHECK_IN_MISSED)
    assert alert.household_id == household.id
    assert alert.steps.filter(kind="notified", recipient=helper_user.username).exists()
    assert watch.escalate_due(now + timedelta(hours=2)) == 1
    alert.refresh_from_db()
    assert alert.escalation_level >= 1
    watch.resolve(actor_of(official), alert.pk, "person_fine")
    assert services.check_missed(now + timedelta(hours=3)) == 0  # the same missed date is not raised twice

"""The roll-call after activation: contacts and who may record them, escalation of households not reached in time,
messages in Korean through the outbox, indoor-temperature flags, manual activation, the review's lessons becoming
improvement tasks, exports and the programme's figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.test import override_settings

from maeul.accounts.roles import Role
from maeul.audit.models import AuditEntry
from maeul.conftest import CHEONGUN, SAJIK, MakeUser, actor_of
from maeul.disaster import catalogue, services
from maeul.disaster.conftest import HYEHWA, Town, vector
from maeul.disaster.errors import DisasterError, NotFound
from maeul.disaster.models import (
    Channel,
    Dispatch,
    DispatchKind,
    EntryStatus,
    HouseholdReadiness,
    Response,
    RollCallEntry,
    TimelineKind,
)
from maeul.disaster.schemas import ContactInput, LessonInput, ManualActivation
from maeul.notify.models import Notification
from maeul.protection import fields
from maeul.safety.models import ImprovementTask
from maeul.safetynet import services as safetynet
from maeul.safetynet.models import AssignmentRole, HelperKind
from maeul.safetynet.schemas import AssignmentInput, HelperInput
from maeul.sensing.models import Device, Reading
from maeul.sites import services as sites

pytestmark = pytest.mark.django_db
NOW = datetime.fromisoformat("2026-08-03T10:00:00+09:00")  # a Monday, in office hours


def heat(town: Town, now: datetime = NOW) -> Response:
    return services.receive(
        vector("ko_heat_polygon.xml"), channel=Channel.PUSH, site_list=[town.site], now=now
    ).responses[0]


def entry_of(response: Response, household_id: int) -> RollCallEntry:
    return RollCallEntry.objects.get(response=response, household_id=household_id)


def test_contacts_account_for_every_household_and_complete_the_response(town: Town) -> None:
    response = heat(town)
    h = town.homes
    helper, member, official = actor_of(town.helper_user), actor_of(town.member_user), actor_of(town.official)
    services.record_contact(helper, entry_of(response, h["bedridden"]).pk, ContactInput(result="fine", method="visit"),
                            now=NOW + timedelta(minutes=20))  # fmt: skip
    services.record_contact(member, entry_of(response, h["alone"]).pk, ContactInput(result="not_reached"),
                            now=NOW + timedelta(minutes=30))  # fmt: skip
    assert entry_of(response, h["alone"]).status == EntryStatus.NOT_REACHED
    services.record_contact(member, entry_of(response, h["alone"]).pk,
                            ContactInput(result="needs_help", note="선풍기가 고장", has_cooling="no"),
                            now=NOW + timedelta(minutes=50))  # fmt: skip
    services.record_contact(member, entry_of(response, h["nocoords"]).pk, ContactInput(result="fine"),
                            now=NOW + timedelta(minutes=55))  # fmt: skip
    response.refresh_from_db()
    assert response.completed_at is None
    services.record_contact(official, entry_of(response, h["sajik"]).pk, ContactInput(result="evacuated"),
                            now=NOW + timedelta(minutes=70))  # fmt: skip
    response.refresh_from_db()
    assert response.completed_at == NOW + timedelta(minutes=70)
    alone = entry_of(response, h["alone"])
    assert (alone.status, alone.attempts, alone.next_escalation_at) == (EntryStatus.NEEDS_HELP, 2, None)
    assert fields.decrypt(alone.contacts.last().note_encrypted) == "선풍기가 고장"  # type: ignore[union-attr]
    assert HouseholdReadiness.objects.get(household_id=h["alone"]).has_cooling == "no"
    assert response.timeline.filter(kind=TimelineKind.COMPLETED, data__minutes=70).exists()
    assert AuditEntry.objects.filter(resource="roll_call", action="change", household_id=h["alone"]).count() == 2
    figures = services.programme_figures(town.site.pk, date(2026, 8, 1), date(2026, 9, 1))
    assert figures["activations"] == 1 and figures["households_to_reach"] == 4
    assert figures["share_reached"] == 1.0 and figures["median_roll_call_minutes"] == 70.0
    assert figures["median_minutes_to_reach_household"] == 52.5
    assert services.programme_figures(town.site.pk, date(2026, 9, 1), date(2026, 10, 1))["share_reached"] is None


def test_helpers_and_members_reach_only_their_own_households(town: Town) -> None:
    response = heat(town)
    others = entry_of(response, town.homes["alone"])  # the member's
    with pytest.raises(NotFound):
        services.record_contact(actor_of(town.helper_user), others.pk, ContactInput(result="fine"))
    mine = services.my_roll_call(actor_of(town.member_user), now=NOW)
    assert [r.response.pk for r in mine] == [response.pk]
    names = {row.name for row in mine[0].entries}
    assert names == {"주민alone", "주민nocoords"}
    assert mine[0].entries[0].phone == "010-2345-6789" and "자하문로" in mine[0].entries[0].address
    assert AuditEntry.objects.filter(actor=town.member_user, resource="roll_call", action="list").count() == 2
    services.close(actor_of(town.official), response.pk, now=NOW + timedelta(hours=5))
    assert services.my_roll_call(actor_of(town.member_user), now=NOW) == []  # closed: no longer theirs to see


def test_officials_outside_the_area_see_nothing(town: Town, make_user: MakeUser) -> None:
    response = heat(town)
    elsewhere = make_user(Role.WELFARE_OFFICIAL, town.site, [HYEHWA])
    assert not services.visible_responses(actor_of(elsewhere).principal).exists()
    with pytest.raises(NotFound):
        services.board(actor_of(elsewhere), response.pk, services.BoardFilters())


def test_households_not_reached_in_time_escalate_officials_then_guardians_then_the_duty_line(town: Town) -> None:
    sites.update_settings(actor_of(town.admin), town.site, {"round_the_clock_contact_phone": "02-2148-1234"})
    response = heat(town)
    due = response.reach_by
    assert services.escalate_due(due - timedelta(minutes=1)) == 0
    assert services.escalate_due(due) == 4
    overdue = Dispatch.objects.filter(response=response, kind=DispatchKind.OVERDUE)
    assert {(d.user_id, d.area_id, d.households) for d in overdue} == {
        (town.official.pk, CHEONGUN, 3),
        (town.official.pk, SAJIK, 1),
    }
    assert services.escalate_due(due + timedelta(minutes=59)) == 0
    assert services.escalate_due(due + timedelta(minutes=60)) == 4
    guardian = Dispatch.objects.get(response=response, kind=DispatchKind.GUARDIAN)
    assert guardian.contact is not None and guardian.contact.household_id == town.homes["alone"]
    # Reached meanwhile: it leaves the chain.
    services.record_contact(actor_of(town.official), entry_of(response, town.homes["alone"]).pk,
                            ContactInput(result="fine"), now=due + timedelta(minutes=90))  # fmt: skip
    assert services.escalate_due(due + timedelta(minutes=120)) == 3
    assert Dispatch.objects.get(response=response, kind=DispatchKind.DUTY_LINE).households == 3
    assert services.escalate_due(due + timedelta(days=1)) == 0  # past the last step
    assert response.timeline.filter(kind=TimelineKind.ESCALATED).count() == 3


@override_settings(MAEUL_NOTIFY_CHANNELS=["web", "console", "email"])
def test_messages_owed_are_sent_in_korean_through_the_outbox(town: Town) -> None:
    town.helper_user.email = "helper@example.kr"
    town.helper_user.save()
    response = heat(town)
    assert services.send_dispatches() == 3
    assert services.send_dispatches() == 0  # each once
    to_helper = Notification.objects.filter(user=town.helper_user, channel="web").get()
    assert "담당하시는 가구 1곳" in to_helper.body and "/disaster/my/" in to_helper.body
    assert to_helper.subject == "[마을] 폭염 주의보"
    assert Notification.objects.filter(user=town.helper_user, channel="email").exists()
    assert Notification.objects.filter(channel="console", body__contains="종로구 서부 폭염주의보").count() == 2  # SMS
    to_official = Notification.objects.get(user=town.official, channel="web")
    assert f"/disaster/{response.pk}/" in to_official.body
    helper_dispatch = Dispatch.objects.get(helper_id=town.helper_id)
    assert helper_dispatch.sent_at is not None and helper_dispatch.channels == "web, email, console"


def test_dangerous_indoor_temperature_moves_a_home_up_during_a_heat_wave(town: Town) -> None:
    home = town.homes["sajik"]
    device = Device.objects.create(site=town.site, household_id=home, protocol="zigbee2mqtt", identity="t1",
                                   kinds=["temperature"], last_seen_at=NOW)  # fmt: skip
    Reading.objects.create(
        device=device, household_id=home, kind="temperature", value=33.4, at=NOW - timedelta(minutes=10)
    )
    response = heat(town)
    entry = entry_of(response, home)
    assert entry.indoor_celsius == 33.4 and "indoor_hot" in catalogue.reason_codes(entry.reasons)
    # A second home gets hot later: the worker's check flags it.
    other = town.homes["nocoords"]
    later_device = Device.objects.create(site=town.site, household_id=other, protocol="zigbee2mqtt", identity="t2",
                                         kinds=["temperature"], last_seen_at=NOW)  # fmt: skip
    before = entry_of(response, other).priority
    Reading.objects.create(device=later_device, household_id=other, kind="temperature", value=31.0,
                           at=NOW + timedelta(minutes=20))  # fmt: skip
    assert services.refresh_indoor(NOW + timedelta(minutes=21)) == 1
    assert services.refresh_indoor(NOW + timedelta(minutes=22)) == 0  # checked less than 5 minutes ago
    assert entry_of(response, other).priority == before + 50


def test_an_official_activates_by_hand_only_in_their_own_areas(town: Town) -> None:
    official = actor_of(town.official)
    with pytest.raises(DisasterError) as refused:
        services.activate_manual(official, ManualActivation(hazard="cold", title="한파", area_codes=[HYEHWA]))
    assert refused.value.code == "area_not_allowed"
    response = services.activate_manual(
        official,
        ManualActivation(hazard="cold", level="warning", title="청운효자동 한파 대응", area_codes=[CHEONGUN]),
        now=NOW,
    )
    h = town.homes
    assert set(RollCallEntry.objects.filter(response=response).values_list("household_id", flat=True)) == {
        h["bedridden"], h["alone"], h["nocoords"], h["north"]
    }  # fmt: skip
    assert response.activated_by_id == town.official.pk and response.origin == "manual"


def test_lessons_become_improvement_tasks_of_the_area(town: Town) -> None:
    response = heat(town)
    official = actor_of(town.official)
    services.save_review(official, response.pk, "도우미 연락이 빨랐음", "사직동 협의체 위원이 없음", now=NOW)
    lesson = services.add_lesson(
        official, response.pk, LessonInput(area_code=SAJIK, text="사직동 안전협의체 위원 충원")
    )
    task = ImprovementTask.objects.get(pk=lesson.task_id)
    assert (task.area_id, task.source, task.title) == (SAJIK, "review", "사직동 안전협의체 위원 충원")
    with pytest.raises(DisasterError) as refused:
        services.add_lesson(official, response.pk, LessonInput(area_code=HYEHWA, text="x"))
    assert refused.value.code == "area_not_in_response"


def test_a_welfare_official_keeps_a_lesson_for_a_safety_official_to_turn_into_a_task(
    town: Town, make_user: MakeUser
) -> None:
    response = heat(town)
    welfare = actor_of(make_user(Role.WELFARE_OFFICIAL, town.site, [CHEONGUN]))
    with pytest.raises(DisasterError) as refused:
        services.add_lesson(welfare, response.pk, LessonInput(area_code=CHEONGUN, text="무더위쉼터 연장"))
    assert refused.value.code == "not_allowed"
    lesson = services.add_lesson(
        welfare, response.pk, LessonInput(area_code=CHEONGUN, text="무더위쉼터 연장", make_task=False)
    )
    assert lesson.task_id is None
    assert services.lesson_to_task(actor_of(town.official), lesson.pk).task_id is not None


def test_report_and_exports(town: Town) -> None:
    response = heat(town)
    official = actor_of(town.official)
    services.record_contact(official, entry_of(response, town.homes["sajik"]).pk, ContactInput(result="fine"),
                            now=NOW + timedelta(minutes=30))  # fmt: skip
    report = services.report(official, response.pk, now=NOW + timedelta(hours=1))
    assert (report.counts.total, report.counts.accounted, report.counts.pending) == (4, 1, 3)
    assert report.median_minutes_to_account == 30.0 and report.accounted_by_deadline == 1
    assert [line.code for line in report.areas] == [CHEONGUN, SAJIK]
    assert "4" in report.timeline[0].text
    with pytest.raises(DisasterError):
        services.roll_call_csv(official, response.pk, reason="")
    text, rows = services.roll_call_csv(official, response.pk, reason="구청 보고")
    assert rows == 4 and text.splitlines()[0].startswith("reference,area_code")
    assert "주민" not in text and "010-" not in text  # references and codes, no names or phones
    assert AuditEntry.objects.filter(action="export", resource="roll_call").count() == 4
    figures = services.figures_csv(report)
    assert figures.splitlines()[-1].startswith(",total,4,1,")
    pdf = services.report_pdf("<html><body><h1>폭염 상황 보고</h1></body></html>")
    assert pdf.startswith(b"%PDF")


def test_retention_wipes_the_notes_about_destroyed_households(town: Town) -> None:
    from maeul.audit import retention
    from maeul.people.models import Household

    response = heat(town)
    entry = entry_of(response, town.homes["sajik"])
    services.record_contact(
        actor_of(town.official), entry.pk, ContactInput(result="fine", note="딸과 함께 지냄"), now=NOW
    )
    Household.objects.filter(pk=town.homes["sajik"]).update(retain_until=date(2020, 1, 1))
    retention.run()
    contact = entry.contacts.get()
    assert (contact.note_encrypted, contact.result) == ("", "fine")


def test_a_household_goes_to_its_primary_helper_not_its_backup(town: Town, make_user: MakeUser) -> None:
    official = actor_of(town.official)
    h = town.homes
    backup_user = make_user(Role.HELPER, town.site, [CHEONGUN])
    backup = safetynet.register_helper(
        official,
        HelperInput(kind=HelperKind.NEIGHBOUR, name="이예비", phone="010-2222-3333", area_codes=[CHEONGUN],
                    consent_given_on=date(2026, 3, 1), account_id=backup_user.pk),
    )  # fmt: skip
    # The backup is assigned to both homes; "bedridden" also has its primary (the town's helper), "alone" has none.
    for key in ("bedridden", "alone"):
        safetynet.assign_helper(official, h[key], AssignmentInput(helper_id=backup.id, role=AssignmentRole.BACKUP))
    response = heat(town)
    primary = entry_of(response, h["bedridden"])
    assert (primary.helper_id, primary.assignee_id) == (town.helper_id, town.helper_user.pk)
    only_backup = entry_of(response, h["alone"])
    assert (only_backup.helper_id, only_backup.assignee_id, only_backup.member_id) == (backup.id, backup_user.pk, None)

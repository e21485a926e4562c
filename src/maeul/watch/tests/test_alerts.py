"""Alert lifecycle and the escalation chain: who is reached, when, by which channel, and what stops it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, SAJIK, MakeUser, actor_of, household_data
from maeul.notify.models import Notification
from maeul.people import services as people
from maeul.people.models import GrantKind
from maeul.people.schemas import ContactInput
from maeul.sites import services as sites
from maeul.sites.models import Site
from maeul.watch import detectors, escalation, services
from maeul.watch.errors import AlertNotFound, WatchError
from maeul.watch.models import Alert, AlertStatus, AlertStep, StepKind

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("console_and_web")]

# A Wednesday in office hours, a Wednesday night, and Chuseok (a public holiday on a Friday) in the morning.
OFFICE = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 11:00 KST
NIGHT = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 23:00 KST
CHUSEOK = datetime(2026, 9, 25, 1, 0, tzinfo=UTC)  # 10:00 KST


@pytest.fixture
def console_and_web() -> Any:
    with override_settings(MAEUL_NOTIFY_CHANNELS=["web", "console", "email"]):
        yield


def detected(
    kind: str = "inactivity", severity: str = "high", at: datetime = OFFICE, cause: str = ""
) -> detectors.Alert:
    return detectors.Alert(
        household="h",
        kind=kind,
        raised_at=at,
        severity=severity,
        reason="No activity for 9 h 10 min; usually at most 3 h on Wednesdays mornings.",
        cause=cause or kind,
        reason_code="inactivity_learned",
        reason_params={
            "silent_minutes": 550,
            "usual_minutes": 180,
            "weekday": 2,
            "part": "mornings",
            "after_device": "",
            "in_bed": False,
        },
    )


@pytest.fixture
def home(site: Site, site_admin: User) -> people.HouseholdView:
    data = household_data(
        contacts=[ContactInput(name="김철수", relation="아들", phone="010-9876-5432", receives_alerts=True)]
    )
    return people.register_household(actor_of(site_admin), data)


@pytest.fixture
def duty_line(site: Site, site_admin: User) -> None:
    sites.update_settings(
        actor_of(site_admin),
        site,
        {"round_the_clock_contact_name": "종로구 당직실", "round_the_clock_contact_phone": "02-2148-1114"},
    )


def steps(alert: Alert) -> list[tuple[str, int, str]]:
    return [(s.kind, s.level, s.recipient) for s in AlertStep.objects.filter(alert=alert)]


def test_raising_reaches_the_area_official_in_office_hours(
    site: Site, home: Any, official: User, make_user: MakeUser
) -> None:
    elsewhere = make_user(Role.WELFARE_OFFICIAL, site, [SAJIK])
    alert = services.raise_alert(site.pk, home.id, detected(), OFFICE)
    assert alert is not None and alert.area_id == CHEONGUN
    notified = Notification.objects.filter(topic=f"alert:{alert.pk}")
    assert {(n.channel, n.user_id) for n in notified} == {("web", official.pk)}
    assert elsewhere.pk not in {n.user_id for n in notified}
    assert "9시간 10분" in notified[0].body  # Korean for officials
    assert alert.next_escalation_at == OFFICE + timedelta(minutes=15)
    assert [k for k, _level, _r in steps(alert)] == [StepKind.RAISED, StepKind.NOTIFIED]


def test_one_open_alert_per_cause(site: Site, home: Any, official: User) -> None:
    first = services.raise_alert(site.pk, home.id, detected(), OFFICE)
    again = services.raise_alert(site.pk, home.id, detected(at=OFFICE + timedelta(hours=5)), OFFICE)
    assert first is not None and again is None
    assert Alert.objects.count() == 1
    assert AlertStep.objects.filter(alert=first, kind=StepKind.NOTE, detail__startswith="다시 감지됨").exists()
    other = services.raise_alert(site.pk, home.id, detected("sos", "critical", cause="sos:button"), OFFICE)
    assert other is not None  # another cause is another alert


def test_unacknowledged_alert_walks_the_chain_to_the_guardian_and_the_duty_line(
    site: Site, home: Any, official: User, duty_line: None
) -> None:
    alert = services.raise_alert(site.pk, home.id, detected("sos", "critical", cause="sos:b"), OFFICE)
    assert alert is not None
    assert services.escalate_due(OFFICE + timedelta(minutes=14)) == 0
    assert services.escalate_due(OFFICE + timedelta(minutes=15)) == 1
    alert.refresh_from_db()
    guardian_messages = Notification.objects.filter(topic=f"alert:{alert.pk}", channel="console")
    assert guardian_messages.count() == 1
    assert "119" in guardian_messages[0].body
    assert services.escalate_due(OFFICE + timedelta(minutes=30)) == 1
    alert.refresh_from_db()
    assert alert.next_escalation_at is None  # the duty line is the end of the chain
    levels = [level for kind, level, _r in steps(alert) if kind == StepKind.NOTIFIED]
    assert levels == [escalation.Level.OFFICIAL, escalation.Level.GUARDIAN, escalation.Level.ROUND_THE_CLOCK]
    assert "종로구 당직실" in [r for kind, _level, r in steps(alert) if kind == StepKind.NOTIFIED]


def test_a_high_alert_stops_at_the_guardian_and_device_alerts_never_reach_one(
    site: Site, home: Any, official: User, duty_line: None
) -> None:
    high = services.raise_alert(site.pk, home.id, detected(), OFFICE)
    battery = services.raise_alert(site.pk, home.id, detected("battery_low", "device", cause="battery:m"), OFFICE)
    assert high is not None and battery is not None
    assert battery.next_escalation_at is None
    services.escalate_due(OFFICE + timedelta(minutes=15))
    high.refresh_from_db()
    assert high.next_escalation_at is None
    assert not Notification.objects.filter(topic=f"alert:{battery.pk}", channel="console").exists()


def test_acknowledging_stops_the_escalation(site: Site, home: Any, official: User) -> None:
    alert = services.raise_alert(site.pk, home.id, detected(), OFFICE)
    assert alert is not None
    services.acknowledge(actor_of(official), alert.pk)
    assert services.escalate_due(OFFICE + timedelta(hours=2)) == 0
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by_id == official.pk


def test_resolving_needs_a_real_outcome_and_frees_the_cause(site: Site, home: Any, official: User) -> None:
    alert = services.raise_alert(site.pk, home.id, detected(), OFFICE)
    assert alert is not None
    with pytest.raises(WatchError):
        services.resolve(actor_of(official), alert.pk, "it was fine probably")
    with pytest.raises(WatchError):
        services.resolve(actor_of(official), alert.pk, "recovered")
    services.resolve(actor_of(official), alert.pk, "false_alarm", "Visiting her daughter.")
    with pytest.raises(WatchError):
        services.resolve(actor_of(official), alert.pk, "person_fine")
    assert services.raise_alert(site.pk, home.id, detected(at=OFFICE + timedelta(days=1)), OFFICE) is not None
    assert services.feedback([home.id], timezone.now()) == {home.id: (1, 0)}


def test_nights_and_holidays_go_to_the_official_on_call(
    site: Site, home: Any, official: User, make_user: MakeUser, site_admin: User
) -> None:
    on_duty = make_user(Role.SAFETY_OFFICIAL, site, [SAJIK])
    services.add_shift(actor_of(site_admin), on_duty.pk, NIGHT - timedelta(hours=2), NIGHT + timedelta(hours=10))
    services.add_shift(actor_of(site_admin), on_duty.pk, CHUSEOK - timedelta(hours=2), CHUSEOK + timedelta(hours=2))
    settings = sites.settings_of(site)
    assert escalation.in_office_hours(site.pk, settings, OFFICE)
    assert not escalation.in_office_hours(site.pk, settings, NIGHT)
    assert not escalation.in_office_hours(site.pk, settings, CHUSEOK)
    assert escalation.holiday_name(site.pk, CHUSEOK.date()) == "추석"
    for moment in (NIGHT, CHUSEOK):
        alert = services.raise_alert(site.pk, home.id, detected(at=moment, cause=moment.isoformat()), moment)
        assert alert is not None
        users = set(Notification.objects.filter(topic=f"alert:{alert.pk}").values_list("user_id", flat=True))
        assert users == {on_duty.pk}


def test_a_shift_must_be_an_official_of_the_site_and_end_after_it_starts(
    site: Site, site_admin: User, official: User, make_user: MakeUser, other_site: Site
) -> None:
    outsider = make_user(Role.WELFARE_OFFICIAL, other_site, [])
    with pytest.raises(WatchError):
        services.add_shift(actor_of(site_admin), official.pk, NIGHT, NIGHT - timedelta(hours=1))
    with pytest.raises(WatchError):
        services.add_shift(actor_of(site_admin), outsider.pk, NIGHT, NIGHT + timedelta(hours=1))


def test_alerts_are_scoped_like_households(
    site: Site, home: Any, official: User, make_user: MakeUser, site_admin: User
) -> None:
    alert = services.raise_alert(site.pk, home.id, detected(), OFFICE)
    assert alert is not None
    elsewhere = make_user(Role.WELFARE_OFFICIAL, site, [SAJIK])
    helper = make_user(Role.HELPER, site, [CHEONGUN])
    with pytest.raises(AlertNotFound):
        services.read_alert(actor_of(elsewhere), alert.pk)
    with pytest.raises(AlertNotFound):
        services.read_alert(actor_of(helper), alert.pk)
    people.grant_access(actor_of(site_admin), home.id, helper.pk, GrantKind.HELPER)
    assert services.read_alert(actor_of(helper), alert.pk).pk == alert.pk
    # Once assigned, the helper is the first person reached.
    second = services.raise_alert(site.pk, home.id, detected("sos", "critical", cause="sos:x"), OFFICE)
    assert second is not None
    assert set(Notification.objects.filter(topic=f"alert:{second.pk}").values_list("user_id", flat=True)) == {helper.pk}


def test_reason_is_rendered_in_the_readers_language(site: Site, home: Any) -> None:
    from django.utils import translation

    alert = services.raise_alert(site.pk, home.id, detected(), OFFICE)
    assert alert is not None
    with translation.override("en"):
        assert services.reason_text(alert) == (
            "No activity for 9 h 10 min; usually at most 3 h on Wednesdays mornings."
        )
    with translation.override("ko"):
        text = services.reason_text(alert)
    assert "9시간 10분" in text and "수요일" in text


def test_a_sensor_holding_inactivity_back_is_explained_in_korean() -> None:
    from django.utils import translation

    from maeul.watch.reasons import render

    params = {"device": "거실 동작", "silent_minutes": 150, "hold_minutes": 720}
    with translation.override("ko"):
        text = render("device_missing", params)
    assert text == (
        "집의 다른 기기는 신호를 보내는데 거실 동작에서 2시간 30분 동안 신호가 없습니다. "
        "돌아올 때까지(최대 12시간) 무활동은 모든 센서가 본 시간만 셉니다."
    )


def test_a_lamp_left_burning_is_explained_in_korean() -> None:
    from django.utils import translation

    from maeul.watch.reasons import render

    params = {
        "silent_minutes": 200,
        "usual_minutes": 75,
        "after_device": "침실 동작",
        "light_device": "거실 동작",
        "weekday": 1,
    }
    with translation.override("en"):
        assert render("inactivity_lit", params) == (
            "No activity for 3 h 20 min since 침실 동작, and a light is still on (거실 동작); with a light on, "
            "usually at most 1 h 15 min in the evening, and nights begin in the dark."
        )
    with translation.override("ko"):
        text = render("inactivity_lit", params)
    assert text is not None and "3시간 20분" in text and "1시간 15분" in text and "불" in text
    assert "침실 동작" in text and "거실 동작" in text
    # An alert raised before every lamp was watched names no light device: the light was where the person was seen.
    with translation.override("en"):
        older = render("inactivity_lit", {k: v for k, v in params.items() if k != "light_device"})
    assert older is not None and "a light is still on (침실 동작)" in older

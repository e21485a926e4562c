"""The safety-net report counts what the services recorded, per area in scope, and exports CSV and XLSX; the
household timeline puts alerts, check-ins, cases and referrals together for those allowed to see each."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from openpyxl import load_workbook

from maeul.accounts.principal import principal_for
from maeul.accounts.roles import Role
from maeul.audit.models import AuditAction, AuditEntry
from maeul.conftest import CHEONGUN, MakeUser, actor_of, signed_in
from maeul.directory.models import Organization, Service
from maeul.people import services as people
from maeul.people.models import ConsentPurpose
from maeul.people.schemas import ConsentInput
from maeul.people.services import HouseholdView
from maeul.safetynet import reports, services, timeline
from maeul.safetynet.models import CheckInKind, CheckInResult, CheckInSchedule, CrisisSign
from maeul.safetynet.schemas import CheckInInput
from maeul.sites.models import Site
from maeul.welfare import services as welfare

pytestmark = pytest.mark.django_db
KST = ZoneInfo("Asia/Seoul")
NOVEMBER = reports.Period(date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture(autouse=True)
def late_november() -> Iterator[None]:
    """The story happens in late November, whenever the suite runs: a case is opened when it is recorded."""
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=KST)):
        yield


@pytest.fixture
def story(
    site: Site, official: User, helper_user: User, household: HouseholdView, weekly_visit: CheckInSchedule
) -> int:
    """A late visit, then one on time that finds a crisis (a case), and a referral accepted and delivered."""
    helper = actor_of(helper_user)
    services.record_check_in(
        helper,
        CheckInInput(
            client_id=uuid.uuid4(),
            household_id=household.id,
            schedule_id=weekly_visit.pk,
            kind=CheckInKind.VISIT,
            result=CheckInResult.FINE,
            occurred_at=datetime(2026, 11, 22, 10, 0, tzinfo=KST),
        ),
    )
    outcome = services.record_check_in(
        helper,
        CheckInInput(
            client_id=uuid.uuid4(),
            household_id=household.id,
            schedule_id=weekly_visit.pk,
            kind=CheckInKind.VISIT,
            result=CheckInResult.NEEDS_HELP,
            crisis_signs=[CrisisSign.NO_FOOD],
            occurred_at=datetime(2026, 11, 25, 9, 0, tzinfo=KST),
        ),
    )
    assert outcome.case_id is not None
    people.record_consent(
        actor_of(official),
        household.id,
        ConsentInput(purpose=ConsentPurpose.PARTNER_SHARING, given_on=date(2026, 11, 1)),
    )
    bank = Organization.objects.create(site=site, name="종로 푸드뱅크")
    meals = Service.objects.create(organization=bank, name="밑반찬 배달")
    referral = welfare.send_referral(actor_of(official), outcome.case_id, meals.pk, need_domain="food")
    welfare.transition_referral(actor_of(official), referral.id, "accepted")
    welfare.transition_referral(actor_of(official), referral.id, "delivered")
    return outcome.case_id


def test_report_counts_what_was_recorded(official: User, story: int) -> None:
    report = reports.build(principal_for(official), NOVEMBER, today=date(2026, 11, 25))
    assert [row.code for row in report.rows] == [CHEONGUN]
    row = report.rows[0]
    assert (row.households, row.covered, row.coverage_rate) == (1, 1, 100.0)
    # The first visit came two days after its due date, the second before the next one.
    assert (row.check_ins, row.check_ins_scheduled, row.check_ins_on_time, row.on_time_rate) == (2, 2, 1, 50.0)
    assert (row.cases_opened, row.cases_closed, row.cases_open_now) == (1, 0, 1)
    assert (row.referrals_sent, row.referrals_answered, row.referrals_accepted) == (1, 1, 1)
    assert row.referrals_delivered == 1 and row.median_days_to_service is not None
    assert report.total.households == 1 and report.total.acceptance_rate == 100.0
    assert [m.label for m in report.months] == ["2026-11"] and report.months[0].opened == 1


def test_report_is_scoped_to_the_officials_areas(site: Site, make_user: MakeUser, story: int) -> None:
    elsewhere = make_user(Role.WELFARE_OFFICIAL, site, ["1111053000"])  # 사직동
    report = reports.build(principal_for(elsewhere), NOVEMBER)
    assert [row.code for row in report.rows] == ["1111053000"]
    assert report.total.households == 0 and report.total.cases_opened == 0


def test_exports_are_complete_and_logged(official: User, story: int) -> None:
    report = reports.build(principal_for(official), NOVEMBER)
    text = reports.export_csv(actor_of(official), report)
    lines = text.lstrip("\ufeff").splitlines()
    assert len(lines) == 3  # header, the area, the total
    assert lines[1].startswith(f"{CHEONGUN},")
    workbook = load_workbook(io.BytesIO(reports.export_xlsx(actor_of(official), report)))
    by_area = workbook.worksheets[0]
    assert by_area.cell(row=4, column=1).value == CHEONGUN
    assert by_area.cell(row=4, column=3).value == 1  # households
    assert workbook.worksheets[1].cell(row=2, column=1).value == "2026-11"
    assert AuditEntry.objects.filter(actor=official, action=AuditAction.EXPORT, resource="welfare_report").count() == 2


def test_report_page_and_downloads(official: User, helper_user: User, story: int) -> None:
    client = signed_in(official)
    page = client.get("/reports/safety-net/?start=2026-11-01&end=2026-11-30")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    xlsx = client.get("/reports/safety-net/?start=2026-11-01&end=2026-11-30&format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    bad = client.get("/reports/safety-net/?start=2026-12-01&end=2026-11-01")
    assert bad.status_code == 200  # falls back to the default period with the error shown
    assert signed_in(helper_user).get("/reports/safety-net/").status_code in (403, 404)


def test_timeline_shows_each_kind_to_those_allowed(official: User, helper_user: User, story: int) -> None:
    household_id = welfare.read_case(actor_of(official), story).household_id
    kinds = {entry.kind for entry in timeline.household_timeline(actor_of(official), household_id)}
    assert {"check_in", "case_opened", "referral_sent", "referral_accepted", "referral_delivered"} <= kinds
    # A helper sees the check-ins of the households they visit, not the welfare case.
    helper_kinds = {entry.kind for entry in timeline.household_timeline(actor_of(helper_user), household_id)}
    assert helper_kinds == {"check_in"}
    response = signed_in(official).get(f"/households/{household_id}/timeline/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="timeline"' in response.content.decode()
    assert AuditEntry.objects.filter(resource="household_timeline", household_id=household_id).count() == 3


def test_key_rotation_covers_the_safety_net(helper_user: User, story: int) -> None:
    """The registry's key rotation also re-encrypts helpers, check-ins and cases and rebuilds helpers' indexes."""
    from django.conf import settings
    from django.test import override_settings

    from maeul.protection import fields
    from maeul.safetynet.models import Helper
    from maeul.welfare.models import Case

    old, new = settings.MAEUL_FIELD_KEY, fields.generate_key()
    with override_settings(MAEUL_FIELD_KEY=f"{new},{old}"):
        counts = people.rotate_field_key()
    assert counts["safetynet.helper"] == 1 and counts["safetynet.checkin"] == 2 and counts["welfare.case"] == 1
    with override_settings(MAEUL_FIELD_KEY=new):
        helper = Helper.objects.get(account=helper_user)
        assert fields.decrypt(helper.name_encrypted) == "박순자"
        phone = fields.decrypt(helper.phone_encrypted)
        assert phone.replace("-", "") == "01034567890" and helper.phone_index == fields.blind_index(phone)
        assert helper.name_index == fields.blind_index(fields.normalise_name("박순자"))
        fields.decrypt(Case.objects.get(pk=story).summary_encrypted)

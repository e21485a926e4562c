"""Hazard reports: filing (location, photos, duplicates), triage, routing, re-routing and the reporter's view."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core import mail
from PIL import Image

from maeul.audit.models import AuditEntry
from maeul.conftest import CHEONGUN, SAJIK, actor_of
from maeul.safety import photos, services
from maeul.safety.errors import DuplicatesFound, NotFound, SafetyError
from maeul.safety.models import HazardReport, ReportFollower, ReportStatus
from maeul.safety.schemas import StatusChange, TriageInput
from maeul.safety.tests.conftest import NEAR_CHEONGUN, jpeg, report_data

pytestmark = pytest.mark.django_db


def test_a_resident_files_a_report_with_a_photo_whose_metadata_is_removed(site) -> None:  # type: ignore[no-untyped-def]
    report = services.submit_report(report_data(reporter_email="resident@example.kr"), site=site, photo_files=[jpeg()])
    assert report.reference == f"R-{report.pk:06d}"
    assert report.area_id == CHEONGUN
    assert report.status == ReportStatus.SUBMITTED
    assert report.responder is not None and report.responder.code == "roads"
    assert report.due_at - report.created_at == timedelta(days=7)
    photo = report.photos.get()
    with photo.image.open("rb") as f:
        stored = Image.open(io.BytesIO(f.read()))
    assert max(stored.size) == photos.MAX_EDGE_PX
    assert len(stored.getexif()) == 0  # no make, model or position left
    assert "resident@example.kr" not in HazardReport.objects.values_list("reporter_email_encrypted", flat=True)[0]


def test_the_photo_position_places_the_report_when_no_pin_is_given(site) -> None:  # type: ignore[no-untyped-def]
    report = services.submit_report(
        report_data(latitude=None, longitude=None), site=site, photo_files=[jpeg(gps=NEAR_CHEONGUN, rotate=True)]
    )
    assert report.latitude == pytest.approx(NEAR_CHEONGUN[0], abs=1e-5)
    assert report.longitude == pytest.approx(NEAR_CHEONGUN[1], abs=1e-5)
    stored = Image.open(report.photos.get().image.path)
    assert stored.size[0] < stored.size[1]  # turned upright as the camera meant


def test_without_any_location_the_reporter_is_told_how_to_give_one(site) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SafetyError) as exc:
        services.submit_report(report_data(latitude=None, longitude=None, address=""), site=site)
    assert exc.value.code == "location_required"
    assert not HazardReport.objects.exists()


def test_an_address_naming_the_dong_places_the_report_approximately(site) -> None:  # type: ignore[no-untyped-def]
    report = services.submit_report(
        report_data(latitude=None, longitude=None, address="종로구 사직동 사직로 100"), site=site
    )
    assert report.area_id == SAJIK and report.location_approximate
    with pytest.raises(SafetyError) as exc:
        services.submit_report(report_data(latitude=None, longitude=None, address="세종대로 1"), site=site)
    assert exc.value.code == "address_not_placed"


def test_a_place_outside_the_site_is_refused(site) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SafetyError) as exc:
        services.submit_report(report_data(latitude=35.1796, longitude=129.0756), site=site)  # Busan
    assert exc.value.code == "outside_jurisdiction"


def test_a_bad_photo_is_refused_and_nothing_is_stored(site) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(photos.PhotoRejected):
        services.submit_report(report_data(), site=site, photo_files=[b"not an image"])
    assert not HazardReport.objects.exists()


def test_open_reports_of_the_same_kind_within_50_m_are_offered_to_follow(site) -> None:  # type: ignore[no-untyped-def]
    first = services.submit_report(report_data(), site=site)
    near = report_data(latitude=NEAR_CHEONGUN[0] + 0.0003)  # about 33 m north
    with pytest.raises(DuplicatesFound) as found:
        services.submit_report(near, site=site)
    (candidate,) = found.value.candidates
    assert candidate.reference == first.reference and 30 < candidate.distance_m < 36  # type: ignore[attr-defined]
    follower = services.follow_report(first.pk, email="neighbour@example.kr")
    assert services.track(follower.token).reference == first.reference
    # Further away, another category, or filed anyway: a new report.
    services.submit_report(report_data(latitude=NEAR_CHEONGUN[0] + 0.0006), site=site)
    services.submit_report(report_data(category="streetlight"), site=site)
    services.submit_report(near, site=site, file_anyway=True)
    assert HazardReport.objects.count() == 4


def test_required_category_questions_are_checked(site) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SafetyError) as exc:
        services.submit_report(report_data(category="blocked_drain"), site=site)
    assert exc.value.field == "attribute[water_now]"
    with pytest.raises(SafetyError):
        services.submit_report(report_data(category="blocked_drain", attributes={"water_now": "maybe"}), site=site)
    report = services.submit_report(report_data(category="blocked_drain", attributes={"water_now": "yes"}), site=site)
    assert report.attributes == {"water_now": "yes"}


def test_triage_routes_the_report_and_the_reporter_sees_each_step(  # type: ignore[no-untyped-def]
    site, safety_official, django_capture_on_commit_callbacks
) -> None:
    report = services.submit_report(report_data(reporter_email="resident@example.kr"), site=site)
    actor = actor_of(safety_official)
    with django_capture_on_commit_callbacks(execute=True):
        services.triage(
            actor, report.pk, TriageInput(likelihood=4, severity=3, urgent=True, responder="roads", note="확인")
        )
    view = services.track(report.token)
    assert view.status == ReportStatus.ROUTED and view.risk_score == 12 and view.risk_level == "high"
    assert view.due_at <= view.updates[-1].at + timedelta(days=1)  # urgent: within a day
    assert [u.status for u in view.updates] == ["submitted", "routed"]
    assert view.updates[-1].responder == "도로과"
    with django_capture_on_commit_callbacks(execute=True):
        services.recategorise(actor, report.pk, "streetlight", "가로등 문제로 확인")
    assert services.track(report.token).responder_code == "roads"
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(actor, report.pk, StatusChange(status="resolved", note="보수 완료"))
    view = services.track(report.token)
    assert view.status == ReportStatus.RESOLVED and not view.is_open
    assert len(mail.outbox) == 3 and mail.outbox[-1].to == ["resident@example.kr"]
    assert "R-" in mail.outbox[-1].subject


def test_reporter_contact_is_for_officials_and_each_read_is_logged(site, safety_official, body_member) -> None:  # type: ignore[no-untyped-def]
    report = services.submit_report(report_data(reporter_phone="01098765432", reporter_name="이민수"), site=site)
    contact = services.reporter_contact(actor_of(safety_official), report.pk)
    assert contact.phone == "010-9876-5432" and contact.name == "이민수"
    assert AuditEntry.objects.filter(resource=services.REPORTER, action="view", object_id=str(report.pk)).count() == 1
    with pytest.raises(NotFound):
        services.reporter_contact(actor_of(body_member[0]), report.pk)


def test_members_see_their_area_and_officials_elsewhere_see_nothing(site, make_user, body_member) -> None:  # type: ignore[no-untyped-def]
    from maeul.accounts.roles import Role

    report = services.submit_report(report_data(), site=site)
    assert services.read_report(actor_of(body_member[0]).principal, report.pk).reference == report.reference
    elsewhere = make_user(Role.SAFETY_OFFICIAL, site, [SAJIK])
    with pytest.raises(NotFound):
        services.read_report(actor_of(elsewhere).principal, report.pk)
    with pytest.raises(NotFound):
        services.triage(actor_of(body_member[0]), report.pk, TriageInput(likelihood=1, severity=1, responder="roads"))


def test_marking_a_duplicate_moves_its_followers_to_the_original(site, safety_official) -> None:  # type: ignore[no-untyped-def]
    first = services.submit_report(report_data(), site=site)
    second = services.submit_report(report_data(reporter_email="b@example.kr"), site=site, file_anyway=True)
    services.change_status(
        actor_of(safety_official), second.pk, StatusChange(status="duplicate", duplicate_of=first.reference)
    )
    assert ReportFollower.objects.filter(report=first).count() == 1
    assert HazardReport.objects.get(pk=second.pk).duplicate_of_id == first.pk


def test_map_shows_every_report_as_points_or_cells(site) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        services.submit_report(report_data(latitude=NEAR_CHEONGUN[0] + i * 0.001), site=site)
    qs = HazardReport.objects.filter(site=site)
    points = services.map_data(qs, None, 15)
    assert points["total"] == 5 and len(points["points"]) == 5
    cells = services.map_data(qs, None, 10, density=True)
    assert cells["total"] == 5 and sum(c["n"] for c in cells["cells"]) == 5


def test_stats_track_the_seven_day_target(site, safety_official) -> None:  # type: ignore[no-untyped-def]
    on_time = services.submit_report(report_data(), site=site)
    late = services.submit_report(report_data(category="streetlight"), site=site)
    HazardReport.objects.filter(pk=late.pk).update(due_at=late.created_at - timedelta(days=1))
    services.change_status(actor_of(safety_official), on_time.pk, StatusChange(status="resolved", note="완료"))
    stats = services.report_stats(HazardReport.objects.filter(site=site))
    assert stats.open == 1 and stats.overdue == 1 and stats.resolved_within_target == 1


def test_retention_erases_reporter_contacts_a_year_after_closure(site, safety_official) -> None:  # type: ignore[no-untyped-def]
    from maeul.audit import retention

    old = services.submit_report(report_data(reporter_email="old@example.kr", reporter_name="이민수"), site=site)
    recent = services.submit_report(report_data(category="streetlight", reporter_email="new@example.kr"), site=site)
    for r in (old, recent):
        services.change_status(actor_of(safety_official), r.pk, StatusChange(status="resolved", note="완료"))
    HazardReport.objects.filter(pk=old.pk).update(resolved_at=old.created_at - timedelta(days=400))
    record = retention.run()
    assert record.reporter_contacts_erased == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.reporter_email_encrypted == "" and old.reporter_name_encrypted == ""
    assert not ReportFollower.objects.filter(report=old).exclude(email_encrypted="").exists()
    assert recent.reporter_email_encrypted != ""
    assert AuditEntry.objects.filter(action="destroy", resource=services.REPORTER, object_id=str(old.pk)).exists()
    assert AuditEntry.objects.filter(resource=services.REPORTER, household_id__isnull=False).count() == 0

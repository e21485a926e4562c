from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from maeul.audit import retention
from maeul.audit.models import AuditAction, AuditEntry, RetentionRun
from maeul.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_viewing_a_household_is_recorded_with_address(official, household) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(official)
    assert client.get(f"/households/{household.id}/", REMOTE_ADDR="10.1.2.3").status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.VIEW, household_id=household.id)
    assert entry.actor == official and entry.address == "10.1.2.3" and entry.channel == "web"
    assert entry.area_code == household.area_code


def test_site_admins_browse_and_export_access_records(site_admin, official, household) -> None:  # type: ignore[no-untyped-def]
    signed_in(official).get(f"/households/{household.id}/")
    client = signed_in(site_admin)
    page = client.get("/audit/", {"actor": official.username})
    assert page.status_code == 200 and official.username in page.content.decode()
    assert client.post("/audit/export/", {"reason": "x"}).status_code == 200  # reason too short: form again
    response = client.post("/audit/export/", {"reason": "분기별 접속기록 점검"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert official.username in response.content.decode("utf-8-sig")
    assert AuditEntry.objects.filter(
        action=AuditAction.EXPORT, resource="audit", reason="분기별 접속기록 점검"
    ).exists()
    assert signed_in(official).get("/audit/").status_code == 403


def test_retention_keeps_two_years_and_runs_daily(site, household) -> None:  # type: ignore[no-untyped-def]
    old = AuditEntry.objects.create(
        at=timezone.now() - timedelta(days=800), action="view", resource="household", site_id=site.pk
    )
    recent = AuditEntry.objects.create(
        at=timezone.now() - timedelta(days=700), action="view", resource="household", site_id=site.pk
    )
    assert retention.due()
    call_command("retention")
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(pk=recent.pk).exists()
    assert RetentionRun.objects.get().audit_rows_deleted == 1
    assert not retention.due()  # derived from the persisted last run
    call_command("worker", "--once")
    assert RetentionRun.objects.count() == 1

"""The retention job: drop access records past each site's period (never under two years) and destroy
personal data past its retention date. The worker runs it daily; its schedule derives from RetentionRun."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from maeul.accounts.principal import Principal
from maeul.audit import services as audit
from maeul.audit.models import RetentionRun
from maeul.audit.services import Actor
from maeul.sites.settings_schema import AUDIT_RETENTION_FLOOR_DAYS

WORKER = Actor(principal=Principal(user_id=None, username="worker", role=None, site_id=None), channel="worker")
INTERVAL = timedelta(hours=24)


def due() -> bool:
    last = RetentionRun.objects.exclude(finished_at=None).first()
    return last is None or last.started_at < timezone.now() - INTERVAL


def run() -> RetentionRun:
    from maeul.disaster import services as disaster
    from maeul.people import services as people
    from maeul.safety import services as safety
    from maeul.sensing import services as sensing
    from maeul.sites.models import Site
    from maeul.sites.services import settings_of

    record = RetentionRun.objects.create()
    deleted = 0
    for site in Site.objects.all():
        days = max(settings_of(site).audit_retention_days, AUDIT_RETENTION_FLOOR_DAYS)
        deleted += audit.purge_older_than(site.pk, days)
    deleted += audit.purge_older_than(None, AUDIT_RETENTION_FLOOR_DAYS)
    record.audit_rows_deleted = deleted
    record.households_destroyed = people.destroy_expired(WORKER)
    record.reporter_contacts_erased = safety.erase_reporter_contacts(WORKER)
    disaster.erase_destroyed_notes(WORKER)  # roll-call notes about households whose data was just destroyed
    sensing.apply_retention()  # raw readings to hourly roll-ups; expired roll-ups, dead letters, delivery keys
    record.finished_at = timezone.now()
    record.save()
    return record

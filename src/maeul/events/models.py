"""The domain-event record: what happened, when, where, to which household or report, by whom.

Every module appends here through ``events.services.record``; programme results are computed from these
rows, never typed in. Events carry codes and identifiers only — no names, phones or health details — so
they can be aggregated across sites without exposing personal data.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from maeul.areas.models import Area
from maeul.sites.models import Site


class DomainEvent(models.Model):
    kind = models.CharField(max_length=64, db_index=True, help_text="Dotted name, e.g. household.registered")
    occurred_at = models.DateTimeField(db_index=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    household_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    subject_type = models.CharField(max_length=40, blank=True, help_text="e.g. household, report, alert")
    subject_id = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_role = models.CharField(max_length=24, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["site", "kind", "occurred_at"]),
            models.Index(fields=["household_id", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d %H:%M}"

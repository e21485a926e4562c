"""How Type 1's domain events read on timelines and home pages (the events carry codes, never personal data)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

LABELS: dict[str, Promise] = {
    "hazard.reported": _("Hazard reported"),
    "hazard.followed": _("Someone followed a hazard report"),
    "hazard.triaged": _("Hazard report triaged and routed"),
    "hazard.rerouted": _("Hazard report moved to another category"),
    "hazard.in_progress": _("Hazard work in progress"),
    "hazard.resolved": _("Hazard resolved"),
    "hazard.rejected": _("Hazard report closed: not a hazard"),
    "hazard.duplicate": _("Hazard report marked as a duplicate"),
    "safety.member_added": _("Consultative body member added"),
    "safety.meeting": _("Consultative body meeting recorded"),
    "safety.activity": _("Patrol, inspection or campaign recorded"),
    "safety.task_created": _("Improvement task created"),
    "safety.task_planned": _("Improvement task planned"),
    "safety.task_in_progress": _("Improvement task in progress"),
    "safety.task_done": _("Improvement task done, awaiting confirmation"),
    "safety.task_cancelled": _("Improvement task cancelled"),
    "safety.task_closed": _("Improvement task confirmed and closed"),
    "safety.checklist": _("Seasonal checklist item done"),
}

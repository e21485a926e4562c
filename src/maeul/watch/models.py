"""Alerts and who is reached about them.

An alert is raised by a detector (or by ingestion going blind), stays open until a person acknowledges it, and is
resolved with an outcome. Its escalation timer is a column (``next_escalation_at``), so a restarted worker carries
on where the last one stopped. Detector state is persisted per household for the same reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from maeul.areas.models import Area
from maeul.people.models import Household
from maeul.sites.models import Site


class AlertKind(models.TextChoices):
    INACTIVITY = "inactivity", _("No activity")
    SOS = "sos", _("SOS button")
    SMOKE = "smoke", _("Smoke")
    GAS = "gas", _("Gas")
    POWER_ANOMALY = "power_anomaly", _("Unusual power use")
    TEMPERATURE = "temperature", _("Indoor temperature")
    DEVICE_OFFLINE = "device_offline", _("Device offline")
    BATTERY_LOW = "battery_low", _("Battery low")
    INGESTION_BLIND = "ingestion_blind", _("Monitoring interrupted")
    # Raised by the safety net (``maeul.safetynet``): a check-in overdue past its grace, repeated "no answer".
    CHECK_IN_MISSED = "check_in_missed", _("Check-in missed")
    NO_ANSWER = "no_answer", _("No answer at check-ins")


# Device health is kept apart from person risk: "we cannot see" is not "the person is in trouble".
DEVICE_KINDS = frozenset({AlertKind.DEVICE_OFFLINE, AlertKind.BATTERY_LOW, AlertKind.INGESTION_BLIND})


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    WARNING = "warning", _("Warning")
    DEVICE = "device", _("Device")
    SYSTEM = "system", _("System")


SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.WARNING: 2, Severity.DEVICE: 3, Severity.SYSTEM: 4}


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Outcome(models.TextChoices):
    FALSE_ALARM = "false_alarm", _("False alarm")
    PERSON_FINE = "person_fine", _("Person fine")
    NEEDED_HELP = "needed_help", _("Needed help")
    EMERGENCY_SERVICES = "emergency_services", _("Emergency services called")
    FOUND_DECEASED = "found_deceased", _("Found deceased")
    DEVICE_FIXED = "device_fixed", _("Device fixed or replaced")
    RECOVERED = "recovered", _("Monitoring recovered")


# Outcomes that say the alert was right about the person; false alarms widen the detector, these narrow it back.
CONFIRMED_OUTCOMES = frozenset({Outcome.NEEDED_HELP, Outcome.EMERGENCY_SERVICES, Outcome.FOUND_DECEASED})


class Alert(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    cause = models.CharField(max_length=220, help_text="What raised it, e.g. inactivity or sos:<device>")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    device = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=400, help_text="In English, as replay prints it")
    reason_code = models.CharField(max_length=40, blank=True)
    reason_params = models.JSONField(default=dict)
    raised_at = models.DateTimeField(help_text="When the detector decided (the reading's or the clock's time)")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=12, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            # One open alert per cause per household: a cause raises again only after it was resolved.
            models.UniqueConstraint(
                fields=["site", "household", "cause"],
                condition=~Q(status="resolved"),
                name="one_open_alert_per_cause",
            ),
            # The same for site-wide alerts (no household), since NULLs never collide in a unique index.
            models.UniqueConstraint(
                fields=["site", "cause"],
                condition=Q(household__isnull=True) & ~Q(status="resolved"),
                name="one_open_site_alert_per_cause",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "status", "raised_at"]),
            models.Index(fields=["status", "next_escalation_at"]),
            models.Index(fields=["household", "raised_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.household_id} {self.status}"


class StepKind(models.TextChoices):
    RAISED = "raised", _("Raised")
    NOTIFIED = "notified", _("Notified")
    ESCALATED = "escalated", _("Escalated")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    NOTE = "note", _("Note")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")


class AlertStep(models.Model):
    """The alert's history: who was told, by which channel, who took it and what they found."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=StepKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.PositiveSmallIntegerField(default=0)
    recipient = models.CharField(max_length=120, blank=True, help_text="Who, without contact details")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class OnCallShift(models.Model):
    """An official on call outside office hours (nights, weekends, public holidays)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["site", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"


class SiteHoliday(models.Model):
    """A day the site treats as a holiday besides the national public holidays (e.g. a local foundation day)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="site_holiday_once")]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class WatchState(models.Model):
    """A household's detector state as of ``through`` (the last reading it includes); a restarted worker restores
    it and replays the readings stored since."""

    household = models.OneToOneField(Household, on_delete=models.CASCADE, primary_key=True, related_name="+")
    state = models.JSONField()
    through = models.DateTimeField(null=True)
    saved_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"watch state of {self.household_id}"

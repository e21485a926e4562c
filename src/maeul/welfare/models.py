"""Welfare cases: one open case per household, its needs assessment by domain, plan, referrals to partner
organisations' services, follow-ups, and the address/contact verification tasks a check-in can raise.

Free text (summary, plan, notes, results) is personal data and held as Fernet tokens (``*_encrypted``); codes
(source, status, domain, level, outcome, reasons) stay in clear so lists and figures need no decryption.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from maeul.areas.models import Area
from maeul.directory.models import Organization, Service
from maeul.people.models import Consent, Household
from maeul.sites.models import Site


class CaseSource(models.TextChoices):
    IOT_ALERT = "iot_alert", _("Sensor alert")
    CHECK_IN = "check_in", _("Check-in")
    SCREENING = "screening", _("Screening")
    WALK_IN = "walk_in", _("Walk-in")
    REFERRAL = "referral", _("Referral from another organisation")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class CasePriority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class CaseOutcome(models.TextChoices):
    NEEDS_MET = "needs_met", _("Needs met")
    REFERRED_AND_SERVED = "referred_and_served", _("Referred and served")
    CLIENT_REFUSED = "client_refused", _("Client refused")
    MOVED_AWAY = "moved_away", _("Moved away")
    DECEASED = "deceased", _("Deceased")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
    UNABLE_TO_CONTACT = "unable_to_contact", _("Unable to contact")


class Case(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="welfare_cases")
    # Copied from the household when opened, so an official's case list filters without joining households.
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=12, choices=CaseSource.choices)
    source_ref = models.CharField(max_length=64, blank=True, help_text="The alert, check-in or screening id")
    status = models.CharField(max_length=8, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    priority = models.PositiveSmallIntegerField(choices=CasePriority.choices, default=CasePriority.NORMAL)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary_encrypted = models.TextField(blank=True)
    plan_encrypted = models.TextField(blank=True)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=CaseOutcome.choices, blank=True)
    closing_note_encrypted = models.TextField(blank=True)

    class Meta:
        ordering = ["-priority", "-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["household"], condition=Q(status="open"), name="welfare_one_open_case"),
        ]
        indexes = [
            # The case list: a site's open cases in priority/recency order, area and assignee read from the index
            # so a scan in order stops after one page (benchmarks/README.md).
            models.Index(
                fields=["site", "-priority", "-updated_at", "-id", "area", "assigned_to"],
                condition=Q(status="open"),
                name="welfare_case_open_order",
            ),
            models.Index(
                fields=["site", "status", "area", "-priority", "-updated_at"],
                name="welfare_case_by_area",
            ),
            models.Index(
                fields=["assigned_to", "status", "-priority", "-updated_at"],
                name="welfare_case_by_assignee",
            ),
            models.Index(fields=["household", "-opened_at"], name="welfare_case_by_household"),
        ]

    def __str__(self) -> str:
        return f"case {self.pk} of {self.household_id}"


class CaseEventKind(models.TextChoices):
    OPENED = "opened", _("Case opened")
    SOURCE_ADDED = "source_added", _("New signal recorded")
    ASSESSED = "assessed", _("Need assessed")
    PLAN_CHANGED = "plan_changed", _("Plan changed")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    ASSIGNED = "assigned", _("Assigned")
    HANDED_OVER = "handed_over", _("Handed over")
    REFERRAL = "referral", _("Referral")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Case closed")


class CaseEvent(models.Model):
    """The case's history. ``data`` carries codes only (source, domain, level, status), never personal data."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=CaseEventKind.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["case_id", "-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"


class NeedLevel(models.IntegerChoices):
    NONE = 0, _("None")
    LOW = 1, _("Low")
    MODERATE = 2, _("Moderate")
    HIGH = 3, _("High")
    CRITICAL = 4, _("Critical")


class NeedAssessment(models.Model):
    """One assessment of one need domain; the latest per domain is the case's current picture."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assessments")
    domain = models.CharField(max_length=16, help_text="A need domain of the resource directory (income, food, …)")
    level = models.PositiveSmallIntegerField(choices=NeedLevel.choices)
    note_encrypted = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["case_id", "domain", "-at", "-id"]

    def __str__(self) -> str:
        return f"{self.domain}={self.level} on case {self.case_id}"


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    DELIVERED = "delivered", _("Service delivered")
    CLOSED_UNSUCCESSFUL = "closed_unsuccessful", _("Closed unsuccessful")


class UnsuccessfulReason(models.TextChoices):
    CLIENT_REFUSED = "client_refused", _("Client refused")
    NO_CAPACITY = "no_capacity", _("No capacity")
    UNABLE_TO_CONTACT = "unable_to_contact", _("Unable to contact")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")


class Referral(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    # Copied from the service: the partner's inbox filters on it, and it stays if the service moves.
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    need_domain = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.SENT)
    note_encrypted = models.TextField(blank=True, help_text="What the partner needs to know, written by the official")
    # The consent to sharing with partner organisations in force when the referral was sent.
    consent = models.ForeignKey(Consent, null=True, on_delete=models.SET_NULL, related_name="+")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason_encrypted = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    unsuccessful_reason = models.CharField(max_length=20, choices=UnsuccessfulReason.choices, blank=True)
    response_note_encrypted = models.TextField(blank=True, help_text="The partner's note on delivery or closure")
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status", "-updated_at"], name="welfare_referral_inbox"),
            models.Index(fields=["organization", "-updated_at"], name="welfare_referral_by_org"),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} of case {self.case_id}"


class ReferralEvent(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    reason = models.CharField(max_length=20, blank=True, help_text="An unsuccessful-closure reason code")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["referral_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status} on referral {self.referral_id}"


class FollowUp(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    due_on = models.DateField()
    what_encrypted = models.TextField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result_encrypted = models.TextField(blank=True)
    cancelled = models.BooleanField(default=False, help_text="Closed with its case before it was done")

    class Meta:
        ordering = ["case_id", "due_on", "id"]
        indexes = [models.Index(fields=["assigned_to", "done_at", "due_on"], name="welfare_followup_open")]

    def __str__(self) -> str:
        return f"follow-up {self.pk} of case {self.case_id}"


class VerificationKind(models.TextChoices):
    ADDRESS = "address", _("Address")
    CONTACT = "contact", _("Contact")


class VerificationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class VerificationResolution(models.TextChoices):
    VERIFIED = "verified", _("Verified as recorded")
    CORRECTED = "corrected", _("Corrected")
    UNREACHABLE = "unreachable", _("Unreachable")


class VerificationTask(models.Model):
    """Check a household's address or contact, e.g. after a helper found nobody at the registered address."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="verification_tasks")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=VerificationKind.choices)
    source = models.CharField(max_length=20, help_text="What raised it, e.g. check_in")
    source_ref = models.CharField(max_length=64, blank=True)
    note_encrypted = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=VerificationStatus.choices, default=VerificationStatus.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=12, choices=VerificationResolution.choices, blank=True)
    resolution_note_encrypted = models.TextField(blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "kind"], condition=Q(status="open"), name="welfare_one_open_verification"
            ),
        ]
        indexes = [models.Index(fields=["site", "status", "area", "opened_at"], name="welfare_verification_list")]

    def __str__(self) -> str:
        return f"{self.kind} verification of {self.household_id}"

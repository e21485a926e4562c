"""Screening records: runs and their quarantine, the ranked households (candidates) with their explanation, the
outreach result of each, model versions with their card and approval, the national system's flagged list, and
PIPA Art. 37-2 requests (explanation, human review).

Households are known to screening by the pseudonymous key their sources use (``household_key``); a key is linked to
a household of the register (``SubjectLink``) when the site knows it, which is when Maeul's own signals join in and
a result can open a case or an address check. Names, addresses, phones and notes are encrypted
(``maeul.protection.fields``); codes stay in clear so lists and figures need no decryption.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from maeul.areas.models import Area
from maeul.people.models import Household
from maeul.sites.models import Site


class ModelStatus(models.TextChoices):
    DRAFT = "draft", _("Waiting for approval")
    APPROVED = "approved", _("Approved, in use")
    RETIRED = "retired", _("Replaced")
    REJECTED = "rejected", _("Not approved")


class ModelVersion(models.Model):
    """A trained risk model and its card. Used for ranking only once an official other than its trainer approves it;
    approving one retires the one before."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ModelStatus.choices, default=ModelStatus.DRAFT)
    algorithm = models.CharField(max_length=60)
    trained_at = models.DateTimeField()
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    data_from = models.DateField(null=True, help_text="Earliest outcome trained on")
    data_until = models.DateField(null=True, help_text="Latest outcome trained on")
    train_rows = models.PositiveIntegerField()
    train_in_need = models.PositiveIntegerField()
    evaluation = models.JSONField(help_text="The evaluation report on held-out random visits, beside the rule")
    blob = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["site", "version"], name="screening_model_version"),
            models.UniqueConstraint(
                fields=["site"], condition=models.Q(status="approved"), name="screening_one_model_in_use"
            ),
        ]

    def __str__(self) -> str:
        return f"model v{self.version} of site {self.site_id}"


class RunStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected, nothing applied")


class ScreeningRun(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=7, help_text="Screening round, e.g. 2026-06 (the sixth two-month round)")
    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=RunStatus.choices)
    scorer = models.CharField(max_length=8, help_text="rule or model")
    model = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="runs")
    engine = models.CharField(max_length=10, default="duckdb")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    households = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    capacity_per_area = models.PositiveIntegerField()
    excluded = models.PositiveIntegerField(default=0, help_text="Skipped: already supported or checked recently")
    sources = models.JSONField(default=list, help_text="Files with their institution and refresh date")
    stale = models.JSONField(default=list)
    problems = models.JSONField(default=list, help_text="Why a rejected run was rejected (file, row, column, reason)")
    timings = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"screening run {self.pk} ({self.period})"


class QuarantinedRow(models.Model):
    run = models.ForeignKey(ScreeningRun, on_delete=models.CASCADE, related_name="quarantine")
    file = models.CharField(max_length=100)
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=64)
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["file", "row", "column"]

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}"


class SubjectLink(models.Model):
    """The pseudonymous key sources use for a household of the register, as the site knows it."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    household_key = models.CharField(max_length=64)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField()
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "household_key"], name="screening_one_link_per_key"),
            models.UniqueConstraint(fields=["household"], name="screening_one_key_per_household"),
        ]

    def __str__(self) -> str:
        return self.household_key


class FlaggedPerson(models.Model):
    """One row of the national blind-spot system's bimonthly list, kept under its national case number so it is
    never entered twice and its result can be reported back."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    national_case_no = models.CharField(max_length=32)
    round = models.CharField(max_length=7)
    household_key = models.CharField(max_length=64, blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    name_encrypted = models.TextField()
    birth_year = models.PositiveSmallIntegerField(null=True)
    sex = models.CharField(max_length=1, blank=True)
    address_encrypted = models.TextField()
    address_index = models.CharField(max_length=32, db_index=True)
    phone_encrypted = models.TextField(blank=True)
    indicators = models.JSONField(default=list)
    imported_at = models.DateTimeField()
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["round", "national_case_no"]
        constraints = [
            models.UniqueConstraint(fields=["site", "national_case_no"], name="screening_national_case_once"),
        ]

    def __str__(self) -> str:
        return self.national_case_no


class Candidate(models.Model):
    """A household on a run's outreach list: its rank in the area, the score, the indicators it had and the
    factors that explain the rank."""

    run = models.ForeignKey(ScreeningRun, on_delete=models.CASCADE, related_name="candidates")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    household_key = models.CharField(max_length=64)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    flagged = models.ForeignKey(FlaggedPerson, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rank = models.PositiveIntegerField()
    score = models.FloatField()
    indicator_count = models.PositiveSmallIntegerField()
    features = models.JSONField(help_text="Every indicator's value at the run, for the next training")
    sex = models.CharField(max_length=1, blank=True)
    age_band = models.CharField(max_length=8, blank=True)
    factors = models.JSONField(help_text="[{code, value, weight}] most important first")

    class Meta:
        ordering = ["area", "rank"]
        constraints = [models.UniqueConstraint(fields=["run", "household_key"], name="screening_candidate_once")]
        indexes = [models.Index(fields=["site", "household_key"], name="screening_candidate_key")]

    def __str__(self) -> str:
        return f"{self.household_key} #{self.rank}"


class Method(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")


class Result(models.TextChoices):
    IN_NEED = "in_need", _("In need (confirmed by a person)")
    NOT_IN_NEED = "not_in_need", _("Not in need")
    ALREADY_SUPPORTED = "already_supported", _("Already supported")
    NO_CONTACT = "no_contact", _("No contact")
    WRONG_ADDRESS = "wrong_address", _("Not at this address")
    REFUSED = "refused", _("Declined to talk")


class OutreachStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    VERIFYING = "verifying", _("Address or contact being checked")


class Outreach(models.Model):
    """The follow-up of one candidate: who goes, how, and what they found. The result is the label of the next
    training; "no contact" and "wrong address" open a verification task and keep the outreach open."""

    candidate = models.OneToOneField(Candidate, on_delete=models.CASCADE, related_name="outreach")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(max_length=6, choices=Method.choices, default=Method.VISIT)
    selection = models.CharField(max_length=8, default="ranked", help_text="ranked, or random (audit sample)")
    status = models.CharField(max_length=10, choices=OutreachStatus.choices, default=OutreachStatus.OPEN)
    result = models.CharField(max_length=20, choices=Result.choices, blank=True)
    result_note_encrypted = models.TextField(blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    case_id = models.PositiveIntegerField(null=True, blank=True, help_text="The welfare case opened")
    verification_task_id = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["assigned_to", "status"], name="screening_outreach_mine")]

    def __str__(self) -> str:
        return f"outreach {self.pk}"


class ReviewKind(models.TextChoices):
    EXPLANATION = "explanation", _("Explanation of the screening")
    HUMAN_REVIEW = "human_review", _("Review by a person")


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")


class ReviewRequest(models.Model):
    """A resident's request under PIPA Art. 37-2: why they were flagged, or that a person review it. The explanation
    given is kept as it was given; the answer is due within ``RESPONSE_DAYS``."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=12, choices=ReviewKind.choices)
    received_on = models.DateField()
    due_on = models.DateField()
    channel = models.CharField(max_length=20, help_text="in person, phone, letter, online")
    request_encrypted = models.TextField(blank=True)
    explanation_given_encrypted = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    answer_encrypted = models.TextField(blank=True)
    answered_on = models.DateField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["status", "due_on"]

    def __str__(self) -> str:
        return f"review {self.pk}"

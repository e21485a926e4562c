"""The ministry's programme: calls for proposals, local governments' applications, expert evaluation, grants
and their execution, and the baselines sites' results are compared against.

Nothing here holds a resident's data. Results are never stored as typed figures: they are computed from the other
modules through the KPI registry (``kpis.py``); only the baseline measured before launch is kept, as the registry
computed it then, so later corrections cannot move it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from maeul.areas.models import Area
from maeul.sites.models import Site


class AllocationRule(models.TextChoices):
    SCORE_BANDS = "score_bands", _("By score band")
    PRO_RATA = "pro_rata", _("Pro rata to the requests")


class Normalisation(models.TextChoices):
    Z_SCORE = "z_score", _("Standard scores per expert (z-scores)")
    TRIMMED_MEAN = "trimmed_mean", _("Trimmed mean (highest and lowest total dropped)")


class CallStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for applications")
    EVALUATION = "evaluation", _("Under evaluation")
    DECIDED = "decided", _("Decided")


class Call(models.Model):
    """A call for proposals. Defaults follow the programme's announcement: up to KRW 50 M national funding per
    local government, KRW 1 B in all, national funds at most 50 % of each budget, 22 sites."""

    year = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    types = models.JSONField(default=list, help_text="Programme types offered, e.g. [1, 2]")
    cap_per_local_government_krw = models.PositiveBigIntegerField(default=50_000_000)
    national_total_krw = models.PositiveBigIntegerField(default=1_000_000_000)
    national_share_percent = models.PositiveSmallIntegerField(default=50)
    sites_to_select = models.PositiveSmallIntegerField(default=22)
    opens_on = models.DateField()
    closes_on = models.DateField(help_text="Last day applications may be submitted")
    evaluation_due_on = models.DateField()
    results_on = models.DateField(help_text="When results are announced")
    execution_ends_on = models.DateField(help_text="Last day grant money may be spent")
    report_due_days = models.PositiveSmallIntegerField(default=20, help_text="Days after a quarter's end")
    baseline_days = models.PositiveSmallIntegerField(default=90, help_text="Days before launch the baseline covers")
    allocation_rule = models.CharField(
        max_length=12, choices=AllocationRule.choices, default=AllocationRule.SCORE_BANDS
    )
    bands = models.JSONField(default=list, help_text='[{"ranks": 8, "amount_krw": 50000000}, ...] from rank 1')
    normalisation = models.CharField(max_length=14, choices=Normalisation.choices, default=Normalisation.Z_SCORE)
    min_experts_per_application = models.PositiveSmallIntegerField(default=3)
    required_attachments = models.JSONField(default=list, help_text="Attachment kinds every application needs")
    status = models.CharField(max_length=12, choices=CallStatus.choices, default=CallStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "-id"]

    def __str__(self) -> str:
        return self.title


class Criterion(models.Model):
    """One line of the rubric: an expert gives 0 to ``points`` (the criterion's weight; the points sum to 100)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="criteria")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=400, blank=True)
    points = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "code"], name="one_criterion_code_per_call")]

    def __str__(self) -> str:
        return f"{self.name} ({self.points})"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, eligible")
    REJECTED = "rejected", _("Rejected: does not meet the call")
    SELECTED = "selected", _("Selected")
    NOT_SELECTED = "not_selected", _("Not selected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Application(models.Model):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="applications")
    local_government = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=24, unique=True)
    programme_type = models.PositiveSmallIntegerField()
    target_areas = models.ManyToManyField(Area, related_name="+", blank=True)
    title = models.CharField(max_length=200)
    plan = models.TextField(blank=True)
    status = models.CharField(max_length=14, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT)
    problems = models.JSONField(default=list, help_text="Why it was rejected: [{field, code, message}]")
    panel = models.ForeignKey("Panel", null=True, blank=True, on_delete=models.SET_NULL, related_name="applications")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["reference"]
        constraints = [
            # One live application per local government per call.
            models.UniqueConstraint(
                fields=["call", "local_government"],
                condition=~models.Q(status="withdrawn"),
                name="one_application_per_local_government",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class BudgetCategory(models.TextChoices):
    DEVICES = "devices", _("IoT devices and installation")
    PLATFORM = "platform", _("Platform and data")
    COMMUNITY = "community", _("Safety body and community activities")
    SAFETY_NET = "safety_net", _("Human safety net")
    IMPROVEMENT = "improvement", _("Safety improvements")
    TRAINING = "training", _("Training and publicity")
    OTHER = "other", _("Other")


class BudgetLine(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="budget_lines")
    category = models.CharField(max_length=12, choices=BudgetCategory.choices)
    description = models.CharField(max_length=200)
    national_krw = models.PositiveBigIntegerField(default=0)
    local_krw = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class KpiTarget(models.Model):
    """What the applicant promises on a registered KPI (``kpis.REGISTRY``) by the end of the programme year."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="kpi_targets")
    kpi = models.CharField(max_length=40)
    target = models.FloatField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["application", "kpi"], name="one_target_per_kpi")]

    def __str__(self) -> str:
        return f"{self.kpi} → {self.target}"


class AttachmentKind(models.TextChoices):
    PLAN = "plan", _("Project plan")
    MATCHING_FUNDS = "matching_funds", _("Commitment of local matching funds")
    OTHER = "other", _("Other")


class Attachment(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=16, choices=AttachmentKind.choices)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to="programme/%Y/")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


# --- evaluation -------------------------------------------------------------------------------------------------


class Expert(models.Model):
    """An outside expert with an ``expert`` account; their name is the account's display name."""

    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="programme_expert")
    affiliation = models.CharField(max_length=120)
    field = models.CharField(max_length=120, blank=True)

    def __str__(self) -> str:
        return self.account.get_full_name() or self.account.get_username()


class Panel(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="panels")
    name = models.CharField(max_length=120)
    experts = models.ManyToManyField(Expert, related_name="panels")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ConflictDeclaration(models.Model):
    """An expert's declaration on one application, required before scoring it. A conflicted expert cannot score."""

    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="declarations")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="declarations")
    conflicted = models.BooleanField()
    reason = models.CharField(max_length=300, blank=True)
    declared_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["expert", "application"], name="one_declaration_each")]

    def __str__(self) -> str:
        return f"{self.expert} / {self.application}: {'conflict' if self.conflicted else 'none'}"


class Scoresheet(models.Model):
    """One expert's scores for one application; once submitted it is final and the others' stay hidden to them."""

    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="scoresheets")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="scoresheets")
    scores = models.JSONField(default=dict, help_text="criterion code → points")
    total = models.FloatField()
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["expert", "application"], name="one_scoresheet_each")]

    def __str__(self) -> str:
        return f"{self.expert} / {self.application}: {self.total}"


class Result(models.Model):
    """Where an eligible application ended after normalisation and ranking (kept as computed, with the method)."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="result")
    raw_mean = models.FloatField()
    score = models.FloatField(help_text="Normalised score on the 100-point scale")
    tie_break = models.FloatField(help_text="Mean points on the highest-weighted criterion")
    experts = models.PositiveSmallIntegerField()
    rank = models.PositiveSmallIntegerField()
    tie_note = models.CharField(max_length=200, blank=True)
    selected = models.BooleanField(default=False)
    awarded_krw = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return f"{self.application} #{self.rank}"


class Notice(models.Model):
    """The result notice a local government receives: selected with its amount, not selected, or rejected."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="notice")
    outcome = models.CharField(max_length=14, choices=ApplicationStatus.choices)
    body = models.TextField()
    issued_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.application}: {self.outcome}"


class RecordKind(models.TextChoices):
    CALL_CREATED = "call_created", _("Call created")
    CALL_CHANGED = "call_changed", _("Call changed")
    CALL_OPENED = "call_opened", _("Call opened")
    CALL_CLOSED = "call_closed", _("Applications closed")
    APPLICATION_SUBMITTED = "application_submitted", _("Application submitted")
    APPLICATION_REJECTED = "application_rejected", _("Application rejected")
    APPLICATION_WITHDRAWN = "application_withdrawn", _("Application withdrawn")
    PANEL_FORMED = "panel_formed", _("Panel formed")
    CONFLICT_DECLARED = "conflict_declared", _("Conflict of interest declared")
    NO_CONFLICT_DECLARED = "no_conflict_declared", _("No conflict declared")
    SCORED = "scored", _("Scoresheet submitted")
    RANKED = "ranked", _("Ranking computed")
    SELECTED = "selected", _("Sites selected and amounts allocated")
    NOTICES_ISSUED = "notices_issued", _("Result notices issued")
    GRANT_LINKED = "grant_linked", _("Grant linked to its site")
    SPENDING_RECORDED = "spending_recorded", _("Spending recorded")
    QUARTER_REPORTED = "quarter_reported", _("Quarterly report submitted")
    BASELINE_MEASURED = "baseline_measured", _("Baseline measured")


class Record(models.Model):
    """The programme's own ledger of every step, in order: who did what to which call or application."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="records")
    application = models.ForeignKey(Application, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=RecordKind.choices)
    at = models.DateTimeField()
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=24, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


# --- grants -----------------------------------------------------------------------------------------------------


class Grant(models.Model):
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="grant")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="grants")
    national_krw = models.PositiveBigIntegerField()
    local_krw = models.PositiveBigIntegerField()
    launch_date = models.DateField(null=True, blank=True, help_text="When the site launched the programme")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.application.reference}: {self.national_krw:,}"


class GrantLine(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="lines")
    category = models.CharField(max_length=12, choices=BudgetCategory.choices)
    description = models.CharField(max_length=200)
    national_budget_krw = models.PositiveBigIntegerField()
    local_budget_krw = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class Spending(models.Model):
    line = models.ForeignKey(GrantLine, on_delete=models.PROTECT, related_name="spending")
    spent_on = models.DateField()
    national_krw = models.PositiveBigIntegerField(default=0)
    local_krw = models.PositiveBigIntegerField(default=0)
    description = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["spent_on", "id"]

    def __str__(self) -> str:
        return f"{self.spent_on} {self.description}"


class QuarterlyReport(models.Model):
    """A quarter's report: the narrative the local government writes and, fixed at submission, budget versus
    spending per line up to the quarter's end."""

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="quarterly_reports")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    progress = models.TextField()
    issues = models.TextField(blank=True)
    lines = models.JSONField(default=list, help_text="Per line: budget and spent to the quarter's end")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["year", "quarter"]
        constraints = [models.UniqueConstraint(fields=["grant", "year", "quarter"], name="one_report_per_quarter")]

    def __str__(self) -> str:
        return f"{self.grant} {self.year} Q{self.quarter}"


class Baseline(models.Model):
    """A KPI's value over the ``baseline_days`` before the site's launch, as the registry computed it."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    kpi = models.CharField(max_length=40)
    since = models.DateField()
    until = models.DateField(help_text="Exclusive: the launch date")
    value = models.FloatField(null=True, blank=True)
    base = models.IntegerField(null=True, blank=True, help_text="The count the value is computed from")
    measured_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "kpi"], name="one_baseline_per_site_kpi")]

    def __str__(self) -> str:
        return f"{self.site} {self.kpi} = {self.value}"

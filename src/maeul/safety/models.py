"""Type 1: the safety consultative body, hazard reports and the improvement tasks they lead to.

Hazards are about places, not people; what is personal here is who reported them and how to reach the
consultative body's members. Those fields are encrypted at rest like the registry's, and reads are logged.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from maeul.areas.models import Area
from maeul.sites.models import Site

# --- the consultative body ---------------------------------------------------------------------------------


class MemberKind(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    VILLAGE_HEAD = "village_head", _("Village or tong head")
    SHOP_OWNER = "shop_owner", _("Shop owner")
    RETIRED_OFFICIAL = "retired_official", _("Retired public official")
    VOLUNTEER_FIREFIGHTER = "volunteer_firefighter", _("Volunteer firefighter")
    OTHER = "other", _("Other")


class BodyRole(models.TextChoices):
    CHAIR = "chair", _("Chair")
    SECRETARY = "secretary", _("Secretary")
    MEMBER = "member", _("Member")


class BodyMember(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="body_members")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="body_members")
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="body_member"
    )
    name_encrypted = models.TextField()
    phone_encrypted = models.TextField(blank=True)
    email_encrypted = models.TextField(blank=True)
    kind = models.CharField(max_length=24, choices=MemberKind.choices, default=MemberKind.RESIDENT)
    role = models.CharField(max_length=12, choices=BodyRole.choices, default=BodyRole.MEMBER)
    term_start = models.DateField()
    term_end = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["area_id", "role", "id"]
        indexes = [models.Index(fields=["site", "area", "term_end"])]

    def __str__(self) -> str:
        return f"member {self.pk} ({self.area_id}, {self.role})"


class Meeting(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="safety_meetings")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="safety_meetings")
    held_at = models.DateTimeField()
    place = models.CharField(max_length=200, blank=True)
    agenda = models.TextField()
    minutes = models.TextField(blank=True)
    attendees = models.ManyToManyField(BodyMember, blank=True, related_name="meetings")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_at"]

    def __str__(self) -> str:
        return f"meeting {self.area_id} {self.held_at:%Y-%m-%d}"


class ActivityKind(models.TextChoices):
    PATROL = "patrol", _("Safety patrol")
    INSPECTION = "inspection", _("Inspection")
    CAMPAIGN = "campaign", _("Campaign")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class Activity(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="safety_activities")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="safety_activities")
    kind = models.CharField(max_length=12, choices=ActivityKind.choices)
    held_on = models.DateField()
    hours = models.DecimalField(max_digits=5, decimal_places=1, help_text="Hours each participant spent")
    participants = models.ManyToManyField(BodyMember, blank=True, related_name="activities")
    summary = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.area_id} {self.held_on}"


# --- routing and categories --------------------------------------------------------------------------------


class ResponderKind(models.TextChoices):
    DEPARTMENT = "department", _("Department of the local government")
    AGENCY = "agency", _("Outside agency")


class Responder(models.Model):
    """Who fixes a kind of hazard: a department of the si/gun/gu or an outside agency (KEPCO, police...)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="responders")
    code = models.SlugField(max_length=40)
    name_ko = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=ResponderKind.choices, default=ResponderKind.DEPARTMENT)
    contact = models.CharField(max_length=200, blank=True, help_text="The office's public phone or e-mail")

    class Meta:
        ordering = ["kind", "name_ko"]
        constraints = [models.UniqueConstraint(fields=["site", "code"], name="safety_responder_code")]

    def __str__(self) -> str:
        return self.name_ko

    @property
    def name(self) -> str:
        """The name in the language of the request (Korean unless English was chosen)."""
        return self.name_en if (get_language() or "ko").startswith("en") else self.name_ko


class Catalogue(models.TextChoices):
    URBAN = "urban", _("Urban dong")
    RURAL = "rural", _("Rural eup/myeon")
    BOTH = "both", _("Both")


class HazardCategory(models.Model):
    """A kind of hazard; also an Open311 service (``code`` is its service_code)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="hazard_categories")
    code = models.SlugField(max_length=40)
    group = models.CharField(max_length=40, help_text="Open311 group, e.g. road, disaster, building")
    name_ko = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    description_ko = models.CharField(max_length=300, blank=True)
    description_en = models.CharField(max_length=300, blank=True)
    keywords = models.CharField(max_length=200, blank=True)
    catalogue = models.CharField(max_length=8, choices=Catalogue.choices, default=Catalogue.BOTH)
    responder = models.ForeignKey(Responder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Extra questions (Open311 service definition attributes), validated by safety.schemas.Attribute.
    attributes = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        constraints = [models.UniqueConstraint(fields=["site", "code"], name="safety_category_code")]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        """The name in the language of the request (Korean unless English was chosen)."""
        return self.name_en if (get_language() or "ko").startswith("en") else self.name_ko


# --- hazard reports ----------------------------------------------------------------------------------------


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ROUTED = "routed", _("Routed")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    DUPLICATE = "duplicate", _("Duplicate")
    REJECTED = "rejected", _("Not a hazard")


OPEN_STATUSES = (ReportStatus.SUBMITTED, ReportStatus.ROUTED, ReportStatus.IN_PROGRESS)


class ReportSource(models.TextChoices):
    WEB = "web", _("Web form")
    MEMBER = "member", _("Consultative body member")
    OPEN311 = "open311", _("Open311 client")
    INSPECTION = "inspection", _("Inspection")


class HazardReport(models.Model):
    reference = models.CharField(max_length=20, unique=True, help_text="Public reference, e.g. R-000123")
    token = models.CharField(max_length=40, unique=True, help_text="The reporter's tracking token")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="hazard_reports")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="hazard_reports")
    category = models.ForeignKey(HazardCategory, on_delete=models.PROTECT, related_name="reports")
    latitude = models.FloatField()
    longitude = models.FloatField()
    address = models.CharField(max_length=300, blank=True, help_text="Where the hazard is (a place, not a home)")
    location_approximate = models.BooleanField(
        default=False, help_text="Only an address was given: the point is the eup/myeon/dong's centre"
    )
    description = models.TextField()
    attributes = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=12, choices=ReportSource.choices, default=ReportSource.WEB)
    status = models.CharField(max_length=12, choices=ReportStatus.choices, default=ReportStatus.SUBMITTED)
    status_notes = models.CharField(max_length=500, blank=True, help_text="Public note on the latest status")
    # Triage: a 5×5 likelihood × severity matrix, plus an urgent flag for anything needing action today.
    likelihood = models.PositiveSmallIntegerField(null=True, blank=True)
    severity = models.PositiveSmallIntegerField(null=True, blank=True)
    urgent = models.BooleanField(default=False)
    responder = models.ForeignKey(Responder, null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    task = models.ForeignKey(
        "ImprovementTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    photos_public = models.BooleanField(default=False, help_text="Photos shown to the public once an official agrees")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="hazard_reports"
    )
    reporter_name_encrypted = models.TextField(blank=True)
    reporter_phone_encrypted = models.TextField(blank=True)
    reporter_email_encrypted = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    due_at = models.DateTimeField(help_text="The processing target (7 days unless the site says otherwise)")
    triaged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Lists in filing order, and their deep pages, from the index alone; area last, for an official's scope.
            models.Index(fields=["site", "created_at", "id", "area"], name="safety_report_list"),
            models.Index(fields=["site", "status", "created_at"], name="safety_report_status"),
            # The duplicate check reads open reports of one category in a small latitude band.
            models.Index(fields=["site", "category", "status", "latitude"], name="safety_report_near"),
            # The map counts reports per grid cell from this index alone, in a site's or an official's scope.
            models.Index(
                fields=["site", "latitude", "longitude", "status", "category", "area"], name="safety_report_map"
            ),
            # The list's summary (open, overdue, urgent, resolved within target, median days) from this index alone.
            models.Index(
                fields=["site", "status", "resolved_at", "created_at", "due_at", "urgent", "area"],
                name="safety_report_stats",
            ),
            # The newest change to any report: the version of cached aggregates (services._aggregate).
            models.Index(fields=["updated_at"], name="safety_report_changed"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def risk_score(self) -> int | None:
        if self.likelihood is None or self.severity is None:
            return None
        return self.likelihood * self.severity


class Photo(models.Model):
    """A resized JPEG with its metadata removed; of a report, or of a task before or after the work."""

    class Stage(models.TextChoices):
        REPORT = "report", _("Reported")
        BEFORE = "before", _("Before")
        AFTER = "after", _("After")

    report = models.ForeignKey(HazardReport, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    task = models.ForeignKey("ImprovementTask", null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=8, choices=Stage.choices, default=Stage.REPORT)
    image = models.FileField(upload_to="safety/%Y/%m/")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"photo {self.pk}"


class ReportUpdate(models.Model):
    """One step in a report's life, as the reporter sees it (``note`` is public)."""

    report = models.ForeignKey(HazardReport, on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=ReportStatus.choices)
    responder_name = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.status}"


class ReportFollower(models.Model):
    """Someone who asked to hear about a report: its reporter, or a resident who saw it was already reported."""

    report = models.ForeignKey(HazardReport, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    email_encrypted = models.TextField(blank=True)
    token = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"follower of {self.report_id}"


# --- improvement tasks -------------------------------------------------------------------------------------


class TaskSource(models.TextChoices):
    REPORT = "report", _("Hazard reports")
    MEETING = "meeting", _("Meeting decision")
    INSPECTION = "inspection", _("Inspection")
    CHECKLIST = "checklist", _("Seasonal checklist")
    REVIEW = "review", _("Lesson of a disaster response")


class TaskStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done, awaiting confirmation")
    CLOSED = "closed", _("Closed, confirmed by a member")
    CANCELLED = "cancelled", _("Cancelled")


class ImprovementTask(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="improvement_tasks")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="improvement_tasks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=12, choices=TaskSource.choices)
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    responder = models.ForeignKey(Responder, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    budget_krw = models.PositiveBigIntegerField(default=0)
    plan_year = models.PositiveSmallIntegerField(help_text="The year of the area's safety-improvement plan")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.PLANNED)
    done_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        BodyMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="confirmed_tasks"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["site", "area", "plan_year", "status"])]

    def __str__(self) -> str:
        return self.title


class ChecklistTick(models.Model):
    """One seasonal checklist item marked done for an area in a year."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    item = models.CharField(max_length=40)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area", "year", "item"], name="safety_checklist_once")]

    def __str__(self) -> str:
        return f"{self.area_id} {self.year} {self.item}"


class AnonymousSubmission(models.Model):
    """When a report came in without an account, by a keyed hash of the sender's address (never the address):
    enough to slow down a flood of reports from one place, and deleted after a day."""

    address_index = models.CharField(max_length=32, db_index=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.address_index[:8]} {self.at:%Y-%m-%d %H:%M}"

"""The human safety net: helpers, their assignments to households, check-in schedules and check-ins.

Helpers' names and phones are encrypted like residents' (phones with a blind index for exact search). A check-in
schedule carries its next due date as a column, advanced when a check-in is recorded, so a helper's due list is
one indexed range read and the missed-check-in timer survives restarts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from maeul.areas.models import Area
from maeul.people.models import Household
from maeul.sites.models import Site


class HelperKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    RETIRED_OFFICIAL = "retired_official", _("Retired public official")
    HONORARY_OFFICIAL = "honorary_official", _("Honorary social welfare official")
    VILLAGE_HEAD = "village_head", _("Village or tong head")
    MAIL_CARRIER = "mail_carrier", _("Mail carrier")
    NEIGHBOUR = "neighbour", _("Neighbour")
    CARE_WORKER = "care_worker", _("Care worker")


class Skill(models.TextChoices):
    CARE = "care", _("Personal care")
    DEMENTIA = "dementia", _("Dementia")
    DISABILITY = "disability", _("Disability support")
    MENTAL_HEALTH = "mental_health", _("Mental health first aid")
    FIRST_AID = "first_aid", _("First aid")
    COUNSELLING = "counselling", _("Counselling")
    DRIVING = "driving", _("Driving")
    HOUSEWORK = "housework", _("Housework and repairs")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Mon")
    TUESDAY = 1, _("Tue")
    WEDNESDAY = 2, _("Wed")
    THURSDAY = 3, _("Thu")
    FRIDAY = 4, _("Fri")
    SATURDAY = 5, _("Sat")
    SUNDAY = 6, _("Sun")


class DayPart(models.TextChoices):
    MORNING = "morning", _("Morning")
    AFTERNOON = "afternoon", _("Afternoon")
    EVENING = "evening", _("Evening")


class Helper(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    # The login of a helper who uses the phone page; a mail carrier reached by phone may have none.
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="helper_profile"
    )
    kind = models.CharField(max_length=20, choices=HelperKind.choices)
    name_encrypted = models.TextField()
    name_index = models.CharField(max_length=32, db_index=True)
    phone_encrypted = models.TextField(blank=True)
    phone_index = models.CharField(max_length=32, blank=True, db_index=True)
    areas = models.ManyToManyField(Area, related_name="+")
    skills = models.JSONField(default=list)
    languages = models.JSONField(default=list, help_text="ISO 639-1 codes, e.g. ko, en, vi, zh")
    # Slots as "<weekday>:<part>", e.g. "0:morning" for Monday mornings.
    availability = models.JSONField(default=list)
    max_households = models.PositiveSmallIntegerField(default=5)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    active = models.BooleanField(default=True)
    consent_given_on = models.DateField(null=True, blank=True)
    consent_withdrawn_on = models.DateField(null=True, blank=True)
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="coordinated_helpers"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["site", "active"], name="safetynet_helper_site_active")]

    def __str__(self) -> str:
        return f"helper {self.pk}"


class RecordKind(models.TextChoices):
    TRAINING = "training", _("Training")
    BACKGROUND_CHECK = "background_check", _("Criminal record check")


class HelperRecord(models.Model):
    """A training completed or a criminal record check (범죄경력 조회), with its expiry."""

    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(max_length=20, choices=RecordKind.choices)
    title = models.CharField(max_length=120)
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["helper_id", "-completed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} of helper {self.helper_id}"


class AssignmentRole(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    BACKUP = "backup", _("Backup")


class Assignment(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="helper_assignments")
    helper = models.ForeignKey(Helper, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=8, choices=AssignmentRole.choices)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    end_reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["household_id", "role", "-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "role"], condition=Q(ended_at=None), name="safetynet_one_active_per_role"
            ),
            models.UniqueConstraint(
                fields=["household", "helper"], condition=Q(ended_at=None), name="safetynet_helper_once_per_household"
            ),
        ]
        indexes = [models.Index(fields=["helper", "ended_at"], name="safetynet_assignment_helper")]

    def __str__(self) -> str:
        return f"{self.role} helper {self.helper_id} of {self.household_id}"


class CheckInKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")


class CheckInResult(models.TextChoices):
    FINE = "fine", _("Fine")
    NEEDS_HELP = "needs_help", _("Needs help")
    NO_ANSWER = "no_answer", _("No answer")
    NOT_AT_ADDRESS = "not_at_address", _("Not at this address")
    IN_HOSPITAL = "in_hospital", _("In hospital")


class CrisisSign(models.TextChoices):
    UNPAID_BILLS = "unpaid_bills", _("Unpaid bills piling up")
    UTILITIES_CUT = "utilities_cut", _("Utilities cut off")
    NO_FOOD = "no_food", _("No food")
    POOR_HYGIENE = "poor_hygiene", _("Poor hygiene")
    ILLNESS = "illness", _("Illness")
    ISOLATION = "isolation", _("Isolation")
    SOMEONE_ELSE_LIVING = "someone_else_living", _("Someone else living at the address")


class CheckInSchedule(models.Model):
    """A recurring check-in of one household, e.g. a weekly visit (7 days) or two calls a week (3 or 4 days)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="check_in_schedules")
    kind = models.CharField(max_length=8, choices=CheckInKind.choices)
    interval_days = models.PositiveSmallIntegerField()
    # Who is due: the household's primary helper unless ``follows_primary`` is off; null while nobody is.
    helper = models.ForeignKey(
        Helper, null=True, blank=True, on_delete=models.SET_NULL, related_name="check_in_schedules"
    )
    follows_primary = models.BooleanField(default=True)
    next_due_on = models.DateField()
    active = models.BooleanField(default=True)
    last_check_in_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=16, choices=CheckInResult.choices, blank=True)
    # The due date a missed-check-in alert was raised for, so the worker raises it once per missed date.
    missed_alerted_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["household_id", "kind", "id"]
        indexes = [
            # A helper's due list: one range read on (helper, next_due_on) of active schedules.
            models.Index(fields=["helper", "next_due_on"], condition=Q(active=True), name="safetynet_sched_due"),
            # The worker's sweep for missed check-ins and the coverage report's lapsed visits.
            models.Index(fields=["next_due_on"], condition=Q(active=True), name="safetynet_sched_overdue"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} every {self.interval_days} d for {self.household_id}"


class CheckIn(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="check_ins")
    helper = models.ForeignKey(Helper, null=True, blank=True, on_delete=models.SET_NULL, related_name="check_ins")
    schedule = models.ForeignKey(
        CheckInSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="check_ins"
    )
    kind = models.CharField(max_length=8, choices=CheckInKind.choices)
    result = models.CharField(max_length=16, choices=CheckInResult.choices)
    crisis_signs = models.JSONField(default=list)
    note_encrypted = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The idempotency key the (offline-capable) phone page sends: a retried submission is stored once.
    client_id = models.UUIDField(unique=True)
    # The schedule's due date this check-in answered (none when unscheduled): "on time" is counted against it.
    due_on = models.DateField(null=True, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True, help_text="The welfare case it opened, if any")
    verification_task_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["household", "-occurred_at"], name="safetynet_checkin_household"),
            models.Index(fields=["helper", "-occurred_at"], name="safetynet_checkin_helper"),
        ]

    def __str__(self) -> str:
        return f"{self.result} at {self.household_id}"


class Handover(models.Model):
    """An official's post handed to a successor: what was moved, by whom, when."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"handover {self.from_user_id} → {self.to_user_id}"

"""Disaster initial response: alerts received, responses activated from them, the roll-call of vulnerable
households with every contact, messages to the people doing the calls, and the review afterwards.

Personal data stays in ``people``: a roll-call entry holds the household's id, coded reasons and what happened, and a
contact's free-text note is encrypted. Alert texts (CAP headline, instruction) are public warnings, stored as given.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from maeul.areas.models import Area
from maeul.people.models import EmergencyContact, Household
from maeul.safety.models import BodyMember
from maeul.safetynet.models import Helper
from maeul.sites.models import Site


class Hazard(models.TextChoices):
    HEAT = "heat", _("Heat wave")
    COLD = "cold", _("Cold wave")
    HEAVY_RAIN = "heavy_rain", _("Heavy rain and flooding")
    TYPHOON = "typhoon", _("Typhoon")
    EARTHQUAKE = "earthquake", _("Earthquake")
    OTHER = "other", _("Other disaster")


class Level(models.TextChoices):
    # Korean weather warnings are 주의보 (advisory) and 경보 (warning); "Warning" alone means 주의 elsewhere.
    ADVISORY = "advisory", pgettext_lazy("weather warning level", "Advisory")
    WARNING = "warning", pgettext_lazy("weather warning level", "Warning")
    NONE = "", pgettext_lazy("weather warning level", "Not stated")


class Audience(models.TextChoices):
    OFFICIAL = "official", _("Officials")
    MEMBER = "member", _("Consultative body members")


# --- set-up: plans, forecast zones, alert sources -----------------------------------------------------------


class ResponsePlan(models.Model):
    """What a site does for one kind of hazard: how fast every household must be reached, when the unreached are
    escalated, the indoor temperature that flags a home, the checklist and the message templates (Korean)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    hazard = models.CharField(max_length=12, choices=Hazard.choices)
    reach_within_minutes = models.PositiveIntegerField(default=180)
    escalation_minutes = models.JSONField(
        default=list,
        help_text="Minutes after the deadline at which the unreached go to officials, guardians, the duty line",
    )
    indoor_celsius = models.FloatField(
        null=True, blank=True, help_text="Heat: at or above; cold: at or below. Empty: no indoor flag for this hazard"
    )
    message_assignment = models.TextField()
    message_update = models.TextField()
    message_cancel = models.TextField()
    message_overdue = models.TextField()
    message_guardian = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "hazard"], name="one_plan_per_hazard")]
        ordering = ["site_id", "hazard"]

    def __str__(self) -> str:
        return f"{self.hazard} plan of site {self.site_id}"


class PlanItem(models.Model):
    """One checklist line of a plan, copied into each response when it is activated."""

    plan = models.ForeignKey(ResponsePlan, on_delete=models.CASCADE, related_name="items")
    audience = models.CharField(max_length=8, choices=Audience.choices)
    text_ko = models.CharField(max_length=300)
    text_en = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan_id", "audience", "order", "id"]

    def __str__(self) -> str:
        return self.text_ko


class ForecastZone(models.Model):
    """A weather-warning zone (특보구역) as the site's warning feed names it, and the eup/myeon/dong it covers."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    areas = models.ManyToManyField(Area, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "code"], name="zone_code_per_site")]
        ordering = ["site_id", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SourceKind(models.TextChoices):
    PUSH = "push", _("Sends to Maeul (HTTP POST)")
    POLL = "poll", _("Maeul fetches a feed")


class AlertSource(models.Model):
    """Where CAP messages come from: a sender posting with its own token, or a feed Maeul polls."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=4, choices=SourceKind.choices)
    url = models.URLField(max_length=500, blank=True)
    poll_minutes = models.PositiveIntegerField(default=2)
    token_hash = models.CharField(max_length=64, blank=True)
    token_hint = models.CharField(max_length=8, blank=True)
    active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["site_id", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="alert_source_name_per_site")]
        indexes = [models.Index(fields=["token_hash"], name="alert_source_token")]

    def __str__(self) -> str:
        return self.name


# --- responses ------------------------------------------------------------------------------------------------


class Origin(models.TextChoices):
    CAP = "cap", _("CAP alert")
    MANUAL = "manual", _("Activated by an official")


class ResponseStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("disaster response", "Active")
    CANCELLED = "cancelled", _("Alert cancelled")
    CLOSED = "closed", pgettext_lazy("disaster response", "Closed")


class Response(models.Model):
    """One activation: a hazard over some eup/myeon/dong of a site, and the roll-call it started."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    hazard = models.CharField(max_length=12, choices=Hazard.choices)
    level = models.CharField(max_length=8, choices=Level.choices, blank=True)
    origin = models.CharField(max_length=8, choices=Origin.choices)
    status = models.CharField(max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.ACTIVE)
    title = models.CharField(max_length=200)
    # From the alert (public warning text, as issued); blank for a manual activation unless typed in.
    event = models.CharField(max_length=200, blank=True)
    headline = models.CharField(max_length=300, blank=True)
    instruction = models.TextField(blank=True)
    severity = models.CharField(max_length=10, blank=True)
    urgency = models.CharField(max_length=10, blank=True)
    certainty = models.CharField(max_length=10, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    cap_keys = models.JSONField(default=list, help_text="“sender,identifier” of every CAP message applied to it")
    shapes = models.JSONField(default=list, help_text="The alert's areas as received (CAP order: lat,lon)")
    areas: models.ManyToManyField[Area, ResponseArea] = models.ManyToManyField(
        Area, through="ResponseArea", related_name="+"
    )
    activated_at = models.DateTimeField(db_index=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reach_by = models.DateTimeField(help_text="Every household is to be reached by then (the plan's time)")
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last household on the roll-call was accounted for"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    indoor_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-activated_at"]
        indexes = [models.Index(fields=["site", "status", "activated_at"], name="response_site_status")]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    PUSH = "push", _("HTTP POST")
    POLL = "poll", _("Feed")
    UPLOAD = "upload", _("Uploaded by an official")
    COMMAND = "command", _("maeul alerts import")


class MessageOutcome(models.TextChoices):
    ACTIVATED = "activated", _("Activated a response")
    UPDATED = "updated", _("Updated a response")
    CANCELLED = "cancelled", _("Cancelled a response")
    DUPLICATE = "duplicate", _("Already received")
    IGNORED = "ignored", _("Not acted on")
    REJECTED = "rejected", _("Rejected")


class CapMessage(models.Model):
    """Every CAP message received, as received, with what Maeul did with it, so an operator can inspect a rejected
    or ignored one. ``reason`` is a stable code; ``detail`` the sentence that explains it."""

    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(AlertSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    url = models.CharField(max_length=500, blank=True, help_text="Where a polled message was fetched from")
    received_at = models.DateTimeField(db_index=True)
    raw = models.TextField()
    identifier = models.CharField(max_length=200, blank=True)
    sender = models.CharField(max_length=200, blank=True)
    sent = models.DateTimeField(null=True, blank=True)
    msg_type = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10, blank=True)
    outcome = models.CharField(max_length=10, choices=MessageOutcome.choices)
    reason = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=1000, blank=True)
    responses = models.ManyToManyField(Response, blank=True, related_name="messages")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["sender", "identifier"], name="cap_message_key")]

    def __str__(self) -> str:
        return f"{self.msg_type} {self.identifier}"


class MatchedBy(models.TextChoices):
    GEOMETRY = "geometry", _("Inside the alert's polygon or circle")
    GEOCODE = "geocode", _("Named by the alert's codes")
    ZONE = "zone", _("In a forecast zone of the alert")
    HOUSEHOLD = "household", _("Registered households inside the alert area")
    MANUAL = "manual", _("Chosen by an official")


class ResponseArea(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="response_areas")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    matched_by = models.CharField(max_length=10, choices=MatchedBy.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "area"], name="response_area_once")]

    def __str__(self) -> str:
        return f"{self.area_id} in response {self.response_id}"


class ChecklistLine(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="checklist")
    audience = models.CharField(max_length=8, choices=Audience.choices)
    text_ko = models.CharField(max_length=300)
    text_en = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["response_id", "audience", "order", "id"]

    def __str__(self) -> str:
        return self.text_ko


class TimelineKind(models.TextChoices):
    ACTIVATED = "activated", _("Activated")
    UPDATED = "updated", _("Alert updated")
    CANCELLED = "cancelled", _("Alert cancelled")
    MESSAGES = "messages", _("Messages sent")
    ESCALATED = "escalated", _("Not reached in time: escalated")
    INDOOR = "indoor", _("Dangerous indoor temperature")
    CHECKLIST = "checklist", _("Checklist")
    COMPLETED = "completed", _("Every household accounted for")
    NOTE = "note", _("Note")
    CLOSED = "closed", _("Closed")
    REVIEWED = "reviewed", _("After-action review")


class TimelineEntry(models.Model):
    """What happened to a response, in order: the situation report's timeline. Codes and figures, no names."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=TimelineKind.choices)
    data = models.JSONField(default=dict)
    text = models.CharField(max_length=500, blank=True, help_text="An official's own note")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["response_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


# --- the roll-call ---------------------------------------------------------------------------------------------


class EntryStatus(models.TextChoices):
    PENDING = "pending", _("Not yet contacted")
    NOT_REACHED = "not_reached", _("Tried, not reached")
    FINE = "fine", _("Reached, fine")
    NEEDS_HELP = "needs_help", _("Reached, needs help")
    EVACUATED = "evacuated", _("Evacuated")


ACCOUNTED = (EntryStatus.FINE, EntryStatus.NEEDS_HELP, EntryStatus.EVACUATED)
OUTSTANDING = (EntryStatus.PENDING, EntryStatus.NOT_REACHED)


class RollCallEntry(models.Model):
    """One household to reach in a response. ``priority`` orders the list (``reasons`` say why); the assignee is
    the household's helper, else a consultative body member of its area, else nobody (the area's officials)."""

    # 100,000 of these are written in one go when an alert arrives. Database-level foreign keys (a check per row
    # and column) and an index per key would take most of the 2 seconds; Django still applies ``on_delete``, and
    # the indexes below serve one's own list, the escalation timer, the board and a household's history. The
    # board has no index of its own: its counts read every entry of the response anyway, and sorting a response's
    # entries by priority for a page (tens of milliseconds) costs less than keeping that order on every insert.
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="entries", db_constraint=False, db_index=False
    )
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )  # households are never deleted in use (retention wipes them), so no index for the cascade
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False)
    priority = models.SmallIntegerField()
    reasons = models.PositiveIntegerField(default=0, help_text="Reason codes as bits (catalogue.REASON_CODES)")
    helper = models.ForeignKey(
        Helper, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False, db_index=False
    )
    member = models.ForeignKey(
        BodyMember,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False, db_index=False,
        help_text="The account that records this household's contacts (helper's or member's)",
    )  # fmt: skip
    # Database defaults too: a roll-call is inserted without naming them.
    status = models.CharField(
        max_length=12, choices=EntryStatus.choices, default=EntryStatus.PENDING, db_default=EntryStatus.PENDING
    )
    in_area = models.BooleanField(
        default=True, db_default=True, help_text="False once an update moved the alert away from it"
    )
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    accounted_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    escalation_level = models.PositiveSmallIntegerField(default=0, db_default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    indoor_celsius = models.FloatField(null=True, blank=True, help_text="A dangerous indoor reading during the alert")

    class Meta:
        ordering = ["response_id", "-priority", "id"]
        constraints = [models.UniqueConstraint(fields=["response", "household"], name="roll_call_once")]
        indexes = [
            models.Index(fields=["assignee", "status"], name="roll_call_mine", condition=Q(assignee__isnull=False)),
            models.Index(
                fields=["next_escalation_at"], name="roll_call_due", condition=Q(next_escalation_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"household {self.household_id} in response {self.response_id}"


class ContactMethod(models.TextChoices):
    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone call")
    OTHER = "other", _("Other (neighbour, family, shelter)")


class Contact(models.Model):
    """One attempt to reach a household, successful or not."""

    entry = models.ForeignKey(RollCallEntry, on_delete=models.CASCADE, related_name="contacts")
    at = models.DateTimeField()
    result = models.CharField(max_length=12, choices=EntryStatus.choices)
    method = models.CharField(max_length=8, choices=ContactMethod.choices, default=ContactMethod.PHONE)
    note_encrypted = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    by_role = models.CharField(max_length=24, blank=True)

    class Meta:
        ordering = ["entry_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.result} at {self.at:%H:%M}"


class Preparedness(models.TextChoices):
    UNKNOWN = "", _("Not known")
    YES = "yes", _("Yes")
    NO = "no", _("No")


class HouseholdReadiness(models.Model):
    """What a disaster roll-call needs to know about a home beyond the register: cooling, heating, and whether the
    residents can leave without help. Learned during contacts or entered by an official."""

    household = models.OneToOneField(Household, on_delete=models.CASCADE, primary_key=True, related_name="+")
    has_cooling = models.CharField(max_length=3, choices=Preparedness.choices, blank=True)
    has_heating = models.CharField(max_length=3, choices=Preparedness.choices, blank=True)
    needs_evacuation_help = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"readiness of {self.household_id}"


# --- messages and escalation ---------------------------------------------------------------------------------


class DispatchKind(models.TextChoices):
    ASSIGNMENT = "assignment", _("Households to reach")
    UPDATE = "update", _("Alert updated")
    CANCEL = "cancel", _("Alert cancelled")
    OVERDUE = "overdue", _("Not reached in time (officials)")
    GUARDIAN = "guardian", _("Not reached in time (guardian)")
    DUTY_LINE = "duty_line", _("Not reached in time (24-hour line)")


class Dispatch(models.Model):
    """A message owed to one person about a response. Written with the change that calls for it and sent by the
    worker, so a restart neither loses nor repeats one; ``sent_at`` and ``channels`` record what went out."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="dispatches")
    kind = models.CharField(max_length=10, choices=DispatchKind.choices)
    helper = models.ForeignKey(Helper, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    member = models.ForeignKey(BodyMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(EmergencyContact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    households = models.PositiveIntegerField(default=0)
    reference = models.CharField(max_length=20, blank=True, help_text="The household's H-number, for a guardian")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    channels = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["response_id", "created_at", "id"]
        indexes = [models.Index(fields=["sent_at", "created_at"], name="dispatch_pending", condition=Q(sent_at=None))]

    def __str__(self) -> str:
        return f"{self.kind} for response {self.response_id}"


# --- after the response ----------------------------------------------------------------------------------------


class Review(models.Model):
    """The after-action review: what went well, what to improve; its lessons become improvement tasks."""

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="review")
    went_well = models.TextField(blank=True)
    to_improve = models.TextField(blank=True)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    written_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"review of response {self.response_id}"


class Lesson(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="lessons")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=200)
    task_id = models.BigIntegerField(null=True, blank=True, help_text="The safety improvement task it became")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["review_id", "id"]

    def __str__(self) -> str:
        return self.text

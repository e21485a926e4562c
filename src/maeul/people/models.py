"""Households and the people in them. Contact and sensitive fields are encrypted at rest.

No resident registration number (주민등록번호) is ever stored. Names, phone numbers, addresses and health
conditions are held as Fernet tokens (``*_encrypted``); names, phones and addresses also carry a keyed
blind index (``*_index``) for exact search. The vulnerability flags that lists sort and filter by are coded
fields, protected by scope like the rest of the record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from maeul.areas.models import Area
from maeul.sites.models import Site


class HousingType(models.TextChoices):
    APARTMENT = "apartment", _("Apartment")
    DETACHED = "detached", _("Detached house")
    MULTI_FAMILY = "multi_family", _("Multi-family / row house")
    SEMI_BASEMENT = "semi_basement", _("Semi-basement")
    ROOFTOP = "rooftop", _("Rooftop room")
    GOSHIWON = "goshiwon", _("Goshiwon / single room")
    OFFICETEL = "officetel", _("Officetel")
    OTHER = "other", _("Other")


class HouseholdStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    IN_HOSPITAL = "in_hospital", _("In hospital")
    MOVED = "moved", _("Moved away")
    DECEASED = "deceased", _("Deceased")


class CareLevel(models.IntegerChoices):
    LOW = 1, _("Low")
    MEDIUM = 2, _("Medium")
    HIGH = 3, _("High")


# Coded vulnerability flags, in the order lists, indexes and the CSV format use them.
VULNERABILITY_FLAGS = ("living_alone", "older_adult", "disability", "chronic_illness", "bedridden", "financial_crisis")
# What list filters test, carried in the list indexes so a count is read from the index alone.
LIST_FILTER_FIELDS = ("care_level", "status", "housing_type", *VULNERABILITY_FLAGS)


class Household(models.Model):
    reference = models.CharField(max_length=20, unique=True, help_text="Public reference, e.g. H-000123")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="households")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="households")
    address_encrypted = models.TextField()
    address_index = models.CharField(max_length=32, db_index=True)
    address_detail_encrypted = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    housing_type = models.CharField(max_length=16, choices=HousingType.choices, default=HousingType.OTHER)
    living_alone = models.BooleanField(default=False, db_index=True)
    # Coded vulnerability flags (scope-protected; details live encrypted on Person.conditions).
    older_adult = models.BooleanField(default=False)
    disability = models.BooleanField(default=False)
    chronic_illness = models.BooleanField(default=False)
    bedridden = models.BooleanField(default=False)
    financial_crisis = models.BooleanField(default=False)
    care_level = models.IntegerField(choices=CareLevel.choices, default=CareLevel.LOW, db_index=True)
    # Copied from the main resident so lists sort by age without joining every person in scope.
    primary_birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=HouseholdStatus.choices, default=HouseholdStatus.ACTIVE)
    processing_stopped = models.BooleanField(
        default=False, help_text="Consent to the care registry withdrawn: no processing beyond keeping and destroying"
    )
    retain_until = models.DateField(null=True, blank=True, help_text="Personal data destroyed after this date")
    destroyed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["reference"]
        indexes = [
            # Lists count and page through one site at a time, in four orders; these indexes let both the count
            # and each order be read from an index (benchmarks/README.md has the figures).
            models.Index(
                fields=[
                    "site",
                    "destroyed_at",
                    "processing_stopped",
                    "area",
                    "reference",
                    *LIST_FILTER_FIELDS,
                ],
                name="people_hh_count",
            ),
            models.Index(
                fields=[
                    "site",
                    "reference",
                    "destroyed_at",
                    "processing_stopped",
                    "area",
                    *LIST_FILTER_FIELDS,
                ],
                name="people_hh_by_reference",
            ),
            models.Index(
                fields=["site", "-care_level", "reference", "destroyed_at", "processing_stopped", "area"],
                name="people_hh_by_care_level",
            ),
            models.Index(
                fields=["site", "updated_at", "id", "destroyed_at", "processing_stopped", "area"],
                name="people_hh_by_updated",
            ),
            models.Index(
                fields=["site", "primary_birth_year", "reference", "destroyed_at", "processing_stopped", "area"],
                name="people_hh_by_birth_year",
            ),
            models.Index(
                fields=["site", "area"],
                condition=models.Q(destroyed_at=None, processing_stopped=False),
                name="people_hh_listed",
            ),
            models.Index(Upper("reference"), name="people_hh_reference_upper"),
        ]

    def __str__(self) -> str:
        return self.reference


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    OTHER = "X", _("Other / not stated")


class Person(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="persons")
    name_encrypted = models.TextField()
    name_index = models.CharField(max_length=32, db_index=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.OTHER)
    phone_encrypted = models.TextField(blank=True)
    phone_index = models.CharField(max_length=32, blank=True, db_index=True)
    # Sensitive (health, disability): a JSON list of condition codes and a free-text note, encrypted.
    conditions_encrypted = models.TextField(blank=True)
    is_primary = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["household_id", "-is_primary", "id"]

    def __str__(self) -> str:
        return f"person {self.pk} of {self.household_id}"


class EmergencyContact(models.Model):
    """A guardian or emergency contact; may be linked to a guardian account that receives alerts."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="contacts")
    name_encrypted = models.TextField()
    relation = models.CharField(max_length=40)
    phone_encrypted = models.TextField()
    phone_index = models.CharField(max_length=32, db_index=True)
    priority = models.PositiveSmallIntegerField(default=1)
    receives_alerts = models.BooleanField(default=False)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["household_id", "priority", "id"]

    def __str__(self) -> str:
        return f"contact {self.pk} of {self.household_id}"


class ConsentPurpose(models.TextChoices):
    CARE_REGISTRY = "care_registry", _("Registration and care by the community centre")
    IOT_MONITORING = "iot_monitoring", _("Sensor monitoring at home")
    SENSITIVE_DATA = "sensitive_data", _("Health and disability information")
    GUARDIAN_ALERTS = "guardian_alerts", _("Alerts to family")
    PARTNER_SHARING = "partner_sharing", _("Sharing with welfare organisations")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("Signed form")
    VERBAL = "verbal", _("Verbal, witnessed")
    GUARDIAN = "guardian", _("By legal guardian")


class Consent(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="consents")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    method = models.CharField(max_length=10, choices=ConsentMethod.choices, default=ConsentMethod.WRITTEN)
    given_on = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["household_id", "purpose", "-given_on"]

    def __str__(self) -> str:
        return f"{self.purpose} for {self.household_id}"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class HouseholdStatusChange(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["household_id", "-at", "-id"]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.from_status} → {self.to_status}"


class GrantKind(models.TextChoices):
    HELPER = "helper", _("Assigned helper")
    PARTNER = "partner", _("Referral to partner organisation")
    GUARDIAN = "guardian", _("Guardian")


class HouseholdGrant(models.Model):
    """Explicit access to one household for a helper, partner staff member or guardian account."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="household_grants")
    kind = models.CharField(max_length=10, choices=GrantKind.choices)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.kind} grant on {self.household_id} to {self.user_id}"

"""The resource directory: organisations and the services they offer, modelled on Open Referral HSDS 3.1.

Identifiers are HSDS's own UUIDs so a directory imported from elsewhere keeps its ids through a round trip.
Organisations belong to one site: each site keeps the directory of the partners it refers to.

Every HSDS record keeps its original flat row in ``hsds`` (all scalar columns, foreign keys as ids), so columns we do
not model survive a round trip; the modelled columns are projections of it used for search and pages. HSDS tables
Maeul does not model (programs, funding, addresses, attributes, taxonomy terms, ...) are kept as ``HsdsRecord``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from maeul.areas.models import Area
from maeul.sites.models import Site


class NeedDomain(models.TextChoices):
    """The domains of need Maeul assesses and refers for; the welfare app uses the same list."""

    INCOME = "income", _("Income")
    FOOD = "food", _("Food")
    HOUSING = "housing", _("Housing")
    HEALTH = "health", _("Health")
    CARE = "care", _("Care")
    SAFETY = "safety", _("Safety")
    ISOLATION = "isolation", _("Isolation")


class DisabilityRule(models.TextChoices):
    ANY = "any", _("Open to everyone")
    REQUIRED = "required", _("Only for people with a disability")
    WELCOME = "welcome", _("Adapted for people with a disability")


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="organizations")
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True, max_length=500)
    alternate_name = models.CharField(max_length=300, blank=True)
    hsds = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    DEFUNCT = "defunct", _("Defunct")
    TEMPORARILY_CLOSED = "temporarily closed", _("Temporarily closed")


class Service(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE)
    alternate_name = models.CharField(max_length=300, blank=True)
    url = models.URLField(blank=True, max_length=500)
    email = models.EmailField(blank=True)
    application_process = models.TextField(blank=True)
    eligibility_description = models.TextField(blank=True)
    fees_description = models.TextField(blank=True)
    # Maeul's eligibility, searchable; the HSDS free-text eligibility stays in eligibility_description.
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    income_ceiling_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Highest household income, as % of the national median income (기준 중위소득)"
    )
    disability = models.CharField(max_length=10, choices=DisabilityRule.choices, default=DisabilityRule.ANY)
    areas = models.ManyToManyField(Area, blank=True, related_name="directory_services")
    capacity = models.PositiveIntegerField(null=True, blank=True, help_text="Places; empty when not limited")
    places_in_use = models.PositiveIntegerField(default=0)
    hsds = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def capacity_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.places_in_use, 0)

    @property
    def need_list(self) -> list[str]:
        return sorted(n.domain for n in self.needs.all())


class OrganizationStaff(models.Model):
    """A partner staff account working for an organisation: it sees the referrals sent to that organisation."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organizations")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="directory_staff_once")]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.organization_id}"


class ServiceNeed(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="needs")
    domain = models.CharField(max_length=12, choices=NeedDomain.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "domain"], name="directory_need_once")]

    def __str__(self) -> str:
        return self.domain


class SiteRecord(models.Model):
    """Common to the HSDS child records: their own UUID, the site and the original row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    hsds = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


class LocationType(models.TextChoices):
    PHYSICAL = "physical", _("Physical")
    POSTAL = "postal", _("Postal")
    VIRTUAL = "virtual", _("Virtual")


class Location(SiteRecord):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="locations"
    )
    location_type = models.CharField(max_length=10, choices=LocationType.choices, default=LocationType.PHYSICAL)
    name = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    address = models.CharField(max_length=500, blank=True, help_text="The first address, on one line")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or str(self.id)


class ServiceAtLocation(SiteRecord):
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="at_locations")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="services_here"
    )
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.service_id} at {self.location_id}"


class Contact(SiteRecord):
    """A contact point of an organisation (a role such as reception, not a resident)."""

    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=300, blank=True)
    department = models.CharField(max_length=300, blank=True)
    email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return self.name or str(self.id)


class Phone(SiteRecord):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="phones")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE, related_name="phones")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="phones")
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    number = models.CharField(max_length=60)
    extension = models.CharField(max_length=20, blank=True)
    type = models.CharField(max_length=20, blank=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.number


class Schedule(SiteRecord):
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules")
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    freq = models.CharField(max_length=20, blank=True)
    byday = models.CharField(max_length=60, blank=True)
    opens_at = models.CharField(max_length=20, blank=True)
    closes_at = models.CharField(max_length=20, blank=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.description or str(self.id)


class ServiceArea(SiteRecord):
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="service_areas")
    name = models.TextField(blank=True)
    description = models.TextField(blank=True)
    # Set when the HSDS extent names a MOIS area code: then the service serves that eup/myeon/dong.
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return self.name or str(self.id)


class Language(SiteRecord):
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="languages")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    phone = models.ForeignKey(Phone, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.name or self.code


class HsdsRecord(models.Model):
    """A row of an HSDS table Maeul keeps without modelling it (programs, funding, addresses, attributes, ...)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    table = models.CharField(max_length=40)
    record_id = models.UUIDField()
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "table", "record_id"], name="directory_hsds_record_once")
        ]
        indexes = [models.Index(fields=["site", "table"])]

    def __str__(self) -> str:
        return f"{self.table} {self.record_id}"

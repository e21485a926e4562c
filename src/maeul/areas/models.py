"""The national hierarchy of administrative areas, keyed by the MOIS 10-digit administrative-organ code."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    SIDO = "sido", _("Province / metropolitan city")
    SIGUNGU = "sigungu", _("City / county / district")
    EMD = "emd", _("Eup / myeon / dong")


class Area(models.Model):
    code = models.CharField(max_length=10, primary_key=True)
    level = models.CharField(max_length=8, choices=AreaLevel.choices, db_index=True)
    name = models.CharField(max_length=60, help_text="Own name, e.g. 청운효자동")
    full_name = models.CharField(max_length=120, help_text="e.g. 서울특별시 종로구 청운효자동")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    valid_from = models.DateField(null=True, blank=True, help_text="Creation date in the MOIS list, if known")
    valid_to = models.DateField(null=True, blank=True, help_text="Abolition date; empty while in force")
    abolished = models.BooleanField(default=False, db_index=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "abolished"])]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.code})"

    @property
    def is_current(self) -> bool:
        return not self.abolished


class AreaImport(models.Model):
    """One load of a MOIS code list; the changes it found hang off it."""

    imported_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=255)
    list_date = models.DateField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.source} ({self.imported_at:%Y-%m-%d})"


class ChangeKind(models.TextChoices):
    ADDED = "added", _("New code")
    ABOLISHED = "abolished", _("Abolished")
    RENAMED = "renamed", _("Renamed")
    RECODED = "recoded", _("Same area under a new code")
    MERGED = "merged", _("Merged into another area")
    SPLIT = "split", _("Split into areas")
    SUCCEEDED = "succeeded", _("Likely succeeded by (inferred)")


class AreaChange(models.Model):
    area_import = models.ForeignKey(AreaImport, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=12, choices=ChangeKind.choices)
    code = models.CharField(max_length=10, db_index=True)
    related_code = models.CharField(max_length=10, blank=True, db_index=True)
    old_name = models.CharField(max_length=120, blank=True)
    new_name = models.CharField(max_length=120, blank=True)
    effective = models.DateField(null=True, blank=True)
    distance_km = models.FloatField(null=True, blank=True, help_text="For inferred successions: centroid distance")

    class Meta:
        ordering = ["area_import_id", "code", "kind"]

    def __str__(self) -> str:
        return f"{self.kind} {self.code} {self.related_code}".strip()


class AreaBoundary(models.Model):
    """An administrative-dong outline imported by a site (GeoJSON, WGS84)."""

    area = models.OneToOneField(Area, on_delete=models.CASCADE, related_name="boundary")
    geojson = models.JSONField()
    source = models.CharField(max_length=255, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"boundary of {self.area_id}"

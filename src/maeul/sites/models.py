"""A participating local government (si/gun/gu) and the eup/myeon/dong it runs the programme in."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from maeul.areas.models import Area


class ProgrammeType(models.IntegerChoices):
    SAFETY = 1, _("Type 1 — safety management")
    SAFETY_WELFARE = 2, _("Type 2 — safety and welfare blind spots")


class Site(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    sigungu = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="sites")
    programme_type = models.IntegerField(choices=ProgrammeType.choices, default=ProgrammeType.SAFETY_WELFARE)
    areas = models.ManyToManyField(Area, related_name="member_of_sites", blank=True)
    settings = models.JSONField(default=dict)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

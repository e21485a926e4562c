"""The outbox: every message Maeul sends, kept so a failed delivery is retried and nothing is sent twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from maeul.sites.models import Site


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    site = models.ForeignKey(Site, null=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    address_encrypted = models.TextField(help_text="Where it goes (e-mail address), encrypted")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    topic = models.CharField(max_length=60, help_text="What it is about, e.g. hazard_report:12")
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.channel} {self.topic} {self.status}"

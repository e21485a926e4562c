"""The outbox: every message Maeul sends, kept so a failed delivery is retried, nothing is sent twice by Maeul
itself, and a person can see what reached whom through which channel."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from maeul.sites.models import Site


class Channel(models.TextChoices):
    WEB = "web", _("Live view")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    KAKAO = "kakao", _("KakaoTalk")
    WEBHOOK = "webhook", _("Webhook")
    CONSOLE = "console", _("Console")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    GIVEN_UP = "given_up", _("Failed for good")


PENDING = (DeliveryStatus.QUEUED, DeliveryStatus.FAILED)


class Notification(models.Model):
    site = models.ForeignKey(Site, null=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    address_encrypted = models.TextField(
        blank=True, help_text="Where it goes (e-mail address, phone digits, webhook recipient), encrypted"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="The full text; also what an SMS fallback of a KakaoTalk message sends")
    template_code = models.CharField(max_length=40, blank=True, help_text="Provider template (KakaoTalk AlimTalk)")
    template_params = models.JSONField(default=dict, blank=True)
    topic = models.CharField(max_length=60, help_text="What it is about, e.g. hazard_report:12")
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker may try again; empty once delivered or given up"
    )
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True, help_text="Live view: when the recipient read it")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["status", "next_attempt_at"], name="notify_due"),
            models.Index(fields=["topic"], name="notify_topic"),
            models.Index(fields=["user", "channel", "read_at"], name="notify_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.topic} {self.status}"


class DeliveryAttempt(models.Model):
    """One try at handing a notification to a channel, successful or not."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="delivery_attempts")
    at = models.DateTimeField()
    channel = models.CharField(
        max_length=8, choices=Channel.choices, help_text="May differ from the notification's (SMS fallback)"
    )
    ok = models.BooleanField()
    provider_response = models.CharField(
        max_length=300, blank=True, help_text="The provider's reference, never its echo of the recipient"
    )
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.channel} {'ok' if self.ok else 'failed'} {self.at:%Y-%m-%d %H:%M}"

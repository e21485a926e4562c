"""The access record (PIPA): every view and change of person-level data, who, when, what, from where."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    LIST = "list", _("Listed")
    SEARCH = "search", _("Searched")
    CREATE = "create", _("Created")
    CHANGE = "change", _("Changed")
    DELETE = "delete", _("Deleted")
    EXPORT = "export", _("Exported")
    IMPORT = "import", _("Imported")
    DESTROY = "destroy", _("Destroyed (retention)")
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Login failed")
    LOGOUT = "logout", _("Logged out")


class AuditEntry(models.Model):
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=24, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=12, default="web", help_text="web, api, command, worker")
    action = models.CharField(max_length=16, choices=AuditAction.choices, db_index=True)
    resource = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, blank=True)
    household_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    site_id = models.BigIntegerField(null=True, blank=True)
    area_code = models.CharField(max_length=10, blank=True)
    record_count = models.PositiveIntegerField(default=1)
    reason = models.CharField(max_length=300, blank=True)
    # Before/after values are personal data themselves: stored encrypted under the field key.
    changes_encrypted = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["site_id", "at"]),
            models.Index(fields=["actor", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.resource} {self.object_id}"


class RetentionRun(models.Model):
    """One run of the retention job; the worker derives its next run from the last row here."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    audit_rows_deleted = models.PositiveIntegerField(default=0)
    households_destroyed = models.PositiveIntegerField(default=0)
    reporter_contacts_erased = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"retention {self.started_at:%Y-%m-%d %H:%M}"

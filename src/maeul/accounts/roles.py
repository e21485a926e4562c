from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MINISTRY = "ministry", _("Ministry programme manager")
    SITE_ADMIN = "site_admin", _("Site administrator")
    WELFARE_OFFICIAL = "welfare_official", _("Area official (welfare)")
    SAFETY_OFFICIAL = "safety_official", _("Area official (safety)")
    PARTNER_STAFF = "partner_staff", _("Partner organisation staff")
    HELPER = "helper", _("Safety-net helper")
    BODY_MEMBER = "body_member", _("Safety consultative body member")
    GUARDIAN = "guardian", _("Guardian (family)")


# Officials and administrators must log in with a second factor (TOTP).
SECOND_FACTOR_ROLES = frozenset({Role.MINISTRY, Role.SITE_ADMIN, Role.WELFARE_OFFICIAL, Role.SAFETY_OFFICIAL})

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
    # The programme (``maeul.programme``): a local government's programme officer applies and reports spending,
    # an outside expert evaluates applications. Neither sees any site's residents.
    LOCAL_GOVERNMENT = "local_government", _("Local government programme officer")
    EXPERT = "expert", _("Outside evaluation expert")


# Officials and administrators must log in with a second factor (TOTP).
SECOND_FACTOR_ROLES = frozenset(
    {Role.MINISTRY, Role.SITE_ADMIN, Role.WELFARE_OFFICIAL, Role.SAFETY_OFFICIAL, Role.LOCAL_GOVERNMENT, Role.EXPERT}
)
# Roles that belong to no site: the ministry, outside experts, and a local government's programme officer (whose
# si/gun/gu is the one area of its membership; it may apply before it runs a site).
SITELESS_ROLES = frozenset({Role.MINISTRY, Role.EXPERT, Role.LOCAL_GOVERNMENT})

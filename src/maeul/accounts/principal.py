"""Who is asking: the user's role, site and areas, resolved once per request."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from maeul.accounts.policy import Action, Resource, Scope, scope_for


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    username: str
    role: str | None
    site_id: int | None
    area_codes: frozenset[str] = field(default_factory=frozenset)
    is_superuser: bool = False
    must_change_password: bool = False

    def scope(self, resource: Resource, action: Action) -> Scope | None:
        return scope_for(self.role, resource, action)

    def can(self, resource: Resource, action: Action) -> bool:
        return self.scope(resource, action) is not None

    @property
    def site_pk(self) -> int:
        """The user's site; roles without one (the ministry) are refused site-level work."""
        if self.site_id is None:
            raise PermissionDenied
        return self.site_id


ANONYMOUS = Principal(user_id=None, username="", role=None, site_id=None)


def principal_for(user: AbstractBaseUser | AnonymousUser) -> Principal:
    if not user.is_authenticated:
        return ANONYMOUS
    from maeul.accounts.models import Membership

    # One query on every request: the membership joined with its areas (a row per area, one with NULL for none).
    rows = list(
        Membership.objects.filter(user_id=user.pk).values_list("role", "site_id", "must_change_password", "areas__code")
    )
    if not rows:
        return Principal(
            user_id=user.pk,
            username=user.get_username(),
            role=None,
            site_id=None,
            is_superuser=bool(getattr(user, "is_superuser", False)),
        )
    role, site_id, must_change_password, _code = rows[0]
    return Principal(
        user_id=user.pk,
        username=user.get_username(),
        role=role,
        site_id=site_id,
        area_codes=frozenset(code for *_rest, code in rows if code is not None),
        is_superuser=bool(getattr(user, "is_superuser", False)),
        must_change_password=must_change_password,
    )


def request_principal(request: HttpRequest) -> Principal:
    cached: Principal | None = getattr(request, "_maeul_principal", None)
    if cached is None:
        cached = principal_for(request.user)
        request._maeul_principal = cached  # type: ignore[attr-defined]
    return cached

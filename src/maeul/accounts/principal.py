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

    membership = Membership.objects.filter(user_id=user.pk).first()
    if membership is None:
        return Principal(
            user_id=user.pk,
            username=user.get_username(),
            role=None,
            site_id=None,
            is_superuser=bool(getattr(user, "is_superuser", False)),
        )
    codes = frozenset(membership.areas.values_list("code", flat=True))
    return Principal(
        user_id=user.pk,
        username=user.get_username(),
        role=membership.role,
        site_id=membership.site_id,
        area_codes=codes,
        is_superuser=bool(getattr(user, "is_superuser", False)),
        must_change_password=membership.must_change_password,
    )


def request_principal(request: HttpRequest) -> Principal:
    cached: Principal | None = getattr(request, "_maeul_principal", None)
    if cached is None:
        cached = principal_for(request.user)
        request._maeul_principal = cached  # type: ignore[attr-defined]
    return cached

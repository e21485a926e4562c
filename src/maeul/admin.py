"""Django admin for operators (superusers) only, on reference and configuration data.

Person-level models are deliberately not registered: they are read and changed only through the
registry services, which scope and audit every access.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, URLResolver

from maeul.accounts.models import Membership
from maeul.accounts.permissions import PUBLIC, SUPERUSER
from maeul.areas.models import Area, AreaChange, AreaImport
from maeul.sites.models import Site


def _superuser_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(request.user, "is_superuser", False):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.maeul_permission = SUPERUSER  # type: ignore[attr-defined]
    return wrapper


def _guard(patterns: list[Any]) -> list[Any]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            _guard(entry.url_patterns)
        elif isinstance(entry, URLPattern) and not hasattr(entry.callback, "maeul_permission"):
            entry.callback = _superuser_only(entry.callback)
    return patterns


def _to_main_login(request: HttpRequest) -> HttpResponse:
    """One login page for everyone, with the second factor."""
    return redirect("login")


_to_main_login.maeul_permission = PUBLIC  # type: ignore[attr-defined]


class MaeulAdminSite(admin.AdminSite):
    site_header = "Maeul operations"
    site_title = "Maeul operations"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and getattr(request.user, "is_superuser", False))

    def get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super().get_urls()
        for entry in urls:
            if isinstance(entry, URLPattern) and entry.name == "login":
                entry.callback = _to_main_login
        return _guard(urls)


admin_site = MaeulAdminSite(name="admin")


@admin.register(Area, site=admin_site)
class AreaAdmin(admin.ModelAdmin[Area]):
    list_display = ("code", "full_name", "level", "abolished", "valid_from", "valid_to")
    list_filter = ("level", "abolished")
    search_fields = ("code", "full_name")


@admin.register(AreaImport, site=admin_site)
class AreaImportAdmin(admin.ModelAdmin[AreaImport]):
    list_display = ("imported_at", "source", "list_date", "rows")


@admin.register(AreaChange, site=admin_site)
class AreaChangeAdmin(admin.ModelAdmin[AreaChange]):
    list_display = ("kind", "code", "related_code", "old_name", "new_name", "effective")
    list_filter = ("kind",)
    search_fields = ("code", "related_code")


@admin.register(Site, site=admin_site)
class SiteAdmin(admin.ModelAdmin[Site]):
    list_display = ("name", "slug", "programme_type", "sigungu")


@admin.register(Membership, site=admin_site)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "role", "site", "organisation")
    list_filter = ("role", "site")
    filter_horizontal = ("areas",)

"""Route declarations. Every URL route and API operation says what it needs, or that it is public."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
AUTHENTICATED = "authenticated"
SUPERUSER = "superuser"


def requires(resource: Resource, action: Action) -> Callable[[F], F]:
    """A web view needing ``action`` on ``resource``: login required, then the role must have a scope."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request_principal(request).can(resource, action):
                raise PermissionDenied
            result: HttpResponse = view(request, *args, **kwargs)
            return result

        wrapper.maeul_permission = (resource, action)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def login_only(view: F) -> F:
    """Any signed-in user; the view shows only what belongs to that user or their role."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        result: HttpResponse = view(request, *args, **kwargs)
        return result

    wrapper.maeul_permission = AUTHENTICATED  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def public(view: F) -> F:
    """Reachable without login (login pages, language switch, health check, API schema)."""
    view.maeul_permission = PUBLIC  # type: ignore[attr-defined]
    return view


def api_requires(resource: Resource, action: Action) -> Callable[[F], F]:
    """An API operation's declaration; the check itself runs in ``maeul.api.authorise``."""

    def decorate(func: F) -> F:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request_principal(request).can(resource, action):
                raise PermissionDenied
            return func(request, *args, **kwargs)

        wrapper.maeul_permission = (resource, action)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate

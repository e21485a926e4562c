"""The JSON API: /api/v1/..., OpenAPI at /api/docs, errors as RFC 9457 problem+json."""

from collections.abc import Callable
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth
from pydantic import ValidationError

from maeul.accounts import services as accounts
from maeul.accounts.permissions import public
from maeul.people.errors import ImportRejected, NotFound, RegistryError

PROBLEM = "application/problem+json"


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = accounts.user_for_token(token)
        if user is not None:
            request.user = user  # type: ignore[assignment]
            request.api_channel = "api"  # type: ignore[attr-defined]
        return user


class VerifiedSessionAuth(SessionAuth):
    """Browser session; the second-factor middleware has already refused unverified officials."""


api = NinjaAPI(
    title="Maeul API",
    version="1.0",
    description="Typed JSON API of Maeul. Machine clients send `Authorization: Bearer <token>` "
    "(tokens are issued on the account page). Errors are RFC 9457 `application/problem+json`.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=public,
    auth=[TokenAuth(), VerifiedSessionAuth()],
)


def problem(
    request: HttpRequest,
    status: int,
    title: str,
    detail: str = "",
    code: str = "",
    errors: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {"type": f"https://maeul.kr/problems/{code or status}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body["instance"] = request.path
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM
    return response


def _pointer(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "data")]
    return "/" + "/".join(parts)


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"pointer": _pointer(list(e.get("loc", []))), "detail": e.get("msg", ""), "code": e.get("type", "")}
        for e in exc.errors
    ]
    return problem(request, 422, "Invalid request", "One or more fields are not valid.", "validation", errors)


@api.exception_handler(ValidationError)
def _invalid_domain(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"pointer": _pointer(list(e["loc"])), "detail": e["msg"].removeprefix("Value error, "), "code": e["type"]}
        for e in exc.errors()
    ]
    return problem(request, 422, "Invalid request", "One or more fields are not valid.", "validation", errors)


@api.exception_handler(RegistryError)
def _registry(request: HttpRequest, exc: RegistryError) -> HttpResponse:
    errors = [{"pointer": "/" + exc.field if exc.field else "", "detail": exc.message, "code": exc.code}]
    return problem(request, 422, "Request refused", exc.message, exc.code, errors)


@api.exception_handler(ImportRejected)
def _import(request: HttpRequest, exc: ImportRejected) -> HttpResponse:
    errors = [{"pointer": f"/rows/{e.row}/{e.column}", "detail": e.message, "code": "row"} for e in exc.errors]
    return problem(request, 422, "Import rejected", "Nothing was imported.", "import_rejected", errors)


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return problem(request, 404, "Not found", f"No {exc.kind} {exc.ident} that you may see.", "not_found")


@api.exception_handler(Http404)
def _http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, 404, "Not found", str(exc) or "Not found.", "not_found")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(request, 403, "Forbidden", "Your role may not do this.", "forbidden")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem(request, 401, "Authentication required", "Send a valid bearer token.", "unauthenticated")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(request, exc.status_code, str(exc), "", str(exc.status_code))


def _register_routers() -> None:
    from maeul.accounts.api import router as accounts_router
    from maeul.areas.api import router as areas_router
    from maeul.audit.api import router as audit_router
    from maeul.people.api import router as people_router
    from maeul.safety.api import router as safety_router
    from maeul.sensing.api import router as sensing_router
    from maeul.sites.api import router as sites_router
    from maeul.watch.api import router as watch_router

    api.add_router("/v1", accounts_router)
    api.add_router("/v1/areas", areas_router)
    api.add_router("/v1/sites", sites_router)
    api.add_router("/v1/households", people_router)
    api.add_router("/v1/audit", audit_router)
    api.add_router("/v1", safety_router)
    api.add_router("/v1", sensing_router)
    api.add_router("/v1", "maeul.sensing.gateway_api.router")  # gateways' own bearer tokens
    api.add_router("/v1", watch_router)
    api.add_router("/v1", "maeul.directory.api.router")
    api.add_router("/v1", "maeul.welfare.api.router")
    api.add_router("/v1", "maeul.safetynet.api.router")
    api.add_router("/v1", "maeul.programme.api.router")
    api.add_router("/v1", "maeul.disaster.api.router")
    api.add_router("/v1", "maeul.disaster.cap_api.router")  # CAP senders' own bearer tokens


_register_routers()


def urls() -> tuple[list[Any], str, str]:
    """The API's URL patterns; its root only redirects to the documentation, so it is public."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if getattr(pattern, "name", "") == "api-root":
            public(cast(Callable[..., Any], pattern.callback))
    return patterns, app_name, namespace

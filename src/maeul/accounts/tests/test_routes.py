"""Every route declares what it needs, and the declarations hold across areas and sites."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from maeul.accounts.permissions import AUTHENTICATED, PUBLIC, SUPERUSER
from maeul.accounts.policy import MATRIX, Action, Resource, Scope
from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, SAJIK, actor_of, household_data, signed_in
from maeul.people import services as people


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _declarations() -> list[tuple[str, str, Any]]:
    """(route, method or '*', declaration) for every route, API operations one by one."""
    found = []
    for route, callback in _patterns(get_resolver()):
        closure = inspect.getclosurevars(callback).nonlocals if getattr(callback, "__closure__", None) else {}
        path_view = closure.get("self")
        if callback.__module__.startswith("ninja") and path_view is not None and hasattr(path_view, "operations"):
            for operation in path_view.operations:
                for method in operation.methods:
                    found.append((route, method, getattr(operation.view_func, "maeul_permission", None)))
        else:
            found.append((route, "*", getattr(callback, "maeul_permission", None)))
    return found


def test_every_route_declares_its_scope() -> None:
    undeclared = [(route, method) for route, method, decl in _declarations() if decl is None]
    assert undeclared == []


def test_declarations_name_known_resources_and_actions() -> None:
    for route, _method, decl in _declarations():
        if decl in (PUBLIC, AUTHENTICATED, SUPERUSER):
            continue
        resource, action = decl
        assert isinstance(resource, Resource) and isinstance(action, Action), route


def test_only_login_language_health_api_schema_and_hazard_reporting_are_public() -> None:
    public = sorted({route for route, _m, decl in _declarations() if decl == PUBLIC})
    assert public == [
        "account/login/",
        "account/logout/",
        "admin/login/",
        "api/",
        "api/docs",
        "api/openapi.json",
        "api/v1/disaster/cap",  # a CAP sender's own bearer token (disaster.cap_api.SourceTokenAuth)
        "api/v1/ingest/readings",  # a gateway's own bearer token (sensing.gateway_api.GatewayTokenAuth)
        "hazards/photos/<int:photo_id>/",  # checked inside: scope, a follower's token, or made public
        "healthz",
        "helper/sw.js",  # the phone pages' service worker script: no data, updatable after a session ends
        "i18n/setlang/",
        "open311/discovery.<str:fmt>",
        "open311/v2/requests.<str:fmt>",  # POST needs an api_key
        "open311/v2/requests/<str:service_request_id>.<str:fmt>",
        "open311/v2/services.<str:fmt>",
        "open311/v2/services/<str:service_code>.<str:fmt>",
        "open311/v2/tokens/<str:token>.<str:fmt>",
        "report/",
        "report/follow/<int:report_id>/",
        "report/nearby/",
        "report/track/<str:token>/",
    ]


def test_admin_routes_are_for_superusers_only() -> None:
    admin_routes = [(r, d) for r, _m, d in _declarations() if r.startswith("admin/") and r != "admin/login/"]
    assert admin_routes and all(d == SUPERUSER for _r, d in admin_routes)


def test_matrix_covers_every_role_and_never_gives_the_ministry_person_level_data() -> None:
    assert set(MATRIX) == set(Role)
    assert Resource.HOUSEHOLD not in MATRIX[Role.MINISTRY]
    for role, resources in MATRIX.items():
        for resource, actions in resources.items():
            for action, scope in actions.items():
                assert isinstance(scope, Scope), (role, resource, action)


HOUSEHOLD_PAGES = ["/households/{id}/", "/households/{id}/edit/", "/households/{id}/persons/new/"]
HOUSEHOLD_POSTS = ["/households/{id}/status/", "/households/{id}/contacts/", "/households/{id}/consents/"]
API_READS = ["/api/v1/households/{id}"]


@pytest.mark.django_db
def test_probes_across_areas_and_sites_find_nothing(site, other_site, make_user, site_admin) -> None:  # type: ignore[no-untyped-def]
    admin = actor_of(site_admin)
    in_sajik = people.register_household(admin, household_data(area_code=SAJIK))
    official = make_user(Role.WELFARE_OFFICIAL, site, [CHEONGUN])
    other_admin = make_user(Role.SITE_ADMIN, other_site)
    helper = make_user(Role.HELPER, site, [SAJIK])
    for user in (official, other_admin, helper):
        client = signed_in(user)
        for page in HOUSEHOLD_PAGES + API_READS:
            status = client.get(page.format(id=in_sajik.id)).status_code
            assert status in (403, 404), (user.username, page, status)
        for post in HOUSEHOLD_POSTS:
            status = client.post(post.format(id=in_sajik.id), {"status": "moved"}).status_code
            assert status in (403, 404), (user.username, post, status)
        listing = client.get("/households/", {"q": "김영자"})
        assert listing.status_code in (200, 403)
        assert "김영자</a>" not in listing.content.decode()
        api_list = client.get("/api/v1/households")
        assert api_list.status_code == 403 or api_list.json()["total"] == 0
    assert signed_in(site_admin).get(f"/households/{in_sajik.id}/").status_code == 200


@pytest.mark.django_db
def test_roles_without_household_scope_are_refused(site, make_user, household) -> None:  # type: ignore[no-untyped-def]
    for role in (Role.MINISTRY, Role.BODY_MEMBER):
        user = make_user(role, None if role == Role.MINISTRY else site, [CHEONGUN])
        client = signed_in(user)
        assert client.get("/households/").status_code == 403
        assert client.get(f"/households/{household.id}/").status_code == 403
        assert client.get("/households/export/").status_code == 403
        assert client.get("/audit/").status_code == 403
        assert client.get(f"/api/v1/households/{household.id}").status_code == 403


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login(household) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for route, _method, decl in _declarations():
        if decl == PUBLIC or "<" in route or route.startswith("api/"):
            continue
        response = client.get("/" + route)
        assert response.status_code == 302 and "/account/login/" in response["Location"], route
    assert client.get(f"/api/v1/households/{household.id}").status_code == 401


@pytest.mark.django_db
def test_site_pages_are_for_their_roles(site, make_user) -> None:  # type: ignore[no-untyped-def]
    official = make_user(Role.WELFARE_OFFICIAL, site, [CHEONGUN])
    assert signed_in(official).get("/site/settings/").status_code == 403
    assert signed_in(official).get("/admin/").status_code == 403
    assert signed_in(official).get("/areas/4183025000/").status_code == 403
    assert signed_in(official).get(f"/areas/{CHEONGUN}/").status_code == 200

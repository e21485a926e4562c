"""The JSON API: problem+json errors with field pointers, and a schemathesis run over the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from maeul.accounts import services as accounts
from maeul.conftest import CHEONGUN, SAJIK, signed_in
from maeul.wsgi import application

PROBLEM = "application/problem+json"


def _client(user: Any) -> tuple[Client, dict[str, str]]:
    token = accounts.issue_api_token(user, "test").plaintext
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _new_household(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "area_code": CHEONGUN,
        "address": "서울특별시 종로구 자하문로 92",
        "housing_type": "semi_basement",
        "living_alone": True,
        "care_level": 3,
        "primary_person": {"name": "김영자", "birth_year": 1940, "sex": "F", "phone": "010-2345-6789"},
        "consents": [{"purpose": "care_registry", "given_on": "2026-01-05"}],
    }
    body.update(extra)
    return body


@pytest.mark.django_db
def test_create_read_and_update_through_the_api(official) -> None:  # type: ignore[no-untyped-def]
    client, auth = _client(official)
    created = client.post("/api/v1/households", _new_household(), content_type="application/json", **auth)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["persons"][0]["phone"] == "010-2345-6789" and body["area_code"] == CHEONGUN
    changed = client.patch(
        f"/api/v1/households/{body['id']}", {"care_level": 2}, content_type="application/json", **auth
    )
    assert changed.status_code == 200 and changed.json()["care_level"] == 2
    listing = client.get("/api/v1/households", {"q": "010-2345-6789"}, **auth).json()
    assert listing["total"] == 1 and listing["rows"][0]["primary_name"] == "김영자"


@pytest.mark.django_db
def test_validation_errors_are_problem_details_with_pointers(official) -> None:  # type: ignore[no-untyped-def]
    client, auth = _client(official)
    bad = _new_household(primary_person={"name": "", "phone": "12"}, latitude=91)
    response = client.post("/api/v1/households", bad, content_type="application/json", **auth)
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422 and problem["title"] and problem["type"].startswith("https://")
    pointers = {e["pointer"] for e in problem["errors"]}
    assert {"/latitude", "/primary_person/name", "/primary_person/phone"} <= pointers


@pytest.mark.django_db
def test_scope_refusals_are_problem_details(official, site_admin) -> None:  # type: ignore[no-untyped-def]
    admin, admin_auth = _client(site_admin)
    other = admin.post(
        "/api/v1/households", _new_household(area_code=SAJIK), content_type="application/json", **admin_auth
    ).json()
    client, auth = _client(official)
    response = client.get(f"/api/v1/households/{other['id']}", **auth)
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    refused = client.post(
        "/api/v1/households", _new_household(area_code=SAJIK), content_type="application/json", **auth
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/area_code"
    forbidden = client.get("/api/v1/audit", **auth)
    assert forbidden.status_code == 403 and forbidden.json()["title"] == "Forbidden"


@pytest.mark.django_db
def test_csv_import_errors_point_at_rows(site_admin) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    client, auth = _client(site_admin)
    upload = SimpleUploadedFile(
        "h.csv", b"area_code,address,name,consent_given_on\n1111051500,x,,2026-01-01\n", content_type="text/csv"
    )
    response = client.post("/api/v1/households/import", {"file": upload}, **auth)
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} >= {"/rows/2/address", "/rows/2/name"}


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def api_token(site_admin, household) -> Iterator[str]:  # type: ignore[no-untyped-def]
    # schemathesis calls the WSGI app directly, which would close the test's database connection after each
    # request; Django's own test client disconnects the same signal handlers.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield accounts.issue_api_token(site_admin, "schemathesis").plaintext
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_operations_never_fail_with_a_server_error(case: Any, api_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_token}"}, checks=[not_a_server_error, response_schema_conformance]
    )


@pytest.mark.django_db
def test_nul_characters_are_refused_clearly(official) -> None:  # type: ignore[no-untyped-def]
    client, auth = _client(official)
    response = client.get("/api/v1/areas", {"q": "종로\x00"}, **auth)
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    body = _new_household(address="서울특별시 종로구 자하문로 92\x00")
    assert client.post("/api/v1/households", body, content_type="application/json", **auth).status_code == 400
    page = signed_in(official).get("/households/", {"q": "\x00"})
    assert page.status_code == 400


@pytest.mark.django_db
def test_a_page_offset_beyond_any_database_integer_is_refused(official) -> None:  # type: ignore[no-untyped-def]
    client, auth = _client(official)
    response = client.get("/api/v1/areas", {"offset": "234675015054986447777955840"}, **auth)
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM

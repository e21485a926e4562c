"""The devices API: provisioning and changing a household's devices, the CSV import, claiming, gateways with
their one-time token, dead letters; scope refusals as problem+json; the operations in the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from maeul.accounts import services as accounts
from maeul.accounts.roles import Role
from maeul.api import PROBLEM
from maeul.audit.models import AuditEntry
from maeul.conftest import CHEONGUN, SAJIK
from maeul.sensing import services
from maeul.sensing.models import DeadLetter, UnclaimedDevice

pytestmark = pytest.mark.django_db


def _auth(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"HTTP_AUTHORIZATION": f"Bearer {accounts.issue_api_token(user, 'test').plaintext}"}


def test_an_official_provisions_lists_and_changes_devices(official, household) -> None:  # type: ignore[no-untyped-def]
    client, auth = Client(), _auth(official)
    url = f"/api/v1/households/{household.id}/devices"
    body = {"protocol": "zigbee2mqtt", "identity": "101/bedroom/motion", "room": "bedroom", "kinds": ["motion"]}
    created = client.post(url, body, content_type="application/json", **auth)
    assert created.status_code == 201 and created.json()["health"] == "never_seen"
    device_id = created.json()["id"]
    listed = client.get(url, **auth).json()
    assert [d["identity"] for d in listed] == ["101/bedroom/motion"]
    assert AuditEntry.objects.filter(
        resource="device", action="view", household_id=household.id, channel="api"
    ).exists()
    changed = client.patch(
        f"/api/v1/devices/{device_id}", {"label": "침대 옆", "kinds": ["motion", "battery"]},
        content_type="application/json", **auth,
    )  # fmt: skip
    assert changed.status_code == 200 and changed.json()["label"] == "침대 옆" and changed.json()["room"] == "bedroom"
    again = client.post(url, body, content_type="application/json", **auth)
    assert again.status_code == 422 and again["Content-Type"] == PROBLEM
    assert again.json()["errors"][0] == {
        "pointer": "/identity",
        "detail": f"zigbee2mqtt device '101/bedroom/motion' is already provisioned in household {household.reference}",
        "code": "identity_taken",
    }
    bad = client.post(url, {**body, "identity": "x/set", "kinds": ["warp"]}, content_type="application/json", **auth)
    assert bad.status_code == 422 and {e["pointer"] for e in bad.json()["errors"]} == {"/identity", "/kinds"}
    removed = client.post(f"/api/v1/devices/{device_id}/deactivate", **auth).json()
    assert removed["active"] is False and removed["health"] == "inactive"
    health = client.get("/api/v1/devices", **auth).json()
    assert health["counts"]["total"] == 0


def test_devices_out_of_scope_are_not_found_and_roles_without_devices_are_forbidden(  # type: ignore[no-untyped-def]
    site, make_user, household
) -> None:
    sajik = make_user(Role.WELFARE_OFFICIAL, site, [SAJIK])
    response = Client().get(f"/api/v1/households/{household.id}/devices", **_auth(sajik))
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    helper = make_user(Role.HELPER, site, [CHEONGUN])
    for path in (f"/api/v1/households/{household.id}/devices", "/api/v1/devices", "/api/v1/gateways"):
        assert Client().get(path, **_auth(helper)).status_code == 403


def test_csv_import_through_the_api(site_admin, household) -> None:  # type: ignore[no-untyped-def]
    client, auth = Client(), _auth(site_admin)
    good = f"household_reference,protocol,identity,kinds\n{household.reference},tasmota,kettle,switch|power\n"
    response = client.post("/api/v1/devices/import", {"file": SimpleUploadedFile("d.csv", good.encode())}, **auth)
    assert response.status_code == 201 and response.json()["imported"] == 1
    bad = f"household_reference,protocol,identity,kinds\n{household.reference},tasmota,kettle,switch\n,http,x,\n"
    response = client.post("/api/v1/devices/import", {"file": SimpleUploadedFile("d.csv", bad.encode())}, **auth)
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"/rows/2/identity", "/rows/3/household_reference"}


def test_claiming_and_ignoring_unclaimed_devices(site, official, household) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    common = {"site": site, "protocol": "tasmota", "first_seen_at": now, "last_seen_at": now, "sample_topic": "t"}
    plug = UnclaimedDevice.objects.create(identity="plug_1", kinds=["switch"], sample_payload="{}", **common)
    stray = UnclaimedDevice.objects.create(identity="neighbour", sample_payload="{}", **common)
    client, auth = Client(), _auth(official)
    assert {u["identity"] for u in client.get("/api/v1/devices/unclaimed", **auth).json()} == {"plug_1", "neighbour"}
    claimed = client.post(
        f"/api/v1/devices/unclaimed/{plug.pk}/claim", {"household_id": household.id, "kinds": ["switch"]},
        content_type="application/json", **auth,
    )  # fmt: skip
    assert claimed.status_code == 201 and claimed.json()["identity"] == "plug_1"
    assert client.post(f"/api/v1/devices/unclaimed/{stray.pk}/ignore", **auth).json()["ignored"] is True
    assert client.get("/api/v1/devices/unclaimed", **auth).json() == []


def test_gateways_token_once_and_rotation(site_admin, official) -> None:  # type: ignore[no-untyped-def]
    client, auth = Client(), _auth(site_admin)
    created = client.post("/api/v1/gateways", {"name": "경로당"}, content_type="application/json", **auth)
    assert created.status_code == 201
    token = created.json()["token"]
    assert services.gateway_for_token(token) is not None and created.json()["heartbeat_minutes"] == 15
    listed = client.get("/api/v1/gateways", **auth).json()
    assert "token" not in listed[0] and listed[0]["token_hint"] == token[:8] and listed[0]["status"] == "never_seen"
    rotated = client.post(f"/api/v1/gateways/{listed[0]['id']}/rotate", **auth).json()
    assert rotated["token"] != token and services.gateway_for_token(token) is None
    refused = Client().post("/api/v1/gateways", {"name": "x"}, content_type="application/json", **_auth(official))
    assert refused.status_code == 403


def test_dead_letters_through_the_api(site, official) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    for minutes in (5, 1):
        DeadLetter.objects.create(
            site=site, received_at=now - timedelta(minutes=minutes), source="zigbee2mqtt",
            topic=f"zigbee2mqtt/{minutes}", payload="{", reason="malformed", detail="payload is not JSON",
        )  # fmt: skip
    page = Client().get("/api/v1/dead-letters", {"reason": "malformed"}, **_auth(official)).json()
    assert page["total"] == 2 and [r["topic"] for r in page["rows"]] == ["zigbee2mqtt/1", "zigbee2mqtt/5"]


def test_the_openapi_document_describes_the_device_operations() -> None:
    document = Client().get("/api/openapi.json").json()
    paths = document["paths"]
    for path in (
        "/api/v1/households/{household_id}/devices",
        "/api/v1/devices",
        "/api/v1/devices/import",
        "/api/v1/devices/{device_id}",
        "/api/v1/devices/unclaimed/{unclaimed_id}/claim",
        "/api/v1/gateways",
        "/api/v1/gateways/{gateway_id}/rotate",
        "/api/v1/dead-letters",
    ):
        assert path in paths, path
    assert "GatewayTokenOut" in str(paths["/api/v1/gateways"]["post"]["responses"]["201"])
    assert "token" in document["components"]["schemas"]["GatewayTokenOut"]["properties"]

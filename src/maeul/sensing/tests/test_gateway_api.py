"""POST /api/v1/ingest/readings: gateways authenticate with their own token and get per-item answers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest
from django.test import Client, override_settings

from maeul.people.services import HouseholdView
from maeul.sensing import tokens
from maeul.sensing.models import DeadLetter, Device, Gateway, Protocol, Reading, UnclaimedDevice
from maeul.sensing.stream import Detection, DeviceStatus, StoredReading
from maeul.sites.models import Site

URL = "/api/v1/ingest/readings"


@pytest.fixture
def gateway(site: Site, household: HouseholdView) -> tuple[Gateway, str]:
    token = tokens.new_token()
    made = Gateway.objects.create(site=site, name="hub-101", token_hash=tokens.token_hash(token))
    for identity in ("door-1", "sos-1"):
        Device.objects.create(site=site, household_id=household.id, protocol=Protocol.HTTP, identity=identity)
    return made, token


def post(body: Any, token: str | None, raw: bytes | None = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body).encode()
    return Client().post(URL, data=data, content_type="application/json", **headers)


@pytest.mark.django_db
def test_a_gateway_token_is_required(gateway: tuple[Gateway, str]) -> None:
    made, token = gateway
    for bad in (None, "mgw_wrong", "x" * 500):
        response = post({"device": "door-1", "kind": "contact", "value": "open"}, bad)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
    made.active = False
    made.save()
    assert post({"device": "door-1", "kind": "contact", "value": "open"}, token).status_code == 401
    assert Reading.objects.count() == 0


@pytest.mark.django_db
def test_items_succeed_or_fail_on_their_own(gateway: tuple[Gateway, str]) -> None:
    made, token = gateway
    body = [
        {"device": "door-1", "kind": "contact", "value": "open", "at": "2026-11-25T09:30:00+09:00"},
        {"device": "door-1", "kind": "contact", "value": "ajar"},
        {"kind": "motion", "value": 1},
        {"device": "hall-9", "kind": "motion", "value": 1},
        {"device": "sos-1", "kind": "sos", "value": True},
        "nonsense",
    ]
    response = post(body, token)
    assert response.status_code == 200
    assert response.json() == {
        "stored": 2,
        "readings": 2,
        "duplicates": 0,
        "dead_lettered": 3,
        "unclaimed": 1,
        "errors": [
            {"index": 1, "outcome": "malformed", "detail": "value: expected a number, got 'ajar'"},
            {"index": 2, "outcome": "malformed", "detail": "device: expected the device's id (1 to 200 characters)"},
            {"index": 3, "outcome": "unclaimed", "detail": "hall-9"},
            {"index": 5, "outcome": "malformed", "detail": "device: expected the device's id (1 to 200 characters)"},
        ],
    }
    assert sorted(Reading.objects.values_list("kind", "value")) == [("contact", 1.0), ("sos", 1.0)]
    assert DeadLetter.objects.filter(source=Protocol.HTTP).count() == 3
    assert UnclaimedDevice.objects.get().protocol == Protocol.HTTP
    made.refresh_from_db()
    assert made.last_seen_at is not None
    # A retry of the same body (say, after a timeout) stores nothing new for the items that carry their time.
    again = post(body[:1], token).json()
    assert (again["stored"], again["duplicates"]) == (0, 1)
    assert Reading.objects.count() == 2


@pytest.mark.django_db
def test_one_object_is_a_body_too(gateway: tuple[Gateway, str]) -> None:
    _made, token = gateway
    response = post({"device": "sos-1", "kind": "sos", "value": 1}, token)
    assert response.json()["stored"] == 1


@pytest.mark.django_db
def test_bodies_that_cannot_be_read(gateway: tuple[Gateway, str]) -> None:
    _made, token = gateway
    response = post(None, token, raw=b"{not json")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert DeadLetter.objects.get().detail.startswith("body is not UTF-8 JSON")
    assert post([], token).status_code == 422
    with override_settings(MAEUL_GATEWAY_MAX_BODY_BYTES=100):
        big = [{"device": "door-1", "kind": "contact", "value": "open"}] * 10
        assert post(big, token).status_code == 413
    assert Reading.objects.count() == 0


class Consumer:
    def __init__(self) -> None:
        self.seen: list[StoredReading] = []

    def readings(self, batch: Sequence[StoredReading]) -> None:
        self.seen.extend(batch)

    def statuses(self, batch: Sequence[DeviceStatus]) -> None:
        pass

    def tick(self, now: datetime) -> None:
        pass


@pytest.mark.django_db
def test_http_readings_reach_detection(site: Site, gateway: tuple[Gateway, str]) -> None:
    _made, token = gateway
    consumer = Consumer()
    detection = Detection(site.pk, 0, 1, [consumer])
    post({"device": "sos-1", "kind": "sos", "value": 1}, token)
    assert detection.catch_up() == 1
    assert [(r.device, r.kind, r.value) for r in consumer.seen] == [("sos-1", "sos", 1.0)]

"""The device registry: provisioning in scope, identities per protocol, the all-or-nothing CSV import, claiming
unclaimed devices, gateways and their tokens, device health and the reading queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from pydantic import ValidationError

from maeul.accounts.roles import Role
from maeul.audit.models import AuditEntry
from maeul.conftest import CHEONGUN, SAJIK, actor_of, household_data
from maeul.people import services as people
from maeul.sensing import services, tokens
from maeul.sensing.errors import ImportRejected, NotFound, SensingError
from maeul.sensing.models import DeadLetter, Device, Gateway, HourlyReading, IngestCounter, Reading, UnclaimedDevice
from maeul.sensing.schemas import ClaimInput, DeviceChange, DeviceInput, GatewayChange, GatewayInput

pytestmark = pytest.mark.django_db


def motion(identity: str = "bedroom/motion", **extra: object) -> DeviceInput:
    values: dict[str, object] = {
        "protocol": "zigbee2mqtt",
        "identity": identity,
        "room": "bedroom",
        "kinds": ["motion", "battery"],
    }
    values.update(extra)
    return DeviceInput.model_validate(values)


def test_an_official_provisions_a_device_in_their_area_and_it_is_recorded(official, household) -> None:  # type: ignore[no-untyped-def]
    device = services.provision_device(actor_of(official), household.id, motion(label="침실"))
    assert device.identity == "bedroom/motion" and device.household_reference == household.reference
    assert device.health == services.Health.NEVER_SEEN and device.kinds == ["motion", "battery"]
    entry = AuditEntry.objects.get(resource="device", action="create")
    assert entry.household_id == household.id and entry.area_code == CHEONGUN
    found = services.household_devices(actor_of(official), household.id)
    assert [d.id for d in found.devices] == [device.id]
    assert AuditEntry.objects.filter(resource="device", action="view", household_id=household.id).count() == 1


def test_other_areas_roles_and_sites_cannot_see_or_equip_a_household(  # type: ignore[no-untyped-def]
    site, other_site, make_user, household
) -> None:
    sajik_official = make_user(Role.WELFARE_OFFICIAL, site, [SAJIK])
    other_admin = make_user(Role.SITE_ADMIN, other_site)
    for user in (sajik_official, other_admin):
        with pytest.raises(NotFound):
            services.provision_device(actor_of(user), household.id, motion())
        with pytest.raises(NotFound):
            services.household_devices(actor_of(user), household.id)
    helper = make_user(Role.HELPER, site, [CHEONGUN])
    with pytest.raises(NotFound):
        services.household_devices(actor_of(helper), household.id)
    with pytest.raises(PermissionDenied):
        services.gateways(actor_of(helper).principal)


@pytest.mark.parametrize(
    ("protocol", "identity", "ok"),
    [
        ("zigbee2mqtt", "living room/motion 1", True),
        ("zigbee2mqtt", "bridge/state", False),
        ("zigbee2mqtt", "kitchen/plug/set", False),
        ("zigbee2mqtt", "door/availability", False),
        ("zigbee2mqtt", "/leading", False),
        ("zigbee2mqtt", "a//b", False),
        ("tasmota", "kettle_plug", True),
        ("tasmota", "tele/kettle", False),
        ("generic", "home-12/mat", True),
        ("generic", "sensor+1", False),
        ("http", "gw-7:sensor-3", True),
        ("http", "gw/3", False),
    ],
)
def test_identities_follow_each_protocol(protocol: str, identity: str, ok: bool) -> None:
    if ok:
        assert DeviceInput(protocol=protocol, identity=identity).identity == identity  # type: ignore[arg-type]
    else:
        with pytest.raises(ValidationError):
            DeviceInput(protocol=protocol, identity=identity)  # type: ignore[arg-type]


def test_kinds_must_be_known() -> None:
    with pytest.raises(ValidationError, match="unknown kind"):
        motion(kinds=["motion", "teleport"])
    assert motion(kinds=[" Motion ", "motion", "battery"]).kinds == ["motion", "battery"]


def test_an_identity_is_provisioned_once_per_site_and_a_removed_device_can_be_reused(  # type: ignore[no-untyped-def]
    site_admin, household
) -> None:
    admin = actor_of(site_admin)
    other = people.register_household(admin, household_data(area_code=SAJIK, name="박철수", phone=None))
    device = services.provision_device(admin, household.id, motion())
    with pytest.raises(SensingError, match=household.reference) as exc:
        services.provision_device(admin, other.id, motion())
    assert exc.value.code == "identity_taken"
    services.deactivate_device(admin, device.id)
    moved = services.provision_device(admin, other.id, motion(room="kitchen"))
    assert moved.id == device.id and moved.household_id == other.id and moved.active and moved.room == "kitchen"


def test_an_official_is_not_told_which_household_elsewhere_holds_an_identity(  # type: ignore[no-untyped-def]
    site_admin, official, household
) -> None:
    admin = actor_of(site_admin)
    other = people.register_household(admin, household_data(area_code=SAJIK, name="박철수", phone=None))
    services.provision_device(admin, other.id, motion())
    with pytest.raises(SensingError, match="another eup/myeon/dong") as exc:
        services.provision_device(actor_of(official), household.id, motion())
    assert other.reference not in exc.value.message


def test_update_changes_only_what_was_sent(official, household) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(official)
    device = services.provision_device(actor, household.id, motion(label="침실", vendor="Aqara"))
    renamed = services.update_device(actor, device.id, DeviceChange(identity="bedroom/motion-2", room="living"))
    assert renamed.identity == "bedroom/motion-2" and renamed.room == "living"
    assert renamed.label == "침실" and renamed.vendor == "Aqara" and renamed.kinds == ["motion", "battery"]
    with pytest.raises(SensingError, match="MQTT wildcards"):
        services.update_device(actor, device.id, DeviceChange(identity="bedroom/#"))
    changes = AuditEntry.objects.filter(resource="device", action="change").first()
    assert changes is not None and changes.changes_encrypted  # the diff is kept, encrypted


def test_consent_withdrawn_means_no_new_devices(site_admin, household) -> None:  # type: ignore[no-untyped-def]
    from maeul.people.models import Household

    Household.objects.filter(pk=household.id).update(processing_stopped=True)
    with pytest.raises(SensingError) as exc:
        services.provision_device(actor_of(site_admin), household.id, motion())
    assert exc.value.code == "processing_stopped"


# --- CSV ---------------------------------------------------------------------------------------------------


def _csv(*rows: str, header: str = "household_reference,protocol,identity,vendor,model,room,label,kinds") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_csv_import_provisions_every_row(site, site_admin, household) -> None:  # type: ignore[no-untyped-def]
    Gateway.objects.create(site=site, name="허브-1", token_hash="a" * 64)
    content = _csv(
        f"{household.reference},zigbee2mqtt,101/침실/motion,Aqara,RTCGQ11LM,bedroom,침대 옆,motion|battery,허브-1",
        f"{household.reference},tasmota,kettle_plug,,,kitchen,전기포트,switch|power,",
        header="household_reference,protocol,identity,vendor,model,room,label,kinds,gateway",
    )
    created = services.bulk_provision_csv(actor_of(site_admin), site, content)
    assert sorted(d.identity for d in created) == ["101/침실/motion", "kettle_plug"]
    assert next(d for d in created if d.protocol == "zigbee2mqtt").gateway_name == "허브-1"
    assert AuditEntry.objects.filter(resource="device", action="import", record_count=2).exists()


def test_csv_import_is_all_or_nothing_with_every_problem_by_row_and_column(  # type: ignore[no-untyped-def]
    site, site_admin, household
) -> None:
    services.provision_device(actor_of(site_admin), household.id, motion("taken"))
    ref = household.reference
    content = _csv(
        f"{ref},zigbee2mqtt,ok/one,,,bedroom,,motion",  # fine on its own
        "H-999999,zigbee2mqtt,ok/two,,,bedroom,,motion",  # no such household
        f"{ref},lora,dev3,,,bedroom,,motion",  # unknown protocol
        f"{ref},zigbee2mqtt,ok/one,,,bedroom,,motion",  # the same device as row 2
        f"{ref},zigbee2mqtt,taken,,,bedroom,,motion",  # already provisioned
        f"{ref},tasmota,plug,,,attic,,switch|warp",  # room and kind unknown
        f"{ref},zigbee2mqtt,bridge/x,,,bedroom,,",  # Zigbee2MQTT's own topic
    )
    with pytest.raises(ImportRejected) as exc:
        services.bulk_provision_csv(actor_of(site_admin), site, content)
    problems = {(e.row, e.column) for e in exc.value.errors}
    assert problems == {
        (3, "household_reference"),
        (4, "protocol"),
        (5, "identity"),
        (6, "identity"),
        (7, "room"),
        (7, "kinds"),
        (8, "identity"),
    }
    assert next(e for e in exc.value.errors if e.row == 5).message == "the same device as row 2"
    assert "warp" in next(e for e in exc.value.errors if e.column == "kinds").message
    assert Device.objects.count() == 1  # nothing imported


def test_csv_header_problems_and_scope(site, other_site, site_admin, official, household) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportRejected) as exc:
        services.bulk_provision_csv(actor_of(site_admin), site, b"household_reference,identity,colour\n")
    assert {(e.column, e.message) for e in exc.value.errors} == {
        ("protocol", "required column is missing"),
        ("colour", "unknown column"),
    }
    with pytest.raises(PermissionDenied):
        services.bulk_provision_csv(actor_of(site_admin), other_site, _csv())
    with pytest.raises(PermissionDenied):  # officials provision one by one; import is the site's
        services.bulk_provision_csv(actor_of(official), site, _csv())
    cp949 = _csv(f"{household.reference},zigbee2mqtt,거실/문,,,living,현관문,contact").decode().encode("cp949")
    assert services.bulk_provision_csv(actor_of(site_admin), site, cp949)[0].identity == "거실/문"


# --- unclaimed devices -------------------------------------------------------------------------------------


def _unclaimed(site, identity: str = "0x00158d0001a2b3c4", **extra: object) -> UnclaimedDevice:  # type: ignore[no-untyped-def]
    now = timezone.now()
    values: dict[str, object] = {
        "site": site,
        "protocol": "zigbee2mqtt",
        "identity": identity,
        "first_seen_at": now - timedelta(hours=3),
        "last_seen_at": now,
        "messages": 12,
        "kinds": ["contact", "battery"],
        "sample_topic": f"zigbee2mqtt/{identity}",
        "sample_payload": '{"contact": false, "battery": 91}',
    }
    values.update(extra)
    return UnclaimedDevice.objects.create(**values)


def test_claiming_provisions_the_device_and_removes_it_from_the_list(site, official, household) -> None:  # type: ignore[no-untyped-def]
    unclaimed = _unclaimed(site)
    actor = actor_of(official)
    assert [u.pk for u in services.unclaimed_devices(actor.principal)] == [unclaimed.pk]
    device = services.claim_device(
        actor, unclaimed.pk, ClaimInput(household_id=household.id, room="entrance", kinds=unclaimed.kinds)
    )
    assert (device.protocol, device.identity, device.kinds) == (
        "zigbee2mqtt",
        unclaimed.identity,
        ["contact", "battery"],
    )
    assert not UnclaimedDevice.objects.exists() and Reading.objects.count() == 0  # the past is not imported
    assert services.find_households(actor.principal, household.reference[-3:])[0].id == household.id


def test_claiming_for_a_household_out_of_scope_is_refused(site, site_admin, official) -> None:  # type: ignore[no-untyped-def]
    other = people.register_household(actor_of(site_admin), household_data(area_code=SAJIK, name="박철수", phone=None))
    unclaimed = _unclaimed(site)
    with pytest.raises(NotFound):
        services.claim_device(actor_of(official), unclaimed.pk, ClaimInput(household_id=other.id))
    assert services.find_households(actor_of(official).principal, other.reference) == []
    assert UnclaimedDevice.objects.filter(pk=unclaimed.pk).exists()


def test_ignoring_hides_and_other_sites_see_nothing(site, other_site, official, make_user) -> None:  # type: ignore[no-untyped-def]
    unclaimed = _unclaimed(site)
    services.ignore_unclaimed(actor_of(official), unclaimed.pk)
    assert services.unclaimed_devices(actor_of(official).principal) == []
    assert len(services.unclaimed_devices(actor_of(official).principal, include_ignored=True)) == 1
    elsewhere = make_user(Role.SITE_ADMIN, other_site)
    assert services.unclaimed_devices(actor_of(elsewhere).principal, include_ignored=True) == []
    with pytest.raises(NotFound):
        services.ignore_unclaimed(actor_of(elsewhere), unclaimed.pk)


# --- gateways ----------------------------------------------------------------------------------------------


def test_gateway_token_is_shown_once_found_by_hash_rotated_and_revoked(site_admin) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(site_admin)
    view, token = services.create_gateway(actor, GatewayInput(name="경로당 허브", heartbeat_minutes=10))
    stored = Gateway.objects.get(pk=view.id)
    assert token.startswith(tokens.PREFIX) and stored.token_hash == tokens.token_hash(token)
    assert token not in str(Gateway.objects.values().get(pk=view.id)) and view.token_hint == token[:8]
    assert services.gateway_for_token(token) == stored
    assert services.gateway_for_token("mgw_wrong") is None and services.gateway_for_token("") is None
    _rotated, new = services.rotate_gateway_token(actor, view.id)
    assert services.gateway_for_token(token) is None and services.gateway_for_token(new) == stored
    services.deactivate_gateway(actor, view.id)
    assert services.gateway_for_token(new) is None
    with pytest.raises(SensingError, match="exists"):
        services.create_gateway(actor, GatewayInput(name="경로당 허브"))


def test_gateway_status_follows_its_heartbeat(site, site_admin, official) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    Gateway.objects.create(site=site, name="a", token_hash="1" * 64, last_seen_at=now - timedelta(minutes=5))
    Gateway.objects.create(site=site, name="b", token_hash="2" * 64, last_seen_at=now - timedelta(minutes=20))
    Gateway.objects.create(site=site, name="c", token_hash="3" * 64)
    Gateway.objects.create(site=site, name="d", token_hash="4" * 64, last_seen_at=now, online=False)
    statuses = {g.name: g.status for g in services.gateways(actor_of(official).principal, now)}
    assert statuses == {"a": "up", "b": "down", "c": "never_seen", "d": "down"}
    with pytest.raises(PermissionDenied):  # a gateway's token writes readings for the site: site-wide scope only
        services.create_gateway(actor_of(official), GatewayInput(name="mine"))
    changed = services.update_gateway(
        actor_of(site_admin), Gateway.objects.get(name="b").pk, GatewayChange(heartbeat_minutes=30)
    )
    assert changed.heartbeat_minutes == 30 and changed.status == "up"


# --- health, dead letters and reading queries -----------------------------------------------------------------


def test_device_health_counts_and_problems_first(official, household) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(official)
    now = timezone.now()
    ids = {name: services.provision_device(actor, household.id, motion(name)).id for name in "abcde"}
    Device.objects.filter(pk=ids["a"]).update(last_seen_at=now, battery_percent=80, available=True)
    Device.objects.filter(pk=ids["b"]).update(last_seen_at=now - timedelta(hours=7))
    Device.objects.filter(pk=ids["c"]).update(last_seen_at=now, battery_percent=9)
    Device.objects.filter(pk=ids["d"]).update(last_seen_at=now, available=False)
    page = services.device_health(actor, now=now)
    assert (page.counts.total, page.counts.offline, page.counts.never_seen, page.counts.battery_low) == (5, 2, 1, 1)
    assert [r.health for r in page.rows] == ["offline", "offline", "never_seen", "battery_low", "ok"]
    assert [r.identity for r in services.device_health(actor, health="battery_low", now=now).rows] == ["c"]
    assert [r.identity for r in services.device_health(actor, sort="battery", now=now).rows][:2] == ["c", "a"]
    assert AuditEntry.objects.filter(resource="device", action="list", household_id=household.id).exists()


def test_dead_letters_newest_first_with_counts(site, official) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    for hours, reason, source in (
        (1, "malformed", "zigbee2mqtt"),
        (30, "malformed", "tasmota"),
        (2, "unrecognised", ""),
    ):
        DeadLetter.objects.create(
            site=site, received_at=now - timedelta(hours=hours), source=source, topic="t", payload="x" * 5000,
            reason=reason, detail="d",
        )  # fmt: skip
    IngestCounter.objects.create(site=site, day=timezone.localdate(now), outcome="stored", messages=40, readings=90)
    principal = actor_of(official).principal
    page = services.dead_letters(principal)
    assert [r.reason for r in page.rows] == ["malformed", "unrecognised", "malformed"]
    assert page.rows[0].payload_cut and len(page.rows[0].payload) == 1000
    assert services.dead_letters(principal, source="unknown").total == 1
    assert services.dead_letters(principal, reason="malformed", source="tasmota").total == 1
    counts = services.dead_letter_counts(principal, now)
    assert counts.by_reason == {"malformed": (1, 2), "unrecognised": (1, 1), "rejected": (0, 0)}
    assert counts.outcomes == {"stored": (40, 40)}


def _reading(device: Device, kind: str, value: float, at: datetime) -> Reading:
    return Reading.objects.create(device=device, household_id=device.household_id, kind=kind, value=value, at=at)


def test_activity_by_hour_counts_signs_of_life_from_raw_and_rolled_up_readings(official, household) -> None:  # type: ignore[no-untyped-def]
    view = services.provision_device(actor_of(official), household.id, motion(kinds=["motion", "temperature"]))
    device = Device.objects.get(pk=view.id)
    hour = datetime(2026, 11, 20, 5, tzinfo=UTC)
    _reading(device, "motion", 1, hour + timedelta(minutes=5))
    _reading(device, "motion", 0, hour + timedelta(minutes=6))  # no one: not activity
    _reading(device, "temperature", 21.5, hour + timedelta(minutes=7))  # not activity
    _reading(device, "switch", 0, hour + timedelta(minutes=40))  # switched off: someone did it
    _reading(device, "motion", 1, hour + timedelta(hours=2, minutes=1))
    HourlyReading.objects.create(
        device=device, household_id=device.household_id, kind="motion", hour=hour - timedelta(days=40),
        count=10, total=4, minimum=0, maximum=1,
    )  # fmt: skip
    HourlyReading.objects.create(
        device=device, household_id=device.household_id, kind="appliance", hour=hour - timedelta(days=40),
        count=3, total=1, minimum=0, maximum=1,
    )  # fmt: skip
    result = services.activity_by_hour(household.id, hour - timedelta(days=41), hour + timedelta(days=1))
    assert result == {hour - timedelta(days=40): 7, hour: 2, hour + timedelta(hours=2): 1}
    rows = services.recent_readings(household.id, hour, hour + timedelta(hours=1), kinds=["motion"])
    assert [(r.value, r.room) for r in rows] == [(0, "bedroom"), (1, "bedroom")]
    summary = services.device_summary(household.id)
    assert len(summary.devices) == 1 and summary.never_seen == 1 and summary.last_seen_at is None

"""Device pages: officials see and equip their area's households, the site's device health, unclaimed devices,
gateways and dead letters; other roles, areas and sites are refused. One browser test claims a device on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from maeul.accounts.roles import Role
from maeul.audit.models import AuditEntry
from maeul.conftest import CHEONGUN, SAJIK, actor_of, household_data, signed_in
from maeul.people import services as people
from maeul.sensing import services
from maeul.sensing.models import DeadLetter, Device, Gateway, UnclaimedDevice
from maeul.sensing.schemas import DeviceInput
from maeul.testing.browser import ARTIFACTS, next_code

PHONE = {"width": 360, "height": 780}


def _unclaimed(site, identity: str = "현관/문센서") -> UnclaimedDevice:  # type: ignore[no-untyped-def]
    now = timezone.now()
    return UnclaimedDevice.objects.create(
        site=site, protocol="zigbee2mqtt", identity=identity, first_seen_at=now - timedelta(days=1),
        last_seen_at=now - timedelta(minutes=3), messages=40, kinds=["contact", "battery"],
        sample_topic=f"zigbee2mqtt/{identity}", sample_payload='{"contact": true, "battery": 87, "x": "<script>"}',
    )  # fmt: skip


@pytest.mark.django_db
def test_the_household_page_loads_its_devices_section_and_it_is_recorded(official, household) -> None:  # type: ignore[no-untyped-def]
    device = services.provision_device(
        actor_of(official),
        household.id,
        DeviceInput(protocol="zigbee2mqtt", identity="bed/mat", room="bedroom", label="침대", kinds=["presence"]),
    )
    Device.objects.filter(pk=device.id).update(last_seen_at=timezone.now() - timedelta(minutes=3), battery_percent=64)
    client = signed_in(official)
    page = client.get(f"/households/{household.id}/").content.decode()
    assert f'hx-get="/households/{household.id}/devices/"' in page
    section = client.get(f"/households/{household.id}/devices/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="devices"' in section and "bed/mat" in section and "64%" in section and "<html" not in section
    assert "분 전" in section  # naturaltime, in the default language: "3 분 전"
    assert AuditEntry.objects.filter(resource="device", action="view", household_id=household.id).exists()
    full = client.get(f"/households/{household.id}/devices/").content.decode()
    assert "<html" in full and household.reference in full


@pytest.mark.django_db
def test_an_official_adds_and_edits_a_device_through_the_forms(official, household) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(official)
    url = f"/households/{household.id}/devices/new/"
    assert client.get(url).status_code == 200
    refused = client.post(url, {"protocol": "tasmota", "identity": "tele/x", "room": "kitchen", "kinds": ["switch"]})
    assert refused.status_code == 200 and "must be one segment" in refused.content.decode()
    saved = client.post(url, {"protocol": "tasmota", "identity": "kettle", "room": "kitchen", "kinds": ["switch"]})
    assert saved.status_code == 302 and saved["Location"].endswith(f"/households/{household.id}/#devices")
    device = Device.objects.get(identity="kettle")
    edit = f"/devices/{device.pk}/edit/"
    assert "kettle" in client.get(edit).content.decode()
    client.post(edit, {"identity": "kettle", "room": "kitchen", "label": "전기포트", "kinds": ["switch", "power"]})
    device.refresh_from_db()
    assert device.label == "전기포트" and device.kinds == ["switch", "power"]
    client.post(f"/devices/{device.pk}/deactivate/")
    device.refresh_from_db()
    assert device.active is False


@pytest.mark.django_db
def test_site_pages_render_for_officials_and_admins(site, site_admin, official, household) -> None:  # type: ignore[no-untyped-def]
    services.provision_device(actor_of(official), household.id, DeviceInput(protocol="http", identity="gw-1:pir"))
    _unclaimed(site)
    DeadLetter.objects.create(
        site=site, received_at=timezone.now(), source="zigbee2mqtt", topic="zigbee2mqtt/x",
        payload="<b>not json</b>" + "y" * 3000, reason="malformed", detail="payload is not JSON",
    )  # fmt: skip
    for user in (official, site_admin):
        client = signed_in(user)
        devices = client.get("/devices/").content.decode()
        assert "gw-1:pir" in devices and 'id="device-counts"' in devices
        assert "gw-1:pir" in client.get("/devices/", {"health": "never_seen"}, HTTP_HX_REQUEST="true").content.decode()
        unclaimed = client.get("/devices/unclaimed/").content.decode()
        assert "현관/문센서" in unclaimed and "&lt;script&gt;" in unclaimed and '<script>"' not in unclaimed
        letters = client.get("/devices/dead-letters/").content.decode()
        assert "&lt;b&gt;not json" in letters and "y" * 1001 not in letters
        assert client.get("/gateways/").status_code == 200
    assert client.get("/devices/import/").status_code == 200
    assert signed_in(official).get("/devices/import/").status_code == 403


@pytest.mark.django_db
def test_a_new_gateway_shows_its_token_once(site_admin, official) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(site_admin)
    shown = client.post("/gateways/new/", {"name": "경로당 허브", "heartbeat_minutes": "10"}).content.decode()
    gateway = Gateway.objects.get()
    token = shown.split('id="token-value">')[1].split("<")[0]
    assert services.gateway_for_token(token) == gateway
    assert token not in client.get("/gateways/").content.decode()
    official_page = signed_in(official).get("/gateways/").content.decode()
    assert "경로당 허브" in official_page and f"/gateways/{gateway.pk}/rotate/" not in official_page
    assert signed_in(official).post("/gateways/new/", {"name": "x"}).status_code == 403
    rotated = client.post(f"/gateways/{gateway.pk}/rotate/").content.decode()
    assert 'id="token-value"' in rotated and services.gateway_for_token(token) is None


@pytest.mark.django_db
def test_other_roles_areas_and_sites_are_refused(site, other_site, make_user, site_admin, household) -> None:  # type: ignore[no-untyped-def]
    identity = DeviceInput(protocol="http", identity="hidden-door-7")
    device = services.provision_device(actor_of(site_admin), household.id, identity)
    assert "hidden-door-7" in signed_in(site_admin).get("/devices/").content.decode()
    unclaimed = _unclaimed(site)
    for role in (Role.HELPER, Role.BODY_MEMBER, Role.GUARDIAN):
        client = signed_in(make_user(role, site, [CHEONGUN]))
        for url in ("/devices/", "/devices/unclaimed/", "/gateways/", "/devices/dead-letters/"):
            assert client.get(url).status_code == 403, (role, url)
        assert client.get(f"/households/{household.id}/devices/").status_code == 403
        assert 'hx-get="/households/' not in client.get(f"/households/{household.id}/").content.decode()
    for user in (make_user(Role.WELFARE_OFFICIAL, site, [SAJIK]), make_user(Role.SITE_ADMIN, other_site)):
        client = signed_in(user)
        assert client.get(f"/households/{household.id}/devices/").status_code == 404
        assert client.get(f"/devices/{device.id}/edit/").status_code == 404
        assert client.post(f"/households/{household.id}/devices/new/", {"protocol": "http"}).status_code == 404
        assert "hidden-door-7" not in client.get("/devices/").content.decode()
    elsewhere = signed_in(make_user(Role.SITE_ADMIN, other_site))
    assert elsewhere.get(f"/devices/unclaimed/{unclaimed.pk}/claim/").status_code == 404
    assert "현관/문센서" not in elsewhere.get("/devices/unclaimed/").content.decode()


@pytest.mark.django_db
def test_claim_form_searches_households_in_scope(site, site_admin, official, household) -> None:  # type: ignore[no-untyped-def]
    other = people.register_household(actor_of(site_admin), household_data(area_code=SAJIK, name="박철수", phone=None))
    unclaimed = _unclaimed(site)
    client = signed_in(official)
    choices = client.get("/devices/unclaimed/households/", {"q": "H-"}).content.decode()
    assert household.reference in choices and other.reference not in choices
    page = client.get(f"/devices/unclaimed/{unclaimed.pk}/claim/").content.decode()
    assert "가져오지 않습니다" in page and 'value="contact" style="min-height:auto" checked' in page
    refused = client.post(f"/devices/unclaimed/{unclaimed.pk}/claim/", {"household_id": other.id, "kinds": ["contact"]})
    assert refused.status_code == 200 and UnclaimedDevice.objects.filter(pk=unclaimed.pk).exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_official_claims_an_unclaimed_device_on_a_phone(live_server, browser, site, make_user) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    admin = make_user(Role.SITE_ADMIN, site)
    household = people.register_household(actor_of(admin), household_data())
    unclaimed = _unclaimed(site)
    official = make_user(Role.WELFARE_OFFICIAL, site, [CHEONGUN])

    context = browser.new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/devices/unclaimed/")
    page.fill("#id_username", official.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/account/two-factor/**")
    secret = page.inner_text("main code")
    page.fill("#id_code", next_code(secret, official))
    page.click("main button[type=submit]")
    page.wait_for_url("**/devices/unclaimed/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # no sideways scroll
    page.screenshot(path=str(ARTIFACTS / "unclaimed-devices-phone.png"), full_page=True)
    page.click(f"a[href='/devices/unclaimed/{unclaimed.pk}/claim/']")
    page.wait_for_url(f"**/devices/unclaimed/{unclaimed.pk}/claim/")
    page.fill("#id_q", household.reference[-4:])
    page.wait_for_selector(f"input[name=household_id][value='{household.id}']")  # htmx search as one types
    page.check(f"input[name=household_id][value='{household.id}']")
    page.select_option("#id_room", "entrance")
    page.fill("#id_label", "현관문")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.screenshot(path=str(ARTIFACTS / "claim-device-phone.png"), full_page=True)
    page.click("#claim-form button[type=submit]")
    page.wait_for_url("**/devices/unclaimed/")
    assert household.reference in page.inner_text(".messages")
    device = Device.objects.get(identity="현관/문센서")
    assert device.household_id == household.id and device.room == "entrance" and device.kinds == ["contact", "battery"]
    assert not UnclaimedDevice.objects.exists()
    page.goto(f"{live_server.url}/households/{household.id}/")
    page.wait_for_selector("#devices table")  # the section loads into the household page
    assert "현관문" in page.inner_text("#devices")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.screenshot(path=str(ARTIFACTS / "household-devices-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/devices/")
    assert "현관문" in page.inner_text("#device-table")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.screenshot(path=str(ARTIFACTS / "device-health-phone.png"), full_page=True)
    context.close()

"""Alerts in, responses out: polygon, circle, geocode and forecast-zone matching over Jongno-gu; updates and
cancellations applied to the running response; duplicates, rejections and alerts that concern nobody here."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from maeul.conftest import CHEONGUN, SAJIK, actor_of
from maeul.disaster import catalogue, services
from maeul.disaster.conftest import GYONAM, HYEHWA, IHWA, JONGNO56, JONGNO1234, MUAK, Town, vector
from maeul.disaster.models import (
    CapMessage,
    Channel,
    Dispatch,
    DispatchKind,
    EntryStatus,
    Hazard,
    Level,
    MatchedBy,
    MessageOutcome,
    Response,
    ResponseStatus,
    RollCallEntry,
)
from maeul.disaster.schemas import ContactInput, ZoneInput
from maeul.events.models import DomainEvent

pytestmark = pytest.mark.django_db
NOW = datetime.fromisoformat("2026-08-01T10:05:00+09:00")


def receive(town: Town, name: str, now: datetime = NOW) -> services.Received:
    return services.receive(vector(name), channel=Channel.PUSH, site_list=[town.site], now=now)


def households(response: Response) -> set[int]:
    return set(RollCallEntry.objects.filter(response=response, in_area=True).values_list("household_id", flat=True))


def test_heat_wave_by_polygon_activates_the_households_inside(town: Town) -> None:
    got = receive(town, "ko_heat_polygon.xml")
    assert (got.outcome, got.reason) == (MessageOutcome.ACTIVATED, "activated")
    [response] = got.responses
    assert (response.hazard, response.level, response.status) == (Hazard.HEAT, Level.ADVISORY, ResponseStatus.ACTIVE)
    assert response.title == "종로구 서부 폭염주의보 발효"  # the Korean info's headline, of the two
    h = town.homes
    assert households(response) == {h["bedridden"], h["alone"], h["sajik"], h["nocoords"]}
    assert dict(response.response_areas.values_list("area_id", "matched_by")) == {
        CHEONGUN: MatchedBy.GEOMETRY,
        SAJIK: MatchedBy.GEOMETRY,
    }
    assert response.reach_by == NOW + timedelta(minutes=240)
    assert response.checklist.count() == 7
    assert CapMessage.objects.get().outcome == MessageOutcome.ACTIVATED
    assert DomainEvent.objects.filter(kind="disaster.activated", data__households=4).exists()


def test_roll_call_is_ordered_by_priority_with_reasons_and_split_by_assignment(town: Town) -> None:
    [response] = receive(town, "ko_heat_polygon.xml").responses
    entries = list(RollCallEntry.objects.filter(response=response).order_by("-priority", "id"))
    h = town.homes
    assert entries[0].household_id == h["bedridden"]
    assert catalogue.reason_codes(entries[0].reasons)[:1] == ["bedridden"]
    assert "rooftop" in catalogue.reason_codes(entries[0].reasons)
    by_home = {e.household_id: e for e in entries}
    # The bedridden resident's own helper; the others of 청운효자동 to its member; 사직동 has no member: officials.
    assert (by_home[h["bedridden"]].helper_id, by_home[h["bedridden"]].assignee_id) == (
        town.helper_id,
        town.helper_user.pk,
    )
    assert by_home[h["alone"]].member_id == town.member_id and by_home[h["alone"]].assignee_id == town.member_user.pk
    assert by_home[h["nocoords"]].member_id == town.member_id
    assert (by_home[h["sajik"]].helper_id, by_home[h["sajik"]].member_id, by_home[h["sajik"]].assignee_id) == (
        None,
        None,
        None,
    )
    owed = Dispatch.objects.filter(response=response, kind=DispatchKind.ASSIGNMENT)
    assert {(d.helper_id, d.member_id, d.user_id, d.households) for d in owed} == {
        (town.helper_id, None, town.helper_user.pk, 1),
        (None, town.member_id, town.member_user.pk, 2),
        (None, None, town.official.pk, 1),  # 사직동's unassigned household, to its official (in office hours)
    }


def test_heavy_rain_by_circle_takes_homes_within_the_radius(town: Town) -> None:
    [response] = receive(town, "ko_rain_circle.xml").responses
    assert response.hazard == Hazard.HEAVY_RAIN and response.level == Level.WARNING
    assert households(response) == {town.homes["hyehwa"], town.homes["ihwa"]}
    assert set(response.response_areas.values_list("area_id", flat=True)) == {HYEHWA, IHWA}
    top = RollCallEntry.objects.filter(response=response).order_by("-priority").first()
    assert (
        top is not None
        and top.household_id == town.homes["hyehwa"]
        and "semi_basement" in catalogue.reason_codes(top.reasons)
    )
    assert response.reach_by == NOW + timedelta(minutes=60)


def test_typhoon_by_geocode_takes_every_registered_household_of_the_named_dongs(town: Town) -> None:
    [response] = receive(town, "ko_typhoon_geocode.xml").responses
    assert households(response) == {town.homes["jongno1"], town.homes["jongno5"]}  # one without coordinates
    assert dict(response.response_areas.values_list("area_id", "matched_by")) == {
        JONGNO1234: MatchedBy.GEOCODE,
        JONGNO56: MatchedBy.GEOCODE,
    }


def test_weather_warning_by_forecast_zone_goes_through_the_sites_zone_table(town: Town) -> None:
    assert receive(town, "ko_cold_zone.xml").reason == "outside_site"  # no zone table yet
    services.save_zone(actor_of(town.admin), ZoneInput(code="L1100200", name="서울동북권", area_codes=[HYEHWA, IHWA]))
    later = NOW + timedelta(minutes=1)
    CapMessage.objects.all().delete()  # the same message again, now that the table knows the zone
    [response] = receive(town, "ko_cold_zone.xml", later).responses
    assert response.hazard == Hazard.COLD
    assert households(response) == {town.homes["hyehwa"], town.homes["ihwa"]}
    assert set(response.response_areas.values_list("matched_by", flat=True)) == {MatchedBy.ZONE}


def test_update_widens_the_area_and_raises_the_level_keeping_contacts(town: Town) -> None:
    [response] = receive(town, "ko_heat_polygon.xml").responses
    entry = RollCallEntry.objects.get(response=response, household_id=town.homes["alone"])
    services.record_contact(actor_of(town.member_user), entry.pk, ContactInput(result="fine"), now=NOW)
    later = NOW + timedelta(days=1)
    got = receive(town, "ko_heat_update.xml", later)
    assert got.outcome == MessageOutcome.UPDATED and got.responses == [response]
    response.refresh_from_db()
    assert response.level == Level.WARNING and response.headline.startswith("종로구 서부 폭염경보로 강화")
    h = town.homes
    assert households(response) == {h["bedridden"], h["alone"], h["sajik"], h["nocoords"], h["muak"], h["gyonam"]}
    assert {MUAK, GYONAM} <= set(response.response_areas.values_list("area_id", flat=True))
    entry.refresh_from_db()
    assert entry.status == EntryStatus.FINE  # the contact already made stands
    assert len(response.cap_keys) == 2
    assert Dispatch.objects.filter(response=response, kind=DispatchKind.UPDATE).exists()


def test_update_that_moves_away_takes_only_uncontacted_homes_off_the_list(town: Town) -> None:
    [response] = receive(town, "ko_heat_polygon.xml").responses
    contacted = RollCallEntry.objects.get(response=response, household_id=town.homes["sajik"])
    services.record_contact(actor_of(town.official), contacted.pk, ContactInput(result="not_reached"), now=NOW)
    raw = vector("ko_heat_update.xml").replace(
        b"37.5920,126.9550 37.5920,126.9760 37.5680,126.9760 37.5680,126.9550 37.5920,126.9550",
        b"37.5800,126.9550 37.5800,126.9650 37.5680,126.9650 37.5680,126.9550 37.5800,126.9550",
    )
    services.receive(raw, channel=Channel.PUSH, site_list=[town.site], now=NOW + timedelta(hours=1))
    gone = set(RollCallEntry.objects.filter(response=response, in_area=False).values_list("household_id", flat=True))
    assert gone == {town.homes["bedridden"], town.homes["alone"], town.homes["nocoords"]}
    assert RollCallEntry.objects.get(pk=contacted.pk).in_area  # someone already tried: it stays


def test_cancel_stops_escalation_and_tells_the_people_calling(town: Town) -> None:
    [response] = receive(town, "ko_heat_polygon.xml").responses
    receive(town, "ko_heat_update.xml", NOW + timedelta(days=1))
    got = receive(town, "ko_heat_cancel.xml", NOW + timedelta(days=3))
    assert got.outcome == MessageOutcome.CANCELLED
    response.refresh_from_db()
    assert response.status == ResponseStatus.CANCELLED and response.cancelled_at is not None
    assert not RollCallEntry.objects.filter(response=response).exclude(next_escalation_at=None).exists()
    assert Dispatch.objects.filter(response=response, kind=DispatchKind.CANCEL).count() >= 2
    assert services.escalate_due(NOW + timedelta(days=4)) == 0


def test_a_message_received_twice_acts_once(town: Town) -> None:
    receive(town, "ko_heat_polygon.xml")
    again = receive(town, "ko_heat_polygon.xml", NOW + timedelta(minutes=1))
    assert again.outcome == MessageOutcome.DUPLICATE
    assert Response.objects.count() == 1


def test_a_rejected_message_is_kept_with_its_reason(town: Town) -> None:
    got = services.receive(b"<alert>broken", channel=Channel.PUSH, site_list=[town.site], now=NOW)
    assert (got.outcome, got.reason) == (MessageOutcome.REJECTED, "not_xml")
    kept = CapMessage.objects.get()
    assert kept.raw == "<alert>broken" and kept.outcome == MessageOutcome.REJECTED and "well-formed" in kept.detail


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("oasis_cap12_appendix_a1.xml", "hazard_not_handled"),
        ("oasis_cap12_appendix_a2.xml", "hazard_not_handled"),
        ("oasis_cap12_appendix_a3.xml", "outside_site"),  # an update of an earthquake in California
        ("oasis_cap12_appendix_a4.xml", "hazard_not_handled"),
    ],
)
def test_the_oasis_examples_concern_nobody_here(town: Town, name: str, reason: str) -> None:
    got = receive(town, name)
    assert (got.outcome, got.reason) == (MessageOutcome.IGNORED, reason)
    assert Response.objects.count() == 0


def test_earthquake_epicentre_as_a_zero_radius_circle_takes_the_dong_around_it(town: Town) -> None:
    raw = (
        vector("oasis_cap12_appendix_a3.xml")
        .replace(b"<msgType>Update</msgType>", b"<msgType>Alert</msgType>")
        .replace(b"32.9525,-115.5527 0", b"37.5840,126.9690 0")
    )
    raw = raw.replace(raw[raw.index(b"<references>") : raw.index(b"</references>") + len(b"</references>")], b"")
    [response] = services.receive(raw, channel=Channel.PUSH, site_list=[town.site], now=NOW).responses
    assert response.hazard == Hazard.EARTHQUAKE
    assert list(response.response_areas.values_list("area_id", flat=True)) == [CHEONGUN]
    h = town.homes
    assert households(response) == {h["bedridden"], h["alone"], h["nocoords"], h["north"]}


def test_test_and_exercise_messages_are_not_acted_on(town: Town) -> None:
    raw = vector("ko_heat_polygon.xml").replace(b"<status>Actual</status>", b"<status>Exercise</status>")
    got = services.receive(raw, channel=Channel.PUSH, site_list=[town.site], now=NOW)
    assert (got.outcome, got.reason) == (MessageOutcome.IGNORED, "not_actual")


def test_dry_run_preview_says_what_would_happen_without_changing_anything(town: Town) -> None:
    out = services.preview(vector("ko_heat_polygon.xml"), [town.site])
    assert (out["identifier"], out["msgType"]) == ("JONGNO-HEAT-2026-0801-01", "Alert")
    first = out["info"][0]
    assert (first["event"], first["urgency"], first["severity"], first["hazard"]) == (
        "폭염주의보",
        "Expected",
        "Moderate",
        "heat",
    )
    area = first["areas"][0]
    assert area["polygons"][0][0] == [37.592, 126.96]
    assert area["matched_codes"] == [CHEONGUN, SAJIK] and area["households"] == 4
    assert out["sites"] == [
        {
            "site": "jongno",
            "would": {
                "action": "activated",
                "reason": "activated",
                "responses": [],
                "hazards": [{"hazard": "heat", "level": "advisory", "codes": [CHEONGUN, SAJIK], "households": 4}],
            },
        }
    ]
    assert Response.objects.count() == 0 and CapMessage.objects.count() == 0


def test_activation_happens_at_the_time_given(town: Town) -> None:
    [response] = receive(town, "ko_heat_polygon.xml", timezone.now()).responses
    assert timezone.now() - response.activated_at < timedelta(minutes=1)

"""CAP 1.2 reading: the four examples of the OASIS specification, Korean test vectors over the demo site, and every
kind of bad input refused with its own code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from maeul.disaster import cap, catalogue
from maeul.disaster.conftest import OASIS, SAMPLES, vector
from maeul.disaster.models import Hazard, Level


def read(name: str) -> bytes:
    return vector(name)


@pytest.mark.parametrize("name", sorted(p.name for d in (OASIS, SAMPLES) for p in d.glob("*.xml")))
def test_every_example_and_vector_validates_against_the_official_schema(name: str) -> None:
    schema = etree.XMLSchema(etree.parse(str(cap.XSD)))
    assert schema.validate(etree.parse(str((OASIS if name.startswith("oasis") else SAMPLES) / name))), schema.error_log
    alert = cap.parse(read(name))
    assert alert.identifier and alert.sender and alert.infos


def test_a1_homeland_security_advisory_has_no_shapes_and_no_hazard_maeul_handles() -> None:
    alert = cap.parse(read("oasis_cap12_appendix_a1.xml"))
    assert (alert.identifier, alert.msg_type, alert.status, alert.scope) == (
        "43b080713727",
        "Alert",
        "Actual",
        "Public",
    )
    info = alert.infos[0]
    assert (info.event, info.urgency, info.severity, info.certainty) == (
        "Homeland Security Advisory System Update",
        "Immediate",
        "Severe",
        "Likely",
    )
    assert info.parameters == [("HSAS", "ORANGE")]
    assert info.areas[0].description == "U.S. nationwide and interests worldwide"
    assert info.areas[0].polygons == [] and info.areas[0].circles == [] and info.areas[0].geocodes == []
    assert catalogue.hazard_of(info) is None


def test_a2_thunderstorm_polygon_is_read_as_lat_lon_and_geocodes_kept() -> None:
    alert = cap.parse(read("oasis_cap12_appendix_a2.xml"))
    area = alert.infos[0].areas[0]
    assert area.polygons == [[(38.47, -120.14), (38.34, -119.95), (38.52, -119.74), (38.62, -119.89), (38.47, -120.14)]]
    assert area.geocodes == [("SAME", "006109"), ("SAME", "006009"), ("SAME", "006003")]
    assert alert.infos[0].expires == datetime(2003, 6, 17, 23, 0, tzinfo=UTC)
    assert alert.infos[0].event_codes == [("SAME", "SVR")]
    # GeoJSON order is the reverse: longitude first.
    assert area.shapes_json()["polygons"][0][0] == [38.47, -120.14]


def test_a3_earthquake_update_with_circle_and_references() -> None:
    alert = cap.parse(read("oasis_cap12_appendix_a3.xml"))
    assert alert.msg_type == "Update"
    assert alert.references == [
        cap.Reference("trinet@caltech.edu", "TRI13970876.1", datetime.fromisoformat("2003-06-11T20:30:00-07:00"))
    ]
    assert alert.references[0].key == "trinet@caltech.edu,TRI13970876.1"
    area = alert.infos[0].areas[0]
    assert area.circles == [cap.Circle(32.9525, -115.5527, 0.0)]
    assert catalogue.hazard_of(alert.infos[0]) == Hazard.EARTHQUAKE


def test_a4_two_languages_two_infos() -> None:
    alert = cap.parse(read("oasis_cap12_appendix_a4.xml"))
    assert [i.language for i in alert.infos] == ["en-US", "es-US"]
    assert alert.source == "SW"
    assert [i.areas[0].geocodes for i in alert.infos] == [[("SAME", "006037")], [("SAME", "006037")]]
    assert all(catalogue.hazard_of(i) is None for i in alert.infos)


def test_korean_vectors_name_their_hazards_and_levels() -> None:
    heat = cap.parse(read("ko_heat_polygon.xml"))
    assert [(catalogue.hazard_of(i), catalogue.level_of(i)) for i in heat.infos] == [
        (Hazard.HEAT, Level.ADVISORY),
        (Hazard.HEAT, Level.ADVISORY),
    ]
    update = cap.parse(read("ko_heat_update.xml"))
    assert (update.msg_type, catalogue.level_of(update.infos[0])) == ("Update", Level.WARNING)
    assert [r.key for r in update.references] == [heat.key]
    cancel = cap.parse(read("ko_heat_cancel.xml"))
    assert cancel.msg_type == "Cancel" and {r.key for r in cancel.references} == {heat.key, update.key}
    rain = cap.parse(read("ko_rain_circle.xml"))
    assert catalogue.hazard_of(rain.infos[0]) == Hazard.HEAVY_RAIN
    assert rain.infos[0].areas[0].circles == [cap.Circle(37.58678, 126.99968, 1.0)]
    typhoon = cap.parse(read("ko_typhoon_geocode.xml"))
    assert catalogue.hazard_of(typhoon.infos[0]) == Hazard.TYPHOON
    assert typhoon.infos[0].areas[0].geocodes == [("ADMCD", "1111061500"), ("ADMCD", "1111063000")]
    cold = cap.parse(read("ko_cold_zone.xml"))
    assert (catalogue.hazard_of(cold.infos[0]), catalogue.level_of(cold.infos[0])) == (Hazard.COLD, Level.WARNING)


def _alert(body: str, head: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>' + head + '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        "<identifier>T-1</identifier><sender>test@maeul.kr</sender><sent>2026-08-01T10:00:00+09:00</sent>"
        "<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>" + body + "</alert>"
    ).encode()


def _info(area: str) -> str:
    return (
        "<info><category>Met</category><event>폭염경보</event><urgency>Immediate</urgency><severity>Severe</severity>"
        f"<certainty>Observed</certainty><area><areaDesc>x</areaDesc>{area}</area></info>"
    )


@pytest.mark.parametrize(
    ("raw", "code", "says"),
    [
        (b"not xml at all", "not_xml", "well-formed"),
        (b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.1"/>', "not_cap", "cap:1.1"),
        (b"<feed/>", "not_cap", "feed"),
        (_alert("<info><event>x</event></info>"), "schema", "line 1"),
        (_alert("", head='<!DOCTYPE alert [<!ENTITY x "y">]>'), "doctype", "DOCTYPE"),
        (_alert(_info("<polygon>37.5,126.9 37.6,126.9 37.5,126.9</polygon>")), "polygon", "at least 4 points"),
        (_alert(_info("<polygon>37.5,126.9 37.6,126.9 37.6,127.0 37.5,127.0</polygon>")), "polygon", "repeated"),
        (_alert(_info("<polygon>126.9,37.5 126.9,37.6 127.0,37.6 126.9,37.5</polygon>")), "polygon", "outside"),
        (_alert(_info("<polygon>37.5;126.9 37.6,126.9 37.6,127.0 37.5;126.9</polygon>")), "polygon", "lat,lon"),
        (_alert(_info("<circle>37.5,126.9</circle>")), "circle", "radius_km"),
        (_alert(_info("<circle>37.5,126.9 -1</circle>")), "circle", "outside 0..2000"),
        (_alert(_info("<circle>37.5,126.9 far</circle>")), "circle", "not a number"),
        (
            _alert("").replace(b"<scope>", b"<references>nobody</references><scope>"),
            "schema",
            "references",
        ),
    ],
)
def test_bad_input_is_refused_with_a_specific_reason(raw: bytes, code: str, says: str) -> None:
    with pytest.raises(cap.CapError) as caught:
        cap.parse(raw)
    assert caught.value.code == code
    assert says in caught.value.detail


def test_references_after_the_schema_must_be_triples() -> None:
    raw = _alert("").replace(b"<scope>Public</scope>", b"<scope>Public</scope><references>a,b</references>")
    with pytest.raises(cap.CapError) as caught:
        cap.parse(raw)
    assert caught.value.code == "references" and "sender,identifier,sent" in caught.value.detail


def test_too_large_is_refused_before_parsing() -> None:
    with pytest.raises(cap.CapError) as caught:
        cap.parse(b" " * (cap.MAX_BYTES + 1))
    assert caught.value.code == "too_large"


def test_an_external_entity_is_never_resolved() -> None:
    raw = _alert(
        "<note>&secret;</note>", head='<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    ).replace(b"<note>&secret;</note>", b"")
    with pytest.raises(cap.CapError) as caught:
        cap.parse(raw)
    assert caught.value.code == "doctype"


def test_feeds_list_their_alert_links() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="self" href="https://x/self"/>
        <link type="application/cap+xml" href="https://x/a.xml"/></entry>
        <entry><link href="https://x/b.xml"/></entry></feed>"""
    assert cap.feed_links(atom) == ["https://x/a.xml", "https://x/b.xml"]
    rss = (
        b"<rss><channel><item><link> https://x/c.xml </link></item><item><title>no link</title></item></channel></rss>"
    )
    assert cap.feed_links(rss) == ["https://x/c.xml"]
    with pytest.raises(cap.CapError) as caught:
        cap.feed_links(b"<html/>")
    assert caught.value.code == "not_feed"
    assert cap.is_cap(read("ko_heat_polygon.xml")) and not cap.is_cap(atom)


def test_message_templates_accept_only_the_named_placeholders() -> None:
    assert catalogue.template_error("{title}: {count} {deadline} {link} {area} {hazard}") is None
    assert "unknown placeholder(s) {name}" in (catalogue.template_error("{name}님") or "")
    assert catalogue.template_error("{title") is not None
    assert catalogue.render("{title}/{count}", {"title": "폭염", "count": "3"}) == "폭염/3"

"""Reading OASIS CAP 1.2 messages: validation against the official schema, then every ``info`` and ``area``.

Pure functions, no database. The XML is parsed with entity expansion, DTDs and network access switched off, and a
message with a DOCTYPE is refused (CAP needs none). A valid message becomes a ``CapAlert`` of plain dataclasses.
CAP writes coordinates as "lat,lon" — the reverse of GeoJSON — and this module keeps them as (lat, lon) pairs; only
``CapArea.geojson_shapes`` turns them round.

Each refusal is a ``CapError`` with a stable code and a sentence naming what is wrong and where.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

NS = "urn:oasis:names:tc:emergency:cap:1.2"
XSD = Path(__file__).resolve().parent / "data" / "cap12.xsd"
MAX_BYTES = 1_000_000
MAX_POINTS = 10_000  # per polygon: a warning area drawn at street level has a few hundred
_Q = f"{{{NS}}}"


class CapError(ValueError):
    """A message Maeul cannot act on: ``code`` is stable (``not_xml``, ``not_cap``, ``schema``, ``polygon``,
    ``circle``, ``references``, ``too_large``, ``doctype``), ``detail`` says what and where."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class CapArea:
    description: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)  # (lat, lon), first == last
    circles: list[Circle] = field(default_factory=list)
    geocodes: list[tuple[str, str]] = field(default_factory=list)  # (valueName, value)
    altitude: float | None = None
    ceiling: float | None = None

    def shapes_json(self) -> dict[str, Any]:
        """The shapes as CAP gives them ("lat,lon" order), for storage and the dry-run output."""
        return {
            "polygons": [[[lat, lon] for lat, lon in polygon] for polygon in self.polygons],
            "circles": [{"center": [c.lat, c.lon], "radius_km": c.radius_km} for c in self.circles],
            "geocodes": [{"valueName": name, "value": value} for name, value in self.geocodes],
        }


@dataclass(frozen=True)
class CapInfo:
    language: str
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    response_types: list[str] = field(default_factory=list)
    event_codes: list[tuple[str, str]] = field(default_factory=list)
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    web: str = ""
    contact: str = ""
    parameters: list[tuple[str, str]] = field(default_factory=list)
    areas: list[CapArea] = field(default_factory=list)


@dataclass(frozen=True)
class Reference:
    sender: str
    identifier: str
    sent: datetime | None

    @property
    def key(self) -> str:
        return f"{self.sender},{self.identifier}"


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    source: str = ""
    restriction: str = ""
    note: str = ""
    references: list[Reference] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    infos: list[CapInfo] = field(default_factory=list)

    @property
    def key(self) -> str:
        """How later messages refer to this one (CAP ``references`` name sender and identifier)."""
        return f"{self.sender},{self.identifier}"


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD), _parser()))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def _text(element: Any, name: str) -> str:
    child = element.find(_Q + name)
    return (child.text or "").strip() if child is not None else ""


def _all(element: Any, name: str) -> list[str]:
    return [(c.text or "").strip() for c in element.findall(_Q + name)]


def _pairs(element: Any, name: str) -> list[tuple[str, str]]:
    return [(_text(c, "valueName"), _text(c, "value")) for c in element.findall(_Q + name)]


def _time(raw: str) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def _coordinate(raw: str, where: str, code: str) -> tuple[float, float]:
    try:
        lat_text, lon_text = raw.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError as exc:
        raise CapError(code, f"{where}: “{raw}” is not a “lat,lon” pair") from exc
    if not (math.isfinite(lat) and math.isfinite(lon)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise CapError(code, f"{where}: “{raw}” is outside −90..90 latitude or −180..180 longitude")
    return lat, lon


def parse_polygon(raw: str, where: str = "polygon") -> list[tuple[float, float]]:
    """CAP 1.2 §3.3.2.3: at least four "lat,lon" pairs separated by spaces, the first equal to the last."""
    points = [_coordinate(p, where, "polygon") for p in raw.split()]
    if len(points) < 4:
        raise CapError(
            "polygon", f"{where}: a polygon needs at least 4 points (the first repeated last), got {len(points)}"
        )
    if len(points) > MAX_POINTS:
        raise CapError("polygon", f"{where}: more than {MAX_POINTS} points")
    if points[0] != points[-1]:
        raise CapError("polygon", f"{where}: the first point {points[0]} must be repeated as the last")
    return points


def parse_circle(raw: str, where: str = "circle") -> Circle:
    """CAP 1.2 §3.3.2.4: "lat,lon radius", the radius in kilometres."""
    parts = raw.split()
    if len(parts) != 2:
        raise CapError("circle", f"{where}: “{raw}” is not “lat,lon radius_km”")
    lat, lon = _coordinate(parts[0], where, "circle")
    try:
        radius = float(parts[1])
    except ValueError as exc:
        raise CapError("circle", f"{where}: radius “{parts[1]}” is not a number of kilometres") from exc
    if not math.isfinite(radius) or radius < 0 or radius > 2000:
        raise CapError("circle", f"{where}: radius {parts[1]} km is outside 0..2000")
    return Circle(lat, lon, radius)


def parse_references(raw: str) -> list[Reference]:
    """CAP 1.2 §3.2.1: space-separated "sender,identifier,sent" triples."""
    out = []
    for item in raw.split():
        parts = item.split(",")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise CapError("references", f"“{item}” is not “sender,identifier,sent”")
        try:
            sent = datetime.fromisoformat(parts[2])
        except ValueError as exc:
            raise CapError("references", f"“{item}”: “{parts[2]}” is not a date and time") from exc
        out.append(Reference(parts[0], parts[1], sent))
    return out


def _area(element: Any, where: str) -> CapArea:
    altitude, ceiling = _text(element, "altitude"), _text(element, "ceiling")
    return CapArea(
        description=_text(element, "areaDesc"),
        polygons=[parse_polygon(raw, f"{where} polygon {i + 1}") for i, raw in enumerate(_all(element, "polygon"))],
        circles=[parse_circle(raw, f"{where} circle {i + 1}") for i, raw in enumerate(_all(element, "circle"))],
        geocodes=_pairs(element, "geocode"),
        altitude=float(altitude) if altitude else None,
        ceiling=float(ceiling) if ceiling else None,
    )


def _info(element: Any, index: int) -> CapInfo:
    where = f"info {index + 1}"
    return CapInfo(
        language=_text(element, "language") or "en-US",  # the CAP default
        categories=_all(element, "category"),
        event=_text(element, "event"),
        urgency=_text(element, "urgency"),
        severity=_text(element, "severity"),
        certainty=_text(element, "certainty"),
        response_types=_all(element, "responseType"),
        event_codes=_pairs(element, "eventCode"),
        effective=_time(_text(element, "effective")),
        onset=_time(_text(element, "onset")),
        expires=_time(_text(element, "expires")),
        sender_name=_text(element, "senderName"),
        headline=_text(element, "headline"),
        description=_text(element, "description"),
        instruction=_text(element, "instruction"),
        web=_text(element, "web"),
        contact=_text(element, "contact"),
        parameters=_pairs(element, "parameter"),
        areas=[_area(a, f"{where} area {i + 1}") for i, a in enumerate(element.findall(_Q + "area"))],
    )


def _schema_message(error: Any) -> str:
    # lxml names elements with their namespace in braces; officials and operators read the plain name.
    message = re.sub(r"\{urn:oasis:names:tc:emergency:cap:1\.2\}", "", str(error.message))
    return f"line {error.line}: {message}"


def parse(raw: bytes) -> CapAlert:
    """Validate ``raw`` against the CAP 1.2 schema and read it. Raises ``CapError``."""
    if len(raw) > MAX_BYTES:
        raise CapError("too_large", f"the message has {len(raw):,} bytes; at most {MAX_BYTES:,} are accepted")
    try:
        tree = etree.fromstring(raw, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise CapError("not_xml", f"not well-formed XML ({exc})") from exc
    if tree.docinfo.doctype:
        raise CapError("doctype", "a CAP message has no DOCTYPE; messages with one are refused")
    root = tree.getroot()
    if root.tag != _Q + "alert":
        namespace = etree.QName(root).namespace or "no namespace"
        raise CapError(
            "not_cap",
            f"the root element is “{etree.QName(root).localname}” in {namespace}, not a CAP 1.2 “alert” ({NS})",
        )
    schema = _schema()
    if not schema.validate(tree):
        errors = "; ".join(_schema_message(e) for e in list(schema.error_log)[:5])
        raise CapError("schema", f"not valid CAP 1.2: {errors}")
    sent = _time(_text(root, "sent"))
    assert sent is not None  # required by the schema
    references = _text(root, "references")
    return CapAlert(
        identifier=_text(root, "identifier"),
        sender=_text(root, "sender"),
        sent=sent,
        status=_text(root, "status"),
        msg_type=_text(root, "msgType"),
        scope=_text(root, "scope"),
        source=_text(root, "source"),
        restriction=_text(root, "restriction"),
        note=_text(root, "note"),
        references=parse_references(references) if references else [],
        incidents=_text(root, "incidents").split(),
        infos=[_info(e, i) for i, e in enumerate(root.findall(_Q + "info"))],
    )


def is_cap(raw: bytes) -> bool:
    """Whether the document's root is a CAP 1.2 alert (without validating it): feeds mix alerts and indexes."""
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError:
        return False
    return bool(root.tag == _Q + "alert")


def feed_links(raw: bytes) -> list[str]:
    """The alert addresses listed in an Atom or RSS 2.0 feed of CAP messages (the usual way CAP is published):
    Atom ``entry/link[@href]`` (the ``alternate`` or CAP-typed link first) and RSS ``item/link``."""
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise CapError("not_xml", f"the feed is not well-formed XML ({exc})") from exc
    atom = "{http://www.w3.org/2005/Atom}"
    links: list[str] = []
    if root.tag == atom + "feed":
        for entry in root.findall(atom + "entry"):
            candidates = entry.findall(atom + "link")
            chosen = next(
                (c for c in candidates if "cap" in (c.get("type") or "")),
                next((c for c in candidates if (c.get("rel") or "alternate") == "alternate"), None),
            )
            if chosen is not None and chosen.get("href"):
                links.append(chosen.get("href"))
        return links
    if root.tag == "rss":
        return [
            (item.findtext("link") or "").strip() for item in root.iter("item") if (item.findtext("link") or "").strip()
        ]
    raise CapError("not_feed", f"the document is neither a CAP alert nor an Atom or RSS feed (root “{root.tag}”)")

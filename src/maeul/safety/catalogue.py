"""Default catalogues: hazard categories for urban dong and rural eup/myeon, who usually fixes each, and the
seasonal checklists. A site starts from these and edits its own copy (``services.install_catalogue``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ResponderDefault:
    code: str
    name_ko: str
    name_en: str
    kind: str = "department"


RESPONDERS = [
    ResponderDefault("roads", "도로과", "Roads department"),
    ResponderDefault("disaster", "안전총괄과", "Safety and disaster department"),
    ResponderDefault("buildings", "건축과", "Building department"),
    ResponderDefault("parks", "공원녹지과", "Parks and green spaces department"),
    ResponderDefault("traffic", "교통행정과", "Traffic department"),
    ResponderDefault("sewer", "하수과", "Sewerage department"),
    ResponderDefault("agriculture", "농업정책과", "Agriculture department"),
    ResponderDefault("housing", "주택과", "Housing department"),
    ResponderDefault("emd", "읍면동 행정복지센터", "Community centre (eup/myeon/dong)"),
    ResponderDefault("police", "관할 경찰서", "Police station", "agency"),
    ResponderDefault("fire", "관할 소방서", "Fire station", "agency"),
    ResponderDefault("kepco", "한국전력공사", "KEPCO (electricity)", "agency"),
    ResponderDefault("krc", "한국농어촌공사", "Korea Rural Community Corporation", "agency"),
]

_DEPTH = {
    "code": "depth_cm",
    "datatype": "number",
    "required": False,
    "datatype_description": "센티미터",
    "order": 1,
    "description": "대략적인 깊이(cm)",
}
_LIGHT = {
    "code": "pole_number",
    "datatype": "string",
    "required": False,
    "datatype_description": "기둥에 붙은 번호판의 번호",
    "order": 1,
    "description": "전주·가로등 번호",
}
_WATER = {
    "code": "water_now",
    "datatype": "singlevaluelist",
    "required": True,
    "order": 1,
    "description": "지금 물이 고여 있나요?",
    "values": [{"key": "yes", "name": "예"}, {"key": "no", "name": "아니요"}],
}


@dataclass(frozen=True)
class CategoryDefault:
    code: str
    group: str
    name_ko: str
    name_en: str
    description_ko: str
    description_en: str
    keywords: str
    catalogue: str
    responder: str
    attributes: tuple[dict[str, Any], ...] = ()


CATEGORIES = [
    CategoryDefault(
        "pothole",
        "road",
        "도로 파손·포트홀",
        "Pothole or broken road",
        "차도·인도의 파손, 꺼짐, 포트홀",
        "Broken, sunken or pitted road or pavement",
        "pothole, road, pavement, 포트홀, 도로",
        "both",
        "roads",
        (_DEPTH,),
    ),
    CategoryDefault(
        "streetlight",
        "road",
        "가로등·보안등 고장",
        "Street light out",
        "꺼지거나 깜빡이는 가로등·보안등",
        "Street or security light off or flickering",
        "light, lamp, dark, 가로등, 보안등",
        "both",
        "roads",
        (_LIGHT,),
    ),
    CategoryDefault(
        "slope",
        "disaster",
        "급경사지·산사태 위험",
        "Steep slope or landslide risk",
        "균열, 낙석, 토사 유출이 보이는 비탈면",
        "Slope with cracks, falling rocks or soil washing out",
        "slope, landslide, rockfall, 낙석, 산사태",
        "both",
        "disaster",
    ),
    CategoryDefault(
        "retaining_wall",
        "disaster",
        "옹벽·축대 균열",
        "Cracked retaining wall",
        "배부름, 균열, 기울어짐이 있는 옹벽·축대",
        "Retaining wall bulging, cracked or leaning",
        "retaining wall, 옹벽, 축대",
        "both",
        "buildings",
    ),
    CategoryDefault(
        "flood_underpass",
        "disaster",
        "침수 우려 지하차도·저지대",
        "Flood-prone underpass or low ground",
        "비가 오면 잠기는 지하차도, 저지대, 반지하 밀집 골목",
        "Underpass or low street that floods in rain",
        "flood, underpass, 침수, 지하차도",
        "urban",
        "disaster",
        (_WATER,),
    ),
    CategoryDefault(
        "blocked_drain",
        "disaster",
        "빗물받이 막힘",
        "Blocked drain",
        "쓰레기·낙엽·덮개로 막힌 빗물받이",
        "Storm drain blocked by litter, leaves or a cover",
        "drain, gutter, 빗물받이, 배수",
        "both",
        "sewer",
        (_WATER,),
    ),
    CategoryDefault(
        "icy_road",
        "road",
        "결빙 위험 도로·경사로",
        "Icy road or slope",
        "그늘지거나 경사가 있어 얼기 쉬운 길, 제설함 필요",
        "Shaded or steep road that ices over; grit box needed",
        "ice, snow, 결빙, 제설",
        "both",
        "roads",
    ),
    CategoryDefault(
        "dangerous_building",
        "building",
        "위험 건축물·시설물",
        "Dangerous building or structure",
        "무너질 우려가 있는 담장·간판·건물",
        "Wall, sign or building that may collapse or fall",
        "building, wall, sign, 붕괴, 간판",
        "both",
        "buildings",
    ),
    CategoryDefault(
        "empty_house",
        "building",
        "빈집 안전 위험",
        "Empty house at risk",
        "방치된 빈집: 붕괴, 화재, 범죄 우려",
        "Abandoned house: collapse, fire or crime risk",
        "empty house, 빈집, 폐가",
        "both",
        "housing",
    ),
    CategoryDefault(
        "school_zone",
        "traffic",
        "어린이보호구역 교통 위험",
        "School-zone traffic danger",
        "불법 주정차, 과속, 횡단보도·신호 문제",
        "Illegal parking, speeding, crossing or signal problems",
        "school zone, crossing, speeding, 스쿨존, 어린이보호구역",
        "both",
        "traffic",
    ),
    CategoryDefault(
        "fire_risk",
        "fire",
        "화재 위험",
        "Fire risk",
        "쌓인 가연물, 낡은 전선, 막힌 비상구·소방차 통로",
        "Piled combustibles, old wiring, blocked exits or fire lanes",
        "fire, wiring, 화재, 소방",
        "both",
        "fire",
    ),
    CategoryDefault(
        "crime_dark_alley",
        "crime",
        "어두운 골목·범죄 우려",
        "Dark alley or crime risk",
        "CCTV·비상벨이 필요한 어두운 골목",
        "Dark alley needing CCTV or an emergency bell",
        "alley, cctv, 방범, 골목",
        "urban",
        "police",
    ),
    CategoryDefault(
        "farm_road",
        "rural",
        "농로·마을안길 위험",
        "Dangerous farm road",
        "추락 위험이 있는 농로, 파손된 마을안길",
        "Farm or village road with a fall risk or broken surface",
        "farm road, 농로, 경운기",
        "rural",
        "agriculture",
    ),
    CategoryDefault(
        "reservoir",
        "rural",
        "저수지·소하천 위험",
        "Reservoir or stream hazard",
        "제방 누수·균열, 안전시설 없는 저수지·하천",
        "Leaking or cracked embankment; no safety rail",
        "reservoir, embankment, 저수지, 제방",
        "rural",
        "krc",
    ),
    CategoryDefault(
        "electric_hazard",
        "facility",
        "전신주·전선 위험",
        "Leaning pole or hanging wire",
        "기울어진 전신주, 늘어진 전선",
        "Leaning utility pole or low-hanging wire",
        "pole, wire, 전신주, 전선",
        "both",
        "kepco",
    ),
    CategoryDefault(
        "other",
        "other",
        "기타 안전 위험",
        "Other safety hazard",
        "위 분류에 없는 생활 안전 위험",
        "Any everyday safety hazard not listed",
        "other, 기타",
        "both",
        "emd",
    ),
]


def categories_for(area_kind: str) -> list[CategoryDefault]:
    """The default catalogue for a site whose areas are urban, rural or both."""
    if area_kind == "both":
        return list(CATEGORIES)
    return [c for c in CATEGORIES if c.catalogue in (area_kind, "both")]


def area_kind(area_name: str) -> str:
    """Urban dong or rural eup/myeon, read from the administrative name."""
    return "rural" if area_name.endswith(("읍", "면")) else "urban"


# --- seasonal checklists -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: Promise
    catalogue: str  # urban, rural or both
    category: str  # the hazard category a finding is filed under


@dataclass(frozen=True)
class Season:
    code: str
    label: Promise
    months: tuple[int, ...]  # the months the checklist is shown (it prepares for what follows)
    items: tuple[ChecklistItem, ...]


SEASONS = (
    Season(
        "thaw",
        _("Spring thaw (February–March)"),
        (2, 3),
        (
            ChecklistItem(
                "thaw_slopes", _("Walk steep slopes for cracks and loose rock after the frost"), "both", "slope"
            ),
            ChecklistItem(
                "thaw_walls", _("Check retaining walls and old fences for bulging"), "both", "retaining_wall"
            ),
            ChecklistItem("thaw_roads", _("Note potholes opened by the winter"), "both", "pothole"),
            ChecklistItem("thaw_reservoir", _("Inspect reservoir embankments for leaks"), "rural", "reservoir"),
        ),
    ),
    Season(
        "monsoon",
        _("Before the monsoon (May–June)"),
        (5, 6),
        (
            ChecklistItem("monsoon_drains", _("Clear storm drains and check their covers"), "both", "blocked_drain"),
            ChecklistItem("monsoon_slopes", _("Check slopes and landslide-prone hillsides"), "both", "slope"),
            ChecklistItem(
                "monsoon_underpass",
                _("Check underpasses and low streets that flooded before"),
                "urban",
                "flood_underpass",
            ),
            ChecklistItem(
                "monsoon_semibasement",
                _("List semi-basement homes and check their water barriers"),
                "urban",
                "flood_underpass",
            ),
            ChecklistItem(
                "monsoon_farm", _("Check farm roads and irrigation channels along streams"), "rural", "farm_road"
            ),
            ChecklistItem("monsoon_reservoir", _("Check reservoir spillways and embankments"), "rural", "reservoir"),
        ),
    ),
    Season(
        "summer",
        _("Heat and typhoons (July–September)"),
        (7, 8, 9),
        (
            ChecklistItem(
                "summer_signs",
                _("Check signs, scaffolding and loose roofs before typhoons"),
                "both",
                "dangerous_building",
            ),
            ChecklistItem(
                "summer_shade", _("Check that cooling shelters and shade are open and signposted"), "both", "other"
            ),
            ChecklistItem("summer_poles", _("Report leaning poles and hanging wires"), "both", "electric_hazard"),
        ),
    ),
    Season(
        "winter",
        _("Before winter (November–December)"),
        (11, 12),
        (
            ChecklistItem("winter_icy", _("Mark icy slopes and shaded roads; fill grit boxes"), "both", "icy_road"),
            ChecklistItem(
                "winter_empty_houses", _("Check heating and fire risk in empty houses"), "both", "empty_house"
            ),
            ChecklistItem(
                "winter_fire",
                _("Check for piled combustibles and old wiring in alleys and markets"),
                "both",
                "fire_risk",
            ),
            ChecklistItem(
                "winter_lights",
                _("Check street lights on long winter evenings' walking routes"),
                "urban",
                "streetlight",
            ),
            ChecklistItem("winter_farm", _("Check farm roads used by tractors on icy mornings"), "rural", "farm_road"),
        ),
    ),
    Season(
        "school",
        _("New school term (March and September)"),
        (3, 9),
        (ChecklistItem("school_routes", _("Walk school routes: crossings, parking, speeding"), "both", "school_zone"),),
    ),
)

CHECKLIST_ITEMS = {item.code: item for season in SEASONS for item in season.items}


def seasons_for(month: int, kind: str) -> list[tuple[Season, list[ChecklistItem]]]:
    """The checklists shown in ``month`` to an urban or rural area, with the items that apply to it."""
    out = []
    for season in SEASONS:
        if month in season.months:
            items = [i for i in season.items if i.catalogue in (kind, "both")]
            if items:
                out.append((season, items))
    return out

"""What Maeul knows about hazards before a site changes anything: how an alert names them, the default response
plan per hazard (times, checklist, Korean message templates) and the weights that order a roll-call.

The weights only order the list and are shown as reasons next to each household; a person decides whom to call
first and what to do.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from maeul.disaster.cap import CapInfo
from maeul.disaster.models import Audience, Hazard, Level

# --- recognising the hazard of an alert -----------------------------------------------------------------------

# Event names as the Korea Meteorological Administration (폭염경보, 호우주의보 …), the national disaster text
# messages and English-language feeds write them. Checked in order: "typhoon" before "heavy rain", because a
# typhoon warning mentions rain.
_KEYWORDS: list[tuple[Hazard, tuple[str, ...]]] = [
    (Hazard.TYPHOON, ("태풍", "typhoon", "hurricane", "tropical storm", "tropical cyclone")),
    (Hazard.EARTHQUAKE, ("지진", "earthquake", "tsunami", "지진해일")),
    (Hazard.HEAT, ("폭염", "heat", "무더위")),
    (Hazard.COLD, ("한파", "cold wave", "extreme cold", "wind chill", "cold")),
    (Hazard.HEAVY_RAIN, ("호우", "heavy rain", "flood", "홍수", "침수", "집중호우", "rainfall")),
]

# CAP ``severity`` when the event name does not say advisory or warning.
_LEVEL_BY_SEVERITY = {"Extreme": Level.WARNING, "Severe": Level.WARNING, "Moderate": Level.ADVISORY}


def hazard_of(info: CapInfo) -> Hazard | None:
    """The hazard an alert's ``info`` is about, from its event name, event codes and headline; ``None`` when it is
    none Maeul runs a roll-call for (an AMBER alert, a security advisory)."""
    text = " ".join([info.event, info.headline, *(value for _name, value in info.event_codes)]).lower()
    for hazard, words in _KEYWORDS:
        if any(word in text for word in words):
            return hazard
    return None


def level_of(info: CapInfo) -> Level:
    text = f"{info.event} {info.headline}".lower()
    if "경보" in text or "warning" in text:
        return Level.WARNING
    if "주의보" in text or "advisory" in text or "watch" in text:
        return Level.ADVISORY
    return _LEVEL_BY_SEVERITY.get(info.severity, Level.NONE)


# What the KMA criteria are, shown on plans (Maeul takes warnings as issued; it does not compute them).
CRITERIA = {
    Hazard.HEAT: _(
        "Advisory: daily maximum apparent temperature of 33 °C or more for 2 days or more; warning: 35 °C or more."
    ),
    Hazard.COLD: _("Advisory: morning low of −12 °C or less for 2 days or more; warning: −15 °C or less."),
    Hazard.HEAVY_RAIN: _(
        "Advisory: 60 mm in 3 hours or 110 mm in 12 hours; warning: 90 mm in 3 hours or 180 mm in 12 hours."
    ),
    Hazard.TYPHOON: _("Issued by the KMA for a typhoon's wind, rain and storm surge."),
    Hazard.EARTHQUAKE: _("Earthquake alerts come from the KMA and the national disaster text service."),
    Hazard.OTHER: _("Any other disaster an official activates a response for."),
}


# --- default plans --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefaultItem:
    audience: Audience
    text_ko: str
    text_en: str


@dataclass(frozen=True)
class DefaultPlan:
    reach_within_minutes: int
    escalation_minutes: list[int]
    indoor_celsius: float | None
    items: list[DefaultItem]
    assignment: str


_O, _M = Audience.OFFICIAL, Audience.MEMBER

PLACEHOLDERS = ("title", "hazard", "count", "deadline", "link", "area")

MESSAGE_UPDATE = "[마을] {title}: 특보가 변경되었습니다. 담당 가구 {count}곳의 확인 목록을 다시 봐 주세요. {link}"
MESSAGE_CANCEL = "[마을] {title}: 특보가 해제되었습니다. 진행 중인 안부 확인은 마무리하고 결과를 기록해 주세요. {link}"
MESSAGE_OVERDUE = "[마을] {title}: {area} 가구 {count}곳이 {deadline}까지 확인되지 않았습니다. 확인 현황: {link}"
MESSAGE_GUARDIAN = (
    "[마을] {title} 중 보호하시는 가족의 안부를 아직 확인하지 못했습니다. 연락해 보시고 {area} 행정복지센터로 "
    "알려 주세요. 위급하면 119로 신고해 주세요."
)

DEFAULT_PLANS: dict[Hazard, DefaultPlan] = {
    Hazard.HEAT: DefaultPlan(
        240,
        [0, 60, 120],
        30.0,
        [
            DefaultItem(
                _O,
                "무더위쉼터 개방·운영 시간 연장과 위치 안내",
                "Open cooling shelters, extend their hours, publish where they are",
            ),
            DefaultItem(
                _O,
                "홀로 사는 어르신·거동 불편 가구 안부 확인 시작",
                "Start checks on older people living alone and people who cannot move about",
            ),
            DefaultItem(
                _O,
                "냉방기 없는 가구에 선풍기·냉방용품 지원 연계",
                "Arrange fans and cooling supplies for homes without cooling",
            ),
            DefaultItem(
                _O,
                "실내 온도가 위험한 가구부터 방문 배정",
                "Send visits first to homes whose indoor temperature is flagged",
            ),
            DefaultItem(
                _M, "담당 구역 어르신 방문 또는 전화로 안부 확인", "Visit or call the older residents of your block"
            ),
            DefaultItem(
                _M, "야외 작업자·노점에 한낮 휴식 권고", "Advise outdoor workers and street vendors to rest at midday"
            ),
            DefaultItem(_M, "무더위쉼터 위치 알리기", "Tell residents where the cooling shelters are"),
        ],
        "[마을] {title}\n담당하시는 가구 {count}곳에 {deadline}까지 연락해 건강과 냉방 상태를 확인하고 결과를 "
        "기록해 주세요. 더위에 지친 분은 무더위쉼터로 안내해 주세요. {link}",
    ),
    Hazard.COLD: DefaultPlan(
        240,
        [0, 60, 120],
        15.0,
        [
            DefaultItem(_O, "한파쉼터 개방과 위치 안내", "Open warming shelters and publish where they are"),
            DefaultItem(
                _O,
                "난방이 어려운 가구에 보일러 수리·난방비 지원 연계",
                "Arrange boiler repairs and heating support for homes that cannot heat",
            ),
            DefaultItem(_O, "수도 계량기 동파 예방 안내", "Warn residents about frozen water meters"),
            DefaultItem(
                _M,
                "방문 때 보일러 작동과 실내 난방 확인",
                "On visits, check that the boiler works and the home is warm",
            ),
            DefaultItem(_M, "결빙 취약 경사로 제설함 점검", "Check the grit bins on icy slopes"),
        ],
        "[마을] {title}\n담당하시는 가구 {count}곳에 {deadline}까지 연락해 난방과 보일러 상태, 건강을 확인하고 "
        "결과를 기록해 주세요. {link}",
    ),
    Hazard.HEAVY_RAIN: DefaultPlan(
        60,
        [0, 30, 60],
        None,
        [
            DefaultItem(
                _O,
                "반지하 가구부터 확인하고 침수 방지판 설치 확인",
                "Semi-basement homes first; make sure flood barriers are in place",
            ),
            DefaultItem(
                _O, "거동이 어려운 주민 대피 지원 인력 배치", "Assign people to evacuate residents who cannot walk"
            ),
            DefaultItem(_O, "대피소 개방과 이동 수단 확보", "Open shelters and arrange transport to them"),
            DefaultItem(_O, "하천변·지하차도 통제 협조", "Help close riverside paths and underpasses"),
            DefaultItem(_M, "빗물받이 막힘 점검·신고", "Check drains for blockages and report them"),
            DefaultItem(_M, "반지하 이웃의 대피 돕기", "Help semi-basement neighbours leave in time"),
        ],
        "[마을] {title}\n담당하시는 가구 {count}곳에 {deadline}까지 연락해 주세요. 반지하 가구를 먼저 확인하고, "
        "거동이 불편한 분은 대피를 도와 주세요. 결과를 기록해 주세요. {link}",
    ),
    Hazard.TYPHOON: DefaultPlan(
        120,
        [0, 30, 60],
        None,
        [
            DefaultItem(_O, "반지하·옥탑방 가구 확인", "Check semi-basement and rooftop homes"),
            DefaultItem(
                _O,
                "대피소 개방과 거동이 어려운 주민 사전 대피",
                "Open shelters and evacuate residents who cannot walk in advance",
            ),
            DefaultItem(_O, "간판·공사장 시설물 결박 안내", "Have signs and building-site structures secured"),
            DefaultItem(_M, "이웃에게 창문·외부 물건 고정 안내", "Help neighbours secure windows and loose objects"),
            DefaultItem(_M, "배수구·빗물받이 점검", "Check drains and gullies"),
        ],
        "[마을] {title}\n담당하시는 가구 {count}곳에 {deadline}까지 연락해 안전을 확인하고, 반지하·옥탑방과 "
        "거동이 불편한 분은 대피를 도와 주세요. 결과를 기록해 주세요. {link}",
    ),
    Hazard.EARTHQUAKE: DefaultPlan(
        60,
        [0, 30, 60],
        None,
        [
            DefaultItem(
                _O, "노후·손상 건축물 긴급 안전점검 요청", "Request urgent safety checks of old or damaged buildings"
            ),
            DefaultItem(_O, "임시 주거시설 준비", "Prepare temporary shelter"),
            DefaultItem(
                _O, "거동이 어려운 주민 안부 확인과 대피 지원", "Reach residents who cannot walk and help them leave"
            ),
            DefaultItem(_M, "담장·축대 균열 확인과 신고", "Look for cracks in walls and embankments and report them"),
            DefaultItem(_M, "이웃에게 가스 누출 확인 안내", "Tell neighbours to check for gas leaks"),
        ],
        "[마을] {title}\n담당하시는 가구 {count}곳에 {deadline}까지 연락해 다친 곳이 없는지, 집이 안전한지 확인하고 "
        "결과를 기록해 주세요. {link}",
    ),
    Hazard.OTHER: DefaultPlan(
        180,
        [0, 60, 120],
        None,
        [
            DefaultItem(
                _O, "상황 파악과 대상 가구 안부 확인 시작", "Assess the situation and start checks on the households"
            ),
            DefaultItem(_M, "담당 구역 이웃 안부 확인", "Check on the neighbours of your block"),
        ],
        "[마을] {title}\n담당하시는 가구 {count}곳에 {deadline}까지 연락해 안부를 확인하고 결과를 기록해 "
        "주세요. {link}",
    ),
}


def template_error(template: str) -> str | None:
    """Why a message template cannot be used, or ``None``: only the named placeholders, each plain."""
    try:
        fields = [f for _text, f, _spec, _conv in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return str(exc)
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        named = ", ".join("{" + u + "}" for u in unknown)
        allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        return f"unknown placeholder(s) {named}; use {allowed}"
    return None


def render(template: str, values: dict[str, str]) -> str:
    return template.format_map({p: values.get(p, "") for p in PLACEHOLDERS})


# --- roll-call priority -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    label: str


REASON_LABELS = {
    "bedridden": _("bedridden"),
    "disability": _("disability"),
    "living_alone": _("living alone"),
    "older_adult": _("older adult"),
    "care_high": _("high care level"),
    "care_medium": _("medium care level"),
    "chronic_illness": _("chronic illness"),
    "financial_crisis": _("financial crisis"),
    "semi_basement": _("semi-basement home"),
    "rooftop": _("rooftop room"),
    "goshiwon": _("goshiwon / single room"),
    "no_cooling": _("no cooling at home"),
    "no_heating": _("heating does not work"),
    "needs_evacuation_help": _("cannot leave without help"),
    "indoor_hot": _("indoor temperature dangerously high"),
    "indoor_cold": _("indoor temperature dangerously low"),
    "open_alert": _("open sensor alert"),
    "quiet": _("no sensor activity for 12 hours"),
}

# Points per reason; ``HAZARD_WEIGHTS`` adds or replaces them per hazard.
BASE_WEIGHTS = {
    "bedridden": 40,
    "disability": 20,
    "living_alone": 20,
    "older_adult": 10,
    "care_high": 20,
    "care_medium": 10,
    "chronic_illness": 5,
    "financial_crisis": 5,
    "needs_evacuation_help": 10,
    "open_alert": 40,
    "quiet": 25,
    "indoor_hot": 50,
    "indoor_cold": 50,
}
HAZARD_WEIGHTS: dict[Hazard, dict[str, int]] = {
    Hazard.HEAT: {"rooftop": 30, "goshiwon": 20, "no_cooling": 30},
    Hazard.COLD: {"rooftop": 20, "goshiwon": 10, "no_heating": 30},
    Hazard.HEAVY_RAIN: {"semi_basement": 50, "needs_evacuation_help": 40},
    Hazard.TYPHOON: {"semi_basement": 40, "rooftop": 20, "needs_evacuation_help": 40},
    Hazard.EARTHQUAKE: {"needs_evacuation_help": 40},
    Hazard.OTHER: {},
}


def weights_for(hazard: str) -> dict[str, int]:
    return {**BASE_WEIGHTS, **HAZARD_WEIGHTS.get(Hazard(hazard), {})}


# A roll-call entry stores its reasons as bits, in this order (appending keeps stored values valid).
REASON_CODES = (
    "bedridden",
    "disability",
    "living_alone",
    "older_adult",
    "care_high",
    "care_medium",
    "chronic_illness",
    "financial_crisis",
    "semi_basement",
    "rooftop",
    "goshiwon",
    "no_cooling",
    "no_heating",
    "needs_evacuation_help",
    "indoor_hot",
    "indoor_cold",
    "open_alert",
    "quiet",
)
BIT = {code: 1 << i for i, code in enumerate(REASON_CODES)}


def reason_codes(bits: int) -> list[str]:
    return [code for code in REASON_CODES if bits & BIT[code]]


def reason_labels(bits: int) -> list[str]:
    return [str(REASON_LABELS[code]) for code in reason_codes(bits)]

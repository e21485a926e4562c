"""The demo site's safety net and welfare work: a resource directory of Jongno-gu partner organisations, helpers
assigned to the households living alone or needing much care, check-in schedules (some due today, a few overdue),
six weeks of check-ins recorded by the helpers, and the welfare cases those and other signals opened — assessed,
planned, referred to partners and followed up, two of them closed. Everything goes through the apps' services,
as the person who would do it; the welfare work itself is dated today, the check-ins over the past weeks."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from maeul.accounts.principal import principal_for
from maeul.areas.models import Area
from maeul.audit.services import Actor
from maeul.directory import services as directory
from maeul.directory.models import DisabilityRule, NeedDomain
from maeul.directory.schemas import OrganizationInput, ServiceInput
from maeul.people import services as people
from maeul.people.models import CareLevel, ConsentPurpose, Household
from maeul.people.schemas import ConsentInput
from maeul.safetynet import services as safetynet
from maeul.safetynet.models import AssignmentRole, CheckInKind, CheckInResult, CrisisSign, HelperKind, Skill
from maeul.safetynet.schemas import AssignmentInput, CheckInInput, HelperInput, ScheduleInput
from maeul.sites.models import Site
from maeul.welfare import services as welfare
from maeul.welfare.models import CaseOutcome, CaseSource, CaseStatus, ReferralStatus, UnsuccessfulReason

CHEONGUN = "1111051500"
SAJIK = "1111053000"
HYEHWA = "1111065000"
HISTORY_DAYS = 42
# Replaying this many weekly visits over six weeks, and a few calls, gives about sixty past check-ins.
VISIT_ROUNDS = 9
CALL_ROUNDS = 2


@dataclass(frozen=True)
class DemoService:
    name: str
    description: str
    needs: list[NeedDomain]
    minimum_age: int | None = None
    maximum_age: int | None = None
    income_ceiling_percent: int | None = None
    disability: DisabilityRule = DisabilityRule.ANY
    capacity: int | None = None
    eligibility: str = ""
    application: str = ""


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    description: str
    website: str
    services: list[DemoService] = field(default_factory=list)


ORGANISATIONS = [
    DemoOrganisation(
        "종로노인종합복지관",
        "종로구 어르신의 돌봄, 식사, 여가와 정서 지원을 맡는 노인종합복지관",
        "https://jongno-senior.example.kr",
        [
            DemoService(
                "노인맞춤돌봄서비스",
                "홀로 사는 어르신 댁을 생활지원사가 주 1~2회 방문해 안부 확인과 가사·외출을 돕습니다.",
                [NeedDomain.CARE, NeedDomain.ISOLATION],
                minimum_age=65,
                income_ceiling_percent=160,
                capacity=120,
                eligibility="만 65세 이상 기초연금 수급자 또는 차상위 이하, 돌봄이 필요한 분",
                application="행정복지센터 신청 후 복지관 방문 상담",
            ),
            DemoService(
                "경로식당 무료 급식",
                "평일 점심을 복지관 식당에서 드리고, 거동이 불편한 분께는 도시락을 배달합니다.",
                [NeedDomain.FOOD],
                minimum_age=60,
                income_ceiling_percent=50,
                capacity=200,
                eligibility="만 60세 이상 저소득 어르신",
                application="복지관 1층 상담실 방문 또는 전화 신청",
            ),
            DemoService(
                "어르신 말벗·정서 지원",
                "자원봉사자가 주 1회 전화하고 월 1회 방문해 말벗이 되어 드립니다.",
                [NeedDomain.ISOLATION],
                minimum_age=65,
                capacity=60,
            ),
        ],
    ),
    DemoOrganisation(
        "종로구보건소",
        "종로구 주민의 방문건강관리, 만성질환 관리와 치매 조기검진",
        "https://www.jongno.go.kr/health",
        [
            DemoService(
                "방문건강관리사업",
                "간호사가 댁을 방문해 혈압·혈당을 재고 복약과 만성질환 관리를 돕습니다.",
                [NeedDomain.HEALTH],
                income_ceiling_percent=100,
                capacity=150,
                eligibility="건강 위험군 취약계층(기초생활수급자, 차상위, 독거노인 등)",
                application="보건소 방문보건실 전화 의뢰",
            ),
            DemoService(
                "치매안심센터 조기검진",
                "치매 선별검사와 진단검사, 치매 어르신 돌봄 물품과 가족 상담을 제공합니다.",
                [NeedDomain.HEALTH, NeedDomain.CARE],
                minimum_age=60,
                application="센터 방문 또는 전화 예약",
            ),
        ],
    ),
    DemoOrganisation(
        "종로푸드뱅크",
        "기부받은 식품과 생활용품을 결식 우려 가구에 나누는 기초푸드뱅크",
        "",
        [
            DemoService(
                "긴급 식품 지원",
                "결식 위기 가구에 쌀과 부식, 생활용품 꾸러미를 바로 전달합니다.",
                [NeedDomain.FOOD],
                income_ceiling_percent=100,
                capacity=80,
                eligibility="기준중위소득 100% 이하 결식 우려 가구",
                application="행정복지센터 또는 복지기관 의뢰",
            ),
            DemoService(
                "밑반찬 배달",
                "주 2회 밑반찬을 댁으로 배달합니다.",
                [NeedDomain.FOOD, NeedDomain.CARE],
                minimum_age=65,
                capacity=40,
            ),
        ],
    ),
    DemoOrganisation(
        "종로지역자활센터",
        "일할 수 있는 저소득 주민의 자활근로와 자산 형성, 집수리 사업",
        "https://jongno-jahwal.example.kr",
        [
            DemoService(
                "자활근로사업",
                "근로 능력이 있는 수급자·차상위 주민에게 일자리와 직업훈련을 연계합니다.",
                [NeedDomain.INCOME],
                minimum_age=18,
                maximum_age=64,
                income_ceiling_percent=50,
                capacity=50,
                eligibility="근로 능력이 있는 기초생활수급자 및 차상위계층",
            ),
            DemoService(
                "저소득 가구 집수리",
                "단열, 도배·장판, 안전 손잡이 설치 등 주거 환경을 고칩니다.",
                [NeedDomain.HOUSING, NeedDomain.SAFETY],
                income_ceiling_percent=50,
                disability=DisabilityRule.WELCOME,
                capacity=20,
            ),
            DemoService(
                "공과금 체납 가구 긴급 지원",
                "전기·가스·수도 요금 체납으로 공급이 끊길 위기의 가구를 돕습니다.",
                [NeedDomain.INCOME, NeedDomain.HOUSING],
                income_ceiling_percent=75,
                capacity=30,
            ),
        ],
    ),
    DemoOrganisation(
        "종로구정신건강복지센터",
        "정신건강 상담, 사례관리와 자살 예방",
        "https://jongno-mind.example.kr",
        [
            DemoService(
                "정신건강 상담·사례관리",
                "우울, 알코올 문제, 고립을 겪는 주민과 상담하고 필요한 치료를 연계합니다.",
                [NeedDomain.HEALTH, NeedDomain.ISOLATION],
                maximum_age=64,
                capacity=70,
                eligibility="만 64세 이하 종로구 주민 (어르신은 노인복지관과 함께 지원)",
            ),
            DemoService(
                "자살 위기 개입",
                "위기 상황에 24시간 상담과 현장 출동을 지원합니다.",
                [NeedDomain.SAFETY, NeedDomain.HEALTH],
            ),
        ],
    ),
    DemoOrganisation(
        "종로주거복지센터",
        "주거급여, 임대주택 입주와 긴급 주거 지원 상담",
        "",
        [
            DemoService(
                "주거 상담과 임대주택 연계",
                "주거급여 신청과 매입·전세 임대주택 입주를 돕습니다.",
                [NeedDomain.HOUSING],
                income_ceiling_percent=48,
                eligibility="기준중위소득 48% 이하 또는 주거 위기 가구",
            ),
            DemoService(
                "긴급 주거비 지원",
                "퇴거 위기 가구에 임차료를 한시 지원합니다.",
                [NeedDomain.HOUSING, NeedDomain.INCOME],
                income_ceiling_percent=75,
                capacity=15,
            ),
        ],
    ),
]

# (kind, name, phone, skills, max households); the first is the printed demo helper of 청운효자동.
HELPERS: list[tuple[HelperKind, str, str, list[Skill], int]] = [
    (HelperKind.HONORARY_OFFICIAL, "김정희", "010-4410-2301", [Skill.DEMENTIA, Skill.COUNSELLING], 10),
    (HelperKind.NEIGHBOUR, "이순옥", "010-4410-2302", [Skill.HOUSEWORK], 8),
    (HelperKind.MAIL_CARRIER, "박상민", "010-4410-2303", [Skill.DRIVING], 12),
    (HelperKind.VOLUNTEER, "최은영", "010-4410-2304", [Skill.FIRST_AID], 8),
    (HelperKind.VILLAGE_HEAD, "정광수", "010-4410-2305", [], 10),
    (HelperKind.CARE_WORKER, "한미숙", "010-4410-2306", [Skill.CARE, Skill.DEMENTIA], 8),
    (HelperKind.RETIRED_OFFICIAL, "오성호", "010-4410-2307", [Skill.COUNSELLING], 8),
    (HelperKind.VOLUNTEER, "서지현", "010-4410-2308", [Skill.MENTAL_HEALTH], 8),
    (HelperKind.NEIGHBOUR, "윤말순", "010-4410-2309", [Skill.HOUSEWORK], 6),
    (HelperKind.HONORARY_OFFICIAL, "장동현", "010-4410-2310", [Skill.DISABILITY], 10),
    (HelperKind.MAIL_CARRIER, "임태식", "010-4410-2311", [Skill.DRIVING], 12),
    (HelperKind.CARE_WORKER, "강숙희", "010-4410-2312", [Skill.CARE], 8),
]

FINE_NOTES = [
    "",
    "",
    "식사 잘 하고 계심",
    "경로당 다녀오셨다고 함",
    "무릎이 아프시다고 하나 생활에 지장 없음",
    "따님이 주말에 다녀갔다고 함",
    "약 잘 챙겨 드시는 것 확인",
]


@dataclass
class _Demo:
    site: Site
    rng: random.Random
    admin: Actor
    official: Actor
    partner: Actor
    today: date
    services: dict[str, str] = field(default_factory=dict)  # service name → id


def _actor(user: Any) -> Actor:
    return Actor(principal=principal_for(user), channel="command")


def load_safetynet(site: Site, users: dict[str, Any], rng: random.Random) -> None:
    """Directory, helpers (the ``helper``, ``helper-sajik`` and ``helper-hyehwa`` accounts among them),
    assignments and schedules, past check-ins, and welfare cases in the welfare official's two dongs."""
    demo = _Demo(
        site=site,
        rng=rng,
        admin=_actor(users["jongno-admin"]),
        official=_actor(users["welfare"]),
        partner=_actor(users["partner"]),
        today=timezone.localdate(),
    )
    _directory(demo, users["partner"].pk)
    households = list(Household.objects.filter(site=site, destroyed_at=None).select_related("area").order_by("pk"))
    area_counts: dict[str, int] = {}
    for household in households:
        area_counts[household.area_id] = area_counts.get(household.area_id, 0) + 1
    # Helpers cover the welfare official's dongs and the three other dongs with most households.
    others = sorted((code for code in area_counts if code not in (CHEONGUN, SAJIK)), key=lambda c: -area_counts[c])
    dongs = [CHEONGUN, SAJIK, HYEHWA, *[code for code in others if code != HYEHWA][:2]]
    accounts_of = {0: users["helper"], 1: users["helper-sajik"], 3: users["helper-hyehwa"]}
    helper_areas = {0: CHEONGUN, 1: SAJIK, 3: HYEHWA}
    helpers: dict[str, list[int]] = {code: [] for code in dongs}
    recorder_of: dict[int, Actor] = {}
    for n, (kind, name, phone, skills, most) in enumerate(HELPERS):
        code = helper_areas.get(n, dongs[n % len(dongs)])
        covered = [code, SAJIK] if kind == HelperKind.MAIL_CARRIER and code == CHEONGUN else [code]
        area = Area.objects.get(code=code)
        account = accounts_of.get(n)
        view = safetynet.register_helper(
            demo.admin,
            HelperInput(
                kind=kind,
                name=name,
                phone=phone,
                area_codes=covered,
                skills=skills,
                availability=sorted(rng.sample([f"{d}:{p}" for d in range(6) for p in ("morning", "afternoon")], 4)),
                max_households=most,
                latitude=round((area.latitude or 37.58) + rng.uniform(-0.003, 0.003), 6),
                longitude=round((area.longitude or 126.98) + rng.uniform(-0.003, 0.003), 6),
                consent_given_on=demo.today - timedelta(days=rng.randint(60, 500)),
                account_id=account.pk if account is not None else None,
                coordinator_id=users["welfare"].pk if code in (CHEONGUN, SAJIK) else None,
            ),
        )
        for covered_code in covered:
            helpers[covered_code].append(view.id)
        if account is not None:
            recorder_of[view.id] = _actor(account)
    found = _history(demo, _assign(demo, households, helpers, recorder_of))
    _cases(demo, households, found)


def _directory(demo: _Demo, partner_id: int) -> None:
    for org in ORGANISATIONS:
        created = directory.create_organization(
            demo.admin, OrganizationInput(name=org.name, description=org.description, website=org.website)
        )
        if org.name == "종로노인종합복지관":
            directory.add_staff(demo.admin, created.id, partner_id)
        for service in org.services:
            made = directory.create_service(
                demo.admin,
                created.id,
                ServiceInput(
                    name=service.name,
                    description=service.description,
                    needs=service.needs,
                    minimum_age=service.minimum_age,
                    maximum_age=service.maximum_age,
                    income_ceiling_percent=service.income_ceiling_percent,
                    disability=service.disability,
                    capacity=service.capacity,
                    eligibility_description=service.eligibility,
                    application_process=service.application,
                ),
            )
            demo.services[service.name] = str(made.id)


@dataclass
class _Round:
    """One check-in schedule whose past the demo replays, by the helper (or official) who would record it."""

    household: Household
    schedule_id: int
    kind: CheckInKind
    interval: int
    recorder: Actor
    first_due: date
    next_due: date


def _assign(
    demo: _Demo, households: list[Household], helpers: dict[str, list[int]], recorder_of: dict[int, Actor]
) -> list[_Round]:
    """A primary helper (and for high care a backup) for most households living alone or needing high care, a
    weekly visit and, for high care, a call every three days. Returns the schedules to replay history for."""
    rng = demo.rng
    load: dict[int, int] = {}
    rounds: list[_Round] = []
    visits = calls = 0
    for household in households:
        if household.area_id not in helpers or not (household.living_alone or household.care_level == CareLevel.HIGH):
            continue
        if rng.random() < 0.12:
            continue  # not yet covered: the coverage report shows them
        candidates = sorted(helpers[household.area_id], key=lambda h: (load.get(h, 0), h))
        primary = candidates[0]
        load[primary] = load.get(primary, 0) + 1
        safetynet.assign_helper(demo.admin, household.pk, AssignmentInput(helper_id=primary))
        if household.care_level == CareLevel.HIGH and len(candidates) > 1:
            safetynet.assign_helper(
                demo.admin, household.pk, AssignmentInput(helper_id=candidates[1], role=AssignmentRole.BACKUP)
            )
        plans = [(CheckInKind.VISIT, 7)]
        if household.care_level == CareLevel.HIGH:
            plans.append((CheckInKind.CALL, 3))
        # The helper with a login records their own check-ins; the others phone the official, who records them.
        recorder = recorder_of.get(primary) or (demo.official if household.area_id in (CHEONGUN, SAJIK) else None)
        for kind, interval in plans:
            # Spread over the coming interval (some due today); a few overdue.
            late = rng.choice([-3, -1]) if rng.random() < 0.08 else rng.randrange(interval)
            next_due = demo.today + timedelta(days=late)
            replays = visits if kind == CheckInKind.VISIT else calls
            replay = recorder is not None and replays < (VISIT_ROUNDS if kind == CheckInKind.VISIT else CALL_ROUNDS)
            weeks = HISTORY_DAYS // interval if kind == CheckInKind.VISIT else 4
            first_due = next_due - timedelta(days=interval * weeks) if replay else next_due
            schedule = safetynet.add_schedule(
                demo.admin, household.pk, ScheduleInput(kind=kind, interval_days=interval, first_due_on=first_due)
            )
            if replay and recorder is not None:
                rounds.append(_Round(household, schedule.pk, kind, interval, recorder, first_due, next_due))
                if kind == CheckInKind.VISIT:
                    visits += 1
                else:
                    calls += 1
    return rounds


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(
        day, time(rng.randint(9, 17), rng.choice([0, 10, 20, 30, 40, 50])), tzinfo=timezone.get_current_timezone()
    )


def _record(
    demo: _Demo, r: _Round, day: date, result: CheckInResult, signs: list[CrisisSign], note: str
) -> safetynet.CheckInOutcome:
    return safetynet.record_check_in(
        r.recorder,
        CheckInInput(
            client_id=uuid.UUID(int=demo.rng.getrandbits(128), version=4),
            household_id=r.household.pk,
            schedule_id=r.schedule_id,
            kind=r.kind,
            result=result,
            crisis_signs=signs,
            note=note,
            occurred_at=_at(day, demo.rng),
        ),
    )


# What the last visit of some replayed rounds found, by the round's position among the replayed visits.
SPECIAL: dict[int, tuple[CheckInResult, list[CrisisSign], str]] = {
    0: (
        CheckInResult.NEEDS_HELP,
        [CrisisSign.NO_FOOD, CrisisSign.UNPAID_BILLS],
        "냉장고가 비어 있고 독촉장이 쌓여 있음",
    ),
    2: (CheckInResult.NEEDS_HELP, [CrisisSign.ILLNESS], "기침이 심하고 며칠째 병원에 못 가셨다고 함"),
    4: (CheckInResult.NOT_AT_ADDRESS, [], "다른 분이 살고 계심. 이사 가셨다고 함"),
    5: (CheckInResult.NEEDS_HELP, [CrisisSign.ISOLATION, CrisisSign.POOR_HYGIENE], "한 달째 외출을 안 하셨다고 함"),
    7: (CheckInResult.IN_HOSPITAL, [], "낙상으로 입원 중 (이웃 전언)"),
}


def _history(demo: _Demo, rounds: list[_Round]) -> dict[int, int]:
    """Replay each round from its first due date to the check-in before ``next_due``: mostly fine, now and then
    nobody answers (tried again the next day); some visits end with what ``SPECIAL`` says. Returns the cases the
    check-ins opened, by ``SPECIAL`` position."""
    rng = demo.rng
    found: dict[int, int] = {}
    visits = [r for r in rounds if r.kind == CheckInKind.VISIT]
    for r in rounds:
        position = visits.index(r) if r in visits else -1
        last = r.next_due - timedelta(days=r.interval)
        day = r.first_due
        while day <= last:
            if day == last and position in SPECIAL:
                result, signs, note = SPECIAL[position]
                outcome = _record(demo, r, day, result, signs, note)
                if outcome.case_id is not None:
                    found[position] = outcome.case_id
            elif rng.random() < 0.1 and day + timedelta(days=1) < last:
                _record(demo, r, day, CheckInResult.NO_ANSWER, [], "")
                _record(demo, r, day + timedelta(days=1), CheckInResult.FINE, [], "어제는 복지관에 가셔서 부재")
            else:
                _record(demo, r, day, CheckInResult.FINE, [], rng.choice(FINE_NOTES))
            day += timedelta(days=r.interval)
    return found


def _consent(demo: _Demo, household_id: int) -> None:
    people.record_consent(
        demo.official,
        household_id,
        ConsentInput(
            purpose=ConsentPurpose.PARTNER_SHARING, given_on=demo.today - timedelta(days=demo.rng.randint(0, 20))
        ),
    )


def _refer(demo: _Demo, case_id: int, service: str, need: str, note: str) -> int:
    return welfare.send_referral(demo.official, case_id, demo.services[service], need_domain=need, note=note).id


def _cases(demo: _Demo, households: list[Household], found: dict[int, int]) -> None:
    """The cases the helpers' check-ins opened, then cases from a walk-in, a screening and a sensor alert, each at
    a different stage, in the welfare official's two dongs."""
    official, partner, today = demo.official, demo.partner, demo.today
    busy = set(
        welfare.visible_cases(official.principal).filter(status=CaseStatus.OPEN).values_list("household_id", flat=True)
    )
    spare = [
        h.pk for h in households if h.area_id in (CHEONGUN, SAJIK) and h.pk not in busy and not h.processing_stopped
    ]
    household_of = dict(
        welfare.visible_cases(official.principal).filter(pk__in=found.values()).values_list("pk", "household_id")
    )
    # 1) Found without food and with unpaid bills: food delivered, the bills still being worked on.
    if found.get(0) in household_of:
        case = found[0]
        household = household_of[case]
        _consent(demo, household)
        welfare.assess(official, case, NeedDomain.FOOD, 3, "냉장고가 비어 있음, 끼니를 거르심")
        welfare.assess(official, case, NeedDomain.INCOME, 3, "전기·가스 요금 3개월 체납")
        welfare.update_plan(official, case, "1. 긴급 식품 지원\n2. 공과금 체납 지원 신청\n3. 기초생활보장 신청 검토")
        food = _refer(demo, case, "긴급 식품 지원", NeedDomain.FOOD, "긴급 식품 꾸러미 요청")
        welfare.transition_referral(official, food, ReferralStatus.ACCEPTED)
        welfare.transition_referral(official, food, ReferralStatus.DELIVERED, note="쌀 10kg과 부식 꾸러미 전달")
        _refer(demo, case, "공과금 체납 가구 긴급 지원", NeedDomain.INCOME, "3개월 체납, 단전 예고 받음")
        welfare.add_follow_up(official, case, due_on=today + timedelta(days=3), what="기초생활보장 신청 서류 안내 방문")
    # 2) Illness: the health centre accepted a home visit.
    if found.get(2) in household_of:
        case = found[2]
        household = household_of[case]
        _consent(demo, household)
        welfare.assess(official, case, NeedDomain.HEALTH, 3, "기침과 발열, 병원 미방문")
        welfare.update_plan(official, case, "보건소 방문간호 연계, 1주 후 상태 확인")
        visit = _refer(demo, case, "방문건강관리사업", NeedDomain.HEALTH, "기침 지속, 거동 불편")
        welfare.transition_referral(official, visit, ReferralStatus.ACCEPTED)
        welfare.add_follow_up(official, case, due_on=today + timedelta(days=7), what="방문간호 후 상태 확인 전화")
    # 3) Isolation: declined by the mental health centre (age), now waiting in the senior centre's inbox.
    if found.get(5) in household_of:
        case = found[5]
        household = household_of[case]
        _consent(demo, household)
        welfare.assess(official, case, NeedDomain.ISOLATION, 3, "한 달째 외출 없음")
        welfare.assess(official, case, NeedDomain.CARE, 2, "위생 관리 어려움")
        welfare.update_plan(official, case, "정서 지원과 돌봄 서비스 연계")
        mind = _refer(demo, case, "정신건강 상담·사례관리", NeedDomain.ISOLATION, "우울감 호소")
        welfare.transition_referral(official, mind, ReferralStatus.DECLINED, note="만 65세 이상은 노인복지관 우선 지원")
        _refer(demo, case, "노인맞춤돌봄서비스", NeedDomain.CARE, "정신건강복지센터 권고로 재의뢰")
    walk_ins = [
        (CaseSource.WALK_IN, "전기가 끊겼다며 행정복지센터 방문", [NeedDomain.INCOME, NeedDomain.HOUSING]),
        (CaseSource.WALK_IN, "이웃이 끼니를 거른다고 알려 옴", [NeedDomain.FOOD]),
        (CaseSource.SCREENING, "복지 사각지대 발굴 조사: 반지하 누수", [NeedDomain.HOUSING]),
        (CaseSource.IOT_ALERT, "움직임 없음 경보 후 방문, 낙상 위험", [NeedDomain.CARE]),
        (CaseSource.SCREENING, "고독사 위험군 조사", [NeedDomain.ISOLATION]),
        (CaseSource.REFERRAL, "보건소에서 의뢰: 치매 의심", [NeedDomain.HEALTH]),
    ]
    opened = []
    for (source, summary, needs), household in zip(walk_ins, spare[::5], strict=False):
        view = welfare.open_case(official, household, source=source, summary=summary, needs=needs)
        _consent(demo, household)
        opened.append(view.id)
    if len(opened) < len(walk_ins):
        return
    utilities, hungry, leak, fall, lonely, memory = opened
    # 4) Utilities cut: income support accepted, follow-up due.
    welfare.assess(official, utilities, NeedDomain.INCOME, 4, "단전 상태")
    welfare.update_plan(official, utilities, "체납 요금 긴급 지원 후 자활근로 참여 상담")
    cut = _refer(demo, utilities, "공과금 체납 가구 긴급 지원", NeedDomain.INCOME, "단전 3일째")
    welfare.transition_referral(official, cut, ReferralStatus.ACCEPTED)
    welfare.add_follow_up(official, utilities, due_on=today, what="전기 재공급 여부 확인")
    # 5) Meals delivered by the senior centre: closed, referred and served.
    welfare.assess(official, hungry, NeedDomain.FOOD, 3)
    meals = _refer(demo, hungry, "경로식당 무료 급식", NeedDomain.FOOD, "도시락 배달 필요")
    welfare.transition_referral(partner, meals, ReferralStatus.ACCEPTED)
    welfare.transition_referral(partner, meals, ReferralStatus.DELIVERED, note="평일 도시락 배달 시작")
    welfare.close_case(official, hungry, CaseOutcome.REFERRED_AND_SERVED, "도시락 배달로 결식 해소")
    # 6) Leaking basement: the household could not be reached; closed.
    welfare.assess(official, leak, NeedDomain.HOUSING, 2, "우기 누수")
    repair = _refer(demo, leak, "저소득 가구 집수리", NeedDomain.HOUSING, "반지하 누수 보수")
    welfare.transition_referral(
        official, repair, ReferralStatus.CLOSED_UNSUCCESSFUL, reason=UnsuccessfulReason.UNABLE_TO_CONTACT
    )
    welfare.close_case(official, leak, CaseOutcome.UNABLE_TO_CONTACT, "세 차례 방문했으나 만나지 못함")
    # 7) After a fall alert: waiting in the senior centre's inbox.
    welfare.assess(official, fall, NeedDomain.CARE, 3, "혼자 일어서기 어려움")
    welfare.update_plan(official, fall, "노인맞춤돌봄서비스 연계, 안전 손잡이 설치 검토")
    _refer(demo, fall, "노인맞춤돌봄서비스", NeedDomain.CARE, "낙상 위험, 주 2회 방문 필요")
    # 8) Isolation screening: assessed, a visit planned. 9) Memory: sent to the dementia centre.
    welfare.assess(official, lonely, NeedDomain.ISOLATION, 2)
    welfare.add_follow_up(official, lonely, due_on=today + timedelta(days=2), what="첫 방문 상담")
    welfare.assess(official, memory, NeedDomain.HEALTH, 2, "최근 약 복용을 자주 잊으심")
    _refer(demo, memory, "치매안심센터 조기검진", NeedDomain.HEALTH, "선별검사 요청")

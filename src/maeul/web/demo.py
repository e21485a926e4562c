"""The demo site: Jongno-gu (Seoul) as a Type 2 site with simulated households, one account per role,
Yangpyeong-gun as a second (Type 1) site to show that sites are isolated, and — for the ministry's programme —
Haeundae-gu (Type 2) and Suncheon-si (Type 1) with a few months of activity, and this year's competition run to
its end. All names, phones and addresses are generated; none belongs to a real person."""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyotp
from django.db import transaction
from django.utils import timezone

from maeul.accounts import services as accounts
from maeul.accounts.models import Membership, SecondFactor
from maeul.accounts.principal import principal_for
from maeul.accounts.roles import SITELESS_ROLES, Role
from maeul.areas import services as areas
from maeul.areas.models import Area
from maeul.audit.services import Actor
from maeul.people import services as people
from maeul.people.models import GrantKind, HousingType
from maeul.people.schemas import ConsentInput, ContactInput, HouseholdInput, PersonInput
from maeul.protection import fields
from maeul.safety import services as safety
from maeul.safety.errors import SafetyError
from maeul.safety.schemas import (
    ActivityInput,
    MeetingInput,
    MemberInput,
    ReportInput,
    StatusChange,
    TaskChange,
    TaskInput,
    TriageInput,
)
from maeul.sites import services as sites
from maeul.sites.models import ProgrammeType, Site
from maeul.web import demo_disaster, demo_monitoring, demo_programme, demo_safetynet, demo_screening

DEMO_PASSWORD = "maeul-demo-2026"  # noqa: S105 — demo accounts only, printed by `maeul run`
DEMO_SITE = "jongno"
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = [
    "영자",
    "순자",
    "정숙",
    "말순",
    "영수",
    "철수",
    "옥순",
    "복남",
    "정희",
    "미숙",
    "상철",
    "광수",
    "춘자",
    "경자",
    "명숙",
    "동현",
    "성호",
    "숙희",
    "점례",
    "봉순",
    "길동",
    "태식",
    "금순",
    "덕희",
]
ROADS = [
    "자하문로",
    "필운대로",
    "사직로",
    "창의문로",
    "북촌로",
    "율곡로",
    "종로",
    "대학로",
    "혜화로",
    "동숭길",
    "인왕산로",
    "세검정로",
    "평창문화로",
    "삼청로",
    "낙산길",
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    note: str
    display_name: str


DEMO_ACCOUNTS = [
    DemoAccount("ministry", Role.MINISTRY, "compares sites (aggregates only)", "행정안전부 담당자"),
    DemoAccount("jongno-admin", Role.SITE_ADMIN, "Jongno-gu site administrator", "종로구 사업 관리자"),
    DemoAccount("welfare", Role.WELFARE_OFFICIAL, "welfare official, 청운효자동 and 사직동", "청운효자동 복지 담당"),
    DemoAccount("safety", Role.SAFETY_OFFICIAL, "safety official, 청운효자동", "청운효자동 안전 담당"),
    DemoAccount("partner", Role.PARTNER_STAFF, "welfare centre staff, referred households", "종로노인종합복지관"),
    DemoAccount("helper", Role.HELPER, "helper with assigned households", "이웃 돌봄 참여자"),
    DemoAccount("helper-sajik", Role.HELPER, "helper in 사직동 (check-ins on the phone page)", "이웃 돌봄 참여자"),
    DemoAccount("helper-hyehwa", Role.HELPER, "helper in 혜화동 (check-ins on the phone page)", "이웃 돌봄 참여자"),
    DemoAccount("member", Role.BODY_MEMBER, "safety consultative body member, 청운효자동", "안전협의체 위원"),
    DemoAccount("guardian", Role.GUARDIAN, "daughter of one resident", "보호자"),
    DemoAccount(
        "yangpyeong-admin", Role.SITE_ADMIN, "administrator of the second site (isolation)", "양평군 사업 관리자"
    ),
    DemoAccount(
        "haeundae-admin", Role.SITE_ADMIN, "Haeundae-gu site administrator (grant, reports)", "해운대구 사업 관리자"
    ),
    DemoAccount(
        "suncheon-admin", Role.SITE_ADMIN, "Suncheon-si site administrator (grant, reports)", "순천시 사업 관리자"
    ),
    DemoAccount(
        "localgov", Role.LOCAL_GOVERNMENT, "programme officer of 강릉시 (applied, not a site)", "강릉시 사업 담당"
    ),
    DemoAccount("expert", Role.EXPERT, "outside expert on the evaluation panel", "김지현 교수"),
    DemoAccount("expert-2", Role.EXPERT, "outside expert (declared one conflict of interest)", "이상훈 연구위원"),
    DemoAccount("expert-3", Role.EXPERT, "outside expert", "박은정 연구원"),
]
# Where each site account belongs (the rest of the site accounts are Jongno's).
SITE_OF_ACCOUNT = {"yangpyeong-admin": "yangpyeong", "haeundae-admin": "haeundae", "suncheon-admin": "suncheon"}
LOCALGOV_SIGUNGU = "5115000000"  # 강원특별자치도 강릉시


def demo_loaded() -> bool:
    return Site.objects.filter(slug=DEMO_SITE).exists()


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> str:
    return f"010-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}"


def household_input(rng: random.Random, area: Area) -> HouseholdInput:
    lat = (area.latitude or 37.58) + rng.uniform(-0.004, 0.004)
    lon = (area.longitude or 126.98) + rng.uniform(-0.004, 0.004)
    birth_year = rng.randint(1931, 1962)
    alone = rng.random() < 0.6
    housing = rng.choices(list(HousingType), weights=[3, 3, 3, 2, 1, 1, 1, 1])[0]
    conditions = rng.sample(
        ["dementia", "diabetes", "hypertension", "mobility", "chronic_heart", "hearing_loss"], k=rng.randint(0, 2)
    )
    contacts = []
    if rng.random() < 0.7:
        contacts.append(
            ContactInput(
                name=_name(rng),
                relation=rng.choice(["딸", "아들", "며느리", "조카", "이웃"]),
                phone=_phone(rng),
                receives_alerts=rng.random() < 0.5,
            )
        )
    care = 3 if (alone and birth_year < 1945) or "dementia" in conditions else rng.choice([1, 1, 2])
    return HouseholdInput(
        area_code=area.code,
        address=f"서울특별시 종로구 {rng.choice(ROADS)} {rng.randint(1, 240)}",
        address_detail=rng.choice(["", "101호", "201호", "지하 1층", "2층", "3층 302호"]),
        latitude=round(lat, 6),
        longitude=round(lon, 6),
        housing_type=housing,
        living_alone=alone,
        older_adult=birth_year <= date.today().year - 65,
        disability=rng.random() < 0.12,
        chronic_illness=bool(set(conditions) & {"diabetes", "hypertension", "chronic_heart"}),
        bedridden=rng.random() < 0.05,
        financial_crisis=rng.random() < 0.15,
        care_level=care,
        primary_person=PersonInput(
            name=_name(rng),
            birth_year=birth_year,
            sex=rng.choice(["F", "F", "M"]),
            phone=_phone(rng) if rng.random() < 0.8 else None,
            conditions=conditions,
        ),
        contacts=contacts,
        consents=[
            ConsentInput(
                purpose="care_registry", method="written", given_on=date.today() - timedelta(days=rng.randint(1, 700))
            )
        ],
    )


@transaction.atomic
def load_demo(households: int = 120, seed: int = 2026) -> dict[str, str]:
    """Create the demo sites, accounts and households. Returns username → TOTP secret for officials."""
    if not areas.reference_loaded():
        areas.load_reference()
    jongno = sites.create_site(DEMO_SITE, "서울특별시 종로구", "1111000000", ProgrammeType.SAFETY_WELFARE, is_demo=True)
    yangpyeong_code = (
        Area.objects.filter(level="sigungu", abolished=False, name__endswith="양평군")
        .values_list("code", flat=True)
        .first()
        or "4183000000"
    )
    yangpyeong = sites.create_site("yangpyeong", "경기도 양평군", yangpyeong_code, ProgrammeType.SAFETY, is_demo=True)
    by_slug = {DEMO_SITE: jongno, "yangpyeong": yangpyeong}
    for new in demo_programme.NEW_SITES:
        by_slug[new.slug] = sites.create_site(
            new.slug, new.name, new.sigungu, ProgrammeType(new.programme_type), is_demo=True
        )
    cheongun = Area.objects.get(code="1111051500")
    sajik = Area.objects.get(code="1111053000")
    area_of = {
        "welfare": [cheongun, sajik],
        "safety": [cheongun],
        "member": [cheongun],
        "helper": [cheongun],
        "helper-sajik": [sajik],
        "helper-hyehwa": [Area.objects.get(code="1111065000")],
    }
    secrets: dict[str, str] = {}
    users = {}
    for account in DEMO_ACCOUNTS:
        site = None if account.role in SITELESS_ROLES else by_slug[SITE_OF_ACCOUNT.get(account.username, DEMO_SITE)]
        areas_of_account = area_of.get(account.username)
        if account.role == Role.LOCAL_GOVERNMENT:
            areas_of_account = [Area.objects.get(code=LOCALGOV_SIGUNGU)]
        user = accounts.create_account(
            account.username,
            DEMO_PASSWORD,
            account.role,
            site=site,
            areas=areas_of_account,
            is_demo=True,
            organisation="종로노인종합복지관" if account.role == Role.PARTNER_STAFF else "",
            display_name=account.display_name,
        )
        users[account.username] = user
        if Membership.objects.get(user=user).needs_second_factor:
            secret = pyotp.random_base32()
            SecondFactor.objects.create(
                user=user, secret_encrypted=fields.encrypt(secret), confirmed_at=user.date_joined
            )
            secrets[account.username] = secret
    rng = random.Random(seed)
    admin_actor = Actor(principal=principal_for(users["jongno-admin"]), channel="command")
    jongno_areas = list(jongno.areas.all())
    created = []
    for i in range(households):
        # Half the households in the welfare official's two dongs so their lists are full.
        area = [cheongun, sajik][i % 2] if i < households // 2 else rng.choice(jongno_areas)
        created.append(people.register_household(admin_actor, household_input(rng, area)))
    for view in [c for c in created if c.area_code == cheongun.code][:6]:
        people.grant_access(admin_actor, view.id, users["helper"].pk, GrantKind.HELPER)
    people.grant_access(admin_actor, created[0].id, users["partner"].pk, GrantKind.PARTNER)
    people.grant_access(admin_actor, created[2].id, users["guardian"].pk, GrantKind.GUARDIAN)
    yp_actor = Actor(principal=principal_for(users["yangpyeong-admin"]), channel="command")
    yp_area = yangpyeong.areas.order_by("code").first()
    if yp_area is not None:
        for _ in range(10):
            data = household_input(rng, yp_area).model_copy(update={"address": "경기도 양평군 양평읍 시민로 12"})
            people.register_household(yp_actor, data)
    _load_safety(jongno, cheongun, users, rng)
    # Monitored homes: people living alone in the welfare official's two dongs first.
    watched = sorted(
        (c for c in created if c.area_code in (cheongun.code, sajik.code)), key=lambda c: (not c.living_alone, c.id)
    )
    welfare = Actor(principal=principal_for(users["welfare"]), channel="command")
    demo_monitoring.load_monitoring(
        jongno, watched, admin_actor, welfare, on_call=[users["welfare"].pk, users["safety"].pk]
    )
    demo_safetynet.load_safetynet(jongno, users, rng)
    for new in demo_programme.NEW_SITES:
        demo_programme.load_site_activity(by_slug[new.slug], users[new.admin], rng, household_input)
    demo_programme.load_competition(
        by_slug, users, [users["expert"], users["expert-2"], users["expert-3"]], users["localgov"], rng
    )
    demo_disaster.load_disaster(jongno, users)
    demo_screening.load_screening(jongno, users)
    return secrets


def _load_safety(site: Site, area: Area, users: dict[str, Any], rng: random.Random) -> None:
    """Type 1 demo: the consultative body of 청운효자동, hazard reports across Jongno-gu in every state, a meeting
    whose decisions became tasks, a patrol, and a task waiting for a member to confirm it."""
    official = Actor(principal=principal_for(users["safety"]), channel="command")
    admin = Actor(principal=principal_for(users["jongno-admin"]), channel="command")
    term = date(2025, 3, 1)
    members = [
        safety.add_member(
            official,
            MemberInput(
                area_code=area.code,
                name="최철수",
                phone="010-5100-2201",
                kind="volunteer_firefighter",
                role="chair",
                term_start=term,
            ),
        ),
        safety.add_member(
            official,
            MemberInput(
                area_code=area.code,
                name="한미경",
                phone="010-5100-2202",
                kind="village_head",
                role="secretary",
                term_start=term,
            ),
        ),
        safety.add_member(
            official,
            MemberInput(area_code=area.code, name="박순자", phone="010-5100-2203", kind="shop_owner", term_start=term),
            account_id=users["member"].pk,
        ),
        safety.add_member(
            official,
            MemberInput(
                area_code=area.code, name="정민호", phone="010-5100-2204", kind="retired_official", term_start=term
            ),
        ),
    ]
    codes = [c.code for c in safety.categories(site) if not c.attributes or c.code == "pothole"]
    dongs = list(site.areas.exclude(latitude=None))
    reports = []
    for i in range(60):
        place = area if i % 3 == 0 else rng.choice(dongs)
        assert place.latitude is not None and place.longitude is not None
        data = ReportInput(
            category=rng.choice(codes),
            description=rng.choice(DEMO_HAZARDS),
            latitude=place.latitude + rng.gauss(0, 0.002),
            longitude=place.longitude + rng.gauss(0, 0.002),
        )
        with contextlib.suppress(SafetyError):  # a point that falls outside the district is skipped
            reports.append(safety.submit_report(data, site=site, file_anyway=True))
    for report in reports[::2]:
        safety.triage(
            admin,
            report.pk,
            TriageInput(
                likelihood=rng.randint(1, 5),
                severity=rng.randint(1, 5),
                urgent=rng.random() < 0.1,
                responder=report.responder.code if report.responder else "emd",
            ),
        )
    for report in reports[1:12:2]:
        safety.change_status(admin, report.pk, StatusChange(status="resolved", note="현장 조치 완료"))
    today = timezone.localdate()
    meeting = safety.record_meeting(
        official,
        MeetingInput(
            area_code=area.code,
            held_at=timezone.now() - timedelta(days=20),
            place="청운효자동 행정복지센터",
            agenda="겨울철 결빙 취약지와 빈집 점검",
            attendee_ids=[m.pk for m in members[:3]],
            decisions=["청운초 앞 경사로 제설함 설치", "자하문로 골목 보안등 교체"],
        ),
    )
    safety.record_activity(
        official,
        ActivityInput(
            area_code=area.code,
            kind="patrol",
            held_on=today - timedelta(days=7),
            hours=2.0,
            participant_ids=[m.pk for m in members],
            summary="통학로 야간 순찰",
        ),
    )
    mine = [r.reference for r in reports if r.area_id == area.code and r.status != "resolved"][:2]
    task = safety.create_task(
        official,
        TaskInput(
            area_code=area.code,
            title="자하문로 보도 포장 보수",
            source="report",
            responder="roads",
            budget_krw=4_800_000,
            plan_year=today.year,
            due_date=today + timedelta(days=14),
            report_references=mine,
        ),
    )
    safety.change_task(
        official,
        task.pk,
        TaskChange(status="done", responder="roads", budget_krw=4_500_000, due_date=today + timedelta(days=14)),
    )
    for decided in meeting.tasks.all():
        safety.change_task(
            official,
            decided.pk,
            TaskChange(
                status="in_progress", responder="roads", budget_krw=1_200_000, due_date=today + timedelta(days=30)
            ),
        )


DEMO_HAZARDS = [
    "보도블록이 들떠서 걸려 넘어질 것 같아요",
    "밤에 골목 보안등이 꺼져 있어 어둡습니다",
    "비가 오면 빗물받이가 막혀 물이 넘칩니다",
    "경사로가 그늘져서 아침마다 얼어 있어요",
    "빈집 담장이 기울어져 무너질 것 같습니다",
    "통학로에 불법 주정차가 많아 아이들이 위험해요",
    "전신주가 기울어져 있고 전선이 낮게 늘어져 있어요",
]

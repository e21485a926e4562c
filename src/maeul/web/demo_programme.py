"""The programme in the demo: two more participating sites with a few months of activity (해운대구, Type 2, and
순천시, Type 1), and this year's competition run to its end — a call, applications from 33 local governments (a
few rejected with reasons), three experts (one declares a conflict), scoring, ranking, 22 selected within both
caps, notices — with the four demo sites' grants linked, baselines measured, spending and quarterly reports.

Dates are relative to the day the demo loads: the call ran from 150 to 120 days ago, results came 90 days ago, and
the sites launched 60 days ago (Jongno's monitoring history is two weeks, so its alerts all fall after launch).
Activity before launch is what each baseline measures; everything goes through the apps' services, as the person
who would do it. The other 29 local governments file through their programme officers, who have no demo login (no
account is needed to see what they filed), which keeps the demo quick to load.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from maeul.accounts.principal import Principal, principal_for
from maeul.accounts.roles import Role
from maeul.areas.models import Area, AreaLevel
from maeul.audit.services import Actor
from maeul.people import services as people
from maeul.programme import services as programme
from maeul.programme.models import Application, ApplicationStatus, Grant
from maeul.programme.schemas import (
    ApplicationInput,
    BudgetLineInput,
    KpiTargetInput,
    QuarterlyReportInput,
    SpendingInput,
)
from maeul.safety import services as safety
from maeul.safety.errors import SafetyError
from maeul.safety.schemas import ReportInput, StatusChange, TaskChange, TaskInput
from maeul.safetynet import services as safetynet
from maeul.safetynet.models import HelperKind
from maeul.safetynet.schemas import AssignmentInput, HelperInput
from maeul.sensing import services as sensing
from maeul.sensing.schemas import DeviceInput
from maeul.sites.models import Site
from maeul.watch import detectors
from maeul.watch import services as watch

CALL_OPENED_DAYS_AGO = 150
LAUNCHED_DAYS_AGO = 60
APPLICANTS = 33
PLAN = (
    "읍·면·동마다 주민 안전협의체를 꾸려 생활 속 위험을 찾아 신고하고, 안전 개선 과제를 함께 정해 해결한다. "
    "홀로 사는 어르신과 장애인 가구에 활동 감지 센서를 설치하고, 이상이 감지되면 돌봄 도우미와 담당 공무원이 "
    "바로 확인한다. 퇴직 공무원과 명예사회복지공무원, 이·통장으로 인적 안전망을 넓히고, 복지관과 보건소 등 "
    "자원 기관과 연계해 발굴된 가구가 실제로 도움을 받도록 한다. 분기마다 성과를 점검해 주민과 공유한다."
)


@dataclass(frozen=True)
class NewSite:
    slug: str
    name: str
    sigungu: str
    programme_type: int
    admin: str


HAEUNDAE = NewSite("haeundae", "부산광역시 해운대구", "2635000000", 2, "haeundae-admin")
SUNCHEON = NewSite("suncheon", "전라남도 순천시", "4615000000", 1, "suncheon-admin")
NEW_SITES = [HAEUNDAE, SUNCHEON]


def _actor(user: User) -> Actor:
    return Actor(principal=principal_for(user), channel="command")


def _moment(day: date, rng: random.Random) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59))))


# --- activity at the new sites --------------------------------------------------------------------------------


def load_site_activity(site: Site, admin: User, rng: random.Random, household_input: Any) -> None:
    """Hazard reports over the past five months (resolved more slowly before launch than after), improvement tasks
    finished since launch, and for a Type 2 site households with sensors, helpers and alerts handled since."""
    actor = _actor(admin)
    today = timezone.localdate()
    launch = today - timedelta(days=LAUNCHED_DAYS_AGO)
    dongs = list(site.areas.exclude(latitude=None).order_by("code")[:6])
    safety.ensure_catalogue(site)
    codes = [c.code for c in safety.categories(site) if not c.attributes][:6]
    for n in range(36):
        filed_on = today - timedelta(days=rng.randint(1, CALL_OPENED_DAYS_AGO))
        place = dongs[n % len(dongs)]
        assert place.latitude is not None and place.longitude is not None
        with contextlib.suppress(SafetyError):  # a point that falls outside the district is skipped
            report = safety.submit_report(
                ReportInput(
                    category=rng.choice(codes),
                    description="보행로 파손과 배수 불량으로 통행이 위험합니다",
                    latitude=place.latitude + rng.gauss(0, 0.0015),
                    longitude=place.longitude + rng.gauss(0, 0.0015),
                ),
                site=site,
                file_anyway=True,
                now=_moment(filed_on, rng),
            )
            if rng.random() < 0.85:
                days = rng.uniform(5, 20) if filed_on < launch else rng.uniform(1, 7)
                resolved_at = report.created_at + timedelta(days=days)
                if resolved_at < timezone.now():
                    safety.change_status(
                        actor, report.pk, StatusChange(status="resolved", note="조치 완료"), now=resolved_at
                    )
    for n, title in enumerate(
        ["통학로 보도 정비", "보안등 교체", "빗물받이 준설", "경사로 미끄럼 방지", "노후 담장 보수"]
    ):
        task = safety.create_task(
            actor,
            TaskInput(
                area_code=dongs[n % len(dongs)].code,
                title=title,
                source="inspection",
                responder="roads",
                budget_krw=rng.randint(5, 40) * 100_000,
                plan_year=today.year,
                due_date=today + timedelta(days=30),
            ),
        )
        safety.change_task(
            actor,
            task.pk,
            TaskChange(status="done", responder="roads", budget_krw=task.budget_krw, due_date=task.due_date),
        )
    if site.programme_type == 2:
        _monitoring(site, actor, rng, household_input, dongs, launch)


def _monitoring(
    site: Site, actor: Actor, rng: random.Random, household_input: Any, dongs: list[Area], launch: date
) -> None:
    homes = []
    for n in range(24):
        area = dongs[n % len(dongs)]
        data = household_input(rng, area).model_copy(update={"address": f"{site.name} 해운대로 {100 + n}"})
        homes.append(people.register_household(actor, data))
    helpers = []
    for n, (kind, name) in enumerate([(HelperKind.RETIRED_OFFICIAL, "문정호"), (HelperKind.NEIGHBOUR, "배순애"),
                                      (HelperKind.HONORARY_OFFICIAL, "노미란")]):  # fmt: skip
        helpers.append(
            safetynet.register_helper(
                actor,
                HelperInput(
                    kind=kind,
                    name=name,
                    phone=f"010-5520-{3100 + n}",
                    area_codes=[d.code for d in dongs],
                    max_households=8,
                    consent_given_on=launch,
                ),
            )
        )
    for n, home in enumerate(homes[:18]):
        safetynet.assign_helper(actor, home.id, AssignmentInput(helper_id=helpers[n % len(helpers)].id))
    for n, home in enumerate(homes[:20]):
        sensing.provision_device(
            actor,
            home.id,
            DeviceInput(
                protocol="zigbee2mqtt",
                identity=f"{site.slug}-{n:03d}/motion",
                vendor="Aqara",
                model="RTCGQ11LM",
                room="living",
                label="거실 움직임",
                kinds=["motion", "battery"],
            ),
        )
    outcomes = ["person_fine", "false_alarm", "person_fine", "needed_help", "false_alarm", "person_fine"]
    now = timezone.now()
    for n in range(26):
        home = homes[n % 20]
        raised = _moment(launch + timedelta(days=rng.randint(1, LAUNCHED_DAYS_AGO - 1)), rng)
        if raised >= now:
            continue
        alert = watch.raise_alert(
            site.pk,
            home.id,
            detectors.Alert(
                household=str(home.id),
                kind="inactivity",
                raised_at=raised,
                severity="high",
                reason="No activity for 9 h",
                cause=f"inactivity-demo-{n}",
                reason_code="",
            ),
            now=raised,
        )
        if alert is None:
            continue
        taken = raised + timedelta(minutes=rng.choice([4, 6, 9, 12, 15, 18, 25, 35, 50]))
        watch.acknowledge(actor, alert.pk, now=taken)
        watch.resolve(actor, alert.pk, outcomes[n % len(outcomes)], "", now=taken + timedelta(minutes=40))


# --- the competition ------------------------------------------------------------------------------------------


def _applicants(demo_sigungu: list[str]) -> list[Area]:
    with_dongs = Area.objects.filter(level=AreaLevel.EMD, abolished=False, parent__level=AreaLevel.SIGUNGU)
    codes = sorted(set(with_dongs.values_list("parent_id", flat=True)) - set(demo_sigungu))
    rng = random.Random(33)
    chosen = demo_sigungu + rng.sample(codes, APPLICANTS - len(demo_sigungu))
    return list(Area.objects.filter(code__in=chosen).order_by("code"))


def _application(
    government: Area, national: int, local: int, programme_type: int, defect: str = ""
) -> ApplicationInput:
    dongs = list(
        Area.objects.filter(level=AreaLevel.EMD, abolished=False, parent=government)
        .order_by("code")
        .values_list("code", flat=True)[:3]
    )
    if defect == "area":
        dongs.append("1111051500" if not government.code.startswith("1111") else "2635051000")
    device_share = national * 2 // 5
    return ApplicationInput(
        programme_type=programme_type,
        target_area_codes=dongs,
        title=f"{government.full_name} 스마트 안전·복지 마을 만들기",
        plan=PLAN if defect != "plan" else "센서 설치",
        budget_lines=[
            BudgetLineInput(
                category="devices",
                description="IoT 센서와 게이트웨이 설치",
                national_krw=device_share,
                local_krw=local * 2 // 5,
            ),
            BudgetLineInput(
                category="community",
                description="안전협의체 운영과 주민 활동",
                national_krw=national // 4,
                local_krw=local // 4,
            ),
            BudgetLineInput(
                category="safety_net",
                description="인적 안전망 교육과 활동비",
                national_krw=national - device_share - national // 4,
                local_krw=local - local * 2 // 5 - local // 4,
            ),
        ],
        kpi_targets=[
            KpiTargetInput(kpi="hazards_reported", target=20),
            KpiTargetInput(kpi="hazard_days_to_resolve", target=5),
            *([KpiTargetInput(kpi="alert_minutes_to_response", target=20)] if programme_type == 2 else []),
        ],
    )


def _officer(government: Area) -> Actor:
    """A local government's programme officer without a demo login (see the module's docstring)."""
    return Actor(
        principal=Principal(
            user_id=None,
            username=f"officer-{government.code}",
            role=Role.LOCAL_GOVERNMENT,
            site_id=None,
            area_codes=frozenset({government.code}),
        ),
        channel="command",
    )


def load_competition(
    sites: dict[str, Site], users: dict[str, User], experts: list[User], localgov: User, rng: random.Random
) -> None:
    today = timezone.localdate()
    ministry = _actor(users["ministry"])
    opened = today - timedelta(days=CALL_OPENED_DAYS_AGO)
    base = programme.default_call(today.year, opened).model_copy(
        update={
            "title": f"{today.year}년 스마트 읍·면·동 복지·안전 서비스 개선 모델 공모",
            "closes_on": opened + timedelta(days=30),
            "evaluation_due_on": opened + timedelta(days=50),
            "results_on": opened + timedelta(days=60),
            "execution_ends_on": today + timedelta(days=200),
            # Three experts in the demo, one of whom declares a conflict: two scoresheets suffice there.
            "min_experts_per_application": 2,
        }
    )
    call = programme.create_call(ministry, base)
    programme.open_call(ministry, call.pk)
    demo_codes = [s.sigungu_id for s in sites.values()]
    localgov_code = next(iter(principal_for(localgov).area_codes))
    governments = _applicants([*demo_codes, localgov_code])
    strong = set(demo_codes)
    applied_on = opened + timedelta(days=10)
    applications: list[Application] = []
    defects = {3: "cap", 8: "ratio", 13: "area", 21: "plan"}
    for n, government in enumerate(governments):
        if government.code == localgov_code:
            actor = _actor(localgov)
        elif government.code in strong:
            site = next(s for s in sites.values() if s.sigungu_id == government.code)
            actor = _actor(users[next(k for k, v in sites.items() if v == site) + "-admin"])
        else:
            actor = _officer(government)
        defect = "" if government.code in strong or government.code == localgov_code else defects.get(n, "")
        national = 60_000_000 if defect == "cap" else rng.choice([40_000_000, 45_000_000, 50_000_000])
        local = national // 2 if defect == "ratio" else national + rng.choice([0, 5_000_000, 10_000_000])
        site_type = next((s.programme_type for s in sites.values() if s.sigungu_id == government.code), None)
        data = _application(government, national, local, site_type or rng.choice([1, 2, 2]), defect)
        application = programme.create_application(actor, call.pk, data, today=applied_on)
        for kind in ("plan", "matching_funds"):
            programme.add_attachment(
                actor, application.pk, kind, f"{kind}.pdf", "application/pdf", b"%PDF-1.4\n% demo attachment\n"
            )
        applications.append(
            programme.submit_application(actor, application.pk, now=_moment(applied_on + timedelta(days=n % 15), rng))
        )
    programme.close_call(ministry, call.pk)
    affiliations = [
        ("한국행정연구원", "지방행정"),
        ("서울대학교 사회복지학과", "사회복지"),
        ("한국재난안전연구원", "재난안전"),
    ]
    panel_experts = [
        programme.register_expert(ministry, e.pk, affiliation, field)
        for e, (affiliation, field) in zip(experts, affiliations, strict=True)
    ]
    programme.form_panel(ministry, call.pk, "평가위원회", [e.pk for e in panel_experts], [])
    eligible = [a for a in applications if a.status == ApplicationStatus.SUBMITTED]
    criteria = list(call.criteria.all())
    for position, account in enumerate(experts):
        actor = _actor(account)
        lean = [0.0, 0.06, -0.07][position]
        for application in eligible:
            if position == 1 and application == eligible[-1]:
                programme.declare(actor, application.pk, True, "해당 지자체의 정책 자문위원")
                continue
            programme.declare(actor, application.pk, False)
            quality = 0.92 if application.local_government_id in strong else rng.uniform(0.5, 0.9)
            level = min(1.0, max(0.0, quality + lean + rng.uniform(-0.04, 0.04)))
            programme.score(actor, application.pk, {c.code: round(c.points * level, 1) for c in criteria})
    programme.rank_applications(ministry, call.pk)
    grants = programme.select(ministry, call.pk)
    programme.issue_notices(ministry, call.pk)
    for grant in grants:
        _run_grant(grant, sites, users, ministry, today, rng)


def _run_grant(
    grant: Grant, sites: dict[str, Site], users: dict[str, User], ministry: Actor, today: date, rng: random.Random
) -> None:
    slug = next((k for k, s in sites.items() if s.sigungu_id == grant.application.local_government_id), None)
    if slug is None:
        return
    programme.link_site(ministry, grant.pk, sites[slug].pk, today - timedelta(days=LAUNCHED_DAYS_AGO))
    programme.measure_baseline(ministry, grant.pk)
    admin = _actor(users[f"{slug}-admin"])
    call = grant.application.call
    for line in grant.lines.all():
        for month in range(3):
            spent_on = call.results_on + timedelta(days=5 + 28 * month)
            if spent_on >= today:
                break
            programme.record_spending(
                admin,
                grant.pk,
                SpendingInput(
                    line_id=line.pk,
                    spent_on=spent_on,
                    national_krw=line.national_budget_krw // 6 // 1000 * 1000,
                    local_krw=line.local_budget_krw // 6 // 1000 * 1000,
                    description=f"{line.description} {month + 1}차 집행",
                ),
            )
    for quarter in programme.quarters(grant, today):
        if programme.quarter_end(quarter.year, quarter.quarter) < today:
            programme.submit_quarterly_report(
                admin,
                grant.pk,
                QuarterlyReportInput(
                    year=quarter.year,
                    quarter=quarter.quarter,
                    progress="안전협의체 구성과 센서 설치 업체 선정을 마쳤고, 주민 설명회를 두 차례 열었다.",
                    issues="센서 설치 동의 확보에 시간이 걸리고 있음",
                ),
            )

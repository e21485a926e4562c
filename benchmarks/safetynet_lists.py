"""Safety-net list benchmark: a helper's due list and an official's case list at a large site.

    python -m maeul.testing.postgres_server -- python benchmarks/safetynet_lists.py --backend postgres
    python benchmarks/safetynet_lists.py --backend sqlite

Builds a fresh database with the household registry of benchmarks/pages.py (20,000 households by default), then
2,000 helpers with their accounts, primary (and some backup) assignments with the household grants they carry,
a weekly visit and a call every three days per covered household, 100,000 past check-ins, cases (open and closed)
with needs and referrals to a directory of partner services. It starts gunicorn and sends concurrent requests:
helpers opening their due list (`/helper/`), the official opening the case list (`/cases/`, first page, their
own cases, one area) — and prints latency percentiles per scenario against the 150 ms p95 target.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages

TARGET_P95_MS = pages.TARGET_P95_MS
SCENARIOS = ("helper_due_list", "cases_first_page", "cases_mine", "cases_area")
RESULTS = ["fine"] * 85 + ["no_answer"] * 7 + ["needs_help"] * 4 + ["in_hospital"] * 2 + ["not_at_address"] * 2
DOMAINS = ("income", "food", "housing", "health", "care", "safety", "isolation")


@dataclass
class SafetyNet:
    helpers: int = 0
    helper_users: list[Any] = field(default_factory=list)  # a sample of helper accounts the clients log in as
    assignments: int = 0
    schedules: int = 0
    check_ins: int = 0
    cases: int = 0
    open_cases: int = 0
    referrals: int = 0
    due_reference: str = ""  # a household the first sampled helper has due today (preflight)
    case_reference: str = ""  # an open case in the official's areas (preflight)


def _bulk(model: Any, rows: list[Any]) -> list[Any]:
    from django.db import transaction

    with transaction.atomic():
        return list(model.objects.bulk_create(rows, batch_size=2000))


def seed_safety_net(seeded: pages.Seeded, helpers: int, check_ins: int, rng: random.Random) -> SafetyNet:
    """Helpers, assignments, schedules, check-ins, cases and referrals, written as the services write them."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from maeul.accounts.models import Membership
    from maeul.accounts.roles import Role
    from maeul.directory.models import Organization, Service
    from maeul.people.models import Consent, ConsentPurpose, GrantKind, Household, HouseholdGrant, HouseholdStatus
    from maeul.protection import fields
    from maeul.safetynet.models import (
        Assignment,
        AssignmentRole,
        CheckIn,
        CheckInKind,
        CheckInSchedule,
        Helper,
        HelperKind,
    )
    from maeul.welfare.models import Case, CaseSource, NeedAssessment, Referral, ReferralStatus

    User = get_user_model()
    now = timezone.now()
    today = timezone.localdate()
    site = seeded.site
    net = SafetyNet()
    households = list(
        Household.objects.filter(
            site=site, destroyed_at=None, status__in=[HouseholdStatus.ACTIVE, HouseholdStatus.IN_HOSPITAL]
        ).values_list("id", "area_id", "reference")
    )
    by_area: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for row in households:
        by_area[row[1]].append(row)
    areas = sorted(by_area)
    # Helpers per area in proportion to its households, at least one each.
    share = {a: max(1, round(helpers * len(by_area[a]) / len(households))) for a in areas}
    unusable = make_password(None)
    users = _bulk(
        User,
        [User(username=f"helper-{a}-{n}", password=unusable) for a in areas for n in range(share[a])],
    )
    memberships = _bulk(Membership, [Membership(user=u, role=Role.HELPER, site=site) for u in users])
    through = Membership.areas.through
    _bulk(through, [through(membership_id=m.pk, area_id=m.user.username.split("-")[1]) for m in memberships])
    kinds = list(HelperKind.values)
    helper_rows = []
    for user in users:
        area = user.username.split("-")[1]
        name = f"도우미{user.pk}"
        phone = f"010{rng.randint(10_000_000, 99_999_999)}"
        helper_rows.append(
            Helper(
                site=site,
                account=user,
                kind=rng.choice(kinds),
                name_encrypted=fields.encrypt(name),
                name_index=fields.blind_index(fields.normalise_name(name)),
                phone_encrypted=fields.encrypt(phone),
                phone_index=fields.blind_index(phone),
                skills=rng.sample(["care", "dementia", "first_aid", "driving"], k=rng.randint(0, 2)),
                languages=["ko"],
                max_households=rng.choice([8, 10, 12, 15]),
                consent_given_on=today - timedelta(days=rng.randint(30, 700)),
            )
        )
    created_helpers = _bulk(Helper, helper_rows)
    helper_through = Helper.areas.through
    _bulk(
        helper_through,
        [helper_through(helper_id=h.pk, area_id=h.account.username.split("-")[1]) for h in created_helpers],
    )
    net.helpers = len(created_helpers)
    helpers_in: dict[str, list[Any]] = defaultdict(list)
    for h in created_helpers:
        helpers_in[h.account.username.split("-")[1]].append(h)

    assignments, grants, schedules = [], [], []
    primary_of: dict[int, Any] = {}
    for hid, area, _ref in households:
        if rng.random() < 0.08:  # some households have no helper yet (the coverage report's gap)
            continue
        primary = rng.choice(helpers_in[area])
        primary_of[hid] = primary
        started = now - timedelta(days=rng.randint(1, 700))
        assignments.append(
            Assignment(household_id=hid, helper=primary, role=AssignmentRole.PRIMARY, started_at=started)
        )
        grants.append(HouseholdGrant(household_id=hid, user_id=primary.account_id, kind=GrantKind.HELPER))
        if rng.random() < 0.3 and len(helpers_in[area]) > 1:
            backup = rng.choice([h for h in helpers_in[area] if h.pk != primary.pk])
            assignments.append(
                Assignment(household_id=hid, helper=backup, role=AssignmentRole.BACKUP, started_at=started)
            )
            grants.append(HouseholdGrant(household_id=hid, user_id=backup.account_id, kind=GrantKind.HELPER))
        for kind, interval in ((CheckInKind.VISIT, 7), (CheckInKind.CALL, 3)):
            schedules.append(
                CheckInSchedule(
                    household_id=hid,
                    kind=kind,
                    interval_days=interval,
                    helper=primary,
                    next_due_on=today + timedelta(days=rng.randint(-2, interval)),
                    last_result="fine",
                    last_check_in_at=now - timedelta(days=rng.randint(0, interval)),
                )
            )
    _bulk(Assignment, assignments)
    _bulk(HouseholdGrant, grants)
    created_schedules = _bulk(CheckInSchedule, schedules)
    net.assignments, net.schedules = len(assignments), len(created_schedules)

    batch: list[Any] = []
    for n in range(check_ins):
        schedule = rng.choice(created_schedules)
        occurred = now - timedelta(seconds=rng.uniform(0, 180 * 86400))
        note = "안부 확인, 특이사항 없음" if rng.random() < 0.2 else ""
        batch.append(
            CheckIn(
                household_id=schedule.household_id,
                helper=schedule.helper,
                schedule=schedule,
                kind=schedule.kind,
                result=rng.choice(RESULTS),
                crisis_signs=[],
                note_encrypted=fields.encrypt(note) if note else "",
                occurred_at=occurred,
                recorded_by_id=schedule.helper.account_id,
                client_id=uuid.uuid4(),
                due_on=(occurred + timedelta(days=rng.choice([0, 0, 0, 1, -1]))).date(),
            )
        )
        if len(batch) == 10_000 or n == check_ins - 1:
            _bulk(CheckIn, batch)
            batch = []
    net.check_ins = check_ins

    organizations = _bulk(Organization, [Organization(site=site, name=f"협력기관 {n}") for n in range(20)])
    services = _bulk(
        Service,
        [Service(organization=o, name=f"{o.name} 서비스 {k}") for o in organizations for k in range(3)],
    )
    official_areas = set(pages.OFFICIAL_AREAS)
    consents = dict(
        Consent.objects.filter(household__site=site, purpose=ConsentPurpose.CARE_REGISTRY).values_list(
            "household_id", "pk"
        )
    )
    case_rows = []
    candidates = rng.sample(households, k=min(len(households), 4000))
    for n, (hid, area, _ref) in enumerate(candidates):
        opened = now - timedelta(days=rng.uniform(0, 365))
        is_open = n % 2 == 0
        mine = area in official_areas and rng.random() < 0.7
        case_rows.append(
            Case(
                site=site,
                household_id=hid,
                area_id=area,
                source=rng.choice(list(CaseSource.values)),
                status="open" if is_open else "closed",
                priority=rng.choice([1, 2, 2, 2, 3, 4]),
                assigned_to=seeded.official if mine else None,
                summary_encrypted=fields.encrypt("생활고 호소, 공과금 체납"),
                opened_at=opened,
                updated_at=opened + timedelta(days=rng.uniform(0, 30)),
                closed_at=None if is_open else opened + timedelta(days=rng.uniform(5, 60)),
                outcome="" if is_open else "needs_met",
            )
        )
    cases = _bulk(Case, case_rows)
    net.cases = len(cases)
    net.open_cases = sum(1 for c in cases if c.status == "open")
    _bulk(
        NeedAssessment,
        [NeedAssessment(case=c, domain=rng.choice(DOMAINS), level=rng.randint(1, 4), at=c.opened_at) for c in cases],
    )
    referral_rows = []
    for case in rng.sample(cases, k=len(cases) // 2):
        service = rng.choice(services)
        sent = case.opened_at + timedelta(days=1)
        accepted = rng.random() < 0.75
        referral_rows.append(
            Referral(
                case=case,
                service=service,
                organization_id=service.organization_id,
                need_domain=rng.choice(DOMAINS),
                status=ReferralStatus.ACCEPTED if accepted else ReferralStatus.DECLINED,
                consent_id=consents.get(case.household_id),
                sent_by=seeded.official,
                sent_at=sent,
                accepted_at=sent + timedelta(days=2) if accepted else None,
                declined_at=None if accepted else sent + timedelta(days=2),
                updated_at=sent + timedelta(days=2),
            )
        )
    _bulk(Referral, referral_rows)
    net.referrals = len(referral_rows)

    sample = rng.sample(created_helpers, k=min(50, len(created_helpers)))
    net.helper_users = [h.account for h in sample]
    first = sample[0]
    due = CheckInSchedule.objects.filter(helper=first, active=True, next_due_on__lte=today).first()
    if due is None:
        CheckInSchedule.objects.filter(helper=first).update(next_due_on=today)
        due = CheckInSchedule.objects.filter(helper=first).first()
    assert due is not None
    net.due_reference = due.household.reference
    mine_open = Case.objects.filter(site=site, status="open", assigned_to=seeded.official).order_by("-priority")
    net.case_reference = mine_open.first().household.reference  # type: ignore[union-attr]
    return net


def _analyse() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        from maeul.web.maintenance import refresh_planner_statistics

        refresh_planner_statistics()


def plan(net: SafetyNet, cookies: dict[str, str], total: int, rng: random.Random) -> list[pages.Planned]:
    helper_roles = [r for r in cookies if r.startswith("helper")]
    out = []
    for i in range(total):
        scenario = SCENARIOS[i % len(SCENARIOS)]
        match scenario:
            case "helper_due_list":
                out.append(pages.Planned(scenario, rng.choice(helper_roles), "/helper/"))
            case "cases_first_page":
                out.append(pages.Planned(scenario, "official", "/cases/"))
            case "cases_mine":
                out.append(pages.Planned(scenario, "official", "/cases/?mine=1"))
            case "cases_area":
                out.append(pages.Planned(scenario, "official", f"/cases/?area={rng.choice(pages.OFFICIAL_AREAS)}"))
    rng.shuffle(out)
    return out


def preflight(server: pages.Server, cookies: dict[str, str], net: SafetyNet) -> None:
    checks = [
        ("helper-0", "/helper/", net.due_reference),
        ("official", "/cases/", ""),
        ("official", "/cases/?mine=1", net.case_reference),
    ]
    with httpx.Client(base_url=server.base, timeout=30, follow_redirects=False) as client:
        for role, path, expected in checks:
            response = client.get(path, headers={"Cookie": cookies[role]})
            if response.status_code != 200 or expected not in response.text:
                raise SystemExit(
                    f"preflight failed: {role} GET {path} → {response.status_code} (expected {expected!r})"
                )


def report(backend: str, seeded: pages.Seeded, net: SafetyNet, result: pages.Result, clients: int) -> bool:
    print(
        f"\nMaeul safety-net list benchmark — backend {backend}: {seeded.households:,} households, "
        f"{net.helpers:,} helpers, {net.assignments:,} assignments, {net.schedules:,} schedules, "
        f"{net.check_ins:,} check-ins, {net.cases:,} cases ({net.open_cases:,} open), {net.referrals:,} referrals; "
        f"{clients} concurrent clients"
    )
    header = f"{'scenario':<18}{'count':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}   (ms)"
    print(header)
    print("-" * len(header))
    slow = []
    rows = [(name, sorted(result.samples[name])) for name in SCENARIOS if result.samples.get(name)]
    overall = sorted(ms for _, values in rows for ms in values)
    if not overall:
        print("no request completed")
        return False
    for name, values in [*rows, ("overall", overall)]:
        p95 = pages.percentile(values, 95)
        if p95 >= TARGET_P95_MS:
            slow.append(name)
        print(
            f"{name:<18}{len(values):>7}{pages.percentile(values, 50):>9.1f}{p95:>9.1f}"
            f"{pages.percentile(values, 99):>9.1f}{values[-1]:>9.1f}"
        )
    print()
    pages.report_load(result, len(overall))
    print(f"p95 < {TARGET_P95_MS:.0f} ms: " + (f"NO — over: {', '.join(slow)}" if slow else "yes, in every scenario"))
    return not slow


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--helpers", type=int, default=2_000)
    parser.add_argument("--check-ins", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--strict", action="store_true", help="exit 2 when a p95 is over the target")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="maeul-bench-"))
    try:
        with pages.database_url(args.backend, workdir) as db_url:
            env = pages.server_environment(db_url, workdir)
            os.environ.update(env)
            import django

            django.setup()
            from django.db import connections

            started = time.perf_counter()
            print(f"Seeding a fresh {args.backend} database…", file=sys.stderr)
            seeded = pages.seed(args.households, 50_000, rng)
            net = seed_safety_net(seeded, args.helpers, args.check_ins, rng)
            _analyse()
            cookies = {"official": pages.verified_session(seeded.official)}
            for n, user in enumerate(net.helper_users):
                cookies[f"helper-{n}"] = pages.verified_session(user)
            print(f"Seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            connections.close_all()
            with pages.gunicorn(env, workdir, args.workers, args.threads) as server:
                preflight(server, cookies, net)
                pages.run_load(server, cookies, plan(net, cookies, 40, rng), args.clients, args.max_seconds)
                result = pages.run_load(
                    server, cookies, plan(net, cookies, args.requests, rng), args.clients, args.max_seconds
                )
            under = report(args.backend, seeded, net, result, args.clients)
            connections.close_all()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if result.failures:
        return 1
    return 2 if args.strict and not under else 0


if __name__ == "__main__":
    sys.exit(main())

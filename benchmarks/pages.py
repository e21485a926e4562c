"""Page benchmark: the household registry pages under concurrent load, against a production server.

    python benchmarks/pages.py --backend sqlite
    python -m maeul.testing.postgres_server -- python benchmarks/pages.py --backend postgres

Builds a fresh database (SQLite file in a temporary directory, or a new database on the PostgreSQL server
named by DATABASE_URL), seeds it with households and audit rows written the way the registry services
write them, starts gunicorn on a free loopback port, logs a site administrator and a welfare official in
by creating second-factor-verified sessions, then sends list, search, filter, sort, deep-page and detail
requests from concurrent clients and prints latency percentiles per scenario. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from maeul.areas.models import Area
    from maeul.people.schemas import HouseholdInput
    from maeul.sites.models import Site

TARGET_P95_MS = 150.0
HOST = "127.0.0.1"
SITE_SLUG = "bench"
SITE_SIGUNGU = "1111000000"  # 서울특별시 종로구
OFFICIAL_AREAS = ("1111051500", "1111053000")  # 청운효자동, 사직동
FLAGS = ("living_alone", "older_adult", "disability", "chronic_illness", "bedridden", "financial_crisis")
SCENARIOS = (
    "list",
    "search_name",
    "search_phone",
    "filter_care_level",
    "filter_flag",
    "filter_area",
    "filter_status",
    "sort_care_level",
    "sort_updated",
    "sort_birth_year",
    "deep_page",
    "detail",
)
ROLES = ("admin", "official")


# --- environment -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def database_url(backend: str, workdir: Path) -> Iterator[str]:
    """A URL for an empty database; a PostgreSQL database is created for the run and dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "--backend postgres needs DATABASE_URL: run it through `python -m maeul.testing.postgres_server -- …`"
        )
    import psycopg

    name = f"maeul_bench_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(base)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_environment(db_url: str, workdir: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    var = workdir / "var"
    var.mkdir(exist_ok=True)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "maeul.settings",
        "DATABASE_URL": db_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "MAEUL_FIELD_KEY": Fernet.generate_key().decode(),
        "MAEUL_VAR_DIR": str(var),
        "ALLOWED_HOSTS": HOST,
        "MAEUL_LOG_LEVEL": "WARNING",
    }


# --- seeding -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A seeded household the clients ask for: its id, area, primary name and phone as typed by a user."""

    id: int
    reference: str
    area_code: str
    name: str
    phone: str


@dataclass
class Seeded:
    site: Site
    admin: User
    official: User
    targets: list[Target] = field(default_factory=list)
    outside_official: int = 0  # a household outside the official's areas (scoping check)
    households: int = 0
    audit_rows: int = 0


@contextlib.contextmanager
def explicit_timestamps() -> Iterator[None]:
    """Let bulk_create keep the created_at/updated_at we give, so sorting by update time sees a spread."""
    from maeul.people.models import Household

    created = Household._meta.get_field("created_at")
    updated = Household._meta.get_field("updated_at")
    saved = (created.auto_now_add, updated.auto_now)
    created.auto_now_add = updated.auto_now = False
    try:
        yield
    finally:
        created.auto_now_add, updated.auto_now = saved


def _status(rng: random.Random) -> str:
    return rng.choices(["active", "in_hospital", "moved", "deceased"], weights=[90, 5, 3, 2])[0]


def _seed_batch(
    seeded: Seeded,
    areas: dict[str, Area],
    inputs: Sequence[HouseholdInput],
    first_number: int,
    rng: random.Random,
    retention: int,
) -> list[Any]:
    """Households with their primary person, contact, consent, status change, registration event and audit
    row, built by ``people.services.build_household`` as registration builds them. Returns the saved households."""
    from django.db import transaction
    from django.utils import timezone

    from maeul.audit.models import AuditAction, AuditEntry
    from maeul.events.models import DomainEvent
    from maeul.people import services as people
    from maeul.people.models import (
        Consent,
        EmergencyContact,
        Household,
        HouseholdStatus,
        HouseholdStatusChange,
        Person,
    )
    from maeul.protection import fields

    now = timezone.now()
    today = timezone.localdate()
    site = seeded.site
    admin = seeded.admin
    households: list[Household] = []
    persons: list[Person] = []
    for offset, data in enumerate(inputs):
        created = now - timedelta(days=rng.uniform(1, 3 * 365))
        updated = created + (now - created) * rng.random()
        status = _status(rng)
        stopped = rng.random() < 0.02
        ends = status in (HouseholdStatus.MOVED, HouseholdStatus.DECEASED) or stopped
        h, person = people.build_household(f"H-{first_number + offset:06d}", site, areas[data.area_code], data)
        h.status = status
        h.processing_stopped = stopped
        h.retain_until = today + timedelta(days=retention) if ends else None
        h.created_at, h.updated_at = created, updated
        persons.append(person)
        households.append(h)
    with transaction.atomic(), explicit_timestamps():
        Household.objects.bulk_create(households, batch_size=1000)
        Person.objects.bulk_create(persons, batch_size=1000)
        contacts: list[EmergencyContact] = []
        consents: list[Consent] = []
        changes: list[HouseholdStatusChange] = []
        events: list[DomainEvent] = []
        entries: list[AuditEntry] = []
        for h, person, data in zip(households, persons, inputs, strict=True):
            contacts += [people.build_contact(h, c, priority) for priority, c in enumerate(data.contacts, 1)]
            consents += [
                Consent(
                    household=h,
                    person=person,
                    purpose=c.purpose,
                    method=c.method,
                    given_on=c.given_on,
                    recorded_by=admin,
                )
                for c in data.consents
            ]
            changes.append(
                HouseholdStatusChange(household=h, to_status=HouseholdStatus.ACTIVE, by=admin, reason="registered")
            )
            events.append(
                DomainEvent(
                    kind="household.registered",
                    occurred_at=h.created_at,
                    site=site,
                    area_id=h.area_id,
                    household_id=h.pk,
                    subject_type="household",
                    subject_id=str(h.pk),
                    actor_role="site_admin",
                    data={"care_level": int(h.care_level), "flags": [f for f in FLAGS if getattr(h, f)]},
                )
            )
            snapshot = {
                "area_code": h.area_id,
                "address": data.address,
                "address_detail": data.address_detail,
                "latitude": h.latitude,
                "longitude": h.longitude,
                "housing_type": h.housing_type,
                "care_level": int(h.care_level),
                **{f: getattr(h, f) for f in FLAGS},
            }
            entries.append(
                AuditEntry(
                    at=h.created_at,
                    actor=admin,
                    actor_username=admin.username,
                    actor_role="site_admin",
                    address="10.0.0.10",
                    channel="web",
                    action=AuditAction.CREATE,
                    resource="household",
                    object_id=str(h.pk),
                    household_id=h.pk,
                    site_id=site.pk,
                    area_code=h.area_id,
                    changes_encrypted=fields.encrypt_json({k: [None, v] for k, v in snapshot.items()}),
                )
            )
        EmergencyContact.objects.bulk_create(contacts, batch_size=1000)
        Consent.objects.bulk_create(consents, batch_size=1000)
        HouseholdStatusChange.objects.bulk_create(changes, batch_size=1000)
        DomainEvent.objects.bulk_create(events, batch_size=1000)
        AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return households


def _seed_access_log(seeded: Seeded, household_ids: Sequence[int], rows: int, rng: random.Random) -> None:
    """Earlier views, lists and searches by the site's staff, spread over the past year."""
    from django.db import transaction
    from django.utils import timezone

    from maeul.audit.models import AuditAction, AuditEntry

    now = timezone.now()
    staff = [(seeded.admin, "site_admin"), (seeded.official, "welfare_official")]
    actions = [AuditAction.LIST] * 6 + [AuditAction.VIEW] * 3 + [AuditAction.SEARCH]
    batch: list[AuditEntry] = []
    for n in range(rows):
        user, role = rng.choice(staff)
        hid = rng.choice(household_ids)
        batch.append(
            AuditEntry(
                at=now - timedelta(seconds=rng.uniform(0, 365 * 86400)),
                actor=user,
                actor_username=user.username,
                actor_role=role,
                address=f"10.0.{rng.randint(0, 3)}.{rng.randint(1, 254)}",
                channel="web",
                action=rng.choice(actions),
                resource="household",
                object_id=str(hid),
                household_id=hid,
                site_id=seeded.site.pk,
            )
        )
        if len(batch) == 5000 or n == rows - 1:
            with transaction.atomic():
                AuditEntry.objects.bulk_create(batch, batch_size=1000)
            batch = []


def seed(households: int, audit_rows: int, rng: random.Random) -> Seeded:
    import pyotp
    from django.core.management import call_command
    from django.db import connection

    from maeul.accounts import services as accounts
    from maeul.accounts.models import SecondFactor
    from maeul.accounts.principal import principal_for
    from maeul.accounts.roles import Role
    from maeul.areas import services as areas_service
    from maeul.audit.models import AuditEntry
    from maeul.audit.services import Actor
    from maeul.people import services as people
    from maeul.people.models import Household
    from maeul.protection import fields
    from maeul.sites import services as sites
    from maeul.sites.models import ProgrammeType
    from maeul.web import demo

    call_command("migrate", verbosity=0)
    if Household.objects.exists():
        raise SystemExit("the benchmark database is not empty")
    areas_service.load_reference()
    site = sites.create_site(SITE_SLUG, "서울특별시 종로구", SITE_SIGUNGU, ProgrammeType.SAFETY_WELFARE)
    site_areas = {a.code: a for a in site.areas.all()}
    official_areas = [site_areas[c] for c in OFFICIAL_AREAS]
    password = secrets.token_urlsafe(16)
    admin = accounts.create_account("bench-admin", password, Role.SITE_ADMIN, site=site)
    official = accounts.create_account(
        "bench-welfare", password, Role.WELFARE_OFFICIAL, site=site, areas=official_areas
    )
    for user in (admin, official):
        SecondFactor.objects.create(
            user=user, secret_encrypted=fields.encrypt(pyotp.random_base32()), confirmed_at=user.date_joined
        )
    seeded = Seeded(site=site, admin=admin, official=official)

    # A few through the registry service itself, the rest in bulk the same way.
    actor = Actor(principal=principal_for(admin), channel="command")
    through_service = min(20, households)
    for i in range(through_service):
        people.register_household(actor, demo.household_input(rng, official_areas[i % 2]))

    def area_for() -> Area:
        # 40 % in the official's two dongs, the rest over all the site's dongs (those two included).
        return rng.choice(official_areas) if rng.random() < 0.4 else rng.choice(list(site_areas.values()))

    retention = people.retention_days(site)
    number = (Household.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    remaining = households - through_service
    saved: list[Any] = []
    while remaining > 0:
        size = min(5000, remaining)
        inputs = [demo.household_input(rng, area_for()) for _ in range(size)]
        batch = _seed_batch(seeded, site_areas, inputs, number, rng, retention)
        saved += batch
        for h, data in zip(batch, inputs, strict=True):
            if rng.random() < 0.05 and data.primary_person.phone:
                phone = data.primary_person.phone
                seeded.targets.append(
                    Target(
                        h.pk,
                        h.reference,
                        h.area_id,
                        data.primary_person.name,
                        f"{phone[:3]}-{phone[3:-4]}-{phone[-4:]}",
                    )
                )
        number += size
        remaining -= size
        print(f"  seeded {households - remaining:,} households", file=sys.stderr)
    seeded.outside_official = next(h.pk for h in saved if h.area_id not in OFFICIAL_AREAS)
    ids = list(Household.objects.values_list("id", flat=True))
    _seed_access_log(seeded, ids, max(0, audit_rows - AuditEntry.objects.count()), rng)
    seeded.households = Household.objects.count()
    seeded.audit_rows = AuditEntry.objects.count()
    if connection.vendor == "postgresql":
        # What autovacuum does shortly after a bulk load: planner statistics and the visibility map.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        # What `maeul worker` does when it starts and every hour (maeul.web.maintenance).
        from maeul.web.maintenance import refresh_planner_statistics

        refresh_planner_statistics()
    return seeded


def verified_session(user: User) -> str:
    """A logged-in session that has passed the second factor, as the login and TOTP views leave it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from maeul.accounts.middleware import SESSION_VERIFIED_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SESSION_VERIFIED_KEY] = True
    store.create()
    assert store.session_key is not None
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


# --- server ------------------------------------------------------------------------------------------------


def process_tree_cpu(pid: int) -> float:
    """User and system CPU seconds used so far by a process and its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(stat[11]) + int(stat[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def machine_busy_cpu() -> float:
    """CPU seconds all cores have spent busy since boot (Linux /proc/stat); 0 elsewhere."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    base: str
    pid: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workdir: Path, workers: int, threads: int) -> Iterator[Server]:
    port = free_port()
    log_path = workdir / "gunicorn.log"
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "maeul.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer /healthz:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield Server(base, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errors = [line for line in log_path.read_text(errors="replace").splitlines() if "ERROR" in line]
        if errors:
            print("gunicorn log errors:\n" + "\n".join(errors[-20:]), file=sys.stderr)


# --- load --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    scenario: str
    role: str
    path: str


def _list_path(**params: str | int) -> str:
    return "/households/" + (f"?{urlencode(params)}" if params else "")


def _path(scenario: str, target: Target, rng: random.Random) -> str:
    match scenario:
        case "list":
            return _list_path()
        case "search_name":
            return _list_path(q=target.name)
        case "search_phone":
            return _list_path(q=target.phone)
        case "filter_care_level":
            return _list_path(care_level=rng.choice([2, 3]))
        case "filter_flag":
            return _list_path(flag=rng.choice(FLAGS))
        case "filter_area":
            return _list_path(area=rng.choice(OFFICIAL_AREAS))
        case "filter_status":
            return _list_path(status=rng.choice(["active", "in_hospital", "moved", "deceased"]))
        case "sort_care_level":
            return _list_path(sort="-care_level")
        case "sort_updated":
            return _list_path(sort="-updated")
        case "sort_birth_year":
            return _list_path(sort="birth_year")
        case "deep_page":
            return _list_path(page=500)
        case "detail":
            return f"/households/{target.id}/"
    raise ValueError(scenario)


def plan(seeded: Seeded, total: int, rng: random.Random) -> list[Planned]:
    """An equal share of every scenario, alternating the two roles, in random order. Search and detail
    targets are households the role may see."""
    official_targets = [t for t in seeded.targets if t.area_code in OFFICIAL_AREAS]
    out: list[Planned] = []
    for i in range(total):
        scenario = SCENARIOS[i % len(SCENARIOS)]
        role = ROLES[(i // len(SCENARIOS)) % len(ROLES)]
        target = rng.choice(official_targets if role == "official" else seeded.targets)
        out.append(Planned(scenario, role, _path(scenario, target, rng)))
    rng.shuffle(out)
    return out


def preflight(server: Server, cookies: dict[str, str], seeded: Seeded) -> None:
    """The pages answer as logged-in, verified users, search finds seeded data and scope holds."""
    target = next(t for t in seeded.targets if t.area_code in OFFICIAL_AREAS)
    checks = [
        ("admin", _list_path(q=target.name), 200, target.reference),
        ("official", _list_path(q=target.phone), 200, target.reference),
        ("official", f"/households/{target.id}/", 200, target.reference),
        ("admin", _list_path(page=500), 200, "page=499" if seeded.households > 500 * 25 else ""),
        ("official", f"/households/{seeded.outside_official}/", 404, ""),
    ]
    with httpx.Client(base_url=server.base, timeout=30, follow_redirects=False) as client:
        for role, path, status, expected in checks:
            response = client.get(path, headers={"Cookie": cookies[role]})
            if response.status_code != status or expected not in response.text:
                raise SystemExit(
                    f"preflight failed: {role} GET {path} → {response.status_code} "
                    f"(expected {status} with {expected!r})"
                )


@dataclass
class Result:
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    server_cpu: float = 0.0  # CPU seconds used by gunicorn (master and workers) during the run
    client_cpu: float = 0.0  # ... by this process (the clients)
    machine_cpu: float = 0.0  # ... by the whole machine (database server and anything else included)


def run_load(
    server: Server, cookies: dict[str, str], requests: list[Planned], clients: int, max_seconds: float
) -> Result:
    result = Result()
    base = server.base
    lock = threading.Lock()
    queue = iter(requests)
    deadline = time.monotonic() + max_seconds

    def client_loop() -> None:
        with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as client:
            while time.monotonic() < deadline:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                started = time.perf_counter()
                try:
                    response = client.get(item.path, headers={"Cookie": cookies[item.role]})
                    status = str(response.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                ms = (time.perf_counter() - started) * 1000
                with lock:
                    result.samples[item.scenario].append(ms)
                    if status != "200":
                        result.failures.append(f"{item.role} GET {item.path} → {status}")

    threads = [threading.Thread(target=client_loop, name=f"client-{n}") for n in range(clients)]
    cpu = (process_tree_cpu(server.pid), time.process_time(), machine_busy_cpu())
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed = time.perf_counter() - started
    result.server_cpu = process_tree_cpu(server.pid) - cpu[0]
    result.client_cpu = time.process_time() - cpu[1]
    result.machine_cpu = machine_busy_cpu() - cpu[2]
    return result


# --- report ------------------------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def report_load(result: Result, measured: int) -> None:
    """The request rate, where the CPU went and whether every response was 200 (shared with hazards.py)."""
    if measured:
        print(f"{measured} requests in {result.elapsed:.1f} s: {measured / result.elapsed:.1f} requests/second")
    if result.machine_cpu and measured:
        cores = os.cpu_count() or 1
        other = max(0.0, result.machine_cpu - result.server_cpu - result.client_cpu)
        print(
            f"CPU in that time ({cores} cores, {cores * result.elapsed:.0f} core-seconds): machine busy "
            f"{result.machine_cpu / (cores * result.elapsed):.0%}; gunicorn {result.server_cpu:.1f} s "
            f"({1000 * result.server_cpu / measured:.1f} ms a request), clients {result.client_cpu:.1f} s, "
            f"database server and other processes {other:.1f} s"
        )
    if result.failures:
        print(f"{len(result.failures)} responses were not 200, e.g.: " + "; ".join(result.failures[:5]))
    else:
        print("every response was 200")


def report(backend: str, seeded: Seeded, result: Result, clients: int, workers: int, threads: int) -> bool:
    """Print the table; True when every p95 (per scenario and overall) is under the target."""
    print(
        f"\nMaeul page benchmark — backend {backend}: {seeded.households:,} households, "
        f"{seeded.audit_rows:,} audit rows before the run; gunicorn {workers} workers × {threads} threads, "
        f"{clients} concurrent clients (site administrator and welfare official)"
    )
    header = f"{'scenario':<18}{'count':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}   (ms)"
    print(header)
    print("-" * len(header))
    slow: list[str] = []
    rows = [(name, sorted(result.samples[name])) for name in SCENARIOS if result.samples.get(name)]
    overall = sorted(ms for _, values in rows for ms in values)
    if not overall:
        print("no request completed")
        return False
    for name, values in [*rows, ("overall", overall)]:
        if name == "overall":
            print("-" * len(header))
        p95 = percentile(values, 95)
        if p95 >= TARGET_P95_MS:
            slow.append(name)
        print(
            f"{name:<18}{len(values):>7}{percentile(values, 50):>9.1f}{p95:>9.1f}"
            f"{percentile(values, 99):>9.1f}{values[-1]:>9.1f}"
        )
    print()
    report_load(result, len(overall))
    if slow:
        print(f"p95 < {TARGET_P95_MS:.0f} ms: NO — over the target: {', '.join(slow)}")
    else:
        print(f"p95 < {TARGET_P95_MS:.0f} ms: yes, in every scenario and overall")
    return not slow


# --- main --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--audit-rows", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2400, help="measured requests in total")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop sending after this long")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--strict", action="store_true", help="exit 2 when a p95 is over the target")
    args = parser.parse_args(argv)
    if args.households < 1000 or args.clients < 1 or args.requests < 1:
        parser.error("use at least 1,000 households, one client and one request")
    rng = random.Random(args.seed)

    workdir = Path(tempfile.mkdtemp(prefix="maeul-bench-"))
    try:
        with database_url(args.backend, workdir) as db_url:
            env = server_environment(db_url, workdir)
            os.environ.update(env)
            import django

            django.setup()
            from django.db import connections

            started = time.perf_counter()
            print(f"Seeding a fresh {args.backend} database…", file=sys.stderr)
            seeded = seed(args.households, args.audit_rows, rng)
            cookies = {"admin": verified_session(seeded.admin), "official": verified_session(seeded.official)}
            print(f"Seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            connections.close_all()
            with gunicorn(env, workdir, args.workers, args.threads) as server:
                preflight(server, cookies, seeded)
                warmup = plan(seeded, len(SCENARIOS) * len(ROLES) * 2, rng)
                run_load(server, cookies, warmup, args.clients, args.max_seconds)
                measured = plan(seeded, args.requests, rng)
                result = run_load(server, cookies, measured, args.clients, args.max_seconds)
            under_target = report(args.backend, seeded, result, args.clients, args.workers, args.threads)
            connections.close_all()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if result.failures:
        return 1
    return 2 if args.strict and not under_target else 0


if __name__ == "__main__":
    sys.exit(main())

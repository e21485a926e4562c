"""Safety actions: the only code that writes the consultative body, hazard reports and improvement tasks.

Scope comes from the permission matrix (``accounts.policy``): site administrators see their site, officials
and members their eup/myeon/dong. Hazards themselves are public (they are about places; Open311 publishes
them); who reported them, and the body members' contacts, are personal data: encrypted, and each read is
written to the access record.
"""

from __future__ import annotations

import csv
import io
import math
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from hashlib import blake2b
from statistics import median
from typing import Any, TypeVar

from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Avg, Count, F, IntegerField, Q, QuerySet
from django.db.models.functions import Cast, Floor
from django.utils import timezone
from django.utils.translation import get_language

from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.areas import services as areas
from maeul.areas.models import Area, AreaLevel
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.events import services as events
from maeul.notify import services as notify
from maeul.protection import fields
from maeul.protection.phone import format_phone
from maeul.safety import catalogue, photos
from maeul.safety.errors import DuplicatesFound, NotFound, SafetyError
from maeul.safety.models import (
    OPEN_STATUSES,
    Activity,
    AnonymousSubmission,
    BodyMember,
    ChecklistTick,
    HazardCategory,
    HazardReport,
    ImprovementTask,
    Meeting,
    Photo,
    ReportFollower,
    ReportSource,
    ReportStatus,
    ReportUpdate,
    Responder,
    TaskSource,
    TaskStatus,
)
from maeul.safety.schemas import (
    ActivityInput,
    Attribute,
    MeetingInput,
    MemberInput,
    ReportInput,
    StatusChange,
    TaskChange,
    TaskInput,
    TriageInput,
)
from maeul.sites import services as sites
from maeul.sites.models import Site

REPORTER = "hazard_reporter"  # audit resource: a reporter's contact details
MEMBER = "body_member"  # audit resource: a member's contact details


# --- scope -------------------------------------------------------------------------------------------------


def _scoped(principal: Principal, resource: Resource, action: Action, qs: QuerySet[Any]) -> QuerySet[Any]:
    scope = principal.scope(resource, action)
    if principal.site_id is None or scope not in (Scope.SITE, Scope.AREA):
        return qs.none()
    qs = qs.filter(site_id=principal.site_id)
    if scope == Scope.AREA:
        qs = qs.filter(area_id__in=principal.area_codes)
    return qs


def visible_reports(principal: Principal, action: Action = Action.VIEW) -> QuerySet[HazardReport]:
    return _scoped(principal, Resource.HAZARD, action, HazardReport.objects.all())


def visible_tasks(principal: Principal, action: Action = Action.VIEW) -> QuerySet[ImprovementTask]:
    return _scoped(principal, Resource.SAFETY_TASK, action, ImprovementTask.objects.all())


def visible_members(principal: Principal, action: Action = Action.VIEW) -> QuerySet[BodyMember]:
    return _scoped(principal, Resource.SAFETY_BODY, action, BodyMember.objects.all())


def working_areas(principal: Principal, resource: Resource, action: Action) -> QuerySet[Area]:
    """The current eup/myeon/dong this principal may act in for ``resource``."""
    scope = principal.scope(resource, action)
    if principal.site_id is None or scope not in (Scope.SITE, Scope.AREA):
        return Area.objects.none()
    qs = Area.objects.filter(member_of_sites__id=principal.site_id, abolished=False, level=AreaLevel.EMD)
    if scope == Scope.AREA:
        qs = qs.filter(code__in=principal.area_codes)
    return qs.order_by("code")


def _area(principal: Principal, resource: Resource, action: Action, code: str) -> Area:
    area = working_areas(principal, resource, action).filter(code=code).first()
    if area is None:
        raise SafetyError("area_code", "area_not_allowed", f"area {code} is not an eup/myeon/dong you work in")
    return area


def _event(
    kind: str, obj: Any, actor: Actor | None, data: dict[str, Any] | None = None, at: datetime | None = None
) -> None:
    events.record(
        kind,
        site_id=obj.site_id,
        area_code=obj.area_id,
        subject=(type(obj).__name__.lower(), obj.pk),
        actor_role=(actor.principal.role or "") if actor else "",
        occurred_at=at,
        data=data,
    )


# --- catalogue ---------------------------------------------------------------------------------------------


def _site_area_kind(site: Site) -> str:
    kinds = {
        catalogue.area_kind(name) for name in site.areas.filter(level=AreaLevel.EMD).values_list("name", flat=True)
    }
    return kinds.pop() if len(kinds) == 1 else "both"


@transaction.atomic
def install_catalogue(site: Site) -> int:
    """Give a site the default responders and the categories for its kind of areas. Idempotent: what the
    site already has (and may have edited) is kept."""
    responders = {}
    for r in catalogue.RESPONDERS:
        responders[r.code], _ = Responder.objects.get_or_create(
            site=site, code=r.code, defaults={"name_ko": r.name_ko, "name_en": r.name_en, "kind": r.kind}
        )
    created = 0
    for order, c in enumerate(catalogue.categories_for(_site_area_kind(site)), start=1):
        _, made = HazardCategory.objects.get_or_create(
            site=site,
            code=c.code,
            defaults={
                "group": c.group,
                "name_ko": c.name_ko,
                "name_en": c.name_en,
                "description_ko": c.description_ko,
                "description_en": c.description_en,
                "keywords": c.keywords,
                "catalogue": c.catalogue,
                "responder": responders[c.responder],
                "attributes": [Attribute.model_validate(a).model_dump() for a in c.attributes],
                "order": order * 10,
            },
        )
        created += made
    return created


def ensure_catalogue(site: Site) -> None:
    """A site gets the default catalogue the first time anyone reports or looks at categories there."""
    if not HazardCategory.objects.filter(site=site).exists():
        install_catalogue(site)


def categories(site: Site, include_inactive: bool = False) -> list[HazardCategory]:
    ensure_catalogue(site)
    qs = HazardCategory.objects.filter(site=site)
    if not include_inactive:
        qs = qs.filter(active=True)
    return list(qs.select_related("responder"))


def category_name(category: HazardCategory) -> str:
    return category.name


def category_description(category: HazardCategory) -> str:
    return category.description_en if (get_language() or "ko").startswith("en") else category.description_ko


def responder_name(responder: Responder | None) -> str:
    return responder.name if responder is not None else ""


def responders(site: Site) -> list[Responder]:
    ensure_catalogue(site)
    return list(Responder.objects.filter(site=site))


@transaction.atomic
def update_category(
    actor: Actor, code: str, *, responder: str, active: bool, name_ko: str, name_en: str, attributes: list[Any]
) -> HazardCategory:
    """A site edits its own catalogue: names, who it routes to, whether it is offered, its questions."""
    if actor.principal.scope(Resource.SAFETY_CATALOGUE, Action.CHANGE) is None:
        raise SafetyError("", "forbidden", "only the site administrator edits the catalogue")
    site_id = actor.principal.site_pk
    category = HazardCategory.objects.filter(site_id=site_id, code=code).first()
    if category is None:
        raise NotFound("category", code)
    target = Responder.objects.filter(site_id=site_id, code=responder).first()
    if target is None:
        raise SafetyError("responder", "unknown_responder", f"no department or agency {responder!r} at this site")
    if not name_ko.strip() or not name_en.strip():
        raise SafetyError("name_ko", "name_required", "the category needs a Korean and an English name")
    checked = [Attribute.model_validate(a).model_dump() for a in attributes]
    before = {
        "responder": category.responder_id,
        "active": category.active,
        "names": [category.name_ko, category.name_en],
    }
    category.responder, category.active = target, active
    category.name_ko, category.name_en, category.attributes = name_ko.strip(), name_en.strip(), checked
    category.save()
    after = {
        "responder": category.responder_id,
        "active": category.active,
        "names": [category.name_ko, category.name_en],
    }
    audit.log(actor, AuditAction.CHANGE, "hazard_category", object_id=code, changes=audit.diff(before, after))
    return category


# --- hazard reports: filing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NearbyReport:
    id: int
    reference: str
    token: str
    category_code: str
    status: str
    description: str
    distance_m: float
    created_at: datetime
    followers: int


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def nearby_open_reports(
    site_id: int, category_id: int, latitude: float, longitude: float, radius_m: float = 50.0
) -> list[NearbyReport]:
    """Open reports of the same category within ``radius_m``, nearest first. A latitude band from the index
    first, then the exact distance; so the check costs the same at 100 reports or 100,000."""
    dlat = radius_m / 111_320.0
    dlon = dlat / max(math.cos(math.radians(latitude)), 0.01)
    rows = HazardReport.objects.filter(
        site_id=site_id,
        category_id=category_id,
        status__in=OPEN_STATUSES,
        latitude__gte=latitude - dlat,
        latitude__lte=latitude + dlat,
        longitude__gte=longitude - dlon,
        longitude__lte=longitude + dlon,
    ).values(
        "pk", "reference", "token", "category__code", "status", "description", "latitude", "longitude", "created_at"
    )
    found = []
    for r in rows:
        metres = _metres(latitude, longitude, r["latitude"], r["longitude"])
        if metres <= radius_m:
            found.append(
                NearbyReport(
                    id=r["pk"],
                    reference=r["reference"],
                    token=r["token"],
                    category_code=r["category__code"],
                    status=r["status"],
                    description=r["description"][:200],
                    distance_m=round(metres, 1),
                    created_at=r["created_at"],
                    followers=0,
                )
            )
    found.sort(key=lambda n: n.distance_m)
    counts = dict(
        ReportFollower.objects.filter(report_id__in=[n.id for n in found])
        .values_list("report_id")
        .annotate(n=Count("id"))
        .values_list("report_id", "n")
    )
    return [NearbyReport(**{**n.__dict__, "followers": counts.get(n.id, 0)}) for n in found]


def site_for_location(latitude: float, longitude: float) -> tuple[Site, Area]:
    """The site and eup/myeon/dong a public report falls in."""
    served = Area.objects.filter(level=AreaLevel.EMD, abolished=False).exclude(member_of_sites=None)
    suggestion = areas.suggest_area(latitude, longitude, candidates=served)
    if suggestion.area is None:
        raise SafetyError("location", "outside_service_area", "this place is not in an area served here")
    site = suggestion.area.member_of_sites.order_by("pk").first()
    assert site is not None  # the candidates were areas of some site
    return site, suggestion.area


def area_for_location(site: Site, latitude: float, longitude: float) -> Area:
    pool = site.areas.filter(level=AreaLevel.EMD, abolished=False)
    suggestion = areas.suggest_area(latitude, longitude, candidates=pool)
    if suggestion.area is None or suggestion.method == "none":
        raise SafetyError("location", "outside_jurisdiction", f"this place is not in an eup/myeon/dong of {site.name}")
    # The nearest-centroid fallback would put a point in the next county into our nearest dong.
    if suggestion.sigungu is not None and not pool.filter(code__startswith=suggestion.sigungu.code[:5]).exists():
        raise SafetyError("location", "outside_jurisdiction", f"this place is not in an eup/myeon/dong of {site.name}")
    return suggestion.area


def area_for_address(site: Site, address: str) -> Area:
    """Without coordinates: an eup/myeon/dong of the site named in the address (no street geocoder is
    bundled, so a street address alone cannot be placed)."""
    compact = address.replace(" ", "")
    for area in site.areas.filter(level=AreaLevel.EMD, abolished=False).order_by("-name"):
        if area.name and area.name in compact and area.latitude is not None:
            return area
    raise SafetyError(
        "address",
        "address_not_placed",
        "the address does not name an eup/myeon/dong of this site; send the location as coordinates",
    )


def _check_attributes(category: HazardCategory, given: dict[str, str | list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw in category.attributes:
        attr = Attribute.model_validate(raw)
        if not attr.variable:
            continue
        value = given.get(attr.code)
        if value is None or value in ("", []):
            if attr.required:
                raise SafetyError(f"attribute[{attr.code}]", "attribute_required", f"{attr.description}: required")
            continue
        keys = {v.key for v in attr.values}
        if attr.datatype == "multivaluelist":
            chosen = value if isinstance(value, list) else [value]
            if not set(chosen) <= keys:
                raise SafetyError(
                    f"attribute[{attr.code}]", "attribute_value", f"{attr.code}: choose from {sorted(keys)}"
                )
            out[attr.code] = chosen
            continue
        text = value[0] if isinstance(value, list) else value
        if attr.datatype == "singlevaluelist" and text not in keys:
            raise SafetyError(f"attribute[{attr.code}]", "attribute_value", f"{attr.code}: choose from {sorted(keys)}")
        if attr.datatype == "number":
            try:
                float(text)
            except ValueError as exc:
                raise SafetyError(f"attribute[{attr.code}]", "attribute_number", f"{attr.code}: a number") from exc
        if attr.datatype == "datetime":
            try:
                datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError as exc:
                raise SafetyError(
                    f"attribute[{attr.code}]", "attribute_datetime", f"{attr.code}: an ISO 8601 date and time"
                ) from exc
        out[attr.code] = text[:1000]
    unknown = set(given) - {a["code"] for a in category.attributes}
    if unknown:
        raise SafetyError("attribute", "attribute_unknown", f"no such question for this category: {sorted(unknown)}")
    return out


def _new_token() -> str:
    return secrets.token_urlsafe(18)


@transaction.atomic
def submit_report(
    data: ReportInput,
    *,
    site: Site | None,
    actor: Actor | None = None,
    photo_files: Sequence[bytes] = (),
    source: str = ReportSource.WEB,
    file_anyway: bool = False,
    anonymous_address: str | None = None,
    now: datetime | None = None,
) -> HazardReport:
    """File a hazard report. Raises ``DuplicatesFound`` when open reports of the same category are near,
    unless ``file_anyway``: the reporter decides. Reports without an account are limited per sender address.
    ``now`` dates a report filed from history (the demo's past months); it defaults to the clock."""
    if actor is None and anonymous_address:
        _limit_anonymous(anonymous_address)
    cleaned = [photos.clean(raw) for raw in photo_files]  # refuse a bad photo before anything is stored
    latitude, longitude, approximate = data.latitude, data.longitude, False
    if latitude is None:
        located = next((p for p in cleaned if p.latitude is not None), None)
        if located is not None:
            latitude, longitude = located.latitude, located.longitude
    if latitude is None or longitude is None:
        if site is None or not data.address:
            raise SafetyError(
                "location",
                "location_required",
                "place a pin on the map, use your phone's location, or attach a photo taken with location on",
            )
        area = area_for_address(site, data.address)
        latitude, longitude, approximate = area.latitude, area.longitude, True
    elif site is None:
        site, area = site_for_location(latitude, longitude)
    else:
        area = area_for_location(site, latitude, longitude)
    assert latitude is not None and longitude is not None
    ensure_catalogue(site)
    category = (
        HazardCategory.objects.filter(site=site, code=data.category, active=True).select_related("responder").first()
    )
    if category is None:
        raise SafetyError("category", "unknown_category", f"no hazard category {data.category!r} here")
    attributes = _check_attributes(category, data.attributes)
    settings = sites.settings_of(site)
    if not file_anyway and not approximate:
        nearby = nearby_open_reports(site.pk, category.pk, latitude, longitude, settings.hazard_duplicate_radius_m)
        if nearby:
            raise DuplicatesFound(list(nearby))
    now = now or timezone.now()
    user_id = actor.principal.user_id if actor else None
    report = HazardReport.objects.create(
        reference=f"new-{secrets.token_hex(6)}",  # replaced by R-<id> below, once the id is known
        token=_new_token(),
        site=site,
        area=area,
        category=category,
        latitude=latitude,
        longitude=longitude,
        address=data.address,
        location_approximate=approximate,
        description=data.description,
        attributes=attributes,
        source=source,
        responder=category.responder,
        reporter_id=user_id,
        reporter_name_encrypted=fields.encrypt(data.reporter_name) if data.reporter_name else "",
        reporter_phone_encrypted=fields.encrypt(data.reporter_phone) if data.reporter_phone else "",
        reporter_email_encrypted=fields.encrypt(data.reporter_email) if data.reporter_email else "",
        created_at=now,
        updated_at=now,
        due_at=now + timedelta(days=settings.hazard_target_days),
    )
    report.reference = f"R-{report.pk:06d}"
    report.save(update_fields=["reference"])
    for clean in cleaned:
        _store_photo(clean, report=report)
    ReportUpdate.objects.create(report=report, at=now, status=ReportStatus.SUBMITTED, by_id=user_id)
    # An Open311 client's account files for others: recorded as who filed, but it does not follow (and is not
    # e-mailed about) every report it sends; the reporter's own e-mail, if given, does.
    follower_id = None if source == ReportSource.OPEN311 else user_id
    if follower_id is not None or data.reporter_email:
        ReportFollower.objects.create(
            report=report,
            user_id=follower_id,
            email_encrypted=fields.encrypt(data.reporter_email) if data.reporter_email else "",
            token=report.token,
        )
    if actor is not None and (data.reporter_name or data.reporter_phone or data.reporter_email):
        audit.log(actor, AuditAction.CREATE, REPORTER, object_id=report.pk, site_id=site.pk, area_code=area.code)
    _event("hazard.reported", report, actor, {"category": category.code, "source": source, "photos": len(cleaned)}, now)
    return report


def _limit_anonymous(address: str) -> None:
    now = timezone.now()
    AnonymousSubmission.objects.filter(at__lt=now - timedelta(days=1)).delete()
    index = fields.blind_index(address)
    recent = AnonymousSubmission.objects.filter(address_index=index, at__gte=now - timedelta(hours=1)).count()
    if recent >= django_settings.MAEUL_ANONYMOUS_REPORTS_PER_HOUR:
        raise SafetyError(
            "", "too_many_reports", "too many reports from this connection in the last hour; please try again later"
        )
    AnonymousSubmission.objects.create(address_index=index, at=now)


def _store_photo(clean: photos.CleanPhoto, *, report: HazardReport | None = None, task: ImprovementTask | None = None,
                 stage: str = Photo.Stage.REPORT) -> Photo:  # fmt: skip
    photo = Photo(report=report, task=task, stage=stage, width=clean.width, height=clean.height)
    photo.image.save(f"{secrets.token_hex(12)}.jpg", ContentFile(clean.jpeg), save=False)
    photo.save()
    return photo


@transaction.atomic
def follow_report(report_id: int, *, actor: Actor | None = None, email: str = "") -> ReportFollower:
    """Someone who found their hazard already reported follows that report instead of filing again."""
    report = HazardReport.objects.filter(pk=report_id).first()
    if report is None:
        raise NotFound("report", report_id)
    user_id = actor.principal.user_id if actor else None
    if user_id is not None:
        existing = ReportFollower.objects.filter(report=report, user_id=user_id).first()
        if existing is not None:
            return existing
    follower = ReportFollower.objects.create(
        report=report, user_id=user_id, email_encrypted=fields.encrypt(email) if email else "", token=_new_token()
    )
    _event("hazard.followed", report, actor)
    return follower


# --- hazard reports: reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateView:
    at: datetime
    status: str
    responder: str
    note: str


@dataclass(frozen=True)
class ReportView:
    """What anyone following the report may see: no reporter details."""

    id: int
    reference: str
    site_id: int
    site_name: str
    area_code: str
    area_name: str
    category_code: str
    category_name: str
    latitude: float
    longitude: float
    location_approximate: bool
    address: str
    description: str
    attributes: dict[str, Any]
    status: str
    status_notes: str
    is_open: bool
    likelihood: int | None
    severity: int | None
    risk_score: int | None
    risk_level: str
    urgent: bool
    responder_code: str
    responder_name: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    overdue: bool
    task_id: int | None
    duplicate_of: str
    photo_ids: list[int]
    photos_public: bool
    followers: int
    updates: list[UpdateView] = field(default_factory=list)


def risk_level(score: int | None) -> str:
    """Bands of the 5×5 matrix: 1–4 low, 5–9 moderate, 10–16 high, 20–25 very high."""
    if score is None:
        return ""
    if score >= 20:
        return "very_high"
    if score >= 10:
        return "high"
    if score >= 5:
        return "moderate"
    return "low"


def _report_view(r: HazardReport) -> ReportView:
    now = timezone.now()
    return ReportView(
        id=r.pk,
        reference=r.reference,
        site_id=r.site_id,
        site_name=r.site.name,
        area_code=r.area_id,
        area_name=r.area.full_name,
        category_code=r.category.code,
        category_name=category_name(r.category),
        latitude=r.latitude,
        longitude=r.longitude,
        location_approximate=r.location_approximate,
        address=r.address,
        description=r.description,
        attributes=r.attributes,
        status=r.status,
        status_notes=r.status_notes,
        is_open=r.is_open,
        likelihood=r.likelihood,
        severity=r.severity,
        risk_score=r.risk_score,
        risk_level=risk_level(r.risk_score),
        urgent=r.urgent,
        responder_code=r.responder.code if r.responder else "",
        responder_name=responder_name(r.responder),
        created_at=r.created_at,
        updated_at=r.updated_at,
        due_at=r.due_at,
        resolved_at=r.resolved_at,
        overdue=r.is_open and r.due_at < now,
        task_id=r.task_id,
        duplicate_of=r.duplicate_of.reference if r.duplicate_of else "",
        photo_ids=[p.pk for p in r.photos.all()],
        photos_public=r.photos_public,
        followers=r.followers.count(),
        updates=[UpdateView(u.at, u.status, u.responder_name, u.note) for u in r.updates.all()],
    )


def _load(qs: QuerySet[HazardReport]) -> HazardReport | None:
    return (
        qs.select_related("site", "area", "category", "responder", "duplicate_of")
        .prefetch_related("updates", "photos")
        .first()
    )


def read_report(principal: Principal, report_id: int) -> ReportView:
    report = _load(visible_reports(principal).filter(pk=report_id))
    if report is None:
        raise NotFound("report", report_id)
    return _report_view(report)


def track(token: str) -> ReportView:
    """The reporter's or a follower's view, reached by the token in their link."""
    follower = ReportFollower.objects.filter(token=token).first()
    report = _load(
        HazardReport.objects.filter(pk=follower.report_id if follower else 0) | HazardReport.objects.filter(token=token)
    )
    if report is None:
        raise NotFound("report", "token")
    return _report_view(report)


def my_reports(principal: Principal) -> list[HazardReport]:
    """Reports the user filed or follows."""
    if principal.user_id is None:
        return []
    followed = ReportFollower.objects.filter(user_id=principal.user_id).values_list("report_id", flat=True)
    return list(
        HazardReport.objects.filter(Q(reporter_id=principal.user_id) | Q(pk__in=followed))
        .select_related("category", "area", "responder")
        .order_by("-updated_at")[:50]
    )


@dataclass(frozen=True)
class ReporterContact:
    name: str
    phone: str
    email: str
    account: str


def reporter_contact(actor: Actor, report_id: int) -> ReporterContact:
    """Who reported it and how to reach them: officials who handle the report only, and logged."""
    report = visible_reports(actor.principal, Action.CHANGE).filter(pk=report_id).select_related("reporter").first()
    if report is None:
        raise NotFound("report", report_id)
    audit.log(actor, AuditAction.VIEW, REPORTER, object_id=report.pk, site_id=report.site_id, area_code=report.area_id)
    return ReporterContact(
        name=fields.decrypt(report.reporter_name_encrypted),
        phone=format_phone(fields.decrypt(report.reporter_phone_encrypted)),
        email=fields.decrypt(report.reporter_email_encrypted),
        account=report.reporter.get_username() if report.reporter else "",
    )


def photo_for(principal: Principal, photo_id: int, token: str = "") -> Photo:
    """A photo may be seen by those who see its report or task, by the report's followers, and by anyone
    once an official has made the report's photos public."""
    photo = Photo.objects.filter(pk=photo_id).select_related("report", "task").first()
    if photo is None:
        raise NotFound("photo", photo_id)
    if photo.report is not None:
        r = photo.report
        if r.photos_public or visible_reports(principal).filter(pk=r.pk).exists():
            return photo
        if token and (r.token == token or ReportFollower.objects.filter(report=r, token=token).exists()):
            return photo
    elif photo.task is not None and visible_tasks(principal).filter(pk=photo.task.pk).exists():
        return photo
    raise NotFound("photo", photo_id)


@dataclass(frozen=True)
class ReportFilters:
    status: str = "open"  # open, closed, all, or one status
    category: str = ""
    area_code: str = ""
    urgent: bool = False
    overdue: bool = False
    q: str = ""
    since: date | None = None


def filtered_reports(qs: QuerySet[HazardReport], f: ReportFilters) -> QuerySet[HazardReport]:
    if f.status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif f.status == "closed":
        qs = qs.exclude(status__in=OPEN_STATUSES)
    elif f.status in ReportStatus.values:
        qs = qs.filter(status=f.status)
    if f.category:
        qs = qs.filter(category__code=f.category)
    if f.area_code:
        qs = qs.filter(area_id=f.area_code)
    if f.urgent:
        qs = qs.filter(urgent=True)
    if f.overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
    if f.q:
        qs = qs.filter(reference__iexact=f.q.strip())
    if f.since:
        qs = qs.filter(created_at__date__gte=f.since)
    return qs


@dataclass(frozen=True)
class ReportRow:
    id: int
    reference: str
    area_name: str
    category_code: str
    category_name: str
    status: str
    urgent: bool
    risk_score: int | None
    risk_level: str
    responder_name: str
    created_at: datetime
    due_at: datetime
    overdue: bool


@dataclass(frozen=True)
class ReportPage:
    rows: list[ReportRow]
    total: int
    page: int
    pages: int


T = TypeVar("T")
AGGREGATE_SECONDS = 60  # overdue counts move with the clock; everything else only when a report is written


def _aggregate(kind: str, qs: QuerySet[HazardReport], compute: Callable[[], T], *extra: object) -> T:
    """Aggregates over many reports (the list's summary, the map's cells) are worked out once per change to any
    report, per process: the same site-wide views are asked for again and again, and reports change a few times
    an hour. Every write sets ``updated_at``, so the newest one (from the ``safety_report_changed`` index) is the
    version."""
    latest = HazardReport.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    sql, params = qs.query.sql_with_params()
    key = repr((kind, latest, sql, params, extra)).encode()
    name = f"hazards:{blake2b(key, digest_size=16).hexdigest()}"
    found: T | None = cache.get(name)
    if found is None:
        found = compute()
        cache.set(name, found, AGGREGATE_SECONDS)
    return found


def list_reports(principal: Principal, f: ReportFilters, page: int = 1, per_page: int = 25) -> ReportPage:
    qs = filtered_reports(visible_reports(principal), f)
    total = qs.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    now = timezone.now()
    names = {c.pk: c for c in HazardCategory.objects.filter(site_id=principal.site_pk)}
    resp = {r.pk: r for r in Responder.objects.filter(site_id=principal.site_pk)}
    rows = []
    # The page's ids first, from the list index alone, then only those rows: a deep page skips index entries,
    # not table rows.
    ids = list(qs.order_by("-created_at", "-id").values_list("pk", flat=True)[(page - 1) * per_page : page * per_page])
    for r in HazardReport.objects.filter(pk__in=ids).order_by("-created_at", "-id").values(
        "pk", "reference", "area__name", "category_id", "status", "urgent", "likelihood", "severity",
        "responder_id", "created_at", "due_at",
    ):  # fmt: skip
        score = r["likelihood"] * r["severity"] if r["likelihood"] and r["severity"] else None
        cat = names[r["category_id"]]
        rows.append(
            ReportRow(
                id=r["pk"],
                reference=r["reference"],
                area_name=r["area__name"],
                category_code=cat.code,
                category_name=category_name(cat),
                status=r["status"],
                urgent=r["urgent"],
                risk_score=score,
                risk_level=risk_level(score),
                responder_name=responder_name(resp.get(r["responder_id"])),
                created_at=r["created_at"],
                due_at=r["due_at"],
                overdue=r["status"] in OPEN_STATUSES and r["due_at"] < now,
            )
        )
    return ReportPage(rows=rows, total=total, page=page, pages=pages)


def _cell_index(value: Any) -> Any:
    """The grid cell a coordinate falls in: floor() on PostgreSQL (its integer cast rounds, which would shift
    every cell by half); an integer cast on SQLite, where it truncates, the same for Korea's positive coordinates,
    and where Django's Floor would be a slow Python function."""
    return Floor(value) if connection.vendor == "postgresql" else Cast(value, IntegerField())


def map_data(
    qs: QuerySet[HazardReport], bbox: tuple[float, float, float, float] | None, zoom: int, density: bool = False
) -> dict[str, Any]:
    """Every report in view, as points when few and as grid cells (count and mean position) when many, so the
    map always represents all of them. ``density`` asks for a finer grid, drawn shaded by count."""
    return _aggregate("map", qs, lambda: _map_data(qs, bbox, zoom, density), bbox, zoom, density)


def _map_data(
    qs: QuerySet[HazardReport], bbox: tuple[float, float, float, float] | None, zoom: int, density: bool
) -> dict[str, Any]:
    if bbox is not None:
        south, west, north, east = bbox
        qs = qs.filter(latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east)
    zoom = max(1, min(zoom, 20))
    if not density:
        few = list(
            qs.order_by().values("pk", "reference", "latitude", "longitude", "status", "urgent", "category__code")[:301]
        )
        if len(few) <= 300:
            return {
                "total": len(few),
                "points": [
                    {
                        "id": p["pk"],
                        "ref": p["reference"],
                        "lat": p["latitude"],
                        "lon": p["longitude"],
                        "status": p["status"],
                        "urgent": p["urgent"],
                        "category": p["category__code"],
                    }
                    for p in few
                ],
            }
    # A tile is 360 / 2**zoom degrees wide; a cell is a quarter tile (64 px), or an eighth for density.
    cell = 360.0 / (2**zoom) / (8 if density else 4)
    rows = (
        qs.order_by()
        .annotate(cy=_cell_index(F("latitude") / cell), cx=_cell_index(F("longitude") / cell))
        .values("cy", "cx")
        .annotate(n=Count("id"), lat=Avg("latitude"), lon=Avg("longitude"))
    )
    cells = [
        {"n": r["n"], "lat": r["lat"], "lon": r["lon"], "cell": [r["cy"] * cell, r["cx"] * cell, cell]} for r in rows
    ]
    return {"total": sum(c["n"] for c in cells), "cell_degrees": cell, "cells": cells}


# --- hazard reports: triage and routing --------------------------------------------------------------------


def _handled(actor: Actor, report_id: int) -> HazardReport:
    report = (
        visible_reports(actor.principal, Action.CHANGE)
        .select_for_update(of=("self",))  # lock the report only (PostgreSQL refuses nullable joined rows)
        .filter(pk=report_id)
        .select_related("category", "responder", "site", "area")
        .first()
    )
    if report is None:
        raise NotFound("report", report_id)
    return report


def _tell_followers(report: HazardReport, update: ReportUpdate) -> None:
    """Status updates reach everyone following the report: on their tracking page, and by e-mail if given."""
    emails = {
        fields.decrypt(f.email_encrypted)
        for f in ReportFollower.objects.filter(report=report).exclude(email_encrypted="")
    }
    emails |= {
        u
        for u in ReportFollower.objects.filter(report=report).exclude(user=None).values_list("user__email", flat=True)
        if u
    }
    label = ReportStatus(update.status).label
    for email in sorted(emails):
        notify.queue_email(
            site_id=report.site_id,
            address=email,
            subject=f"[마을 안전신고 {report.reference}] {label}",
            body=f"{report.reference}: {label}\n{update.responder_name}\n{update.note}".strip(),
            topic=f"hazard_report:{report.pk}",
        )


def _record(
    report: HazardReport, actor: Actor, note: str, changes: dict[str, Any], now: datetime | None = None
) -> ReportUpdate:
    now = now or timezone.now()
    report.updated_at = now
    report.status_notes = note
    report.save()
    update = ReportUpdate.objects.create(
        report=report,
        at=now,
        status=report.status,
        responder_name=report.responder.name_ko if report.responder else "",
        note=note,
        by_id=actor.principal.user_id,
    )
    audit.log(
        actor, AuditAction.CHANGE, "hazard_report", object_id=report.pk, site_id=report.site_id,
        area_code=report.area_id, changes=changes,
    )  # fmt: skip
    _tell_followers(report, update)
    return update


@transaction.atomic
def triage(actor: Actor, report_id: int, data: TriageInput) -> HazardReport:
    """Score the report on the 5×5 matrix and route it. Urgent reports are due within a day."""
    report = _handled(actor, report_id)
    if not report.is_open:
        raise SafetyError("status", "closed", f"report {report.reference} is closed; reopen it by filing again")
    responder = Responder.objects.filter(site_id=report.site_id, code=data.responder).first()
    if responder is None:
        raise SafetyError("responder", "unknown_responder", f"no department or agency {data.responder!r} at this site")
    before = {"likelihood": report.likelihood, "severity": report.severity, "urgent": report.urgent,
              "responder": report.responder.code if report.responder else "", "status": report.status}  # fmt: skip
    now = timezone.now()
    report.likelihood, report.severity, report.urgent = data.likelihood, data.severity, data.urgent
    report.responder = responder
    report.photos_public = data.photos_public
    report.triaged_at = report.triaged_at or now
    if report.status == ReportStatus.SUBMITTED:
        report.status = ReportStatus.ROUTED
    if data.urgent:
        report.due_at = min(report.due_at, now + timedelta(days=1))
    after = {"likelihood": data.likelihood, "severity": data.severity, "urgent": data.urgent,
             "responder": responder.code, "status": report.status}  # fmt: skip
    _record(report, actor, data.note, audit.diff(before, after))
    _event("hazard.triaged", report, actor, {"risk": data.likelihood * data.severity, "urgent": data.urgent,
                                              "responder": responder.code})  # fmt: skip
    return report


@transaction.atomic
def recategorise(actor: Actor, report_id: int, category_code: str, note: str = "") -> HazardReport:
    """Miscategorised: move it to the right category, which routes it to that category's responder."""
    report = _handled(actor, report_id)
    category = HazardCategory.objects.filter(site_id=report.site_id, code=category_code, active=True).first()
    if category is None:
        raise SafetyError("category", "unknown_category", f"no hazard category {category_code!r} here")
    if category.pk == report.category_id:
        raise SafetyError("category", "same_category", "the report is already in that category")
    before = {"category": report.category.code, "responder": report.responder.code if report.responder else ""}
    report.category = category
    report.responder = category.responder
    after = {"category": category.code, "responder": category.responder.code if category.responder else ""}
    _record(report, actor, note, audit.diff(before, after))
    _event("hazard.rerouted", report, actor, {"category": category.code})
    return report


@transaction.atomic
def change_status(actor: Actor, report_id: int, data: StatusChange, now: datetime | None = None) -> HazardReport:
    """``now`` dates a change replayed from history (the demo); it defaults to the clock."""
    report = _handled(actor, report_id)
    before = {"status": report.status}
    if data.status == "duplicate":
        original = visible_reports(actor.principal).filter(reference=data.duplicate_of).exclude(pk=report.pk).first()
        if original is None:
            raise SafetyError("duplicate_of", "unknown_report", f"no report {data.duplicate_of} that you may see")
        report.duplicate_of = original
        # Those following the duplicate now follow the original, so nobody loses track.
        for f in ReportFollower.objects.filter(report=report):
            ReportFollower.objects.create(
                report=original, user_id=f.user_id, email_encrypted=f.email_encrypted, token=_new_token()
            )
    report.status = data.status
    now = now or timezone.now()
    if data.status in (ReportStatus.RESOLVED, ReportStatus.REJECTED, ReportStatus.DUPLICATE):
        report.resolved_at = now
    else:
        report.resolved_at = None
    _record(report, actor, data.note, audit.diff(before, {"status": report.status}), now)
    _event(f"hazard.{data.status}", report, actor, at=now)
    return report


# --- statistics --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportStats:
    open: int
    overdue: int
    urgent_open: int
    resolved: int
    resolved_within_target: int
    median_days_to_resolve: float | None


def report_stats(qs: QuerySet[HazardReport]) -> ReportStats:
    return _aggregate("stats", qs, lambda: _report_stats(qs))


def _report_stats(qs: QuerySet[HazardReport]) -> ReportStats:
    now = timezone.now()
    counts = qs.aggregate(
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("id", filter=Q(status__in=OPEN_STATUSES, due_at__lt=now)),
        urgent_open=Count("id", filter=Q(status__in=OPEN_STATUSES, urgent=True)),
        resolved=Count("id", filter=Q(status=ReportStatus.RESOLVED)),
        within=Count("id", filter=Q(status=ReportStatus.RESOLVED, resolved_at__lte=F("due_at"))),
    )
    durations = [
        (resolved - created).total_seconds() / 86400
        for created, resolved in qs.filter(status=ReportStatus.RESOLVED)
        .order_by("-resolved_at")
        .values_list("created_at", "resolved_at")[:5000]
        if resolved is not None
    ]
    return ReportStats(
        open=counts["open"],
        overdue=counts["overdue"],
        urgent_open=counts["urgent_open"],
        resolved=counts["resolved"],
        resolved_within_target=counts["within"],
        median_days_to_resolve=round(median(durations), 1) if durations else None,
    )


def open_counts_by_area(principal: Principal) -> dict[str, dict[str, int]]:
    """Open, overdue and urgent reports per eup/myeon/dong in scope: what a home page shows."""
    now = timezone.now()
    rows = (
        visible_reports(principal)
        .filter(status__in=OPEN_STATUSES)
        .values("area_id")
        .annotate(
            open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)), urgent=Count("id", filter=Q(urgent=True))
        )
    )
    return {r["area_id"]: {"open": r["open"], "overdue": r["overdue"], "urgent": r["urgent"]} for r in rows}


@transaction.atomic
def erase_reporter_contacts(actor: Actor) -> int:
    """Retention: once a report has been closed for the site's period, its reporter's and followers' contacts
    are no longer needed to tell them anything, so they are erased. The report itself stays (it is about a place)."""
    erased = 0
    for site in Site.objects.all():
        cutoff = timezone.now() - timedelta(days=sites.settings_of(site).hazard_contact_retention_days)
        closed = HazardReport.objects.filter(site=site, resolved_at__lt=cutoff).exclude(status__in=OPEN_STATUSES)
        with_contacts = closed.exclude(
            reporter_name_encrypted="", reporter_phone_encrypted="", reporter_email_encrypted=""
        ).values_list("pk", flat=True)
        ids = list(with_contacts)
        if ids:
            HazardReport.objects.filter(pk__in=ids).update(
                reporter_name_encrypted="", reporter_phone_encrypted="", reporter_email_encrypted=""
            )
            audit.log_each(actor, AuditAction.DESTROY, REPORTER, ids, site_id=site.pk)
        ReportFollower.objects.filter(report__in=closed).exclude(email_encrypted="").update(email_encrypted="")
        erased += len(ids)
    return erased


# --- the consultative body ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    id: int
    area_code: str
    area_name: str
    name: str
    kind: str
    role: str
    term_start: date
    term_end: date | None
    active: bool
    phone: str  # empty unless the viewer may see contacts
    email: str
    account: str


def _member_active(m: BodyMember, today: date) -> bool:
    return m.term_start <= today and (m.term_end is None or m.term_end >= today)


def list_members(actor: Actor, area_code: str = "", include_past: bool = False) -> list[MemberView]:
    """Members of the body. Contacts are shown to officials (who may change the body); members see each
    other's names and roles only. Every listing is logged."""
    p = actor.principal
    qs = visible_members(p).select_related("area", "account")
    if area_code:
        qs = qs.filter(area_id=area_code)
    today = timezone.localdate()
    if not include_past:
        qs = qs.filter(Q(term_end=None) | Q(term_end__gte=today))
    with_contacts = p.scope(Resource.SAFETY_BODY, Action.CHANGE) is not None
    members = list(qs.order_by("area_id", "role", "id"))
    if members:  # names are personal data too, so every listing is recorded, with or without contacts
        audit.log_each(actor, AuditAction.LIST, MEMBER, [m.pk for m in members], site_id=p.site_id)
    return [
        MemberView(
            id=m.pk,
            area_code=m.area_id,
            area_name=m.area.name,
            name=fields.decrypt(m.name_encrypted),
            kind=m.kind,
            role=m.role,
            term_start=m.term_start,
            term_end=m.term_end,
            active=_member_active(m, today),
            phone=format_phone(fields.decrypt(m.phone_encrypted)) if with_contacts else "",
            email=fields.decrypt(m.email_encrypted) if with_contacts else "",
            account=m.account.get_username() if m.account else "",
        )
        for m in members
    ]


@transaction.atomic
def add_member(actor: Actor, data: MemberInput, account_id: int | None = None) -> BodyMember:
    p = actor.principal
    area = _area(p, Resource.SAFETY_BODY, Action.CHANGE, data.area_code)
    if data.role in ("chair", "secretary"):
        holder = BodyMember.objects.filter(area=area, role=data.role).filter(
            Q(term_end=None) | Q(term_end__gte=data.term_start)
        )
        if holder.exists():
            raise SafetyError("role", "role_taken", f"this area already has a {data.role} for that term; end it first")
    member = BodyMember.objects.create(
        site_id=p.site_pk,
        area=area,
        account_id=account_id,
        name_encrypted=fields.encrypt(data.name),
        phone_encrypted=fields.encrypt(data.phone) if data.phone else "",
        email_encrypted=fields.encrypt(data.email) if data.email else "",
        kind=data.kind,
        role=data.role,
        term_start=data.term_start,
        term_end=data.term_end,
    )
    audit.log(actor, AuditAction.CREATE, MEMBER, object_id=member.pk, area_code=area.code)
    _event("safety.member_added", member, actor, {"kind": data.kind, "role": data.role})
    return member


@transaction.atomic
def end_term(actor: Actor, member_id: int, on: date) -> BodyMember:
    member = visible_members(actor.principal, Action.CHANGE).filter(pk=member_id).first()
    if member is None:
        raise NotFound("member", member_id)
    if on < member.term_start:
        raise SafetyError("term_end", "before_start", "the term cannot end before it starts")
    before = {"term_end": str(member.term_end or "")}
    member.term_end = on
    member.save(update_fields=["term_end", "updated_at"])
    audit.log(actor, AuditAction.CHANGE, MEMBER, object_id=member.pk, area_code=member.area_id,
              changes=audit.diff(before, {"term_end": str(on)}))  # fmt: skip
    return member


def _members_of(area: Area, ids: Iterable[int], field_name: str) -> list[BodyMember]:
    wanted = set(ids)
    found = list(BodyMember.objects.filter(area=area, pk__in=wanted))
    if len(found) != len(wanted):
        raise SafetyError(field_name, "unknown_member", "every person listed must be a member of this area's body")
    return found


@transaction.atomic
def record_meeting(actor: Actor, data: MeetingInput) -> Meeting:
    """A meeting with its agenda, attendance and minutes; each decision becomes an improvement task."""
    p = actor.principal
    area = _area(p, Resource.SAFETY_BODY, Action.CREATE, data.area_code)
    meeting = Meeting.objects.create(
        site_id=p.site_pk, area=area, held_at=data.held_at, place=data.place, agenda=data.agenda,
        minutes=data.minutes, created_by_id=p.user_id,
    )  # fmt: skip
    meeting.attendees.set(_members_of(area, data.attendee_ids, "attendee_ids"))
    for title in data.decisions:
        ImprovementTask.objects.create(
            site_id=p.site_pk, area=area, title=title, source=TaskSource.MEETING, meeting=meeting,
            plan_year=data.held_at.year, created_by_id=p.user_id,
        )  # fmt: skip
    audit.log(actor, AuditAction.CREATE, "safety_meeting", object_id=meeting.pk, area_code=area.code)
    _event("safety.meeting", meeting, actor, {"attendees": len(data.attendee_ids), "decisions": len(data.decisions)})
    return meeting


@transaction.atomic
def record_activity(actor: Actor, data: ActivityInput) -> Activity:
    p = actor.principal
    area = _area(p, Resource.SAFETY_BODY, Action.CREATE, data.area_code)
    activity = Activity.objects.create(
        site_id=p.site_pk, area=area, kind=data.kind, held_on=data.held_on, hours=Decimal(str(data.hours)),
        summary=data.summary, created_by_id=p.user_id,
    )  # fmt: skip
    activity.participants.set(_members_of(area, data.participant_ids, "participant_ids"))
    _event(
        "safety.activity", activity, actor, {"kind": data.kind, "person_hours": data.hours * len(data.participant_ids)}
    )
    return activity


def meetings(principal: Principal, area_code: str = "") -> QuerySet[Meeting]:
    qs = _scoped(principal, Resource.SAFETY_BODY, Action.VIEW, Meeting.objects.all())
    return qs.filter(area_id=area_code) if area_code else qs


def activities(principal: Principal, area_code: str = "") -> QuerySet[Activity]:
    qs = _scoped(principal, Resource.SAFETY_BODY, Action.VIEW, Activity.objects.all())
    return qs.filter(area_id=area_code) if area_code else qs


def activity_hours(principal: Principal, area_code: str, year: int) -> dict[str, float]:
    """Person-hours per kind of activity in a year (hours × participants)."""
    out: dict[str, float] = {}
    for a in activities(principal, area_code).filter(held_on__year=year).annotate(n=Count("participants")):
        out[a.kind] = out.get(a.kind, 0.0) + float(a.hours) * a.n
    return out


# --- improvement tasks -------------------------------------------------------------------------------------


def _responder(site_id: int, code: str) -> Responder | None:
    if not code:
        return None
    found = Responder.objects.filter(site_id=site_id, code=code).first()
    if found is None:
        raise SafetyError("responder", "unknown_responder", f"no department or agency {code!r} at this site")
    return found


@transaction.atomic
def create_task(actor: Actor, data: TaskInput) -> ImprovementTask:
    p = actor.principal
    area = _area(p, Resource.SAFETY_TASK, Action.CREATE, data.area_code)
    reports = list(visible_reports(p, Action.CHANGE).filter(reference__in=data.report_references))
    missing = set(data.report_references) - {r.reference for r in reports}
    if missing:
        raise SafetyError("report_references", "unknown_report", f"no reports {sorted(missing)} that you handle")
    meeting = meetings(p).filter(pk=data.meeting_id).first() if data.meeting_id else None
    activity = activities(p).filter(pk=data.activity_id).first() if data.activity_id else None
    task = ImprovementTask.objects.create(
        site_id=p.site_pk, area=area, title=data.title, description=data.description, source=data.source,
        meeting=meeting, activity=activity, responder=_responder(p.site_pk, data.responder),
        budget_krw=data.budget_krw, plan_year=data.plan_year, due_date=data.due_date, created_by_id=p.user_id,
    )  # fmt: skip
    for report in reports:
        _link(actor, task, report)
    audit.log(actor, AuditAction.CREATE, "improvement_task", object_id=task.pk, area_code=area.code)
    _event(
        "safety.task_created", task, actor, {"source": data.source, "reports": len(reports), "budget": data.budget_krw}
    )
    return task


def _link(actor: Actor, task: ImprovementTask, report: HazardReport) -> None:
    report.task = task
    if report.status in (ReportStatus.SUBMITTED, ReportStatus.ROUTED):
        report.status = ReportStatus.IN_PROGRESS
    _record(report, actor, task.title, {"task": [None, task.pk], "status": [None, report.status]})


@transaction.atomic
def link_reports(actor: Actor, task_id: int, references: list[str]) -> ImprovementTask:
    task = visible_tasks(actor.principal, Action.CHANGE).filter(pk=task_id).first()
    if task is None:
        raise NotFound("task", task_id)
    reports = list(visible_reports(actor.principal, Action.CHANGE).filter(reference__in=references))
    if len(reports) != len(set(references)):
        raise SafetyError("report_references", "unknown_report", "every report must be one you handle")
    for report in reports:
        _link(actor, task, report)
    return task


@transaction.atomic
def change_task(actor: Actor, task_id: int, data: TaskChange) -> ImprovementTask:
    task = visible_tasks(actor.principal, Action.CHANGE).select_for_update().filter(pk=task_id).first()
    if task is None:
        raise NotFound("task", task_id)
    if task.status == TaskStatus.CLOSED:
        raise SafetyError("status", "closed", "a task confirmed as done by a member is closed")
    before = {"status": task.status, "budget_krw": task.budget_krw, "due_date": str(task.due_date or ""),
              "responder": task.responder_id}  # fmt: skip
    task.status = data.status
    task.budget_krw = data.budget_krw
    task.due_date = data.due_date
    task.responder = _responder(task.site_id, data.responder) if data.responder else task.responder
    task.done_at = timezone.now() if data.status == "done" else None
    task.save()
    after = {"status": task.status, "budget_krw": task.budget_krw, "due_date": str(task.due_date or ""),
             "responder": task.responder_id}  # fmt: skip
    audit.log(actor, AuditAction.CHANGE, "improvement_task", object_id=task.pk, area_code=task.area_id,
              changes=audit.diff(before, after))  # fmt: skip
    _event(f"safety.task_{data.status}", task, actor)
    return task


@transaction.atomic
def add_task_photo(actor: Actor, task_id: int, stage: str, data: bytes) -> Photo:
    task = visible_tasks(actor.principal, Action.CHANGE).filter(pk=task_id).first()
    if task is None:
        raise NotFound("task", task_id)
    if stage not in (Photo.Stage.BEFORE, Photo.Stage.AFTER):
        raise SafetyError("stage", "stage", "a task photo is taken before or after the work")
    return _store_photo(photos.clean(data), task=task, stage=stage)


@transaction.atomic
def confirm_closure(actor: Actor, task_id: int, member_id: int | None = None, note: str = "") -> ImprovementTask:
    """A member of the body confirms on site that the work is done; the task closes and every linked report
    is resolved, which tells their reporters. A member confirms as themself; an official records which
    member confirmed."""
    p = actor.principal
    task = visible_tasks(p, Action.CONFIRM).select_for_update().filter(pk=task_id).first()
    if task is None:
        raise NotFound("task", task_id)
    if task.status != TaskStatus.DONE:
        raise SafetyError("status", "not_done", "only a task marked done can be confirmed")
    if p.role == "body_member":
        member = BodyMember.objects.filter(account_id=p.user_id, area_id=task.area_id).first()
    else:
        member = BodyMember.objects.filter(pk=member_id, area_id=task.area_id).first() if member_id else None
    if member is None or not _member_active(member, timezone.localdate()):
        raise SafetyError("member_id", "member_required", "a current member of this area's body must confirm")
    task.status = TaskStatus.CLOSED
    task.confirmed_by = member
    task.confirmed_at = timezone.now()
    task.confirmation_note = note[:500]
    task.save()
    for report in task.reports.filter(status__in=OPEN_STATUSES).select_related("responder"):
        report.status = ReportStatus.RESOLVED
        report.resolved_at = task.confirmed_at
        _record(report, actor, note or task.title, {"status": [ReportStatus.IN_PROGRESS, ReportStatus.RESOLVED]})
    audit.log(actor, AuditAction.CHANGE, "improvement_task", object_id=task.pk, area_code=task.area_id,
              changes={"status": [TaskStatus.DONE, TaskStatus.CLOSED], "confirmed_by": [None, member.pk]})  # fmt: skip
    _event("safety.task_closed", task, actor)
    return task


@dataclass(frozen=True)
class PlanLine:
    task: ImprovementTask
    reports: int


@dataclass(frozen=True)
class YearlyPlan:
    area: Area
    year: int
    lines: list[PlanLine]
    budget_total: int
    budget_by_status: dict[str, int]
    budget_by_responder: dict[str, int]
    closed: int


def yearly_plan(principal: Principal, area_code: str, year: int) -> YearlyPlan:
    area = working_areas(principal, Resource.SAFETY_TASK, Action.VIEW).filter(code=area_code).first()
    if area is None:
        raise NotFound("area", area_code)
    tasks = (
        visible_tasks(principal)
        .filter(area=area, plan_year=year)
        .exclude(status=TaskStatus.CANCELLED)
        .select_related("responder", "confirmed_by")
        .annotate(n_reports=Count("reports"))
        .order_by("due_date", "id")
    )
    lines = [PlanLine(t, t.n_reports) for t in tasks]
    by_status: dict[str, int] = {}
    by_responder: dict[str, int] = {}
    for line in lines:
        by_status[line.task.status] = by_status.get(line.task.status, 0) + line.task.budget_krw
        name = responder_name(line.task.responder)
        by_responder[name] = by_responder.get(name, 0) + line.task.budget_krw
    return YearlyPlan(
        area=area,
        year=year,
        lines=lines,
        budget_total=sum(line.task.budget_krw for line in lines),
        budget_by_status=by_status,
        budget_by_responder=by_responder,
        closed=sum(1 for line in lines if line.task.status == TaskStatus.CLOSED),
    )


def plan_csv(plan: YearlyPlan) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["task", "title", "source", "responder", "budget_krw", "due_date", "status", "reports",
                     "confirmed_at"])  # fmt: skip
    for line in plan.lines:
        t = line.task
        writer.writerow([t.pk, t.title, t.source, responder_name(t.responder), t.budget_krw,
                         t.due_date.isoformat() if t.due_date else "", t.status, line.reports,
                         t.confirmed_at.isoformat() if t.confirmed_at else ""])  # fmt: skip
    writer.writerow(["", "total", "", "", plan.budget_total, "", "", "", ""])
    return out.getvalue()


# --- the area safety page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistLine:
    item: catalogue.ChecklistItem
    done: ChecklistTick | None


@dataclass(frozen=True)
class SeasonChecklist:
    season: catalogue.Season
    lines: list[ChecklistLine]


def checklists(area: Area, on: date) -> list[SeasonChecklist]:
    """The seasonal checklists for this area's kind (urban dong or rural eup/myeon) in ``on``'s month."""
    ticks = {t.item: t for t in ChecklistTick.objects.filter(area=area, year=on.year).select_related("done_by")}
    return [
        SeasonChecklist(season, [ChecklistLine(item, ticks.get(item.code)) for item in items])
        for season, items in catalogue.seasons_for(on.month, catalogue.area_kind(area.name))
    ]


@transaction.atomic
def tick_checklist(
    actor: Actor, area_code: str, item_code: str, note: str = "", on: date | None = None
) -> ChecklistTick:
    p = actor.principal
    area = _area(p, Resource.SAFETY_BODY, Action.CREATE, area_code)
    if item_code not in catalogue.CHECKLIST_ITEMS:
        raise SafetyError("item", "unknown_item", f"no checklist item {item_code!r}")
    year = (on or timezone.localdate()).year
    tick, _ = ChecklistTick.objects.get_or_create(
        area=area,
        year=year,
        item=item_code,
        defaults={"site_id": p.site_pk, "done_by_id": p.user_id, "note": note[:300]},
    )
    events.record("safety.checklist", site_id=p.site_pk, area_code=area.code, actor_role=p.role or "",
                  data={"item": item_code})  # fmt: skip
    return tick


@dataclass(frozen=True)
class AreaSafety:
    area: Area
    stats: ReportStats
    open_reports: list[ReportRow]
    by_category: list[tuple[str, int]]
    plan: YearlyPlan
    checklists: list[SeasonChecklist]
    members: int
    hours: dict[str, float]
    kind: str


def area_safety(principal: Principal, area_code: str, on: date | None = None) -> AreaSafety:
    today = on or timezone.localdate()
    area = working_areas(principal, Resource.HAZARD, Action.VIEW).filter(code=area_code).first()
    if area is None:
        raise NotFound("area", area_code)
    reports = visible_reports(principal).filter(area=area)
    open_page = list_reports(principal, ReportFilters(status="open", area_code=area.code), per_page=20)
    by_cat = reports.filter(status__in=OPEN_STATUSES).values("category_id").annotate(n=Count("id")).order_by("-n")
    cats = {c.pk: c for c in HazardCategory.objects.filter(site_id=principal.site_pk)}
    return AreaSafety(
        area=area,
        stats=report_stats(reports),
        open_reports=open_page.rows,
        by_category=[(category_name(cats[r["category_id"]]), r["n"]) for r in by_cat],
        plan=yearly_plan(principal, area.code, today.year),
        checklists=checklists(area, today),
        members=visible_members(principal).filter(area=area).filter(Q(term_end=None) | Q(term_end__gte=today)).count(),
        hours=activity_hours(principal, area.code, today.year),
        kind=catalogue.area_kind(area.name),
    )


# --- programme figures ----------------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def programme_figures(site_id: int, since: date, until: date) -> dict[str, float | int | None]:
    """The site's Type 1 figures for the programme (``maeul.programme``), for ``since`` ≤ day < ``until``:
    counts and a median only, never a report or a reporter. Hazards reported, those resolved and the median days
    from filing to resolution, and improvement tasks finished (done, or confirmed by a member)."""
    start, end = _day_start(since), _day_start(until)
    reports = HazardReport.objects.filter(site_id=site_id)
    resolved = reports.filter(status=ReportStatus.RESOLVED, resolved_at__gte=start, resolved_at__lt=end)
    days = [
        (done - filed).total_seconds() / 86400
        for filed, done in resolved.values_list("created_at", "resolved_at")
        if done is not None
    ]
    return {
        "hazards_reported": reports.filter(created_at__gte=start, created_at__lt=end).count(),
        "hazards_resolved": len(days),
        "median_days_to_resolve": round(median(days), 2) if days else None,
        "tasks_done": ImprovementTask.objects.filter(
            site_id=site_id, status__in=(TaskStatus.DONE, TaskStatus.CLOSED), done_at__gte=start, done_at__lt=end
        ).count(),
    }

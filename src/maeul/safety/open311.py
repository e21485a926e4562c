"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): hazard categories are services, hazard
reports are service requests, a site is a jurisdiction (``jurisdiction_id`` is its slug).

Hazards are about places, so they are public here as on the site's own pages; who reported them never is.
Responses are built as plain data once and rendered as JSON or XML by the Spark convention (``render``).
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from maeul.accounts.permissions import public
from maeul.accounts.principal import principal_for
from maeul.accounts.services import user_for_token
from maeul.audit.services import Actor
from maeul.safety import services
from maeul.safety.errors import SafetyError
from maeul.safety.models import HazardCategory, HazardReport, ReportSource
from maeul.safety.schemas import Attribute, ReportInput
from maeul.sites.models import Site

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Discovery's "sortable" changeset: when this endpoint's interface last changed (a constant, so it never
# goes backwards; category edits are not timestamped in the model).
CHANGESET = "2026-11-25 00:00"
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Spark convention: a list is an element whose children all carry one tag; in JSON the list is an array.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
WINDOW = timedelta(days=90)  # the spec's default and largest span for GET requests
MAX_REQUESTS = 1000  # the spec's default limit for GET requests

_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry
_W3_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]+)\](\[\])?")
# Maeul's field names as an Open311 client knows them, for error descriptions.
_OPEN311_NAMES = {
    "category": "service_code",
    "latitude": "lat",
    "longitude": "long",
    "location": "lat and long",
    "address": "address_string",
    "reporter_name": "first_name and last_name",
    "reporter_phone": "phone",
    "reporter_email": "email",
}

Reply = tuple[str, Any]  # the XML root's tag and the data under it


class Open311Error(Exception):
    """A refusal: 400, 403 or 404 as the spec lays down, with one or more descriptions for the user."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions


# --- rendering ---------------------------------------------------------------------------------------------


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, list):
        element.extend(_element(ITEM_TAGS[tag], item) for item in value)
    elif isinstance(value, dict):
        element.extend(_element(key, item) for key, item in value.items())
    else:
        element.text = _xml_text(value)
    return element


def render(fmt: str, root: str, data: Any, status: int = 200) -> HttpResponse:
    """The one JSON↔XML mapping: dicts are elements in key order, lists repeat ``ITEM_TAGS[tag]``, None is an
    empty element, booleans are true/false. JSON drops the root, as the spec's examples do."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        body = XML_DECLARATION + ET.tostring(_element(root, data), encoding="unicode")
    return HttpResponse(body.encode(), status=status, content_type=CONTENT_TYPES[fmt])


def _errors(fmt: str, error: Open311Error) -> HttpResponse:
    data = [{"code": error.status, "description": d} for d in error.descriptions]
    return render(fmt, "errors", data, status=error.status)


def _say(ko: str, en: str) -> str:
    return en if (translation.get_language() or "ko").startswith("en") else ko


def _language(request: HttpRequest) -> str:
    """Korean unless asked for English: the ``locale`` parameter (a common GeoReport v2 extension), else an
    Accept-Language that starts with en."""
    asked = _param(request, "locale").lower() or request.headers.get("Accept-Language", "").strip().lower()
    return "en" if asked.startswith("en") else "ko"


def endpoint(*methods: str) -> Callable[[Callable[..., Reply]], Callable[..., HttpResponse]]:
    """Picks the format from the URL suffix (clients send no Accept header), the language from the request,
    and turns ``Open311Error`` into the spec's error body in that format."""

    def decorate(handler: Callable[..., Reply]) -> Callable[..., HttpResponse]:
        @wraps(handler)
        def view(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            if fmt not in CONTENT_TYPES:  # XML is the format every client must understand
                return _errors("xml", Open311Error(404, f"Unknown format .{fmt}: use .xml or .json."))
            language = _language(request)
            with translation.override(language):
                try:
                    if request.method not in methods:
                        raise Open311Error(405, f"Use {', '.join(methods)}.")
                    root, data = handler(request, **kwargs)
                    response = render(fmt, root, data)
                except Open311Error as error:
                    response = _errors(fmt, error)
            if response.status_code == 405:
                response["Allow"] = ", ".join(methods)
            response["Content-Language"] = language
            patch_vary_headers(response, ["Accept-Language"])
            return response

        return view

    return decorate


# --- parameters --------------------------------------------------------------------------------------------


def _param(request: HttpRequest, name: str) -> str:
    """A parameter from the form body of a POST or the query string; empty means absent, as the spec says."""
    value = (request.POST.get(name) if request.method == "POST" else None) or request.GET.get(name) or ""
    return value.strip()


def _list_param(request: HttpRequest, name: str) -> list[str]:
    """Comma separated, or declared several times: both are in the spec."""
    return [part.strip() for value in request.GET.getlist(name) for part in value.split(",") if part.strip()]


def _site(request: HttpRequest) -> Site:
    """``jurisdiction_id`` is required only when more than one site is served here."""
    slug = _param(request, "jurisdiction_id")
    if slug:
        found = Site.objects.filter(slug=slug).first()
        if found is None:
            raise Open311Error(404, f"jurisdiction_id {slug!r} was not found.")
        return found
    slugs = list(Site.objects.order_by("slug").values_list("slug", flat=True))
    if not slugs:
        raise Open311Error(404, "No jurisdiction is served here.")
    if len(slugs) > 1:
        raise Open311Error(400, f"jurisdiction_id was not provided; this endpoint serves {', '.join(slugs)}.")
    return Site.objects.get(slug=slugs[0])


def _when(request: HttpRequest, name: str) -> datetime | None:
    raw = _param(request, name)
    if not raw:
        return None
    raw = re.sub(r" (\d{2}:\d{2})$", r"+\1", raw)  # an unencoded "+09:00" in a query string arrives as " 09:00"
    try:
        if not _W3_DATETIME.fullmatch(raw):
            raise ValueError(raw)
        return datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Open311Error(400, f"{name}: use the w3 format with a timezone, e.g. 2010-01-01T00:00:00Z.") from exc


def _window(request: HttpRequest) -> tuple[datetime, datetime]:
    """The most recent 90 days by default; a one-sided range extends 90 days from its given end."""
    start, end = _when(request, "start_date"), _when(request, "end_date")
    if start is None:
        end = end or timezone.now()
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if end < start:
        raise Open311Error(400, "end_date is before start_date.")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days.")
    return start, end


# --- services ----------------------------------------------------------------------------------------------


def _service(category: HazardCategory) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": services.category_name(category),
        "description": services.category_description(category) or None,
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": category.keywords or None,
        "group": category.group,
    }


def _attribute(attribute: Attribute) -> dict[str, Any]:
    return {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description or None,
        "order": attribute.order,
        "description": attribute.description,
        "values": [{"key": v.key, "name": v.name} for v in attribute.values],
    }


def _category(site: Site, code: str) -> HazardCategory:
    found = next((c for c in services.categories(site) if c.code == code), None)
    if found is None:
        raise Open311Error(404, f"service_code {code!r} was not found.")
    return found


# --- service requests --------------------------------------------------------------------------------------


def _w3(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _notice(report: HazardReport) -> str:
    days = max(1, math.ceil((report.due_at - report.created_at).total_seconds() / 86400))
    return _say(f"처리 목표: {days}일 이내", f"Target: dealt with within {days} days")


def _service_request(request: HttpRequest, report: HazardReport) -> dict[str, Any]:
    """A report as the public may see it: never who reported it."""
    photo = next(iter(report.photos.all()), None) if report.photos_public else None
    return {
        "service_request_id": report.reference,
        "status": "open" if report.is_open else "closed",
        "status_notes": report.status_notes or None,
        "service_name": services.category_name(report.category),
        "service_code": report.category.code,
        "description": report.description,
        "agency_responsible": services.responder_name(report.responder) or None,
        "service_notice": _notice(report) if report.is_open else None,
        "requested_datetime": _w3(report.created_at),
        "updated_datetime": _w3(report.updated_at),
        "expected_datetime": _w3(report.due_at),
        "address": report.address or report.area.full_name,
        "address_id": None,
        "zipcode": None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": request.build_absolute_uri(reverse("safety_photo", args=[photo.pk])) if photo else None,
    }


def _loaded(qs: QuerySet[HazardReport]) -> QuerySet[HazardReport]:
    return qs.select_related("category", "responder", "area").prefetch_related("photos").order_by("-created_at", "-id")


def _search(request: HttpRequest, site: Site) -> list[dict[str, Any]]:
    qs = HazardReport.objects.filter(site=site)
    references = _list_param(request, "service_request_id")
    if references:  # "This overrides all other arguments."
        qs = qs.filter(reference__in=references)
    else:
        codes = _list_param(request, "service_code")
        if codes:
            qs = qs.filter(category__code__in=codes)
        statuses = set(_list_param(request, "status"))
        if not statuses <= {"open", "closed"}:
            raise Open311Error(400, "status: use open, closed, or both separated by a comma.")
        status = statuses.pop() if len(statuses) == 1 else "all"
        qs = services.filtered_reports(qs, services.ReportFilters(status=status))
        start, end = _window(request)
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
    return [_service_request(request, r) for r in _loaded(qs)[:MAX_REQUESTS]]


def _actor(request: HttpRequest, site: Site) -> Actor:
    """The api_key is a Maeul API token of an account at this jurisdiction's site."""
    if "api_key" not in request.POST and "api_key" in request.GET:
        raise Open311Error(403, "Send api_key in the form body, not in the URL, where it would be logged.")
    key = request.POST.get("api_key", "").strip()
    if not key:
        raise Open311Error(403, "api_key was not provided -- can't proceed with create_request.")
    user = user_for_token(key)
    if user is None:
        raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request.")
    principal = principal_for(user)
    if principal.site_id != site.pk:
        raise Open311Error(403, f"This api_key is not for jurisdiction {site.slug}.")
    return Actor.from_request(request, principal, channel="api")


def _attributes(request: HttpRequest) -> dict[str, str | list[str]]:
    """``attribute[code]=value``, and ``attribute[code][]=value`` repeated for a multivaluelist."""
    found: dict[str, str | list[str]] = {}
    for key, values in request.POST.lists():
        match = _ATTRIBUTE.fullmatch(key)
        if match is not None:
            found[match.group(1)] = values if match.group(2) or len(values) > 1 else values[0]
    return found


def _described(error: ErrorDetails) -> str:
    name = _OPEN311_NAMES.get(str(error["loc"][0]), str(error["loc"][0])) if error["loc"] else ""
    message = "not in the expected form" if error["type"] == "string_pattern_mismatch" else error["msg"]
    message = message.removeprefix("Value error, ")
    return f"{name}: {message}" if name else message


def _full_name(first: str, last: str) -> str:
    """Korean names put the family name first, with no space (홍길동); others keep "first last"."""
    if first and last and all("\uac00" <= ch <= "\ud7a3" for ch in first + last):
        return last + first
    return " ".join(n for n in (first, last) if n)


def _report_input(request: HttpRequest, code: str) -> ReportInput:
    lat, long, address = _param(request, "lat"), _param(request, "long"), _param(request, "address_string")
    if not (lat and long) and not address:
        if not _param(request, "address_id"):
            raise Open311Error(400, "lat and long, address_string or address_id is required.")
        raise Open311Error(
            400, "address_id: Maeul has no address register to look it up; send lat and long or address_string."
        )
    description = _param(request, "description")
    if len(description) < 5:
        raise Open311Error(400, "description: describe the hazard in at least 5 characters; Maeul needs it.")
    try:
        latitude, longitude = (float(lat), float(long)) if lat and long else (None, None)
    except ValueError as exc:
        raise Open311Error(400, "lat and long: decimal degrees (WGS84) expected.") from exc
    try:
        return ReportInput(
            category=code,
            description=description,
            latitude=latitude,
            longitude=longitude,
            address=address,
            attributes=_attributes(request),
            reporter_name=_full_name(_param(request, "first_name"), _param(request, "last_name")),
            reporter_phone=_param(request, "phone"),
            reporter_email=_param(request, "email"),
        )
    except ValidationError as exc:
        raise Open311Error(400, *(_described(e) for e in exc.errors())) from exc


def _submit(request: HttpRequest, site: Site) -> list[dict[str, Any]]:
    actor = _actor(request, site)
    code = _param(request, "service_code")
    if not code:
        raise Open311Error(400, "service_code was not provided.")
    _category(site, code)
    data = _report_input(request, code)
    # device_id and account_id have nowhere to go. media_url is not fetched: the server makes no outbound
    # requests on a client's say-so, and photos enter Maeul only through its own upload, stripped of metadata.
    try:
        # An Open311 client cannot answer "is it one of these reports nearby?", so it always files anyway.
        report = services.submit_report(data, site=site, actor=actor, source=ReportSource.OPEN311, file_anyway=True)
    except SafetyError as exc:
        name = _OPEN311_NAMES.get(exc.field, exc.field)
        raise Open311Error(400, f"{name}: {exc.message}" if name else exc.message) from exc
    return [{"service_request_id": report.reference, "service_notice": _notice(report), "account_id": None}]


# --- views -------------------------------------------------------------------------------------------------


@public
@endpoint("GET", "HEAD")
def discovery(request: HttpRequest) -> Reply:
    services_url = reverse("open311_services", args=["xml"])
    account_url = request.build_absolute_uri(reverse("account"))
    return "discovery", {
        "changeset": CHANGESET,
        "contact": _say(
            "문의: 해당 지자체의 마을 사이트 관리자에게 연락하세요.",
            "Contact the Maeul site administrator of the local government concerned.",
        ),
        "key_service": _say(
            f"API 키는 사이트 관리자에게 요청하세요. 계정이 있으면 계정 페이지에서 API 토큰을 발급받습니다: "
            f"{account_url}",
            f"Ask the site administrator for an API key; with an account, issue an API token on the account "
            f"page: {account_url}",
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.build_absolute_uri(services_url.rsplit("/", 1)[0]),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


@public
@endpoint("GET", "HEAD")
def service_list(request: HttpRequest) -> Reply:
    return "services", [_service(c) for c in services.categories(_site(request))]


@public
@endpoint("GET", "HEAD")
def service_definition(request: HttpRequest, service_code: str) -> Reply:
    category = _category(_site(request), service_code)
    attributes = sorted((Attribute.model_validate(a) for a in category.attributes), key=lambda a: a.order)
    return "service_definition", {"service_code": category.code, "attributes": [_attribute(a) for a in attributes]}


@public
@csrf_exempt  # a client posts with its api_key, not from a page of ours
@endpoint("GET", "HEAD", "POST")
def service_requests(request: HttpRequest) -> Reply:
    site = _site(request)
    return "service_requests", _submit(request, site) if request.method == "POST" else _search(request, site)


@public
@endpoint("GET", "HEAD")
def service_request(request: HttpRequest, service_request_id: str) -> Reply:
    report = _loaded(HazardReport.objects.filter(site=_site(request), reference=service_request_id)).first()
    if report is None:
        raise Open311Error(404, f"service_request_id {service_request_id!r} was not found.")
    return "service_requests", [_service_request(request, report)]


@public
@endpoint("GET", "HEAD")
def request_for_token(request: HttpRequest, token: str) -> Reply:
    reference = HazardReport.objects.filter(site=_site(request), token=token).values_list("reference", flat=True)
    found = reference.first()
    if found is None:
        raise Open311Error(404, "token was not found.")
    return "service_requests", [{"service_request_id": found, "token": token}]

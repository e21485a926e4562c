"""Open311 GeoReport v2 over raw HTTP: every method in JSON and XML, the spec's error bodies and statuses."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from maeul.accounts import services as accounts
from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, SAJIK, MakeUser
from maeul.protection import fields
from maeul.safety import open311, services
from maeul.safety.models import HazardCategory, HazardReport, ReportSource, ReportStatus
from maeul.safety.tests.conftest import NEAR_CHEONGUN, jpeg, report_data
from maeul.sites.models import Site

pytestmark = pytest.mark.django_db

V2 = "/open311/v2"
JSON = "application/json; charset=utf-8"
XML = "text/xml; charset=utf-8"
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]  # fmt: skip
W3_SEOUL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$")
REPORTER = {"first_name": "Gildong", "last_name": "Hong", "phone": "010-2345-6789", "email": "gildong@example.kr"}


@pytest.fixture
def integrator(site: Site, make_user: MakeUser) -> User:
    return make_user(Role.SAFETY_OFFICIAL, site, [CHEONGUN])


@pytest.fixture
def api_key(integrator: User) -> str:
    return accounts.issue_api_token(integrator, "open311 client").plaintext


def get(path: str, fmt: str = "json", **params: str) -> HttpResponse:
    response: HttpResponse = Client().get(f"{V2}/{path}.{fmt}", params)
    return response


def post(fmt: str = "json", **form: str) -> HttpResponse:
    response: HttpResponse = Client(enforce_csrf_checks=True).post(f"{V2}/requests.{fmt}", form)
    return response


def as_json(response: HttpResponse, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == JSON
    return response.json()


def as_xml(response: HttpResponse, status: int = 200) -> ET.Element:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == XML
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 — our own response


def json_error(response: HttpResponse, status: int) -> str:
    body = as_json(response, status)
    assert isinstance(body, list) and len(body) >= 1 and body[0]["code"] == status
    assert set(body[0]) == {"code", "description"}
    description: str = body[0]["description"]
    return description


def xml_error(response: HttpResponse, status: int) -> str:
    root = as_xml(response, status)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"] * len(root) and len(root) >= 1
    assert [c.tag for c in root[0]] == ["code", "description"] and root[0].findtext("code") == str(status)
    return root[0].findtext("description") or ""


def valid_form(api_key: str, **extra: str) -> dict[str, str]:
    form = {
        "api_key": api_key,
        "service_code": "pothole",
        "lat": str(NEAR_CHEONGUN[0]),
        "long": str(NEAR_CHEONGUN[1]),
        "address_string": "자하문로 92 앞",
        "description": "차도 가장자리에 깊은 포트홀이 있어요",
        "attribute[depth_cm]": "12",
        "device_id": "tt222111",
        "media_url": "http://example.com/pothole.jpg",
        **REPORTER,
    }
    form.update(extra)
    return form


def file_report(site: Site, **extra: Any) -> HazardReport:
    return services.submit_report(report_data(**extra), site=site, file_anyway=True)


# --- discovery ---------------------------------------------------------------------------------------------


def test_discovery_lists_one_production_endpoint_in_json_and_xml() -> None:
    body = as_json(Client().get("/open311/discovery.json"))
    assert list(body) == ["changeset", "contact", "key_service", "endpoints"]
    assert body["changeset"] == open311.CHANGESET and "관리자" in body["contact"]
    assert "http://testserver/account/" in body["key_service"]
    assert body["endpoints"] == [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://testserver/open311/v2",
            "changeset": open311.CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
    ]
    english = as_json(Client().get("/open311/discovery.json", {"locale": "en"}))
    assert "site administrator" in english["key_service"]

    root = as_xml(Client().get("/open311/discovery.xml"))
    assert root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    (endpoint,) = root.iterfind("endpoints/endpoint")
    assert endpoint.findtext("url") == "http://testserver/open311/v2"
    assert [f.text for f in endpoint.iterfind("formats/format")] == ["text/xml", "application/json"]


def test_an_unknown_format_is_a_404_in_xml_and_a_wrong_method_a_405() -> None:
    assert "Unknown format .html" in xml_error(Client().get("/open311/discovery.html"), 404)
    response = Client().post(f"{V2}/services.json")
    assert "Use GET, HEAD" in json_error(response, 405)
    assert response["Allow"] == "GET, HEAD"


# --- services ----------------------------------------------------------------------------------------------


def test_the_service_list_is_the_sites_categories_in_korean_unless_english_is_asked_for(site: Site) -> None:
    response = get("services")
    body = as_json(response)
    assert response["Content-Language"] == "ko"
    by_code = {s["service_code"]: s for s in body}
    assert {"pothole", "blocked_drain", "streetlight"} <= set(by_code)
    assert all(list(s) == SERVICE_FIELDS for s in body)
    assert by_code["pothole"] == {
        "service_code": "pothole",
        "service_name": "도로 파손·포트홀",
        "description": "차도·인도의 파손, 꺼짐, 포트홀",
        "metadata": True,
        "type": "realtime",
        "keywords": "pothole, road, pavement, 포트홀, 도로",
        "group": "road",
    }
    assert by_code["slope"]["metadata"] is False  # no questions: no need to fetch its definition

    by_locale = {s["service_code"]: s for s in as_json(get("services", locale="en"))}
    assert by_locale["pothole"]["service_name"] == "Pothole or broken road"
    assert by_locale["pothole"]["description"] == "Broken, sunken or pitted road or pavement"
    response = Client().get(f"{V2}/services.json", headers={"accept-language": "en-US,en;q=0.9"})
    assert {s["service_code"]: s for s in as_json(response)}["pothole"]["service_name"] == "Pothole or broken road"
    assert response["Content-Language"] == "en" and "Accept-Language" in response["Vary"]


def test_the_service_list_in_xml(site: Site) -> None:
    root = as_xml(get("services", "xml"))
    assert root.tag == "services" and {c.tag for c in root} == {"service"}
    pothole = next(s for s in root if s.findtext("service_code") == "pothole")
    assert [c.tag for c in pothole] == SERVICE_FIELDS
    assert pothole.findtext("service_name") == "도로 파손·포트홀"
    assert pothole.findtext("metadata") == "true" and pothole.findtext("type") == "realtime"
    slope = next(s for s in root if s.findtext("service_code") == "slope")
    assert slope.findtext("metadata") == "false"


def test_a_service_definition_lists_its_attributes_in_spec_order(site: Site) -> None:
    body = as_json(get("services/blocked_drain"))
    assert body == {
        "service_code": "blocked_drain",
        "attributes": [
            {
                "variable": True,
                "code": "water_now",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": None,
                "order": 1,
                "description": "지금 물이 고여 있나요?",
                "values": [{"key": "yes", "name": "예"}, {"key": "no", "name": "아니요"}],
            }
        ],
    }
    assert list(body["attributes"][0]) == [
        "variable", "code", "datatype", "required", "datatype_description", "order", "description", "values",
    ]  # fmt: skip
    (depth,) = as_json(get("services/pothole"))["attributes"]
    assert (depth["code"], depth["datatype"], depth["required"]) == ("depth_cm", "number", False)
    assert depth["datatype_description"] == "센티미터" and depth["values"] == []


def test_a_service_definition_in_xml(site: Site) -> None:
    root = as_xml(get("services/blocked_drain", "xml"))
    assert root.tag == "service_definition" and [c.tag for c in root] == ["service_code", "attributes"]
    (attribute,) = root.iterfind("attributes/attribute")
    assert attribute.findtext("variable") == "true" and attribute.findtext("required") == "true"
    assert attribute.findtext("datatype") == "singlevaluelist" and attribute.findtext("order") == "1"
    assert attribute.find("datatype_description") is not None and attribute.findtext("datatype_description") == ""
    values = [(v.findtext("key"), v.findtext("name")) for v in attribute.iterfind("values/value")]
    assert values == [("yes", "예"), ("no", "아니요")]


def test_an_unknown_service_code_is_a_404(site: Site) -> None:
    assert "no_such_thing" in json_error(get("services/no_such_thing"), 404)
    assert "no_such_thing" in xml_error(get("services/no_such_thing", "xml"), 404)


# --- jurisdictions -----------------------------------------------------------------------------------------


def test_with_two_sites_the_jurisdiction_is_required_and_must_exist(site: Site, other_site: Site) -> None:
    for path in ("services", "services/pothole", "requests", "requests/R-000001", "tokens/abc"):
        assert "jurisdiction_id was not provided" in json_error(get(path), 400), path
        assert "jongno" in xml_error(get(path, "xml"), 400), path
        assert "'nowhere' was not found" in json_error(get(path, jurisdiction_id="nowhere"), 404), path
        assert "'nowhere'" in xml_error(get(path, "xml", jurisdiction_id="nowhere"), 404), path
    rural = {s["service_code"] for s in as_json(get("services", jurisdiction_id="yangpyeong"))}
    urban = {s["service_code"] for s in as_json(get("services", jurisdiction_id="jongno"))}
    assert "flood_underpass" in urban and "flood_underpass" not in rural


def test_with_one_site_the_jurisdiction_is_optional_but_checked(site: Site) -> None:
    assert as_json(get("services")) == as_json(get("services", jurisdiction_id="jongno"))
    assert as_json(get("services", jurisdiction_id="")) == as_json(get("services"))  # empty means absent
    json_error(get("services", jurisdiction_id="seoul.go.kr"), 404)


# --- POST service request ----------------------------------------------------------------------------------


def test_posting_needs_a_valid_api_key_of_the_jurisdictions_site(
    site: Site, other_site: Site, make_user: MakeUser, api_key: str
) -> None:
    form = valid_form(api_key, jurisdiction_id="jongno")
    del form["api_key"]
    assert "api_key was not provided" in json_error(post(**form), 403)
    assert "api_key" in xml_error(post("xml", **form), 403)
    bad = {**form, "api_key": "ml_not-a-token"}
    assert json_error(post(**bad), 403) == "Invalid api_key received -- can't proceed with create_request."
    other_key = accounts.issue_api_token(make_user(Role.SITE_ADMIN, other_site), "theirs").plaintext
    assert "not for jurisdiction jongno" in json_error(post(**{**form, "api_key": other_key}), 403)
    in_url = Client().post(f"{V2}/requests.json?api_key={api_key}", form)
    assert "not in the URL" in json_error(in_url, 403)
    assert not HazardReport.objects.exists()


def test_a_post_without_service_code_or_location_is_refused(site: Site, api_key: str) -> None:
    form = valid_form(api_key)
    assert "service_code was not provided" in json_error(post(**{**form, "service_code": ""}), 400)
    assert "'sinkhole'" in xml_error(post("xml", **{**form, "service_code": "sinkhole"}), 404)
    nowhere = {k: v for k, v in form.items() if k not in ("lat", "long", "address_string")}
    assert json_error(post(**nowhere), 400) == "lat and long, address_string or address_id is required."
    assert xml_error(post("xml", **nowhere), 400) == "lat and long, address_string or address_id is required."
    lone_lat = {**nowhere, "lat": "37.58"}
    assert json_error(post(**lone_lat), 400) == "lat and long, address_string or address_id is required."
    assert "no address register" in json_error(post(**{**nowhere, "address_id": "545483"}), 400)
    assert "decimal degrees" in json_error(post(**{**form, "lat": "north"}), 400)
    assert json_error(post(**{**form, "lat": "35.1796", "long": "129.0756"}), 400).startswith("lat and long: ")
    assert not HazardReport.objects.exists()


def test_a_post_with_invalid_answers_or_contact_is_refused(site: Site, api_key: str) -> None:
    form = valid_form(api_key, service_code="blocked_drain")
    del form["attribute[depth_cm]"]
    assert json_error(post(**form), 400).startswith("attribute[water_now]: ")
    assert "attribute[water_now]" in xml_error(post("xml", **form), 400)
    assert "choose from" in json_error(post(**form, **{"attribute[water_now]": "maybe"}), 400)
    assert "no such question" in json_error(
        post(**form, **{"attribute[colour]": "red", "attribute[water_now]": "no"}), 400
    )
    pothole = valid_form(api_key)
    assert "attribute[depth_cm]: " in json_error(post(**{**pothole, "attribute[depth_cm]": "deep"}), 400)
    assert "at least 5 characters" in json_error(post(**{**pothole, "description": ""}), 400)
    assert json_error(post(**{**pothole, "phone": "12345"}), 400).startswith("phone: ")
    body = as_json(post(**{**pothole, "phone": "12345", "email": "not-an-address"}), 400)
    assert [e["description"].split(":")[0] for e in body] == ["phone", "email"]  # every problem at once
    assert not HazardReport.objects.exists()


def test_a_post_with_a_point_files_a_report_whose_reporter_stays_private(
    site: Site, api_key: str, integrator: User
) -> None:
    body = as_json(post(**valid_form(api_key)))
    assert len(body) == 1 and list(body[0]) == ["service_request_id", "service_notice", "account_id"]
    reference = body[0]["service_request_id"]
    assert re.fullmatch(r"R-\d{6}", reference)
    assert body[0]["service_notice"] == "처리 목표: 7일 이내" and body[0]["account_id"] is None

    report = HazardReport.objects.get(reference=reference)
    assert report.source == ReportSource.OPEN311 and report.area_id == CHEONGUN and not report.location_approximate
    assert report.attributes == {"depth_cm": "12"} and report.reporter == integrator
    assert not report.photos.exists()  # media_url is never fetched
    assert fields.decrypt(report.reporter_name_encrypted) == "Gildong Hong"
    assert fields.decrypt(report.reporter_phone_encrypted) == "01023456789"
    assert fields.decrypt(report.reporter_email_encrypted) == "gildong@example.kr"
    for stored in (report.reporter_name_encrypted, report.reporter_phone_encrypted, report.reporter_email_encrypted):
        assert "Gildong" not in stored and "2345" not in stored and "gildong" not in stored

    outputs = [
        get(path, fmt).content.decode()
        for path in ("requests", f"requests/{reference}", f"tokens/{report.token}")
        for fmt in ("json", "xml")
    ]
    assert all(reference in text for text in outputs)
    for secret in ("Gildong", "Hong", "2345", "gildong@example.kr"):
        assert not any(secret in text for text in outputs), secret

    # Open311 clients cannot be asked about reports nearby: a second report at the same point is filed too.
    second = as_json(post(**valid_form(api_key)))[0]["service_request_id"]
    assert second != reference and HazardReport.objects.count() == 2


def test_a_post_in_xml_with_a_dong_in_the_address_is_placed_approximately(site: Site, api_key: str) -> None:
    form = valid_form(api_key, address_string="종로구 사직동 사직로 100", locale="en")
    del form["lat"], form["long"]
    root = as_xml(post("xml", **form))
    assert root.tag == "service_requests"
    (request,) = root
    assert request.tag == "request" and [c.tag for c in request] == [
        "service_request_id",
        "service_notice",
        "account_id",
    ]
    assert request.findtext("service_notice") == "Target: dealt with within 7 days"
    assert request.find("account_id") is not None and request.findtext("account_id") == ""
    report = HazardReport.objects.get(reference=request.findtext("service_request_id"))
    assert report.area_id == SAJIK and report.location_approximate
    assert report.address == "종로구 사직동 사직로 100"
    unplaced = {**form, "address_string": "세종대로 1"}
    assert json_error(post(**unplaced), 400).startswith("address_string: ")


def test_a_multivaluelist_answer_is_sent_as_repeated_brackets(site: Site, api_key: str) -> None:
    services.categories(site)
    question = {
        "code": "signs",
        "datatype": "multivaluelist",
        "required": True,
        "order": 1,
        "description": "What do you see?",
        "values": [{"key": "cracks", "name": "Cracks"}, {"key": "rocks", "name": "Falling rocks"}],
    }
    HazardCategory.objects.filter(site=site, code="slope").update(attributes=[question])
    form = valid_form(api_key, service_code="slope")
    del form["attribute[depth_cm]"]
    response = Client().post(f"{V2}/requests.json", {**form, "attribute[signs][]": ["cracks", "rocks"]})
    reference = as_json(response)[0]["service_request_id"]
    assert HazardReport.objects.get(reference=reference).attributes == {"signs": ["cracks", "rocks"]}


# --- tokens ------------------------------------------------------------------------------------------------


def test_a_token_gives_its_service_request_id(site: Site) -> None:
    report = file_report(site)
    assert as_json(get(f"tokens/{report.token}")) == [{"service_request_id": report.reference, "token": report.token}]
    root = as_xml(get(f"tokens/{report.token}", "xml"))
    assert root.tag == "service_requests" and [c.tag for c in root[0]] == ["service_request_id", "token"]
    assert root[0].findtext("service_request_id") == report.reference
    assert "token" in json_error(get("tokens/unknown"), 404)
    xml_error(get("tokens/unknown", "xml"), 404)


# --- GET service requests ----------------------------------------------------------------------------------


def test_a_service_request_has_every_field_in_spec_order(site: Site) -> None:
    report = file_report(site, address="")
    (item,) = as_json(get("requests"))
    assert list(item) == REQUEST_FIELDS
    assert item["service_request_id"] == report.reference and item["status"] == "open"
    assert item["status_notes"] is None and item["service_code"] == "pothole"
    assert item["service_name"] == "도로 파손·포트홀" and item["agency_responsible"] == "도로과"
    assert item["description"] == "차도 가장자리에 깊은 포트홀이 있어요"
    assert item["service_notice"] == "처리 목표: 7일 이내"
    assert all(W3_SEOUL.match(item[k]) for k in ("requested_datetime", "updated_datetime", "expected_datetime"))
    assert item["requested_datetime"] == timezone.localtime(report.created_at).isoformat(timespec="seconds")
    assert item["address"] == "서울특별시 종로구 청운효자동"  # no address given: the dong
    assert item["address_id"] is None and item["zipcode"] is None
    assert (item["lat"], item["long"]) == NEAR_CHEONGUN and item["media_url"] is None
    english = as_json(get("requests", locale="en"))[0]
    assert english["service_name"] == "Pothole or broken road" and english["agency_responsible"] == "Roads department"


def test_service_requests_in_xml(site: Site) -> None:
    first = file_report(site)
    second = file_report(site, category="streetlight", description="가로등이 밤새 꺼져 있어요")
    root = as_xml(get("requests", "xml"))
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request", "request"]
    assert [r.findtext("service_request_id") for r in root] == [second.reference, first.reference]  # newest first
    assert all([c.tag for c in r] == REQUEST_FIELDS for r in root)
    assert root[0].findtext("status") == "open" and root[0].findtext("lat") == str(NEAR_CHEONGUN[0])
    assert root[0].find("address_id") is not None and root[0].findtext("address_id") == ""


def test_the_photo_is_linked_only_once_an_official_makes_it_public(site: Site) -> None:
    report = services.submit_report(report_data(), site=site, photo_files=[jpeg()])
    assert as_json(get(f"requests/{report.reference}"))[0]["media_url"] is None
    HazardReport.objects.filter(pk=report.pk).update(photos_public=True)
    photo = report.photos.get()
    expected = f"http://testserver/hazards/photos/{photo.pk}/"
    assert as_json(get(f"requests/{report.reference}"))[0]["media_url"] == expected
    assert as_xml(get(f"requests/{report.reference}", "xml"))[0].findtext("media_url") == expected


def test_the_default_window_is_the_last_90_days_and_dates_select_older_ones(site: Site) -> None:
    recent = file_report(site)
    old = file_report(site, description="오래된 신고입니다, 포트홀")
    old_time = timezone.now() - timedelta(days=100)
    HazardReport.objects.filter(pk=old.pk).update(created_at=old_time, updated_at=old_time)
    assert [r["service_request_id"] for r in as_json(get("requests"))] == [recent.reference]
    start = (old_time - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (old_time + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    found = as_json(get("requests", start_date=start, end_date=end))
    assert [r["service_request_id"] for r in found] == [old.reference]
    only_start = as_json(get("requests", start_date=start))  # 90 days from start_date
    assert [r["service_request_id"] for r in only_start] == [old.reference]
    seoul = timezone.localtime(old_time - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+09:00")
    raw = Client().get(f"{V2}/requests.json?start_date={seoul}")  # "+" left unencoded arrives as a space
    assert [r["service_request_id"] for r in as_json(raw)] == [old.reference]


def test_malformed_or_too_wide_dates_are_refused(site: Site) -> None:
    assert "start_date: use the w3 format" in json_error(get("requests", start_date="yesterday"), 400)
    assert "w3 format" in xml_error(get("requests", "xml", start_date="2026-11-01"), 400)
    assert "w3 format" in json_error(get("requests", end_date="2026-11-01T00:00:00"), 400)  # no timezone
    assert "w3 format" in json_error(get("requests", end_date="2026-13-01T00:00:00Z"), 400)
    wide = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    assert "90 days" in json_error(get("requests", **wide), 400)
    backwards = {"start_date": "2026-06-01T00:00:00+09:00", "end_date": "2026-05-01T00:00:00+09:00"}
    assert "before start_date" in json_error(get("requests", **backwards), 400)


def test_service_code_and_status_filter_and_service_request_id_overrides_them(site: Site) -> None:
    pothole = file_report(site)
    light = file_report(site, category="streetlight", description="가로등이 밤새 꺼져 있어요")
    HazardReport.objects.filter(pk=pothole.pk).update(status=ReportStatus.RESOLVED, status_notes="메웠습니다")

    def refs(**params: str) -> list[str]:
        return [r["service_request_id"] for r in as_json(get("requests", **params))]

    assert refs(service_code="streetlight") == [light.reference]
    assert refs(service_code="pothole,streetlight") == [light.reference, pothole.reference]
    assert refs(service_code="sinkhole") == []
    assert refs(status="open") == [light.reference]
    assert refs(status="closed") == [pothole.reference]
    assert refs(status="open,closed") == refs(status="") == [light.reference, pothole.reference]
    assert "status: use open, closed" in json_error(get("requests", status="resolved"), 400)
    closed = as_json(get("requests", status="closed"))[0]
    assert closed["status"] == "closed" and closed["status_notes"] == "메웠습니다" and closed["service_notice"] is None

    old_time = timezone.now() - timedelta(days=200)
    HazardReport.objects.filter(pk=pothole.pk).update(created_at=old_time)
    overriding = {"service_code": "streetlight", "status": "open", "start_date": "nonsense"}
    assert refs(service_request_id=f"{pothole.reference},R-999999", **overriding) == [pothole.reference]
    assert refs(service_request_id=f"{pothole.reference},{light.reference}") == [light.reference, pothole.reference]


def test_at_most_the_limit_of_requests_is_returned_newest_first(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    made = [file_report(site, description=f"포트홀 신고 {n}번") for n in range(3)]
    monkeypatch.setattr(open311, "MAX_REQUESTS", 2)
    assert [r["service_request_id"] for r in as_json(get("requests"))] == [made[2].reference, made[1].reference]


def test_one_service_request_is_a_list_of_one_and_an_unknown_one_a_404(site: Site, other_site: Site) -> None:
    report = file_report(site)
    theirs = services.submit_report(
        report_data(latitude=None, longitude=None, address="양평군 양평읍 시민로 1"), site=other_site
    )
    body = as_json(get(f"requests/{report.reference}", jurisdiction_id="jongno"))
    assert len(body) == 1 and body[0]["service_request_id"] == report.reference
    root = as_xml(get(f"requests/{report.reference}", "xml", jurisdiction_id="jongno"))
    assert root.tag == "service_requests" and len(root) == 1 and root[0].tag == "request"
    assert root[0].findtext("service_request_id") == report.reference
    assert "'R-999999'" in json_error(get("requests/R-999999", jurisdiction_id="jongno"), 404)
    xml_error(get(f"requests/{theirs.reference}", "xml", jurisdiction_id="jongno"), 404)  # another site's
    assert as_json(get(f"requests/{theirs.reference}", jurisdiction_id="yangpyeong"))[0]["address"].startswith("양평")


def test_korean_names_are_stored_family_name_first() -> None:
    from maeul.safety.open311 import _full_name

    assert _full_name("길동", "홍") == "홍길동"
    assert _full_name("Gildong", "Hong") == "Gildong Hong"
    assert _full_name("", "홍") == "홍"

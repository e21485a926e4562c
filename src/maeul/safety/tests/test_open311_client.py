"""Open311 against a third-party client: the PyPI ``georeport`` package, over a real HTTP server.

The client picks the format by suffix, parses JSON as-is and XML with xmltodict, and indexes into the
spec's envelopes; so these tests fail if the shapes drift from what clients in the wild expect.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone
from georeport import GeoReport
from pytest_django.live_server_helper import LiveServer

from maeul.safety import services
from maeul.safety.models import HazardReport, ReportStatus
from maeul.safety.tests.conftest import report_data
from maeul.sites.models import Site

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reports(site: Site) -> tuple[HazardReport, HazardReport]:
    pothole = services.submit_report(report_data(), site=site)
    light = services.submit_report(
        report_data(category="streetlight", description="가로등이 밤새 꺼져 있어요"), site=site
    )
    HazardReport.objects.filter(pk=light.pk).update(status=ReportStatus.RESOLVED, status_notes="교체했습니다")
    return pothole, light


def client(live_server: LiveServer, **options: Any) -> GeoReport:
    return GeoReport(f"{live_server.url}/open311/v2/", **options)


def test_the_client_lists_services_and_reads_a_definition_in_json_and_xml(live_server: LiveServer, site: Site) -> None:
    as_json = client(live_server)
    listed = {s["service_code"]: s for s in as_json.get_service_list()}
    assert listed["pothole"]["service_name"] == "도로 파손·포트홀" and listed["pothole"]["metadata"] is True
    definition = as_json.get_service_definition("blocked_drain")
    (water,) = definition["attributes"]
    assert (water["code"], water["required"]) == ("water_now", True)
    assert [v["key"] for v in water["values"]] == ["yes", "no"]

    as_xml = client(live_server, output_format="xml", jurisdiction="jongno")
    listed_xml = {s["service_code"]: s for s in as_xml.get_service_list()}
    assert listed_xml.keys() == listed.keys()
    assert listed_xml["pothole"]["metadata"] == "true" and listed_xml["slope"]["metadata"] == "false"
    definition_xml = as_xml.get_service_definition("blocked_drain")
    assert definition_xml["service_code"] == "blocked_drain"
    attribute = definition_xml["attributes"]["attribute"]  # one attribute: xmltodict gives a dict
    assert attribute["code"] == "water_now" and attribute["datatype"] == "singlevaluelist"
    assert [v["key"] for v in attribute["values"]["value"]] == ["yes", "no"]


def test_the_client_searches_and_reads_service_requests(
    live_server: LiveServer, reports: tuple[HazardReport, HazardReport]
) -> None:
    pothole, light = reports
    as_json = client(live_server)
    assert [r["service_request_id"] for r in as_json.get_service_requests()] == [light.reference, pothole.reference]
    (open_one,) = as_json.get_service_requests(status="open", service_code="pothole,streetlight")
    assert open_one["service_request_id"] == pothole.reference and open_one["agency_responsible"] == "도로과"
    yesterday = (timezone.now() - timedelta(days=1)).isoformat(timespec="seconds")
    (closed,) = as_json.get_service_requests(status="closed", start_date=yesterday)
    assert closed["service_request_id"] == light.reference and closed["status_notes"] == "교체했습니다"
    by_id = as_json.get_service_requests(service_request_id=f"{pothole.reference},{light.reference}", status="open")
    assert {r["service_request_id"] for r in by_id} == {pothole.reference, light.reference}
    one = as_json.get_service_request(pothole.reference)
    assert one["status"] == "open" and one["service_code"] == "pothole" and one["lat"] == pothole.latitude

    as_xml = client(live_server, output_format="xml")
    listed = as_xml.get_service_requests(service_code="streetlight")
    assert listed["service_request_id"] == light.reference and listed["status"] == "closed"  # one: a dict
    assert len(as_xml.get_service_requests()) == 2
    one_xml = as_xml.get_service_request(pothole.reference)
    assert one_xml["service_request_id"] == pothole.reference and one_xml["address_id"] is None
    with pytest.raises(requests.HTTPError, match="404"):
        as_json.get_service_request("R-999999")

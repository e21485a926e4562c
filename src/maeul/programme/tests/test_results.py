"""Sites' results: computed from the other modules through the registry, against baselines, with small counts and
the cells that would reveal them hidden; and nothing person-level reaches the ministry, on any page or API call."""

from __future__ import annotations

import contextlib
import io
import re
import zlib
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from maeul.accounts.policy import MATRIX, Resource
from maeul.accounts.roles import Role
from maeul.conftest import signed_in
from maeul.programme import kpis, results, services
from maeul.programme.models import Baseline, Grant
from maeul.protection import disclosure, fields
from maeul.safety.models import HazardReport, ReportStatus
from maeul.sites.models import Site

# Resources that hold residents' (or helpers', members', reporters') records; the ministry has none of them.
PERSON_LEVEL = {
    Resource.HOUSEHOLD,
    Resource.AUDIT,
    Resource.HAZARD,
    Resource.SAFETY_BODY,
    Resource.DEVICE,
    Resource.ALERT,
    Resource.HELPER,
    Resource.CHECK_IN,
    Resource.CASE,
    Resource.REFERRAL,
    Resource.MEMBERS,
}


def test_small_counts_and_the_cells_that_would_reveal_them_are_hidden() -> None:
    hidden, total_hidden = disclosure.hidden_cells({"a": 3, "b": 40, "c": 12, "d": 0})
    assert hidden == {"a", "c"} and not total_hidden  # c hidden too: total − b − d would give a back
    hidden, total_hidden = disclosure.hidden_cells({"a": 2, "b": 1, "c": 30})
    assert hidden == {"a", "b", "c"} and not total_hidden  # a + b = 3 alone would be a small count
    assert disclosure.hidden_cells({"a": 2, "b": 1}) == ({"a", "b"}, True)  # then only hiding the total protects
    assert disclosure.hidden_cells({"a": 7, "b": 9}) == (set(), False)
    assert disclosure.share_disclosive(3, 40)  # 3 of 40 gives the 3 away once 40 is known
    assert disclosure.share_disclosive(38, 40)  # and so does 38 of 40 (2 did not)
    assert not disclosure.share_disclosive(12, 40)


def test_every_kpi_names_a_function_of_another_app() -> None:
    for definition in kpis.REGISTRY:
        assert callable(definition.load())
        assert not definition.source.startswith("maeul.programme")


def test_the_ministry_holds_no_person_level_resource() -> None:
    assert PERSON_LEVEL.isdisjoint(MATRIX[Role.MINISTRY])


def test_the_programme_on_the_demo_sites(reference: None) -> None:
    """One demo load (it takes a while) for every check that needs the demo's sites, competition and grants."""
    from maeul.web import demo

    demo.load_demo(households=12)
    loaded = {"ministry": User.objects.get(username="ministry")}
    check_the_national_dashboard_shows_kpis_computed_from_three_demo_sites(loaded)
    check_no_page_or_api_call_available_to_the_ministry_exposes_a_person_level_record(loaded)
    check_the_site_report_exports_to_pdf_with_korean_type_and_to_xlsx(loaded)
    check_a_site_administrator_sees_only_its_own_report()
    check_a_baseline_is_measured_once_and_kept(loaded)


def _personal_strings() -> set[str]:
    """Every name, phone number and home address in the demo, decrypted."""
    from maeul.people.models import EmergencyContact, Household, Person
    from maeul.safety.models import BodyMember
    from maeul.safetynet.models import Helper

    found: set[str] = set()
    for person in Person.objects.all():
        found.add(fields.decrypt(person.name_encrypted))
        if person.phone_encrypted:
            found.add(fields.decrypt(person.phone_encrypted))
    for contact in EmergencyContact.objects.all():
        found.update(fields.decrypt(v) for v in (contact.name_encrypted, contact.phone_encrypted) if v)
    for household in Household.objects.all():
        found.add(fields.decrypt(household.address_encrypted))
    for helper in Helper.objects.all():
        found.update(fields.decrypt(v) for v in (helper.name_encrypted, helper.phone_encrypted) if v)
    for member in BodyMember.objects.all():
        found.update(fields.decrypt(v) for v in (member.name_encrypted, member.phone_encrypted) if v)
    return {s for s in found if s and len(s) >= 3}


def _inflated(document: bytes) -> bytes:
    """A PDF's streams decompressed (its font names sit in compressed object streams)."""
    out = [document]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", document, re.DOTALL):
        with contextlib.suppress(zlib.error):
            out.append(zlib.decompress(match.group(1)))
    return b"".join(out)


def _concrete(route: str, ids: dict[str, list[int | str]]) -> list[str]:
    """The route with each parameter replaced by real identifiers (a few of each), or by 1."""
    params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
    if not params:
        return ["/" + route]
    paths = ["/" + route]
    for _converter, name in params:
        values = ids.get(name, [1])
        paths = [re.sub(rf"<(?:\w+:)?{name}>", str(v), p, count=1) for p in paths for v in values[:2]]
    return paths


def check_the_national_dashboard_shows_kpis_computed_from_three_demo_sites(demo: dict[str, Any]) -> None:
    client = signed_in(demo["ministry"])
    page = client.get("/programme/dashboard/")
    assert page.status_code == 200
    matrix = page.context["matrix"]
    assert len(matrix.rows) >= 3
    with_figures = [
        row for row in matrix.rows if sum(1 for c in row.ordered if c.current.state == results.State.SHOWN) >= 2
    ]
    assert len(with_figures) >= 3
    # A figure is what the safety app computes for that site since its launch, per 30 days.
    haeundae = next(r for r in matrix.rows if r.grant.site.slug == "haeundae")
    reported = HazardReport.objects.filter(
        site=haeundae.grant.site,
        created_at__gte=timezone.make_aware(timezone.datetime.combine(haeundae.since, timezone.datetime.min.time())),
    ).count()
    cell = haeundae.cells["hazards_reported"]
    assert cell.current.state == results.State.SHOWN
    assert cell.current.value == round(reported * 30 / (haeundae.until - haeundae.since).days, 1)
    assert cell.baseline.state == results.State.SHOWN  # reports were filed before launch too
    minutes = haeundae.cells["alert_minutes_to_response"]
    assert minutes.current.state == results.State.SHOWN and 4 <= (minutes.current.value or 0) <= 50
    assert Baseline.objects.filter(site=haeundae.grant.site).count() == len(kpis.REGISTRY)
    body = page.content.decode()
    assert "해운대구" in body and "순천시" in body and "종로구" in body


def check_no_page_or_api_call_available_to_the_ministry_exposes_a_person_level_record(demo: dict[str, Any]) -> None:
    from maeul.accounts.tests.test_routes import _declarations
    from maeul.people.models import Household
    from maeul.watch.models import Alert

    personal = _personal_strings()
    assert len(personal) > 50
    site_ids = list(Site.objects.values_list("pk", flat=True))
    ids: dict[str, list[int | str]] = {
        "household_id": list(Household.objects.values_list("pk", flat=True)[:2]),
        "site_id": site_ids,
        "alert_id": list(Alert.objects.values_list("pk", flat=True)[:2]),
        "report_id": list(HazardReport.objects.values_list("pk", flat=True)[:2]),
        "grant_id": list(Grant.objects.values_list("pk", flat=True)[:2]),
        "code": ["1111051500"],
        "area_code": ["1111051500"],
        "year": [timezone.localdate().year],
        "fmt": ["json"],
    }
    client: Client = signed_in(demo["ministry"])
    seen = 0
    for route, method, _declaration in _declarations():
        if method not in ("*", "GET") or route.startswith(("admin/", "account/logout", "i18n/")):
            continue
        for path in _concrete(route, ids):
            path = path.replace("//", "/")
            for query in ("", "?format=xlsx", "?format=csv"):
                response = client.get(path + query)
                if response.status_code != 200 or response.get("Content-Type", "").startswith("application/pdf"):
                    continue
                seen += 1
                if "spreadsheetml" in response.get("Content-Type", ""):
                    book = load_workbook(io.BytesIO(response.content))
                    text = " ".join(str(c) for s in book for row in s.iter_rows(values_only=True) for c in row if c)
                else:
                    text = (
                        b"".join(response.streaming_content).decode(errors="ignore")
                        if response.streaming
                        else response.content.decode(errors="ignore")
                    )
                leaked = sorted(s for s in personal if s in text)
                assert not leaked, f"{path}{query} shows {leaked[:3]}"
    assert seen > 20


def check_the_site_report_exports_to_pdf_with_korean_type_and_to_xlsx(demo: dict[str, Any]) -> None:
    client = signed_in(demo["ministry"])
    site = Site.objects.get(slug="haeundae")
    pdf = client.get(f"/programme/sites/{site.pk}/report/?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"NotoSansCJK" in _inflated(pdf.content)  # the Korean text is set in the Noto CJK font, embedded
    xlsx = client.get(f"/programme/sites/{site.pk}/report/?format=xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "부산광역시 해운대구"
    assert [r[0] for r in rows[4:7]] == ["안전 위험 신고", "위험 신고 처리 일수 중앙값", "완료한 안전 개선 과제"]


def check_a_site_administrator_sees_only_its_own_report() -> None:
    admin = signed_in(User.objects.get(username="haeundae-admin"))
    own = Site.objects.get(slug="haeundae")
    other = Site.objects.get(slug="suncheon")
    assert admin.get(f"/programme/sites/{own.pk}/report/").status_code == 200
    assert admin.get(f"/programme/sites/{other.pk}/report/").status_code == 404
    assert admin.get("/programme/dashboard/").status_code == 302
    api = admin.get("/api/v1/programme/results").json()
    assert [s["site_id"] for s in api["sites"]] == [own.pk] and api["totals"] == []


def check_a_baseline_is_measured_once_and_kept(demo: dict[str, Any]) -> None:
    from maeul.conftest import actor_of

    grant = Grant.objects.get(site__slug="suncheon")
    kept = {b.kpi: b.value for b in Baseline.objects.filter(site=grant.site)}
    report = HazardReport.objects.filter(site=grant.site, status=ReportStatus.RESOLVED).first()
    assert report is not None
    assert services.measure_baseline(actor_of(demo["ministry"]), grant.pk) == []  # nothing new to measure
    assert {b.kpi: b.value for b in Baseline.objects.filter(site=grant.site)} == kept
    assert grant.launch_date is not None and grant.launch_date < date.today() + timedelta(days=1)

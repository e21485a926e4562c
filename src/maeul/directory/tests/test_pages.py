"""Directory pages and API: search with htmx, details, forms, import with precise errors, exports, permissions."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, MakeUser, signed_in
from maeul.directory import hsds
from maeul.directory.models import Organization, OrganizationStaff, Service
from maeul.directory.tests.conftest import example
from maeul.sites.models import Site

pytestmark = pytest.mark.django_db


def test_search_page_and_htmx_results(official: User, meal_service: Service, disability_service: Service) -> None:
    client = signed_in(official)
    page = client.get("/directory/")
    assert page.status_code == 200
    assert "어르신 도시락 배달" in page.content.decode() and "Import HSDS" not in page.content.decode()
    partial = client.get("/directory/", {"need": "food", "area": CHEONGUN, "age": "70"}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "<html" not in body and "어르신 도시락 배달" in body and "장애인 활동지원" not in body
    assert "10 / 10" in body


def test_detail_pages(helper: User, meal_service: Service) -> None:
    client = signed_in(helper)
    assert "어르신 도시락 배달" in client.get(f"/directory/services/{meal_service.id}/").content.decode()
    org_page = client.get(f"/directory/organizations/{meal_service.organization_id}/").content.decode()
    assert "종로 푸드뱅크" in org_page and "Partner staff accounts" not in org_page


def test_partner_staff_see_the_directory(partner: User, meal_service: Service) -> None:
    assert signed_in(partner).get(f"/directory/services/{meal_service.id}/").status_code == 200


def test_other_sites_pages_are_not_found(meal_service: Service, other_site: Site, make_user: MakeUser) -> None:
    client = signed_in(make_user(Role.SITE_ADMIN, other_site))
    assert client.get(f"/directory/services/{meal_service.id}/").status_code == 404
    assert client.get(f"/directory/organizations/{meal_service.organization_id}/").status_code == 404


def test_site_admin_adds_organisation_service_and_staff(site_admin: User, partner: User) -> None:
    client = signed_in(site_admin)
    response = client.post("/directory/organizations/new/", {"name": "청운 복지관", "description": "종합사회복지관"})
    org = Organization.objects.get(name="청운 복지관")
    assert response.status_code == 302 and response["Location"].endswith(f"/directory/organizations/{org.id}/")
    response = client.post(
        f"/directory/organizations/{org.id}/services/new/",
        {
            "name": "밑반찬 나눔",
            "status": "active",
            "needs": ["food"],
            "minimum_age": "65",
            "disability": "any",
            "area_codes": [CHEONGUN],
            "capacity": "20",
        },
    )
    service = Service.objects.get(name="밑반찬 나눔")
    assert response.status_code == 302 and service.need_list == ["food"] and service.capacity == 20
    bad = client.post(
        f"/directory/services/{service.id}/edit/",
        {"name": "밑반찬 나눔", "status": "active", "disability": "any", "minimum_age": "80", "maximum_age": "70"},
    )
    assert bad.status_code == 200 and "minimum age is above the maximum age" in bad.content.decode()
    client.post(f"/directory/organizations/{org.id}/staff/", {"user_id": partner.pk})
    assert OrganizationStaff.objects.filter(organization=org, user=partner).exists()


def test_officials_and_helpers_cannot_use_admin_pages(official: User, helper: User, food_bank: Organization) -> None:
    for user in (official, helper):
        client = signed_in(user)
        assert client.get("/directory/import/").status_code == 403
        assert client.get("/directory/organizations/new/").status_code == 403
        assert client.get(f"/directory/organizations/{food_bank.id}/edit/").status_code == 403
    assert signed_in(helper).get("/directory/export.zip").status_code == 403
    assert signed_in(official).get("/directory/export.zip").status_code == 200


def test_import_page_lists_precise_problems(site_admin: User) -> None:
    data = json.loads(example("organization_list.json"))
    data["contents"][0]["email"] = "nobody"
    upload = SimpleUploadedFile("orgs.json", json.dumps(data).encode(), content_type="application/json")
    response = signed_in(site_admin).post("/directory/import/", {"file": upload})
    body = response.content.decode()
    assert response.status_code == 200 and "orgs.json" in body and "/contents/0/email" in body
    assert Organization.objects.count() == 0


def test_import_page_imports_and_exports_download(site_admin: User) -> None:
    client = signed_in(site_admin)
    upload = SimpleUploadedFile("org.json", example("organization_full.json"), content_type="application/json")
    assert client.post("/directory/import/", {"file": upload}).status_code == 302
    exported = json.loads(client.get("/directory/export.json", {"kind": "service"}).content)
    assert [list(hsds.validator("service").iter_errors(s)) for s in exported["contents"]] == [[]]
    archive = zipfile.ZipFile(io.BytesIO(client.get("/directory/export.zip").content))
    assert "services.csv" in archive.namelist()


def test_api_search_detail_import_export(site_admin: User, helper: User, meal_service: Service) -> None:
    api = signed_in(helper)
    found = api.get("/api/v1/directory/services", {"need": "food", "age": 70}).json()
    assert [s["name"] for s in found] == ["어르신 도시락 배달"] and found[0]["capacity_left"] == 10
    assert api.get(f"/api/v1/directory/services/{meal_service.id}").json()["needs"] == ["food", "isolation"]
    assert [o["name"] for o in api.get("/api/v1/directory/organizations").json()] == ["종로 푸드뱅크"]
    upload = SimpleUploadedFile("s.json", example("service_list.json"))
    assert api.post("/api/v1/directory/import", {"file": upload}).status_code == 403
    admin = signed_in(site_admin)
    upload = SimpleUploadedFile("s.json", example("service_list.json"))
    created = admin.post("/api/v1/directory/import", {"file": upload})
    assert created.status_code == 201 and created.json()["services"] == 1
    bad = SimpleUploadedFile("s.json", b'{"contents": [{"id": "x"}]}')
    refused = admin.post("/api/v1/directory/import", {"file": bad})
    assert refused.status_code == 422 and refused["Content-Type"].startswith("application/problem+json")
    page = admin.get("/api/v1/directory/export", {"kind": "service"}).json()
    assert len(page["contents"]) == 2
    assert admin.get("/api/v1/directory/export", {"format": "zip"})["Content-Type"] == "application/zip"

"""HSDS 3.1 round trip: every official example imports, the export validates against the compiled schemas."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.contrib.auth.models import User

from maeul.audit.models import AuditEntry
from maeul.conftest import CHEONGUN, actor_of
from maeul.directory import hsds, services
from maeul.directory.models import HsdsRecord, Location, Organization, Phone, Service, ServiceAtLocation
from maeul.directory.services import HsdsRejected
from maeul.directory.tests.conftest import JSON_EXAMPLES, csv_files, example

pytestmark = pytest.mark.django_db


def _items(name: str) -> list[tuple[int, dict[str, Any]]]:
    data = json.loads(example(name))
    return list(enumerate(data["contents"], start=1)) if "contents" in data else [(1, data)]


def _valid(kind: str, item: dict[str, Any]) -> list[str]:
    errors = [*hsds.validator(kind).iter_errors(item), *hsds.validator(f"{kind}_list").iter_errors(item)]
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def _stored(kind: str, ident: str) -> bool:
    models = {"organization": Organization, "service": Service, "service_at_location": ServiceAtLocation}
    if kind == "location":
        return Location.objects.filter(pk=ident).exists()
    if kind in models:
        return models[kind].objects.filter(pk=ident).exists()
    return HsdsRecord.objects.filter(table=kind, record_id=ident).exists()


@pytest.mark.parametrize(("name", "kind"), JSON_EXAMPLES.items())
def test_every_item_of_every_official_json_example_imports(site_admin: User, name: str, kind: str) -> None:
    for number, item in _items(name):
        summary = services.import_hsds(actor_of(site_admin), json.dumps(item).encode(), source=f"{name} {number}")
        assert summary.items == 1
        assert _stored(kind, item["id"])


@pytest.mark.parametrize(("name", "kind"), JSON_EXAMPLES.items())
def test_whole_official_json_examples_import_as_list_and_package(site_admin: User, name: str, kind: str) -> None:
    summary = services.import_hsds(actor_of(site_admin), example(name), source=name)
    assert summary.items == len(_items(name))
    package = [item for _number, item in _items(name)]
    again = services.import_hsds(actor_of(site_admin), json.dumps(package).encode(), kind=kind)
    assert (again.items, again.records) == (len(package), summary.records)


def test_the_official_tabular_json_example_imports(site_admin: User) -> None:
    summary = services.import_hsds(actor_of(site_admin), example("tabular.json"), source="tabular.json")
    assert (summary.organizations, summary.services, summary.locations) == (1, 1, 1)
    location = Location.objects.get(pk="3a19ff88-4620-4d17-9830-ac1d859eb5d5")
    # The example links the location to an organisation it does not contain: the id is kept, no link is made.
    assert location.organization_id is None and location.hsds["organization_id"].startswith("985e4a42")
    assert location.hsds["external_identifier"] == "10092008082"


def test_the_official_organization_example_is_modelled(site_admin: User, site: Any) -> None:
    services.import_hsds(actor_of(site_admin), example("organization_full.json"))
    org = Organization.objects.get(pk="d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610")
    assert (org.site_id, org.name, org.alternate_name) == (site.id, "Example Organization Inc.", "Example Org")
    service = Service.objects.get(organization=org)
    assert (service.minimum_age, service.maximum_age) == (12, 100)
    assert service.hsds["wait_time"] == "wait_time"  # an unmodelled column survives
    location = Location.objects.get(organization=org)
    assert location.address.startswith("1-30 Main Street")
    assert Phone.objects.filter(organization=org).exists()
    assert HsdsRecord.objects.filter(table="funding", site=site).exists()
    assert service.need_list == []  # the example's taxonomy term is a placeholder ("code", "name")


def test_taxonomy_terms_suggest_need_domains(site_admin: User) -> None:
    item = json.loads(example("service_list.json"))["contents"][0]
    term = {
        "id": "0d7c3f1e-2b4a-4c5d-9e8f-1a2b3c4d5e6f",
        "code": "BD-1800",
        "name": "Food Pantries",
        "description": "Food",
    }
    item["attributes"] = [{"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "taxonomy_term": term}]
    services.import_hsds(actor_of(site_admin), json.dumps(item).encode(), kind="service")
    assert Service.objects.get(pk=item["id"]).need_list == ["food"]


def test_the_official_csv_package_imports_as_files_and_as_zip(site_admin: User) -> None:
    files = csv_files()
    summary = services.import_hsds(actor_of(site_admin), files)
    assert summary.organizations == 1 and summary.services == 1 and summary.locations == 1
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(f"hsds/{name}", content)
        archive.writestr("hsds/datapackage.json", '"../../datapackage.json"')
    again = services.import_hsds(actor_of(site_admin), buffer.getvalue())
    assert again.records == summary.records
    assert Service.objects.count() == 1  # re-import updates by id


def test_export_validates_against_the_compiled_schemas_and_round_trips(site_admin: User) -> None:
    actor = actor_of(site_admin)
    for name in JSON_EXAMPLES:
        services.import_hsds(actor, example(name))
    services.import_hsds(actor, example("tabular.json"))
    services.import_hsds(actor, csv_files())
    for kind in hsds.ROOT_KINDS:
        page = services.export_json(actor, kind)
        assert page["total_items"] == len(page["contents"]) > 0
        for item in page["contents"]:
            assert _valid(kind, item) == []
    org_page = services.export_json(actor, "organization")
    exported = next(o for o in org_page["contents"] if o["id"] == "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610")
    original = json.loads(example("organization_full.json"))
    assert exported["legal_status"] == original["legal_status"]
    assert {s["id"] for s in exported["services"]} >= {s["id"] for s in original["services"]}
    before = {m.__name__: m.objects.count() for m in (Organization, Service, Location, ServiceAtLocation, HsdsRecord)}
    exports = {kind: services.export_json(actor, kind) for kind in hsds.ROOT_KINDS}
    for kind, page in exports.items():
        services.import_hsds(actor, json.dumps(page).encode(), kind=kind)
    services.import_hsds(actor, services.export_package(actor))
    after = {m.__name__: m.objects.count() for m in (Organization, Service, Location, ServiceAtLocation, HsdsRecord)}
    assert after == before
    assert {kind: services.export_json(actor, kind) for kind in hsds.ROOT_KINDS} == exports


def test_the_csv_export_is_a_valid_tabular_package(site_admin: User) -> None:
    actor = actor_of(site_admin)
    services.import_hsds(actor, example("organization_full.json"))
    with zipfile.ZipFile(io.BytesIO(services.export_package(actor))) as archive:
        names = set(archive.namelist())
        descriptor = json.loads(archive.read("datapackage.json"))
        organizations = archive.read("organizations.csv").decode()
    assert {r["path"] for r in descriptor["resources"]} <= names
    assert "Example Organization Inc." in organizations
    parsed = hsds.read_upload(services.export_package(actor))
    assert parsed.problems == []
    tabular = {table: list(rows.values()) for table, rows in parsed.tables.rows.items()}
    errors = list(hsds.validator("tabular").iter_errors(tabular))
    assert [e.message for e in errors] == []


def test_maeul_eligibility_survives_the_json_round_trip(site_admin: User, meal_service: Service) -> None:
    actor = actor_of(site_admin)
    page = services.export_json(actor, "service")
    item = next(s for s in page["contents"] if s["id"] == str(meal_service.id))
    assert item["maeul"]["needs"] == ["food", "isolation"]
    assert _valid("service", item) == []
    Service.objects.filter(pk=meal_service.id).update(income_ceiling_percent=None, capacity=None)
    services.import_hsds(actor, json.dumps(page).encode(), kind="service")
    meal_service.refresh_from_db()
    assert (meal_service.income_ceiling_percent, meal_service.capacity) == (75, 10)
    assert [a.code for a in meal_service.areas.all()] == [CHEONGUN]


def test_bad_json_names_item_pointer_and_reason_and_stores_nothing(site_admin: User) -> None:
    data = json.loads(example("service_list.json"))
    good = data["contents"][0]
    bad = dict(good, id="e1ad2f43-34b7-4b3e-9e7e-4b1f0e8b8c01", status="open", email="not-an-email")
    data["contents"] = [good, bad]
    with pytest.raises(HsdsRejected) as caught:
        services.import_hsds(actor_of(site_admin), json.dumps(data).encode(), source="services.json")
    messages = {(p.source, p.row, p.pointer) for p in caught.value.problems}
    assert ("services.json", 2, "/contents/1/status") in messages
    assert ("services.json", 2, "/contents/1/email") in messages
    assert Organization.objects.count() == Service.objects.count() == 0
    assert not AuditEntry.objects.filter(action="import").exists()


def test_bad_csv_names_file_row_and_column_and_stores_nothing(site_admin: User) -> None:
    files = csv_files()
    lines = files["services.csv"].decode().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("id")] = "not-a-uuid"
    files["services.csv"] = "\n".join([lines[0], ",".join(row)]).encode()
    files["locations.csv"] = files["locations.csv"].replace(b"physical", b"moon")
    with pytest.raises(HsdsRejected) as caught:
        services.import_hsds(actor_of(site_admin), files)
    found = {(p.source, p.row, p.pointer) for p in caught.value.problems}
    assert ("services.csv", 2, "id") in found
    assert ("locations.csv", 2, "location_type") in found
    assert Organization.objects.count() == 0 and HsdsRecord.objects.count() == 0


def test_a_service_without_its_organisation_is_refused(site_admin: User) -> None:
    item = {"id": "5f0b5a9c-3f59-4c4e-8a62-0d1f8c3b2a10", "name": "Orphan", "status": "active"}
    with pytest.raises(HsdsRejected) as caught:
        services.import_hsds(actor_of(site_admin), json.dumps(item).encode(), kind="service")
    assert [p.pointer for p in caught.value.problems] == ["/organization_id"]
    assert Service.objects.count() == 0


def test_unreadable_uploads_are_refused_precisely(site_admin: User) -> None:
    with pytest.raises(HsdsRejected) as caught:
        services.import_hsds(actor_of(site_admin), b"{not json")
    assert "neither JSON nor a zip" in caught.value.problems[0].message
    with pytest.raises(HsdsRejected) as caught:
        services.import_hsds(actor_of(site_admin), {"people.csv": b"id\n1\n"})
    assert caught.value.problems[0].source == "people.csv"


def test_another_sites_records_are_not_taken_over(site_admin: User, other_site: Any, make_user: Any) -> None:
    from maeul.accounts.roles import Role

    services.import_hsds(actor_of(site_admin), example("organization_list.json"))
    other_admin = make_user(Role.SITE_ADMIN, other_site)
    with pytest.raises(HsdsRejected) as caught:
        services.import_hsds(actor_of(other_admin), example("organization_list.json"))
    assert "another site" in caught.value.problems[0].message

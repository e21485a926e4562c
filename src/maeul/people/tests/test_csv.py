from __future__ import annotations

import csv
import io

import pytest

from maeul.audit.models import AuditAction, AuditEntry
from maeul.conftest import CHEONGUN, SAJIK, actor_of
from maeul.people import services
from maeul.people.errors import ImportRejected, RegistryError
from maeul.people.models import Household

pytestmark = pytest.mark.django_db

HEADER = [
    "area_code",
    "address",
    "address_detail",
    "latitude",
    "longitude",
    "housing_type",
    "living_alone",
    "care_level",
    "name",
    "birth_year",
    "sex",
    "phone",
    "conditions",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
    "consent_given_on",
]


def _csv(rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in HEADER})
    return out.getvalue().encode(encoding)


def _row(**extra: str) -> dict[str, str]:
    row = {
        "area_code": CHEONGUN,
        "address": "서울특별시 종로구 자하문로 10",
        "housing_type": "semi_basement",
        "living_alone": "예",
        "care_level": "3",
        "name": "정옥순",
        "birth_year": "1938",
        "sex": "F",
        "phone": "010-3333-4444",
        "conditions": "dementia;mobility",
        "guardian_name": "정딸",
        "guardian_relation": "딸",
        "guardian_phone": "010-7777-8888",
        "consent_given_on": "2026-03-02",
    }
    row.update(extra)
    return row


def test_a_valid_file_imports_every_row(site_admin) -> None:  # type: ignore[no-untyped-def]
    content = _csv([_row(), _row(name="한복남", area_code=SAJIK, phone="")], encoding="cp949")
    created = services.import_households_csv(actor_of(site_admin), content)
    assert len(created) == 2
    view = services.read_household(actor_of(site_admin), created[0].pk)
    assert view.living_alone and view.housing_type == "semi_basement"
    assert view.persons[0].conditions == ["dementia", "mobility"]
    assert view.contacts[0].phone == "010-7777-8888"
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT, record_count=2).exists()


def test_one_bad_row_rejects_the_file_with_a_report_per_row(site_admin, household) -> None:  # type: ignore[no-untyped-def]
    content = _csv(
        [
            _row(),
            _row(phone="123"),
            _row(area_code="4183025000"),
            _row(birth_year="2099", consent_given_on=""),
            _row(housing_type="castle"),
        ]
    )
    with pytest.raises(ImportRejected) as rejected:
        services.import_households_csv(actor_of(site_admin), content)
    found = {(e.row, e.column) for e in rejected.value.errors}
    assert (3, "phone") in found
    assert (4, "area_code") in found
    assert (5, "birth_year") in found
    assert (6, "housing_type") in found
    assert Household.objects.count() == 1  # only the fixture's household: nothing partial


def test_unknown_and_missing_columns_are_named(site_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportRejected) as rejected:
        services.import_households_csv(actor_of(site_admin), "주소,이름\nx,y\n".encode())
    messages = {(e.column, e.message) for e in rejected.value.errors}
    assert ("area_code", "required column is missing") in messages
    assert ("주소", "unknown column") in messages


def test_export_needs_a_reason_and_is_logged_per_household(site_admin, household) -> None:  # type: ignore[no-untyped-def]
    actor = actor_of(site_admin)
    with pytest.raises(RegistryError, match="why"):
        services.export_households_csv(actor, services.HouseholdFilters(), " ")
    content, count = services.export_households_csv(actor, services.HouseholdFilters(), "폭염 대비 명단 점검")
    assert count == 1 and "김영자" in content and "010-2345-6789" in content
    summary = AuditEntry.objects.get(action=AuditAction.EXPORT, household_id=None)
    assert summary.reason == "폭염 대비 명단 점검" and summary.record_count == 1
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, household_id=household.id).exists()


@pytest.mark.parametrize(
    "content",
    [
        b"area_code,address,name,consent_given_on\r\n" + CHEONGUN.encode() + b',"Jahamun-ro\r10",A,2026-03-02\rX\n',
        b"area_code,address,name,consent_given_on\n" + CHEONGUN.encode() + b',"unterminated\x00,A,2026-03-02\n',
        b'area_code,address,name,consent_given_on\n"a"b,c\n',
    ],
)
def test_an_unreadable_file_is_refused_with_the_line_and_nothing_is_stored(site_admin, content: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportRejected) as rejected:
        services.import_households_csv(actor_of(site_admin), content)
    assert rejected.value.errors and all(e.row >= 0 for e in rejected.value.errors)
    assert not Household.objects.exists()

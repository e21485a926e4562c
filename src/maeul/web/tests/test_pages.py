"""Pages for every role, both languages, and a complete Korean catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.test import Client

from maeul.accounts.roles import SITELESS_ROLES, Role
from maeul.conftest import CHEONGUN, signed_in
from maeul.people.models import Household

SRC = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_every_role_has_a_home_page(site, make_user, household) -> None:  # type: ignore[no-untyped-def]
    for role in Role:
        user = make_user(role, None if role in SITELESS_ROLES else site, [CHEONGUN])
        response = signed_in(user).get("/")
        assert response.status_code == 200, role
    ministry_page = signed_in(make_user(Role.MINISTRY)).get("/").content.decode()
    assert "서울특별시 종로구" in ministry_page and "김영자" not in ministry_page


@pytest.mark.django_db
def test_korean_by_default_english_by_browser_or_switch(official, household) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(official)
    assert "가구" in client.get("/households/").content.decode()
    english = client.get("/households/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Households" in english and "Care level" in english
    client.post("/i18n/setlang/", {"language": "en", "next": "/households/"})
    assert "Register a household" in client.get("/households/").content.decode()


@pytest.mark.django_db
def test_household_page_uses_korean_conventions(official, household) -> None:  # type: ignore[no-untyped-def]
    page = signed_in(official).get(f"/households/{household.id}/").content.decode()
    assert "010-2345-6789" in page
    assert re.search(r"\d{4}\.\d{2}\.\d{2}", page)  # dates as YYYY.MM.DD
    assert "반지하" in page and "치매" in page


@pytest.mark.django_db
def test_registering_through_the_form(official) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(official)
    form = {
        "area_code": CHEONGUN,
        "address": "서울특별시 종로구 자하문로 5",
        "housing_type": "rooftop",
        "care_level": "2",
        "name": "오정희",
        "birth_year": "1944",
        "sex": "F",
        "phone": "02-123-4567",
        "consent_given_on": "2026-02-01",
        "consent_method": "written",
        "living_alone": "on",
    }
    bad = client.post("/households/new/", {**form, "phone": "12-34"})
    assert bad.status_code == 200 and "12-34" in bad.content.decode()
    assert not Household.objects.exists()
    response = client.post("/households/new/", form)
    assert response.status_code == 302
    household = Household.objects.get()
    assert household.housing_type == "rooftop" and household.living_alone


@pytest.mark.django_db
def test_htmx_requests_get_only_the_rows(official, household) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(official).get("/households/", {"sort": "-care_level"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "household-table" in body


def test_healthz_is_public(db) -> None:  # type: ignore[no-untyped-def]
    assert Client().get("/healthz").json() == {"status": "ok"}


TRANSLATION_CALLS = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}


def _marked_strings() -> set[str]:
    """Every message marked in templates and Python code (read with ``ast`` so that a message split over several
    adjacent literals is read whole, as ``makemessages`` reads it)."""
    found: set[str] = set()
    patterns = [re.compile(r'{%\s*translate\s+"([^"]+)"'), re.compile(r"{%\s*translate\s+'([^']+)'")]
    for path in SRC.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            found.update(pattern.findall(text))
    for path in SRC.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
                continue
            if node.func.id in TRANSLATION_CALLS:
                message = node.args[1] if node.func.id.startswith("pgettext") and len(node.args) > 1 else node.args[0]
                if isinstance(message, ast.Constant) and isinstance(message.value, str):
                    found.add(message.value)
    return found


def test_every_interface_string_has_a_korean_translation() -> None:
    catalogue = polib.pofile(str(SRC / "locale/ko/LC_MESSAGES/django.po"))
    translated = {e.msgid for e in catalogue if (e.msgstr or e.msgstr_plural.get(0)) and "fuzzy" not in e.flags}
    missing = sorted(_marked_strings() - translated)
    assert missing == []


def test_compiled_catalogue_matches_the_source() -> None:
    source = polib.pofile(str(SRC / "locale/ko/LC_MESSAGES/django.po"))
    compiled = polib.mofile(str(SRC / "locale/ko/LC_MESSAGES/django.mo"))
    assert {(e.msgctxt, e.msgid, e.msgstr) for e in compiled if e.msgid and not e.msgid_plural} == {
        (e.msgctxt, e.msgid, e.msgstr) for e in source.translated_entries() if not e.msgid_plural
    }

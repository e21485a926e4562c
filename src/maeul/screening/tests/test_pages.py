"""Screening pages: the list with explanations in scope, a household's entry, results, rights requests, the model
card and its approval, the national list upload with row-level problems, and who may see what."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, SAJIK, MakeUser, actor_of, signed_in
from maeul.screening import services, synth
from maeul.screening.models import Candidate, ModelStatus, ModelVersion, ReviewRequest
from maeul.sites.models import Site

pytestmark = [pytest.mark.django_db]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pages")
    synth.generate(directory, 6000, seed=31, random_visits=0.3)
    return directory


def test_official_sees_own_areas_with_reasons_and_records_a_result(
    site_admin: User, official: User, make_user: MakeUser, site: Site, files: Path
) -> None:
    run = services.run_screening(actor_of(site_admin), files, as_of=date(2026, 11, 1), capacity_per_area=3)
    client = signed_in(official)
    page = client.get("/screening/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "number of risk indicators" in page
    ours = Candidate.objects.filter(run=run, area_id=CHEONGUN).order_by("rank")
    theirs = Candidate.objects.filter(run=run, area_id=SAJIK).first()
    assert theirs is not None
    assert all(f"/screening/{c.pk}/" in page for c in ours)
    assert f"/screening/{theirs.pk}/" not in page
    assert client.get(f"/screening/{theirs.pk}/").status_code == 404
    first = ours[0]
    detail = client.get(f"/screening/{first.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert services.explanation(first) in detail
    # Korean by default: the reasons are in plain Korean words.
    korean = client.get(f"/screening/{first.pk}/").content.decode()
    assert "이 가구가 목록에 오른 이유" in korean
    helper = make_user(Role.HELPER, site, [CHEONGUN])
    client.post(f"/screening/{first.pk}/assign/", {"assigned_to": helper.pk, "method": "call"})
    client.post(f"/screening/{first.pk}/result/", {"result": "not_in_need", "note": "잘 지내심"})
    first.refresh_from_db()
    assert first.outreach.result == "not_in_need" and first.outreach.assigned_to_id == helper.pk
    # The helper sees the one assigned to them, nothing else, and can record on it.
    helper_client = signed_in(helper)
    assert helper_client.get(f"/screening/{first.pk}/").status_code == 200
    assert helper_client.get(f"/screening/{ours[1].pk}/").status_code == 404
    assert helper_client.get("/screening/models/").status_code == 403
    response = client.post(
        f"/screening/{first.pk}/review/", {"kind": "explanation", "channel": "방문", "request": "이유를 알려 주세요"}
    )
    assert response.status_code == 302
    review = ReviewRequest.objects.get()
    assert review.candidate_id == first.pk
    assert f"/screening/{first.pk}/#rights" in client.get("/screening/reviews/").content.decode()


def test_model_card_and_approval_pages(site_admin: User, official: User, files: Path) -> None:
    version = services.train_model(actor_of(site_admin), as_of=date(2026, 11, 1), history=files, capacity_share=0.02)
    client = signed_in(official)
    listing = client.get("/screening/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "waiting for approval" in listing
    card = client.get(f"/screening/models/{version.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="subgroups"' in card and "age_band" in card and "PR-AUC" in card
    refused = client.post(f"/screening/models/{version.pk}/decide/", {"decision": "approve", "note": ""})
    assert refused.status_code == 302
    assert ModelVersion.objects.get(pk=version.pk).status == ModelStatus.DRAFT
    client.post(f"/screening/models/{version.pk}/decide/", {"decision": "approve", "note": "검토함"})
    assert ModelVersion.objects.get(pk=version.pk).status == ModelStatus.APPROVED
    # Officials do not run screenings or read the quarantine; the administrator does.
    assert client.get("/screening/runs/").status_code == 403
    assert signed_in(site_admin).get("/screening/runs/").status_code == 200


def test_national_list_upload_lists_row_problems(site_admin: User, files: Path) -> None:
    client = signed_in(site_admin)
    content = (files / "national_list.csv").read_bytes().replace(b",1111051500,", b",9999999999,", 1)
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = client.post("/screening/national/", {"file": SimpleUploadedFile("list.csv", content)})
    text = page.content.decode()
    assert page.status_code == 200 and "list.csv" in text and "area_code" in text
    good = SimpleUploadedFile("list.csv", (files / "national_list.csv").read_bytes())
    assert client.post("/screening/national/", {"file": good}).status_code == 302
    round_code = services.flagged_rounds(actor_of(site_admin).principal)[0][0]
    download = client.get(f"/screening/national/{round_code}/results.csv?reason=통보")
    assert download.status_code == 200 and download.content.decode().startswith("\ufeffnational_case_no")

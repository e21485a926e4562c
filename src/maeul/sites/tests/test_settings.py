from __future__ import annotations

from importlib import import_module

import pytest
from django.test import Client
from pydantic import ValidationError

from maeul.accounts import services as accounts
from maeul.audit.models import AuditEntry
from maeul.conftest import actor_of, signed_in
from maeul.events.models import DomainEvent
from maeul.sites import services
from maeul.sites.api import SiteSettingsPatch
from maeul.sites.settings_schema import SiteSettings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"escalation_minutes": [30, 15]}, "escalation_minutes"),
        ({"audit_retention_days": 365}, "audit_retention_days"),
        ({"indoor_cold_alert_celsius": 22, "indoor_heat_alert_celsius": 21}, None),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_settings_are_rejected_and_nothing_changes(site, site_admin, values, field) -> None:  # type: ignore[no-untyped-def]
    before = dict(site.settings)
    with pytest.raises(ValidationError) as err:
        services.update_settings(actor_of(site_admin), site, values)
    if field:
        assert field in {str(e["loc"][0]) for e in err.value.errors() if e["loc"]}
    site.refresh_from_db()
    assert site.settings == before


def test_a_valid_change_is_recorded(site, site_admin) -> None:  # type: ignore[no-untyped-def]
    result = services.update_settings(actor_of(site_admin), site, {"inactivity_alert_hours": 6})
    assert result.inactivity_alert_hours == 6
    assert DomainEvent.objects.filter(kind="site.settings_changed", site=site).exists()
    assert AuditEntry.objects.filter(resource="site_settings").exists()
    assert SiteSettings.model_validate(site.settings).inactivity_alert_hours == 6


def test_settings_page_shows_field_errors(site, site_admin) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(site_admin)
    data = {
        **services.settings_of(site).model_dump(),
        "escalation_minutes": "60, 30",
    }
    page = client.post("/site/settings/", data)
    assert page.status_code == 200 and "increasing" in page.content.decode()
    data["escalation_minutes"] = "10, 20, 40"
    assert client.post("/site/settings/", data).status_code == 302
    site.refresh_from_db()
    assert site.settings["escalation_minutes"] == [10, 20, 40]


def test_sites_are_created_with_their_current_eup_myeon_dong(site) -> None:  # type: ignore[no-untyped-def]
    codes = set(site.areas.values_list("code", flat=True))
    assert "1111051500" in codes and "1111051000" not in codes  # abolished 청운동 is not part of it
    with pytest.raises(services.SiteError, match="not current"):
        services.create_site("x", "x", "1111000000", 2, area_codes=["4183025000"])


def test_the_api_can_change_every_setting_and_checks_the_whole(site, site_admin) -> None:  # type: ignore[no-untyped-def]
    assert set(SiteSettingsPatch.model_fields) == set(SiteSettings.model_fields)
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {accounts.issue_api_token(site_admin, 'test').plaintext}"}
    url = f"/api/v1/sites/{site.pk}/settings"
    changed = client.patch(url, {"inactivity_missing_sensor_hold_hours": 6}, content_type="application/json", **auth)
    assert changed.status_code == 200 and changed.json()["inactivity_missing_sensor_hold_hours"] == 6
    refused = client.patch(
        url,
        {"inactivity_ceiling_hours": 20, "inactivity_night_ceiling_hours": 16},
        content_type="application/json",
        **auth,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["detail"] == "the night ceiling cannot be shorter than the ceiling"
    assert services.settings_of(site).inactivity_ceiling_hours == 12


def test_settings_stored_with_the_unused_vulnerability_categories_still_load(site) -> None:  # type: ignore[no-untyped-def]
    # The setting was never read (vulnerabilities are the households' coded flags); migration 0002 drops it.
    from django.apps import apps

    drop_key = import_module("maeul.sites.migrations.0002_settings_without_vulnerability_categories").drop_key
    site.settings = {**site.settings, "vulnerability_categories": ["older_living_alone"], "inactivity_alert_hours": 7}
    site.save(update_fields=["settings"])
    with pytest.raises(ValidationError):
        services.settings_of(site)
    drop_key(apps, None)
    site.refresh_from_db()
    assert "vulnerability_categories" not in site.settings
    assert services.settings_of(site).inactivity_alert_hours == 7

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Router, Schema

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.sites import services
from maeul.sites.models import Site
from maeul.sites.settings_schema import SiteSettings

router = Router(tags=["sites"])


class SiteOut(Schema):
    id: int
    slug: str
    name: str
    sigungu_code: str
    programme_type: int
    area_codes: list[str]

    @staticmethod
    def resolve_sigungu_code(obj: Site) -> str:
        return obj.sigungu_id

    @staticmethod
    def resolve_area_codes(obj: Site) -> list[str]:
        return sorted(obj.areas.values_list("code", flat=True))


class SiteSettingsPatch(Schema):
    """Any subset of the settings (every field of ``SiteSettings``); the merged document is validated as a whole."""

    inactivity_alert_hours: float | None = None
    escalation_minutes: list[int] | None = None
    inactivity_ceiling_hours: float | None = None
    inactivity_night_ceiling_hours: float | None = None
    inactivity_missing_sensor_hold_hours: float | None = None
    office_hours_start: int | None = None
    office_hours_end: int | None = None
    round_the_clock_contact_name: str | None = None
    round_the_clock_contact_phone: str | None = None
    indoor_heat_alert_celsius: float | None = None
    indoor_cold_alert_celsius: float | None = None
    audit_retention_days: int | None = None
    personal_data_retention_days: int | None = None
    check_in_reminder_days: int | None = None
    hazard_target_days: int | None = None
    hazard_contact_retention_days: int | None = None
    hazard_duplicate_radius_m: int | None = None


def _site(request: HttpRequest, site_id: int, resource: Resource, action: Action) -> Site:
    principal = request_principal(request)
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        raise Http404(f"no site {site_id}")
    if principal.scope(resource, action) != Scope.ALL and principal.site_id != site.pk:
        raise PermissionDenied
    return site


@router.get("", response=list[SiteOut], summary="Sites you may see")
@api_requires(Resource.SITE, Action.VIEW)
def list_sites(request: HttpRequest) -> list[Site]:
    principal = request_principal(request)
    return services.sites_visible_to(principal.site_id, principal.scope(Resource.SITE, Action.VIEW) == Scope.ALL)


@router.get("/{site_id}/settings", response=SiteSettings, summary="A site's settings")
@api_requires(Resource.SITE_SETTINGS, Action.VIEW)
def get_settings(request: HttpRequest, site_id: int) -> SiteSettings:
    return services.settings_of(_site(request, site_id, Resource.SITE_SETTINGS, Action.VIEW))


@router.patch("/{site_id}/settings", response=SiteSettings, summary="Change a site's settings")
@api_requires(Resource.SITE_SETTINGS, Action.CHANGE)
def patch_settings(request: HttpRequest, site_id: int, payload: SiteSettingsPatch) -> SiteSettings:
    site = _site(request, site_id, Resource.SITE_SETTINGS, Action.CHANGE)
    actor = Actor.from_request(request, request_principal(request), channel="api")
    return services.update_settings(actor, site, payload.model_dump(exclude_none=True))

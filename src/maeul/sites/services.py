"""Creating sites and changing their settings."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from maeul.areas.models import Area, AreaLevel
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.events import services as events
from maeul.sites.models import ProgrammeType, Site
from maeul.sites.settings_schema import SiteSettings


class SiteError(ValueError):
    pass


@transaction.atomic
def create_site(
    slug: str,
    name: str,
    sigungu_code: str,
    programme_type: ProgrammeType,
    area_codes: list[str] | None = None,
    is_demo: bool = False,
) -> Site:
    sigungu = Area.objects.filter(code=sigungu_code, level=AreaLevel.SIGUNGU, abolished=False).first()
    if sigungu is None:
        raise SiteError(f"{sigungu_code} is not a current si/gun/gu code")
    # A city with districts (e.g. 수원시 → 장안구, 권선구 …) runs the eup/myeon/dong of all its districts.
    children = Area.objects.filter(level=AreaLevel.EMD, abolished=False).filter(
        Q(parent=sigungu) | Q(parent__parent=sigungu)
    )
    if area_codes:
        chosen = list(children.filter(code__in=area_codes))
        missing = sorted(set(area_codes) - {a.code for a in chosen})
        if missing:
            raise SiteError(f"not current eup/myeon/dong of {sigungu.full_name}: {', '.join(missing)}")
    else:
        chosen = list(children)
    site = Site.objects.create(
        slug=slug,
        name=name,
        sigungu=sigungu,
        programme_type=programme_type,
        settings=SiteSettings().model_dump(),
        is_demo=is_demo,
    )
    site.areas.set(chosen)
    events.record(
        "site.created",
        site_id=site.pk,
        area_code=sigungu.code,
        data={"programme_type": int(programme_type), "areas": len(chosen)},
    )
    return site


def settings_of(site: Site) -> SiteSettings:
    return SiteSettings.model_validate({**SiteSettings().model_dump(), **(site.settings or {})})


@transaction.atomic
def update_settings(actor: Actor, site: Site, values: dict[str, Any]) -> SiteSettings:
    """Validate the whole document first; nothing changes if any value is wrong (pydantic ValidationError)."""
    before = settings_of(site)
    new = SiteSettings.model_validate({**before.model_dump(), **values})
    site.settings = new.model_dump()
    site.save(update_fields=["settings"])
    changed = audit.diff(before.model_dump(), new.model_dump())
    if changed:
        audit.log(actor, AuditAction.CHANGE, "site_settings", object_id=site.pk, site_id=site.pk, changes=changed)
        events.record(
            "site.settings_changed",
            site_id=site.pk,
            actor_role=actor.principal.role or "",
            data={"fields": sorted(changed)},
        )
    return new


def sites_visible_to(site_id: int | None, all_sites: bool) -> list[Site]:
    qs = Site.objects.select_related("sigungu")
    if all_sites:
        return list(qs)
    return list(qs.filter(pk=site_id)) if site_id is not None else []

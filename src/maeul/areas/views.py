from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import request_principal
from maeul.areas import services
from maeul.areas.models import Area, AreaBoundary
from maeul.audit.services import Actor


@requires(Resource.AREA, Action.VIEW)
def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    principal = request_principal(request)
    area = Area.objects.filter(code=code).select_related("parent").first()
    if area is None:
        raise Http404
    scope = principal.scope(Resource.AREA, Action.VIEW)
    if scope == Scope.SITE and not (
        area.member_of_sites.filter(pk=principal.site_pk).exists() or area.sites.filter(pk=principal.site_pk).exists()
    ):
        raise PermissionDenied
    if scope == Scope.AREA and code not in principal.area_codes:
        raise PermissionDenied
    from maeul.people import services as people

    can_households = principal.can(Resource.HOUSEHOLD, Action.VIEW)
    counts = people.counts_by_area(principal).get(code, {}) if can_households else {}
    actor = Actor.from_request(request, principal)
    points = people.map_points(actor, code) if can_households else []
    outlines = [
        {"name": b.area.name, "geometry": b.geojson}
        for b in AreaBoundary.objects.filter(area=area).select_related("area")
    ]
    markers = [{"name": area.name, "lat": area.latitude, "lon": area.longitude}] if area.latitude else []
    return render(
        request,
        "areas/area_detail.html",
        {
            "area": area,
            "counts": counts,
            "history": services.history_of(code)[:20],
            "children": services.current_children(area),
            "map_data": json.dumps({"areas": markers, "outlines": outlines, "points": points}),
            "can_households": can_households,
        },
    )


@requires(Resource.AREA, Action.VIEW)
def area_suggestion(request: HttpRequest) -> HttpResponse:
    """An htmx fragment for the registration form: which eup/myeon/dong the coordinates suggest."""
    try:
        lat = float(request.GET.get("latitude", ""))
        lon = float(request.GET.get("longitude", ""))
    except ValueError:
        return render(request, "areas/_suggestion.html", {"suggestion": None})
    return render(request, "areas/_suggestion.html", {"suggestion": services.suggest_area(lat, lon)})

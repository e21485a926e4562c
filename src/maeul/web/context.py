from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import request_principal


def maeul_context(request: HttpRequest) -> dict[str, Any]:
    principal = request_principal(request) if hasattr(request, "user") else None
    return {
        "principal": principal,
        "nav_hazards": principal is not None and principal.can(Resource.HAZARD, Action.VIEW),
        "nav_body": principal is not None and principal.can(Resource.SAFETY_BODY, Action.VIEW),
        "nav_alerts": principal is not None and principal.can(Resource.ALERT, Action.VIEW),
        "nav_tasks": principal is not None and principal.can(Resource.SAFETY_TASK, Action.VIEW),
        "nav_cases": principal is not None and principal.can(Resource.CASE, Action.VIEW),
        "nav_helpers": principal is not None and principal.can(Resource.HELPER, Action.CREATE),
        "nav_directory": principal is not None and principal.can(Resource.DIRECTORY, Action.VIEW),
        "nav_reports": principal is not None and principal.can(Resource.WELFARE_REPORT, Action.VIEW),
        "nav_programme": principal is not None and principal.can(Resource.PROGRAMME_CALL, Action.VIEW),
        "nav_programme_results": principal is not None and principal.can(Resource.PROGRAMME_RESULTS, Action.VIEW),
        "nav_disaster": principal is not None and principal.can(Resource.DISASTER, Action.VIEW),
        "nav_roll_call": principal is not None and principal.scope(Resource.ROLL_CALL, Action.VIEW) == Scope.GRANTED,
        "nav_screening": principal is not None and principal.can(Resource.SCREENING, Action.VIEW),
        "map_tiles_url": settings.MAEUL_MAP_TILES_URL,
        "map_tiles_attribution": settings.MAEUL_MAP_TILES_ATTRIBUTION,
    }

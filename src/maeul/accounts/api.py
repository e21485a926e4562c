from django.http import HttpRequest
from ninja import Router, Schema

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import MATRIX, Action, Resource
from maeul.accounts.principal import request_principal
from maeul.accounts.roles import Role

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    role: str | None
    site_id: int | None
    area_codes: list[str]
    permissions: dict[str, dict[str, str]]


@router.get("/me", response=MeOut, summary="Who you are and what your role may do")
@api_requires(Resource.ACCOUNT, Action.VIEW)
def me(request: HttpRequest) -> dict[str, object]:
    p = request_principal(request)
    matrix = MATRIX.get(Role(p.role), {}) if p.role else {}
    return {
        "username": p.username,
        "role": p.role,
        "site_id": p.site_id,
        "area_codes": sorted(p.area_codes),
        "permissions": {str(r): {str(a): str(s) for a, s in actions.items()} for r, actions in matrix.items()},
    }

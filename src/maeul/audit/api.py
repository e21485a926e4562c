from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit import services
from maeul.audit.models import AuditEntry

router = Router(tags=["audit"])


class AuditOut(Schema):
    id: int
    at: datetime
    actor_username: str
    actor_role: str
    address: str | None
    channel: str
    action: str
    resource: str
    object_id: str
    household_id: int | None
    area_code: str
    record_count: int
    reason: str


class AuditQuery(Schema):
    actor: str = Field("", max_length=150)
    action: str = Field("", max_length=16)
    household_id: int | None = Field(None, ge=1, le=2**62)
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10_000_000)


@router.get("", response=list[AuditOut], summary="Access records of your site (newest first)")
@api_requires(Resource.AUDIT, Action.VIEW)
def list_audit(request: HttpRequest, filters: Query[AuditQuery]) -> list[AuditEntry]:
    principal = request_principal(request)
    qs = services.entries_for_site(
        principal.site_id or 0, actor_username=filters.actor, action=filters.action, household_id=filters.household_id
    )
    return list(qs[filters.offset : filters.offset + filters.limit])

from datetime import date

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from maeul.accounts.permissions import api_requires
from maeul.accounts.policy import Action, Resource
from maeul.areas import services
from maeul.areas.models import Area

router = Router(tags=["areas"])


class AreaOut(Schema):
    code: str
    level: str
    name: str
    full_name: str
    parent_code: str | None = Field(None, validation_alias="parent_id")
    latitude: float | None
    longitude: float | None
    valid_from: date | None
    valid_to: date | None
    abolished: bool


class AreaChangeOut(Schema):
    kind: str
    code: str
    related_code: str
    old_name: str
    new_name: str
    effective: date | None
    distance_km: float | None


class AreaQuery(Schema):
    q: str = Field("", max_length=60, description="Part of the Korean name")
    level: str | None = Field(None, pattern="^(sido|sigungu|emd)$")
    parent: str | None = Field(None, pattern=r"^\d{10}$")
    include_abolished: bool = False
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10_000_000)  # SQLite refuses offsets beyond 64 bits


class PointQuery(Schema):
    lat: float = Field(ge=-90, le=90, description="WGS84 latitude")
    lon: float = Field(ge=-180, le=180, description="WGS84 longitude")


class SuggestionOut(Schema):
    area: AreaOut | None
    sigungu: AreaOut | None
    method: str = Field(description="boundary, nearest_centroid or none")
    detail: str


@router.get("", response=list[AreaOut], summary="List administrative areas")
@api_requires(Resource.AREA, Action.VIEW)
def list_areas(request: HttpRequest, filters: Query[AreaQuery]) -> list[Area]:
    qs = Area.objects.all()
    if not filters.include_abolished:
        qs = qs.filter(abolished=False)
    if filters.q:
        qs = qs.filter(full_name__contains=filters.q)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.parent:
        qs = qs.filter(parent_id=filters.parent)
    return list(qs.order_by("code")[filters.offset : filters.offset + filters.limit])


@router.get("/suggest", response=SuggestionOut, summary="Suggest the eup/myeon/dong for a point (WGS84)")
@api_requires(Resource.AREA, Action.VIEW)
def suggest(request: HttpRequest, point: Query[PointQuery]) -> services.AreaSuggestion:
    return services.suggest_area(point.lat, point.lon)


@router.get("/{code}", response=AreaOut, summary="One area")
@api_requires(Resource.AREA, Action.VIEW)
def get_area(request: HttpRequest, code: str) -> Area:
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise Http404(f"no area with code {code}")
    return area


@router.get("/{code}/history", response=list[AreaChangeOut], summary="Code history: splits, merges, renames")
@api_requires(Resource.AREA, Action.VIEW)
def area_history(request: HttpRequest, code: str) -> list[object]:
    return list(services.history_of(code)[:200])

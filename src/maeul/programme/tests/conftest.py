"""Fixtures of the programme: a ministry account, local governments with their officers, and a call to apply to."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from maeul.accounts.roles import Role
from maeul.areas.models import Area, AreaLevel
from maeul.conftest import MakeUser, actor_of
from maeul.programme import services
from maeul.programme.models import Application, AttachmentKind, Call
from maeul.programme.schemas import ApplicationInput, BudgetLineInput, CallInput, KpiTargetInput

PLAN = "안전협의체를 구성해 생활 속 위험을 찾고, 홀로 사는 어르신 댁에 센서를 설치하며, 인적 안전망을 넓힌다. " * 5


@pytest.fixture
def ministry(make_user: MakeUser) -> User:
    return make_user(Role.MINISTRY, username="ministry")


def local_governments(count: int) -> list[Area]:
    """Si/gun/gu that have eup/myeon/dong of their own, in code order."""
    with_children = Area.objects.filter(level=AreaLevel.EMD, abolished=False, parent__level=AreaLevel.SIGUNGU)
    codes = sorted(set(with_children.values_list("parent_id", flat=True)))[:count]
    return list(Area.objects.filter(code__in=codes).order_by("code"))


def target_areas(local_government: Area, n: int = 2) -> list[str]:
    return list(
        Area.objects.filter(level=AreaLevel.EMD, abolished=False, parent=local_government)
        .order_by("code")
        .values_list("code", flat=True)[:n]
    )


def open_call(ministry: User, **changes: Any) -> Call:
    today = timezone.localdate()
    data = services.default_call(today.year, today - timedelta(days=10)).model_copy(
        update={"closes_on": today + timedelta(days=5), **changes}
    )
    call = services.create_call(actor_of(ministry), CallInput.model_validate(data.model_dump()))
    return services.open_call(actor_of(ministry), call.pk)


def application_input(
    local_government: Area, national: int = 45_000_000, local: int = 45_000_000, **changes: Any
) -> ApplicationInput:
    values: dict[str, Any] = {
        "programme_type": 2,
        "target_area_codes": target_areas(local_government),
        "title": f"{local_government.name} 스마트 안전·복지 마을",
        "plan": PLAN,
        "budget_lines": [
            BudgetLineInput(
                category="devices",
                description="IoT 센서 설치",
                national_krw=national - national // 3,
                local_krw=local // 2,
            ),
            BudgetLineInput(
                category="community",
                description="안전협의체 활동",
                national_krw=national // 3,
                local_krw=local - local // 2,
            ),
        ],
        "kpi_targets": [
            KpiTargetInput(kpi="households_monitored", target=100),
            KpiTargetInput(kpi="alert_minutes_to_response", target=30),
        ],
    }
    values.update(changes)
    return ApplicationInput(**values)


def attach_all(officer: User, application: Application, kinds: tuple[str, ...] = ("plan", "matching_funds")) -> None:
    for kind in kinds:
        services.add_attachment(
            actor_of(officer),
            application.pk,
            kind,
            f"{AttachmentKind(kind).label}.pdf",
            "application/pdf",
            b"%PDF-1.4 plan",
        )


@pytest.fixture
def today() -> date:
    return timezone.localdate()

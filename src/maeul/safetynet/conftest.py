"""Safety-net fixtures: a helper with a login covering Cheongun, assigned as the household's primary helper with a
weekly visit schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User

from maeul.accounts.roles import Role
from maeul.conftest import CHEONGUN, MakeUser, actor_of
from maeul.people.services import HouseholdView
from maeul.safetynet import services
from maeul.safetynet.models import CheckInKind, CheckInSchedule, HelperKind
from maeul.safetynet.schemas import AssignmentInput, HelperInput, ScheduleInput

MakeHelper = Callable[..., services.HelperView]


@pytest.fixture
def make_helper(official: User, make_user: MakeUser, site: Any) -> MakeHelper:
    def make(with_account: bool = True, **values: Any) -> services.HelperView:
        account = make_user(Role.HELPER, site, [CHEONGUN]) if with_account else None
        data: dict[str, Any] = {
            "kind": HelperKind.HONORARY_OFFICIAL,
            "name": "박순자",
            "phone": "010-3456-7890",
            "area_codes": [CHEONGUN],
            "latitude": 37.5830,
            "longitude": 126.9705,
            "consent_given_on": date(2026, 3, 1),
            "account_id": account.pk if account else None,
        }
        data.update(values)
        return services.register_helper(actor_of(official), HelperInput(**data))

    return make


@pytest.fixture
def helper(make_helper: MakeHelper) -> services.HelperView:
    return make_helper()


@pytest.fixture
def helper_user(helper: services.HelperView) -> User:
    assert helper.account_id is not None
    return User.objects.get(pk=helper.account_id)


@pytest.fixture
def assigned(official: User, household: HouseholdView, helper: services.HelperView) -> services.AssignmentView:
    return services.assign_helper(actor_of(official), household.id, AssignmentInput(helper_id=helper.id))


@pytest.fixture
def weekly_visit(official: User, household: HouseholdView, assigned: services.AssignmentView) -> CheckInSchedule:
    return services.add_schedule(
        actor_of(official),
        household.id,
        ScheduleInput(kind=CheckInKind.VISIT, interval_days=7, first_due_on=date(2026, 11, 20)),
    )

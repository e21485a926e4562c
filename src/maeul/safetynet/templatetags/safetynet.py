"""Whether the viewer may see a household's safety-net section."""

from __future__ import annotations

from django import template

from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import Principal

register = template.Library()


@register.filter
def may_view_check_ins(principal: Principal | None) -> bool:
    return principal is not None and principal.can(Resource.CHECK_IN, Action.VIEW)

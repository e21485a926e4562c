"""Appending and reading domain events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet
from django.utils import timezone

from maeul.events.models import DomainEvent

_PERSONAL_KEYS = {"name", "phone", "address", "conditions", "note", "email"}


def record(
    kind: str,
    *,
    site_id: int | None,
    area_code: str | None = None,
    household_id: int | None = None,
    subject: tuple[str, str | int] | None = None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    actor_role: str = "",
    occurred_at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> DomainEvent:
    payload = data or {}
    leaked = _PERSONAL_KEYS & set(payload)
    if leaked:
        raise ValueError(f"domain events carry no personal data; remove {sorted(leaked)}")
    return DomainEvent.objects.create(
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        site_id=site_id,
        area_id=area_code,
        household_id=household_id,
        subject_type=subject[0] if subject else "",
        subject_id=str(subject[1]) if subject else "",
        actor=actor if actor is not None and actor.is_authenticated else None,  # type: ignore[misc]
        actor_role=actor_role,
        data=payload,
    )


def for_household(household_id: int) -> QuerySet[DomainEvent]:
    return DomainEvent.objects.filter(household_id=household_id).select_related("actor")


def counts_by_site(kind_prefix: str = "", since: datetime | None = None) -> dict[tuple[int, str], int]:
    """Aggregate counts per (site, kind): what the programme's comparisons read."""
    qs = DomainEvent.objects.exclude(site=None)
    if kind_prefix:
        qs = qs.filter(kind__startswith=kind_prefix)
    if since:
        qs = qs.filter(occurred_at__gte=since)
    return {(r["site_id"], r["kind"]): r["n"] for r in qs.values("site_id", "kind").annotate(n=Count("id"))}

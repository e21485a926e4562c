"""Writing and reading the access record."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from maeul.accounts.principal import Principal
from maeul.audit.models import AuditAction, AuditEntry
from maeul.protection import fields


@dataclass(frozen=True)
class Actor:
    """Who did it and from where; built from a request, or named for commands and workers."""

    principal: Principal
    address: str | None = None
    channel: str = "web"

    @classmethod
    def from_request(cls, request: HttpRequest, principal: Principal, channel: str = "web") -> Actor:
        from maeul.accounts.services import client_address

        return cls(principal=principal, address=client_address(request), channel=channel)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}


def _who(actor: Actor, site_id: int | None) -> dict[str, Any]:
    """The columns every access-log row takes from its actor (the site is the actor's unless named)."""
    p = actor.principal
    return {
        "actor_id": p.user_id,
        "actor_username": p.username,
        "actor_role": p.role or ("superuser" if p.is_superuser else ""),
        "address": actor.address,
        "channel": actor.channel,
        "site_id": site_id if site_id is not None else p.site_id,
    }


def _entry(
    actor: Actor, action: AuditAction, resource: str, at: datetime, site_id: int | None, **values: Any
) -> AuditEntry:
    return AuditEntry(at=at, action=action, resource=resource, **_who(actor, site_id), **values)


def log(
    actor: Actor,
    action: AuditAction,
    resource: str,
    *,
    object_id: str | int = "",
    household_id: int | None = None,
    site_id: int | None = None,
    area_code: str = "",
    record_count: int = 1,
    reason: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditEntry:
    entry = _entry(
        actor,
        action,
        resource,
        timezone.now(),
        site_id,
        object_id=str(object_id),
        household_id=household_id,
        area_code=area_code,
        record_count=record_count,
        reason=reason[:300],
        changes_encrypted=fields.encrypt_json(dict(changes)) if changes else "",
    )
    entry.save()
    return entry


def log_many(
    actor: Actor,
    action: AuditAction,
    resource: str,
    household_ids: Iterable[int],
    *,
    site_id: int | None = None,
    reason: str = "",
) -> None:
    """One row per household shown, so 'who saw household X' is a single indexed query."""
    ids: list[int | None] = list(household_ids)
    _insert_rows(actor, action, resource, site_id, [str(hid) for hid in ids], ids, reason)


def log_each(
    actor: Actor,
    action: AuditAction,
    resource: str,
    object_ids: Iterable[int],
    *,
    site_id: int | None = None,
) -> None:
    """One row per record of another kind than a household (a body member, a reporter's contact) shown or changed."""
    objects = [str(i) for i in object_ids]
    _insert_rows(actor, action, resource, site_id, objects, [None] * len(objects), "")


_COLUMNS = (
    "at", "actor_id", "actor_username", "actor_role", "address", "channel", "action", "resource", "site_id",
    "area_code", "record_count", "reason", "changes_encrypted", "object_id", "household_id",
)  # fmt: skip


def _insert_rows(
    actor: Actor,
    action: AuditAction,
    resource: str,
    site_id: int | None,
    object_ids: list[str],
    household_ids: list[int | None],
    reason: str,
) -> None:
    """Every list page writes a row per record it shows: one statement with the rows as two arrays (PostgreSQL) or
    one prepared insert (SQLite), not ``bulk_create``, whose model per row cost a list page several milliseconds."""
    if not object_ids:
        return
    who = _who(actor, site_id)
    common = [
        connection.ops.adapt_datetimefield_value(timezone.now()),
        who["actor_id"],
        who["actor_username"],
        who["actor_role"],
        who["address"],
        who["channel"],
        str(action),
        resource,
        who["site_id"],
        "",
        1,
        reason[:300],
        "",
    ]
    table = AuditEntry._meta.db_table
    columns = ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT %s::timestamptz, %s::bigint, %s, %s, %s::inet, %s, %s, %s,"  # noqa: S608 — fixed names
                " %s::bigint, %s, %s::integer, %s, %s, o, h FROM unnest(%s::text[], %s::bigint[]) AS t(o, h)",
                [*common, object_ids, household_ids],
            )
        else:
            placeholders = ", ".join(["%s"] * len(_COLUMNS))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 — fixed names
                [(*common, o, h) for o, h in zip(object_ids, household_ids, strict=True)],
            )


def changes_of(entry: AuditEntry) -> dict[str, Any]:
    return fields.decrypt_json(entry.changes_encrypted, default={}) if entry.changes_encrypted else {}


def entries_for_site(
    site_id: int,
    *,
    actor_username: str = "",
    action: str = "",
    household_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.filter(site_id=site_id)
    if actor_username:
        qs = qs.filter(actor_username=actor_username)
    if action:
        qs = qs.filter(action=action)
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs


def export_csv(entries: QuerySet[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "at",
            "actor",
            "role",
            "address",
            "channel",
            "action",
            "resource",
            "object_id",
            "household_id",
            "area_code",
            "records",
            "reason",
            "changes",
        ]
    )
    for e in entries.iterator():
        writer.writerow(
            [
                timezone.localtime(e.at).isoformat(),
                e.actor_username,
                e.actor_role,
                e.address or "",
                e.channel,
                e.action,
                e.resource,
                e.object_id,
                e.household_id or "",
                e.area_code,
                e.record_count,
                e.reason,
                changes_of(e) if e.changes_encrypted else "",
            ]
        )
    return out.getvalue()


def purge_older_than(site_id: int | None, days: int) -> int:
    cutoff = timezone.now() - timedelta(days=days)
    qs = AuditEntry.objects.filter(at__lt=cutoff)
    qs = qs.filter(site_id=site_id) if site_id is not None else qs.filter(site_id=None)
    deleted, _ = qs.delete()
    return deleted

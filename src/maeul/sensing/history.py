"""Reading stored readings back in order, for detectors that restart from their persisted state."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from maeul.sensing.adapters import Kind
from maeul.sensing.models import Device, Reading


@dataclass(frozen=True)
class PastReading:
    household_id: int
    device: str  # the device's identity
    kind: Kind
    value: float
    at: datetime


def readings_since(household_ids: Sequence[int], since: datetime, chunk: int = 20000) -> Iterator[PastReading]:
    """Raw readings of these households after ``since``, in time order (keyset pages, so memory stays flat)."""
    if not household_ids:
        return
    identities = dict(Device.objects.filter(household_id__in=household_ids).values_list("pk", "identity"))
    known = {k.value for k in Kind}
    last: tuple[datetime, int] | None = None
    while True:
        qs = Reading.objects.filter(household_id__in=household_ids, at__gt=since)
        if last is not None:
            qs = qs.filter(at__gte=last[0]).exclude(at=last[0], pk__lte=last[1])
        rows = list(
            qs.order_by("at", "pk").values_list("pk", "household_id", "device_id", "kind", "value", "at")[:chunk]
        )
        for _pk, household_id, device_id, kind, value, at in rows:
            if kind in known:
                yield PastReading(household_id, identities.get(device_id, str(device_id)), Kind(kind), value, at)
        if len(rows) < chunk:
            return
        last = (rows[-1][5], rows[-1][0])


def monitored_site_ids() -> list[int]:
    """Sites with active devices: the ones whose ingestion must be watched for blindness."""
    return list(Device.objects.filter(active=True).values_list("site_id", flat=True).distinct().order_by("site_id"))

"""The demo site's monitored homes: simulated households' devices provisioned to demo households, two weeks of
their history stored through the real ingestion path (so detectors and heat-maps have something to learn from), the
alerts the detectors raise over that history — some already handled, with outcomes — and, while ``maeul run`` is up,
the same simulator publishing live over MQTT (``SIMULATION_ARGS``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from maeul.audit.services import Actor
from maeul.people.services import HouseholdView
from maeul.sensing import services as sensing
from maeul.sensing.history import readings_since
from maeul.sensing.schemas import DeviceInput
from maeul.sensing.store import Message, Store
from maeul.sites import services as sites
from maeul.sites.models import Site
from maeul.watch import detectors, services, simulation
from maeul.watch.escalation import KST
from maeul.watch.live import base_settings
from maeul.watch.models import Alert, AlertStatus

MONITORED = 24
HISTORY_DAYS = 14
SEED = 2026
# The live simulator continues the same homes from the moment `maeul run` starts.
SIMULATION_ARGS = ["--households", str(MONITORED), "--seed", str(SEED)]
_OUTCOMES = ["false_alarm", "person_fine", "person_fine", "needed_help"]
_RESPONSE_MINUTES = [8, 14, 22, 35, 11, 48, 17, 26]


def load_monitoring(site: Site, homes: list[HouseholdView], admin: Actor, official: Actor, on_call: list[int]) -> None:
    """Provision the simulated devices to the first ``MONITORED`` of ``homes`` and replay their history; name the
    site's 24-hour duty line and put ``on_call`` (officials' user ids) on a two-week night-and-weekend roster."""
    now = timezone.now()
    sites.update_settings(
        admin,
        site,
        {"round_the_clock_contact_name": "구청 당직실(데모)", "round_the_clock_contact_phone": "02-2148-0000"},
    )
    _roster(admin, on_call, now)
    start = (now - timedelta(days=HISTORY_DAYS)).astimezone(KST).replace(hour=0, minute=0, second=0, microsecond=0)
    # One home collapses this morning: the board opens with a live inactivity alert to handle.
    collapse = simulation.Incident("h0003", "collapse", (now - timedelta(hours=10)).astimezone(KST))
    simulated = simulation.households(MONITORED, start, SEED, incidents=[collapse])
    household_of: dict[str, int] = {}
    for sim, home in zip(simulated, homes, strict=False):
        household_of[sim.name] = home.id
        for device in sim.devices:
            sensing.provision_device(
                admin,
                home.id,
                DeviceInput(
                    protocol=device.protocol,
                    identity=device.identity,
                    vendor=device.vendor,
                    model=device.model,
                    room=device.room,
                    label=device.label,
                    kinds=device.kinds,
                ),
            )
    store = Store(site.pk)
    batch: list[Message] = []
    for emission in simulation.merged(simulated[: len(household_of)]):
        if emission.at > now:
            break
        topic, payload = emission.message()
        batch.append(Message(topic, payload, emission.at))
        if len(batch) >= 2000:
            store.store(batch)
            batch = []
    if batch:
        store.store(batch)
    _past_alerts(site, household_of, start, now, official)


def _roster(admin: Actor, officials: list[int], now: datetime) -> None:
    """Each evening 18:00 to the next morning 09:00 for two weeks, taking turns (weekends included)."""
    if not officials:
        return
    today = now.astimezone(KST).replace(hour=18, minute=0, second=0, microsecond=0)
    for day in range(-1, 14):
        starts = today + timedelta(days=day)
        services.add_shift(admin, officials[day % len(officials)], starts, starts + timedelta(hours=15))


def _past_alerts(site: Site, household_of: dict[str, int], start: datetime, now: datetime, official: Actor) -> None:
    """What the detectors raised over the history (the same code as live, on a simulated clock), then outcomes on
    the older ones as officials would have recorded them. The ingest worker restores from these readings."""
    settings = base_settings(site)
    history = detectors.replay(
        _stored_events(list(household_of.values()), start),
        settings={str(h): settings for h in household_of.values()},
        until=now,
    )
    for alert in history:
        services.raise_alert(site.pk, int(alert.household), alert, alert.raised_at)
    older = Alert.objects.filter(site=site, raised_at__lt=now - timedelta(days=1)).exclude(status=AlertStatus.RESOLVED)
    for n, handled in enumerate(older.order_by("pk")):
        # Taken by a person some minutes after it was raised, as the response-time figures then show.
        taken = handled.raised_at + timedelta(minutes=_RESPONSE_MINUTES[n % len(_RESPONSE_MINUTES)])
        services.resolve(official, handled.pk, _OUTCOMES[n % len(_OUTCOMES)], "", now=taken)


def _stored_events(household_ids: list[int], start: datetime) -> list[detectors.Event]:
    return [
        detectors.Event(r.at, str(r.household_id), r.device, r.kind, r.value)
        for r in readings_since(household_ids, start - timedelta(seconds=1))
    ]

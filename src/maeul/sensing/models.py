"""Devices in homes, the gateways that forward them, and what they report.

Readings are a narrow time-series table (one row per value) written in batches; hourly roll-ups keep the
history once raw rows pass their retention. Messages that cannot be read are kept as dead letters with the
reason, and messages from devices nobody has provisioned are listed for claiming instead of being dropped.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from maeul.people.models import Household
from maeul.sites.models import Site


class Protocol(models.TextChoices):
    ZIGBEE2MQTT = "zigbee2mqtt", "Zigbee2MQTT"
    TASMOTA = "tasmota", "Tasmota"
    GENERIC = "generic", _("Generic JSON (MQTT)")
    HTTP = "http", _("HTTP gateway")


class Room(models.TextChoices):
    BEDROOM = "bedroom", _("Bedroom")
    LIVING = "living", _("Living room")
    KITCHEN = "kitchen", _("Kitchen")
    BATHROOM = "bathroom", _("Bathroom")
    ENTRANCE = "entrance", _("Entrance")
    OTHER = "other", _("Other")


class Gateway(models.Model):
    """A hub that forwards devices' readings over HTTP (or a Zigbee coordinator whose outage blinds its homes).
    Its token is shown once; only a hash is kept."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="gateways")
    name = models.CharField(max_length=80)
    token_hash = models.CharField(max_length=64, unique=True, blank=True)
    token_hint = models.CharField(max_length=8, blank=True, help_text="First characters, to tell tokens apart")
    heartbeat_minutes = models.PositiveIntegerField(
        default=15, help_text="A gateway silent for longer than this is treated as down: its homes cannot be seen"
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    online = models.BooleanField(
        null=True, help_text="Its own state report (a Zigbee2MQTT bridge's bridge/state); unknown until one arrives"
    )
    online_changed_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="gateway_name_per_site")]

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    """A sensor in a household. ``identity`` is what the device calls itself on the wire: the Zigbee2MQTT
    friendly name (which may contain ``/``), the Tasmota topic, or the generic/HTTP device id."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="devices")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="devices")
    protocol = models.CharField(max_length=12, choices=Protocol.choices)
    identity = models.CharField(max_length=200)
    gateway = models.ForeignKey(Gateway, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices")
    vendor = models.CharField(max_length=60, blank=True)
    model = models.CharField(max_length=60, blank=True)
    room = models.CharField(max_length=10, choices=Room.choices, default=Room.OTHER)
    label = models.CharField(max_length=80, blank=True, help_text="What it watches, e.g. fridge door, kettle")
    kinds = models.JSONField(default=list, help_text="Reading kinds it reports, e.g. motion, battery")
    battery_percent = models.FloatField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    available = models.BooleanField(null=True, help_text="Its own availability report; unknown until one arrives")
    availability_changed_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["household_id", "room", "identity"]
        constraints = [
            models.UniqueConstraint(fields=["site", "protocol", "identity"], name="device_identity_per_site")
        ]
        indexes = [models.Index(fields=["site", "last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.protocol}:{self.identity}"


class Reading(models.Model):
    """One value from one device at one time. ``household_id`` is copied from the device so a household's
    timeline is one index range."""

    id = models.BigAutoField(primary_key=True)
    # No database-level foreign keys: their checks (a row lock on the device and the household per reading, at
    # commit) halved ingestion throughput. Ingestion takes both ids from existing devices; Django still cascades.
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=16)
    value = models.FloatField()
    at = models.DateTimeField()

    class Meta:
        # Every index costs each stored reading about 3.7 µs of the database's time (a quarter of a COPY's cost per
        # row), so only those a query uses: timelines and detection history by household, roll-up and retention by
        # time. No query reads readings by device; deleting a device, which Maeul never does (it deactivates), would
        # scan the table for the cascade.
        indexes = [
            models.Index(fields=["household", "at"], name="reading_household_at"),
            models.Index(fields=["at"], name="reading_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}={self.value} at {self.at:%Y-%m-%d %H:%M:%S}"


class HourlyReading(models.Model):
    """Downsampled history: one row per device, kind and hour, kept after raw readings expire."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=16)
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()
    total = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "kind", "hour"], name="hourly_reading_once"),
        ]
        indexes = [
            models.Index(fields=["household", "hour"], name="hourly_household_hour"),
            models.Index(fields=["hour"], name="hourly_hour"),  # retention deletes by age
        ]

    def __str__(self) -> str:
        return f"{self.kind} × {self.count} in {self.hour:%Y-%m-%d %H}h"


class DeadLetterReason(models.TextChoices):
    MALFORMED = "malformed", _("Malformed")
    UNRECOGNISED = "unrecognised", _("Not a format Maeul reads")
    REJECTED = "rejected", _("Rejected")


class DeadLetter(models.Model):
    """A message that could not be turned into readings, kept with why, so a misconfigured device is found."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=12, choices=Protocol.choices, blank=True)
    topic = models.CharField(max_length=300)
    payload = models.TextField(help_text="The first 4 KB, as text")
    reason = models.CharField(max_length=12, choices=DeadLetterReason.choices)
    detail = models.CharField(max_length=300)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.reason}: {self.topic}"


class UnclaimedDevice(models.Model):
    """Messages from a device no household has: listed for an official to claim (provision) or ignore."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    protocol = models.CharField(max_length=12, choices=Protocol.choices)
    identity = models.CharField(max_length=200)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    messages = models.PositiveIntegerField(default=0)
    kinds = models.JSONField(default=list)
    sample_topic = models.CharField(max_length=300)
    sample_payload = models.TextField()
    ignored = models.BooleanField(default=False)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["site", "protocol", "identity"], name="unclaimed_identity_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.protocol}:{self.identity}"


class IngestCounter(models.Model):
    """Per site, day and outcome: how many messages ingestion handled (``stored``, ``duplicate``, ``malformed``,
    ``unrecognised``, ``unclaimed``, ``availability``) and how many readings it stored."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    outcome = models.CharField(max_length=16)
    messages = models.BigIntegerField(default=0)
    readings = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day", "outcome"], name="ingest_counter_once")]

    def __str__(self) -> str:
        return f"{self.day} {self.outcome}: {self.messages}"


class IngestWorker(models.Model):
    """A running ``maeul ingest`` process, by name. Its heartbeat and broker connection say whether Maeul can
    see the homes at all: when no worker is alive and connected, ingestion is blind."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    broker_connected = models.BooleanField(default=False)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="ingest_worker_once")]

    def __str__(self) -> str:
        return self.name


class DeliveryKey(models.Model):
    """Idempotency: the key of each committed MQTT message that the broker may deliver again (QoS 1 redelivery
    after a crash between commit and acknowledgement). Kept for a day."""

    key = models.CharField(max_length=64, primary_key=True)
    # Indexed for pruning by migration 0005, outside the model's state: a BRIN index on PostgreSQL (keys are
    # written in time order, and a BRIN index costs an insert next to nothing), a B-tree on SQLite.
    stored_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class StreamCursor(models.Model):
    """How far detection has read the committed readings, per site and household partition
    (``household_id % partitions == partition``): the id of the last reading handed to the consumers."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    partition = models.PositiveIntegerField()
    partitions = models.PositiveIntegerField()
    reading_id = models.BigIntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "partition", "partitions"], name="stream_cursor_once")]

    def __str__(self) -> str:
        return f"partition {self.partition}/{self.partitions} at reading {self.reading_id}"

"""Typed inputs for devices, claims and gateways, shared by the web forms, the JSON API and the CSV import."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from maeul.sensing.adapters import Kind

ProtocolCode = Literal["zigbee2mqtt", "tasmota", "generic", "http"]
RoomCode = Literal["bedroom", "living", "kitchen", "bathroom", "entrance", "other"]

_MQTT_WILDCARDS = ("+", "#", "\x00")
KINDS = frozenset(str(k) for k in Kind)


def checked_kinds(value: list[str]) -> list[str]:
    """Known reading kinds (``adapters.Kind``), each once, in the order given."""
    cleaned = [k.strip().lower() for k in value if k.strip()]
    unknown = [k for k in cleaned if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kind(s): {', '.join(unknown)}; known: {', '.join(Kind)}")
    return list(dict.fromkeys(cleaned))


def identity_problem(protocol: str, identity: str) -> str:
    """Why ``identity`` cannot be what a device calls itself on the wire under ``protocol`` ('' if it can).

    A Zigbee2MQTT friendly name or a generic id is the topic after its prefix and may contain ``/``; a
    Tasmota topic and an HTTP device id are one segment."""
    if any(c in identity for c in _MQTT_WILDCARDS):
        return "must not contain MQTT wildcards (+ or #)"
    if identity != identity.strip():
        return "must not begin or end with a space"
    if protocol in ("tasmota", "http"):
        return "must be one segment, without /" if "/" in identity else ""
    if identity.startswith("/") or identity.endswith("/") or "//" in identity:
        return "must not begin or end with /, nor contain //"
    if protocol == "zigbee2mqtt":
        if identity == "bridge" or identity.startswith("bridge/"):
            return "bridge/ is Zigbee2MQTT's own topic"
        if identity.endswith(("/set", "/get", "/availability")) or "/set/" in identity:
            return "must not end with /set, /get or /availability (Zigbee2MQTT's command and status topics)"
    return ""


class _DeviceFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    vendor: str = Field("", max_length=60)
    model: str = Field("", max_length=60)
    room: RoomCode = "other"
    label: str = Field("", max_length=80, description="What it watches, e.g. fridge door, kettle")
    kinds: list[str] = Field(default_factory=list, max_length=24, description="Reading kinds, e.g. motion, battery")
    gateway_id: int | None = Field(None, ge=1, le=2**31 - 1)

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        return checked_kinds(value)


class DeviceInput(_DeviceFields):
    """A device to provision in a household."""

    protocol: ProtocolCode
    identity: str = Field(
        min_length=1,
        max_length=200,
        description="What the device calls itself: Zigbee2MQTT friendly name (may contain /), Tasmota topic, "
        "or the generic/HTTP device id",
    )

    @field_validator("identity")
    @classmethod
    def _identity(cls, value: str, info: ValidationInfo) -> str:
        problem = identity_problem(str(info.data.get("protocol", "")), value)
        if problem:
            raise ValueError(problem)
        return value


class DeviceChange(BaseModel):
    """A partial change: only the fields sent change (``gateway_id: null`` detaches the gateway)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    identity: str | None = Field(None, min_length=1, max_length=200)
    vendor: str | None = Field(None, max_length=60)
    model: str | None = Field(None, max_length=60)
    room: RoomCode | None = None
    label: str | None = Field(None, max_length=80)
    kinds: list[str] | None = Field(None, max_length=24)
    gateway_id: int | None = Field(None, ge=1, le=2**31 - 1)

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else checked_kinds(value)


class ClaimInput(_DeviceFields):
    """Provisioning an unclaimed device: its protocol and identity come from the messages already seen."""

    household_id: int = Field(ge=1, le=2**31 - 1)


class GatewayInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=80)
    heartbeat_minutes: int = Field(15, ge=1, le=1440, description="Silent longer than this: the gateway is down")


class GatewayChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, min_length=1, max_length=80)
    heartbeat_minutes: int | None = Field(None, ge=1, le=1440)

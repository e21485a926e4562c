"""Labels and icons for devices and readings, and whether the viewer may see devices at all."""

from __future__ import annotations

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from maeul.accounts.principal import Principal
from maeul.sensing import services
from maeul.sensing.models import DeadLetterReason, Protocol, Room

register = template.Library()

KINDS: dict[str, tuple[str, Promise]] = {
    "motion": ("🚶", _("Motion")),
    "contact": ("🚪", _("Door or contact")),
    "switch": ("🔌", _("Switch")),
    "power": ("⚡", _("Power")),
    "energy": ("⚡", _("Energy")),
    "current": ("⚡", _("Current")),
    "voltage": ("⚡", _("Voltage")),
    "temperature": ("🌡️", _("Temperature")),
    "humidity": ("💧", _("Humidity")),
    "pressure": ("🌀", _("Air pressure")),
    "illuminance": ("💡", _("Light level")),
    "battery": ("🔋", _("Battery")),
    "battery_voltage": ("🔋", _("Battery voltage")),
    "battery_low": ("🪫", _("Battery low")),
    "sos": ("🆘", _("Emergency button")),
    "button": ("🔘", _("Button")),
    "presence": ("🛏️", _("Bed or seat mat")),
    "flush": ("🚽", _("Toilet flush")),
    "appliance": ("📺", _("Appliance")),
    "smoke": ("🔥", _("Smoke")),
    "gas": ("💨", _("Gas")),
    "tamper": ("⚠️", _("Tampering")),
}

HEALTH = {
    services.Health.OK: _("OK"),
    services.Health.OFFLINE: _("Offline"),
    services.Health.NEVER_SEEN: _("Never seen"),
    services.Health.BATTERY_LOW: _("Battery low"),
    services.Health.INACTIVE: _("Removed"),
}

GATEWAY_STATUS = {
    services.GatewayStatus.UP: _("Up"),
    services.GatewayStatus.DOWN: _("Down"),
    services.GatewayStatus.NEVER_SEEN: _("Never seen"),
    services.GatewayStatus.INACTIVE: _("Deactivated"),
}

OUTCOMES = {
    "stored": _("Stored"),
    "duplicate": _("Sent again (ignored)"),
    "malformed": _("Malformed"),
    "unrecognised": _("Not a format Maeul reads"),
    "unclaimed": _("From unclaimed devices"),
    "availability": _("Online/offline reports"),
}


@register.filter
def kind_icon(kind: str) -> str:
    return KINDS.get(kind, ("•", ""))[0]


@register.filter
def kind_label(kind: str) -> str:
    return str(KINDS[kind][1]) if kind in KINDS else kind


@register.filter
def room_label(room: str) -> str:
    return str(dict(Room.choices).get(room, room))


@register.filter
def protocol_label(protocol: str) -> str:
    return str(dict(Protocol.choices).get(protocol, protocol or "—"))


@register.filter
def health_label(health: str) -> str:
    return str(HEALTH.get(health, health))  # type: ignore[call-overload]


@register.filter
def gateway_status_label(status: str) -> str:
    return str(GATEWAY_STATUS.get(status, status))  # type: ignore[call-overload]


@register.filter
def reason_label(reason: str) -> str:
    return str(dict(DeadLetterReason.choices).get(reason, reason))


@register.filter
def may_view_devices(principal: Principal | None) -> bool:
    return principal is not None and services.may_view_devices(principal)


@register.filter
def outcome_label(outcome: str) -> str:
    return str(OUTCOMES.get(outcome, outcome))

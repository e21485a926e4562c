"""An alert's reason in the reader's language, from the detector's ``reason_code`` and figures
(codes and params: ``watch.detectors``). The English sentence the detector wrote stays the record; this is how a
Korean official reads it: "5시간 10분 동안 활동이 없습니다. 화요일 오후에는 보통 최대 2시간 30분입니다."."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def duration(minutes: Any) -> str:
    total = int(minutes or 0)
    hours, rest = divmod(total, 60)
    if hours and rest:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return ngettext("%(m)d min", "%(m)d min", rest) % {"m": rest}


def _when(params: Mapping[str, Any]) -> str:
    weekdays = [
        _("Mondays"),
        _("Tuesdays"),
        _("Wednesdays"),
        _("Thursdays"),
        _("Fridays"),
        _("Saturdays"),
        _("Sundays"),
    ]
    parts = {"nights": _("nights"), "mornings": _("mornings"), "afternoons": _("afternoons"), "evenings": _("evenings")}
    weekday = int(params.get("weekday", 0)) % 7
    return _("%(weekday)s %(part)s") % {"weekday": weekdays[weekday], "part": parts.get(str(params.get("part")), "")}


def _inactivity_learned(p: Mapping[str, Any]) -> str:
    text = _("No activity for %(silent)s; usually at most %(usual)s on %(when)s.") % {
        "silent": duration(p.get("silent_minutes")),
        "usual": duration(p.get("usual_minutes")),
        "when": _when(p),
    }
    if p.get("in_bed"):
        text += " " + _("The silence began in bed.")
    elif p.get("after_device"):
        text += " " + _("Last seen: %(device)s.") % {"device": p["after_device"]}
    return text


def _battery(p: Mapping[str, Any]) -> str:
    if p.get("percent") is None:
        return _("Battery low on %(device)s.") % {"device": p.get("device", "")}
    return _("Battery low on %(device)s (%(percent)s %%).") % {"device": p.get("device", ""), "percent": p["percent"]}


_RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "inactivity_cold_start": lambda p: (
        _("No activity for %(silent)s; the usual pattern is not learned yet for %(when)s, so the wait is %(limit)s.")
        % {"silent": duration(p.get("silent_minutes")), "when": _when(p), "limit": duration(p.get("threshold_minutes"))}
    ),
    "inactivity_learned": _inactivity_learned,
    "inactivity_lit": lambda p: (
        _(
            "No activity for %(silent)s since %(device)s, and a light is still on (%(light)s); with a light on, "
            "usually at most %(usual)s in the evening, and nights begin in the dark."
        )
        % {
            "silent": duration(p.get("silent_minutes")),
            "device": p.get("after_device", ""),
            # Alerts raised before every lamp was watched saw only the light where the person was last seen.
            "light": p.get("light_device") or p.get("after_device", ""),
            "usual": duration(p.get("usual_minutes")),
        }
    ),
    "away_too_long": lambda p: (
        _("Went out %(out)s ago (%(door)s) and has not come back.")
        % {"out": duration(p.get("out_minutes")), "door": p.get("door_device", "")}
    ),
    "sos": lambda p: _("The SOS button was pressed (%(device)s).") % {"device": p.get("device", "")},
    "smoke": lambda p: _("Smoke detected (%(device)s).") % {"device": p.get("device", "")},
    "gas": lambda p: _("Gas detected (%(device)s).") % {"device": p.get("device", "")},
    "temperature_high": lambda p: (
        _("Indoor temperature %(t)s °C, at or above %(limit)s °C (%(device)s).")
        % {"t": p.get("celsius"), "limit": p.get("limit_celsius"), "device": p.get("device", "")}
    ),
    "temperature_low": lambda p: (
        _("Indoor temperature %(t)s °C, at or below %(limit)s °C (%(device)s).")
        % {"t": p.get("celsius"), "limit": p.get("limit_celsius"), "device": p.get("device", "")}
    ),
    "battery_low": _battery,
    "device_offline": lambda p: (
        _("No message from %(device)s for %(silent)s.")
        % {"device": p.get("device", ""), "silent": duration(p.get("silent_minutes"))}
    ),
    "device_missing": lambda p: (
        _(
            "No message from %(device)s for %(silent)s while the home's other devices report; inactivity there counts "
            "only what every sensor saw until it is back (at most %(hold)s)."
        )
        % {
            "device": p.get("device", ""),
            "silent": duration(p.get("silent_minutes")),
            "hold": duration(p.get("hold_minutes")),
        }
    ),
    "device_reported_offline": lambda p: _("%(device)s reports itself offline.") % {"device": p.get("device", "")},
    "power_unused": lambda p: (
        _("%(device)s has not been used for %(unused)s; usually used at least every %(usual)s.")
        % {
            "device": p.get("device", ""),
            "unused": duration(p.get("unused_minutes")),
            "usual": duration(p.get("usual_minutes")),
        }
    ),
    "power_long_run": lambda p: (
        _("%(device)s has drawn %(watts)s W continuously for %(run)s; its longest usual run is %(usual)s.")
        % {
            "device": p.get("device", ""),
            "watts": p.get("watts"),
            "run": duration(p.get("run_minutes")),
            "usual": duration(p.get("usual_minutes")),
        }
    ),
    "check_in_missed": lambda p: (
        _("The %(kind)s due on %(due_on)s is %(days)s days overdue.")
        % {
            "kind": _("visit") if p.get("kind") == "visit" else _("call"),
            "due_on": p.get("due_on", ""),
            "days": p.get("days"),
        }
    ),
    "check_in_no_answer": lambda p: _("No answer at %(count)s check-ins in a row.") % {"count": p.get("count")},
    "ingestion_blind": lambda p: (
        _("Monitoring interrupted: %(reason)s. Inactivity alerts are held back until it recovers.")
        % {"reason": p.get("reason", "")}
    ),
}


def render(code: str, params: Mapping[str, Any]) -> str | None:
    """The reason in the active language, or ``None`` for a code this version does not know."""
    renderer = _RENDERERS.get(code)
    if renderer is None:
        return None
    try:
        return renderer(params)
    except (TypeError, ValueError, KeyError):
        return None  # figures of an unexpected shape: the recorded English reason is shown instead

"""Where the sun is over Korea: enough to tell daylight from a lamp, and for the simulator to light its rooms.

Korea spans about 124.6–131.9° E and 33–38.6° N, so the sun sets within about a quarter of an hour of its setting at
the middle of the country (37.5° N, 127° E); civil twilight (the sun 6° below the horizon) lasts about half an hour
more. Accurate to a degree or so: the declination and the hour angle, without the equation of time."""

from __future__ import annotations

import math
from datetime import UTC, datetime

LATITUDE, LONGITUDE = 37.5, 127.0  # the middle of Korea
CIVIL_DUSK = -6.0  # degrees: below this no daylight is left to light a room


def elevation(at: datetime, latitude: float = LATITUDE, longitude: float = LONGITUDE) -> float:
    """The sun's elevation above the horizon at ``at`` (an aware datetime), in degrees."""
    utc = at.astimezone(UTC)
    declination = math.radians(23.44) * math.sin(2 * math.pi * (284 + utc.timetuple().tm_yday) / 365)
    hour_angle = math.radians(15 * (utc.hour + utc.minute / 60 + longitude / 15 - 12))
    lat = math.radians(latitude)
    sin_elevation = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(declination) * math.cos(hour_angle)
    return math.degrees(math.asin(sin_elevation))

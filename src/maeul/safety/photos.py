"""Uploaded photos: read the GPS position from EXIF, then keep only a resized JPEG with no metadata at all
(EXIF can hold the phone's owner, serial number and the reporter's home position)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_EDGE_PX = 1600
# Decompression bombs: refuse anything over ~50 megapixels before decoding it.
Image.MAX_IMAGE_PIXELS = 50_000_000


class PhotoRejected(ValueError):
    pass


@dataclass(frozen=True)
class CleanPhoto:
    jpeg: bytes
    width: int
    height: int
    latitude: float | None
    longitude: float | None


def _degrees(value: tuple[float, float, float], ref: str) -> float:
    d, m, s = (float(x) for x in value)
    result = d + m / 60 + s / 3600
    return -result if ref in ("S", "W") else result


def gps_position(image: Image.Image) -> tuple[float, float] | None:
    gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    try:
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef, "N"))
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef, "E"))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return lat, lon


def clean(data: bytes) -> CleanPhoto:
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoRejected(f"the photo is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PhotoRejected("the file is not a photo we can read (JPEG, PNG, WebP or HEIF saved as JPEG)") from exc
    position = gps_position(image)
    upright = ImageOps.exif_transpose(image).convert("RGB")  # turn as the camera meant, then forget EXIF
    upright.thumbnail((MAX_EDGE_PX, MAX_EDGE_PX))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=82, optimize=True)  # a fresh file: no EXIF, ICC or XMP is copied
    return CleanPhoto(
        jpeg=out.getvalue(),
        width=upright.width,
        height=upright.height,
        latitude=position[0] if position else None,
        longitude=position[1] if position else None,
    )

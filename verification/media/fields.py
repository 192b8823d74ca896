"""The few typed fields analysts query, chosen from an exiftool `-j -G -n` record.

The full record is kept beside these; here we only pick, in a fixed order of trust, the
value each field most likely means, and turn anything malformed into None. Metadata in a
hostile file is attacker-written text, so nothing here may raise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# (date tag, tag holding its UTC offset, offset implied when the date carries none).
# QuickTime CreateDate is UTC by specification; Apple's Keys CreationDate carries local time
# with its offset, so it comes first among the video dates.
_DATE_SOURCES: tuple[tuple[str, str | None, str | None], ...] = (
    ("EXIF:DateTimeOriginal", "EXIF:OffsetTimeOriginal", None),
    ("EXIF:CreateDate", "EXIF:OffsetTimeDigitized", None),
    ("XMP:DateTimeOriginal", None, None),
    ("XMP:CreateDate", None, None),
    ("QuickTime:CreationDate", None, None),
    ("QuickTime:CreateDate", None, "+00:00"),
    ("QuickTime:MediaCreateDate", None, "+00:00"),
)
_SUBSEC = {"EXIF:DateTimeOriginal": "EXIF:SubSecTimeOriginal",
           "EXIF:CreateDate": "EXIF:SubSecTimeDigitized"}
# re.ASCII: \d would otherwise accept any script's digits.
_DATE = re.compile(
    r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})"
    r"(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?",
    re.ASCII,
)
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})", re.ASCII)
_DIGITS = re.compile(r"[0-9]{1,9}")
_LOCI_LAT = re.compile(r"\bLat=([-+.0-9]{1,20})")
_LOCI_LON = re.compile(r"\bLon=([-+.0-9]{1,20})")

_MAKE = ("EXIF:Make", "QuickTime:Make", "XMP:Make")
_MODEL = ("EXIF:Model", "QuickTime:Model", "XMP:Model")
_SOFTWARE = ("EXIF:Software", "XMP:CreatorTool", "QuickTime:Software", "PNG:Software")
# EXIF last: in a JPEG its ImageWidth may describe an image since edited; in a TIFF it is
# the only one.
_SIZE_GROUPS = ("File", "PNG", "GIF", "BMP", "RIFF", "QuickTime", "Matroska", "EXIF")
_DURATION = ("QuickTime:Duration", "Composite:Duration", "Matroska:Duration", "RIFF:Duration")
_MAX_TEXT = 256


@dataclass(frozen=True)
class MediaFields:
    taken_at: datetime | None  # naive: the clock reading the device recorded
    taken_at_offset: str | None  # "+03:00" when the file says which zone that clock was in
    gps_lat: float | None
    gps_lon: float | None
    camera_make: str | None
    camera_model: str | None
    software: str | None
    width: int | None
    height: int | None
    duration_s: float | None


def media_fields(dump: dict[str, Any]) -> MediaFields:
    """Typed fields from one exiftool record; reads `dump` only, never raises on its content."""
    taken_at, offset = _taken_at(dump)
    lat, lon = _gps(dump)
    width, height = _size(dump)
    return MediaFields(
        taken_at=taken_at,
        taken_at_offset=offset,
        gps_lat=lat,
        gps_lon=lon,
        camera_make=_first_text(dump, _MAKE),
        camera_model=_first_text(dump, _MODEL),
        software=_first_text(dump, _SOFTWARE),
        width=width,
        height=height,
        duration_s=_duration(dump),
    )


def _taken_at(dump: dict[str, Any]) -> tuple[datetime | None, str | None]:
    for tag, offset_tag, implied in _DATE_SOURCES:
        parsed = _parse_date(dump.get(tag))
        if parsed is None:
            continue
        moment, own_offset = parsed
        subsec = _subsec(dump.get(_SUBSEC.get(tag, "")))
        if subsec is not None and moment.microsecond == 0:
            moment = moment.replace(microsecond=subsec)
        offset = own_offset or (_parse_offset(dump.get(offset_tag)) if offset_tag else None)
        return moment, offset or implied
    return None, None


def _parse_date(value: Any) -> tuple[datetime, str | None] | None:
    if not isinstance(value, str):
        return None
    match = _DATE.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7)
    micro = int((fraction + "00000")[:6]) if fraction else 0
    try:
        # "0000:00:00 00:00:00" (a camera with no clock) fails here, as it should.
        moment = datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None
    zone = match.group(8)
    return moment, ("+00:00" if zone == "Z" else _parse_offset(zone))


def _parse_offset(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    match = _OFFSET.fullmatch(value.strip())
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if int(hours) > 14 or int(minutes) > 59:
        return None
    return f"{sign}{hours}:{minutes}"


def _subsec(value: Any) -> int | None:
    # -n gives "045" as a string but 45 as a number; both are fractions of a second.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9:
        value = str(value)
    if not isinstance(value, str) or not _DIGITS.fullmatch(value.strip()):
        return None
    return int((value.strip() + "00000")[:6])


def _gps(dump: dict[str, Any]) -> tuple[float | None, float | None]:
    # Composite values are already signed (exiftool applied the N/S, E/W references).
    candidates = [
        (_number(dump.get("Composite:GPSLatitude")), _number(dump.get("Composite:GPSLongitude"))),
        (
            _signed(dump.get("EXIF:GPSLatitude"), dump.get("EXIF:GPSLatitudeRef"), "NS"),
            _signed(dump.get("EXIF:GPSLongitude"), dump.get("EXIF:GPSLongitudeRef"), "EW"),
        ),
        (_number(dump.get("XMP:GPSLatitude")), _number(dump.get("XMP:GPSLongitude"))),
        # The video sources exiftool's own Composite GPS tags are derived from, so the
        # fields are the same whether or not the session generated Composite tags.
        _pair(dump.get("QuickTime:GPSCoordinates")),  # "lat lon [alt]", signed, with -n
        _location_information(dump.get("QuickTime:LocationInformation")),  # 3GPP "loci"
    ]
    for lat, lon in candidates:
        if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
            return lat, lon
    return None, None


def _pair(value: Any) -> tuple[float | None, float | None]:
    parts = value.split() if isinstance(value, str) else []
    if len(parts) not in (2, 3):
        return None, None
    return _number(parts[0]), _number(parts[1])


def _location_information(value: Any) -> tuple[float | None, float | None]:
    lat = _LOCI_LAT.search(value) if isinstance(value, str) else None
    lon = _LOCI_LON.search(value) if isinstance(value, str) else None
    return (_number(lat.group(1)) if lat else None), (_number(lon.group(1)) if lon else None)


def _signed(value: Any, ref: Any, positive_negative: str) -> float | None:
    number = _number(value)
    letter = ref.strip().upper()[:1] if isinstance(ref, str) else ""
    if number is None or not letter or letter not in positive_negative:
        return None  # without its reference the hemisphere is unknown
    return -abs(number) if letter == positive_negative[1] else abs(number)


def _size(dump: dict[str, Any]) -> tuple[int | None, int | None]:
    composite = dump.get("Composite:ImageSize")
    pairs: list[tuple[Any, Any]] = []
    if isinstance(composite, str):
        parts = composite.replace("x", " ").split()
        if len(parts) == 2:
            pairs.append((parts[0], parts[1]))
    pairs += [(dump.get(f"{g}:ImageWidth"), dump.get(f"{g}:ImageHeight")) for g in _SIZE_GROUPS]
    for width, height in pairs:
        w, h = _dimension(width), _dimension(height)
        if w is not None and h is not None:
            return w, h
    return None, None


def _dimension(value: Any) -> int | None:
    number = _number(value)
    if number is None or number != int(number) or not 0 < number < 1_000_000:
        return None
    return int(number)


def _duration(dump: dict[str, Any]) -> float | None:
    for tag in _DURATION:
        seconds = _number(dump.get(tag))
        if seconds is not None and seconds >= 0:
            return seconds
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def _first_text(dump: dict[str, Any], tags: tuple[str, ...]) -> str | None:
    for tag in tags:
        value = dump.get(tag)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            continue
        try:
            text = str(value)
        except ValueError:  # an integer with more digits than Python will print
            continue
        # Printable characters only: these fields end up in reports and terminals.
        text = "".join(ch for ch in text if ch.isprintable()).strip()
        if text:
            return text[:_MAX_TEXT]
    return None

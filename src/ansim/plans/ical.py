"""Read plans: iCalendar files (RFC 5545), JSON lists of plans and reservations, and usual routes.

iCalendar files are parsed with ``icalendar`` and recurring events expanded with
``recurring-ical-events`` over a window, so one plan comes out per occurrence (RRULE, RDATE, EXDATE
and moved occurrences handled by the library). Times: ``TZID`` and UTC (``Z``) times are converted
to Seoul time; *floating* times (no zone) are Seoul time, as every naive time in Ansim; an all-day
event keeps its date and is flagged ``all_day``. ``GEO`` is used when present, ``LOCATION`` text
otherwise; an event with neither is kept (it is reported "cannot check", never dropped).

Ansim extensions, ignored by other calendars: ``X-ANSIM-ACTIVITY`` (a preset name, see
:mod:`ansim.plans.presets`) and ``X-ANSIM-FROM`` (where the person comes from: ``lat,lon`` or a place
name) on an event.

JSON input is either a list of plans or ``{"plans": [...], "routes": [...]}``:

- a plan (reservations too): ``{"title", "place", "start", "end"?, "duration_min"?, "activity"?,
  "type"?, "from"?, "people"?}`` where ``place`` (and ``from``) is a name or address string,
  ``"lat,lon"``, or ``{"name"?, "address"?, "lat"?, "lon"?}``; ``type`` (flight, show, lodging, …)
  names a preset when ``activity`` is missing;
- a usual route: ``{"from", "to", "days", "depart", "mode"?, "duration_min"?, "title"?}`` with
  ``days`` a list (``["mon", "wed"]``, ``["월", "수"]``) or ``"weekdays"``, ``"weekends"``, ``"daily"``;
  it expands to one trip per matching day of the window.

Every problem raises :class:`~ansim.errors.InputError` naming the event (UID) or the JSON index, and
the field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ansim.errors import InputError
from ansim.plans.model import PlaceSpec, Plan
from ansim.timeutil import SEOUL, as_seoul, parse_datetime

DEFAULT_WINDOW_DAYS = 7
"""A calendar without an explicit window is read from its first event for at least this many days."""
MAX_WINDOW_DAYS = 366
"""Recurring events are never expanded over more than this many days."""

Window = tuple[datetime, datetime]

_LATLON = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")

# --- places -----------------------------------------------------------------------------------------


def _check_point(lat: float, lon: float, *, source: str, field: str) -> tuple[float, float]:
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(
            f"not a WGS84 latitude/longitude: {lat!r}, {lon!r}", source=source, field=field
        )
    return lat, lon


def place_from_text(text: str, *, source: str, field: str) -> PlaceSpec:
    """A place written as ``"lat,lon"`` (a point) or as a name or address (kept as text)."""
    raw = text.strip()
    m = _LATLON.match(raw)
    if m:
        lat, lon = _check_point(float(m[1]), float(m[2]), source=source, field=field)
        return PlaceSpec(text="", lat=lat, lon=lon)
    return PlaceSpec(text=raw)


def place_from_json(value: Any, *, source: str, field: str) -> PlaceSpec | None:
    """A JSON place: a string, ``{"name", "address", "lat", "lon"}`` or null."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return place_from_text(value, source=source, field=field)
    if not isinstance(value, Mapping):
        raise InputError("must be a place name, 'lat,lon' or an object", source=source, field=field)
    unknown = set(value) - {"name", "address", "lat", "lon", "latitude", "longitude"}
    if unknown:
        raise InputError(f"unknown place field(s) {sorted(unknown)}", source=source, field=field)
    text = " ".join(str(value[k]).strip() for k in ("name", "address") if value.get(k))
    lat_v = value.get("lat", value.get("latitude"))
    lon_v = value.get("lon", value.get("longitude"))
    if (lat_v is None) != (lon_v is None):
        raise InputError("give both lat and lon", source=source, field=field)
    if lat_v is None:
        if not text:
            raise InputError(
                "a place needs a name, an address or lat/lon", source=source, field=field
            )
        return PlaceSpec(text=text)
    try:
        lat, lon = float(lat_v), float(lon_v)
    except (TypeError, ValueError):
        raise InputError(
            f"lat/lon must be numbers, got {lat_v!r}, {lon_v!r}", source=source, field=field
        ) from None
    lat, lon = _check_point(lat, lon, source=source, field=field)
    return PlaceSpec(text=text, lat=lat, lon=lon)


# --- iCalendar --------------------------------------------------------------------------------------


def _to_seoul(value: date | datetime) -> tuple[datetime, bool]:
    """(aware Seoul time, is all-day): a date is midnight Seoul; a floating time is Seoul time."""
    if isinstance(value, datetime):
        return as_seoul(value), False
    return datetime.combine(value, time(), tzinfo=SEOUL), True


def _text(component: Any, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    return str(value).strip()


def _categories(component: Any) -> tuple[str, ...]:
    value = component.get("CATEGORIES")
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        cats = getattr(item, "cats", None)
        out.extend(str(c) for c in (cats if cats is not None else [item]))
    return tuple(out)


def _uid_label(component: Any, index: int) -> str:
    uid = _text(component, "UID")
    return uid or f"#{index + 1} ({_text(component, 'SUMMARY') or 'untitled'})"


def _validate_event(component: Any, *, index: int, source: str) -> None:
    """Raise on the properties the reader needs: DTSTART, DTEND/DURATION, GEO, RRULE, EXDATE."""
    where = f"{source} (event {_uid_label(component, index)})"
    for prop, message in getattr(component, "errors", ()):
        raise InputError(message, source=where, field=str(prop))
    if component.get("DTSTART") is None:
        raise InputError("missing start time", source=where, field="DTSTART")
    start = component.decoded("DTSTART")
    if not isinstance(start, (date, datetime)):
        raise InputError(f"not a date or time: {start!r}", source=where, field="DTSTART")
    if component.get("DTEND") is not None:
        end = component.decoded("DTEND")
        if type(end) is not type(start):
            raise InputError(
                "DTEND and DTSTART must both be dates or both times", source=where, field="DTEND"
            )
        s, _ = _to_seoul(start)
        e, _ = _to_seoul(end)
        if e < s:
            raise InputError("ends before it starts", source=where, field="DTEND")
    elif component.get("DURATION") is not None:
        duration = component.decoded("DURATION")
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            raise InputError(
                f"not a positive duration: {duration!r}", source=where, field="DURATION"
            )
    geo = component.get("GEO")
    if geo is not None:
        _check_point(float(geo.latitude), float(geo.longitude), source=where, field="GEO")


def default_window(spans: Iterable[tuple[datetime, datetime, bool]]) -> Window:
    """The window of a calendar read without ``--from/--to``.

    ``spans`` are ``(start, end, recurring)`` of every event. The window starts on the day of the
    first one-off event, or of a recurring series starting up to :data:`DEFAULT_WINDOW_DAYS` before
    it (older series, such as birthdays, do not drag it back years); with only recurring events, at
    the first of them. It ends with the last one-off event, at least :data:`DEFAULT_WINDOW_DAYS`
    after its start and at most :data:`MAX_WINDOW_DAYS`.
    """
    items = list(spans)
    if not items:
        today = datetime.now(SEOUL).replace(hour=0, minute=0, second=0, microsecond=0)
        return today, today + timedelta(days=DEFAULT_WINDOW_DAYS)
    single = [(s, e) for s, e, recurring in items if not recurring]
    if single:
        first = min(s for s, _ in single)
        near = [
            s for s, _, r in items if r and first - timedelta(days=DEFAULT_WINDOW_DAYS) <= s < first
        ]
        start = min([first, *near])
        end = max(e for _, e in single)
    else:
        start = min(s for s, _, _ in items)
        end = start
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    end = max(end, start + timedelta(days=DEFAULT_WINDOW_DAYS))
    return start, min(end, start + timedelta(days=MAX_WINDOW_DAYS))


def _occurrence_end(component: Any, start: date | datetime) -> date | datetime:
    if component.get("DTEND") is not None:
        end: date | datetime = component.decoded("DTEND")
        return end
    if component.get("DURATION") is not None:
        later: date | datetime = start + component.decoded("DURATION")
        return later
    # RFC 5545 §3.6.1: a date lasts one day, a time with neither DTEND nor DURATION is an instant
    return start + timedelta(days=1) if not isinstance(start, datetime) else start


def read_ics(
    data: bytes | str,
    *,
    source: str = "calendar",
    window: Window | None = None,
) -> tuple[list[Plan], Window]:
    """Plans of an iCalendar text, one per occurrence inside ``window`` (default: :func:`default_window`).

    Returns the plans sorted by start, and the window used.
    """
    import icalendar
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, KeyError, IndexError) as exc:
        raise InputError(f"not an iCalendar file: {exc}", source=source) from None
    events = list(calendar.walk("VEVENT"))
    spans: list[tuple[datetime, datetime, bool]] = []
    series_uids: set[str] = set()
    for i, component in enumerate(events):
        _validate_event(component, index=i, source=source)
        start_v = component.decoded("DTSTART")
        s, _ = _to_seoul(start_v)
        e, _ = _to_seoul(_occurrence_end(component, start_v))
        recurring = component.get("RRULE") is not None or component.get("RDATE") is not None
        if recurring or component.get("RECURRENCE-ID") is not None:
            series_uids.add(_text(component, "UID"))
        if component.get("RECURRENCE-ID") is None:
            spans.append((s, e, recurring))
    win = window or default_window(spans)
    if win[1] <= win[0]:
        raise InputError("the window ends before it starts", source=source, field="window")
    # One-off events are taken as they are; only series (and their moved occurrences, which share
    # the UID) go through recurring-ical-events, which is where the expansion cost is.
    occurrences = []
    series = icalendar.Calendar()
    for component in calendar.subcomponents:
        if component.name == "VEVENT" and _text(component, "UID") not in series_uids:
            start, _ = _to_seoul(component.decoded("DTSTART"))
            end, _ = _to_seoul(_occurrence_end(component, component.decoded("DTSTART")))
            # RFC 5545 overlap: an instant counts when it is inside the window
            if start < win[1] and (end > win[0] or (end == start and start >= win[0])):
                occurrences.append(component)
        else:
            series.add_component(component)
    if series_uids:
        try:
            occurrences += recurring_ical_events.of(series).between(win[0], win[1])
        except InputError:
            raise
        except Exception as exc:  # the library raises its own error types for broken series
            raise InputError(
                f"cannot expand recurring events: {exc}", source=source, field="RRULE"
            ) from None
    plans = [_plan_of_occurrence(ev, source=source) for ev in occurrences]
    plans.sort(key=lambda p: (p.start, p.title))
    return plans, win


def _plan_of_occurrence(component: Any, *, source: str) -> Plan:
    uid = _text(component, "UID")
    where = f"{source} (event {uid or _text(component, 'SUMMARY') or 'untitled'})"
    start_v = component.decoded("DTSTART")
    start, all_day = _to_seoul(start_v)
    end, _ = _to_seoul(_occurrence_end(component, start_v))
    location = _text(component, "LOCATION")
    geo = component.get("GEO")
    place: PlaceSpec | None
    if geo is not None:
        place = PlaceSpec(text=location, lat=float(geo.latitude), lon=float(geo.longitude))
    elif location:
        place = place_from_text(location, source=where, field="LOCATION")
    else:
        place = None
    origin_text = _text(component, "X-ANSIM-FROM")
    origin = (
        place_from_text(origin_text, source=where, field="X-ANSIM-FROM") if origin_text else None
    )
    activity = _text(component, "X-ANSIM-ACTIVITY") or None
    status = _text(component, "STATUS").upper()
    return Plan(
        title=_text(component, "SUMMARY") or "(untitled)",
        start=start,
        end=end,
        place=place,
        activity=activity,
        origin=origin,
        ref=uid,
        all_day=all_day,
        categories=_categories(component),
        skip_reason="the event is cancelled" if status == "CANCELLED" else None,
    )


# --- JSON -------------------------------------------------------------------------------------------

_DAY_NAMES: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday", "mo", "월", "월요일"),
        ("tue", "tuesday", "tu", "화", "화요일"),
        ("wed", "wednesday", "we", "수", "수요일"),
        ("thu", "thursday", "th", "목", "목요일"),
        ("fri", "friday", "fr", "금", "금요일"),
        ("sat", "saturday", "sa", "토", "토요일"),
        ("sun", "sunday", "su", "일", "일요일"),
    )
):
    for _n in _names:
        _DAY_NAMES[_n] = _i
_DAY_GROUPS = {
    "daily": tuple(range(7)),
    "everyday": tuple(range(7)),
    "매일": tuple(range(7)),
    "weekdays": (0, 1, 2, 3, 4),
    "평일": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
    "weekend": (5, 6),
    "주말": (5, 6),
}
RESERVATION_TYPES = {
    "flight": "flight",
    "show": "concert",
    "concert": "concert",
    "event": "concert",
    "lodging": "lodging",
    "hotel": "lodging",
    "restaurant": "restaurant",
    "movie": "cinema",
    "cinema": "cinema",
    "train": "subway",
    "bus": "bus",
}
"""Reservation ``type`` → activity preset (when the reservation names no activity)."""
ROUTE_SPEED_KMH = 25.0
"""Door-to-door speed of a usual trip by subway or bus when no duration is given (waits included)."""
ROUTE_OVERHEAD_MIN = 10.0
"""Walking to and waiting at the stops."""


def parse_days(value: Any, *, source: str, field: str) -> tuple[int, ...]:
    """Weekdays (0 = Monday) of a usual route: a list of names or a group name."""
    items: list[Any]
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _DAY_GROUPS:
            return _DAY_GROUPS[key]
        # "월화수목금" or "mon,wed"
        items = list(key) if re.fullmatch(r"[월화수목금토일]+", key) else re.split(r"[,\s]+", key)
    elif isinstance(value, list):
        items = value
    else:
        raise InputError(
            "must be a list of weekdays or weekdays/weekends/daily", source=source, field=field
        )
    days: list[int] = []
    for item in items:
        key = str(item).strip().lower()
        if key in _DAY_GROUPS:
            days.extend(_DAY_GROUPS[key])
        elif key in _DAY_NAMES:
            days.append(_DAY_NAMES[key])
        elif key:
            raise InputError(f"unknown weekday {item!r}", source=source, field=field)
    if not days:
        raise InputError("no weekday given", source=source, field=field)
    return tuple(sorted(set(days)))


def _time(value: Any, *, source: str, field: str) -> datetime:
    if not isinstance(value, str):
        raise InputError(f"must be a time string, got {value!r}", source=source, field=field)
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise InputError(str(exc), source=source, field=field) from None


def _number(value: Any, *, source: str, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"not a number: {value!r}", source=source, field=field) from None
    if not math.isfinite(number) or number < 0:
        raise InputError(f"must be a number >= 0, got {value!r}", source=source, field=field)
    return number


_PLAN_FIELDS = {
    "title",
    "place",
    "location",
    "start",
    "end",
    "duration_min",
    "activity",
    "type",
    "from",
    "people",
    "id",
    "all_day",
}


def plan_from_json(item: Any, *, index: int, source: str) -> Plan:
    """One JSON plan or reservation (see the module docstring)."""
    where = f"[{index}]"
    if not isinstance(item, Mapping):
        raise InputError("must be an object", source=source, field=where)
    unknown = set(item) - _PLAN_FIELDS
    if unknown:
        raise InputError(f"unknown field(s) {sorted(unknown)}", source=source, field=where)
    title = str(item.get("title") or item.get("type") or "(untitled)")
    if "start" not in item:
        raise InputError("missing start time", source=source, field=f"{where}.start")
    start = _time(item["start"], source=source, field=f"{where}.start")
    if item.get("end") is not None:
        end = _time(item["end"], source=source, field=f"{where}.end")
        if end < start:
            raise InputError("ends before it starts", source=source, field=f"{where}.end")
    elif item.get("duration_min") is not None:
        end = start + timedelta(
            minutes=_number(item["duration_min"], source=source, field=f"{where}.duration_min")
        )
    else:
        end = start
    place = place_from_json(
        item.get("place", item.get("location")), source=source, field=f"{where}.place"
    )
    origin = place_from_json(item.get("from"), source=source, field=f"{where}.from")
    activity = item.get("activity")
    if activity is not None and not isinstance(activity, (str, Mapping)):
        raise InputError(
            "must be a preset name or an object", source=source, field=f"{where}.activity"
        )
    kind: str = "plan"
    rtype = item.get("type")
    if rtype is not None:
        rkey = str(rtype).strip().lower()
        if rkey not in RESERVATION_TYPES:
            raise InputError(
                f"unknown reservation type {rtype!r}; one of {', '.join(RESERVATION_TYPES)}",
                source=source,
                field=f"{where}.type",
            )
        kind = "reservation"
        if activity is None:
            activity = RESERVATION_TYPES[rkey]
    people = item.get("people")
    return Plan(
        title=title,
        start=start,
        end=end,
        place=place,
        activity=activity,
        origin=origin,
        ref=str(item.get("id") or where),
        all_day=bool(item.get("all_day", False)),
        kind=kind,  # type: ignore[arg-type]
        people=None if people is None else _number(people, source=source, field=f"{where}.people"),
    )


_ROUTE_FIELDS = {"title", "from", "to", "days", "depart", "mode", "duration_min", "id"}
_ROUTE_MODES = {"subway": "subway", "bus": "bus", "walk": "park_walk", "metro": "subway"}


def trips_from_route(item: Any, *, index: int, source: str, window: Window) -> list[Plan]:
    """The trips of one usual route inside ``window`` (one per matching weekday)."""
    where = f"routes[{index}]"
    if not isinstance(item, Mapping):
        raise InputError("must be an object", source=source, field=where)
    unknown = set(item) - _ROUTE_FIELDS
    if unknown:
        raise InputError(f"unknown field(s) {sorted(unknown)}", source=source, field=where)
    for key in ("from", "to", "days", "depart"):
        if item.get(key) in (None, ""):
            raise InputError("missing", source=source, field=f"{where}.{key}")
    origin = place_from_json(item["from"], source=source, field=f"{where}.from")
    destination = place_from_json(item["to"], source=source, field=f"{where}.to")
    days = parse_days(item["days"], source=source, field=f"{where}.days")
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(item["depart"]))
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise InputError(
            f"must be HH:MM, got {item['depart']!r}", source=source, field=f"{where}.depart"
        )
    depart = time(int(m[1]), int(m[2]))
    mode = str(item.get("mode", "subway")).strip().lower()
    if mode not in _ROUTE_MODES:
        raise InputError(
            f"unknown mode {mode!r}; one of {', '.join(_ROUTE_MODES)}",
            source=source,
            field=f"{where}.mode",
        )
    duration = (
        _number(item["duration_min"], source=source, field=f"{where}.duration_min")
        if item.get("duration_min") is not None
        else None
    )
    title = str(
        item.get("title")
        or f"{(origin or PlaceSpec()).label()} → {(destination or PlaceSpec()).label()}"
    )
    trips = []
    day = window[0].date()
    while day <= window[1].date():
        start = datetime.combine(day, depart, tzinfo=SEOUL)
        if day.weekday() in days and window[0] <= start < window[1]:
            trips.append(
                Plan(
                    title=title,
                    start=start,
                    # without a duration the checker estimates it once the places are resolved
                    end=start + timedelta(minutes=duration or 0.0),
                    place=destination,
                    activity=_ROUTE_MODES[mode],
                    origin=origin,
                    ref=str(item.get("id") or where),
                    kind="trip",
                )
            )
        day += timedelta(days=1)
    return trips


def trip_minutes(origin: tuple[float, float], destination: tuple[float, float]) -> float:
    """Door-to-door minutes of a ride between two points: straight-line km / 25 km/h + 10 min."""
    dy = (destination[0] - origin[0]) * 110_940.0
    dx = (destination[1] - origin[1]) * 111_320.0 * math.cos(math.radians(origin[0]))
    km = math.hypot(dx, dy) / 1000.0
    return float(round(km / ROUTE_SPEED_KMH * 60.0 + ROUTE_OVERHEAD_MIN))


def read_plans_json(
    data: bytes | str,
    *,
    source: str = "plans",
    window: Window | None = None,
) -> tuple[list[Plan], Window]:
    """Plans of a JSON document (a list of plans, or ``{"plans": [...], "routes": [...]}``)."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise InputError(f"not JSON: {exc}", source=source) from None
    return plans_from_document(raw, source=source, window=window)


def plans_from_document(
    raw: Any, *, source: str = "plans", window: Window | None = None
) -> tuple[list[Plan], Window]:
    """Like :func:`read_plans_json` for an already decoded document (what the API receives)."""
    routes: list[Any]
    if isinstance(raw, list):
        items, routes = raw, []
    elif isinstance(raw, Mapping):
        unknown = set(raw) - {"plans", "routes"}
        if unknown:
            raise InputError(f"unknown field(s) {sorted(unknown)}", source=source)
        items, routes = raw.get("plans") or [], raw.get("routes") or []
        if not isinstance(items, list) or not isinstance(routes, list):
            raise InputError("plans and routes must be lists", source=source)
    else:
        raise InputError("must be a list of plans or {plans, routes}", source=source)
    plans = [plan_from_json(item, index=i, source=source) for i, item in enumerate(items)]
    win = window or default_window((p.start, p.end, False) for p in plans)
    for i, route in enumerate(routes):
        plans.extend(trips_from_route(route, index=i, source=source, window=win))
    plans.sort(key=lambda p: (p.start, p.title))
    return plans, win


def read_plans(path: Path | str, *, window: Window | None = None) -> tuple[list[Plan], Window]:
    """Plans of a file: ``.ics``/``.ical``/``.ifb`` as iCalendar, ``.json`` as JSON (by content otherwise)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(p)) from None
    suffix = p.suffix.lower()
    if suffix in (".ics", ".ical", ".ifb", ".icalendar") or data.lstrip()[:15].upper().startswith(
        b"BEGIN:VCALENDAR"
    ):
        return read_ics(data, source=p.name, window=window)
    if suffix == ".json" or data.lstrip()[:1] in (b"[", b"{"):
        text = data.decode("utf-8-sig", errors="replace")
        return read_plans_json(text, source=p.name, window=window)
    raise InputError("not an iCalendar (.ics) or JSON (.json) file", source=str(p))

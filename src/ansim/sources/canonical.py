"""Ansim's own interchange formats, one per record type, so any city or feed can be loaded.

Each format is a CSV file with a header, or JSON (an array of objects, or ``{"records": [...]}``)
with the same field names; files may be gzip-compressed and in UTF-8 (with or without BOM) or
CP949. The formats are documented in ``docs/formats.md``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ansim.errors import InputError
from ansim.records import CASE_COLUMNS, CROWD_COLUMNS, PRECISION_RADIUS_M, ExposureEvent, Place
from ansim.sources.csvio import (
    Table,
    dates,
    latitudes,
    longitudes,
    mapped,
    numbers,
    read_csv_table,
    require_text,
)
from ansim.sources.encoding import read_text
from ansim.timeutil import parse_datetime

CASE_FIELDS = ("region_code", "date", "new_cases", "source")
EXPOSURE_FIELDS = ("source", "source_record_id", "lat", "lon", "start", "end")
EXPOSURE_OPTIONAL = (
    "radius_m",
    "place_name",
    "address",
    "region_code",
    "precision",
    "place_type",
    "cases",
)
CROWD_FIELDS = ("area", "period_start", "period_s", "count", "source")
PLACE_FIELDS = ("kind", "source_id", "name_ko", "lat", "lon")
PLACE_OPTIONAL = ("name_en", "region_code", "aliases")


def read_table(
    path: Path | str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Table:
    """Read a canonical CSV or JSON file into a text :class:`Table` (JSON chosen by name or content)."""
    p = Path(path)
    decoded = read_text(p)
    head = decoded.text.lstrip()[:1]
    is_json = head in ("[", "{") or p.name.removesuffix(".gz").endswith(".json")
    if not is_json:
        table = read_csv_table(p, required=required)
    else:
        table = _json_table(p.name, decoded.text, decoded.encoding, required)
    for column in optional:
        if column not in table.frame.columns:
            table.frame[column] = ""
    return table


def _json_table(name: str, text: str, encoding: str, required: tuple[str, ...]) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} at line {exc.lineno}", source=name) from None
    records = data.get("records") if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise InputError('expected an array of objects or {"records": [...]}', source=name, row=0)
    rows = []
    for i, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise InputError("record is not an object", source=name, row=i)
        for key in required:
            if record.get(key) is None:
                raise InputError("missing field", source=name, row=i, field=key)
        rows.append(
            {
                k: ("|".join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v))
                for k, v in record.items()
            }
        )
    frame = (
        pd.DataFrame(rows, dtype=object).fillna("").astype(str)
        if rows
        else pd.DataFrame({k: pd.Series([], dtype=str) for k in required})
    )
    return Table(source=name, frame=frame, encoding=encoding)


def read_cases(path: Path | str) -> pd.DataFrame:
    """Canonical daily cases → ``CASE_COLUMNS`` (``date`` as ``YYYY-MM-DD``, ``new_cases`` >= 0)."""
    table = read_table(path, required=CASE_FIELDS)
    out = pd.DataFrame(
        {
            "region_code": require_text(table, "region_code"),
            "date": dates(table, "date"),
            "new_cases": numbers(
                table, "new_cases", minimum=0, integer=True, what="case count"
            ).astype(np.int64),
            "source": require_text(table, "source"),
        }
    )
    _no_duplicates(table, out, ["source", "region_code", "date"], "date")
    return out[list(CASE_COLUMNS)]


def read_crowd(path: Path | str) -> pd.DataFrame:
    """Canonical crowd observations → ``CROWD_COLUMNS`` (``period_start`` ISO 8601, naive = Seoul)."""
    table = read_table(path, required=CROWD_FIELDS)
    start = mapped(table, "period_start", parse_datetime, what="time")
    out = pd.DataFrame(
        {
            "area": require_text(table, "area"),
            "period_start": pd.to_datetime(start, utc=True).dt.tz_convert("Asia/Seoul"),
            "period_s": numbers(
                table, "period_s", minimum=1, integer=True, what="duration in seconds"
            ).astype(np.int64),
            "count": numbers(table, "count", minimum=0, what="count"),
            "source": require_text(table, "source"),
        }
    )
    _no_duplicates(table, out, ["source", "area", "period_start", "period_s"], "period_start")
    return out[list(CROWD_COLUMNS)]


def read_exposures(path: Path | str) -> list[ExposureEvent]:
    """Canonical exposure events (one visit window at a point with an uncertainty radius)."""
    table = read_table(path, required=EXPOSURE_FIELDS, optional=EXPOSURE_OPTIONAL)
    source = require_text(table, "source")
    record_id = require_text(table, "source_record_id")
    lat = latitudes(table, "lat")
    lon = longitudes(table, "lon")
    start = mapped(table, "start", parse_datetime, what="time")
    end = mapped(table, "end", parse_datetime, what="time")
    precision = mapped(
        table,
        "precision",
        lambda v: v or "point" if (v or "point") in PRECISION_RADIUS_M else _raise(v),
        what=f"precision ({', '.join(PRECISION_RADIUS_M)})",
    )
    radius = numbers(
        table, "radius_m", minimum=0, maximum=100_000, allow_empty=True, what="radius in metres"
    )
    cases = numbers(table, "cases", minimum=0, integer=True, allow_empty=True, what="case count")
    seen: dict[tuple[str, str], int] = {}
    events = []
    for i in range(len(table)):
        s: datetime = start.iat[i]
        e: datetime = end.iat[i]
        if e <= s:
            table.fail(i, "end", "end is not after start")
        key = (source.iat[i], record_id.iat[i])
        if key in seen:
            table.fail(i, "source_record_id", f"repeats row {seen[key]}")
        seen[key] = i + 1
        prec = precision.iat[i]
        events.append(
            ExposureEvent(
                source=key[0],
                source_record_id=key[1],
                lat=float(lat.iat[i]),
                lon=float(lon.iat[i]),
                start=s,
                end=e,
                radius_m=float(radius.iat[i])
                if not np.isnan(radius.iat[i])
                else PRECISION_RADIUS_M[prec],
                place_name=table.frame["place_name"].iat[i].strip(),
                address=table.frame["address"].iat[i].strip(),
                region_code=table.frame["region_code"].iat[i].strip() or None,
                precision=prec,
                place_type=table.frame["place_type"].iat[i].strip(),
                cases=int(cases.iat[i]) if not np.isnan(cases.iat[i]) else 1,
            )
        )
    return events


def read_places(path: Path | str) -> list[Place]:
    """Canonical gazetteer places; ``aliases`` separated by ``|``."""
    table = read_table(path, required=PLACE_FIELDS, optional=PLACE_OPTIONAL)
    kind = require_text(table, "kind")
    source_id = require_text(table, "source_id")
    name = require_text(table, "name_ko")
    lat = latitudes(table, "lat")
    lon = longitudes(table, "lon")
    seen: dict[tuple[str, str], int] = {}
    places = []
    for i in range(len(table)):
        key = (kind.iat[i], source_id.iat[i])
        if key in seen:
            table.fail(i, "source_id", f"repeats row {seen[key]}")
        seen[key] = i + 1
        aliases = tuple(a.strip() for a in table.frame["aliases"].iat[i].split("|") if a.strip())
        places.append(
            Place(
                kind=key[0],
                source_id=key[1],
                name_ko=name.iat[i],
                lat=float(lat.iat[i]),
                lon=float(lon.iat[i]),
                name_en=table.frame["name_en"].iat[i].strip(),
                region_code=table.frame["region_code"].iat[i].strip() or None,
                aliases=aliases,
            )
        )
    return places


def _raise(value: str) -> str:
    raise ValueError(value)


def _no_duplicates(table: Table, frame: pd.DataFrame, key: list[str], column: str) -> None:
    dup = frame.duplicated(key)
    if dup.any():
        table.fail(int(np.argmax(dup.to_numpy())), column, "repeats an earlier row's key")

"""DS4C (Kaggle "coronavirusdataset") tables: provinces, floating population, routes, clusters, covariates."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ansim.records import CASE_COLUMNS, CROWD_COLUMNS, PRECISION_RADIUS_M, ExposureEvent
from ansim.sources._regions import best_region_code, gu_code, province_code
from ansim.sources.csvio import (
    dates,
    latitudes,
    longitudes,
    mapped,
    numbers,
    read_csv_table,
    require_text,
)
from ansim.timeutil import SEOUL

TIME_PROVINCE_SOURCE = "ds4c-time-province"
FLOATING_SOURCE = "ds4c-floating"
PATIENT_ROUTE_SOURCE = "ds4c-patient-route"
CASE_SOURCE = "ds4c-case"
# Case.csv gives no dates: a cluster is taken as active over the whole DS4C period.
DS4C_PERIOD = (datetime(2020, 1, 20, tzinfo=SEOUL), datetime(2020, 7, 1, tzinfo=SEOUL))


def read_time_province(path: Path | str) -> pd.DataFrame:
    """Daily new cases per province from DS4C ``TimeProvince`` (cumulative), as ``CASE_COLUMNS``.

    ``new_cases`` is the day-to-day difference of ``confirmed`` (the first day keeps its value);
    the two negative differences in the file (reclassified cases) are clipped to 0.
    """
    table = read_csv_table(path, required=["date", "province", "confirmed"])
    day = dates(table, "date")
    code = mapped(table, "province", province_code, what="province")
    confirmed = numbers(table, "confirmed", minimum=0, integer=True, what="case count")
    frame = pd.DataFrame(
        {"region_code": code, "date": day, "confirmed": confirmed.astype(np.int64)}
    )
    dup = frame.duplicated(["region_code", "date"])
    if dup.any():
        table.fail(
            int(np.argmax(dup.to_numpy())), "date", "second row for the same province and date"
        )
    frame = frame.sort_values(["region_code", "date"], ignore_index=True)
    diff = frame.groupby("region_code")["confirmed"].diff()
    frame["new_cases"] = diff.fillna(frame["confirmed"]).clip(lower=0).astype(np.int64)
    frame["source"] = TIME_PROVINCE_SOURCE
    return frame.sort_values(["date", "region_code"], ignore_index=True)[list(CASE_COLUMNS)]


def read_seoul_floating(path: Path | str) -> pd.DataFrame:
    """SK Telecom floating population per Seoul gu and hour (summed over age and sex), ``CROWD_COLUMNS``.

    DS4C spells 동작구 ``Dongjag-gu``; the region crosswalk knows it.
    """
    table = read_csv_table(path, required=["date", "hour", "city", "fp_num"])
    day = dates(table, "date")
    hour = numbers(table, "hour", minimum=0, maximum=23, integer=True, what="hour")
    area = mapped(table, "city", gu_code, what="Seoul gu")
    count = numbers(table, "fp_num", minimum=0, what="population count")
    frame = pd.DataFrame({"area": area, "day": day, "hour": hour.astype(np.int64), "count": count})
    summed = frame.groupby(["day", "hour", "area"], as_index=False, sort=True)["count"].sum()
    start = pd.to_datetime(summed["day"].astype(str)) + pd.to_timedelta(summed["hour"], unit="h")
    return pd.DataFrame(
        {
            "area": summed["area"],
            "period_start": start.dt.tz_localize(SEOUL),
            "period_s": np.int64(3600),
            "count": summed["count"].astype(float),
            "source": FLOATING_SOURCE,
        }
    )[list(CROWD_COLUMNS)]


def read_patient_route(path: Path | str) -> list[ExposureEvent]:
    """Places visited by confirmed patients (DS4C ``PatientRoute``), one event per patient, day and point.

    A visit is known to the day only, so its window is that Seoul day. Rows repeating the same
    patient, day and point (645 exact duplicates in the file) collapse into one event whose
    ``source_record_id`` is a stable hash of those values, so overlapping files never double count.
    """
    table = read_csv_table(
        path, required=["patient_id", "date", "province", "city", "type", "latitude", "longitude"]
    )
    patient = require_text(table, "patient_id")
    day = dates(table, "date")
    lat = latitudes(table, "latitude")
    lon = longitudes(table, "longitude")
    province = table.text("province")
    city = table.text("city")
    kind = table.text("type")
    codes = {(p, c): best_region_code(p, c) for p, c in set(zip(province, city, strict=True))}
    events: dict[str, ExposureEvent] = {}
    for i in range(len(table)):
        key = f"{patient.iat[i]}|{day.iat[i].isoformat()}|{lat.iat[i]:.7f}|{lon.iat[i]:.7f}"
        record_id = hashlib.sha1(key.encode()).hexdigest()[:16]
        if record_id in events:
            continue
        start = datetime.combine(day.iat[i], time(), tzinfo=SEOUL)
        events[record_id] = ExposureEvent(
            source=PATIENT_ROUTE_SOURCE,
            source_record_id=record_id,
            lat=float(lat.iat[i]),
            lon=float(lon.iat[i]),
            start=start,
            end=start + timedelta(days=1),
            radius_m=PRECISION_RADIUS_M["point"],
            region_code=codes[(province.iat[i], city.iat[i])],
            precision="point",
            place_type=kind.iat[i],
        )
    return list(events.values())


@dataclass(frozen=True, slots=True)
class ClusterRead:
    """Clusters read from ``Case.csv``: the events with coordinates, and how many rows had none."""

    events: list[ExposureEvent]
    without_coordinates: int


def read_case_clusters(path: Path | str) -> ClusterRead:
    """Infection clusters of DS4C ``Case`` with coordinates, as place-precision exposure events.

    Rows whose latitude/longitude is ``-`` (no known place: 109 of 174) are skipped and counted.
    The file has no dates, so each cluster spans the DS4C period (:data:`DS4C_PERIOD`).
    """
    table = read_csv_table(
        path,
        required=[
            "case_id",
            "province",
            "city",
            "infection_case",
            "confirmed",
            "latitude",
            "longitude",
        ],
    )
    case_id = require_text(table, "case_id")
    confirmed = numbers(
        table, "confirmed", minimum=0, integer=True, allow_empty=True, what="case count"
    )
    no_place = ((table.text("latitude") == "-") | (table.text("longitude") == "-")).to_numpy()
    table_with = table.subset(~no_place)
    lat = latitudes(table_with, "latitude")
    lon = longitudes(table_with, "longitude")
    rows = np.flatnonzero(~no_place)
    events = []
    for j, i in enumerate(rows):
        province = table.frame["province"].iat[i].strip()
        city = table.frame["city"].iat[i].strip()
        n = confirmed.iat[i]
        events.append(
            ExposureEvent(
                source=CASE_SOURCE,
                source_record_id=case_id.iat[i],
                lat=float(lat.iat[j]),
                lon=float(lon.iat[j]),
                start=DS4C_PERIOD[0],
                end=DS4C_PERIOD[1],
                radius_m=PRECISION_RADIUS_M["place"],
                place_name=table.frame["infection_case"].iat[i].strip(),
                region_code=best_region_code(province, city),
                precision="place",
                place_type="cluster",
                cases=int(n) if not np.isnan(n) else 1,
            )
        )
    return ClusterRead(events=events, without_coordinates=int(no_place.sum()))


def read_cases(path: Path | str) -> list[ExposureEvent]:
    """The clusters with coordinates (see :func:`read_case_clusters`)."""
    return read_case_clusters(path).events


def read_weather(path: Path | str) -> pd.DataFrame:
    """Daily weather per province (DS4C ``Weather``, from KMA); missing measurements are NaN.

    Columns: ``region_code``, ``date``, ``avg_temp_c``, ``min_temp_c``, ``max_temp_c``,
    ``precipitation_mm``, ``max_wind_speed_ms``, ``most_wind_direction_deg``, ``avg_relative_humidity_pct``.
    """
    spec = {
        "avg_temp": ("avg_temp_c", -60, 60),
        "min_temp": ("min_temp_c", -60, 60),
        "max_temp": ("max_temp_c", -60, 60),
        "precipitation": ("precipitation_mm", 0, 2000),
        "max_wind_speed": ("max_wind_speed_ms", 0, 150),
        "most_wind_direction": ("most_wind_direction_deg", 0, 360),
        "avg_relative_humidity": ("avg_relative_humidity_pct", 0, 100),
    }
    table = read_csv_table(path, required=["province", "date", *spec])
    out = pd.DataFrame(
        {
            "region_code": mapped(table, "province", province_code, what="province"),
            "date": dates(table, "date"),
        }
    )
    for column, (name, low, high) in spec.items():
        out[name] = numbers(table, column, minimum=low, maximum=high, allow_empty=True)
    dup = out.duplicated(["region_code", "date"])
    if dup.any():
        table.fail(
            int(np.argmax(dup.to_numpy())), "date", "second row for the same province and date"
        )
    return out


def read_policy(path: Path | str) -> pd.DataFrame:
    """Government policy timeline (DS4C ``Policy``): ``policy_id``, ``country``, ``type``, ``gov_policy``,
    ``detail``, ``start_date``, ``end_date`` (``None`` while in force)."""
    table = read_csv_table(
        path,
        required=["policy_id", "country", "type", "gov_policy", "detail", "start_date", "end_date"],
    )
    end_raw = table.text("end_date")
    ended = table.subset((end_raw != "").to_numpy())
    end = pd.Series([None] * len(table), dtype=object)
    end[(end_raw != "").to_numpy()] = dates(ended, "end_date").to_numpy()
    out = pd.DataFrame(
        {
            "policy_id": numbers(table, "policy_id", minimum=0, integer=True).astype(np.int64),
            "country": table.text("country"),
            "type": require_text(table, "type"),
            "gov_policy": require_text(table, "gov_policy"),
            "detail": table.text("detail"),
            "start_date": dates(table, "start_date"),
            "end_date": end,
        }
    )
    return out


def read_region(path: Path | str) -> pd.DataFrame:
    """DS4C ``Region`` covariates per city: the DS4C code and names, our ``region_code`` where known
    (provinces and Seoul gu, else ``None``), coordinates and the school / elderly / nursing-home columns."""
    table = read_csv_table(path, required=["code", "province", "city", "latitude", "longitude"])
    province = table.text("province")
    city = table.text("city")
    region_code = [
        (best_region_code(p, c) if c != p else best_region_code(p, ""))
        for p, c in zip(province, city, strict=True)
    ]
    # Only a province row (city == province) or a Seoul gu row maps exactly; other cities stay None.
    exact = [
        rc if (c == p or (rc is not None and len(rc) == 5)) else None
        for rc, p, c in zip(region_code, province, city, strict=True)
    ]
    out = pd.DataFrame(
        {
            "ds4c_code": require_text(table, "code"),
            "province": province,
            "city": city,
            "region_code": exact,
            "lat": latitudes(table, "latitude"),
            "lon": longitudes(table, "longitude"),
        }
    )
    for column in table.frame.columns:
        if column not in {"code", "province", "city", "latitude", "longitude"}:
            out[column] = numbers(table, column, minimum=0, allow_empty=True)
    return out

"""Seoul Open Data tables: daily confirmed cases per gu, KT living population, resident population."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ansim.geo.regions import seoul_districts
from ansim.records import CASE_COLUMNS, CROWD_COLUMNS
from ansim.sources._regions import gu_code
from ansim.sources.csvio import dates, mapped, numbers, read_csv_table, require_text
from ansim.timeutil import SEOUL

GU_CASES_SOURCE = "seoul-cases"
LIVING_SOURCE = "seoul-living"
DATE_COLUMN = "자치구 기준일"
# The published header spells 서초구 as 서추구 in one column.
_HEADER_FIXES = {"서추구 추가": "서초구 추가", "서추구 전체": "서초구 전체"}


def read_gu_daily_cases(path: Path | str) -> pd.DataFrame:
    """Daily new confirmed cases per Seoul gu (``TbCorona19CountStatusJCG``), as ``CASE_COLUMNS``.

    The file is wide (``<gu> 전체`` cumulative, ``<gu> 추가`` new, per gu plus 기타 "other"), newest
    first, with dates spelled ``2021.06.30.00`` or ``20.02.05.10``. We keep the ``추가`` (new)
    columns of the 25 gu, drop 기타, repair the ``서추구`` header typo and keep the first (newest
    published) of rows repeating a date (2021.05.12 appears twice, identically).
    """
    names = [r.name_ko for r in seoul_districts()]
    columns = [f"{n} 추가" for n in names]
    table = read_csv_table(path, required=[DATE_COLUMN, *columns], header_aliases=_HEADER_FIXES)
    day = dates(table, DATE_COLUMN)
    keep = ~day.duplicated(keep="first").to_numpy()
    parts = []
    for name, column in zip(names, columns, strict=True):
        new = numbers(table, column, minimum=0, integer=True, what="case count")
        parts.append(
            pd.DataFrame(
                {
                    "region_code": gu_code(name),
                    "date": day[keep].to_numpy(),
                    "new_cases": new[keep].astype(np.int64).to_numpy(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["source"] = GU_CASES_SOURCE
    return out.sort_values(["date", "region_code"], ignore_index=True)[list(CASE_COLUMNS)]


def read_living_population(path: Path | str) -> pd.DataFrame:
    """KT living population (생활인구) per gu and day, as ``CROWD_COLUMNS`` (period_s 86400).

    ``count`` is 총생활인구수, the average number of people present over the day's hours. The
    city-total rows (시군구코드 11000) are dropped: they are the sum of the gu rows.
    """
    table = read_csv_table(path, required=["기준일ID", "시군구코드", "총생활인구수"])
    code = require_text(table, "시군구코드")
    keep = (code != "11000").to_numpy()
    area = mapped(
        table, "시군구코드", lambda c: c if c == "11000" else gu_code(c), what="Seoul gu code"
    )
    day = dates(table, "기준일ID")
    count = numbers(table, "총생활인구수", minimum=0, what="population count")
    out = pd.DataFrame(
        {
            "area": area[keep].to_numpy(),
            "period_start": _seoul_midnight(day[keep]),
            "period_s": np.int64(86_400),
            "count": count[keep].to_numpy(),
            "source": LIVING_SOURCE,
        }
    )
    dup = out.duplicated(["area", "period_start"], keep="first")
    if dup.any():
        position = int(np.flatnonzero(keep)[int(np.argmax(dup.to_numpy()))])
        table.fail(position, "기준일ID", "second row for the same gu and day")
    return out.sort_values(["period_start", "area"], ignore_index=True)[list(CROWD_COLUMNS)]


LIVING_FLOW_COLUMNS = {
    "총생활인구수": "present",
    "주간인구수(09~18)": "daytime",
    "자치구간이동인구수": "movers",
    "서울외유입인구수": "inflow_outside",
}
"""KT living-population columns the mobility model reads, and their names in the returned frame."""


def read_living_population_flows(path: Path | str) -> pd.DataFrame:
    """KT living population per gu and day with its movement columns (the mobility model's input).

    Returns a frame with ``area`` (5-digit gu code), ``date`` (``datetime.date``) and the counts
    ``present`` (총생활인구수: mean people present), ``daytime`` (주간인구수(09~18)), ``movers``
    (자치구간이동인구수: daily movements between gu) and ``inflow_outside`` (서울외유입인구수), sorted by
    date and gu. The city-total rows (11000) are dropped, as in :func:`read_living_population`.
    """
    table = read_csv_table(path, required=["기준일ID", "시군구코드", *LIVING_FLOW_COLUMNS])
    code = require_text(table, "시군구코드")
    keep = (code != "11000").to_numpy()
    area = mapped(
        table, "시군구코드", lambda c: c if c == "11000" else gu_code(c), what="Seoul gu code"
    )
    day = dates(table, "기준일ID")
    out = pd.DataFrame({"area": area[keep].to_numpy(), "date": day[keep].to_numpy()})
    for column, name in LIVING_FLOW_COLUMNS.items():
        values = numbers(table, column, minimum=0, what="population count")
        out[name] = values[keep].to_numpy(dtype=float)
    dup = out.duplicated(["area", "date"], keep="first")
    if dup.any():
        position = int(np.flatnonzero(keep)[int(np.argmax(dup.to_numpy()))])
        table.fail(position, "기준일ID", "second row for the same gu and day")
    return out.sort_values(["date", "area"], ignore_index=True)


def read_population(path: Path | str) -> pd.DataFrame:
    """Resident population per gu (``seoul_pop2020_gu.csv``) or per gu and dong (``…_gu_dong.csv``).

    Returns
    -------
    DataFrame with ``gu_code``, ``dong_name`` (``""`` for a gu total) and ``population``.
    """
    table = read_csv_table(path, required=["자치구", "전체"])
    gu = mapped(table, "자치구", gu_code, what="Seoul gu")
    population = numbers(table, "전체", minimum=0, integer=True, what="population")
    if "동" in table.frame.columns:
        dong = require_text(table, "동")
        dong = dong.where(dong != "소계", "")  # 소계 = the gu subtotal
    else:
        dong = pd.Series([""] * len(table), dtype=str)
    return pd.DataFrame(
        {
            "gu_code": gu.to_numpy(),
            "dong_name": dong.to_numpy(),
            "population": population.astype(np.int64).to_numpy(),
        }
    )


def _seoul_midnight(day: pd.Series) -> pd.Series:
    return pd.to_datetime(day.astype(str)).dt.tz_localize(SEOUL).reset_index(drop=True)

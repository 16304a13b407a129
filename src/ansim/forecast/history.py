"""Load a forecast history from any bundled format, by recognising its header (the shell's edge).

Every format is read by its reader in :mod:`ansim.sources`; this module only picks the reader and
turns the result into a :class:`~ansim.forecast.features.Panel`. Besides the original files (DS4C
``SeoulFloating`` and ``TimeProvince``, Seoul per-gu cases, KT living population, KDCA per-sido
cases) it accepts the canonical formats of :mod:`ansim.sources.canonical` and their short CSV form
without ``source``/``period_s`` (``area,period_start,count`` or ``region_code,date,new_cases``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ansim.errors import InputError
from ansim.forecast.features import (
    DAY_S,
    HOUR_S,
    Exog,
    Kind,
    Panel,
    gu_adjacency,
    panel_from_cases,
    panel_from_crowd,
    policy_steps,
    seoul_weather,
)
from ansim.records import CASE_COLUMNS, CROWD_COLUMNS


@dataclass(frozen=True)
class History:
    """A loaded history: what it holds and the panel built from it."""

    kind: Kind
    format: str
    panel: Panel


def _header(path: Path) -> str:
    from ansim.sources.encoding import decode, read_bytes

    raw, _ = read_bytes(path)
    text, _ = decode(
        raw[:8192].rsplit(b"\n", 1)[0] if b"\n" in raw[:8192] else raw[:8192], source=path.name
    )
    return text.lstrip("\ufeff").lstrip()


def _short_crowd(path: Path) -> pd.DataFrame:
    from ansim.sources.csvio import mapped, numbers, read_csv_table, require_text
    from ansim.timeutil import parse_datetime

    table = read_csv_table(path, required=["area", "period_start", "count"])
    start = pd.to_datetime(mapped(table, "period_start", parse_datetime, what="time"), utc=True)
    start = start.dt.tz_convert("Asia/Seoul")
    steps = np.diff(np.sort(start.unique()))
    if len(steps) == 0:
        raise InputError("need at least two periods", source=path.name, field="period_start")
    period_s = int(pd.Timedelta(np.min(steps)).total_seconds())
    if period_s not in (HOUR_S, DAY_S):
        raise InputError(
            f"periods are {period_s} s apart; expected hourly or daily",
            source=path.name,
            field="period_start",
        )
    return pd.DataFrame(
        {
            "area": require_text(table, "area"),
            "period_start": start,
            "period_s": period_s,
            "count": numbers(table, "count", minimum=0, what="count"),
            "source": path.name,
        }
    )[list(CROWD_COLUMNS)]


def _short_cases(path: Path) -> pd.DataFrame:
    from ansim.sources.csvio import dates, numbers, read_csv_table, require_text

    table = read_csv_table(path, required=["region_code", "date", "new_cases"])
    return pd.DataFrame(
        {
            "region_code": require_text(table, "region_code"),
            "date": dates(table, "date"),
            "new_cases": numbers(table, "new_cases", minimum=0, integer=True, what="case count"),
            "source": path.name,
        }
    )[list(CASE_COLUMNS)]


def _reader_for(header: str) -> tuple[str, Kind, Callable[[Path], pd.DataFrame]]:
    from ansim.sources import canonical, ds4c, kdca, seoul

    first = header.splitlines()[0] if header else ""
    cols = {c.strip().strip('"') for c in first.split(",")}
    if header.startswith(("[", "{")):
        kind: Kind = "crowd" if '"period_start"' in header else "cases"
        return (
            "canonical-json",
            kind,
            canonical.read_crowd if kind == "crowd" else canonical.read_cases,
        )
    if {"fp_num", "city", "hour"} <= cols:
        return "ds4c-floating", "crowd", ds4c.read_seoul_floating
    if "총생활인구수" in cols:
        return "seoul-living", "crowd", seoul.read_living_population
    if "자치구 기준일" in cols:
        return "seoul-gu-cases", "cases", seoul.read_gu_daily_cases
    if {"stdDay", "incDec"} <= cols:
        return "kdca-sido", "cases", kdca.read_sido_daily
    if {"province", "confirmed", "date"} <= cols:
        return "ds4c-time-province", "cases", ds4c.read_time_province
    if set(CROWD_COLUMNS) <= cols:
        return "canonical-crowd", "crowd", canonical.read_crowd
    if set(CASE_COLUMNS) <= cols:
        return "canonical-cases", "cases", canonical.read_cases
    if {"area", "period_start", "count"} <= cols:
        return "short-crowd", "crowd", _short_crowd
    if {"region_code", "date", "new_cases"} <= cols:
        return "short-cases", "cases", _short_cases
    raise InputError(
        "unrecognised history format (expected a bundled crowd or case file or the canonical "
        "columns area,period_start,count / region_code,date,new_cases)",
        field="header",
    )


def load_history(path: Path | str, *, expect: Kind | None = None) -> History:
    """Read a history file in any supported format and build its panel (no repair yet).

    Raises
    ------
    InputError
        Unreadable file, unknown header, or a crowd file where cases were expected (or vice versa).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", source=str(p), field="history")
    try:
        fmt, kind, reader = _reader_for(_header(p))
    except InputError as exc:
        raise InputError(
            exc.reason, source=exc.source or p.name, field=exc.field or "history"
        ) from None
    if expect is not None and kind != expect:
        raise InputError(f"this is a {kind} history, not {expect}", source=p.name, field="history")
    frame = reader(p)
    if kind == "crowd":
        panel = panel_from_crowd(frame, source=p.name)
    else:
        panel = panel_from_cases(frame, source=p.name)
    return History(kind=kind, format=fmt, panel=panel)


def spec_name(history: History) -> str:
    """The model family for a history: crowd hourly/daily, cases per gu or per province."""
    if history.kind == "crowd":
        return "crowd_hourly" if history.panel.period_s == HOUR_S else "crowd_daily"
    gu = all(len(a) == 5 for a in history.panel.areas)
    return "cases_gu" if gu else "cases_province"


def load_exog(data_dir: Path, *, spec: str) -> Exog:
    """Covariates from the bundled data: Seoul weather, policy steps, gu adjacency and, for cases
    per gu, KT living population as mobility. Missing files leave the covariate out."""
    from ansim.sources import ds4c, seoul

    weather = policy = mobility = None
    adjacency: dict[str, tuple[str, ...]] = {}
    # The SKT hourly series spans 46 days: daily weather and three policy steps would act as date
    # proxies over its four training weeks (they worsened the backtest), so it gets neither.
    dated_covariates = spec != "crowd_hourly"
    wpath = data_dir / "ds4c" / "Weather.csv.gz"
    if wpath.is_file() and dated_covariates:
        weather = seoul_weather(ds4c.read_weather(wpath))
    ppath = data_dir / "ds4c" / "Policy.csv.gz"
    if ppath.is_file() and dated_covariates:
        policy = policy_steps(ds4c.read_policy(ppath))
    bpath = data_dir / "boundaries" / "seoul-municipalities-2018.geojson.gz"
    if bpath.is_file() and spec != "cases_province":
        adjacency = gu_adjacency(bpath)
    lpath = data_dir / "crowd" / "seoul_spop_gu_daily_20180405_20200531.csv.gz"
    if spec == "cases_gu" and lpath.is_file():
        living = panel_from_crowd(seoul.read_living_population(lpath)).frame()
        living.index = living.index.tz_localize(None)
        mobility = living
    return Exog(weather=weather, policy=policy, mobility=mobility, adjacency=adjacency)


BUNDLED = {
    "crowd_hourly": Path("ds4c") / "SeoulFloating.csv.gz",
    "crowd_daily": Path("crowd") / "seoul_spop_gu_daily_20180405_20200531.csv.gz",
    "cases_gu": Path("cases") / "seoul_gu_covid19_confirmed_20200205_20210630.csv.gz",
    "cases_province": Path("cases") / "kdca_Covid19SidoInfState.csv.gz",
}
"""The bundled history of each model family (relative to the data directory)."""

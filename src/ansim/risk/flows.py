"""Mobility propagation: the people around an exposure site move on and carry part of its hazard.

Model (docs/risk.md, "Spatial layers and engine"):

- **Who carries.** A confirmed case at a place signals infectious people nobody has found yet in the
  same crowd: the person who infected the case, people infected with it. We count
  ``UNDETECTED_PER_CASE`` = 1 such person per case and site (Korea found most cases in 2020;
  microCOVID's under-reporting factor, 2-6 true infections per reported case, puts 1-5 undetected
  per detected one). Nobody knows who they are, so they move on like everyone else around.
- **Where to.** A share ``P[i, j]`` of the people present in gu ``i`` go on to gu ``j``
  (``P[i, i]`` stay in the gu but move within it). ``P`` comes from a gravity model
  ``T_ij = M_i · A_j e^(−β d_ij) / Σ_k≠i A_k e^(−β d_ik)``, with ``M_i`` the KT daily inter-gu movers
  (자치구간이동인구수), ``A_j`` the daytime population (주간인구수, 09-18), ``d_ij`` the distance between
  gu centres (km) and ``β`` fitted so that the modelled inflows ``Σ_i T_ij`` match ``M_j`` (the column
  is taken to count a gu's inter-gu movements both ways, so inflows ≈ outflows ≈ M). Normal days of
  2019 (Korean holidays excluded) are averaged. ``P[i, j] = T_ij / L_i`` with ``L_i`` the living
  population (총생활인구수).
- **Within the destination.** The carriers spread over the destination's cells like its visitors
  (the crowd layer's weights), so ``carried(c) = w(c) · Σ_e carriers_e · P[gu_e, gu(c)]``.
- **When.** From the start of the visit to one day after its end (``carry_h`` = 24 h: the next day at
  work or at home), and never after the site's retention.

The Euljiro example of the announcement: a case in Euljiro, 800 people around, 20 % of them went on to
Yeoksam. Euljiro's own cells get the site hazard; Yeoksam's get 20 % of the carriers, spread over
where those people go (:func:`carried_presence`, ``tests/risk/test_flows.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ansim.errors import InputError
from ansim.geo.cells import haversine_m
from ansim.timeutil import as_seoul

if TYPE_CHECKING:
    import pandas as pd

UNDETECTED_PER_CASE = 1.0
"""Undetected infectious people in the crowd around a confirmed case's visit."""
CARRY_H = 24.0
"""Hours after a visit during which the people who were around carry its hazard elsewhere."""
CALIBRATION_PERIOD = (date(2019, 3, 1), date(2019, 12, 1))
"""[start, end) of the normal days the gravity model is calibrated on."""


@dataclass(frozen=True)
class GravityModel:
    """Shares of people present in each gu who go on to each gu, and the fitted constants."""

    gu_codes: tuple[str, ...]
    shares: np.ndarray
    """(gu, gu): row i = where the people present in gu i go next; rows sum to 1."""
    beta_per_km: float
    fit_rmse_rel: float
    """Root-mean-square relative error of the modelled inflows against ``M``."""


def gravity_flows(
    movers: npt.ArrayLike, attraction: npt.ArrayLike, distance_km: npt.ArrayLike, beta_per_km: float
) -> np.ndarray:
    """Origin-constrained gravity trips ``T_ij`` (zero diagonal); rows sum to ``movers``."""
    m = np.asarray(movers, dtype=float)
    a = np.asarray(attraction, dtype=float)
    d = np.asarray(distance_km, dtype=float)
    k = a[None, :] * np.exp(-beta_per_km * d)
    np.fill_diagonal(k, 0.0)
    return m[:, None] * k / k.sum(axis=1, keepdims=True)


def fit_gravity(
    *,
    gu_codes: tuple[str, ...],
    movers: npt.ArrayLike,
    attraction: npt.ArrayLike,
    present: npt.ArrayLike,
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
) -> GravityModel:
    """Fit β so that modelled inflows match the movers of each gu; return the share matrix."""
    m = np.asarray(movers, dtype=float)
    a = np.asarray(attraction, dtype=float)
    pres = np.asarray(present, dtype=float)
    la, lo = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    for name, v in (("movers", m), ("attraction", a), ("present", pres)):
        if v.shape != (len(gu_codes),) or np.any(~np.isfinite(v)) or np.any(v <= 0):
            raise InputError("one positive number per gu", field=name)
    d = haversine_m(la[:, None], lo[:, None], la[None, :], lo[None, :]) / 1000.0

    def loss(log_beta: float) -> float:
        inflow = gravity_flows(m, a, d, float(np.exp(log_beta))).sum(axis=0)
        return float(np.mean((inflow / m - 1.0) ** 2))

    from scipy.optimize import minimize_scalar  # lazy: the CLI loads a fitted model, never fits

    best = minimize_scalar(loss, bounds=(np.log(1e-3), np.log(5.0)), method="bounded")
    beta = float(np.exp(best.x))
    trips = gravity_flows(m, a, d, beta)
    shares = trips / pres[:, None]
    off = shares.sum(axis=1)
    shares = np.where(off[:, None] > 1, shares / off[:, None], shares)
    np.fill_diagonal(shares, 1.0 - np.minimum(off, 1.0))
    return GravityModel(gu_codes, shares, beta, float(np.sqrt(best.fun)))


def mobility_means(flows: pd.DataFrame, gu_codes: tuple[str, ...]) -> pd.DataFrame:
    """Mean daily KT movement columns per gu over the normal calibration days (pure).

    ``flows`` is :func:`ansim.sources.seoul.read_living_population_flows`'s frame (``area``, ``date``,
    ``present``, ``daytime``, ``movers``, ``inflow_outside``). Returns a frame indexed by gu code
    with those four columns, in ``gu_codes`` order; Korean holidays are left out.
    """
    from ansim.risk.crowd import korean_holidays

    columns = ["present", "daytime", "movers", "inflow_outside"]
    missing = {"area", "date", *columns} - set(flows.columns)
    if missing:
        raise InputError(f"missing column(s) {sorted(missing)}", field="flows")
    holidays = korean_holidays()
    normal = (
        (flows["date"] >= CALIBRATION_PERIOD[0])
        & (flows["date"] < CALIBRATION_PERIOD[1])
        & ~flows["date"].isin(holidays)
        & flows["area"].isin(gu_codes)
    )
    out = flows[normal].groupby("area")[columns].mean()
    missing_gu = set(gu_codes) - set(out.index)
    if missing_gu:
        raise InputError(f"no calibration days for gu {sorted(missing_gu)}", field="flows")
    return out.loc[list(gu_codes)]


def load_kt_mobility(path: Path | str, gu_codes: tuple[str, ...]) -> pd.DataFrame:
    """Mean daily KT living-population columns per gu over the normal calibration days (edge).

    Reads with :func:`ansim.sources.seoul.read_living_population_flows` and averages with
    :func:`mobility_means`: a frame indexed by gu code with ``present`` (총생활인구수), ``daytime``
    (주간인구수(09~18)), ``movers`` (자치구간이동인구수) and ``inflow_outside`` (서울외유입인구수).
    """
    from ansim.sources.seoul import read_living_population_flows

    flows = read_living_population_flows(path)
    try:
        return mobility_means(flows, gu_codes)
    except InputError as exc:
        raise InputError(exc.reason, source=str(path), field=exc.field) from None


def seoul_gravity(data_dir: Path, gu_codes: tuple[str, ...]) -> GravityModel:
    """The gravity model calibrated on the bundled KT living population (edge: reads files)."""
    from ansim.geo.regions import region

    kt = load_kt_mobility(
        data_dir / "crowd" / "seoul_spop_gu_daily_20180405_20200531.csv.gz", gu_codes
    )
    regions = [region(c, data_dir=data_dir) for c in gu_codes]
    return fit_gravity(
        gu_codes=gu_codes,
        movers=kt["movers"].to_numpy(),
        attraction=kt["daytime"].to_numpy(),
        present=kt["present"].to_numpy(),
        lat=[float(r.lat or np.nan) for r in regions],
        lon=[float(r.lon or np.nan) for r in regions],
    )


def carry_factor(
    start_s: npt.ArrayLike,
    end_s: npt.ArrayLike,
    t_s: float,
    *,
    carry_h: float = CARRY_H,
    retention_days: float = 14.0,
) -> np.ndarray:
    """1 while the people around a visit carry its hazard (start → end + carry_h), else 0."""
    s = np.asarray(start_s, dtype=float)
    e = np.asarray(end_s, dtype=float)
    stop = np.minimum(e + carry_h * 3600.0, e + retention_days * 86_400.0)
    return ((t_s >= s) & (t_s < stop)).astype(float)


def carriers(
    cases: npt.ArrayLike, active: npt.ArrayLike, undetected_per_case: float = UNDETECTED_PER_CASE
) -> np.ndarray:
    """Undetected infectious people who left each site (per event)."""
    return np.asarray(cases, dtype=float) * undetected_per_case * np.asarray(active, dtype=float)


def zone_load(
    event_zone: npt.ArrayLike, event_carriers: npt.ArrayLike, shares: np.ndarray
) -> np.ndarray:
    """Carriers arriving in each zone: ``Σ_e carriers_e · shares[zone_e, :]`` (events outside any
    zone, ``zone < 0``, carry nothing)."""
    z = np.asarray(event_zone)
    c = np.asarray(event_carriers, dtype=float)
    ok = (z >= 0) & (c > 0)
    if not ok.any():
        return np.zeros(shares.shape[1])
    return np.bincount(z[ok], weights=c[ok], minlength=shares.shape[0]) @ shares


def carried_presence(
    load_per_zone: npt.ArrayLike, cell_zone: npt.ArrayLike, cell_weight: npt.ArrayLike
) -> np.ndarray:
    """Carriers per cell: the zone's load × the cell's share of the zone (``cell_zone < 0``: none)."""
    load = np.asarray(load_per_zone, dtype=float)
    z = np.asarray(cell_zone)
    w = np.asarray(cell_weight, dtype=float)
    return np.where(z >= 0, load[np.maximum(z, 0)] * w, 0.0)


def describe_when(at: datetime, until: datetime | None = None, lang: str = "en") -> str:
    """'at T', 'on D' (whole days) or 'between T0 and T1' (ko: 'T에', 'D에', 'T0~T1 사이에')."""
    t0 = as_seoul(at)
    if until is None:
        text = t0.strftime("%Y-%m-%d %H:%M")
        return f"{text}에" if lang == "ko" else f"at {text}"
    t1 = as_seoul(until)
    whole_days = t0.time() == t1.time() == datetime.min.time()
    if whole_days:
        last = (t1 - timedelta(days=1)).date()
        if last == t0.date():
            return f"{t0.date().isoformat()}에" if lang == "ko" else f"on {t0.date().isoformat()}"
        a, b = t0.date().isoformat(), last.isoformat()
    else:
        a, b = t0.strftime("%Y-%m-%d %H:%M"), t1.strftime("%Y-%m-%d %H:%M")
    return f"{a}~{b} 사이에" if lang == "ko" else f"between {a} and {b}"


def describe_flow(
    *,
    people_around: float,
    share: float,
    origin: str,
    destination: str,
    at: datetime,
    lang: str = "en",
    until: datetime | None = None,
) -> str:
    """The reasoning in words: "N people who were near X at T went on to Y".

    ``until`` (the end of the visit window) turns "at T" into "on D" for whole days or "between T0
    and T1".
    """
    moved = people_around * share
    when = describe_when(at, until, lang)
    if lang == "ko":
        return (
            f"{when} {origin} 근처에 있던 약 {people_around:,.0f}명 중 {share:.0%}(약 {moved:,.0f}명)이 "
            f"이후 {destination}(으)로 이동했습니다"
        )
    return (
        f"About {moved:,.0f} of the {people_around:,.0f} people who were near {origin} {when} "
        f"({share:.0%}) went on to {destination}"
    )

"""LightGBM quantile models with conformal calibration, one global model per series family.

Each family (``crowd_hourly``, ``crowd_daily``, ``cases_gu``, ``cases_province``) is one direct
multi-horizon model pooled over areas and horizons: the horizon is a feature, so a forecast for
``h`` periods ahead never feeds on its own earlier predictions. Three boosters predict the 10/50/90%
quantiles of the log change against the base (see :mod:`ansim.forecast.features`); quantiles are
invariant under the monotone ``log1p`` transform, so back-transformed they are quantiles of counts.

The 80% interval is then calibrated by split conformal prediction (CQR, Romano et al. 2019): the
last 20% of the training span is held out, and per horizon the interval is widened (or narrowed) by
the 80% quantile of ``max(q10 - y, y - q90)`` on that slice. Quantiles are sorted so they never cross.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from ansim.forecast.features import Design, Exog, Panel, SeriesSpec, design, min_history

QUANTILES = (0.1, 0.5, 0.9)
INTERVAL = 0.8
MODEL_VERSION = "3"  # 2: pooled bases, per-group widening; 3: widening in volatility units


@dataclass(frozen=True)
class FitParams:
    """Booster settings; small by default so every family trains in seconds on 2 cores."""

    n_estimators: int = 150
    learning_rate: float = 0.08
    num_leaves: int = 31
    min_data_in_leaf: int = 100
    feature_fraction: float = 0.9
    max_train_rows: int = 60_000  # origins are thinned evenly above this
    calibration_frac: float = 0.2
    num_threads: int = 1
    seed: int = 7

    def lgb_params(self, alpha: float) -> dict[str, Any]:
        return {
            "objective": "quantile",
            "alpha": alpha,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "num_threads": self.num_threads,
            "seed": self.seed,
            "verbose": -1,
        }


FAST = FitParams(n_estimators=40, learning_rate=0.15, max_train_rows=30_000)
"""Few trees: for tests and for on-the-fly fits when no saved model may be used."""


@dataclass
class QuantileModel:
    """A fitted family: boosters per quantile, conformal widening per horizon and metadata."""

    spec: SeriesSpec
    boosters: dict[float, lgb.Booster]
    widen: np.ndarray  # per calibration group × horizon 1..max_horizon, in units of Design.scale
    shrink: np.ndarray  # per horizon: weight of the model's correction to the base (0 = baseline)
    feature_names: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)

    def offsets(self, d: Design) -> np.ndarray:
        """Log1p offsets from the base (rows × 3), the median offset shrunk per horizon."""
        cols = [self.boosters[q].predict(d.X[self.feature_names]) for q in QUANTILES]
        off = np.sort(np.column_stack(cols), axis=1)
        lam = self.shrink[np.clip(d.horizon, 1, len(self.shrink)) - 1]
        # Move the whole quantile fan so that its median sits at lam × the model's correction.
        off += ((lam - 1.0) * off[:, 1])[:, None]
        return off

    def predict(self, d: Design) -> np.ndarray:
        """Quantile forecasts (rows × 3, counts >= 0, sorted) for a design."""
        zq = self.offsets(d) + d.base[:, None]
        widen = np.atleast_2d(self.widen)
        group = np.minimum(calibration_group(d), widen.shape[0] - 1)
        w = widen[group, np.clip(d.horizon, 1, widen.shape[1]) - 1] * d.scale
        zq[:, 0] -= w
        zq[:, 2] += w
        zq = np.sort(zq, axis=1)
        return np.maximum(np.expm1(zq), 0.0)


def _training_rows(panel: Panel, spec: SeriesSpec, *, end: int) -> np.ndarray:
    """Origins whose features exist and whose first target lies at or before row ``end``."""
    return np.arange(min_history(panel), end)


def _fit_design(
    panel: Panel, exog: Exog, spec: SeriesSpec, origins: np.ndarray, *, end: int, params: FitParams
) -> Design:
    """Training rows with targets inside ``[.., end]`` (no target after ``end`` is ever used)."""
    n_a = len(panel.areas)
    per_origin = n_a * spec.max_horizon
    stride = max(1, math.ceil(len(origins) * per_origin / params.max_train_rows))
    # Keep the latest origin in the set: thinning counts back from the end.
    chosen = origins[::-1][::stride][::-1]
    d = design(panel, exog, origins=chosen, horizons=spec.horizons)
    keep = (d.target_index <= end) & np.isfinite(d.target) & np.isfinite(d.base)
    return _subset(d, keep)


def _subset(d: Design, keep: np.ndarray) -> Design:
    return Design(
        X=d.X.loc[keep].reset_index(drop=True),
        base=d.base[keep],
        target=d.target[keep],
        origin=d.origin[keep],
        horizon=d.horizon[keep],
        area=d.area[keep],
        scale=d.scale[keep],
    )


def _weights(d: Design) -> np.ndarray:
    # Errors are judged on counts (MAE, WAPE): weigh log errors by the level they scale with.
    w = np.expm1(np.clip(d.base, 0, 30)) + 1.0
    return w / w.mean()


def fit(
    panel: Panel,
    exog: Exog,
    spec: SeriesSpec,
    *,
    end: int | None = None,
    params: FitParams | None = None,
) -> QuantileModel:
    """Fit a family on the panel up to row ``end`` (inclusive; default the last row).

    Targets after ``end`` are never used, so ``fit(..., end=t0)`` followed by forecasts from
    origins ``>= t0`` is a leak-free rolling-origin backtest.
    """
    p = params or FitParams()
    last = panel.values.shape[0] - 1 if end is None else end
    if last < min_history(panel) + 2 * spec.max_horizon:
        from ansim.errors import InputError

        raise InputError(
            f"history too short to train: {last + 1} periods, need "
            f"{min_history(panel) + 2 * spec.max_horizon + 1}",
            source=spec.name,
            field="history",
        )
    # The calibration slice spans a whole week of origins plus the horizon when the history
    # allows (half of it at most), so every hour or day of the week is calibrated.
    span = last - min_history(panel)
    cal_len = max(int(span * p.calibration_frac), panel.season + spec.max_horizon)
    cal_start = last - max(min(cal_len, span // 2), spec.max_horizon)
    train = _fit_design(
        panel, exog, spec, _training_rows(panel, spec, end=cal_start), end=cal_start, params=p
    )
    cal_origins = np.arange(cal_start, last)
    calib = _fit_design(panel, exog, spec, cal_origins, end=last, params=p)

    names = list(train.X.columns)
    # One binned dataset serves the three quantile objectives (binning is most of the set-up cost).
    ds = lgb.Dataset(
        train.X,
        label=train.target,
        weight=_weights(train),
        categorical_feature=["area"] if "area" in train.X.columns else "auto",
        free_raw_data=False,
        params={"verbose": -1, "max_bin": 63},
    ).construct()
    boosters = {
        q: lgb.train(p.lgb_params(q), ds, num_boost_round=p.n_estimators) for q in QUANTILES
    }
    model = QuantileModel(
        spec=spec,
        boosters=boosters,
        widen=np.zeros(spec.max_horizon),
        shrink=np.ones(spec.max_horizon),
        feature_names=names,
    )
    model.shrink = _shrinkage(model, calib, spec)
    model.widen = _conformal_widening(model, calib, spec)
    validation = _validation_metrics(model, calib, panel)
    model.metadata = {
        "version": MODEL_VERSION,
        "spec": spec.name,
        "kind": spec.kind,
        "period_s": spec.period_s,
        "max_horizon": spec.max_horizon,
        "areas": list(panel.areas),
        "data_start": panel.index[0].isoformat(),
        "data_end": panel.index[last].isoformat(),
        "calibration_start": panel.index[cal_start].isoformat(),
        "train_rows": len(train.target),
        "shrink": [float(x) for x in model.shrink],
        "widen": model.widen.tolist(),
        "calibration_rows": len(calib.target),
        "features": names,
        "quantiles": list(QUANTILES),
        "params": {k: getattr(p, k) for k in p.__dataclass_fields__},
        "notes": list(panel.notes),
        "validation": validation,
    }
    return model


def _validation_metrics(model: QuantileModel, calib: Design, panel: Panel) -> dict[str, float]:
    """Held-out-slice figures saved with the model (the calibration slice, so coverage is
    optimistic by construction; the backtest is the honest measure)."""
    if len(calib.target) == 0:
        return {}
    y = np.expm1(calib.target + calib.base)
    q = model.predict(calib)
    s_idx = calib.target_index - np.ceil(calib.horizon / panel.season).astype(int) * panel.season
    snaive = panel.values[s_idx, calib.area]
    persistence = panel.values[calib.origin, calib.area]
    return {
        "rows": float(len(y)),
        "mae": float(np.mean(np.abs(y - q[:, 1]))),
        "wape": float(np.abs(y - q[:, 1]).sum() / max(np.abs(y).sum(), 1e-9)),
        "coverage80": float(np.mean((y >= q[:, 0]) & (y <= q[:, 2]))),
        "seasonal_naive_mae": float(np.nanmean(np.abs(y - snaive))),
        "persistence_mae": float(np.nanmean(np.abs(y - persistence))),
    }


_SHRINK_GRID = np.linspace(0.0, 1.0, 11)


def _shrinkage(model: QuantileModel, calib: Design, spec: SeriesSpec) -> np.ndarray:
    """Per-horizon weight of the model's median correction, chosen on the held-out slice.

    With a few weeks of training data spanning Seollal, a booster can learn corrections that do
    not carry over; the weight that minimises the level-weighted absolute error on the held-out
    slice (0 = keep the base, 1 = full model) guards against that without touching test data.
    """
    lam = np.ones(spec.max_horizon)
    if len(calib.target) == 0:
        return lam
    cols = [model.boosters[q].predict(calib.X[model.feature_names]) for q in QUANTILES]
    med = np.sort(np.column_stack(cols), axis=1)[:, 1]
    y = np.expm1(calib.target + calib.base)
    for h in range(1, spec.max_horizon + 1):
        sel = np.abs(calib.horizon - h) <= max(1, spec.max_horizon // 12)
        if sel.sum() < 20:
            continue
        errs = [
            np.abs(y[sel] - np.expm1(calib.base[sel] + g * med[sel])).sum() for g in _SHRINK_GRID
        ]
        lam[h - 1] = float(_SHRINK_GRID[int(np.argmin(errs))])
    return lam


def calibration_group(d: Design) -> np.ndarray:
    """0 for regular rows, 1 for rows a public holiday touches: the target is a holiday or lies
    within a week after one (so its seasonal reference and recent profiles contain it).

    Holiday rows (Seollal, Chuseok and the week after) miss by far more than regular ones;
    calibrating both groups together widened every regular interval to cover them (Mondrian
    conformal prediction, Vovk et al. 2005: one split-conformal correction per group).
    """
    x = d.X
    touched = np.zeros(len(d.horizon), dtype=bool)
    for col in ("t_is_holiday", "ref_is_holiday"):
        if col in x.columns:
            touched |= x[col].fillna(0).to_numpy(dtype=float) > 0
    if "t_days_from_holiday" in x.columns:
        touched |= x["t_days_from_holiday"].fillna(99).to_numpy(dtype=float) < 7
    return touched.astype(int)


def _conformal_widening(model: QuantileModel, calib: Design, spec: SeriesSpec) -> np.ndarray:
    """Per-group, per-horizon CQR correction so [q10, q90] covers 80% on the held-out slice, in
    units of each row's recent volatility (``Design.scale``); a group with too few rows takes the
    pooled correction."""
    widen = np.zeros((2, spec.max_horizon))
    if len(calib.target) == 0:
        return widen
    zq = model.offsets(calib) + calib.base[:, None]
    z = calib.target + calib.base
    score = np.maximum(zq[:, 0] - z, z - zq[:, 2]) / calib.scale
    group = calibration_group(calib)
    for h in range(1, spec.max_horizon + 1):
        # Pool neighbouring horizons so each correction rests on enough rows.
        near = np.abs(calib.horizon - h) <= max(1, spec.max_horizon // 12)
        pooled = _conformal_quantile(score[near])
        for g in (0, 1):
            own = _conformal_quantile(score[near & (group == g)])
            widen[g, h - 1] = own if own is not None else (pooled or 0.0)
    return widen


def _conformal_quantile(scores: np.ndarray) -> float | None:
    """The finite-sample 80% conformal quantile, or None below 20 scores."""
    if len(scores) < 20:
        return None
    level = min(1.0, math.ceil((len(scores) + 1) * INTERVAL) / len(scores))
    return float(np.quantile(scores, level))


def forecast_frame(
    model: QuantileModel, panel: Panel, exog: Exog, *, origin: int, horizon: int
) -> pd.DataFrame:
    """Forecast every area for the ``horizon`` periods after row ``origin`` of the panel.

    Returns columns area, target_time (period start, Seoul), q10, q50, q90.
    """
    d = design(panel, exog, origins=np.array([origin]), horizons=np.arange(1, horizon + 1))
    q = model.predict(d)
    step = pd.Timedelta(seconds=panel.period_s)
    times = panel.index[origin] + d.horizon * step
    return pd.DataFrame(
        {
            "area": [panel.areas[a] for a in d.area],
            "target_time": times,
            "q10": q[:, 0],
            "q50": q[:, 1],
            "q90": q[:, 2],
        }
    ).sort_values(["area", "target_time"], ignore_index=True)

"""Rolling-origin backtests: the model and the baselines on the last 20% of a series.

The model is fitted once with :func:`ansim.forecast.models.fit` on targets up to the first test
origin ``t0``; every period from ``t0`` on is a forecast origin, and features at each origin come
from periods at or before it (the design is causal, see :mod:`ansim.forecast.features`). Metrics
are computed per horizon against the *observed* values (the unrepaired series; gaps skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ansim.forecast import baselines
from ansim.forecast.features import Design, Exog, Panel, SeriesSpec, design, repair_panel
from ansim.forecast.models import FitParams, QuantileModel, fit

TEST_FRAC = 0.2


@dataclass
class BacktestResult:
    """Forecast rows of a backtest and their metrics."""

    spec: SeriesSpec
    rows: pd.DataFrame  # origin, horizon, area, actual, q10, q50, q90, a column per baseline, and
    # actual_flagged (the repair flagged the actual: a frozen feed, a doubled or missing cell)
    per_horizon: pd.DataFrame
    summary: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    model: QuantileModel | None = None


def pinball(y: np.ndarray, q: np.ndarray, alpha: float) -> np.ndarray:
    """Pinball (quantile) loss per row."""
    diff = y - q
    return np.maximum(alpha * diff, (alpha - 1) * diff)


def _metrics(df: pd.DataFrame, baseline_names: list[str]) -> dict[str, float]:
    y = df["actual"].to_numpy()
    denom = float(np.abs(y).sum()) or float("nan")
    out: dict[str, float] = {"n": float(len(df))}
    e = np.abs(y - df["q50"].to_numpy())
    out["mae"] = float(e.mean())
    out["wape"] = float(e.sum() / denom)
    out["pinball"] = float(
        np.mean(
            [
                pinball(y, df[c].to_numpy(), a).mean()
                for c, a in (("q10", 0.1), ("q50", 0.5), ("q90", 0.9))
            ]
        )
    )
    out["coverage80"] = float(((y >= df["q10"]) & (y <= df["q90"])).mean())
    for b in baseline_names:
        eb = np.abs(y - df[b].to_numpy())
        out[f"{b}_mae"] = float(eb.mean())
        out[f"{b}_wape"] = float(eb.sum() / denom)
        out[f"skill_mae_vs_{b}"] = (
            float(1 - out["mae"] / out[f"{b}_mae"]) if out[f"{b}_mae"] else float("nan")
        )
        out[f"skill_wape_vs_{b}"] = (
            float(1 - out["wape"] / out[f"{b}_wape"]) if out[f"{b}_wape"] else float("nan")
        )
    return out


def baseline_forecasts(
    panel: Panel, origins: np.ndarray, horizons: np.ndarray
) -> dict[str, np.ndarray]:
    """The three baselines for the rows of :func:`design` (origin-major order)."""
    v = panel.values
    return {
        "seasonal_naive": baselines.seasonal_naive(v, origins, horizons, season=panel.season),
        "persistence": baselines.persistence(v, origins, horizons),
        "mean7": baselines.seven_day_mean(
            v, origins, horizons, periods_per_day=panel.periods_per_day
        ),
    }


def run_backtest(
    raw: Panel,
    exog: Exog,
    spec: SeriesSpec,
    *,
    params: FitParams | None = None,
    test_frac: float = TEST_FRAC,
) -> BacktestResult:
    """Fit on the first 80% and forecast from every origin in the last 20% of the series."""
    panel, flags = repair_panel(raw)
    n_t = panel.values.shape[0]
    t0 = int(n_t * (1 - test_frac))
    model = fit(panel, exog, spec, end=t0, params=params)
    origins = np.arange(t0, n_t - 1)
    d: Design = design(panel, exog, origins=origins, horizons=spec.horizons)
    q = model.predict(d)
    # Naive forecasters copy the history as observed; our repairs are part of the model. The
    # baselines on the repaired history are reported too (``*_repaired``).
    base = baseline_forecasts(raw, origins, spec.horizons)
    base.update(
        {f"{k}_repaired": v for k, v in baseline_forecasts(panel, origins, spec.horizons).items()}
    )
    t_idx = d.target_index
    inside = t_idx < n_t
    actual = np.full(len(t_idx), np.nan)
    actual[inside] = raw.values[t_idx[inside], d.area[inside]]
    rows = pd.DataFrame(
        {
            "origin": d.origin,
            "horizon": d.horizon,
            "area": [panel.areas[a] for a in d.area],
            "target_time": panel.index[0] + pd.to_timedelta(t_idx * panel.period_s, unit="s"),
            "actual": actual,
            "q10": q[:, 0],
            "q50": q[:, 1],
            "q90": q[:, 2],
            **base,
        }
    )
    # Actuals the repair flagged (a frozen feed, a doubled cell) are scored like any other; the
    # ``*_unflagged`` summaries leave them out.
    flagged = pd.MultiIndex.from_frame(flags[["time", "area"]]) if len(flags) else None
    rows["actual_flagged"] = (
        pd.MultiIndex.from_frame(rows[["target_time", "area"]]).isin(flagged)
        if flagged is not None
        else False
    )
    names = list(base)
    rows = rows[np.isfinite(rows["actual"])].dropna(subset=names).reset_index(drop=True)
    per_h = pd.DataFrame(
        [{"horizon": int(h), **_metrics(g, names)} for h, g in rows.groupby("horizon")]
    )
    summary: dict[str, Any] = {
        "spec": spec.name,
        "periods": n_t,
        "areas": len(panel.areas),
        "first_test_origin": panel.index[t0].isoformat(),
        "last_period": panel.index[-1].isoformat(),
        "test_rows": len(rows),
        "all_horizons": _metrics(rows, names),
    }
    day = panel.periods_per_day
    clean = ~rows["actual_flagged"].to_numpy(dtype=bool)
    if spec.period_s < 86400:
        summary["next_24h"] = _metrics(rows[rows["horizon"] <= day], names)
        summary["next_24h_unflagged"] = _metrics(rows[(rows["horizon"] <= day) & clean], names)
    else:
        summary["next_24h"] = _metrics(rows[rows["horizon"] == 1], names)  # the next day
        summary["h7"] = _metrics(rows[rows["horizon"] == 7], names)
        summary["h7_unflagged"] = _metrics(rows[(rows["horizon"] == 7) & clean], names)
        summary["next_7d"] = _metrics(rows[rows["horizon"] <= 7], names)
    summary["flagged_test_rows"] = int((~clean).sum())
    summary["model_metadata"] = {k: v for k, v in model.metadata.items() if k != "features"}
    return BacktestResult(spec, rows, per_h, summary, notes=list(panel.notes), model=model)


def plot_backtest(result: BacktestResult, out_dir: Path, *, prefix: str = "forecast") -> list[Path]:
    """Two small PNGs: per-horizon error vs baselines, and one area's forecasts vs actuals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    name = result.spec.name
    paths = []
    ph = result.per_horizon
    metric = "wape" if result.spec.kind == "crowd" else "mae"
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=90)
    ax.plot(ph["horizon"], ph[metric], label="LightGBM q50", lw=2)
    for b in ("seasonal_naive", "persistence", "mean7"):
        ax.plot(ph["horizon"], ph[f"{b}_{metric}"], label=b, lw=1)
    ax.set_xlabel("horizon (periods)")
    ax.set_ylabel(f"{metric.upper()} (log scale)")
    ax.set_yscale("log")  # persistence is ten times worse than the rest on crowds
    ax.set_title(f"{name}: {metric.upper()} per horizon (test origins)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    p = out_dir / f"{prefix}_{name}_horizon.png"
    fig.savefig(p)
    plt.close(fig)
    paths.append(p)

    rows = result.rows
    h_show = 24 if result.spec.period_s < 86400 else 7
    sel = rows[rows["horizon"] == h_show]
    # The area with the most total actuals is the most readable example.
    area = sel.groupby("area")["actual"].sum().idxmax()
    s = sel[sel["area"] == area].sort_values("target_time")
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=90)
    ax.fill_between(s["target_time"], s["q10"], s["q90"], alpha=0.3, label="80% interval")
    ax.plot(s["target_time"], s["q50"], label=f"q50 ({h_show} ahead)")
    ax.plot(s["target_time"], s["actual"], "k.", ms=3, label="actual")
    ax.plot(s["target_time"], s["seasonal_naive"], lw=0.8, label="seasonal naive")
    ax.set_title(f"{name}: area {area}, forecasts {h_show} periods ahead")
    ax.legend(fontsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    p = out_dir / f"{prefix}_{name}_series.png"
    fig.savefig(p)
    plt.close(fig)
    paths.append(p)
    return paths

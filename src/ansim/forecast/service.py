"""``ansim forecast``: quantile forecasts from a history file, honouring the origin strictly.

The history is cut at the origin *before* anything else (repair, features, model choice), so no
period after the origin can influence the forecast even when the file holds it. A saved model is
used only if its training data ended at or before the origin; otherwise a model is fitted here on
the cut history alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ansim.errors import InputError
from ansim.forecast.features import DAY_S, SPECS, Kind, min_history, repair_panel
from ansim.forecast.history import load_exog, load_history, spec_name
from ansim.forecast.models import FAST, FitParams, QuantileModel, fit, forecast_frame


def parse_origin(text: str, *, period_s: int) -> pd.Timestamp:
    """The origin as a period start in Seoul time: a date for daily series, an hour for hourly."""
    from ansim.timeutil import parse_date, parse_datetime

    try:
        if period_s == DAY_S:
            return pd.Timestamp(parse_date(text)).tz_localize("Asia/Seoul")
        ts = pd.Timestamp(parse_datetime(text)).tz_convert("Asia/Seoul")
    except ValueError as exc:
        raise InputError(str(exc), field="origin") from None
    if ts != ts.floor("h"):
        raise InputError(f"{text!r} is not the start of an hour", field="origin")
    return ts


def forecast_history(
    path: Path | str,
    *,
    kind: Kind,
    origin: str,
    horizon: int,
    models_dir: Path | None = None,
    quick: bool = False,
    data_dir: Path | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows ``{area, target_time, q10, q50, q90}`` for every area and the ``horizon`` periods after
    ``origin``, and notes on what was done (repairs, which model)."""
    from ansim.settings import get_settings

    history = load_history(path, expect=kind)
    name = spec_name(history)
    spec = SPECS[name]
    if not 1 <= horizon <= spec.max_horizon:
        raise InputError(f"must be between 1 and {spec.max_horizon} for {name}", field="horizon")
    at = parse_origin(origin, period_s=history.panel.period_s)
    idx = history.panel.index
    if at < idx[0] or at > idx[-1]:
        raise InputError(
            f"{at.isoformat()} is outside the history ({idx[0].isoformat()} to {idx[-1].isoformat()})",
            field="origin",
        )
    cut = history.panel.upto(at)
    if len(cut.index) <= min_history(cut):
        raise InputError(
            f"needs at least {min_history(cut) + 1} periods of history up to the origin",
            field="origin",
        )
    panel, _flags = repair_panel(cut)
    notes = list(panel.notes)
    exog = load_exog(data_dir or get_settings().data_dir, spec=name)
    model = _saved_model(models_dir, name, at, panel.areas, notes)
    if model is None:
        model = fit(panel, exog, spec, params=FAST if quick else FitParams())
        notes.append(f"{name}: fitted on the history up to the origin ({len(panel.index)} periods)")
    table = forecast_frame(model, panel, exog, origin=len(panel.index) - 1, horizon=horizon)
    daily = panel.period_s == DAY_S
    rows = [
        {
            "area": r.area,
            "target_time": r.target_time.date().isoformat() if daily else r.target_time.isoformat(),
            "q10": round(float(r.q10), 3),
            "q50": round(float(r.q50), 3),
            "q90": round(float(r.q90), 3),
        }
        for r in table.itertuples()
    ]
    return rows, notes


def _saved_model(
    models_dir: Path | None, name: str, at: pd.Timestamp, areas: tuple[str, ...], notes: list[str]
) -> QuantileModel | None:
    from ansim.forecast.forecaster import is_current, load_model

    if models_dir is None or not is_current(models_dir / name):
        return None
    model, _ = load_model(models_dir / name)
    end = pd.Timestamp(model.metadata["data_end"])
    if end > at:
        notes.append(
            f"{name}: saved model saw data up to {end.isoformat()}, after the origin; not used"
        )
        return None
    if set(areas) - set(model.metadata.get("areas", [])):
        notes.append(f"{name}: saved model lacks some areas of this history; not used")
        return None
    notes.append(f"{name}: saved model (data to {end.isoformat()})")
    return model

"""Train, save, load and query the forecast models (the imperative edge of ``ansim.forecast``).

Layout of a model directory: one folder per family (``crowd_hourly``, ``crowd_daily``,
``cases_gu``, ``cases_province``) holding ``q10.txt``/``q50.txt``/``q90.txt`` (LightGBM boosters),
``model.json`` (metadata: data range, features, validation metrics, version, calibration) and
``history.parquet`` (the repaired tail of the training history, the default forecast origin).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import lightgbm as lgb
import numpy as np
import pandas as pd

from ansim.errors import InputError, OutOfCoverageError
from ansim.forecast.features import SPECS, Exog, Panel, repair_panel
from ansim.forecast.history import BUNDLED, load_exog, load_history
from ansim.forecast.models import (
    MODEL_VERSION,
    QUANTILES,
    FitParams,
    QuantileModel,
    fit,
    forecast_frame,
)

_TAIL_DAYS = 70  # history kept with a saved model: enough for every lag and rolling window


class Quantiles(NamedTuple):
    """A forecast for one area and period."""

    q10: float
    q50: float
    q90: float
    target_time: datetime
    family: str


def save_model(model: QuantileModel, panel: Panel, directory: Path) -> None:
    """Write a fitted family and its history tail to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for q, booster in model.boosters.items():
        booster.save_model(str(directory / f"q{round(q * 100)}.txt"))
    meta = dict(model.metadata)
    meta["widen"] = np.asarray(model.widen).tolist()
    meta["shrink"] = [float(x) for x in model.shrink]
    meta["feature_names"] = model.feature_names
    (directory / "model.json").write_text(json.dumps(meta, indent=1, default=str), encoding="utf-8")
    keep = panel.index >= panel.index[-1] - pd.Timedelta(days=_TAIL_DAYS)
    tail = pd.DataFrame(panel.values[keep], index=panel.index[keep], columns=list(panel.areas))
    tail.to_parquet(directory / "history.parquet")


def is_current(directory: Path) -> bool:
    """Whether ``directory`` holds a family saved by this model version (older ones are retrained:
    their features and bases differ)."""
    meta_path = directory / "model.json"
    if not meta_path.is_file():
        return False
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return str(meta.get("version")) == MODEL_VERSION


def load_model(directory: Path) -> tuple[QuantileModel, Panel]:
    """Read a family written by :func:`save_model`."""
    meta_path = directory / "model.json"
    if not meta_path.is_file():
        raise InputError("no saved model here", source=str(directory), field="models")
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    spec = SPECS[meta["spec"]]
    boosters = {
        q: lgb.Booster(model_file=str(directory / f"q{round(q * 100)}.txt")) for q in QUANTILES
    }
    model = QuantileModel(
        spec=spec,
        boosters=boosters,
        widen=np.asarray(meta["widen"], dtype=float),
        shrink=np.asarray(meta["shrink"], dtype=float),
        feature_names=list(meta["feature_names"]),
        metadata=meta,
    )
    tail = pd.read_parquet(directory / "history.parquet")
    panel = Panel(
        kind=spec.kind,
        period_s=spec.period_s,
        index=pd.DatetimeIndex(tail.index).tz_convert("Asia/Seoul"),
        areas=tuple(str(c) for c in tail.columns),
        values=tail.to_numpy(dtype=float),
    )
    return model, panel


def train_all(
    data_dir: Path,
    out_dir: Path,
    *,
    families: tuple[str, ...] = tuple(SPECS),
    params: FitParams | None = None,
) -> dict[str, dict[str, Any]]:
    """Fit every family on its bundled history and save it; returns per-family metadata."""
    report: dict[str, dict[str, Any]] = {}
    for name in families:
        started = time.perf_counter()
        history = load_history(data_dir / BUNDLED[name])
        panel, _flags = repair_panel(history.panel)
        exog = load_exog(data_dir, spec=name)
        model = fit(panel, exog, SPECS[name], params=params)
        model.metadata["train_seconds"] = round(time.perf_counter() - started, 2)
        model.metadata["history_file"] = str(BUNDLED[name])
        model.metadata["history_mb"] = round(panel.values.nbytes / 1e6, 3)
        save_model(model, panel, out_dir / name)
        report[name] = model.metadata
    return report


@dataclass
class _Family:
    model: QuantileModel
    panel: Panel
    exog: Exog
    cache: pd.DataFrame | None = None

    def table(self) -> pd.DataFrame:
        if self.cache is None:
            self.cache = forecast_frame(
                self.model,
                self.panel,
                self.exog,
                origin=len(self.panel.index) - 1,
                horizon=self.model.spec.max_horizon,
            )
        return self.cache


class Forecaster:
    """Quantile forecasts of crowds and cases from saved models, for the risk engine.

    Forecasts start at the last period of each model's stored history; a time beyond the model's
    horizon (48 h of SKT hours, 14 days of KT days or cases) raises :class:`OutOfCoverageError`.
    """

    def __init__(self, families: dict[str, _Family]) -> None:
        self._families = families

    @classmethod
    def load(cls, directory: Path | str, *, data_dir: Path | None = None) -> Forecaster:
        """Load every family found under ``directory`` (covariates from ``data_dir``)."""
        from ansim.settings import get_settings

        d = Path(directory)
        data = data_dir or get_settings().data_dir
        families = {}
        for name in SPECS:
            if is_current(d / name):
                model, panel = load_model(d / name)
                families[name] = _Family(model, panel, load_exog(data, spec=name))
        if not families:
            raise InputError("no saved models (run `ansim train`)", source=str(d), field="models")
        return cls(families)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self._families)

    def metadata(self, family: str) -> dict[str, Any]:
        return dict(self._families[family].model.metadata)

    def frame(self, family: str) -> pd.DataFrame:
        """Every forecast of a family: columns area, target_time, q10, q50, q90 (a copy).

        The periods are the ``max_horizon`` ones after the last stored period (the origin).
        """
        if family not in self._families:
            raise InputError(f"no saved {family} model", field="models")
        return self._families[family].table().copy()

    def origin(self, family: str) -> datetime:
        """The last observed period of a family's stored history (forecasts start after it)."""
        if family not in self._families:
            raise InputError(f"no saved {family} model", field="models")
        return self._families[family].panel.index[-1].to_pydatetime()

    def _lookup(self, names: tuple[str, ...], area: str, at: pd.Timestamp, field: str) -> Quantiles:
        from ansim.geo.regions import find_region

        reg = find_region(area)
        code = reg.code if reg is not None else area
        tried = []
        for name in names:
            fam = self._families.get(name)
            if fam is None:
                continue
            step = pd.Timedelta(seconds=fam.panel.period_s)
            last = fam.panel.index[-1]
            slot = at.floor(step) if step < pd.Timedelta(days=1) else at.normalize()
            tried.append(
                f"{name} ({last + step:%Y-%m-%d %H:%M} to {last + fam.model.spec.max_horizon * step:%Y-%m-%d %H:%M})"
            )
            if not (last < slot <= last + fam.model.spec.max_horizon * step):
                continue
            if code not in fam.panel.areas:
                raise InputError(f"unknown area {area!r} for {name}", field="area")
            t = fam.table()
            row = t[(t["area"] == code) & (t["target_time"] == slot)].iloc[0]
            return Quantiles(
                float(row.q10), float(row.q50), float(row.q90), slot.to_pydatetime(), name
            )
        raise OutOfCoverageError(
            f"no forecast covers {at.isoformat()}; covered: {', '.join(tried) or 'none'}",
            field=field,
        )

    def crowd(self, area: str, at: datetime) -> Quantiles:
        """People present in a gu at a time: SKT hourly model first, then the KT daily model."""
        ts = pd.Timestamp(at)
        ts = ts.tz_localize("Asia/Seoul") if ts.tzinfo is None else ts.tz_convert("Asia/Seoul")
        return self._lookup(("crowd_hourly", "crowd_daily"), area, ts, "at")

    def cases(self, region: str, day: date | datetime) -> Quantiles:
        """New confirmed cases of a gu (5-digit code or name) or province on a day."""
        ts = pd.Timestamp(day)
        ts = ts.tz_localize("Asia/Seoul") if ts.tzinfo is None else ts.tz_convert("Asia/Seoul")
        from ansim.geo.regions import find_region

        reg = find_region(region)
        if reg is None:
            raise InputError(f"unknown region {region!r}", field="region")
        names = ("cases_gu",) if reg.level == "gu" else ("cases_province",)
        return self._lookup(names, reg.code, ts, "day")

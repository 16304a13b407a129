"""The risk engine with the forecast models: future cases and crowds, bounds, fallback, cache, CLI.

Quick models (``FAST``) are trained once per session on the bundled histories into a temporary
directory; the engine is built from the risk store with them (``forecaster=``).
"""

from __future__ import annotations

import copy
import itertools
import json
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from ansim.cli import main
from ansim.forecast.forecaster import Forecaster, train_all
from ansim.forecast.models import FAST
from ansim.risk.engine import KOREA_POSITIVITY_PCT, RiskEngine
from ansim.risk.prevalence import person_risk_ucov
from ansim.settings import get_settings
from ansim.store.db import make_engine
from ansim.timeutil import SEOUL
from tests.conftest import DATA

pytestmark = pytest.mark.slow

CITY_HALL = (37.5665, 126.9780)  # 중구 11140
FAMILIES = ("cases_gu", "crowd_daily", "crowd_hourly")


@pytest.fixture(scope="session")
def forecast_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("forecast_models")
    train_all(DATA, out, families=FAMILIES, params=FAST)
    return out


@pytest.fixture(scope="module")
def fc_var(tmp_path_factory: pytest.TempPathFactory, risk_var: Path, forecast_models: Path) -> Path:
    """A var dir whose ``models`` are the quick models (as ``ansim train`` leaves them)."""
    var = tmp_path_factory.mktemp("fc_var")
    (var / "models").symlink_to(forecast_models, target_is_directory=True)
    for cached in ("cells_seoul_r10_v1.npz", "crowd_residents_r10.npy", "gravity_seoul.npz"):
        if (risk_var / cached).exists():
            shutil.copy(risk_var / cached, var / cached)
    return var


@pytest.fixture(scope="module")
def engines(risk_store_path: Path, fc_var: Path) -> tuple[RiskEngine, RiskEngine]:
    """(with forecasts, the same engine without them)."""
    db = make_engine(f"sqlite:///{risk_store_path}")
    with_fc = RiskEngine.from_store(db, cache_dir=fc_var, forecaster=fc_var / "models")
    db.dispose()
    without = copy.copy(with_fc)
    without.forecasts = None
    return with_fc, without


def _day(engine: RiskEngine, ahead: int, hour: int = 18) -> datetime:
    d = engine.regions.last_day + timedelta(days=ahead)
    return datetime(d.year, d.month, d.day, hour, tzinfo=SEOUL)


def test_future_community_risk_uses_forecast_cases(engines, forecast_models: Path) -> None:
    fe, base = engines
    assert fe.forecasts is not None
    assert fe.forecasts.cases is not None
    fc = Forecaster.load(forecast_models)
    at = _day(fe, 3)
    a, b = fe.assess(*CITY_HALL, at), base.assess(*CITY_HALL, at)
    assert a.ucov != pytest.approx(b.ucov, rel=1e-3)
    assert a.basis["prevalence"].startswith("forecast")
    assert b.basis["prevalence"].startswith("persistence")
    # the forecast prevalence, recomputed with the scalar reference from Forecaster.cases
    j = fe.regions.gu_codes.index("11140")
    last = fe.regions.last_day
    q50 = [fc.cases("11140", last + timedelta(days=k)).q50 for k in (1, 2, 3)]
    observed = fe.regions.new_cases[:, j]
    week = float(observed[-4:].sum()) + sum(q50)
    before = float(observed[-11:-4].sum())
    growth = (week / before - 1) * 100 if week > before > 0 else 0.0
    expected = person_risk_ucov(
        population=float(fe.regions.population[j]),
        cases_past_week=week,
        positivity_pct=KOREA_POSITIVITY_PCT,
        cases_increase_pct=growth,
        on=last + timedelta(days=3),
    ).ucov
    ratio = a.components["community"] / b.components["community"]
    assert ratio == pytest.approx(expected / fe.regions.person_risk[-1, j], rel=1e-9)
    # the forecast driver and the region say so, with the quantile range
    driver = next(d for d in a.drivers if d["key"] == "forecast")
    cases = driver["forecast"]["cases_per_day"]
    assert cases["lower"] <= cases["value"] <= cases["upper"]
    assert cases["value"] == pytest.approx(q50[-1])
    assert "Forecast new cases in Jung-gu" in driver["reason_en"]
    assert "신규 확진자 예측" in driver["reason_ko"]
    assert a.region["new_cases_7d"]["value"] == pytest.approx(week)
    assert a.region["incidence_per_100k"]["lower"] < a.region["incidence_per_100k"]["upper"]
    assert a.region["date"] == (last + timedelta(days=3)).isoformat()
    assert a.lower < a.ucov < a.upper


def test_bounds_widen_with_horizon(engines) -> None:
    fe, _ = engines
    widths = []
    for k in range(1, 8):
        g = fe.grid(None, _day(fe, k, 12))
        assert np.all(g["lower"] <= g["ucov"])
        assert np.all(g["ucov"] <= g["upper"])
        widths.append(np.log(g["upper"] / g["lower"]))
    median = [float(np.median(w)) for w in widths]
    assert all(b > a for a, b in itertools.pairwise(median)), median
    assert np.all(widths[-1] > widths[0])
    # the observed day keeps microCOVID's ÷3 / ×3
    g0 = fe.grid(None, _day(fe, 0, 12))
    assert np.allclose(g0["upper"] / g0["lower"], 9.0)


def test_crowd_forecast_after_the_kt_data(engines, forecast_models: Path) -> None:
    fe, base = engines
    fc = Forecaster.load(forecast_models)
    at = datetime(2020, 6, 3, 18, tzinfo=SEOUL)  # a Wednesday after the last KT day (31 May)
    assert fe.crowd.last_day == date(2020, 5, 31)
    people = fe.field(at)["people"]
    j = fe.table.gu_codes.index("11140")
    in_gu = float(people[fe.table.gu_index == j].sum())
    expected = fc.crowd("11140", at.date()).q50 * fe.crowd.profile[0, 18, j]
    assert in_gu == pytest.approx(expected, rel=1e-9)
    a, b = fe.assess(*CITY_HALL, at), base.assess(*CITY_HALL, at)
    assert a.basis["crowd"] == "forecast:kt-daily"
    assert b.basis["crowd"] == "persistence"
    assert a.ucov != pytest.approx(b.ucov, rel=1e-6)
    p = next(d for d in a.drivers if d["key"] == "forecast")["forecast"]["people"]
    assert p["lower"] < p["value"] < p["upper"]


def test_skt_hourly_forecast_gives_the_shape_of_the_day(engines, forecast_models: Path) -> None:
    fe, _ = engines
    fc = Forecaster.load(forecast_models)
    day = date(2020, 2, 16)  # the day after the SKT data end; KT observed
    j = fe.table.gu_codes.index("11140")
    hours = [fc.crowd("11140", datetime(2020, 2, 16, h, tzinfo=SEOUL)) for h in range(24)]
    assert {q.family for q in hours} == {"crowd_hourly"}
    q50 = np.array([q.q50 for q in hours])
    at = datetime(2020, 2, 16, 9, tzinfo=SEOUL)
    people = fe.field(at)["people"]
    level = fe.crowd.daily[(day - fe.crowd.day0).days, j]
    in_gu = float(people[fe.table.gu_index == j].sum())
    assert in_gu == pytest.approx(level * q50[9] / q50.mean(), rel=1e-9)
    assert fe.assess(*CITY_HALL, at).basis["crowd"] == "kt-daily+skt-forecast"


def test_falls_back_without_models(risk_store_path: Path, fc_var: Path, tmp_path, engines) -> None:
    fe, base = engines
    url = f"sqlite:///{risk_store_path}"
    empty = tmp_path / "no-models"
    empty.mkdir()
    db = make_engine(url)
    plain = RiskEngine.from_store(db, cache_dir=fc_var, forecaster=empty)
    db.dispose()
    assert plain.forecasts is None
    at = _day(plain, 2)
    got = plain.assess(*CITY_HALL, at).to_dict()
    assert got == base.assess(*CITY_HALL, at).to_dict()
    assert got["basis"]["prevalence"].startswith("persistence")
    driver = next(d for d in got["drivers"] if d["key"] == "forecast")
    assert "no forecast model loaded" in driver["reason_en"]
    w = got["ucov"]["upper"] / got["ucov"]["lower"]
    assert w == pytest.approx((3 * 1.5) ** 2)  # ÷3 / ×3 widened by 25 % a day, two days ahead
    # a case forecast that does not continue the engine's data (newer cases arrived) is not used
    stale = copy.copy(fe)
    import pandas as pd

    from ansim.risk.engine import region_series

    regions = fe.regions
    extra = pd.DataFrame(
        {
            "region_code": list(regions.gu_codes),
            "date": [regions.last_day + timedelta(days=1)] * len(regions.gu_codes),
            "new_cases": [1.0] * len(regions.gu_codes),
            "source": ["x"] * len(regions.gu_codes),
        }
    )
    rows = [
        {
            "region_code": c,
            "date": regions.day0 + timedelta(days=i),
            "new_cases": float(v),
            "source": "x",
        }
        for i, day_counts in enumerate(regions.new_cases)
        for c, v in zip(regions.gu_codes, day_counts, strict=True)
    ]
    stale.regions = region_series(pd.concat([pd.DataFrame(rows), extra]), regions.gu_codes)
    answer = stale.assess(*CITY_HALL, _day(stale, 2))
    assert answer.basis["prevalence"].startswith("persistence")
    reason = next(d for d in answer.drivers if d["key"] == "forecast")["reason_en"]
    assert "does not continue the latest data" in reason


def test_state_cache_holds_the_forecasts_and_names_the_models(
    engines, risk_store_path: Path, fc_var: Path, forecast_models: Path, tmp_path: Path
) -> None:
    fe, _ = engines
    url = f"sqlite:///{risk_store_path}"
    loaded = RiskEngine.from_state_cache(url, cache_dir=fc_var, forecaster=fc_var / "models")
    assert loaded is not None
    assert loaded.forecasts is not None
    assert loaded.forecasts.cases is not None
    assert fe.forecasts is not None
    assert fe.forecasts.cases is not None
    assert np.array_equal(loaded.forecasts.cases.person_risk, fe.forecasts.cases.person_risk)
    at = _day(fe, 4)
    assert loaded.assess(*CITY_HALL, at).to_dict() == fe.assess(*CITY_HALL, at).to_dict()
    # other models (a retrain changes model.json) are another key: not served from this state
    other = tmp_path / "models"
    shutil.copytree(forecast_models, other)
    meta_path = other / "cases_gu" / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["train_seconds"] = -1
    meta_path.write_text(json.dumps(meta))
    assert RiskEngine.from_state_cache(url, cache_dir=fc_var, forecaster=other) is None


def test_cli_risk_at_a_future_time_uses_the_models(
    engines, risk_store_path: Path, fc_var: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    fe, _ = engines
    at = _day(fe, 3)
    monkeypatch.setenv("ANSIM_DB_URL", f"sqlite:///{risk_store_path}")
    monkeypatch.setenv("ANSIM_VAR_DIR", str(fc_var))
    get_settings.cache_clear()
    args = ["risk", "--lat", str(CITY_HALL[0]), "--lon", str(CITY_HALL[1]), "--at", at.isoformat()]
    monkeypatch.setattr(sys, "argv", ["ansim", *args, "--json"])
    capsys.readouterr()
    try:
        main()
    finally:
        get_settings.cache_clear()
    payload = json.loads(capsys.readouterr().out)
    assert payload["basis"]["prevalence"].startswith("forecast")
    assert payload["ucov"]["value"] == pytest.approx(fe.assess(*CITY_HALL, at).ucov)
    # a cold process answers from the state cache without loading pandas or LightGBM
    code = (
        "import sys; from ansim.commands.risk import _engine; e = _engine(); "
        "assert e.forecasts is not None; "
        "print(sorted(m for m in ('pandas', 'lightgbm') if m in sys.modules))"
    )
    env = {"ANSIM_DB_URL": f"sqlite:///{risk_store_path}", "ANSIM_VAR_DIR": str(fc_var)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, **env},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

"""No leakage, quantile order and the end-to-end forecast path on the real bundled files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ansim.errors import InputError
from ansim.forecast.features import SPECS, Exog, design, repair_panel
from ansim.forecast.history import load_exog, load_history
from ansim.forecast.models import FAST, fit, forecast_frame
from ansim.forecast.service import forecast_history

REPO = Path(__file__).resolve().parents[2]
FLOATING = REPO / "data" / "ds4c" / "SeoulFloating.csv.gz"
GU_CASES = REPO / "data" / "cases" / "seoul_gu_covid19_confirmed_20200205_20210630.csv.gz"


@pytest.fixture(scope="module")
def cases_panel():  # type: ignore[no-untyped-def]
    return load_history(GU_CASES).panel


@pytest.fixture(scope="module")
def exog_gu(data_dir: Path = REPO / "data") -> Exog:
    return load_exog(REPO / "data", spec="cases_gu")


def test_features_at_an_origin_ignore_everything_after_it(cases_panel, exog_gu) -> None:  # type: ignore[no-untyped-def]
    """Corrupt every value after each origin: the feature rows of that origin must not change."""
    panel, _ = repair_panel(cases_panel)
    for origin in (60, 200, 400):
        clean = design(panel, exog_gu, origins=np.array([origin]), horizons=np.arange(1, 15))
        corrupted = panel.values.copy()
        corrupted[origin + 1 :] = corrupted[origin + 1 :] * 50 + 7
        bad = design(
            type(panel)(panel.kind, panel.period_s, panel.index, panel.areas, corrupted),
            exog_gu,
            origins=np.array([origin]),
            horizons=np.arange(1, 15),
        )
        pd.testing.assert_frame_equal(clean.X, bad.X)
        assert np.array_equal(clean.base, bad.base)


@pytest.mark.slow
def test_forecast_from_a_file_ignores_rows_after_the_origin(tmp_path: Path) -> None:
    """The whole CLI path (read, cut, repair, fit, forecast) gives identical rows when the file's
    periods after the origin are corrupted or removed."""
    frame = load_history(GU_CASES).panel.frame()
    long = frame.stack().rename("new_cases").reset_index()
    long.columns = ["date", "region_code", "new_cases"]
    long["date"] = long["date"].dt.date.astype(str)
    long["new_cases"] = long["new_cases"].astype(int)
    origin = "2020-09-30"
    clean, corrupt, cut = tmp_path / "clean.csv", tmp_path / "corrupt.csv", tmp_path / "cut.csv"
    long.to_csv(clean, index=False)
    after = long["date"] > origin
    bad = long.copy()
    bad.loc[after, "new_cases"] = bad.loc[after, "new_cases"] * 40 + 3
    bad.to_csv(corrupt, index=False)
    long[~after].to_csv(cut, index=False)
    runs = [
        forecast_history(p, kind="cases", origin=origin, horizon=7, models_dir=None, quick=True)[0]
        for p in (clean, corrupt, cut)
    ]
    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0]) == 25 * 7


@pytest.mark.slow
def test_quantiles_never_cross_and_are_non_negative(cases_panel, exog_gu) -> None:  # type: ignore[no-untyped-def]
    panel, _ = repair_panel(cases_panel)
    model = fit(panel, exog_gu, SPECS["cases_gu"], end=300, params=FAST)
    d = design(panel, exog_gu, origins=np.arange(300, 320), horizons=np.arange(1, 15))
    q = model.predict(d)
    assert (q >= 0).all()
    assert (np.diff(q, axis=1) >= 0).all()
    table = forecast_frame(model, panel.upto(panel.index[310]), exog_gu, origin=310, horizon=3)
    assert list(table.columns) == ["area", "target_time", "q10", "q50", "q90"]
    assert len(table) == 75


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "ansim"
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
def test_cli_forecast_crowd_on_the_original_skt_file(tmp_path: Path) -> None:
    out = _cli(
        "forecast", "crowd", "--history", str(FLOATING), "--origin", "2020-02-10T12:00",
        "--horizon", "3", "--json", "--quick", "--models", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 25 * 3
    assert set(rows[0]) == {"area", "target_time", "q10", "q50", "q90"}
    assert {r["target_time"] for r in rows} == {
        "2020-02-10T13:00:00+09:00",
        "2020-02-10T14:00:00+09:00",
        "2020-02-10T15:00:00+09:00",
    }
    assert all(r["q10"] <= r["q50"] <= r["q90"] for r in rows)
    # Mid-day crowds of Gangnam-gu are hundreds of thousands of people.
    gangnam = [r for r in rows if r["area"] == "11680"]
    assert all(2e5 < r["q50"] < 2e6 for r in gangnam)


@pytest.mark.slow
def test_cli_forecast_cases_on_the_original_seoul_file(tmp_path: Path) -> None:
    out = _cli(
        "forecast", "cases", "--history", str(GU_CASES), "--origin", "2021.03.01",
        "--horizon", "2", "--json", "--quick", "--models", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 50
    assert {r["target_time"] for r in rows} == {"2021-03-02", "2021-03-03"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--origin", "2019-01-01T00:00", "--horizon", "3"], "origin"),
        (["--origin", "2020-02-10T12:30", "--horizon", "3"], "origin"),
        (["--origin", "2020-02-10T12:00", "--horizon", "99"], "horizon"),
    ],
)
def test_bad_origin_or_horizon_names_the_field(args: list[str], field: str) -> None:
    with pytest.raises(InputError) as exc:
        forecast_history(
            FLOATING,
            kind="crowd",
            origin=args[1],
            horizon=int(args[3]),
            models_dir=None,
            quick=True,
        )
    assert exc.value.field == field


def test_bad_file_and_wrong_kind_are_input_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_history(junk)
    assert exc.value.field == "header"
    with pytest.raises(InputError) as exc:
        load_history(GU_CASES, expect="crowd")
    assert exc.value.field == "history"
    with pytest.raises(InputError) as exc:
        load_history(tmp_path / "missing.csv")
    assert exc.value.field == "history"


def test_cli_reports_a_bad_origin_in_one_line(tmp_path: Path) -> None:
    out = _cli(
        "forecast", "cases", "--history", str(GU_CASES), "--origin", "1999-01-01",
        "--horizon", "2", "--json", "--quick", "--models", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 2
    assert "origin" in out.stderr
    assert "Traceback" not in out.stderr

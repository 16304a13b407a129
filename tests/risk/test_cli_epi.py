"""``ansim visit-risk`` and ``ansim rt`` through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ansim.cli import app
from ansim.errors import InputError
from ansim.risk.rt import default_serial_interval, estimate_rt
from ansim.sources.seoul import read_gu_daily_cases

runner = CliRunner()
ACTIVITY = [
    "--setting",
    "indoor",
    "--distance",
    "normal",
    "--voice",
    "normal",
    "--their-mask",
    "none",
    "--your-mask",
    "none",
    "--duration-min",
    "60",
]


def _json(args: list[str]):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.output)


def test_visit_risk_from_prevalence_equals_microcovid():
    # microCOVID base data (6000 µCoV per person) and indoorUnmasked2 → 1680
    out = _json(
        [
            "visit-risk",
            "--population",
            "1000000",
            "--cases-past-week",
            "2999",
            "--positivity",
            "0",
            "--date",
            "2020-03-13",
            "--people",
            "2",
            *ACTIVITY,
            "--variant",
            "delta",
            "--json",
        ]
    )
    assert out["ucov"] == pytest.approx(1680)
    assert out["lower"] == pytest.approx(560)
    assert out["upper"] == pytest.approx(5040)
    assert out["level"] == "dangerous"
    assert out["level_ko"] == "위험"
    assert out["person_risk"]["method"] == "microcovid"


def test_visit_risk_with_person_risk_and_korean_masks():
    out = _json(
        [
            "visit-risk",
            "--person-risk-ucov",
            "6000",
            "--people",
            "5",
            "--setting",
            "indoor",
            "--distance",
            "2m",
            "--voice",
            "silent",
            "--their-mask",
            "kf94",
            "--your-mask",
            "kf94",
            "--duration-min",
            "60",
            "--variant",
            "delta",
            "--json",
        ]
    )
    assert out["ucov"] == pytest.approx(6000 * 5 * 0.14 * 0.5 * 0.2 * (1 / 6) * (1 / 3))
    assert out["level"] == "low"  # 23.3 µCoV
    # variant by date: wild type in March 2020 (0.06 per hour)
    wild = _json(
        [
            "visit-risk",
            "--person-risk-ucov",
            "100",
            "--people",
            "1",
            *ACTIVITY,
            "--date",
            "2020-03-10",
            "--json",
        ]
    )
    assert wild["variant"] == "wild"
    assert wild["ucov"] == pytest.approx(6.0)


def test_visit_risk_ventilation_option():
    stuffy = _json(
        [
            "visit-risk",
            "--person-risk-ucov",
            "100",
            "--people",
            "1",
            *ACTIVITY,
            "--variant",
            "delta",
            "--ach",
            "0.3",
            "--volume-m3",
            "50",
            "--json",
        ]
    )
    assert stuffy["ventilation_multiplier"] > 1
    assert stuffy["ucov"] == pytest.approx(14 * stuffy["ventilation_multiplier"])


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (
            ["--person-risk-ucov", "10", "--people", "1", *ACTIVITY[:1], "cave", *ACTIVITY[2:]],
            "setting",
        ),
        (
            ["--person-risk-ucov", "10", "--people", "1", *ACTIVITY, "--variant", "beta"],
            "--variant",
        ),
        (["--people", "1", *ACTIVITY], "--population"),
        (
            ["--person-risk-ucov", "10", "--population", "5", "--people", "1", *ACTIVITY],
            "--person-risk-ucov",
        ),
        (["--person-risk-ucov", "10", "--people", "-1", *ACTIVITY], "people"),
    ],
)
def test_visit_risk_bad_input_names_the_field(args, field):
    result = runner.invoke(app, ["visit-risk", *args])
    assert isinstance(result.exception, InputError)
    assert result.exception.field == field


@pytest.mark.slow  # a fresh interpreter imports every command module (~5 s on the shared CI cores)
def test_bad_value_exits_2_with_one_line():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ansim.cli",
            "visit-risk",
            "--person-risk-ucov",
            "10",
            "--people",
            "1",
            "--setting",
            "cave",
            *ACTIVITY[2:],
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "setting" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture
def seoul_incidence_csv(tmp_path: Path, data_dir: Path) -> Path:
    """Daily confirmed cases of all of Seoul (sum of the 25 gu) from the bundled table."""
    cases = read_gu_daily_cases(
        data_dir / "cases" / "seoul_gu_covid19_confirmed_20200205_20210630.csv.gz"
    )
    daily = cases.groupby("date")["new_cases"].sum().sort_index()
    path = tmp_path / "seoul.csv"
    path.write_text(
        "date,cases\n" + "".join(f"{d},{n}\n" for d, n in daily.items()), encoding="utf-8"
    )
    return path


def test_rt_on_real_seoul_data(seoul_incidence_csv: Path):
    out = _json(["rt", "--incidence", str(seoul_incidence_csv), "--json"])
    assert out[0]["date"] == "2020-02-12"  # first window: days 2-8 of a series starting 2020-02-05
    assert out[-1]["date"] == "2021-06-30"
    by_date = {r["date"]: r for r in out}
    # the August 2020 surge (Sarang Jeil church, Gwanghwamun rally) and its fall in September
    assert by_date["2020-08-19"]["q025"] > 2
    assert by_date["2020-09-06"]["q975"] < 1
    for r in out:
        assert r["q025"] <= r["mean"] <= r["q975"]
        assert r["sd"] > 0
    # the CLI equals the library
    lines = seoul_incidence_csv.read_text().splitlines()[1:]
    counts = np.array([float(line.split(",")[1]) for line in lines])
    est = estimate_rt(counts, default_serial_interval())
    assert [r["mean"] for r in out] == pytest.approx(est.mean.tolist(), abs=1e-12)


def test_rt_with_si_file_and_window(tmp_path: Path, seoul_incidence_csv: Path):
    si = tmp_path / "si.csv"
    si.write_text("w\n0\n0.2\n0.5\n0.3\n")
    out = _json(
        ["rt", "--incidence", str(seoul_incidence_csv), "--si", str(si), "--window", "14", "--json"]
    )
    assert out[0]["date"] == "2020-02-19"
    text = runner.invoke(app, ["rt", "--incidence", str(seoul_incidence_csv)])
    assert text.exit_code == 0
    assert "q975" in text.output.splitlines()[0]


def test_rt_bad_files_name_the_row(tmp_path: Path):
    inc = tmp_path / "inc.csv"
    inc.write_text("date,cases\n2020-03-01,1\n2020-03-02,-4\n")
    result = runner.invoke(app, ["rt", "--incidence", str(inc)])
    assert isinstance(result.exception, InputError)
    assert (result.exception.source, result.exception.row) == ("inc.csv", 2)
    good = tmp_path / "good.csv"
    good.write_text("date,cases\n" + "".join(f"2020-03-{d:02d},5\n" for d in range(1, 21)))
    si = tmp_path / "si.csv"
    si.write_text("w\n0.2\n0.8\n")
    result = runner.invoke(app, ["rt", "--incidence", str(good), "--si", str(si)])
    assert isinstance(result.exception, InputError)
    assert (result.exception.source, result.exception.row) == ("si.csv", 1)

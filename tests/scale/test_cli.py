"""``ansim aggregate`` and ``ansim generate-pings`` end to end; no raw device id anywhere."""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ansim.cli import app, main
from ansim.settings import get_settings

RAW = "IMSI-450051234567"
GANGNAM = (37.4979, 127.0276)


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "store.db"
    monkeypatch.setenv("ANSIM_DB_URL", f"sqlite:///{db}")
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def _ping_csv(path: Path, devices: int) -> Path:
    rows = [
        (f"{RAW}{i:03d}", f"2020-03-10T18:{m:02d}:00+09:00", GANGNAM[0], GANGNAM[1])
        for i in range(devices)
        for m in (5, 25, 45)
    ]
    pd.DataFrame(rows, columns=["device_id", "timestamp", "lat", "lon"]).to_csv(path, index=False)
    return path


def test_aggregate_cli_writes_ingests_and_never_leaks_ids(
    tmp_path: Path, store_url: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pings = _ping_csv(tmp_path / "pings.csv", devices=12)
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    out_csv = tmp_path / "crowd.csv"
    result = runner.invoke(
        app, ["aggregate", str(pings), "--period", "10min", "--out", str(out_csv), "--ingest"]
    )
    assert result.exit_code == 0, result.output
    out_parquet = tmp_path / "crowd.parquet"
    result2 = runner.invoke(app, ["aggregate", str(pings), "--out", str(out_parquet)])
    assert result2.exit_code == 0, result2.output

    table = pd.read_csv(out_csv)
    assert list(table.columns) == ["cell", "period_start", "devices"]
    assert table["devices"].tolist() == [12, 12, 12]
    assert table["period_start"].tolist() == [
        "2020-03-10T18:00:00+09:00",
        "2020-03-10T18:20:00+09:00",
        "2020-03-10T18:40:00+09:00",
    ]
    hourly = pd.read_parquet(out_parquet)
    assert hourly["devices"].tolist() == [12]
    assert str(hourly["period_start"].dt.tz) == "Asia/Seoul"

    with sqlite3.connect(store_url) as conn:
        crowd = conn.execute(
            "select area, period_s, count, source from crowd_observations order by period_start"
        ).fetchall()
        dump = "\n".join(conn.iterdump())
    assert [(a, s, c, src) for a, s, c, src in crowd] == [
        ("h3:" + table["cell"][0], 600, 12.0, "pings")
    ] * 3
    everything = [
        out_csv.read_bytes(),
        out_parquet.read_bytes(),
        store_url.read_bytes(),
        dump.encode(),
        result.output.encode(),
        result2.output.encode(),
        caplog.text.encode(),
    ]
    assert not [blob for blob in everything if RAW.encode() in blob]


def test_k_suppression_through_the_cli(tmp_path: Path) -> None:
    pings = _ping_csv(tmp_path / "pings.csv", devices=9)
    out = tmp_path / "crowd.csv"
    result = CliRunner().invoke(app, ["aggregate", str(pings), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out).empty  # 9 devices < k = 10
    result = CliRunner().invoke(app, ["aggregate", str(pings), "--k", "9", "--out", str(out)])
    assert pd.read_csv(out)["devices"].tolist() == [9]


def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("device_id,timestamp,lat,lon\na,2020-03-10T18:00,-91,127\n")
    monkeypatch.setattr(
        sys, "argv", ["ansim", "aggregate", str(bad), "--out", str(tmp_path / "o.csv")]
    )
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    # One message (rich may wrap it at the terminal width), no traceback.
    err = capsys.readouterr().err.strip().replace("\n", "")
    assert err.count("error:") == 1
    assert "Traceback" not in err
    assert "bad.csv" in err
    assert "row 1" in err
    assert "field 'lat'" in err


def test_generate_pings_cli_is_reproducible(tmp_path: Path) -> None:
    runner = CliRunner()
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    for path in paths:
        result = runner.invoke(
            app,
            [
                "generate-pings",
                "--devices",
                "50",
                "--hours",
                "2",
                "--seed",
                "3",
                "--out",
                str(path),
            ],
        )
        assert result.exit_code == 0, result.output
    a, b = (pd.read_parquet(p) for p in paths)
    pd.testing.assert_frame_equal(a, b)
    assert a["device_id"].nunique() <= 50
    assert len(a) > 1500

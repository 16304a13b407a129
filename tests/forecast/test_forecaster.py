"""The Python API the risk engine calls: train, save, load, query."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from ansim.errors import InputError, OutOfCoverageError
from ansim.forecast.forecaster import Forecaster, train_all
from ansim.forecast.models import FAST

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_train_save_load_and_query(tmp_path: Path) -> None:
    report = train_all(REPO / "data", tmp_path, families=("crowd_hourly", "cases_gu"), params=FAST)
    meta = report["crowd_hourly"]
    assert meta["data_start"].startswith("2020-01-01T00:00")
    assert meta["data_end"].startswith("2020-02-15T23:00")
    assert "last_change_week" in meta["features"]
    assert set(meta["validation"]) >= {"mae", "coverage80", "seasonal_naive_mae"}
    assert (tmp_path / "cases_gu" / "q50.txt").is_file()

    fc = Forecaster.load(tmp_path, data_dir=REPO / "data")
    assert set(fc.families) == {"crowd_hourly", "cases_gu"}
    q = fc.crowd("강남구", datetime(2020, 2, 16, 13, 30))
    assert q.family == "crowd_hourly"
    assert q.target_time.hour == 13
    assert q.q10 <= q.q50 <= q.q90
    assert 2e5 < q.q50 < 2e6
    c = fc.cases("11680", date(2021, 7, 3))
    assert c.q10 <= c.q50 <= c.q90
    assert c.q50 >= 0
    with pytest.raises(OutOfCoverageError) as exc:
        fc.crowd("11680", datetime(2020, 3, 10, 9))
    assert exc.value.field == "at"
    with pytest.raises(InputError) as exc2:
        fc.cases("Atlantis", date(2021, 7, 3))
    assert exc2.value.field == "region"

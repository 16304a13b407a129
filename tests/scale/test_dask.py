"""The Dask engine on a real LocalCluster (two worker processes on loopback) equals the local one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ansim.errors import InputError
from ansim.scale.aggregate import AggregationParams
from ansim.scale.runners import dask_client, run_dask, run_local
from tests.scale.conftest import SECRET


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results(pings_file: Path, tmp_path: Path) -> None:
    params = AggregationParams(resolution=8, period_s=3600, k=3)
    local = run_local([pings_file], params=params, secret=SECRET, partition_rows=40_000)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "device_id,timestamp,lat,lon\na,2020-02-03T09:00,37.5,127.0\nb,2020-02-03T09:00,37.5,999\n"
    )
    with dask_client(None, n_workers=2) as client:
        info = client.scheduler_info()
        assert len(info["workers"]) == 2
        assert all(addr.startswith("tcp://127.0.0.1:") for addr in info["workers"])
        assert len({w["id"] for w in info["workers"].values()}) == 2
        distributed = run_dask(
            [pings_file], params=params, secret=SECRET, client=client, partition_rows=40_000
        )
        # Errors raised on a worker reach the caller as the same InputError, naming row and field.
        with pytest.raises(InputError, match=r"row 2, field 'lon'"):
            run_dask([bad], params=params, secret=SECRET, client=client)
    assert len(local) > 300
    pd.testing.assert_frame_equal(distributed, local)

"""A generated ping file shared by the scale tests (about 200k pings, made once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansim.scale.generate import write_pings

SECRET = b"test-secret-not-for-production"


@pytest.fixture(scope="session")
def pings_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """500 devices over 20 hours from 2020-02-03 00:00 Seoul, seed 7, row groups of 20k pings."""
    path = tmp_path_factory.mktemp("pings") / "pings.parquet"
    write_pings(path, devices=500, hours=20, seed=7, row_group_rows=20_000)
    return path

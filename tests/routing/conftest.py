"""Routing fixtures: the bundled networks, CCH routers and a hazard on a real DS4C exposure site.

Caches (network arrays, CCH topologies) go to one session temp dir, so tests never touch ``var/``.
"""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ansim.routing.fields import ArrayRiskField, hazard_cells_around
from ansim.routing.network import Network, load_network
from ansim.routing.planner import Routers
from ansim.timeutil import SEOUL

REPO = Path(__file__).resolve().parents[2]
#: 서울시청 area: the most visited place in DS4C PatientRoute inside the central-Seoul graph (44 visits).
SITE_LAT, SITE_LON = 37.566535, 126.977969
DEPART = datetime(2020, 3, 10, 18, 0, tzinfo=SEOUL)


@pytest.fixture(scope="session")
def routing_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory for the whole session."""
    return tmp_path_factory.mktemp("routing-cache")


@pytest.fixture(scope="session")
def central_walk(routing_cache: Path) -> Network:
    """Central Seoul, walking profile."""
    return load_network("central", "walk", cache_dir=routing_cache)


@pytest.fixture(scope="session")
def central_drive(routing_cache: Path) -> Network:
    """Central Seoul, driving profile."""
    return load_network("central", "drive", cache_dir=routing_cache)


@pytest.fixture(scope="session")
def walk_routers(central_walk: Network, routing_cache: Path) -> Routers:
    """CCH routers over central Seoul (walk)."""
    return Routers.cch(central_walk, cache_dir=routing_cache)


@pytest.fixture(scope="session")
def drive_routers(central_drive: Network, routing_cache: Path) -> Routers:
    """CCH routers over central Seoul (drive)."""
    return Routers.cch(central_drive, cache_dir=routing_cache)


@pytest.fixture(scope="session")
def exposure_site() -> tuple[float, float]:
    """The City Hall exposure site, read from the bundled DS4C PatientRoute file (not hard-coded)."""
    with gzip.open(REPO / "data" / "ds4c" / "PatientRoute.csv.gz", "rt", encoding="utf-8") as fh:
        routes = pd.read_csv(fh)
    hit = routes[np.isclose(routes.latitude, SITE_LAT) & np.isclose(routes.longitude, SITE_LON)]
    assert len(hit) >= 40  # the bundled data still has the site
    return float(hit.latitude.iloc[0]), float(hit.longitude.iloc[0])


@pytest.fixture(scope="session")
def hazard(exposure_site: tuple[float, float]) -> ArrayRiskField:
    """200 µCoV per hour ('high') on the cells within 150 m of the site, all day."""
    cells = hazard_cells_around(*exposure_site, radius_m=150.0, resolution=10)
    return ArrayRiskField.from_cells(cells, 200.0)

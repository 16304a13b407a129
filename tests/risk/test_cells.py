"""H3 helpers and the Seoul cell table (real boundaries)."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from ansim.errors import InputError, OutOfCoverageError
from ansim.geo.cells import (
    cell_distance_m,
    cell_to_hex,
    cells_to_hex,
    disk,
    disk_k_for_radius,
    haversine_m,
    hex_to_cell,
    latlng_to_cells,
    seoul_cells,
)
from ansim.geo.regions import seoul_districts


@pytest.fixture(scope="module")
def table():
    return seoul_cells(10)


def test_seoul_table_covers_every_gu_once(table) -> None:
    assert len(table) > 50_000
    assert np.all(np.diff(table.cells.astype(np.int64)) > 0)  # sorted, unique
    assert table.gu_codes == tuple(r.code for r in seoul_districts())
    assert set(np.unique(table.gu_index)) == set(range(25))
    # Seoul is 605 km²
    assert table.area_m2.sum() / 1e6 == pytest.approx(605.2, rel=0.02)


def test_locate_city_hall_and_outside(table) -> None:
    row = table.locate(37.5665, 126.9780)
    assert table.gu_of([row])[0] == "11140"  # 중구
    assert table.locate(37.4979, 127.0276) != row  # Gangnam station
    assert table.gu_of([table.locate(37.4979, 127.0276)])[0] == "11680"
    with pytest.raises(OutOfCoverageError) as exc:
        table.locate(35.1796, 129.0756)  # Busan
    assert exc.value.field == "lat/lon"
    with pytest.raises(InputError):
        table.locate(float("nan"), 127.0)


def test_index_of_marks_unknown_cells(table) -> None:
    busan = latlng_to_cells([35.1796], [129.0756], 10)
    rows = table.index_of(np.concatenate([table.cells[:3], busan]))
    assert rows.tolist() == [0, 1, 2, -1]


def test_hex_round_trip_and_invalid() -> None:
    cell = latlng_to_cells(37.5665, 126.9780, 10)[0]
    text = cell_to_hex(cell)
    assert text == h3.latlng_to_cell(37.5665, 126.9780, 10)
    assert hex_to_cell(text) == int(cell)
    assert cells_to_hex([cell]) == [text]
    with pytest.raises(InputError) as exc:
        hex_to_cell("not-a-cell", field="cell")
    assert exc.value.field == "cell"


def test_distances_match_h3() -> None:
    a = (37.5665, 126.9780)
    b = (37.4979, 127.0276)
    expected = h3.great_circle_distance(a, b, unit="m")
    assert float(haversine_m(*a, *b)) == pytest.approx(expected, rel=1e-6)
    cells = latlng_to_cells([a[0], b[0]], [a[1], b[1]], 10)
    assert float(cell_distance_m(cells[:1], cells[1:])[0]) == pytest.approx(expected, abs=150)


def test_disk_k_covers_the_radius(table) -> None:
    for radius in (100.0, 300.0, 1000.0):
        k = disk_k_for_radius(radius, 10)
        centre = table.cells[table.locate(37.55, 126.99)]
        ring = disk(int(centre), k)
        # every table cell whose centre is within the radius is in the disk
        lat, lon = h3.cell_to_latlng(cell_to_hex(centre))
        near = table.cells[haversine_m(lat, lon, table.lat, table.lon) <= radius]
        assert np.isin(near, ring).all()

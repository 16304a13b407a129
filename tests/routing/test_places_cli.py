"""Places (coordinates, station names) and the ``ansim route`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansim.errors import InputError
from ansim.routing.places import resolve_place

REPO = Path(__file__).resolve().parents[2]


def test_coordinates_and_station_names() -> None:
    p = resolve_place("37.5665, 126.9780", field="from")
    assert (p.lat, p.lon) == (37.5665, 126.978)
    seoul = resolve_place("서울역", field="from")
    assert seoul.lat == pytest.approx(37.554, abs=0.002)
    assert seoul.lon == pytest.approx(126.971, abs=0.002)
    gtx = resolve_place("서울", field="from")  # the GTX-A platform, 200 m from the 1/4호선 station
    assert abs(gtx.lat - seoul.lat) < 0.003
    assert abs(gtx.lon - seoul.lon) < 0.003
    gu = resolve_place("종로구", field="to")
    assert 37.57 < gu.lat < 37.62
    assert gu.label == "종로구"
    assert resolve_place("돈암", field="to").label == "성신여대입구(돈암)역"


def test_unknown_and_ambiguous_places() -> None:
    with pytest.raises(InputError) as err:
        resolve_place("강남x역", field="from")
    assert err.value.field == "from"
    assert "강남" in err.value.reason
    with pytest.raises(InputError) as err:
        resolve_place("양평", field="to")
    assert err.value.field == "to"
    assert "5호선" in err.value.reason
    assert "중앙선" in err.value.reason
    with pytest.raises(InputError) as err:
        resolve_place("", field="to")
    assert err.value.field == "to"


@pytest.fixture(scope="module")
def cli_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var dir whose routing cache already holds central Seoul (as a deployed server's would)."""
    from ansim.routing.engine import cch_topology
    from ansim.routing.network import load_network

    var = tmp_path_factory.mktemp("var")
    cch_topology(
        load_network("central", "walk", cache_dir=var / "routing"), cache_dir=var / "routing"
    )
    return var


def _ansim(*args: str, var_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIM_VAR_DIR": str(var_dir)}  # caches go to the test's temp dir
    return subprocess.run(
        [sys.executable, "-m", "ansim.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env=env,
    )


@pytest.mark.slow
def test_cli_route_json_with_hazard(
    tmp_path: Path, cli_var_dir: Path, exposure_site: tuple[float, float]
) -> None:
    lat, lon = exposure_site
    hazard = tmp_path / "hazard.geojson"
    hazard.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"ucov_per_hour": 200, "radius_m": 150},
                        "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    }
                ],
            }
        )
    )
    done = _ansim(
        "route",
        "--from",
        "37.5665,126.9720",
        "--to",
        "37.5665,126.9840",
        "--at",
        "2020-03-10 18:00",
        "--hazard-geojson",
        str(hazard),
        "--json",
        var_dir=cli_var_dir,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["departure"] == "2020-03-10T18:00:00+09:00"
    objs = [a["objectives"] for a in answer["alternatives"]]
    assert objs[0][0] == "fastest"
    assert any("safest" in o for o in objs[1:])
    assert "노출" in answer["summary"]["ko"]
    assert "exposure" in answer["summary"]["en"]
    bad = _ansim("route", "--from", "없는역이름", "--to", "서울역", "--json", var_dir=cli_var_dir)
    assert bad.returncode == 2
    assert "field 'from'" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.slow
def test_cli_route_batch_pairs(tmp_path: Path, cli_var_dir: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        'id,from,to,at\na,서울역,종로3가,2020-03-10 18:00\nb,없는역,종로3가,\nc,"37.5665,126.9720",광화문,\n',
        encoding="utf-8",
    )
    done = _ansim("route", "--pairs", str(pairs), "--at", "2020-03-10 09:00", var_dir=cli_var_dir)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    assert [x["id"] for x in lines] == ["a", "b", "c"]
    assert lines[0]["departure"] == "2020-03-10T18:00:00+09:00"
    assert lines[2]["departure"] == "2020-03-10T09:00:00+09:00"  # the row has no time: --at applies
    assert "row 2, field 'from'" in lines[1]["error"]
    assert lines[0]["alternatives"][0]["objectives"] == [
        "fastest",
        "balanced",
        "safest",
    ]  # no risk given

"""The risk engine on the real spring-2020 Seoul data: acceptance, updates, the public shape."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from ansim.errors import InputError, OutOfCoverageError
from ansim.records import ExposureEvent
from ansim.risk.engine import RiskEngine, rank_percentile
from ansim.risk.visit import Activity
from ansim.sources.ds4c import read_cases, read_patient_route, read_seoul_floating
from ansim.sources.seoul import read_gu_daily_cases, read_living_population
from ansim.store.formats import FORMATS
from ansim.timeutil import SEOUL
from tests.conftest import DATA

GURO_CALL_CENTER = (37.508163, 126.884387)  # DS4C Case.csv "Guro-gu Call Center" (신도림)
ITAEWON_CLUBS = (37.538621, 126.992652)  # DS4C Case.csv "Itaewon Clubs"


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inputs():
    cases = read_gu_daily_cases(
        DATA / "cases" / "seoul_gu_covid19_confirmed_20200205_20210630.csv.gz"
    )
    crowd = pd.concat(
        [
            read_living_population(DATA / "crowd" / "seoul_spop_gu_daily_20180405_20200531.csv.gz"),
            read_seoul_floating(DATA / "ds4c" / "SeoulFloating.csv.gz"),
        ]
    )
    events = read_patient_route(DATA / "ds4c" / "PatientRoute.csv.gz") + read_cases(
        DATA / "ds4c" / "Case.csv.gz"
    )
    # the visits named by the bundled disaster messages, as `ansim db init` loads them
    for dump in sorted((DATA / "alerts").glob("*.csv.gz")):
        events += FORMATS["alerts"].read(dump).events
    return cases, crowd, events


@pytest.fixture(scope="module")
def engine(inputs, tmp_path_factory):
    cases, crowd, events = inputs
    return RiskEngine.from_records(
        cases=cases, exposures=events, crowd=crowd, cache_dir=tmp_path_factory.mktemp("var")
    )


@pytest.mark.parametrize(
    ("site", "at", "after"),
    [
        # the call centre was active until its closure on 9 Mar 2020; deleted 14 days later
        (
            GURO_CALL_CENTER,
            datetime(2020, 3, 5, 15, tzinfo=SEOUL),
            datetime(2020, 3, 24, 15, tzinfo=SEOUL),
        ),
        # club visits 24 Apr - 6 May 2020 (a Saturday night in the window); deleted from 21 May
        (
            ITAEWON_CLUBS,
            datetime(2020, 5, 2, 23, tzinfo=SEOUL),
            datetime(2020, 5, 22, 23, tzinfo=SEOUL),
        ),
    ],
)
def test_cluster_cells_rank_top_one_percent_then_fall_back(engine, site, at, after) -> None:
    row = engine.table.locate(*site)
    now = engine.field(at)
    assert rank_percentile(now["ucov"], row) < 0.01
    assert (
        now["exposure_site"][row] > now["community"][row]
    )  # the site, not the crowd, puts it there
    later = engine.field(after)
    assert later["exposure_site"][row] < 1e-6 * now["exposure_site"][row]
    assert rank_percentile(later["ucov"], row) > 0.01
    # deleting the expired sites changes nothing at that time
    n = engine.exposures.size
    clone = _clone(engine)
    assert clone.expire(after) > 0
    assert clone.exposures.size < n
    assert np.allclose(clone.field(after)["ucov"], later["ucov"])


def _clone(engine: RiskEngine) -> RiskEngine:
    return RiskEngine(
        table=engine.table,
        regions=engine.regions,
        crowd=engine.crowd,
        weights=engine.weights,
        gravity=engine.gravity,
        exposures=engine.exposures,
        budget_ucov=engine.budget_ucov,
    )


def test_incremental_update_equals_full_recompute(engine) -> None:
    events = list(engine.exposures.events)
    half = _clone(engine)
    half.exposures = type(engine.exposures).build(
        events[: len(events) // 2], engine.table, engine.exposures.params
    )
    half.add_exposures(events[len(events) // 2 :])
    at = datetime(2020, 3, 12, 14, tzinfo=SEOUL)
    assert np.array_equal(half.field(at)["ucov"], engine.field(at)["ucov"])
    new = ExposureEvent(
        "test",
        "new",
        37.5663,
        126.9920,
        start=at - timedelta(minutes=30),
        end=at + timedelta(minutes=30),
    )
    full = _clone(engine)
    full.exposures = type(engine.exposures).build(
        [*events, new], engine.table, engine.exposures.params
    )
    half.add_exposures([new])
    assert np.array_equal(half.field(at)["ucov"], full.field(at)["ucov"])
    row = engine.table.locate(37.5663, 126.9920)
    assert half.field(at)["exposure_site"][row] > engine.field(at)["exposure_site"][row]


def test_ucov_per_hour_is_the_field(engine) -> None:
    at = datetime(2020, 3, 10, 18, tzinfo=SEOUL)
    field = engine.field(at)["ucov"]
    rows = np.array([0, 100, 5000, len(engine.table) - 1])
    busan = np.array([0x8A30C0000000000 | 0xFFF], dtype=np.uint64)
    got = engine.ucov_per_hour(np.concatenate([engine.table.cells[rows], busan]), at)
    assert np.allclose(got[:-1], field[rows])
    assert np.isnan(got[-1])
    assert list(engine.level_of_ucov([0.0, 50.0, 5000.0])) == ["very_low", "moderate", "dangerous"]


def test_grid_bbox_and_resolution(engine) -> None:
    at = datetime(2020, 3, 10, 18, tzinfo=SEOUL)
    g = engine.grid((37.55, 126.96, 37.58, 127.0), at)
    assert 0 < g["cell"].size < len(engine.table)
    assert np.all(g["lower"] <= g["ucov"])
    assert np.all(g["ucov"] <= g["upper"])
    coarse = engine.grid((37.55, 126.96, 37.58, 127.0), at, resolution=8)
    assert coarse["cell"].size < g["cell"].size
    with pytest.raises(OutOfCoverageError):
        engine.grid((35.0, 129.0, 35.1, 129.1), at)


def test_point_assessment_shape_units_and_advice(engine) -> None:
    at = datetime(2020, 3, 10, 18, tzinfo=SEOUL)
    a = engine.assess(37.5665, 126.9780, at).to_dict()
    assert set(a) >= {
        "cell",
        "at",
        "ucov",
        "probability",
        "level",
        "level_ko",
        "drivers",
        "region",
        "advice",
    }
    assert a["at"] == "2020-03-10T18:00:00+09:00"
    assert a["ucov"]["unit"] == "µCoV"
    assert a["ucov"]["lower"] < a["ucov"]["value"] < a["ucov"]["upper"]
    assert a["probability"]["value"] == pytest.approx(a["ucov"]["value"] / 1e6)
    assert a["region"]["code"] == "11140"
    assert a["region"]["name"] == "중구"
    assert {"incidence_per_100k", "rt", "distancing_level"} <= set(a["region"])
    assert a["region"]["incidence_per_100k"]["unit"].startswith("confirmed cases per 100,000")
    assert sum(d["share"]["value"] for d in a["drivers"]) == pytest.approx(1.0, abs=0.01)
    keys = {x["key"] for x in a["advice"]}
    assert {"mask_kf94", "distance_2m", "shorter_stay"} <= keys
    # masks and distance lower the risk the advice promised
    masked = engine.assess(37.5665, 126.9780, at, Activity(your_mask="kf94"))
    promised = next(x for x in a["advice"] if x["key"] == "mask_kf94")["ucov_after"]["value"]
    assert masked.ucov == pytest.approx(promised, rel=1e-6)
    # the person's own head count replaces the crowd estimate, linearly
    ten = engine.assess(37.5665, 126.9780, at, people=10)
    twenty = engine.assess(37.5665, 126.9780, at, people=20)
    assert twenty.ucov == pytest.approx(2 * ten.ucov, rel=1e-9)


def test_future_uses_persistence_with_wider_bounds(engine) -> None:
    last = engine.regions.last_day
    now = datetime(last.year, last.month, last.day, 12, tzinfo=SEOUL)
    a0 = engine.assess(37.5665, 126.9780, now)
    a3 = engine.assess(37.5665, 126.9780, now + timedelta(days=3))
    assert a3.upper / a3.ucov > a0.upper / a0.ucov
    assert "persistence" in a3.basis["prevalence"]
    assert any(d["key"] == "forecast" for d in a3.drivers)
    with pytest.raises(OutOfCoverageError) as exc:
        engine.assess(37.5665, 126.9780, now + timedelta(days=8))
    assert exc.value.field == "at"


def test_bad_input_names_the_field(engine) -> None:
    at = datetime(2020, 3, 10, 18, tzinfo=SEOUL)
    with pytest.raises(OutOfCoverageError) as exc:
        engine.assess(35.1796, 129.0756, at)
    assert exc.value.field == "lat/lon"
    with pytest.raises(OutOfCoverageError) as exc:
        engine.assess(37.5665, 126.9780, datetime(2019, 1, 1, tzinfo=SEOUL))
    assert exc.value.field == "at"
    with pytest.raises(InputError) as exc:
        engine.assess(37.5665, 126.9780, at, Activity(setting="spaceship"))
    assert exc.value.field == "setting"
    with pytest.raises(InputError) as exc:
        engine.assess(37.5665, 126.9780, at, people=-1)
    assert exc.value.field == "people"


def test_from_store_matches_from_records(loaded_engine, engine, tmp_path) -> None:
    stored = RiskEngine.from_store(loaded_engine, cache_dir=tmp_path)
    at = datetime(2020, 3, 5, 15, tzinfo=SEOUL)
    row = stored.table.locate(*GURO_CALL_CENTER)
    f = stored.field(at)
    assert rank_percentile(f["ucov"], row) < 0.01
    assert stored.exposures.size == engine.exposures.size
    assert np.allclose(f["ucov"], engine.field(at)["ucov"], rtol=1e-6)

"""The risk engine on the real spring-2020 Seoul data: acceptance, updates, the public shape."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from ansim.errors import InputError, OutOfCoverageError
from ansim.records import ExposureEvent
from ansim.risk.engine import RiskEngine, rank_percentile
from ansim.risk.visit import Activity
from ansim.store.db import make_engine
from ansim.timeutil import SEOUL

GURO_CALL_CENTER = (37.508163, 126.884387)  # DS4C Case.csv "Guro-gu Call Center" (신도림)
ITAEWON_CLUBS = (37.538621, 126.992652)  # DS4C Case.csv "Itaewon Clubs"


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(risk_inputs, risk_var):
    cases, crowd, events = risk_inputs
    return RiskEngine.from_records(cases=cases, exposures=events, crowd=crowd, cache_dir=risk_var)


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


def test_from_store_matches_from_records(risk_store_path, engine, risk_var) -> None:
    stored = RiskEngine.from_store(make_engine(f"sqlite:///{risk_store_path}"), cache_dir=risk_var)
    at = datetime(2020, 3, 5, 15, tzinfo=SEOUL)
    row = stored.table.locate(*GURO_CALL_CENTER)
    f = stored.field(at)
    assert rank_percentile(f["ucov"], row) < 0.01
    assert stored.exposures.size == engine.exposures.size
    assert np.allclose(f["ucov"], engine.field(at)["ucov"], rtol=1e-6)


@pytest.mark.parametrize(
    ("day", "level", "system"),
    [
        # the capital-region zone (Seoul + Incheon + Gyeonggi) on the KDCA province series:
        # 1.5 from a weekly average of 100 (the government: 19 Nov 2020), 2 from 200 or with two
        # zones at 1.5 for a week (24 Nov), 2.5 from a nationwide 400 (the government: 8 Dec; the
        # data cross 400 on 28 Nov), 3 from a nationwide 800 (never declared: the indicator runs ahead)
        ("2020-11-10", 1.0, "five_level"),
        ("2020-11-18", 1.5, "five_level"),
        ("2020-11-24", 2.0, "five_level"),
        ("2020-12-08", 2.5, "five_level"),
        ("2020-12-20", 3.0, "five_level"),
        # four-level: Seoul's weekly average per 100,000 (data end 2021-06-30, persisted a week)
        ("2021-07-05", 3.0, "four_level"),
    ],
)
def test_distancing_level_of_the_capital_region(engine, day, level, system) -> None:
    from datetime import date

    info = engine.region_info("11680", date.fromisoformat(day))["distancing_level"]
    assert (info["system"], info["level"]) == (system, level)
    if system == "five_level":
        assert info["basis"]["area"].startswith("capital region")
        assert info["basis"]["source"] == "kdca-sido"
        # the zone's average exceeds Seoul's own
        seoul = (
            engine.regions.cases_past_week[
                (date.fromisoformat(day) - engine.regions.day0).days
            ].sum()
            / 7
        )
        assert info["basis"]["weekly_avg_cases"]["value"] > seoul


def test_distancing_falls_back_to_seoul_without_province_series(engine) -> None:
    from datetime import date

    alone = _clone(engine)
    assert alone.zones is None
    info = alone.region_info("11680", date(2020, 12, 8))["distancing_level"]
    assert info["basis"]["area"] == "Seoul"
    assert "Seoul's own cases" in info["note"]


def test_drivers_speak_korean_in_korean(engine) -> None:
    at = datetime(2020, 3, 10, 18, tzinfo=SEOUL)
    a = engine.assess(37.5665, 126.9780, at).to_dict()
    by_key = {d["key"]: d for d in a["drivers"]}
    community = by_key["community"]
    assert "중구" in community["reason_ko"]
    assert "Jung-gu" not in community["reason_ko"]
    assert "Jung-gu" in community["reason_en"]
    for d in a["drivers"]:  # every figure with its unit and range
        assert "µCoV (range" in d["reason_en"]
        assert "µCoV (범위" in d["reason_ko"]
    mobility = by_key["mobility"]
    # the flow told as people: "About N of the M people who were near X … went on to Y"
    assert "people who were near" in mobility["reason_en"]
    assert "명 중" in mobility["reason_ko"]
    assert "중구" in mobility["reason_ko"]

"""Crowd layer: gu × hour from KT and SKT, spread to cells preserving each gu's total."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from ansim.errors import OutOfCoverageError
from ansim.geo.cells import seoul_cells
from ansim.geo.gazetteer import find_station
from ansim.risk.crowd import (
    CrowdModel,
    activity_share,
    expected_copresent,
    people_in_cells,
    residents_per_cell,
    static_weights,
    venue_points,
)
from ansim.sources.ds4c import read_patient_route
from ansim.timeutil import SEOUL


@pytest.fixture(scope="module")
def table():
    return seoul_cells(10)


@pytest.fixture(scope="module")
def weights(table, tmp_path_factory):
    from tests.conftest import DATA

    events = read_patient_route(DATA / "ds4c" / "PatientRoute.csv.gz")
    return static_weights(
        table, places=venue_points(events), data_dir=DATA, cache_dir=tmp_path_factory.mktemp("var")
    )


@pytest.fixture(scope="module")
def model(table, risk_inputs):
    return CrowdModel.build(risk_inputs[1], table.gu_codes)


def test_weights_sum_to_one_per_gu_so_gu_totals_are_kept(table, weights, model) -> None:
    for w in (weights.residents, weights.activity, weights.at(8, False), weights.at(3, True)):
        assert np.allclose(np.bincount(table.gu_index, w, minlength=25), 1.0)
        assert np.all(w >= 0)
    gu = model.gu_at(datetime(2020, 3, 10, 18, tzinfo=SEOUL))
    cells = people_in_cells(gu.people, weights.at(18, False), table.gu_index)
    assert np.allclose(np.bincount(table.gu_index, cells, minlength=25), gu.people)


def test_residents_match_the_2020_population(table) -> None:
    from tests.conftest import DATA

    residents = residents_per_cell(table, data_dir=DATA)
    # Seoul's registered residents, 2020 (sum of the 25 gu in seoul_pop2020_gu_dong.csv)
    total = pd.read_csv(DATA / "population" / "seoul_pop2020_gu_dong.csv")
    expected = (
        total.loc[total["동"] == "소계", "전체"]
        .astype(str)
        .str.replace(",", "")
        .astype(float)
        .sum()
    )
    assert residents.sum() == pytest.approx(expected, rel=1e-9)


def test_activity_weight_peaks_at_stations(table, weights) -> None:
    station = find_station("강남")
    assert station is not None
    row = table.locate(station.lat, station.lon)
    same_gu = table.gu_index == table.gu_index[row]
    assert weights.activity[row] > 5 * np.median(weights.activity[same_gu])
    assert activity_share(12, False) > activity_share(12, True) > activity_share(3, False)


def test_gu_hours_and_ratios(model) -> None:
    jan = model.gu_at(datetime(2020, 1, 15, 18, tzinfo=SEOUL))
    assert jan.basis == "kt-daily+skt-hour"
    assert np.nanmedian(jan.ratio) == pytest.approx(1.0, abs=0.1)  # a normal week
    march = model.gu_at(datetime(2020, 3, 10, 18, tzinfo=SEOUL))
    assert march.basis == "kt-daily+profile"
    jung = model.gu_codes.index("11140")
    assert march.ratio[jung] < 0.9  # central Seoul emptied in March 2020
    # the day's hours average to the KT daily level
    hours = model.gu_day_hours(datetime(2020, 3, 10).date())
    i = (datetime(2020, 3, 10).date() - model.day0).days
    assert np.allclose(hours.mean(axis=0), model.daily[i])
    later = model.gu_at(datetime(2020, 6, 10, 12, tzinfo=SEOUL))
    assert later.basis == "persistence"
    assert np.all(later.people > 0)
    with pytest.raises(OutOfCoverageError) as exc:
        model.gu_at(datetime(2017, 1, 1, tzinfo=SEOUL))
    assert exc.value.field == "at"


def test_night_moves_people_home(table, weights, model) -> None:
    station = find_station("강남")
    row = table.locate(station.lat, station.lon)
    day = people_in_cells(
        model.gu_at(datetime(2020, 3, 10, 13, tzinfo=SEOUL)).people,
        weights.at(13, False),
        table.gu_index,
    )
    night = people_in_cells(
        model.gu_at(datetime(2020, 3, 10, 3, tzinfo=SEOUL)).people,
        weights.at(3, False),
        table.gu_index,
    )
    assert day[row] > 2 * night[row]


def test_copresent_is_density_times_footprint() -> None:
    people = np.array([0.0, 100.0, 10_000.0, 50.0])
    area = np.array([10_000.0, 10_000.0, 10_000.0, 80.0])
    assert expected_copresent(people, area).tolist() == [0.0, 1.0, 100.0, 50.0]

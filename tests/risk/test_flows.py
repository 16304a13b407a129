"""Mobility propagation: gravity model on KT data and the announcement's Euljiro → Yeoksam example."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from ansim.geo.cells import haversine_m, seoul_cells
from ansim.records import ExposureEvent
from ansim.risk.crowd import copresent_fraction
from ansim.risk.exposure import ExposureField, epoch_s
from ansim.risk.flows import (
    UNDETECTED_PER_CASE,
    carried_presence,
    carriers,
    carry_factor,
    describe_flow,
    fit_gravity,
    gravity_flows,
    seoul_gravity,
    zone_load,
)
from ansim.risk.levels import band_of
from ansim.risk.visit import REFERENCE_ACTIVITY, Variant, activity_risk
from ansim.timeutil import SEOUL

EULJIRO = (37.5663, 126.9920)  # 을지로3가
YEOKSAM = (37.5006, 127.0364)  # 역삼역
T = datetime(2020, 3, 10, 18, 0, tzinfo=SEOUL)


@pytest.fixture(scope="module")
def table():
    return seoul_cells(10)


def test_fit_recovers_a_known_beta() -> None:
    rng = np.random.default_rng(1)
    lat = 37.45 + 0.2 * rng.random(12)
    lon = 126.85 + 0.3 * rng.random(12)
    d = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) / 1000
    attraction = 1e5 * (1 + rng.random(12))
    # movers consistent with inflows = outflows under β = 0.4/km: iterate to the fixed point
    movers = np.full(12, 1e4)
    for _ in range(500):
        movers = gravity_flows(movers, attraction, d, 0.4).sum(axis=0)
        movers *= 1e5 / movers.sum()
    codes = tuple(str(i) for i in range(12))
    g = fit_gravity(
        gu_codes=codes, movers=movers, attraction=attraction, present=movers * 5, lat=lat, lon=lon
    )
    assert g.beta_per_km == pytest.approx(0.4, rel=0.02)
    assert np.allclose(g.shares.sum(axis=1), 1.0)


def test_seoul_gravity_is_calibrated_and_decays_with_distance(table) -> None:
    from tests.conftest import DATA

    g = seoul_gravity(DATA, table.gu_codes)
    assert 0.05 < g.beta_per_km < 2.0
    assert g.fit_rmse_rel < 0.5
    assert np.allclose(g.shares.sum(axis=1), 1.0)
    assert np.all(g.shares >= 0)
    jung, jongno, gangdong = (table.gu_codes.index(c) for c in ("11140", "11110", "11740"))
    assert g.shares[jung, jongno] > 3 * g.shares[jung, gangdong]
    assert 0.2 < g.shares[jung, jung] < 0.95  # most people present stay in their gu


def test_carry_window() -> None:
    s, e = epoch_s(T), epoch_s(T + timedelta(hours=1))
    assert carry_factor([s], [e], epoch_s(T + timedelta(hours=20)))[0] == 1.0
    assert carry_factor([s], [e], epoch_s(T + timedelta(hours=26)))[0] == 0.0
    assert carry_factor([s], [e], epoch_s(T - timedelta(hours=1)))[0] == 0.0


def test_euljiro_high_yeoksam_medium(table) -> None:
    """A case in Euljiro, 800 people around, 20 % of them went on to Yeoksam afterwards."""
    a = activity_risk(REFERENCE_ACTIVITY, variant=Variant.WILD)
    share_cell = copresent_fraction(table.area_m2)
    visit = ExposureEvent("test", "euljiro", *EULJIRO, start=T, end=T + timedelta(hours=1))
    site = ExposureField.build([visit], table)
    during = epoch_s(T + timedelta(minutes=30))
    origin_ucov = site.presence(len(table), during) * share_cell * 1e6 * a
    o_row = table.locate(*EULJIRO)
    assert band_of(float(origin_ucov[o_row])).key == "high"

    # the movers spread around Yeoksam like the crowd around the site (same kernel, normalised)
    around_yeoksam = ExposureField.build(
        [ExposureEvent("test", "yeoksam", *YEOKSAM, start=T, end=T + timedelta(hours=1))], table
    )
    zone = np.full(len(table), -1)
    weight = np.zeros(len(table))
    zone[around_yeoksam.entry_row] = 0
    weight[around_yeoksam.entry_row] = (
        around_yeoksam.entry_weight / around_yeoksam.entry_weight.sum()
    )
    shares = np.array([[0.2]])  # 20 % of the people around went on to Yeoksam
    load = zone_load([0], carriers([1.0], carry_factor(site.start_s, site.end_s, during)), shares)
    assert load[0] == pytest.approx(0.2 * UNDETECTED_PER_CASE)
    dest_ucov = carried_presence(load, zone, weight) * share_cell * 1e6 * a
    y_row = table.locate(*YEOKSAM)
    assert band_of(float(dest_ucov[y_row])).key == "moderate"  # "medium"
    assert dest_ucov[o_row] == 0.0
    text = describe_flow(
        people_around=800, share=0.2, origin="Euljiro", destination="Yeoksam", at=T
    )
    assert (
        text
        == "About 160 of the 800 people who were near Euljiro at 2020-03-10 18:00 (20%) went on to Yeoksam"
    )
    ko = describe_flow(
        people_around=800, share=0.2, origin="을지로", destination="역삼", at=T, lang="ko"
    )
    assert "800명" in ko
    assert "160명" in ko


def test_describe_flow_for_a_day_and_a_window() -> None:
    day = datetime(2020, 3, 9, tzinfo=SEOUL)
    text = describe_flow(
        people_around=800,
        share=0.2,
        origin="Euljiro",
        destination="Yeoksam",
        at=day,
        until=day + timedelta(days=1),
    )
    assert "near Euljiro on 2020-03-09 (20%)" in text
    ko = describe_flow(
        people_around=800,
        share=0.2,
        origin="을지로",
        destination="역삼",
        at=day,
        until=day + timedelta(days=3),
        lang="ko",
    )
    assert ko.startswith("2020-03-09~2020-03-11 사이에 을지로 근처")


def test_kt_movement_columns_come_from_the_seoul_reader(table) -> None:
    from ansim.risk.flows import load_kt_mobility, mobility_means
    from ansim.sources.seoul import read_living_population_flows
    from tests.conftest import DATA

    path = DATA / "crowd" / "seoul_spop_gu_daily_20180405_20200531.csv.gz"
    flows = read_living_population_flows(path)
    assert list(flows.columns) == [
        "area",
        "date",
        "present",
        "daytime",
        "movers",
        "inflow_outside",
    ]
    assert set(flows["area"]) == set(table.gu_codes)  # the city total (11000) is dropped
    means = mobility_means(flows, table.gu_codes)
    assert list(means.index) == list(table.gu_codes)
    assert means.equals(load_kt_mobility(path, table.gu_codes))
    # movers are a fraction of the people present; the daytime population of 중구 exceeds its residents'
    assert (means["movers"] < means["present"]).all()
    assert means.loc["11140", "daytime"] > means.loc["11140", "present"]

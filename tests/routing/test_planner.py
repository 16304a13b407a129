"""Planner: safest routes avoid a real exposure site, objectives agree without risk, answers are complete."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from h3.api import basic_int as h3i

from ansim.errors import InputError
from ansim.routing.engine import DijkstraRouter
from ansim.routing.fields import NO_RISK, ArrayRiskField, hazard_cells_around
from ansim.routing.network import Network
from ansim.routing.planner import Routers, compare, plan_routes

from .conftest import DEPART

# West and east of City Hall: the fastest walk goes past the exposure site.
WEST = (37.5665, 126.9720)
EAST = (37.5665, 126.9840)


def test_safest_route_avoids_the_exposure_site(
    central_walk: Network, walk_routers: Routers, hazard: ArrayRiskField
) -> None:
    plan = plan_routes(central_walk, walk_routers, hazard, WEST, EAST, DEPART)
    fastest = plan.alternatives[0]
    assert fastest.objective == "fastest"
    assert fastest.exposure_ucov > 1.0
    assert fastest.max_level == "high"
    safest = next(a for a in plan.alternatives if "safest" in a.objectives)
    assert safest is not fastest
    assert safest.exposure_ucov < 0.05 * fastest.exposure_ucov
    assert (
        safest.duration_s > fastest.duration_s
    )  # the detour has a price, and the answer states it
    hazard_hex = {f"{int(c):x}" for c in hazard.cells}
    assert safest.avoids
    assert {a.cell for a in safest.avoids} <= hazard_hex
    route_cells = {h3i.latlng_to_cell(lat, lon, 10) for lon, lat in safest.geometry["coordinates"]}
    assert not route_cells & set(hazard.cells.tolist())
    minutes = round((safest.duration_s - fastest.duration_s) / 60)
    pct = round(100 * (1 - safest.exposure_ucov / fastest.exposure_ucov))
    assert safest.comparison == {
        "ko": f"{minutes}분 더 걸리지만 노출 {pct}% 감소",
        "en": f"+{minutes} min, −{pct}% exposure",
    }
    assert plan.summary == safest.comparison
    # answer shape
    d = plan.to_dict()
    for alt in d["alternatives"]:
        assert set(alt) >= {
            "objective",
            "duration_s",
            "length_m",
            "exposure_ucov",
            "max_level",
            "nodes",
            "geometry",
        }
        assert alt["geometry"]["type"] == "LineString"
        assert len(alt["geometry"]["coordinates"]) >= 2
        assert alt["nodes"][0] in central_walk.node_osmid
    assert len({tuple(a["nodes"]) for a in d["alternatives"]}) == len(d["alternatives"]) <= 3


def test_costs_match_the_oracle_on_the_planned_metrics(
    central_walk: Network, hazard: ArrayRiskField, walk_routers: Routers
) -> None:
    cch = plan_routes(central_walk, walk_routers, hazard, WEST, EAST, DEPART, balance="high")
    ref = plan_routes(
        central_walk, Routers.dijkstra(central_walk), hazard, WEST, EAST, DEPART, balance="high"
    )
    assert [a.cost for a in cch.alternatives] == [a.cost for a in ref.alternatives]
    assert [a.objectives for a in cch.alternatives] == [a.objectives for a in ref.alternatives]


def test_without_risk_all_objectives_agree(central_walk: Network, walk_routers: Routers) -> None:
    plan = plan_routes(central_walk, walk_routers, NO_RISK, WEST, EAST, DEPART)
    assert len(plan.alternatives) == 1
    only = plan.alternatives[0]
    assert only.objectives == ["fastest", "balanced", "safest"]
    assert only.exposure_ucov == 0.0
    assert only.max_level == "very_low"
    assert plan.summary["en"].startswith("No known risk")


def test_far_away_risk_changes_nothing(central_walk: Network, walk_routers: Routers) -> None:
    elsewhere = ArrayRiskField.from_cells(
        hazard_cells_around(37.585, 127.003, radius_m=200, resolution=10), 900.0
    )
    plan = plan_routes(central_walk, walk_routers, elsewhere, WEST, EAST, DEPART)
    assert len(plan.alternatives) == 1
    assert len(plan.alternatives[0].objectives) == 3


def test_risk_is_taken_at_the_time_the_person_is_there(
    central_walk: Network, walk_routers: Routers, exposure_site: tuple[float, float]
) -> None:
    cells = hazard_cells_around(*exposure_site, radius_m=150.0, resolution=10)
    # Active only from 30 minutes after departure: a 15-minute walk passes before it starts.
    later = ArrayRiskField.from_cells(cells, 200.0, start=DEPART + timedelta(minutes=30))
    plan = plan_routes(central_walk, walk_routers, later, WEST, EAST, DEPART)
    assert len(plan.alternatives) == 1
    assert plan.alternatives[0].exposure_ucov == 0.0
    # Active from 8 minutes on: the walk reaches the site after ~8 minutes, so it matters.
    soon = ArrayRiskField.from_cells(cells, 200.0, start=DEPART + timedelta(minutes=8))
    plan = plan_routes(central_walk, walk_routers, soon, WEST, EAST, DEPART)
    assert plan.alternatives[0].exposure_ucov > 0
    assert any(a.exposure_ucov < plan.alternatives[0].exposure_ucov for a in plan.alternatives[1:])


def test_avoid_level_detours_and_says_when_it_cannot(
    central_walk: Network,
    walk_routers: Routers,
    hazard: ArrayRiskField,
    exposure_site: tuple[float, float],
) -> None:
    plan = plan_routes(central_walk, walk_routers, hazard, WEST, EAST, DEPART, avoid_level="high")
    assert all(not a.crosses_avoided_level for a in plan.alternatives)
    assert plan.alternatives[0].exposure_ucov == 0.0
    assert any("adds" in n["en"] for n in plan.notes)
    # Starting inside the hazard there is no other way: the answer says so.
    inside = plan_routes(
        central_walk, walk_routers, hazard, exposure_site, EAST, DEPART, avoid_level="very high"
    )
    assert not inside.notes  # 200 µCoV/h is below 'very high': nothing to avoid
    stuck = plan_routes(
        central_walk, walk_routers, hazard, exposure_site, EAST, DEPART, avoid_level="high"
    )
    assert all(a.crosses_avoided_level for a in stuck.alternatives)
    assert any("No way around" in n["en"] for n in stuck.notes)


def test_drive_profile_plans(
    central_drive: Network, drive_routers: Routers, hazard: ArrayRiskField
) -> None:
    plan = plan_routes(central_drive, drive_routers, hazard, WEST, EAST, DEPART)
    fastest = plan.alternatives[0]
    assert 60 < fastest.duration_s < 900
    oracle = DijkstraRouter.for_network(central_drive)
    oracle.customize(np.clip(np.rint(central_drive.duration_s * 1000), 1, None).astype(np.uint32))
    ref = oracle.query(int(fastest.path.nodes[0]), int(fastest.path.nodes[-1]))
    assert ref is not None
    assert ref.cost == fastest.cost


def test_bad_input_names_the_field(central_walk: Network, walk_routers: Routers) -> None:
    with pytest.raises(InputError) as err:
        plan_routes(central_walk, walk_routers, NO_RISK, (37.45, 127.10), EAST, DEPART)
    assert err.value.field == "from"
    assert "km from the nearest street" in err.value.reason
    with pytest.raises(InputError) as err:
        plan_routes(central_walk, walk_routers, NO_RISK, WEST, (35.1, 129.0), DEPART)
    assert err.value.field == "to"
    with pytest.raises(InputError) as err:
        plan_routes(central_walk, walk_routers, NO_RISK, WEST, EAST, DEPART, balance="extreme")
    assert err.value.field == "balance"
    with pytest.raises(InputError) as err:
        plan_routes(central_walk, walk_routers, NO_RISK, WEST, EAST, DEPART, avoid_level="scary")
    assert err.value.field == "avoid_level"


def test_comparison_sentences() -> None:
    from ansim.routing.planner import RouteAlternative

    def alt(duration_s: float, exposure: float) -> RouteAlternative:
        from ansim.routing.engine import PathResult

        empty = PathResult(0, np.zeros(1, np.int64), np.zeros(0, np.int64))
        return RouteAlternative(
            "balanced",
            ["balanced"],
            duration_s,
            0.0,
            exposure,
            "low",
            [],
            {},
            [],
            False,
            {},
            0,
            empty,
        )

    fast = alt(600, 10.0)
    assert compare(fast, alt(780, 3.8)) == {
        "ko": "3분 더 걸리지만 노출 62% 감소",
        "en": "+3 min, −62% exposure",
    }
    assert compare(fast, alt(640, 5.0)) == {
        "ko": "40초 더 걸리지만 노출 50% 감소",
        "en": "+40 s, −50% exposure",
    }
    assert compare(fast, fast)["en"] == "fastest route"

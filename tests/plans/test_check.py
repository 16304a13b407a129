"""Checking plans with the real engine on the bundled spring-2020 data (acceptance, privacy, routes)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest

from ansim.plans import bundled_route_planner, check_plans, plans_from_document, read_plans
from ansim.plans.presets import DEFAULT_PRESETS
from ansim.store import queries
from ansim.timeutil import SEOUL
from tests.plans.conftest import SAMPLE_ICS

pytestmark = pytest.mark.slow

WARNED = {
    "guro-lunch-w10@ansim.sample": "Guro-gu Call Center",
    "itaewon-club-w18@ansim.sample": "Itaewon Clubs",
}


@pytest.fixture(scope="module")
def sample_plans():
    plans, _ = read_plans(SAMPLE_ICS)
    return plans


@pytest.fixture(scope="module")
def answer(sample_plans, risk_engine):
    return check_plans(sample_plans, risk_engine)


def test_one_entry_per_occurrence_with_the_public_fields(sample_plans, answer) -> None:
    assert len(answer["plans"]) == len(sample_plans) == 21
    for entry in answer["plans"]:
        for key in (
            "title",
            "start",
            "end",
            "place",
            "status",
            "reason",
            "ucov",
            "level",
            "drivers",
            "alternatives",
        ):
            assert key in entry
        assert entry["status"] in ("checked", "cannot_check")
    assert [e["title"] for e in answer["plans"]].count("Office (사무실)") == 7
    json.dumps(answer)  # plain JSON


def test_warnings_exactly_for_the_two_cluster_plans(answer) -> None:
    warned = {e["ref"] for e in answer["plans"] if e["warning"]}
    assert warned == set(WARNED)
    for entry in answer["plans"]:
        if entry["ref"] in WARNED:
            assert entry["level"] in ("high", "very_high", "dangerous")
        elif entry["status"] == "checked":
            assert entry["level"] in ("very_low", "low", "moderate")
            assert entry["ucov"]["value"] < 100


def test_warned_plans_name_the_cluster_as_main_driver(answer) -> None:
    for entry in answer["plans"]:
        if entry["ref"] in WARNED:
            top = entry["drivers"][0]
            assert top["key"] == "exposure_site"
            assert WARNED[entry["ref"]] in top["reason_en"]
            assert WARNED[entry["ref"]] in top["reason_ko"]
            assert top["share"]["value"] > 0.5


def test_warned_plans_have_quieter_alternatives_checked_by_the_engine(answer, risk_engine) -> None:
    club = next(e for e in answer["plans"] if e["ref"] == "itaewon-club-w18@ansim.sample")
    lunch = next(e for e in answer["plans"] if e["ref"] == "guro-lunch-w10@ansim.sample")
    for entry in (club, lunch):
        alts = entry["alternatives"]
        assert alts, entry["title"]
        saved = [a["ucov_saved"] for a in alts]
        assert saved == sorted(saved, reverse=True)
        assert all(0 < a["ucov"] < entry["ucov"]["value"] for a in alts)
        later = next(a for a in alts if a["kind"] == "postpone")
        assert later["basis"] == "engine"
        # the alternative is the plan's µCoV times the engine's change between the two times
        start = datetime.fromisoformat(later["start"])
        act = DEFAULT_PRESETS[entry["activity"]["preset"]].activity(
            duration_min=entry["activity"]["duration_min"]
        )
        lat, lon = entry["place"]["lat"], entry["place"]["lon"]
        then = risk_engine.assess(lat, lon, start, act)
        now = risk_engine.assess(lat, lon, datetime.fromisoformat(entry["start"]), act)
        assert then.ucov < now.ucov
        if entry["ucov"]["value"] < 10_000:  # additive regime: exactly proportional
            assert later["ucov"] == pytest.approx(
                entry["ucov"]["value"] * then.ucov / now.ucov, abs=1e-3
            )
        # with the preset's people count the engine agrees that the later time is far quieter
        people = entry["activity"]["people"]
        assert (
            risk_engine.assess(lat, lon, start, act, people=people).ucov
            < 0.2 * entry["ucov"]["value"]
        )
    # the club night postponed past the outbreak window saves almost all of it
    assert club["alternatives"][0]["kind"] == "postpone"
    assert club["alternatives"][0]["saved_share"] > 0.9
    assert club["activity"]["preset"] == "club"
    assert lunch["activity"]["preset"] == "restaurant"
    # no mask advice while eating
    assert all(a["kind"] != "better_mask" for a in lunch["alternatives"])


def test_cannot_check_plans_are_reported_with_reasons(answer) -> None:
    reasons = {e["ref"]: e["reason"] for e in answer["plans"] if e["status"] == "cannot_check"}
    assert reasons == {
        "dentist-call-w10@ansim.sample": "no location",
        "birthday-w10@ansim.sample": "all-day event: there is no time of day to check (give it a start time)",
    }


def test_weekly_totals_against_the_budget(answer) -> None:
    weeks = {w["week"]: w for w in answer["weeks"]}
    assert set(weeks) == {"2020-W10", "2020-W18"}
    for _key, w in weeks.items():
        plans = [
            e
            for e in answer["plans"]
            if e["status"] == "checked"
            and e["start"] >= w["start"]
            and e["start"] < (datetime.fromisoformat(w["start"]) + timedelta(days=7)).isoformat()
        ]
        assert w["ucov"] == pytest.approx(sum(e["ucov"]["value"] for e in plans), abs=0.01)
        assert w["budget_share"] == pytest.approx(w["ucov"] / 200.0, abs=1e-3)
    assert weeks["2020-W10"]["unchecked"] == 2
    assert weeks["2020-W18"]["budget_share"] > 100  # one club night blows the week's budget


def test_budget_is_configurable(sample_plans, risk_engine) -> None:
    strict = check_plans(sample_plans[:5], risk_engine, budget_ucov=1_000.0)
    assert strict["budget"]["weekly_ucov"] == 20.0
    # bands scale with the budget: the same office day is a warning on a 1,000 µCoV budget
    assert any(e["warning"] for e in strict["plans"])


def test_batched_and_naive_agree_on_every_plan(sample_plans, risk_engine, answer) -> None:
    naive = check_plans(sample_plans, risk_engine, batched=False)
    for a, b in zip(answer["plans"], naive["plans"], strict=True):
        assert a["status"] == b["status"]
        assert a["level"] == b["level"]
        if a["ucov"] is not None:
            assert a["ucov"]["value"] == pytest.approx(b["ucov"]["value"])


def test_now_skips_plans_already_over(sample_plans, risk_engine) -> None:
    now = datetime(2020, 5, 1, 12, 0, tzinfo=SEOUL)
    later = check_plans(sample_plans, risk_engine, now=now)
    over = [e for e in later["plans"] if e["reason"] == "already over"]
    assert len(over) == 16
    assert all(e["start"] < now.isoformat() for e in over)
    assert all(
        datetime.fromisoformat(a["start"]) > now
        for e in later["plans"]
        for a in e["alternatives"]
        if "start" in a
    )


def test_checking_keeps_nothing(sample_plans, risk_engine, loaded_engine, caplog) -> None:
    before = queries.table_counts(loaded_engine)
    with caplog.at_level(logging.DEBUG):
        check_plans(sample_plans, risk_engine)
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (
        "Club night",
        "Lunch with the client",
        "Grandma",
        "37.538621",
        "126.992652",
        "37.508163",
        "신도림",
    ):
        assert secret not in text
    assert queries.table_counts(loaded_engine) == before


def test_places_outside_seoul_or_unknown_are_not_checked(risk_engine) -> None:
    plans, _ = plans_from_document(
        [
            {"title": "Busan trip", "place": "35.1796,129.0756", "start": "2020-05-01 12:00"},
            {"title": "Lunch", "place": "스타벅스", "start": "2020-05-01 12:00"},
            {"title": "Too late", "place": "시청역", "start": "2026-01-01 12:00"},
        ]
    )
    reasons = [e["reason"] for e in check_plans(plans, risk_engine)["plans"]]
    assert "outside Seoul" in reasons[0]
    assert "not found" in reasons[1]
    assert "2026-01-01" in reasons[2]


def test_routes_and_origins_give_safer_route_alternatives(
    risk_engine, plans_var_dir, monkeypatch
) -> None:
    monkeypatch.setenv("ANSIM_VAR_DIR", str(plans_var_dir))
    from ansim.settings import get_settings

    get_settings.cache_clear()
    try:
        doc = {
            "plans": [
                {
                    "title": "Bar",
                    "place": "37.5407,126.9935",
                    "from": "37.5345,126.9946",
                    "start": "2020-05-02 21:00",
                    "end": "2020-05-02 22:30",
                }
            ],
            "routes": [{"from": "녹사평역", "to": "시청역", "days": "weekdays", "depart": "08:10"}],
        }
        window = (datetime(2020, 4, 27, tzinfo=SEOUL), datetime(2020, 5, 3, tzinfo=SEOUL))
        plans, _ = plans_from_document(doc, window=window)
        answer = check_plans(plans, risk_engine, route_planner=bundled_route_planner(risk_engine))
    finally:
        get_settings.cache_clear()
    trips = [e for e in answer["plans"] if e["kind"] == "trip"]
    assert len(trips) == 5
    assert all(e["status"] == "checked" for e in trips)
    assert all(e["activity"]["preset"] == "subway" for e in trips)
    # 녹사평 → 시청 is ~3 km: estimated 17 minutes door to door
    assert all(15 <= e["activity"]["duration_min"] <= 20 for e in trips)
    bar = next(e for e in answer["plans"] if e["title"] == "Bar")
    route = next(a for a in bar["alternatives"] if a["kind"] == "safer_route")
    assert route["extra_min"] >= 0
    assert 0 < route["ucov"] < route["ucov"] + route["ucov_saved"]
    assert route["network"] == "yongsan"


def test_text_report_of_the_cli(answer) -> None:
    from ansim.commands.plans import _text_report

    text = _text_report(answer)
    lines = text.splitlines()
    warned = [line for line in lines if line.startswith("!")]
    assert len(warned) == 2
    assert "Club night in Itaewon" in warned[1]
    assert "dangerous" in warned[1]
    assert "Itaewon Clubs" in text
    assert "Guro-gu Call Center" in text
    assert "cannot check (no location)" in text
    assert "weekly budget 200 µCoV" in text
    assert "2020-W18" in text


def test_all_day_lodging_is_checked_at_check_in_and_capped(risk_engine) -> None:
    plans, _ = plans_from_document(
        [
            {
                "title": "Hotel",
                "type": "lodging",
                "place": "시청역",
                "start": "2020-05-01",
                "end": "2020-05-03",
                "all_day": True,
            },
            {"title": "Holiday", "place": "시청역", "start": "2020-05-01", "all_day": True},
        ]
    )
    entries = {e["title"]: e for e in check_plans(plans, risk_engine)["plans"]}
    hotel, holiday = entries["Hotel"], entries["Holiday"]
    assert hotel["status"] == "checked"
    assert hotel["start"] == "2020-05-01T15:00:00+09:00"
    assert hotel["activity"]["duration_min"] == 60
    assert holiday["status"] == "cannot_check"
    assert "all-day" in holiday["reason"]

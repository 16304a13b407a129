"""Explanations: drivers with shares and reasons, advice ranked by µCoV saved."""

from __future__ import annotations

import pytest

from ansim.errors import InputError
from ansim.risk.explain import CrowdInfo, advise, drivers, explain
from ansim.risk.visit import Activity, Variant

REFERENCE = Activity()  # one hour indoors, normal distance and voice, no masks


def test_drivers_shares_and_reasons():
    components = {"community": 60.0, "exposure_site": 300.0, "mobility": 40.0, "other": 0.0}
    context = {
        "exposure_site": {"site": "을지로 식당", "hours_ago": 5},
        "community": {"region": "중구", "incidence_per_100k": 12.34},
        "mobility": {"origin": "Euljiro", "flow_share": 0.2},
    }
    out = drivers(components, context=context, top=None)
    assert [d.key for d in out] == ["exposure_site", "community", "mobility"]
    assert [d.share for d in out] == pytest.approx([0.75, 0.15, 0.10])
    assert sum(d.share for d in out) == pytest.approx(1.0)
    assert "을지로 식당" in out[0].reason_ko
    assert "5 hours ago" in out[0].reason_en
    assert "12.3" in out[1].reason_en
    assert "중구" in out[1].reason_ko
    assert "20%" in out[2].reason_en
    assert "Euljiro" in out[2].reason_ko
    assert len(drivers(components, top=2)) == 2


def test_reasons_without_context_and_unknown_sources():
    out = drivers({"community": 1.0, "school": 3.0})
    assert out[0].key == "school"
    assert "school" in out[0].reason_en
    assert "지역사회" in out[1].reason_ko


def test_advice_ranked_by_savings():
    components = {"community": 200.0, "exposure_site": 100.0}
    crowd = CrowdInfo(people_now=40, by_hour={14: 5, 18: 40, 22: 20}, hour_now=18)
    out = advise(components, activity=REFERENCE, variant=Variant.DELTA, crowd=crowd)
    keys = [a.key for a in out]
    # ties (distance and stay both halve the risk) keep a fixed order
    assert keys == ["avoid", "mask_kf94", "less_crowded_hour", "distance_2m", "shorter_stay"]
    saved = {a.key: a.ucov_saved for a in out}
    total = 300.0
    assert saved["avoid"] == total
    assert saved["mask_kf94"] == pytest.approx(
        total * (1 - 1 / 3)
    )  # your KF94 = unsealed N95: ×1/3
    assert saved["distance_2m"] == pytest.approx(total * 0.5)
    assert saved["shorter_stay"] == pytest.approx(total * 0.5)
    # only the crowd-driven source scales with people: 200 × (1 − 5/40)
    assert saved["less_crowded_hour"] == pytest.approx(175.0)
    assert "14:00" in next(a for a in out if a.key == "less_crowded_hour").text_en
    assert [a.ucov_saved for a in out] == sorted((a.ucov_saved for a in out), reverse=True)


def test_advice_skips_what_does_not_help():
    masked_far = Activity(distance="2m", your_mask="kf94", duration_min=5)
    out = advise({"community": 2.0}, activity=masked_far)
    assert out == []  # very low risk, already masked and distant, short stay
    intimate = Activity(distance="intimate", duration_min=10)
    keys = [a.key for a in advise({"community": 500.0}, activity=intimate)]
    assert "mask_kf94" not in keys
    assert "distance_2m" not in keys
    assert advise({"community": 0.0}, activity=REFERENCE) == []


def test_explain_and_bad_components():
    result = explain({"community": 50.0, "mobility": 60.0}, activity=REFERENCE)
    assert result.total_ucov == 110.0
    assert result.band.key == "high"
    assert result.drivers[0].key == "mobility"
    assert result.advice[0].key == "avoid"
    with pytest.raises(InputError) as info:
        drivers({"community": -1.0})
    assert info.value.field == "components.community"


def test_korean_sentences_use_korean_names():
    context = {
        "community": {
            "region": "Jung-gu",
            "region_ko": "중구",
            "incidence_per_100k": 3.2,
            "people": 12,
        },
        "mobility": {
            "flow": "About 160 of the 800 people who were near Euljiro at 2020-03-10 18:00 (20%) "
            "went on to Yeoksam",
            "flow_ko": "2020-03-10 18:00에 을지로 근처에 있던 약 800명 중 20%(약 160명)이 이후 역삼(으)로 "
            "이동했습니다",
        },
    }
    out = {d.key: d for d in drivers({"community": 10.0, "mobility": 5.0}, context=context)}
    assert "Jung-gu" in out["community"].reason_en
    assert "중구" in out["community"].reason_ko
    assert "Jung-gu" not in out["community"].reason_ko
    assert "About 160 of the 800 people" in out["mobility"].reason_en
    assert "800명 중 20%(약 160명)" in out["mobility"].reason_ko
    assert "Euljiro" not in out["mobility"].reason_ko
    # what to do, in both languages
    assert "KF94" in out["community"].reason_en
    assert "KF94" in out["mobility"].reason_ko

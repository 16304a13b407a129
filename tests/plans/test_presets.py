"""Activity presets: inference from Korean and English keywords, overrides, valid activities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansim.errors import InputError
from ansim.plans.presets import DEFAULT_PRESETS, DEFAULT_TABLE, load_presets, with_overrides
from ansim.risk.visit import Distance, Mask, Setting, Voice, activity_risk


@pytest.mark.parametrize(
    ("texts", "key"),
    [
        (("이태원 클럽",), "club"),
        (("Club night in Itaewon",), "club"),
        (("회식 후 노래방",), "noraebang"),
        (("karaoke with team",), "noraebang"),
        (("팀 점심", "을지로입구역"), "restaurant"),
        (("저녁 약속",), "restaurant"),
        (("강남 식당",), "restaurant"),
        (("Dinner with friends",), "restaurant"),
        (("카페에서 공부",), "cafe"),
        (("Coffee", ""), "cafe"),
        (("주일 예배", "사랑의교회"), "church"),
        (("Sunday mass",), "church"),
        (("헬스",), "gym"),
        (("아침 조깅", "여의나루역 한강공원"), "park_walk"),
        (("Office (사무실)",), "office"),
        (("KE1201 flight",), "flight"),
        (("Hotel check-in",), "lodging"),
        (("장보기",), "market"),
        (("Movie",), "cinema"),
        (("지하철",), "subway"),
        (("Barber",), "meeting_friends"),  # "bar" is a whole English word only
        (("Something",), "meeting_friends"),
    ],
)
def test_inference(texts: tuple[str, ...], key: str) -> None:
    preset, matched = DEFAULT_TABLE.infer(*texts)
    assert preset.key == key
    assert (matched is None) == (key == "meeting_friends")


def test_every_preset_is_a_valid_activity_with_documented_assumptions() -> None:
    for preset in DEFAULT_PRESETS.values():
        activity = preset.activity()
        assert activity_risk(activity) > 0
        assert preset.people > 0
        assert preset.note
        assert preset.name_ko
        assert preset.name_en
        assert 0 <= preset.hours[0] < preset.hours[1] <= 48


def test_presets_differ_where_it_matters() -> None:
    club, cinema, park = (DEFAULT_PRESETS[k] for k in ("club", "cinema", "park_walk"))
    assert (club.distance, club.voice, club.your_mask) == (Distance.CLOSE, Voice.LOUD, Mask.NONE)
    assert cinema.voice is Voice.SILENT
    assert park.setting is Setting.OUTDOOR
    assert activity_risk(club.activity()) > 20 * activity_risk(cinema.activity(duration_min=180))
    assert DEFAULT_PRESETS["lodging"].max_exposure_min == 60
    assert not DEFAULT_PRESETS["restaurant"].mask_ok
    assert not DEFAULT_PRESETS["office"].movable


def test_open_hours_wrap_past_midnight() -> None:
    club = DEFAULT_PRESETS["club"]
    assert club.open_at(23)
    assert club.open_at(2)
    assert not club.open_at(12)


def test_overrides_and_errors() -> None:
    bar = with_overrides(
        DEFAULT_PRESETS["bar"], {"people": 30, "your_mask": "KF94"}, field_prefix="x"
    )
    assert (bar.people, bar.your_mask) == (30, Mask.KF94)
    with pytest.raises(InputError) as err:
        with_overrides(DEFAULT_PRESETS["bar"], {"voice": "whisper"}, field_prefix="[2].activity")
    assert err.value.field == "[2].activity.voice"
    with pytest.raises(InputError) as err:
        with_overrides(DEFAULT_PRESETS["bar"], {"people": -1}, field_prefix="p")
    assert err.value.field == "p.people"
    with pytest.raises(InputError, match="unknown activity preset"):
        DEFAULT_TABLE.get("spaceship")
    assert DEFAULT_TABLE.get("park walk").key == "park_walk"
    assert DEFAULT_TABLE.get("karaoke").key == "noraebang"


def test_preset_file_overrides_and_adds(tmp_path: Path) -> None:
    path = tmp_path / "presets.json"
    path.write_text(
        json.dumps(
            {
                "bar": {"people": 40},
                "sauna": {"preset": "gym", "voice": "normal", "keywords_ko": ["사우나", "찜질방"]},
            }
        ),
        encoding="utf-8",
    )
    table = load_presets(path)
    assert table.get("bar").people == 40
    sauna, word = table.infer("찜질방 가기")
    assert (sauna.key, word, sauna.voice, sauna.setting) == (
        "sauna",
        "찜질방",
        Voice.NORMAL,
        Setting.INDOOR,
    )
    assert DEFAULT_TABLE.get("bar").people == DEFAULT_PRESETS["bar"].people  # defaults untouched
    path.write_text(json.dumps({"x": {"preset": "nope"}}), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_presets(path)
    assert err.value.field == "x.preset"

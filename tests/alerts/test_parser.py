"""Parser contract, issuer, geocoding precision, exposure events and the CLI on real messages."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ansim.alerts.parser import parse_message, to_exposure_events
from ansim.alerts.sources import read_messages
from ansim.cli import app
from ansim.errors import InputError
from ansim.geo.gazetteer import _load, find_dongs, find_station, locate
from ansim.timeutil import SEOUL

from .conftest import NATIONWIDE
from .conftest import SEOUL as SEOUL_DUMP

SENT = datetime(2021, 1, 4, 18, 18, tzinfo=SEOUL)


def test_contract_and_year_rollover() -> None:
    text = "[강북구청]12.26(토)~31(목) 새봄마취통증의학과(도봉로142 2층, 소독완료) 방문자는 즉시 강북보건소 검사바랍니다."
    out = parse_message(text, sent_at=SENT).as_json()
    assert set(out) == {"kind", "issuer", "visits"}
    assert out["kind"] == "exposure_site"
    assert out["issuer"] == "강북구청"
    (v,) = out["visits"]
    assert set(v) == {
        "place_name",
        "address",
        "district",
        "start",
        "end",
        "lat",
        "lon",
        "radius_m",
        "precision",
    }
    assert (v["place_name"], v["address"], v["district"]) == (
        "새봄마취통증의학과",
        "도봉로142 2층",
        "강북구",
    )
    assert (v["start"], v["end"]) == ("2020-12-26", "2020-12-31")
    assert v["precision"] == "gu"
    assert locate(v["lat"], v["lon"])[0] == "11305"  # the centroid lies in 강북구


def test_station_dong_and_multi_venue() -> None:
    sent = datetime(2020, 6, 12, tzinfo=SEOUL)
    (v,) = parse_message(
        "[강서구청] 6.4.~6.10. 칠성포차(까치산역4번 출구앞)를 방문하신분은 검사", sent_at=sent
    ).visits
    assert v.geo.precision == "place"
    assert v.geo.radius_m == 150.0
    msg = "[강서구청] 11.10.~11.13. 옛날칼국수(강서구 화곡8동 340-44, 1층) 방문자는 검사바랍니다."
    (d,) = parse_message(msg, sent_at=datetime(2020, 11, 15, tzinfo=SEOUL)).visits
    assert d.geo.precision == "dong"
    assert locate(d.geo.lat, d.geo.lon) == ("11500", "화곡8동")  # type: ignore[arg-type]
    two = parse_message(
        "[성동구청] 5.16 엉터리생고기(성수일로8길37) / 5.19 바우네나주곰탕(연무장7길7-1)방문자는 검사바람",
        sent_at=datetime(2020, 5, 26, tzinfo=SEOUL),
    )
    assert [(x.place_name, x.window.start_text()) for x in two.visits] == [
        ("엉터리생고기", "2020-05-16"),
        ("바우네나주곰탕", "2020-05-19"),
    ]


def test_non_exposure_kinds() -> None:
    sent = datetime(2020, 11, 20, tzinfo=SEOUL)
    assert (
        parse_message("[강남구청] 확진자 7명 발생(gangnam.go.kr).", sent_at=sent).kind
        == "case_count"
    )
    assert parse_message("[송파구청] 호우주의보 발효, 하천 접근 금지", sent_at=sent).kind == "other"
    assert (
        parse_message(
            "[서대문구청] 9.1~9.6까지 편의점 집합제한 조치, 취식금지 준수바랍니다.", sent_at=sent
        ).kind
        == "policy"
    )


def test_exposure_events_whole_day_and_times() -> None:
    text = "[성북구청] 8.9.(일) 13:50~15:30, 바코삼겹살(석관동 245-10) 방문주민께서는 검사"
    parsed = parse_message(text, sent_at=datetime(2020, 8, 17, tzinfo=SEOUL))
    (e,) = to_exposure_events(parsed, "alerts", "mois:1980")
    assert e.start == datetime(2020, 8, 9, 13, 50, tzinfo=SEOUL)
    assert e.end - e.start == timedelta(minutes=100)
    assert e.precision == "dong"
    assert e.region_code == "11290"
    assert e.source_record_id == "mois:1980#0"
    day = parse_message("[강북구청]12.26(토)~31(목) 의원(도봉로142) 방문자는 검사", sent_at=SENT)
    (d,) = to_exposure_events(day, "alerts", "x")
    assert d.start == datetime(2020, 12, 26, tzinfo=SEOUL)
    assert d.end == datetime(2021, 1, 1, tzinfo=SEOUL)  # the whole last day, in Seoul time


def test_outside_seoul_visits_have_no_event() -> None:
    parsed = parse_message(
        "확진자동선(2.22), 13시 더리터증산역점>14시 서울온누리약국증산점",
        sent_at=datetime(2020, 2, 24, tzinfo=SEOUL),
        issuer="양산시청",
        region="경상남도 양산시",
    )
    assert parsed.kind == "exposure_site"
    assert len(parsed.visits) == 2
    assert all(v.geo.precision == "unknown" and v.district == "양산시" for v in parsed.visits)
    assert to_exposure_events(parsed, "alerts", "sos:3269") == []


def test_gazetteer_names() -> None:
    assert find_station("강남역") is not None
    assert find_station("강남역").name_ko == "강남"
    assert {a.name for a in find_dongs("면목3.8동")} == {"면목3·8동"}
    assert {a.name for a in find_dongs("상계6동")} == {"상계6·7동"}
    assert len(find_dongs("화곡동", gu_code="11500")) >= 7
    assert locate(37.5665, 126.978) == ("11140", "명동")
    assert locate(35.1, 129.0) is None


def test_sources_read_both_dumps(data_dir: Path, tmp_path: Path) -> None:
    seoul = read_messages(data_dir / SEOUL_DUMP)
    nationwide = read_messages(data_dir / NATIONWIDE)
    assert (len(seoul), len(nationwide)) == (6473, 4338)
    assert seoul[0].issuer == "중구청"
    assert seoul[0].sent_at == datetime(2020, 1, 26, 9, 9, tzinfo=SEOUL)
    assert nationwide[0].issuer == "동대문구청"
    assert nationwide[0].region == "서울특별시 동대문구"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown disaster-message header"):
        read_messages(bad)


def test_cli_parse_alert_json() -> None:
    result = CliRunner().invoke(
        app,
        [
            "parse-alert",
            "[중구청]4.29(수)12:15~12:35 서울돈까스(마른내로124)방문자 중 유증상자는 연락",
            "--sent-at",
            "2020-05-01T17:58",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["visits"][0]["start"] == "2020-04-29T12:15"
    assert out["visits"][0]["end"] == "2020-04-29T12:35"


@pytest.mark.slow
def test_whole_corpus_parses_with_one_gazetteer_load(data_dir: Path) -> None:
    """Performance guard without timing: every message parses, the gazetteer loads once."""
    from ansim.alerts.stats import dump_stats, message_rows

    _load.cache_clear()
    messages = read_messages(data_dir / SEOUL_DUMP) + read_messages(data_dir / NATIONWIDE)
    stats = dump_stats(messages)
    assert stats["messages"] == 10_811
    assert _load.cache_info().misses == 1
    events, rows = message_rows(messages[:6473], source="alerts")
    assert len(rows) == 6473  # every message kept, with a status
    assert {r["status"] for r in rows} <= {"events", "no_event", "not_exposure"}
    assert all(r["reason"] for r in rows if r["status"] == "no_event")
    assert len(events) >= 400

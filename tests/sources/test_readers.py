"""Every reader on the real bundled files, plus encodings and bad rows."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from ansim.errors import InputError
from ansim.geo.regions import seoul_districts
from ansim.records import CASE_COLUMNS, CROWD_COLUMNS
from ansim.sources import boundaries, canonical, ds4c, kdca, seoul, stations
from ansim.sources.encoding import decode, read_text
from ansim.timeutil import SEOUL

DATA = Path(__file__).resolve().parents[2] / "data"
GU_CODES = {r.code for r in seoul_districts()}
SEOUL_CASES = DATA / "cases/seoul_gu_covid19_confirmed_20200205_20210630.csv.gz"


def _text(rel: str) -> str:
    return gzip.decompress((DATA / rel).read_bytes()).decode("utf-8")


def test_seoul_gu_cases_repairs_the_table() -> None:
    frame = seoul.read_gu_daily_cases(SEOUL_CASES)
    assert tuple(frame.columns) == CASE_COLUMNS
    assert set(frame["region_code"]) == GU_CODES  # 서추구 typo repaired, 기타 dropped
    assert frame["date"].min() == date(2020, 2, 5)  # the 20.02.05.10 spelling
    assert frame["date"].max() == date(2021, 6, 30)  # the 2021.06.30.00 spelling
    assert not frame.duplicated(
        ["region_code", "date"]
    ).any()  # 2021.05.12 appears twice in the file
    assert len(frame) == 25 * frame["date"].nunique()
    last = frame[frame["date"] == date(2021, 6, 30)].set_index("region_code")["new_cases"]
    assert last["11110"] == 1  # 종로구 추가 on the first (newest) row
    assert last["11140"] == 9  # 중구


def test_living_population_drops_city_total() -> None:
    frame = seoul.read_living_population(
        DATA / "crowd/seoul_spop_gu_daily_20180405_20200531.csv.gz"
    )
    assert tuple(frame.columns) == CROWD_COLUMNS
    assert set(frame["area"]) == GU_CODES
    assert (frame["period_s"] == 86_400).all()
    assert frame["period_start"].min() == pd.Timestamp(datetime(2018, 4, 5, tzinfo=SEOUL))
    assert 150_000 < frame["count"].median() < 800_000


def test_seoul_floating_sums_age_and_sex() -> None:
    path = DATA / "ds4c/SeoulFloating.csv.gz"
    frame = ds4c.read_seoul_floating(path)
    raw = pd.read_csv(path)
    assert frame["count"].sum() == raw["fp_num"].sum()
    assert "11590" in set(frame["area"])  # Dongjag-gu = 동작구
    assert set(frame["area"]) == GU_CODES
    assert (frame["period_s"] == 3_600).all()
    assert not frame.duplicated(["area", "period_start"]).any()
    dongjak = raw[
        (raw["city"] == "Dongjag-gu") & (raw["date"] == "2020-01-01") & (raw["hour"] == 5)
    ]
    at5 = frame[
        (frame["area"] == "11590")
        & (frame["period_start"] == pd.Timestamp("2020-01-01 05:00", tz=SEOUL))
    ]
    assert at5["count"].item() == dongjak["fp_num"].sum()


def test_time_province_differences_cumulative_counts() -> None:
    frame = ds4c.read_time_province(DATA / "ds4c/TimeProvince.csv.gz")
    raw = pd.read_csv(DATA / "ds4c/TimeProvince.csv.gz")
    assert len(frame) == len(raw)
    daegu = frame[frame["region_code"] == "27"]
    assert daegu["new_cases"].sum() >= raw[raw["province"] == "Daegu"]["confirmed"].max()
    assert (frame["new_cases"] >= 0).all()
    peak = daegu.loc[daegu["new_cases"].idxmax()]
    assert peak["date"] == date(2020, 2, 29)  # Daegu's Shincheonji peak


def test_kdca_keeps_latest_report_per_day() -> None:
    path = DATA / "cases/kdca_Covid19SidoInfState.csv.gz"
    frame = kdca.read_sido_daily(path)
    assert not frame.duplicated(["region_code", "date"]).any()
    assert set(frame["region_code"]) == {
        "11",
        "26",
        "27",
        "28",
        "29",
        "30",
        "31",
        "36",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "47",
        "48",
        "50",
    }
    raw = pd.read_csv(path, dtype=str)
    seoul_rows = raw[(raw["gubun"] == "서울") & (raw["stdDay"] == "2020년 4월 12일 00시")]
    assert len(seoul_rows) > 1  # the API returned this day more than once
    latest = seoul_rows.sort_values("createDt").iloc[-1]
    got = frame[(frame["region_code"] == "11") & (frame["date"] == date(2020, 4, 12))][
        "new_cases"
    ].item()
    assert got == int(latest["incDec"] or 0)


def test_patient_route_events() -> None:
    events = ds4c.read_patient_route(DATA / "ds4c/PatientRoute.csv.gz")
    assert len(events) == 7_330  # 8,092 rows minus repeated patient/day/point
    assert len({e.source_record_id for e in events}) == len(events)
    assert all(33 < e.lat < 39 and 124 < e.lon < 132 for e in events)
    assert all((e.end - e.start).total_seconds() == 86_400 for e in events)
    assert sum(1 for e in events if e.region_code in GU_CODES) > 1_000


def test_case_clusters_skip_and_count_missing_coordinates() -> None:
    read = ds4c.read_case_clusters(DATA / "ds4c/Case.csv.gz")
    assert len(read.events) == 65
    assert read.without_coordinates == 109
    itaewon = next(e for e in read.events if e.place_name == "Itaewon Clubs")
    assert itaewon.cases == 139
    assert itaewon.region_code == "11170"  # 용산구
    assert itaewon.precision == "place"


def test_weather_policy_region() -> None:
    weather = ds4c.read_weather(DATA / "ds4c/Weather.csv.gz")
    assert len(weather) == 26_271
    assert weather["region_code"].nunique() == 16  # "Chunghceongbuk-do" typo mapped
    policy = ds4c.read_policy(DATA / "ds4c/Policy.csv.gz")
    assert len(policy) == 61
    assert policy["end_date"].isna().any()
    region = ds4c.read_region(DATA / "ds4c/Region.csv.gz")
    assert set(region.loc[region["province"] == "Seoul", "region_code"].dropna()) >= GU_CODES


def test_stations_and_boundaries() -> None:
    places = stations.read_stations(DATA / "stations/seoul_station_master.csv")
    assert len(places) == 909
    assert any(p.name_ko == "서울역" for p in places)
    gu = boundaries.read_boundaries(DATA / "boundaries/seoul-municipalities-2018.geojson.gz")
    assert {r.code for r in gu} == GU_CODES
    dong = boundaries.read_boundaries(DATA / "boundaries/seoul-submunicipalities-2018.geojson.gz")
    assert len(dong) == 424
    assert {r.parent for r in dong} == GU_CODES
    provinces = boundaries.read_boundaries(
        DATA / "boundaries/skorea-provinces-2018-simple.geojson.gz"
    )
    assert len(provinces) == 17
    assert json.loads(provinces[0].geometry or "{}")["type"] in {"Polygon", "MultiPolygon"}


@pytest.mark.parametrize("encoding", ["cp949", "euc-kr", "utf-8-sig", "utf-8"])
def test_encodings_read_identically(tmp_path: Path, encoding: str) -> None:
    text = _text("cases/seoul_gu_covid19_confirmed_20200205_20210630.csv.gz")
    copy = tmp_path / f"cases_{encoding}.csv"
    copy.write_bytes(text.encode(encoding))
    assert read_text(copy).encoding == {"euc-kr": "cp949"}.get(encoding, encoding)
    assert seoul.read_gu_daily_cases(copy).equals(seoul.read_gu_daily_cases(SEOUL_CASES))


def test_decode_refuses_garbage() -> None:
    text, encoding = decode("서울특별시 종로구".encode("cp949"))
    assert (text, encoding) == ("서울특별시 종로구", "cp949")


def _with_row(
    rel: str, row: int, replace: tuple[str, str], tmp_path: Path, *, keep_rows: int | None = None
) -> Path:
    lines = _text(rel).splitlines()
    if keep_rows is not None:
        lines = lines[: keep_rows + 1]
    assert replace[0] in lines[row]
    lines[row] = lines[row].replace(replace[0], replace[1], 1)
    out = tmp_path / Path(rel).name.removesuffix(".gz")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def test_bad_date_names_row_and_column(tmp_path: Path) -> None:
    path = _with_row("ds4c/TimeProvince.csv.gz", 7, ("2020-01-20", "2020-13-01"), tmp_path)
    with pytest.raises(InputError) as info:
        ds4c.read_time_province(path)
    assert (info.value.row, info.value.field, info.value.source) == (7, "date", "TimeProvince.csv")
    assert "2020-13-01" in info.value.reason


def test_negative_count_is_refused(tmp_path: Path) -> None:
    path = _with_row("ds4c/SeoulFloating.csv.gz", 4, (",27050", ",-27050"), tmp_path, keep_rows=50)
    with pytest.raises(InputError) as info:
        ds4c.read_seoul_floating(path)
    assert (info.value.row, info.value.field) == (4, "fp_num")
    assert "below the minimum" in info.value.reason


def test_missing_header_column(tmp_path: Path) -> None:
    path = tmp_path / "stations.csv"
    path.write_text("역사_ID,역사명,호선,위도\n1,서울역,1호선,37.55\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        stations.read_stations(path)
    assert (info.value.row, info.value.field) == (0, "경도")


def test_bad_kdca_row_is_numbered_in_the_whole_file(tmp_path: Path) -> None:
    path = _with_row("cases/kdca_Covid19SidoInfState.csv.gz", 3, (",3,", ",x,"), tmp_path)
    with pytest.raises(InputError) as info:
        kdca.read_sido_daily(path)
    assert (info.value.row, info.value.field) == (3, "incDec")


def test_canonical_round_trip_csv_and_json(tmp_path: Path) -> None:
    cases_csv = tmp_path / "cases.csv"
    cases_csv.write_text(
        "region_code,date,new_cases,source\n11110,2020-03-01,4,city-feed\n", encoding="utf-8"
    )
    cases = canonical.read_cases(cases_csv)
    assert cases.to_dict("records") == [
        {"region_code": "11110", "date": date(2020, 3, 1), "new_cases": 4, "source": "city-feed"}
    ]
    crowd_json = tmp_path / "crowd.json"
    crowd_json.write_text(
        json.dumps(
            {
                "records": [
                    {
                        "area": "h3:8a30e1ca1a37fff",
                        "period_start": "2020-03-01T10:00",
                        "period_s": 3600,
                        "count": 12.5,
                        "source": "wifi",
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    crowd = canonical.read_crowd(crowd_json)
    assert crowd["period_start"].iloc[0] == pd.Timestamp("2020-03-01 10:00", tz=SEOUL)
    exposures = tmp_path / "exposures.json"
    exposures.write_text(
        json.dumps(
            [
                {
                    "source": "busan",
                    "source_record_id": "7",
                    "lat": 35.1,
                    "lon": 129.04,
                    "start": "2020-03-01T10:00+09:00",
                    "end": "2020-03-01T11:00+09:00",
                    "precision": "place",
                }
            ]
        ),
        encoding="utf-8",
    )
    (event,) = canonical.read_exposures(exposures)
    assert event.radius_m == 150.0
    assert event.cases == 1
    places = tmp_path / "places.csv"
    places.write_text(
        "kind,source_id,name_ko,lat,lon,aliases\nlandmark,1,광화문,37.57,126.98,Gwanghwamun|광화문광장\n",
        encoding="utf-8",
    )
    (place,) = canonical.read_places(places)
    assert place.aliases == ("Gwanghwamun", "광화문광장")


def test_canonical_exposure_bad_latitude_json(tmp_path: Path) -> None:
    path = tmp_path / "exposures.json"
    good = {
        "source": "s",
        "source_record_id": "1",
        "lat": 37.5,
        "lon": 127.0,
        "start": "2020-03-01T10:00",
        "end": "2020-03-01T11:00",
    }
    path.write_text(
        json.dumps([good, {**good, "source_record_id": "2", "lat": 95}]), encoding="utf-8"
    )
    with pytest.raises(InputError) as info:
        canonical.read_exposures(path)
    assert (info.value.row, info.value.field) == (2, "lat")

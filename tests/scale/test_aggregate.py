"""Ping aggregation: exact distinct counts, k-suppression, pseudonyms, periods and bad input."""

from __future__ import annotations

from datetime import date
from itertools import repeat
from pathlib import Path

import h3
import h3.api.numpy_int as h3int
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ansim.errors import InputError
from ansim.scale.aggregate import (
    OUTPUT_COLUMNS,
    AggregationParams,
    aggregate_partitions,
    daily_salt,
    device_pseudonyms,
    parse_period,
    partial_aggregate,
)
from ansim.scale.runners import run_local
from tests.scale.conftest import SECRET

# Two H3 res-9 cells in central Seoul (City Hall and Gangnam station).
CITY_HALL = (37.5663, 126.9779)
GANGNAM = (37.4979, 127.0276)


def reference(frame: pd.DataFrame, *, resolution: int, period: str, k: int) -> pd.DataFrame:
    """Independent oracle: raw ids, pandas groupby nunique, Seoul-local floor."""
    cells = np.fromiter(
        map(
            h3int.latlng_to_cell,
            frame["lat"].tolist(),
            frame["lon"].tolist(),
            repeat(resolution),
        ),
        dtype=np.uint64,
        count=len(frame),
    )
    period_start = frame["timestamp"].dt.tz_convert("Asia/Seoul").dt.floor(period)
    counts = (
        pd.DataFrame({"cell": cells, "period_start": period_start, "dev": frame["device_id"]})
        .groupby(["cell", "period_start"], observed=True)["dev"]
        .nunique()
        .reset_index(name="devices")
    )
    counts = counts[counts["devices"] >= k].sort_values(["period_start", "cell"])
    return pd.DataFrame(
        {
            "cell": [h3int.int_to_str(int(c)) for c in counts["cell"]],
            "period_start": counts["period_start"].dt.as_unit("s").array,
            "devices": counts["devices"].to_numpy(dtype=np.int64),
        }
    )


def pings(rows: list[tuple[str, str, tuple[float, float]]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "device_id": [r[0] for r in rows],
            "timestamp": [r[1] for r in rows],
            "lat": [r[2][0] for r in rows],
            "lon": [r[2][1] for r in rows],
        }
    )


@pytest.mark.parametrize(
    ("period", "period_s", "resolution", "k"), [("1h", 3600, 8, 3), ("10min", 600, 9, 2)]
)
def test_local_engine_equals_pandas_reference(
    pings_file: Path, period: str, period_s: int, resolution: int, k: int
) -> None:
    frame = pd.read_parquet(pings_file)
    assert 180_000 < len(frame) < 220_000
    expected = reference(frame, resolution=resolution, period=period, k=k)
    params = AggregationParams(resolution=resolution, period_s=period_s, k=k)
    # Small partitions: one device's pings of one hour are spread over several of them.
    got = run_local([pings_file], params=params, secret=SECRET, partition_rows=30_000)
    assert list(got.columns) == list(OUTPUT_COLUMNS)
    assert len(got) > 300
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True), check_dtype=False)
    # The same function over a different partitioning gives the same table.
    whole = aggregate_partitions([frame], secret=SECRET, params=params)
    pd.testing.assert_frame_equal(got, whole)
    # So does compacting the running triples after every partition.
    compacting = run_local(
        [pings_file], params=params, secret=SECRET, partition_rows=30_000, compact_rows=1
    )
    pd.testing.assert_frame_equal(got, compacting)


def test_result_does_not_depend_on_buckets_or_secret(pings_file: Path) -> None:
    frame = pd.read_parquet(pings_file).iloc[:60_000]
    one = aggregate_partitions([frame], secret=SECRET, params=AggregationParams(buckets=1, k=2))
    many = aggregate_partitions(
        [frame.iloc[:25_000], frame.iloc[25_000:]],
        secret=b"another secret",
        params=AggregationParams(buckets=13, k=2),
    )
    pd.testing.assert_frame_equal(one, many)


@pytest.mark.parametrize("k", [1, 5, 10])
def test_k_suppression_at_the_boundary(k: int) -> None:
    ts = "2020-03-10T18:20:00+09:00"
    rows = [(f"a{i}", ts, CITY_HALL) for i in range(k - 1)]  # k-1 devices: suppressed
    rows += [(f"b{i}", ts, GANGNAM) for i in range(k)]  # k devices: published
    rows += [("b0", "2020-03-10T18:40:00+09:00", GANGNAM)] * 3  # repeats do not add devices
    out = aggregate_partitions([pings(rows)], secret=SECRET, params=AggregationParams(k=k))
    gangnam = h3.latlng_to_cell(*GANGNAM, 9)
    assert out["cell"].tolist() == [gangnam]
    assert out["devices"].tolist() == [k]
    assert out["period_start"].iloc[0].isoformat() == "2020-03-10T18:00:00+09:00"


def test_distinct_devices_add_up_exactly_across_partitions() -> None:
    ts = "2020-03-10T18:05:00+09:00"
    first = pings([(f"d{i}", ts, CITY_HALL) for i in range(10)])  # d0..d9
    second = pings([(f"d{i}", ts, CITY_HALL) for i in range(5, 15)])  # d5..d14
    out = aggregate_partitions([first, second], secret=SECRET, params=AggregationParams(k=1))
    assert out["devices"].tolist() == [15]


def test_periods_follow_seoul_time_and_honour_offsets() -> None:
    rows = [
        ("u", "2020-02-03T00:59:59+00:00", CITY_HALL),  # 09:59:59 in Seoul
        ("n", "2020-02-03 09:51", CITY_HALL),  # naive: Seoul time
        ("z", "2020-02-03T00:50:00Z", CITY_HALL),  # 09:50 in Seoul
        ("m", "2020-02-03T10:00:00+09:00", CITY_HALL),  # next hour
        ("d", "2020-02-04", CITY_HALL),  # a bare date: Seoul midnight
        ("o", "2020-02-03T15:00:00.5-0900", CITY_HALL),  # 2020-02-04 09:00:00.5 in Seoul
    ]
    hourly = aggregate_partitions(
        [pings(rows)], secret=SECRET, params=AggregationParams(period_s=3600, k=1)
    )
    assert [t.isoformat() for t in hourly["period_start"]] == [
        "2020-02-03T09:00:00+09:00",
        "2020-02-03T10:00:00+09:00",
        "2020-02-04T00:00:00+09:00",
        "2020-02-04T09:00:00+09:00",
    ]
    assert hourly["devices"].tolist() == [3, 1, 1, 1]
    ten = aggregate_partitions(
        [pings(rows)], secret=SECRET, params=AggregationParams(period_s=600, k=1)
    )
    assert [
        (t.strftime("%H:%M"), n) for t, n in zip(ten["period_start"], ten["devices"], strict=True)
    ] == [
        ("09:50", 3),
        ("10:00", 1),
        ("00:00", 1),
        ("09:00", 1),
    ]


def test_arrow_timestamp_types_naive_is_seoul_aware_is_honoured() -> None:
    # The same instant, 2020-02-03 09:30 in Seoul, as naive Seoul wall time and as aware UTC.
    naive = pa.array([pd.Timestamp("2020-02-03 09:30")], type=pa.timestamp("s"))
    aware = pa.array(
        [pd.Timestamp("2020-02-03 00:30", tz="UTC")], type=pa.timestamp("ms", tz="UTC")
    )
    params = AggregationParams(period_s=3600, k=1)
    periods = []
    for ts in (naive, aware):
        table = pa.table(
            {"device_id": ["x"], "timestamp": ts, "lat": [CITY_HALL[0]], "lon": [CITY_HALL[1]]}
        )
        out = aggregate_partitions([table], secret=SECRET, params=params)
        periods.append(out["period_start"].iloc[0].isoformat())
    assert periods == ["2020-02-03T09:00:00+09:00"] * 2


def test_pseudonym_salt_rotates_daily_and_depends_on_secret() -> None:
    ids = pa.array(["phone-1", "phone-1", "phone-2"])
    day = (date(2020, 2, 3) - date(1970, 1, 1)).days
    same_day = device_pseudonyms(ids, np.array([day, day, day]), secret=SECRET)
    assert same_day[0] == same_day[1] != same_day[2]
    next_day = device_pseudonyms(ids, np.array([day, day + 1, day]), secret=SECRET)
    assert next_day[0] != next_day[1]
    other_secret = device_pseudonyms(ids, np.array([day] * 3), secret=b"other")
    assert not set(other_secret.tolist()) & set(same_day.tolist())
    assert daily_salt(SECRET, date(2020, 2, 3)) != daily_salt(SECRET, date(2020, 2, 4))


def test_partial_aggregate_carries_no_raw_id() -> None:
    frame = pings([(f"SECRET-ID-{i}", "2020-02-03T09:00", CITY_HALL) for i in range(3)])
    triples = partial_aggregate(frame, secret=SECRET, params=AggregationParams())
    assert triples.column_names == ["cell", "period_start_s", "device"]
    assert triples.schema.field("device").type == pa.uint64()
    assert "SECRET-ID" not in str(triples.to_pydict())


def test_missing_column_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "no_lon.csv"
    path.write_text("device_id,timestamp,lat\na,2020-02-03T09:00,37.5\n")
    with pytest.raises(InputError) as err:
        run_local([path], params=AggregationParams(), secret=SECRET)
    assert err.value.field == "lon"
    assert str(path) in str(err.value)


def test_latitude_out_of_range_names_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad_lat.csv"
    path.write_text(
        "device_id,timestamp,lat,lon\n"
        "a,2020-02-03T09:00,37.5,127.0\n"
        "b,2020-02-03T09:01,37.6,127.0\n"
        "c,2020-02-03T09:02,95.2,127.0\n"
    )
    with pytest.raises(InputError) as err:
        run_local([path], params=AggregationParams(), secret=SECRET)
    assert (err.value.row, err.value.field) == (3, "lat")
    assert "95.2" in err.value.reason
    assert str(path) in str(err.value)


def test_bad_values_in_later_row_groups_count_rows_from_the_file_start(tmp_path: Path) -> None:
    frame = pings([(f"d{i}", "2020-02-03T09:00", CITY_HALL) for i in range(25)])
    frame.loc[21, "lon"] = 181.0
    frame.loc[23, "timestamp"] = "yesterday"
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=10)
    with pytest.raises(InputError) as err:
        run_local([path], params=AggregationParams(), secret=SECRET, partition_rows=10)
    assert (err.value.row, err.value.field) == (22, "lon")
    frame.loc[21, "lon"] = 127.0
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=10)
    with pytest.raises(InputError) as err:
        run_local([path], params=AggregationParams(), secret=SECRET, partition_rows=10)
    assert (err.value.row, err.value.field) == (24, "timestamp")


def test_missing_value_and_options_are_input_errors(tmp_path: Path) -> None:
    frame = pings([("a", "2020-02-03T09:00", CITY_HALL), ("", "2020-02-03T09:00", CITY_HALL)])
    frame.loc[1, "device_id"] = None
    with pytest.raises(InputError) as err:
        partial_aggregate(frame, secret=SECRET, params=AggregationParams(), source="f.csv")
    assert (err.value.row, err.value.field) == (2, "device_id")
    with pytest.raises(InputError):
        parse_period("2h")
    with pytest.raises(InputError):
        AggregationParams(period_s=1800)
    with pytest.raises(InputError):
        run_local([tmp_path / "absent.parquet"], params=AggregationParams(), secret=SECRET)

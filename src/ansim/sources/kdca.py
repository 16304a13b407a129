"""KDCA OpenAPI ``Covid19SidoInfState`` dumps: daily new cases per province."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ansim.records import CASE_COLUMNS
from ansim.sources._regions import province_code
from ansim.sources.csvio import dates, mapped, numbers, read_csv_table
from ansim.timeutil import parse_datetime

SIDO_SOURCE = "kdca-sido"
# 합계 is the national total and 검역 the airport quarantine: neither is a province.
_NOT_PROVINCES = {"합계", "검역"}


def read_sido_daily(path: Path | str) -> pd.DataFrame:
    """Daily new cases (``incDec``) per province, as ``CASE_COLUMNS``.

    ``stdDay`` is spelled ``2020년 3월 1일 16시``; ``date`` is its calendar day (the report day:
    a ``00시`` report counts the previous day's cases). The API returned some days more than once;
    for each province and day the row with the latest ``createDt`` wins.
    """
    table = read_csv_table(path, required=["stdDay", "gubun", "incDec", "createDt"])
    gubun = table.text("gubun")
    keep = ~gubun.isin(_NOT_PROVINCES).to_numpy()
    rows = table.subset(keep)
    code = mapped(rows, "gubun", province_code, what="province")
    day = dates(rows, "stdDay")
    # The API leaves incDec empty on days without a new case: that is zero. A few reports are
    # negative (cases moved to another province); new_cases >= 0 by contract, so they clip to 0.
    new = numbers(rows, "incDec", integer=True, allow_empty=True, what="case count")
    created = mapped(rows, "createDt", parse_datetime, what="time")
    frame = pd.DataFrame(
        {
            "region_code": code,
            "date": day,
            "new_cases": new.fillna(0).clip(lower=0).astype(np.int64),
            "created": pd.to_datetime(created, utc=True),
        }
    )
    frame = frame.sort_values("created", kind="stable").drop_duplicates(
        ["region_code", "date"], keep="last"
    )
    frame["source"] = SIDO_SOURCE
    return frame.sort_values(["date", "region_code"], ignore_index=True)[list(CASE_COLUMNS)]

"""The domain vocabulary shared by every module: plain frozen records, no behaviour beyond checks.

Bulk series (case counts, crowd observations) travel as pandas DataFrames whose columns are
documented by the ``*_COLUMNS`` constants below; single events travel as these dataclasses.
Times are timezone-aware; a period is ``[start, end)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

# DataFrame column contracts (readers in ``ansim.sources`` and queries in ``ansim.store`` return these).
CASE_COLUMNS = ("region_code", "date", "new_cases", "source")
"""Daily confirmed cases: region_code (str, admin code), date (datetime.date), new_cases (int >= 0)."""

CROWD_COLUMNS = ("area", "period_start", "period_s", "count", "source")
"""People present: area (region code or ``h3:<cell hex>``), period_start (aware datetime),
period_s (int seconds: 3600 hourly, 86400 daily), count (float >= 0)."""

Precision = Literal["point", "place", "dong", "gu", "city", "unknown"]
"""How finely a location is known: an exact point, a named place (station, landmark), a dong or gu polygon."""

PRECISION_RADIUS_M: dict[str, float] = {
    "point": 100.0,
    "place": 150.0,
    "dong": 800.0,
    "gu": 3000.0,
    "city": 15000.0,
    "unknown": 15000.0,
}
"""Default uncertainty radius per precision when a source gives none (documented in docs/architecture.md)."""


@dataclass(frozen=True, slots=True)
class ExposureEvent:
    """A confirmed case's visit: where (point + uncertainty radius), when ``[start, end)``, from what."""

    source: str
    source_record_id: str
    lat: float
    lon: float
    start: datetime
    end: datetime
    radius_m: float = 100.0
    place_name: str = ""
    address: str = ""
    region_code: str | None = None
    precision: Precision = "point"
    place_type: str = ""
    cases: int = 1


@dataclass(frozen=True, slots=True)
class Place:
    """A named place in the gazetteer (subway station, landmark, cluster site)."""

    kind: str
    source_id: str
    name_ko: str
    lat: float
    lon: float
    name_en: str = ""
    region_code: str | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class CaseCount:
    """Confirmed cases reported for one region on one day."""

    region_code: str
    date: date
    new_cases: int
    source: str

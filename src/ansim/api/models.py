"""Request and response models of the public API (they are the OpenAPI 3.1 schema).

Handlers on hot paths return pre-serialised JSON (orjson) in exactly these shapes; the models
document them and the schemathesis tests hold the two together.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ansim.risk.visit import Distance, Interaction, Mask, Setting, Variant, Voice

Level = Literal["very_low", "low", "moderate", "high", "very_high", "dangerous"]


class Quantity(BaseModel):
    """A figure with its range and unit (``null`` when it cannot be computed)."""

    value: float | None = None
    lower: float | None = None
    upper: float | None = None
    unit: str


class Driver(BaseModel):
    key: str
    ucov: Quantity | None = None
    share: Quantity | None = None
    reason_en: str
    reason_ko: str


class Advice(BaseModel):
    key: str
    ucov_after: Quantity
    ucov_saved: Quantity
    text_en: str
    text_ko: str


class DistancingLevel(BaseModel):
    system: str
    level: float | str | None = None
    official: bool
    note: str
    name_ko: str
    name_en: str
    rules_ko: list[str]
    rules_en: list[str]


class RegionInfo(BaseModel):
    """A gu on a day: incidence, Rt, person risk, distancing level and its rules."""

    code: str
    name: str
    name_en: str
    date: dt.date
    days_ahead: int
    incidence_per_100k: Quantity
    new_cases_7d: Quantity
    person_risk: Quantity
    rt: Quantity
    distancing_level: DistancingLevel


class RiskAnswer(BaseModel):
    """Risk of a visit to the H3 cell holding the point, during the hour starting at ``at``."""

    cell: str = Field(description="H3 cell (hex) holding the point; the point itself is not kept.")
    at: datetime = Field(description="Start of the hour the answer holds for (Seoul time).")
    ucov: Quantity
    probability: Quantity
    level: Level
    level_ko: str
    drivers: list[Driver]
    region: RegionInfo
    advice: list[Advice]
    basis: dict[str, str]


class CellProperties(BaseModel):
    cell: str
    level: Level
    ucov: float | None
    ucov_lower: float | None
    ucov_upper: float | None


class PolygonGeometry(BaseModel):
    type: Literal["Polygon"]
    coordinates: list[list[list[float]]]


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: list[float]


class CellFeature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: PolygonGeometry
    properties: CellProperties


class CellCollection(BaseModel):
    """GeoJSON (RFC 7946) FeatureCollection of H3 cells."""

    type: Literal["FeatureCollection"]
    bbox: list[float]
    at: datetime
    resolution: int
    features: list[CellFeature]


class RegionSummary(BaseModel):
    code: str
    name_ko: str
    name_en: str
    level: str
    parent: str | None = None
    population: int | None = None


class ExposureProperties(BaseModel):
    """A public exposure site: where, when, what; never who."""

    place_name: str
    address: str
    place_type: str
    region_code: str | None
    start: datetime
    end: datetime
    radius_m: float
    precision: str
    cases: int
    source: str


class ExposureFeature(BaseModel):
    type: Literal["Feature"]
    geometry: PointGeometry
    properties: ExposureProperties


class ExposureCollection(BaseModel):
    """GeoJSON FeatureCollection of exposure sites within retention."""

    type: Literal["FeatureCollection"]
    features: list[ExposureFeature]
    retention_days: int
    since: datetime
    at: datetime


class VisitRiskRequest(BaseModel):
    """One visit, microCOVID style. The chance that each other person is infectious comes from
    ``person_risk_ucov``, or from ``region`` (a Seoul gu code or name) on ``date`` with Ansim's
    live case data, or from ``population`` and ``cases_past_week``."""

    model_config = ConfigDict(extra="forbid")

    people: float = Field(ge=0, le=1_000_000, description="Other people present.")
    setting: Setting = Setting.INDOOR
    distance: Distance = Distance.NORMAL
    voice: Voice = Voice.NORMAL
    their_mask: Mask = Mask.NONE
    your_mask: Mask = Mask.NONE
    duration_min: float = Field(default=60.0, ge=0, le=10_080)
    interaction: Interaction = Interaction.ONE_TIME
    variant: Variant | None = None
    person_risk_ucov: float | None = Field(default=None, ge=0, le=1_000_000)
    region: str | None = Field(default=None, max_length=64)
    date: dt.date | None = None
    population: float | None = Field(default=None, gt=0, le=1e10)
    cases_past_week: float | None = Field(default=None, ge=0, le=1e9)
    positivity_pct: float | None = Field(default=None, gt=0, le=100)
    ach: float | None = Field(default=None, gt=0, le=100)
    volume_m3: float | None = Field(default=None, gt=0, le=1e6)


class VisitRiskAnswer(BaseModel):
    ucov: float
    lower: float
    upper: float
    level: Level
    level_ko: str
    probability: float
    person_risk_ucov: float
    people: float
    activity_risk: float
    variant: str
    person_risk_source: str
    ventilation_multiplier: float | None = None


class IngestAnswer(BaseModel):
    """What a write did. ``already_loaded``: the same batch was committed before; nothing changed."""

    batch_id: int | None
    table: str
    rows_accepted: int
    rows_new: int
    already_loaded: bool
    checksum_sha256: str
    applied: bool = Field(description="The live risk engine includes the batch.")


class AlertMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5_000)
    sent_at: datetime
    issuer: str | None = Field(default=None, max_length=64)
    region: str = Field(default="", max_length=255)
    id: str | None = Field(default=None, max_length=100, description="Your id of the message.")


class AlertBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[AlertMessageIn] = Field(min_length=1, max_length=1_000)


class ParsedAlert(BaseModel):
    id: str
    kind: str
    issuer: str
    status: str
    reason: str
    events: int
    visits: list[dict[str, Any]]


class AlertIngestAnswer(IngestAnswer):
    messages: list[ParsedAlert]


class SubscriptionIn(BaseModel):
    """An area (GeoJSON Point = circle of ``radius_m``, Polygon, or LineString = route buffered by
    ``radius_m``, default 100 m), the level from which to alert, and a webhook (optional: every
    subscription can also be read by server-sent events)."""

    model_config = ConfigDict(extra="forbid")

    area: dict[str, Any] = Field(
        description="GeoJSON geometry: Point, Polygon or LineString ([lon, lat] positions)."
    )
    radius_m: float | None = Field(default=None, gt=0, le=5_000)
    threshold: Level = "high"
    webhook_url: str | None = Field(default=None, max_length=2_000, pattern=r"^https?://")


class SubscriptionCreated(BaseModel):
    id: str
    token: str = Field(description="Secret: needed to read events and to delete. Shown once.")
    webhook_secret: str | None = Field(
        description="HMAC-SHA256 key of the X-Ansim-Signature header. Shown once."
    )
    threshold: Level
    cells: int
    events_url: str
    created_at: datetime


class SubscriptionOut(BaseModel):
    id: str
    threshold: Level
    area: dict[str, Any]
    radius_m: float | None
    cells: int
    webhook_url: str | None
    created_at: datetime


class Health(BaseModel):
    """Service status, version and rows per store table."""

    status: str
    version: str
    counts: dict[str, int]


class Ready(BaseModel):
    status: str
    engine: str
    generation: int
    last_batch_id: int


class Ping(BaseModel):
    ok: bool

"""The store's tables (SQLAlchemy 2 Core), portable between SQLite and PostgreSQL.

Times are stored as naive UTC (:class:`UTCDateTime` converts at the edge), geometry as GeoJSON
text, and each data table has a natural key so that re-ingesting a file upserts instead of
duplicating. Keep this module and the Alembic migrations in ``ansim/migrations/versions`` in step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC; read back as aware UTC. Naive input is refused."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime given to the store; times must be timezone-aware"
            raise ValueError(msg)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


ingestion_batches = sa.Table(
    "ingestion_batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("checksum_sha256", sa.String(64), nullable=False),
    sa.Column("rows_accepted", sa.Integer, nullable=False),
    sa.Column("rows_new", sa.Integer, nullable=False),
    sa.Column("rows_skipped", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sa.Index("ix_ingestion_batches_source_checksum", "source", "checksum_sha256"),
)
"""One row per committed file load. Written in the same transaction as its rows: no half batches."""

regions = sa.Table(
    "regions",
    metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("name_ko", sa.String(64), nullable=False),
    sa.Column("name_en", sa.String(64), nullable=False, server_default=""),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("parent", sa.String(16), nullable=True, index=True),
    sa.Column("population", sa.BigInteger, nullable=True),
    sa.Column("geometry", sa.Text, nullable=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingestion_batches.id"), nullable=True),
)
"""Provinces (2-digit admin code), gu (5-digit), dong (7-digit KOSTAT); geometry is GeoJSON text."""

case_counts = sa.Table(
    "case_counts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("region_code", sa.String(16), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("new_cases", sa.Integer, nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingestion_batches.id"), nullable=False),
    sa.UniqueConstraint("region_code", "date", "source", name="uq_case_counts_natural"),
    sa.CheckConstraint("new_cases >= 0", name="ck_case_counts_new_cases"),
    sa.Index("ix_case_counts_date", "date"),
)

exposure_events = sa.Table(
    "exposure_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_record_id", sa.String(128), nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("radius_m", sa.Float, nullable=False),
    sa.Column("start_utc", UTCDateTime, nullable=False),
    sa.Column("end_utc", UTCDateTime, nullable=False),
    sa.Column("place_name", sa.String(255), nullable=False, server_default=""),
    sa.Column("address", sa.String(255), nullable=False, server_default=""),
    sa.Column("region_code", sa.String(16), nullable=True),
    sa.Column("precision", sa.String(16), nullable=False),
    sa.Column("place_type", sa.String(64), nullable=False, server_default=""),
    sa.Column("cases", sa.Integer, nullable=False, server_default="1"),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingestion_batches.id"), nullable=False),
    sa.UniqueConstraint("source", "source_record_id", name="uq_exposure_events_natural"),
    sa.CheckConstraint("lat >= -90 AND lat <= 90", name="ck_exposure_events_lat"),
    sa.CheckConstraint("lon >= -180 AND lon <= 180", name="ck_exposure_events_lon"),
    sa.Index("ix_exposure_events_window", "start_utc", "end_utc"),
)

crowd_observations = sa.Table(
    "crowd_observations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("area", sa.String(32), nullable=False),
    sa.Column("period_start", UTCDateTime, nullable=False),
    sa.Column("period_s", sa.Integer, nullable=False),
    sa.Column("count", sa.Float, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingestion_batches.id"), nullable=False),
    sa.UniqueConstraint(
        "source", "area", "period_start", "period_s", name="uq_crowd_observations_natural"
    ),
    sa.CheckConstraint("count >= 0", name="ck_crowd_observations_count"),
    sa.Index("ix_crowd_observations_period", "period_start"),
)

places = sa.Table(
    "places",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("source_id", sa.String(128), nullable=False),
    sa.Column("name_ko", sa.String(255), nullable=False),
    sa.Column("name_en", sa.String(255), nullable=False, server_default=""),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("region_code", sa.String(16), nullable=True),
    sa.Column("aliases", sa.Text, nullable=False, server_default="[]"),  # JSON array of strings
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingestion_batches.id"), nullable=False),
    sa.UniqueConstraint("kind", "source_id", name="uq_places_natural"),
    sa.Index("ix_places_name_ko", "name_ko"),
)

weather_daily = sa.Table(
    "weather_daily",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("region_code", sa.String(16), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("avg_temp_c", sa.Float, nullable=True),
    sa.Column("min_temp_c", sa.Float, nullable=True),
    sa.Column("max_temp_c", sa.Float, nullable=True),
    sa.Column("precipitation_mm", sa.Float, nullable=True),
    sa.Column("max_wind_speed_ms", sa.Float, nullable=True),
    sa.Column("most_wind_direction_deg", sa.Float, nullable=True),
    sa.Column("avg_relative_humidity_pct", sa.Float, nullable=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingestion_batches.id"), nullable=False),
    sa.UniqueConstraint("region_code", "date", "source", name="uq_weather_daily_natural"),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("policy_id", sa.Integer, nullable=False),
    sa.Column("country", sa.String(64), nullable=False, server_default=""),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("gov_policy", sa.String(255), nullable=False),
    sa.Column("detail", sa.String(255), nullable=False, server_default=""),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingestion_batches.id"), nullable=False),
    sa.UniqueConstraint("source", "policy_id", name="uq_policies_natural"),
)

alert_messages = sa.Table(
    "alert_messages",
    metadata,
    # Every disaster message loaded is kept, parsed or not, with what became of it: nothing is
    # dropped silently. ``id`` is the dump's own record id (``mois:<row>``, ``sos:<index>``, ``api:<sha>``).
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=False),
    sa.Column("issuer", sa.String(64), nullable=False, server_default=""),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # events | no_event | not_exposure
    sa.Column("reason", sa.String(255), nullable=False, server_default=""),
    sa.Column("visits", sa.Integer, nullable=False, server_default="0"),
    sa.Column("events", sa.Integer, nullable=False, server_default="0"),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingestion_batches.id"), nullable=False),
    sa.Index("ix_alert_messages_sent_at", "sent_at"),
)

DATA_TABLES = (
    regions,
    case_counts,
    exposure_events,
    crowd_observations,
    places,
    weather_daily,
    policies,
    alert_messages,
)
"""Tables holding ingested data (what ``table_counts`` reports, with ``ingestion_batches``)."""

# --- API platform (issue 4): keys, idempotent writes, push-alert subscriptions ------------------------
# Not data tables: ``table_counts`` leaves them out. A person's area is stored only because they
# subscribed, encrypted (Fernet), and deleted with everything else of the subscription.

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # public part of the key, shown in lists
    sa.Column("scope", sa.String(16), nullable=False),  # read | ingest | admin
    sa.Column("label", sa.String(128), nullable=False, server_default=""),
    sa.Column("salt", sa.String(64), nullable=False),  # hex, per key
    sa.Column("secret_hash", sa.String(128), nullable=False),  # hex scrypt(secret, salt)
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

idempotency_records = sa.Table(
    "idempotency_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("endpoint", sa.String(64), nullable=False),
    sa.Column("request_sha256", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response_body", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("key_id", "idempotency_key", name="uq_idempotency_records_key"),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("token_sha256", sa.String(64), nullable=False),
    sa.Column("threshold", sa.String(16), nullable=False),
    sa.Column("area_encrypted", sa.Text, nullable=False),  # Fernet token of {geometry, cells}
    sa.Column("webhook_encrypted", sa.Text, nullable=True),  # Fernet token of {url, secret}
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Plan subscriptions (issue 8, migration 0004): kind 'plans' holds the plans only as a Fernet
    # token (ansim.plans.vault) and an empty area_encrypted.
    sa.Column("kind", sa.String(16), nullable=False, server_default="area"),
    sa.Column("plans_encrypted", sa.Text, nullable=True),
)

subscription_events = sa.Table(
    "subscription_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "subscription_id",
        sa.String(32),
        sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("batch_id", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON of the alert (no coordinates of the area)
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("webhook_status", sa.String(16), nullable=False, server_default="none"),
    sa.Column("webhook_attempts", sa.Integer, nullable=False, server_default="0"),
    # One alert per subscription and batch, whichever worker notices it first.
    sa.UniqueConstraint("subscription_id", "batch_id", name="uq_subscription_events_batch"),
)

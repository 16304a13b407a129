"""Initial schema: regions, case counts, exposure events, crowd, places, weather, policies, batches.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 21:06:23.511900
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingestion_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("checksum_sha256", sa.String(length=64), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_new", sa.Integer(), nullable=False),
        sa.Column("rows_skipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_batches")),
    )
    with op.batch_alter_table("ingestion_batches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ingestion_batches_source_checksum", ["source", "checksum_sha256"], unique=False
        )

    op.create_table(
        "case_counts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("new_cases", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("new_cases >= 0", name="ck_case_counts_new_cases"),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingestion_batches.id"],
            name=op.f("fk_case_counts_batch_id_ingestion_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_counts")),
        sa.UniqueConstraint("region_code", "date", "source", name="uq_case_counts_natural"),
    )
    with op.batch_alter_table("case_counts", schema=None) as batch_op:
        batch_op.create_index("ix_case_counts_date", ["date"], unique=False)

    op.create_table(
        "crowd_observations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("area", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_s", sa.Integer(), nullable=False),
        sa.Column("count", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("count >= 0", name="ck_crowd_observations_count"),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingestion_batches.id"],
            name=op.f("fk_crowd_observations_batch_id_ingestion_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowd_observations")),
        sa.UniqueConstraint(
            "source", "area", "period_start", "period_s", name="uq_crowd_observations_natural"
        ),
    )
    with op.batch_alter_table("crowd_observations", schema=None) as batch_op:
        batch_op.create_index("ix_crowd_observations_period", ["period_start"], unique=False)

    op.create_table(
        "exposure_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_record_id", sa.String(length=128), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("start_utc", sa.DateTime(), nullable=False),
        sa.Column("end_utc", sa.DateTime(), nullable=False),
        sa.Column("place_name", sa.String(length=255), server_default="", nullable=False),
        sa.Column("address", sa.String(length=255), server_default="", nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=True),
        sa.Column("precision", sa.String(length=16), nullable=False),
        sa.Column("place_type", sa.String(length=64), server_default="", nullable=False),
        sa.Column("cases", sa.Integer(), server_default="1", nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("lat >= -90 AND lat <= 90", name="ck_exposure_events_lat"),
        sa.CheckConstraint("lon >= -180 AND lon <= 180", name="ck_exposure_events_lon"),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingestion_batches.id"],
            name=op.f("fk_exposure_events_batch_id_ingestion_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposure_events")),
        sa.UniqueConstraint("source", "source_record_id", name="uq_exposure_events_natural"),
    )
    with op.batch_alter_table("exposure_events", schema=None) as batch_op:
        batch_op.create_index("ix_exposure_events_window", ["start_utc", "end_utc"], unique=False)

    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("name_ko", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), server_default="", nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=True),
        sa.Column("aliases", sa.Text(), server_default="[]", nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingestion_batches.id"],
            name=op.f("fk_places_batch_id_ingestion_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint("kind", "source_id", name="uq_places_natural"),
    )
    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.create_index("ix_places_name_ko", ["name_ko"], unique=False)

    op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=64), server_default="", nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("gov_policy", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.String(length=255), server_default="", nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingestion_batches.id"],
            name=op.f("fk_policies_batch_id_ingestion_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        sa.UniqueConstraint("source", "policy_id", name="uq_policies_natural"),
    )
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_ko", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), server_default="", nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent", sa.String(length=16), nullable=True),
        sa.Column("population", sa.BigInteger(), nullable=True),
        sa.Column("geometry", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingestion_batches.id"],
            name=op.f("fk_regions_batch_id_ingestion_batches"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_regions_parent"), ["parent"], unique=False)

    op.create_table(
        "weather_daily",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("avg_temp_c", sa.Float(), nullable=True),
        sa.Column("min_temp_c", sa.Float(), nullable=True),
        sa.Column("max_temp_c", sa.Float(), nullable=True),
        sa.Column("precipitation_mm", sa.Float(), nullable=True),
        sa.Column("max_wind_speed_ms", sa.Float(), nullable=True),
        sa.Column("most_wind_direction_deg", sa.Float(), nullable=True),
        sa.Column("avg_relative_humidity_pct", sa.Float(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingestion_batches.id"],
            name=op.f("fk_weather_daily_batch_id_ingestion_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weather_daily")),
        sa.UniqueConstraint("region_code", "date", "source", name="uq_weather_daily_natural"),
    )


def downgrade() -> None:
    op.drop_table("weather_daily")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regions_parent"))

    op.drop_table("regions")
    op.drop_table("policies")
    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.drop_index("ix_places_name_ko")

    op.drop_table("places")
    with op.batch_alter_table("exposure_events", schema=None) as batch_op:
        batch_op.drop_index("ix_exposure_events_window")

    op.drop_table("exposure_events")
    with op.batch_alter_table("crowd_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_crowd_observations_period")

    op.drop_table("crowd_observations")
    with op.batch_alter_table("case_counts", schema=None) as batch_op:
        batch_op.drop_index("ix_case_counts_date")

    op.drop_table("case_counts")
    with op.batch_alter_table("ingestion_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_ingestion_batches_source_checksum")

    op.drop_table("ingestion_batches")

"""Plan subscriptions (issue 8): a subscription can hold plans instead of an area.

A plan subscription is a row of ``subscriptions`` with ``kind = 'plans'``: its plans live only in
``plans_encrypted`` (a Fernet token from ``ansim.plans.vault``), its alerts in
``subscription_events`` like an area's, so the SSE and webhook delivery are shared and ``DELETE``
removes everything at once. ``area_encrypted`` stays NOT NULL (altering it would rebuild the table
on SQLite); plan subscriptions store an empty string there.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # add_column, not a batch rebuild: on SQLite a rebuild drops the table that
    # subscription_events references (ON DELETE CASCADE), which would erase its alerts
    op.add_column(
        "subscriptions",
        sa.Column("kind", sa.String(length=16), server_default="area", nullable=False),
    )
    op.add_column("subscriptions", sa.Column("plans_encrypted", sa.Text(), nullable=True))


def downgrade() -> None:
    # plan subscriptions cannot be represented without the columns: erase them first
    op.execute(
        "DELETE FROM subscription_events WHERE subscription_id IN "
        "(SELECT id FROM subscriptions WHERE kind = 'plans')"
    )
    op.execute("DELETE FROM subscriptions WHERE kind = 'plans'")
    # plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35, PostgreSQL): no rebuild, so area
    # subscriptions keep their alerts
    op.execute("ALTER TABLE subscriptions DROP COLUMN plans_encrypted")
    op.execute("ALTER TABLE subscriptions DROP COLUMN kind")

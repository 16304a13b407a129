"""Alembic environment: uses the engine handed over in ``config.attributes`` (see ansim.store.db)."""

from __future__ import annotations

from alembic import context

from ansim.store.db import make_engine
from ansim.store.schema import metadata

config = context.config
engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()

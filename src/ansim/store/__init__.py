"""The store: SQLAlchemy Core schema, Alembic migrations, transactional idempotent ingestion, queries."""

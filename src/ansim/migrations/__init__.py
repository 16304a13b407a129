"""Alembic migrations of the store, run programmatically (``ansim db upgrade``)."""

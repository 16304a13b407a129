"""Liveness with the store's row counts."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ansim import __version__
from ansim.api.deps import EngineDep
from ansim.store.queries import table_counts

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Service status, version and rows per store table."""

    status: str
    version: str
    counts: dict[str, int]


@router.get("/healthz", response_model=Health, summary="Liveness and store counts")
def healthz(engine: EngineDep) -> Health:
    """``ok`` with the number of rows in each store table (the store answered a query)."""
    return Health(status="ok", version=__version__, counts=table_counts(engine))

"""Liveness (with the store's row counts), readiness, Prometheus metrics and a trivial ping."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from ansim import __version__
from ansim.api.deps import EngineDep, RateLimited, StateDep
from ansim.api.metrics import CONTENT_TYPE
from ansim.api.models import Health, Ping, Ready
from ansim.api.problems import Problem
from ansim.store.queries import table_counts

router = APIRouter(tags=["health"])

_PONG = b'{"ok":true}'


@router.get("/healthz", response_model=Health, summary="Liveness and store counts")
def healthz(engine: EngineDep) -> Health:
    """``ok`` with the number of rows in each store table (the store answered a query)."""
    return Health(status="ok", version=__version__, counts=table_counts(engine))


@router.get("/readyz", response_model=Ready, summary="Readiness: the risk engine is loaded")
async def readyz(state: StateDep) -> Ready:
    """200 once the live risk engine is loaded (503 problem before, or if it failed to load)."""
    if state.risk is None:
        detail = (
            f"the risk engine failed to load ({state.load_error})"
            if state.load_error
            else "the risk engine is loading"
        )
        raise Problem(503, detail, headers={"Retry-After": "5"})
    return Ready(
        status="ready",
        engine="loaded",
        generation=state.generation,
        last_batch_id=state.last_batch_id,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}},
)
async def metrics(state: StateDep) -> Response:
    """Requests and latency per route, engine generation, alerts and webhook deliveries (this worker)."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)


@router.get("/v1/ping", response_model=Ping, summary="Trivial endpoint (rate-limited like reads)")
async def ping(_: RateLimited) -> Response:
    """``{"ok": true}``: the baseline of the load benchmark (same middleware and limits as reads)."""
    return Response(_PONG, media_type="application/json")

"""Keeping API instances on one store in step: which batches a worker applied, and when to look.

Every write to the store is an ingestion batch (``ansim.store.ingest``); a worker applies the
committed batches it has not applied yet (``PlatformState.refresh``). Two things decide how soon:

- **when to look**: every worker polls ``ingestion_batches`` every ``POLL_INTERVAL_S``; on
  PostgreSQL it also holds a ``LISTEN ansim_batches`` connection (:func:`listen_for_batches`) and
  every batch transaction sends ``NOTIFY ansim_batches, '<id>'`` (``ansim.store.db.notify_batch``),
  which the server delivers on commit, so the other instances refresh at once. Polling stays as
  the SQLite path and as the fallback while the listening connection is down.
- **what is new** (:class:`BatchCursor`): on PostgreSQL batch ids come from a sequence at INSERT,
  so two concurrent loads can commit out of order (batch 8 visible before batch 7). "Every id above
  the newest applied" would skip 7 forever; the cursor remembers the ids it applied above a floor
  below which everything is settled, and waits for missing ids (in flight, or rolled back and
  never coming) up to ``HOLE_TIMEOUT_S``. On SQLite writers are serialised, so ids commit in
  order and the cursor never waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from sqlalchemy.engine import URL

from ansim.store.db import BATCH_CHANNEL

log = logging.getLogger("ansim.api")

HOLE_TIMEOUT_S = 600.0
"""How long a missing batch id is waited for (a load in flight) before it counts as rolled back."""
MAX_TRACKED_HOLES = 10_000
"""A jump of more ids than this (a sequence reset by hand) is not waited for id by id."""
RECONNECT_S = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Delays between attempts to re-open the listening connection (polling covers the gap)."""


class BatchCursor:
    """The batches a worker has applied: every id ``<= floor``, plus ``applied`` above it."""

    def __init__(self, applied_upto: int = 0) -> None:
        self.floor = applied_upto
        self.applied: set[int] = set()
        self.holes_since: dict[int, float] = {}

    @property
    def last(self) -> int:
        """The newest batch id applied."""
        return max(self.applied, default=self.floor)

    def new(self, committed: Iterable[int]) -> list[int]:
        """The ids of ``committed`` (ids above :attr:`floor`) not applied yet, oldest first."""
        return sorted({int(i) for i in committed if i > self.floor and i not in self.applied})

    def mark(self, applied: Iterable[int], *, now_s: float) -> None:
        """Record ``applied`` and move the floor up over every id settled by ``now_s``."""
        self.applied.update(int(i) for i in applied)
        top = self.last
        if top - self.floor > MAX_TRACKED_HOLES:
            self.floor = top - MAX_TRACKED_HOLES
            self.applied = {i for i in self.applied if i > self.floor}
        missing = set(range(self.floor + 1, top)) - self.applied
        self.holes_since = {i: self.holes_since.get(i, now_s) for i in missing}
        while self.floor < top:
            nxt = self.floor + 1
            if nxt in self.applied:
                self.applied.discard(nxt)
            elif now_s - self.holes_since.get(nxt, now_s) >= HOLE_TIMEOUT_S:
                del self.holes_since[nxt]  # rolled back (or deleted): it will not come
            else:
                break
            self.floor = nxt


def listen_url(url: URL) -> str | None:
    """A libpq URI for the store at ``url`` if it is PostgreSQL (with psycopg 3), else None."""
    if url.get_backend_name() != "postgresql":
        return None
    try:
        import psycopg  # noqa: F401
    except ImportError:  # pragma: no cover - psycopg is a dependency; polling still works
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen_for_batches(
    conninfo: str, *, wake: Callable[[], None], on_state: Callable[[bool], None]
) -> None:
    """Call ``wake()`` on every ``NOTIFY ansim_batches`` (and on each (re)connection, to catch up
    on what was committed while not listening). Runs until cancelled; reconnects on errors."""
    import psycopg
    from psycopg import sql

    failures = 0
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            async with conn:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(BATCH_CHANNEL)))
                on_state(True)
                if failures:
                    log.info("listening for batches again", extra={"channel": BATCH_CHANNEL})
                failures = 0
                wake()
                async for _notify in conn.notifies():
                    wake()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the server restarted, the network dropped: poll meanwhile
            log.warning(
                "batch listener down; polling only",
                extra={"error": type(exc).__name__, "channel": BATCH_CHANNEL},
            )
        finally:
            on_state(False)
        await asyncio.sleep(RECONNECT_S[min(failures, len(RECONNECT_S) - 1)])
        failures += 1

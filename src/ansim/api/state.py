"""The app's state in one place: the live risk engine, its caches, keys, limits and subscriptions.

The :class:`RiskEngine` is built once at startup from the store (in a thread; ``/readyz`` answers
503 until it is ready). Every worker then polls ``ingestion_batches`` every
:data:`POLL_INTERVAL_S` (and a worker that accepted a write refreshes at once, after the commit;
on PostgreSQL every worker also listens for the batches' ``NOTIFY`` and refreshes at once, see
``ansim.api.sync``, so several instances on one database stay in step within a fraction of a second):
new exposure events are added incrementally, new case counts or crowd observations rebuild the
per-gu series, and the new engine replaces the old one in a single assignment (copy on write:
requests in flight keep the engine they started with). Each refresh also evaluates the
subscriptions whose area the new data touches and stores one alert per (subscription, batch);
the worker that stores it first calls the webhook, and every worker's SSE streams read the stored
alerts, so any worker can serve any subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ansim.api import subscriptions as subs_mod
from ansim.api.keys import ApiKey, revoked_ids, verify_key
from ansim.api.metrics import Metrics
from ansim.api.ratelimit import MovingWindow
from ansim.api.sync import BatchCursor, listen_for_batches, listen_url
from ansim.errors import OutOfCoverageError
from ansim.records import ExposureEvent
from ansim.risk.levels import BANDS, band_index
from ansim.settings import Settings
from ansim.store import queries, schema
from ansim.timeutil import SEOUL, as_seoul, isoformat_seoul

if TYPE_CHECKING:
    from ansim.risk.engine import RiskEngine

log = logging.getLogger("ansim.api")

POLL_INTERVAL_S = 0.5
RISK_CACHE_ENTRIES = 20_000
CELLS_CACHE_ENTRIES = 256
MAX_ALERT_TIMES = 6
NEAR_AREA_DEG = 0.03
"""New exposure events farther than ~3 km from a subscription's area do not trigger its evaluation."""
RAISE_FACTOR = 1.1
"""Above the threshold already, an alert needs the new data to raise the area's peak by 10 %."""


def hour_of(at: datetime) -> datetime:
    """The start of the Seoul hour holding ``at`` (risk answers are computed and cached per hour)."""
    return as_seoul(at).replace(minute=0, second=0, microsecond=0)


class LruCache:
    """A small thread-safe-enough LRU (dict operations are atomic under the GIL)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        value = self.data.get(key)
        if value is not None:
            with contextlib.suppress(KeyError):
                self.data.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self.data[key] = value
        while len(self.data) > self.size:
            try:
                self.data.popitem(last=False)
            except KeyError:
                break

    def clear(self) -> None:
        self.data.clear()


@dataclass
class Update:
    """What a refresh found: the new engine and the alerts to store."""

    engine: RiskEngine | None
    batch_ids: list[int]
    alerts: list[tuple[subs_mod.ActiveSubscription, int, dict[str, Any]]] = field(
        default_factory=list
    )
    new_exposures: int = 0


class PlatformState:
    """Everything the handlers share (one instance per worker process, on ``app.state.platform``)."""

    def __init__(self, settings: Settings, db: Engine, *, risk: RiskEngine | None = None) -> None:
        self.settings = settings
        self.db = db
        self.risk: RiskEngine | None = risk
        self.generation = 0
        self.load_error: str | None = None
        self.last_batch_id = _max_batch_id(db) if risk is not None else 0
        self.batches = BatchCursor(self.last_batch_id)
        self.listening = False
        self._wakeup: asyncio.Event | None = None
        self._listener: asyncio.Task[None] | None = None
        self.known_exposures: set[tuple[str, str]] = _exposure_keys(risk)
        self.risk_cache = LruCache(RISK_CACHE_ENTRIES)
        self.cells_cache = LruCache(CELLS_CACHE_ENTRIES)
        self.key_cache: dict[str, ApiKey | None] = {}
        self.revoked: frozenset[str] = frozenset()
        self.ip_limit = MovingWindow(settings.rate_limit_per_ip)
        self.key_limit = MovingWindow(settings.rate_limit_per_key)
        self.subs: dict[str, subs_mod.ActiveSubscription] = {}
        self.waiters: dict[str, set[asyncio.Event]] = {}
        self.fernet = subs_mod.fernet_for(settings)
        self.metrics = Metrics()
        self.routing: dict[tuple[str, str], Any] = {}
        self._lock: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._poller: asyncio.Task[None] | None = None
        self.metrics.gauge(
            "ansim_risk_engine_ready", "1 when the risk engine is loaded.", lambda: self.ready
        )
        self.metrics.gauge(
            "ansim_risk_engine_generation",
            "Engine updates applied since startup.",
            lambda: self.generation,
        )
        self.metrics.gauge(
            "ansim_exposure_sites",
            "Exposure events in the live engine.",
            lambda: 0 if self.risk is None else len(self.risk.exposures.events),
        )
        self.metrics.gauge(
            "ansim_subscriptions_active",
            "Subscriptions held by this worker.",
            lambda: len(self.subs),
        )
        self.metrics.gauge(
            "ansim_last_batch_id", "Newest ingestion batch applied.", lambda: self.last_batch_id
        )
        self.metrics.gauge(
            "ansim_store_listening",
            "1 while this worker listens for new batches (PostgreSQL NOTIFY); else it polls only.",
            lambda: self.listening,
        )

    @property
    def ready(self) -> bool:
        return self.risk is not None

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, *, poll: bool = True) -> None:
        """Load the engine (unless given) and start polling the store."""
        self._lock = asyncio.Lock()
        if self.risk is None:
            task = asyncio.create_task(self._load())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            await self.refresh()
        if poll:
            self._wakeup = asyncio.Event()
            self._poller = asyncio.create_task(self._poll())
            conninfo = listen_url(self.db.url)
            if conninfo is not None:
                self._listener = asyncio.create_task(
                    listen_for_batches(conninfo, wake=self._wakeup.set, on_state=self._listening)
                )

    def _listening(self, up: bool) -> None:
        self.listening = up

    async def stop(self) -> None:
        background = [t for t in (self._poller, self._listener) if t is not None]
        for task in [*background, *self._tasks]:
            task.cancel()
        await asyncio.gather(*background, *self._tasks, return_exceptions=True)

    async def _load(self) -> None:
        from ansim.risk.engine import RiskEngine

        try:
            before = await asyncio.to_thread(_max_batch_id, self.db)
            engine = await asyncio.to_thread(
                RiskEngine.from_store, self.db, forecaster=self.settings.var_dir / "models"
            )
        except Exception as exc:  # reported by /readyz; the process stays up for /healthz
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error("risk engine failed to load", extra={"error": type(exc).__name__})
            return
        self.known_exposures = _exposure_keys(engine)
        self.last_batch_id = before
        self.batches = BatchCursor(before)
        self.risk = engine
        log.info("risk engine ready", extra={"exposure_events": len(engine.exposures.events)})
        await self.refresh()

    async def _poll(self) -> None:
        assert self._wakeup is not None
        while True:
            # a NOTIFY (PostgreSQL) ends the wait at once; else look every POLL_INTERVAL_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=POLL_INTERVAL_S)
            self._wakeup.clear()
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep polling; the next round retries
                log.warning("refresh failed", extra={"error": type(exc).__name__})

    # --- refresh --------------------------------------------------------------------------------

    async def refresh(self) -> int:
        """Apply batches committed since the last refresh; returns how many. Safe to call anytime."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            self.revoked = await asyncio.to_thread(revoked_ids, self.db)
            if self.risk is None:
                return 0
            await self._sync_subscriptions()
            committed = await asyncio.to_thread(_new_batches, self.db, self.batches.floor)
            batch_ids = self.batches.new(committed)
            if not batch_ids:
                self.batches.mark((), now_s=time.monotonic())
                return 0
            old = self.risk
            update = await asyncio.to_thread(self._apply, batch_ids)
            if update.engine is not None and update.engine is not self.risk:
                self.risk = update.engine
                self.generation += 1
                self.risk_cache.clear()
                self.cells_cache.clear()
            self.batches.mark(batch_ids, now_s=time.monotonic())
            self.last_batch_id = max(self.last_batch_id, self.batches.last)
            self.metrics.inc(
                "ansim_batches_applied_total",
                "Ingestion batches applied to the live engine.",
                len(batch_ids),
            )
            for sub, batch_id, payload in update.alerts:
                await self._store_alert(sub, batch_id, payload)
            if self.risk is not old:
                await self._recheck_plans(old, max(batch_ids))
            return len(batch_ids)

    async def _sync_subscriptions(self) -> None:
        assert self.risk is not None
        ids = await asyncio.to_thread(subs_mod.subscription_ids, self.db)
        for gone in set(self.subs) - ids:
            del self.subs[gone]
            self._wake(gone)
        new = ids - set(self.subs)
        if new:
            loaded = await asyncio.to_thread(
                subs_mod.load_active, self.db, self.fernet, self.risk.table, new
            )
            for sub in loaded:
                self.subs[sub.id] = sub

    def _apply(self, batch_ids: list[int]) -> Update:
        """New engine and alerts for the batches (runs in a thread; the live engine is untouched)."""
        from ansim.risk import crowd as crowd_mod
        from ansim.risk.engine import region_series

        old = self.risk
        assert old is not None
        codes = old.table.gu_codes
        events = queries.exposure_events(self.db, batch_ids=batch_ids)
        fresh = [e for e in events if (e.source, e.source_record_id) not in self.known_exposures]
        case_days = _case_days(self.db, batch_ids, codes)
        crowd_times = _crowd_times(self.db, batch_ids, codes)
        if not fresh and not case_days and not crowd_times:
            return Update(None, batch_ids)
        new = copy.copy(old)
        if fresh:
            new.add_exposures(fresh)
            self.known_exposures.update((e.source, e.source_record_id) for e in fresh)
        if case_days:
            cases = queries.case_counts(self.db, region_codes=codes)
            new.regions = region_series(
                cases, codes, ascertainment=self.settings.ascertainment_factor
            )
        if crowd_times:
            crowd = queries.crowd_observations(self.db, areas=codes)
            new.crowd = crowd_mod.CrowdModel.build(crowd, codes)
        alerts = self._evaluate(old, new, fresh, case_days, crowd_times, max(batch_ids))
        return Update(new, batch_ids, alerts, len(fresh))

    def _evaluate(
        self,
        old: RiskEngine,
        new: RiskEngine,
        events: list[ExposureEvent],
        case_days: list[date],
        crowd_times: list[datetime],
        batch_id: int,
    ) -> list[tuple[subs_mod.ActiveSubscription, int, dict[str, Any]]]:
        """Alerts for subscriptions whose area's peak µCoV the new data raises to their threshold."""
        alerts = []
        shared_times = [datetime.combine(d, dtime(12), SEOUL) for d in case_days[-3:]]
        shared_times += crowd_times[-3:]
        for sub in list(self.subs.values()):
            south, west, north, east = sub.bbox
            near = [
                e
                for e in events
                if south - NEAR_AREA_DEG <= e.lat <= north + NEAR_AREA_DEG
                and west - NEAR_AREA_DEG <= e.lon <= east + NEAR_AREA_DEG
            ]
            near.sort(key=lambda e: e.start, reverse=True)
            times = [
                as_seoul(e.start) + min(timedelta(minutes=30), (e.end - e.start) / 2)
                for e in near[:MAX_ALERT_TIMES]
            ]
            times = (times + shared_times)[:MAX_ALERT_TIMES]
            if not times:
                continue
            cells = new.table.cells[sub.rows]
            best: tuple[float, float, datetime, int] | None = None
            for t in times:
                try:
                    after = new.ucov_per_hour(cells, t)
                    before = old.ucov_per_hour(cells, t)
                except OutOfCoverageError:
                    continue
                if not np.isfinite(after).any():
                    continue
                i = int(np.nanargmax(after))
                peak_after = float(after[i])
                peak_before = float(np.nanmax(before)) if np.isfinite(before).any() else 0.0
                if best is None or peak_after > best[0]:
                    best = (peak_after, peak_before, t, i)
            if best is None:
                continue
            peak_after, peak_before, t, i = best
            budget = new.budget_ucov
            band_after = int(band_index(np.array([peak_after]), budget_ucov=budget)[0])
            band_before = int(band_index(np.array([peak_before]), budget_ucov=budget)[0])
            if band_after < sub.threshold_index:
                continue
            if band_before >= sub.threshold_index and peak_after < RAISE_FACTOR * peak_before:
                continue
            causes = (
                (["exposure_site"] if near else [])
                + (["cases"] if case_days else [])
                + (["crowd"] if crowd_times else [])
            )
            from ansim.geo.cells import cell_to_hex

            payload = {
                "type": "risk_above_threshold",
                "subscription_id": sub.id,
                "batch_id": batch_id,
                "at": isoformat_seoul(t),
                "level": BANDS[band_after].key,
                "level_ko": BANDS[band_after].name_ko,
                "threshold": sub.threshold,
                "ucov": {"value": _finite(peak_after), "unit": "µCoV per hour (reference visit)"},
                "previous_ucov": {
                    "value": _finite(peak_before),
                    "unit": "µCoV per hour (reference visit)",
                },
                "cell": cell_to_hex(cells[i]),
                "causes": causes,
                "sites": [
                    {
                        "place_name": e.place_name,
                        "place_type": e.place_type,
                        "start": isoformat_seoul(e.start),
                        "end": isoformat_seoul(e.end),
                    }
                    for e in near[:10]
                ],
                "created_at": isoformat_seoul(datetime.now(SEOUL)),
            }
            alerts.append((sub, batch_id, payload))
        return alerts

    async def _store_alert(
        self,
        sub: subs_mod.ActiveSubscription,
        batch_id: int,
        payload: dict[str, Any],
        *,
        delivered: dict[str, Any] | None = None,
    ) -> None:
        """Store ``payload`` once per (subscription, batch); deliver ``delivered`` (default: the same)."""
        event_id = await asyncio.to_thread(
            subs_mod.insert_event,
            self.db,
            sub_id=sub.id,
            batch_id=batch_id,
            payload=payload,
            webhook=sub.webhook_url is not None,
        )
        if event_id is None:  # another worker stored (and delivers) it
            return
        self.metrics.inc("ansim_alerts_total", "Subscription alerts stored.")
        self._wake(sub.id)
        if sub.webhook_url and sub.webhook_secret:
            task = asyncio.create_task(
                self._deliver(
                    sub.webhook_url,
                    sub.webhook_secret,
                    event_id,
                    {**(payload if delivered is None else delivered), "event_id": event_id},
                )
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, secret: str, event_id: int, payload: dict[str, Any]) -> None:
        """POST the alert, signed, retrying with exponential backoff; record the outcome."""
        import httpx

        body = orjson.dumps(payload)
        delays = subs_mod.backoff_delays_s()
        attempts = 0
        status = "failed"
        async with httpx.AsyncClient(timeout=5.0) as client:
            for attempt in range(subs_mod.WEBHOOK_ATTEMPTS):
                attempts = attempt + 1
                headers = {
                    "Content-Type": "application/json",
                    subs_mod.SIGNATURE_HEADER: subs_mod.sign(secret, body),
                    "X-Ansim-Event-Id": str(event_id),
                }
                try:
                    response = await client.post(url, content=body, headers=headers)
                    if 200 <= response.status_code < 300:
                        status = "delivered"
                        break
                except httpx.HTTPError:
                    pass
                if attempt < len(delays):
                    await asyncio.sleep(delays[attempt])
        self.metrics.inc(
            "ansim_webhook_deliveries_total", "Webhook deliveries by outcome.", outcome=status
        )
        await asyncio.to_thread(
            subs_mod.set_webhook_status, self.db, event_id, status=status, attempts=attempts
        )

    # --- plan subscriptions (issue 8; the logic is in ansim.api.plan_subscriptions) --------------

    async def _recheck_plans(self, old: RiskEngine, batch_id: int) -> None:
        """Re-check subscribed plans on the new engine; store and deliver the warnings due."""
        from ansim.api import plan_subscriptions as plan_subs

        assert self.risk is not None
        watch = plan_subs.watch_of(self)
        now = plan_subs.plans_now(self.settings)
        found = await asyncio.to_thread(watch.recheck, old, self.risk, batch_id=batch_id, now=now)
        for warning in found:
            await self.store_plan_warning(warning, batch_id)

    async def store_plan_warning(self, warning: tuple[Any, Any, Any], batch_id: int) -> None:
        """Store a plan warning (sealed) and deliver it in full, like an area alert."""
        sub, stored, delivered = warning
        await self._store_alert(sub, batch_id, stored, delivered=delivered)

    # --- SSE wakeups ------------------------------------------------------------------------------

    def waiter(self, sub_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self.waiters.setdefault(sub_id, set()).add(event)
        return event

    def drop_waiter(self, sub_id: str, event: asyncio.Event) -> None:
        found = self.waiters.get(sub_id)
        if found is not None:
            found.discard(event)
            if not found:
                self.waiters.pop(sub_id, None)

    def _wake(self, sub_id: str) -> None:
        for event in self.waiters.get(sub_id, ()):
            event.set()

    # --- keys and limits ----------------------------------------------------------------------------

    def cached_key(self, presented: str) -> tuple[bool, ApiKey | None]:
        """(known, key) from the in-memory cache of verified keys (by SHA-256 of the key text)."""
        digest = subs_mod.token_hash(presented)
        if digest in self.key_cache:
            return True, self.key_cache[digest]
        return False, None

    def verify(self, presented: str) -> ApiKey | None:
        """Check a key against the store (scrypt) and cache the outcome (runs in a thread)."""
        key = verify_key(self.db, presented)
        if len(self.key_cache) > 10_000:
            self.key_cache.clear()
        self.key_cache[subs_mod.token_hash(presented)] = key
        return key

    def hit(self, *, key_id: str | None, client: str) -> float | None:
        """Count a request; None if allowed, else seconds until the window has room again."""
        if key_id:
            return self.key_limit.hit(key_id)
        return self.ip_limit.hit(client)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _exposure_keys(risk: RiskEngine | None) -> set[tuple[str, str]]:
    if risk is None:
        return set()
    return {(e.source, e.source_record_id) for e in risk.exposures.events}


def _max_batch_id(db: Engine) -> int:
    with db.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(schema.ingestion_batches.c.id))).scalar()
    return int(value or 0)


def _new_batches(db: Engine, after_id: int) -> list[int]:
    t = schema.ingestion_batches
    with db.connect() as conn:
        return [
            int(i)
            for i in conn.execute(
                sa.select(t.c.id).where(t.c.id > after_id, t.c.status == "loaded").order_by(t.c.id)
            ).scalars()
        ]


def _case_days(db: Engine, batch_ids: list[int], codes: tuple[str, ...]) -> list[date]:
    t = schema.case_counts
    with db.connect() as conn:
        days = conn.execute(
            sa.select(t.c.date)
            .where(t.c.batch_id.in_(batch_ids), t.c.region_code.in_(codes))
            .distinct()
            .order_by(t.c.date)
        ).scalars()
        return list(days)


def _crowd_times(db: Engine, batch_ids: list[int], codes: tuple[str, ...]) -> list[datetime]:
    t = schema.crowd_observations
    with db.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.period_start, t.c.period_s)
            .where(t.c.batch_id.in_(batch_ids), t.c.area.in_(codes))
            .distinct()
            .order_by(t.c.period_start)
        ).all()
    return [as_seoul(r.period_start) + timedelta(seconds=r.period_s / 2) for r in rows]

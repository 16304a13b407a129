"""Exposure sites: a confirmed case's visit raises the hazard in the H3 cells around it.

Model (documented in docs/risk.md, "Spatial layers and engine"):

- **Spatial kernel.** A visit at a point known to ``r_u`` metres (``ExposureEvent.radius_m``) spreads
  over a Gaussian of ``σ = √(r0² + r_u²) / 2`` with ``r0`` = 100 m (the Corona-100m alert radius,
  ``settings.exposure_radius_m``), so the effective radius 2σ is ``√(r0² + r_u²)``. The peak is
  ``r0² / (r0² + r_u²)``: widening keeps the kernel's mass, so a vaguely located visit raises the
  hazard over a larger area but less at any one place. Cut at 3σ. Events vaguer than
  ``max_uncertainty_m`` (default 1 km: coarser than a dong) carry no site information and are left
  to the regional prevalence layer.
- **Presence.** A dated visit (DS4C PatientRoute: a whole Seoul day) says the case was there for a
  stay of ``stay_h`` (1 h) at an unknown time of the window: the chance the case is present at a
  given moment is ``stay_h / window_h`` (capped at 1). A cluster site (a workplace, a church) is
  occupied by infectious people ``cluster_hours_per_day`` (8 h) of each day of its window.
- **Decay after the window.** Airborne virus is removed by ventilation (≈1 h⁻¹ in the reference
  room), biological decay (0.62 h⁻¹) and deposition (0.3 h⁻¹) – Jimenez-Peng box model, risk-models
  §3.1 – a half-life of ≈ 0.36 h; surfaces keep virus longer (half-life ≈ 6.8 h on plastic,
  van Doremalen et al. 2020) but fomites are a minor route, weighted 5 %. So after the window the
  hazard is ``0.95·2^(−Δ/0.36 h) + 0.05·2^(−Δ/6.8 h)``.
- **Retention.** A site stays in the live state until 14 days after the last contact
  (``settings.exposure_retention_days``; the Korean disclosure guideline) and is then deleted
  (:meth:`ExposureField.expire`); after that it contributes nothing, whatever the decay says.

The result of :meth:`ExposureField.presence` is, per cell, the expected number of infectious people
present (kernel weight × cases × presence × time factor); the engine turns it into µCoV with the
reference activity and the co-presence footprint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Self

import h3.api.numpy_int as h3n
import numpy as np
import numpy.typing as npt

from ansim.errors import InputError
from ansim.geo.cells import CellTable, disk_k_for_radius, haversine_m
from ansim.records import ExposureEvent
from ansim.timeutil import SEOUL, as_seoul

AIR_HALF_LIFE_H = math.log(2) / (1.0 + 0.62 + 0.3)
"""Half-life of airborne virus in the reference room: ventilation 1 + decay 0.62 + deposition 0.3 h⁻¹."""
SURFACE_HALF_LIFE_H = 6.8
"""Half-life of SARS-CoV-2 on plastic (van Doremalen et al., NEJM 2020)."""
SURFACE_SHARE = 0.05
"""Share of a site's hazard that lingers on surfaces rather than in the air."""
CASE_SOURCE = "ds4c-case"
"""Source label of the DS4C cluster table (``ansim.sources.ds4c.CASE_SOURCE``)."""


@dataclass(frozen=True, slots=True)
class KernelParams:
    """Constants of the exposure-site layer (defaults documented in the module docstring)."""

    base_radius_m: float = 100.0
    truncate_sigmas: float = 3.0
    max_uncertainty_m: float = 1000.0
    stay_h: float = 1.0
    cluster_hours_per_day: float = 8.0
    retention_days: float = 14.0
    air_half_life_h: float = AIR_HALF_LIFE_H
    surface_half_life_h: float = SURFACE_HALF_LIFE_H
    surface_share: float = SURFACE_SHARE
    min_weight: float = 1e-3
    """Entries below this fraction of an event's peak are dropped (sparsity)."""


# Dated windows for the Seoul clusters of DS4C Case.csv, whose rows carry no dates. Each window is the
# period infectious people are known to have been at the site, [start, end) in Seoul days, with the
# basis; clusters not listed are left out (no date, no site).
CLUSTER_WINDOWS: dict[str, tuple[date, date, str]] = {
    "Itaewon Clubs": (
        date(2020, 4, 24),
        date(2020, 5, 7),
        "Seoul asked everyone who visited the Itaewon clubs from 24 Apr to 6 May 2020 to be tested",
    ),
    "Guro-gu Call Center": (
        date(2020, 2, 21),
        date(2020, 3, 9),
        "first employee symptoms in late Feb 2020; first case confirmed 8 Mar, building closed 9 Mar",
    ),
}
CLUSTER_INFECTIOUS_DAYS = 5.0
"""Days a cluster case is infectious on site before isolation (for the concurrent-cases estimate)."""


def cluster_concurrent_cases(confirmed: int, window_days: float) -> float:
    """Infectious people present at a cluster site at a typical moment of its window.

    ``confirmed × min(1, 5 d / window) / 2``: each case is infectious on site about five days, and
    only about half of a cluster's cases are infectious on site at all (the rest were infected
    there late, or are household contacts counted with the cluster). At least 1.
    """
    share = min(1.0, CLUSTER_INFECTIOUS_DAYS / max(window_days, 1e-9))
    return max(1.0, confirmed * share / 2.0)


def date_cluster_events(events: list[ExposureEvent]) -> tuple[list[ExposureEvent], list[str]]:
    """Give the DS4C cluster events a dated window from :data:`CLUSTER_WINDOWS`.

    Events of other sources, and cluster events already carrying their window, pass unchanged.
    Cluster events without a known window are dropped and their names returned.
    """
    out: list[ExposureEvent] = []
    dropped: list[str] = []
    for e in events:
        if e.source != CASE_SOURCE:
            out.append(e)
            continue
        window = CLUSTER_WINDOWS.get(e.place_name)
        if window is None:
            dropped.append(e.place_name)
            continue
        start = datetime(window[0].year, window[0].month, window[0].day, tzinfo=SEOUL)
        end = datetime(window[1].year, window[1].month, window[1].day, tzinfo=SEOUL)
        if e.start == start and e.end == end:  # dated already (idempotent)
            out.append(e)
            continue
        days = (end - start).total_seconds() / 86_400
        out.append(
            replace(
                e,
                start=start,
                end=end,
                cases=max(1, round(cluster_concurrent_cases(e.cases, days))),
            )
        )
    return out, dropped


def epoch_s(value: datetime) -> float:
    """Seconds since the Unix epoch of an aware (or naive = Seoul) time."""
    return as_seoul(value).timestamp()


def kernel_sigma_m(radius_m: npt.ArrayLike, base_radius_m: float = 100.0) -> np.ndarray:
    """σ (m) of the Gaussian kernel: √(r0² + r_u²) / 2."""
    r = np.asarray(radius_m, dtype=float)
    return np.sqrt(base_radius_m**2 + r**2) / 2.0


def kernel_peak(radius_m: npt.ArrayLike, base_radius_m: float = 100.0) -> np.ndarray:
    """Peak weight r0² / (r0² + r_u²) (mass-preserving widening)."""
    r = np.asarray(radius_m, dtype=float)
    return base_radius_m**2 / (base_radius_m**2 + r**2)


def presence_fraction(
    start_s: npt.ArrayLike, end_s: npt.ArrayLike, is_cluster: npt.ArrayLike, params: KernelParams
) -> np.ndarray:
    """Chance that the infectious visitor is present at a given moment of the window."""
    window_h = np.maximum((np.asarray(end_s) - np.asarray(start_s)) / 3600.0, 1e-9)
    visit = np.minimum(1.0, params.stay_h / window_h)
    cluster = np.minimum(1.0, params.cluster_hours_per_day / np.minimum(window_h, 24.0))
    return np.where(np.asarray(is_cluster, dtype=bool), cluster, visit)


def time_factor(
    start_s: npt.ArrayLike,
    end_s: npt.ArrayLike,
    t0_s: float,
    t1_s: float | None = None,
    *,
    params: KernelParams = KernelParams(),
) -> np.ndarray:
    """Mean hazard factor over ``[t0, t1)`` (instantaneous at ``t0`` when ``t1`` is None).

    1 inside the window ``[start, end)``, the air + surface decay after it, 0 before it and from
    ``end + retention`` on. Closed-form integrals, vectorised over events.
    """
    s = np.asarray(start_s, dtype=float)
    e = np.asarray(end_s, dtype=float)
    la = math.log(2) / (params.air_half_life_h * 3600.0)
    ls = math.log(2) / (params.surface_half_life_h * 3600.0)
    wa, ws = 1.0 - params.surface_share, params.surface_share
    horizon = e + params.retention_days * 86_400.0
    if t1_s is None or t1_s <= t0_s:
        t = float(t0_s)
        dt = t - e
        inside = (t >= s) & (t < e)
        after = (t >= e) & (t < horizon)
        decay = wa * np.exp(-la * np.maximum(dt, 0)) + ws * np.exp(-ls * np.maximum(dt, 0))
        return np.where(inside, 1.0, np.where(after, decay, 0.0))
    a, b = float(t0_s), float(t1_s)
    overlap = np.clip(np.minimum(b, e) - np.maximum(a, s), 0.0, None)
    # decay tail integral over [max(a, e), min(b, horizon))
    lo = np.maximum(a, e)
    hi = np.minimum(b, horizon)
    valid = hi > lo
    d0 = np.where(valid, lo - e, 0.0)
    d1 = np.where(valid, hi - e, 0.0)
    tail = wa / la * (np.exp(-la * d0) - np.exp(-la * d1)) + ws / ls * (
        np.exp(-ls * d0) - np.exp(-ls * d1)
    )
    return (overlap + np.where(valid, tail, 0.0)) / (b - a)


@dataclass(frozen=True)
class ExposureField:
    """Exposure events and their sparse cell neighbourhoods (an immutable value).

    Per event (arrays of length E): ``start_s``, ``end_s`` (epoch seconds), ``cases`` (infectious
    people × presence fraction), ``lat``, ``lon``, ``sigma_m``, ``gu_index`` (of the event's cell,
    −1 outside the table). Sparse entries (length N): ``entry_event``, ``entry_row`` (cell row in the
    table), ``entry_weight`` (kernel weight).
    """

    params: KernelParams
    events: tuple[ExposureEvent, ...]
    start_s: np.ndarray
    end_s: np.ndarray
    cases: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    sigma_m: np.ndarray
    gu_index: np.ndarray
    entry_event: np.ndarray
    entry_row: np.ndarray
    entry_weight: np.ndarray
    raw_cases: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Per event: infectious people (``ExposureEvent.cases``), before the presence fraction."""
    skipped: tuple[str, ...] = field(default=())
    """Events left out (outside Seoul or too vague), as ``source:record_id``."""

    @property
    def size(self) -> int:
        """Number of events."""
        return len(self.events)

    @classmethod
    def empty(cls, params: KernelParams = KernelParams()) -> Self:
        """A field without events."""
        f = np.zeros(0)
        i = np.zeros(0, dtype=np.int32)
        return cls(params, (), f, f, f, f, f, f, i, i, i, f)

    @classmethod
    def build(
        cls,
        events: list[ExposureEvent] | tuple[ExposureEvent, ...],
        table: CellTable,
        params: KernelParams = KernelParams(),
    ) -> Self:
        """Neighbourhoods of every event (one grid disk per event, weights vectorised per event)."""
        return cls.empty(params).with_events(events, table)

    def with_events(
        self, events: list[ExposureEvent] | tuple[ExposureEvent, ...], table: CellTable
    ) -> Self:
        """A new field with ``events`` appended (the incremental update: existing entries are kept)."""
        p = self.params
        kept: list[ExposureEvent] = []
        skipped = list(self.skipped)
        ev_rows: list[np.ndarray] = []
        ev_w: list[np.ndarray] = []
        ev_idx: list[np.ndarray] = []
        n0 = self.size
        gus: list[int] = []
        # a cheap box test first: most national events are far from Seoul
        margin = (
            0.05
            + p.truncate_sigmas
            * float(kernel_sigma_m(p.max_uncertainty_m, p.base_radius_m))
            / 90_000
        )
        south, north = float(table.lat.min()) - margin, float(table.lat.max()) + margin
        west, east = float(table.lon.min()) - margin, float(table.lon.max()) + margin
        for e in events:
            _check_event(e)
            if e.radius_m > p.max_uncertainty_m or not (
                south <= e.lat <= north and west <= e.lon <= east
            ):
                skipped.append(f"{e.source}:{e.source_record_id}")
                continue
            sigma = float(kernel_sigma_m(e.radius_m, p.base_radius_m))
            peak = float(kernel_peak(e.radius_m, p.base_radius_m))
            centre = h3n.latlng_to_cell(e.lat, e.lon, table.resolution)
            k = disk_k_for_radius(p.truncate_sigmas * sigma, table.resolution)
            ring = np.asarray(h3n.grid_disk(centre, k), dtype=np.uint64)
            rows = table.index_of(ring)
            rows = rows[rows >= 0]
            if rows.size == 0:  # entirely outside Seoul
                skipped.append(f"{e.source}:{e.source_record_id}")
                continue
            d = haversine_m(e.lat, e.lon, table.lat[rows], table.lon[rows])
            w = peak * np.exp(-0.5 * (d / sigma) ** 2)
            keep = (d <= p.truncate_sigmas * sigma) & (w >= p.min_weight * peak)
            rows, w = rows[keep], w[keep]
            centre_row = int(table.index_of(np.array([centre], dtype=np.uint64))[0])
            gus.append(int(table.gu_index[centre_row]) if centre_row >= 0 else -1)
            ev_rows.append(rows.astype(np.int32))
            ev_w.append(w)
            ev_idx.append(np.full(rows.size, n0 + len(kept), dtype=np.int32))
            kept.append(e)
        if not kept:
            return replace(self, skipped=tuple(skipped))
        start = np.array([epoch_s(e.start) for e in kept])
        end = np.array([epoch_s(e.end) for e in kept])
        is_cluster = np.array([e.source == CASE_SOURCE for e in kept])
        raw = np.array([float(e.cases) for e in kept])
        cases = raw * presence_fraction(start, end, is_cluster, p)
        return replace(
            self,
            events=self.events + tuple(kept),
            start_s=np.concatenate([self.start_s, start]),
            end_s=np.concatenate([self.end_s, end]),
            cases=np.concatenate([self.cases, cases]),
            raw_cases=np.concatenate([self.raw_cases, raw]),
            lat=np.concatenate([self.lat, [e.lat for e in kept]]),
            lon=np.concatenate([self.lon, [e.lon for e in kept]]),
            sigma_m=np.concatenate(
                [self.sigma_m, kernel_sigma_m([e.radius_m for e in kept], p.base_radius_m)]
            ),
            gu_index=np.concatenate([self.gu_index, np.asarray(gus, dtype=np.int32)]),
            entry_event=np.concatenate([self.entry_event, *ev_idx]),
            entry_row=np.concatenate([self.entry_row, *ev_rows]),
            entry_weight=np.concatenate([self.entry_weight, *ev_w]),
            skipped=tuple(skipped),
        )

    def expire(self, now: datetime) -> Self:
        """Delete the sites whose last contact is more than the retention period before ``now``."""
        horizon = self.end_s + self.params.retention_days * 86_400.0
        alive = horizon > epoch_s(now)
        if alive.all():
            return self
        new_index = np.cumsum(alive) - 1
        keep_entries = alive[self.entry_event]
        return replace(
            self,
            events=tuple(e for e, a in zip(self.events, alive.tolist(), strict=True) if a),
            start_s=self.start_s[alive],
            end_s=self.end_s[alive],
            cases=self.cases[alive],
            raw_cases=self.raw_cases[alive],
            lat=self.lat[alive],
            lon=self.lon[alive],
            sigma_m=self.sigma_m[alive],
            gu_index=self.gu_index[alive],
            entry_event=new_index[self.entry_event[keep_entries]].astype(np.int32),
            entry_row=self.entry_row[keep_entries],
            entry_weight=self.entry_weight[keep_entries],
        )

    def event_factors(self, t0_s: float, t1_s: float | None = None) -> np.ndarray:
        """Per event: cases × presence × time factor at ``t0`` (or mean over ``[t0, t1)``)."""
        return self.cases * time_factor(self.start_s, self.end_s, t0_s, t1_s, params=self.params)

    def presence(self, n_cells: int, t0_s: float, t1_s: float | None = None) -> np.ndarray:
        """Expected infectious people (kernel-weighted) per cell row, shape ``(n_cells,)``."""
        if self.size == 0:
            return np.zeros(n_cells)
        factor = self.event_factors(t0_s, t1_s)
        active = factor > 0
        if not active.any():
            return np.zeros(n_cells)
        sel = active[self.entry_event]
        vals = self.entry_weight[sel] * factor[self.entry_event[sel]]
        return np.bincount(self.entry_row[sel], weights=vals, minlength=n_cells)

    def presence_at(
        self, row: int, t0_s: float, t1_s: float | None = None
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Presence in one cell row: (total, contributing event indices, their contributions)."""
        sel = np.flatnonzero(self.entry_row == row)
        if sel.size == 0:
            return 0.0, np.zeros(0, dtype=np.int64), np.zeros(0)
        ev = self.entry_event[sel]
        factor = self.cases[ev] * time_factor(
            self.start_s[ev], self.end_s[ev], t0_s, t1_s, params=self.params
        )
        contrib = self.entry_weight[sel] * factor
        nz = contrib > 0
        return float(contrib.sum()), ev[nz].astype(np.int64), contrib[nz]


def _check_event(e: ExposureEvent) -> None:
    if not (math.isfinite(e.lat) and math.isfinite(e.lon)):
        raise InputError("not a coordinate", source=e.source, field="lat/lon")
    if e.end <= e.start:
        raise InputError(
            f"end {e.end.isoformat()} is not after start {e.start.isoformat()}",
            source=e.source,
            field="end",
        )
    if not math.isfinite(e.radius_m) or e.radius_m < 0:
        raise InputError(f"must be >= 0 m, got {e.radius_m!r}", source=e.source, field="radius_m")
    if e.cases < 0:
        raise InputError(f"must be >= 0, got {e.cases!r}", source=e.source, field="cases")


def retention_end(e: ExposureEvent, retention_days: float = 14.0) -> datetime:
    """When a site is deleted: ``retention_days`` after its last contact."""
    return e.end + timedelta(days=retention_days)

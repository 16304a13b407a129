"""Benchmark: the risk engine on the real spring-2020 Seoul data (resolution 10, 58,418 cells).

Run: ``.venv/bin/python -m benchmarks.risk_engine``. Prints absolute times and ratios:
- full grid: every Seoul cell at one time with all layers (crowd, prevalence, exposure sites,
  mobility) recomputed (target ≤ 100 ms); baseline: a straightforward per-cell Python loop over
  the same model (each cell: crowd, prevalence, a loop over every exposure event), timed on a
  sample of cells and scaled to the whole grid;
- one new exposure event applied incrementally (target ≤ 5 ms); baseline: rebuilding the exposure
  neighbourhoods of every event;
- one point assessment in-process (target ≤ 1 ms): the µCoV of one cell (``ucov_per_hour``), and the
  full ``assess`` with drivers and advice; baseline: the per-cell Python loop for that cell;
- cold start: the per-gu/day prevalence table vectorised (``person_risk_ucov_array``) vs the scalar
  ``person_risk_ucov`` loop; the engine's state saved to / loaded from the state cache
  (``ansim.risk.state``) vs building it from the records.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ansim.records import ExposureEvent
from ansim.risk import crowd as crowd_mod
from ansim.risk.engine import RiskEngine
from ansim.risk.exposure import ExposureField, epoch_s, time_factor
from ansim.settings import get_settings
from ansim.sources.ds4c import read_cases, read_patient_route, read_seoul_floating
from ansim.sources.seoul import read_gu_daily_cases, read_living_population
from ansim.timeutil import SEOUL

AT = datetime(2020, 3, 5, 15, tzinfo=SEOUL)


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls (after one warm-up call)."""
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def loop_cell(engine: RiskEngine, row: int, at: datetime) -> float:
    """The same model for one cell, written as a plain Python loop (the baseline)."""
    table, f = engine.table, engine.exposures
    gu = engine.crowd.gu_at(at)
    hour, weekend = crowd_mod.hour_key(at)
    m = crowd_mod.activity_share(hour, weekend)
    g = int(table.gu_index[row])
    w = (1 - m) * engine.weights.residents[row] + m * engine.weights.activity[row]
    people = gu.people[g] * w
    share = min(1.0, engine.footprint_m2 / table.area_m2[row])
    day_row, _ = engine.regions.day_index(at.date())
    a = 0.06
    community = engine.regions.person_risk[day_row, g] * min(people, people * share) * a
    t = epoch_s(at)
    presence = 0.0
    lat, lon = table.lat[row], table.lon[row]
    for i in range(f.size):  # every event: distance, kernel, time factor
        dphi = math.radians(f.lat[i] - lat)
        dl = math.radians(f.lon[i] - lon)
        h = (
            math.sin(dphi / 2) ** 2
            + math.cos(math.radians(lat)) * math.cos(math.radians(f.lat[i])) * math.sin(dl / 2) ** 2
        )
        d = 2 * 6_371_008.8 * math.asin(math.sqrt(h))
        sigma = f.sigma_m[i]
        if d > 3 * sigma:
            continue
        peak = (100.0**2) / (4 * sigma**2)
        tf = float(time_factor([f.start_s[i]], [f.end_s[i]], t, params=f.params)[0])
        presence += f.cases[i] * peak * math.exp(-0.5 * (d / sigma) ** 2) * tf
    load = 0.0
    for i in range(f.size):
        if f.start_s[i] <= t < f.end_s[i] + 86_400 and f.gu_index[i] >= 0:
            load += f.raw_cases[i] * engine.gravity.shares[f.gu_index[i], g]
    return community + (presence + load * w) * share * 1e6 * a


def main() -> None:
    d = get_settings().data_dir
    t0 = time.perf_counter()
    cases = read_gu_daily_cases(d / "cases" / "seoul_gu_covid19_confirmed_20200205_20210630.csv.gz")
    crowd = pd.concat(
        [
            read_living_population(d / "crowd" / "seoul_spop_gu_daily_20180405_20200531.csv.gz"),
            read_seoul_floating(d / "ds4c" / "SeoulFloating.csv.gz"),
        ]
    )
    events = read_patient_route(d / "ds4c" / "PatientRoute.csv.gz") + read_cases(
        d / "ds4c" / "Case.csv.gz"
    )
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = RiskEngine.from_records(cases=cases, exposures=events, crowd=crowd)
    t_build = time.perf_counter() - t0
    n = len(engine.table)
    print(f"data read {t_read:.2f} s; engine built {t_build:.2f} s (cells cached under var/)")
    print(
        f"cells {n:,} (resolution {engine.table.resolution}); exposure events {engine.exposures.size:,}; "
        f"sparse entries {engine.exposures.entry_row.size:,}"
    )

    # 1. full grid
    t_grid = timed(lambda: engine.field(AT), 20)
    t_grid_api = timed(lambda: engine.grid(None, AT), 10)
    rng = np.random.default_rng(0)
    sample = rng.choice(n, 300, replace=False)
    t0 = time.perf_counter()
    loop_vals = [loop_cell(engine, int(r), AT) for r in sample]
    t_loop = (time.perf_counter() - t0) / sample.size * n
    vec = engine.field(AT)["ucov"][sample]
    agree = float(np.max(np.abs(np.asarray(loop_vals) - vec) / np.maximum(vec, 1e-9)))
    print("\nfull Seoul grid, all layers recomputed at one time (target ≤ 100 ms)")
    print(f"  engine.field      {t_grid * 1e3:8.1f} ms")
    print(f"  engine.grid(None) {t_grid_api * 1e3:8.1f} ms  (with bounds and level names)")
    print(
        f"  per-cell loop     {t_loop * 1e3:8.0f} ms  (300 cells timed, scaled to {n:,}; max rel. diff {agree:.1e})"
    )
    print(f"  speed-up          {t_loop / t_grid:8.0f}×")

    # 2. incremental event
    new_events = [
        ExposureEvent(
            "bench",
            f"b{i}",
            37.50 + 0.002 * i,
            126.95 + 0.003 * i,
            start=AT - timedelta(hours=1),
            end=AT + timedelta(hours=1),
        )
        for i in range(30)
    ]
    base_field = engine.exposures
    runs = []
    for e in new_events:
        engine.exposures = base_field
        t0 = time.perf_counter()
        engine.add_exposures([e])
        runs.append(time.perf_counter() - t0)
    engine.exposures = base_field
    engine._row_index = None
    engine._flow_memo = None
    t_inc = statistics.median(runs)
    t_rebuild = timed(
        lambda: ExposureField.build(list(base_field.events), engine.table, base_field.params), 3
    )
    print("\none new exposure event (target ≤ 5 ms)")
    print(f"  add_exposures     {t_inc * 1e3:8.2f} ms")
    print(f"  rebuild all       {t_rebuild * 1e3:8.0f} ms  ({base_field.size:,} events)")
    print(f"  speed-up          {t_rebuild / t_inc:8.0f}×")

    def add_and_grid() -> None:
        engine.add_exposures([new_events[0]])
        engine.field(AT)

    t_inc_grid = timed(add_and_grid, 1)
    engine.exposures = base_field
    print(f"  add + full grid   {t_inc_grid * 1e3:8.1f} ms")

    # 3. point assessment
    row = engine.table.locate(37.5665, 126.9780)
    cell = engine.table.cells[row : row + 1]
    t_point = timed(lambda: engine.ucov_per_hour(cell, AT), 200)
    t_assess = timed(lambda: engine.assess(37.5665, 126.9780, AT), 100)
    t_loop1 = timed(lambda: loop_cell(engine, row, AT), 5)
    print("\none point assessment in-process (target ≤ 1 ms)")
    print(f"  ucov_per_hour(1)  {t_point * 1e3:8.3f} ms")
    print(f"  assess (+explain) {t_assess * 1e3:8.3f} ms")
    print(f"  per-cell loop     {t_loop1 * 1e3:8.1f} ms")
    print(
        f"  speed-up          {t_loop1 / t_point:8.0f}× (ucov_per_hour), {t_loop1 / t_assess:.0f}× (assess)"
    )
    cold_start(engine, cases, crowd, events)


def cold_start(engine: RiskEngine, cases: pd.DataFrame, crowd: pd.DataFrame, events: list) -> None:
    """Prevalence table and state cache: what a cold process pays."""
    import tempfile
    from datetime import date
    from pathlib import Path

    from ansim.risk import state as state_mod
    from ansim.risk.prevalence import person_risk_ucov, person_risk_ucov_array

    r = engine.regions
    week, pop = r.cases_past_week, r.population
    days = np.maximum(
        np.datetime64(r.day0.isoformat(), "D") + np.arange(week.shape[0]),
        np.datetime64("2020-02-03", "D"),
    )
    t_vec = timed(
        lambda: person_risk_ucov_array(
            population=pop[None, :], cases_past_week=week, on=days[:, None], positivity_pct=2.0
        ),
        5,
    )

    def scalar() -> np.ndarray:
        out = np.empty_like(week)
        for i in range(week.shape[0]):
            on = date.fromisoformat(str(days[i]))
            for j in range(week.shape[1]):
                out[i, j] = person_risk_ucov(
                    population=pop[j], cases_past_week=float(week[i, j]), positivity_pct=2.0, on=on
                ).ucov
        return out

    t_scalar = timed(scalar, 1)
    print(f"\ncold start: prevalence table {week.shape[0]} days × {week.shape[1]} gu")
    print(f"  vectorised        {t_vec * 1e3:8.2f} ms")
    print(f"  scalar loop       {t_scalar * 1e3:8.0f} ms  (speed-up {t_scalar / t_vec:.0f}×)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "risk_state" / "engine_bench.npz"
        options = {
            "data_dir": str(get_settings().data_dir),
            "cache_dir": str(get_settings().var_dir),
        }
        t_save = timed(lambda: state_mod.save_engine(engine, path, table_options=options), 2)
        t_load = timed(lambda: state_mod.load_engine(path), 5)
        size = path.stat().st_size
    t_build = timed(lambda: RiskEngine.from_records(cases=cases, exposures=events, crowd=crowd), 1)
    print("cold start: the engine's derived state")
    print(
        f"  state cache load  {t_load * 1e3:8.0f} ms  ({size / 1e6:.1f} MB; save {t_save * 1e3:.0f} ms)"
    )
    print(f"  from_records      {t_build * 1e3:8.0f} ms  (speed-up {t_build / t_load:.0f}×)")


if __name__ == "__main__":
    main()

"""Pings aggregated per second: in-process streaming vs a 2-worker Dask LocalCluster vs naive pandas.

Run: ``.venv/bin/python -m benchmarks.scale_aggregate [--sizes 10m,100m] [--skip-dask-100m]``.

Generates the ping files once under ``var/bench/`` (reused afterwards). Every measurement runs in
a fresh subprocess so its peak memory is its own: reported are the peak RSS of the driver process
(``getrusage``) and the peak summed RSS of the driver and all its descendants (Dask nannies and
workers), sampled every 0.1 s with psutil. The baseline (10M only) is the naive approach: read
the whole file with pandas, compute H3 cells, ``groupby(cell, hour).device_id.nunique()``; its
result is checked against the streaming engine's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from itertools import repeat
from pathlib import Path

import psutil

from ansim.settings import get_settings

SIZES = {"10m": (21_000, 24), "100m": (210_000, 24)}  # devices, hours (20 pings/device/hour)


def _bench_dir() -> Path:
    d = get_settings().var_dir / "bench"
    d.mkdir(parents=True, exist_ok=True)
    return d


class PeakRss:
    """Sample RSS in a background thread: this process, the sum over it and its descendants, and
    the largest single process. (``getrusage`` maxima are not used: Linux carries ``ru_maxrss``
    across ``execve``, so a subprocess would report its parent's peak.)"""

    def __init__(self) -> None:
        self.peak = 0
        self.driver_peak = 0
        self.largest_peak = 0
        self.cpu_s: dict[int, float] = {}
        self.cpu_before_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    rss = p.memory_info().rss
                    cpu = p.cpu_times()
                    self.cpu_s[p.pid] = cpu.user + cpu.system
                except psutil.Error:
                    continue
                total += rss
                self.largest_peak = max(self.largest_peak, rss)
                if p.pid == me.pid:
                    self.driver_peak = max(self.driver_peak, rss)
            self.peak = max(self.peak, total)
            self._stop.wait(0.1)

    def __enter__(self) -> PeakRss:
        cpu = psutil.Process().cpu_times()
        self.cpu_before_s = cpu.user + cpu.system  # imports before the measurement
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _child(mode: str, path: str) -> dict[str, object]:
    from ansim.scale.aggregate import AggregationParams

    params = AggregationParams(resolution=9, period_s=3600, k=10)
    secret = b"benchmark-secret"
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(path).metadata.num_rows
    with PeakRss() as rss:
        started = time.perf_counter()
        if mode == "local":
            from ansim.scale.runners import run_local

            result = run_local([path], params=params, secret=secret)
        elif mode == "dask":
            from ansim.scale.runners import dask_client, run_dask

            t0 = time.perf_counter()
            with dask_client(None, n_workers=2) as client:
                startup_s = time.perf_counter() - t0
                result = run_dask([path], params=params, secret=secret, client=client)
        elif mode == "pandas":
            import h3.api.numpy_int as h3int
            import numpy as np
            import pandas as pd

            frame = pd.read_parquet(path)
            frame["cell"] = np.fromiter(
                map(h3int.latlng_to_cell, frame["lat"].tolist(), frame["lon"].tolist(), repeat(9)),
                dtype=np.uint64,
                count=len(frame),
            )
            frame["period"] = frame["timestamp"].dt.floor("1h")
            counts = frame.groupby(["cell", "period"], observed=True)["device_id"].nunique()
            kept = counts[counts >= params.k]
            result = pd.DataFrame({"devices": kept.to_numpy()})
            result.attrs["check"] = {
                (h3int.int_to_str(int(c)), p.isoformat()): int(v) for (c, p), v in kept.items()
            }
        else:
            raise SystemExit(f"unknown mode {mode}")
        elapsed = time.perf_counter() - started
    out: dict[str, object] = {
        "mode": mode,
        "rows": rows,
        "seconds": elapsed,
        "pings_per_s": rows / elapsed,
        "cells_out": len(result),
        "devices_sum": int(result["devices"].sum()),
        "driver_peak_rss_mib": rss.driver_peak / 2**20,
        "tree_peak_rss_mib": rss.peak / 2**20,
        "largest_process_peak_rss_mib": rss.largest_peak / 2**20,
        # CPU seconds of the driver and its descendants (sampled; robust to other load on the box)
        "cpu_s": sum(rss.cpu_s.values()) - rss.cpu_before_s,
        "pings_per_cpu_s": rows / max(sum(rss.cpu_s.values()) - rss.cpu_before_s, 1e-9),
    }
    if mode == "dask":
        out["cluster_start_s"] = startup_s
    if mode == "local":
        check = {
            (c, p.isoformat()): int(v)
            for c, p, v in zip(
                result["cell"], result["period_start"], result["devices"], strict=True
            )
        }
        Path(path + ".local-check.json").write_text(json.dumps(sorted(check.items())))
    if mode == "pandas":
        local = Path(path + ".local-check.json")
        if local.exists():
            ours = {(c, p): v for (c, p), v in json.loads(local.read_text())}
            out["matches_local"] = ours == result.attrs["check"]
    return out


def _measure(mode: str, path: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale_aggregate", "--child", mode, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} on {path} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ensure(size: str) -> tuple[Path, float | None]:
    devices, hours = SIZES[size]
    path = _bench_dir() / f"pings_{size}_seed1.parquet"
    if path.exists():
        return path, None
    started = time.perf_counter()
    # In a subprocess, through the CLI, so this driver stays small.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ansim.cli",
            "generate-pings",
            "--devices",
            str(devices),
            "--hours",
            str(hours),
            "--seed",
            "1",
            "--out",
            str(path),
        ],
        check=True,
    )
    return path, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="10m,100m")
    parser.add_argument("--modes", default="local,dask")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    rows: list[dict[str, object]] = []
    for size in args.sizes.split(","):
        path, gen_s = _ensure(size)
        if gen_s is not None:
            print(f"generated {path} in {gen_s:.1f} s", flush=True)
        modes = args.modes.split(",")
        if size == "10m" and not args.no_baseline:
            modes = [*modes, "pandas"]
        for mode in modes:
            r = _measure(mode, path)
            r["size"] = size
            rows.append(r)
            print(json.dumps(r), flush=True)
    print()
    print(
        f"{'size':>5} {'engine':>7} {'pings':>12} {'s':>8} {'pings/s':>11} "
        f"{'driver MiB':>10} {'tree MiB':>9} {'cells':>8}"
    )
    for r in rows:
        print(
            f"{r['size']:>5} {r['mode']:>7} {r['rows']:>12,} {r['seconds']:>8.1f} "
            f"{r['pings_per_s']:>11,.0f} {r['driver_peak_rss_mib']:>10.0f} "
            f"{r['tree_peak_rss_mib']:>9.0f} {r['cells_out']:>8}"
        )
    base = next((r for r in rows if r["mode"] == "pandas"), None)
    if base:
        for r in rows:
            if r["size"] == "10m" and r["mode"] != "pandas":
                print(
                    f"10m {r['mode']} vs pandas baseline: {float(r['pings_per_s']) / float(base['pings_per_s']):.2f}x "  # type: ignore[arg-type]
                    f"speed, {float(r['tree_peak_rss_mib']) / float(base['tree_peak_rss_mib']):.2f}x memory"  # type: ignore[arg-type]
                )
        print(f"pandas result equals local engine's: {base.get('matches_local')}")


if __name__ == "__main__":
    main()

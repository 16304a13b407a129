"""HTTP load: ``GET /v1/risk`` against a trivial endpoint (``GET /v1/ping``) of the same app, same run.

Starts a real ``ansim serve --workers 2`` on loopback (store: ``ANSIM_DB_URL``, run ``ansim db init``
first), waits until both workers have loaded the risk engine, then drives it from a second process:
a bounded closed loop of ``--connections`` keep-alive HTTP/1.1 connections on asyncio (uvloop), for
``--seconds`` per endpoint after a warm-up. The client is a minimal hand-written HTTP/1.1 reader
(status line, ``Content-Length``, body) so that the load generator costs far less CPU than the
server it measures; every answer's status is checked.

``/v1/risk`` queries cycle through 400 (point, hour) pairs in central Seoul during April-May 2020
(the warm-up visits each once per worker, so the per-(cell, hour) answer cache is warm, as it is for
a busy service). Both endpoints pass the same middleware (access log line, metrics) and the same
rate limiter (the limits are raised for the run). Targets (issue 4): ≥ 2,000 risk requests/s with
p99 ≤ 25 ms, and risk throughput ≥ 0.7 × ping throughput.

Run: ``ANSIM_DB_URL=sqlite:///var/ansim.db .venv/bin/python -m benchmarks.api_load``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from ansim.settings import get_settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def risk_paths(n: int = 400, seed: int = 7) -> list[str]:
    """``/v1/risk`` queries at random points of central Seoul and hours of April-May 2020."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        lat = rng.uniform(37.50, 37.60)
        lon = rng.uniform(126.90, 127.08)
        day = rng.randint(1, 60)
        month, dom = (4, day) if day <= 30 else (5, day - 30)
        at = f"2020-{month:02d}-{dom:02d}T{rng.randint(7, 22):02d}:00"
        out.append("/v1/risk?" + urlencode({"lat": f"{lat:.5f}", "lon": f"{lon:.5f}", "at": at}))
    return out


async def _connection(
    host: str,
    port: int,
    paths: list[str],
    until: float,
    start: int,
    lat_ms: list[float],
    bad: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = start
    try:
        while time.perf_counter() < until:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
                    break
            if length:
                await reader.readexactly(length)
            lat_ms.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                bad.append(status)
    finally:
        writer.close()


async def _drive(host: str, port: int, paths: list[str], seconds: float, connections: int) -> dict:
    lat_ms: list[float] = []
    bad: list[int] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(
        *(_connection(host, port, paths, until, k * 37, lat_ms, bad) for k in range(connections))
    )
    elapsed = time.perf_counter() - started
    lat_ms.sort()
    n = len(lat_ms)
    return {
        "requests": n,
        "seconds": elapsed,
        "rps": n / elapsed,
        "p50_ms": lat_ms[n // 2] if n else float("nan"),
        "p99_ms": lat_ms[min(n - 1, int(n * 0.99))] if n else float("nan"),
        "errors": len(bad),
        "error_statuses": sorted(set(bad))[:5],
    }


def _client_process(host: str, port: int, plan: list, out: mp.Queue) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    results = {}
    for name, paths, seconds, connections in plan:
        results[name] = asyncio.run(_drive(host, port, paths, seconds, connections))
    out.put(results)


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    streak = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); is the store initialised?")
        try:
            ok = httpx.get(base + "/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            ok = False
        streak = streak + 1 if ok else 0
        if streak >= 12:
            return
        time.sleep(0.1 if ok else 0.5)
    raise SystemExit("server not ready in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="ping/risk pairs, alternated")
    args = parser.parse_args()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ANSIM_RATE_LIMIT_PER_IP": "1000000/second",
        "ANSIM_RATE_LIMIT_PER_KEY": "1000000/second",
    }
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ansim.cli",
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.workers),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            t0 = time.perf_counter()
            _wait_ready(base, server)
            ready_s = time.perf_counter() - t0
            paths = risk_paths()
            # warm-up: every (point, hour) once per worker through fresh connections, then a short loop
            with httpx.Client(base_url=base, timeout=30) as c:
                for path in paths:
                    for _ in range(args.workers):
                        with httpx.Client(base_url=base, timeout=30) as fresh:
                            r = fresh.get(path)
                            if r.status_code != 200:
                                raise SystemExit(f"{path} -> {r.status_code} {r.text[:200]}")
                c.get("/v1/ping")
            plan: list = [("warmup", paths, 2.0, args.connections)]
            for i in range(args.rounds):
                plan += [
                    (f"ping#{i}", ["/v1/ping"], args.seconds, args.connections),
                    (f"risk#{i}", paths, args.seconds, args.connections),
                ]
            ctx = mp.get_context("spawn")
            out: mp.Queue = ctx.Queue()
            load_before = os.getloadavg()
            client = ctx.Process(target=_client_process, args=("127.0.0.1", port, plan, out))
            client.start()
            results = out.get(timeout=args.seconds * len(plan) * 4 + 120)
            client.join()
            load_after = os.getloadavg()
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()

    def merged(prefix: str) -> dict:
        runs = [v for k, v in results.items() if k.startswith(prefix + "#")]
        n = sum(r["requests"] for r in runs)
        secs = sum(r["seconds"] for r in runs)
        return {
            "requests": n,
            "rps": n / secs,
            "p50_ms": max(r["p50_ms"] for r in runs),
            "p99_ms": max(r["p99_ms"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
        }

    ping, risk = merged("ping"), merged("risk")
    ratio = risk["rps"] / ping["rps"]
    print(f"store: {get_settings().db_url}")
    print(
        f"server: ansim serve --workers {args.workers} (ready in {ready_s:.1f} s); client: 1 process, "
        f"{args.connections} keep-alive connections, {args.seconds:g} s × {args.rounds} rounds per endpoint"
    )
    print(
        f"cores: {os.cpu_count()}; load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)"
    )
    for name, fig in (("GET /v1/ping (baseline)", ping), ("GET /v1/risk", risk)):
        print(
            f"{name:<24} {fig['rps']:8,.0f} req/s   p50 {fig['p50_ms']:6.2f} ms   p99 {fig['p99_ms']:6.2f} ms   "
            f"({fig['requests']:,} requests, {fig['errors']} errors)"
        )
    print(f"risk / ping throughput: {ratio:.2f} (target ≥ 0.70)")
    print(
        f"targets: risk ≥ 2,000 req/s: {'met' if risk['rps'] >= 2000 else 'NOT met'}; "
        f"p99 ≤ 25 ms: {'met' if risk['p99_ms'] <= 25 else 'NOT met'}; "
        f"ratio ≥ 0.7: {'met' if ratio >= 0.7 else 'NOT met'}"
    )
    print(
        json.dumps({"ping": ping, "risk": risk, "ratio": ratio, "rounds": results}, default=float)
    )


if __name__ == "__main__":
    main()

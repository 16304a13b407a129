"""Web map page weight and first render on loopback, against a blank page served by the same app.

Starts ``ansim serve`` on a free port (store: ``ANSIM_DB_URL``, default ``var/ansim.db``; run
``ansim db init`` first), then loads each page ``--runs`` times in headless Debian Chromium with a
fresh profile (cold cache) and reports:

- bytes on the wire (gzip as sent) and decoded, per kind (HTML, JS, CSS, GeoJSON/JSON, other);
- first contentful paint, DOMContentLoaded, load, and "map ready": the time until the page has
  drawn its risk hexagons (``body[data-ready=true]`` and ``cellsDrawn > 0``).

    .venv/bin/python -m benchmarks.web_page [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def kind_of(url: str, content_type: str) -> str:
    if "html" in content_type:
        return "html"
    if "javascript" in content_type:
        return "js"
    if "css" in content_type:
        return "css"
    if "json" in content_type or url.endswith(".geojson"):
        return "json"
    return "other"


def load_once(pw: Any, url: str, *, map_page: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=ARGS, viewport={"width": 1280, "height": 800}
        )
        page = context.new_page()
        sizes: dict[str, list[int]] = {}
        done: list[Any] = []

        def on_finished(request: Any) -> None:
            done.append(request)

        page.on("requestfinished", on_finished)
        t0 = time.perf_counter()
        page.goto(url, wait_until="load")
        if map_page:
            page.wait_for_function(
                "document.body.dataset.ready === 'true' && window.ansim.state.cellsDrawn > 0",
                timeout=60_000,
            )
        ready_ms = (time.perf_counter() - t0) * 1000
        timing = page.evaluate(
            """() => {
              const nav = performance.getEntriesByType('navigation')[0];
              const fcp = performance.getEntriesByName('first-contentful-paint')[0];
              return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
                      fcp: fcp ? fcp.startTime : null};
            }"""
        )
        for request in done:
            if request.url.startswith(url.rsplit("/", 1)[0]) and "/v1/events" not in request.url:
                response = request.response()
                if response is None:
                    continue
                wire = request.sizes()["responseBodySize"]
                decoded = len(response.body())
                kind = kind_of(request.url, response.headers.get("content-type", ""))
                sizes.setdefault(kind, [0, 0])
                sizes[kind][0] += wire
                sizes[kind][1] += decoded
        context.close()
    return {"ready_ms": ready_ms, **timing, "sizes": sizes, "requests": len(done)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ANSIM_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ansim.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise SystemExit("ansim serve was not ready in 120 s (did you run `ansim db init`?)")
        with sync_playwright() as pw:
            load_once(pw, base + "/", map_page=True)  # warm the server's caches (basemap, cells)
            results = {
                "blank": [
                    load_once(pw, base + "/web/static/blank.html", map_page=False)
                    for _ in range(args.runs)
                ],
                "map": [load_once(pw, base + "/", map_page=True) for _ in range(args.runs)],
            }
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    print(
        f"Loopback, headless Chromium, cold browser cache, warm server, {args.runs} runs (median)"
    )
    med: dict[str, dict[str, float]] = {}
    for name, runs in results.items():
        med[name] = {
            key: statistics.median(r[key] for r in runs if r[key] is not None)
            for key in ("fcp", "dcl", "load", "ready_ms")
            if any(r[key] is not None for r in runs)
        }
        sizes = runs[-1]["sizes"]
        wire = sum(v[0] for v in sizes.values())
        decoded = sum(v[1] for v in sizes.values())
        print(
            f"\n{name}: {runs[-1]['requests']} requests, {wire / 1024:,.1f} KiB on the wire, {decoded / 1024:,.1f} KiB decoded"
        )
        for kind, (w, d) in sorted(sizes.items()):
            print(f"  {kind:6s} {w / 1024:9,.1f} KiB wire {d / 1024:9,.1f} KiB decoded")
        print("  " + ", ".join(f"{k} {v:,.0f} ms" for k, v in med[name].items()))
    for key in ("fcp", "load"):
        if key in med["blank"] and key in med["map"] and med["blank"][key] > 0:
            print(f"ratio map/blank {key}: {med['map'][key] / med['blank'][key]:.1f}×")
    print(
        f"map ready (hexagons drawn) vs blank load: {med['map']['ready_ms'] / med['blank']['ready_ms']:.1f}×"
    )


if __name__ == "__main__":
    main()

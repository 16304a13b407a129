"""Real ``ansim serve`` processes on loopback, and SSE listeners, for the end-to-end tests."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

SseEvents = queue.Queue[tuple[float, str, str]]
"""(monotonic time received, event name, data) of every ``data:`` line of a stream."""


def serve_env(db_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of a test server: its store and var dir, a fresh subscription key, and rate
    limits no test reaches."""
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "ANSIM_DB_URL": db_url,
        "ANSIM_VAR_DIR": str(var_dir),
        "ANSIM_SUBSCRIPTION_KEY": Fernet.generate_key().decode(),
        "ANSIM_RATE_LIMIT_PER_IP": "100000/minute",
        "ANSIM_RATE_LIMIT_PER_KEY": "100000/minute",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(
    env: dict[str, str],
    log: Path,
    *,
    workers: int = 1,
    ready_streak: int = 1,
    timeout_s: float = 240,
) -> tuple[str, subprocess.Popen[bytes]]:
    """``ansim serve`` on a free port, output to ``log``; returns once ``/readyz`` has answered 200
    on ``ready_streak`` fresh connections in a row (with several workers, enough to reach them all).
    The process is killed if it does not get ready."""
    port = free_port()
    command = [sys.executable, "-m", "ansim.cli", "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc, log, ready_streak=ready_streak, timeout_s=timeout_s)
    except BaseException:
        stop_serve(proc)
        raise
    return base, proc


def _wait_ready(
    base: str, proc: subprocess.Popen[bytes], log: Path, *, ready_streak: int, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    streak = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with httpx.Client(timeout=5) as c:
                ok = c.get(base + "/readyz").status_code == 200
        except httpx.HTTPError:
            ok = False
        streak = streak + 1 if ok else 0
        if streak >= ready_streak:
            return
        time.sleep(0.1 if ok else 0.3)
    raise TimeoutError(f"{base} not ready within {timeout_s:.0f} s")


def stop_serve(*procs: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill what has not exited within 30 s."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def listen_sse(
    url: str, *, headers: dict[str, str] | None = None, params: dict[str, str] | None = None
) -> tuple[SseEvents, threading.Event]:
    """Follow an event stream in a daemon thread; returns its events and a stop flag (checked after
    each line). An HTTP error after the flag is set (the server stopping) ends the thread quietly."""
    events: SseEvents = queue.Queue()
    stop = threading.Event()

    def listen() -> None:
        try:
            with httpx.stream(
                "GET",
                url,
                headers={"Accept": "text/event-stream", **(headers or {})},
                params=params,
                timeout=None,
            ) as stream:
                kind = ""
                for line in stream.iter_lines():
                    if line.startswith("event:"):
                        kind = line.split(":", 1)[1].strip()
                    elif line.startswith("data:"):
                        events.put((time.monotonic(), kind, line.split(":", 1)[1].strip()))
                    if stop.is_set():
                        return
        except httpx.HTTPError:
            if not stop.is_set():
                raise

    threading.Thread(target=listen, daemon=True).start()
    return events, stop

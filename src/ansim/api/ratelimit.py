"""Per-key and per-address rate limits: an in-memory moving window per identity.

Limits are written as the ``limits`` package spells them (``600/minute``, ``100/second``) and parsed
by it. The window itself is a deque of request times per identity: a request is allowed when fewer
than ``amount`` requests fall in the last ``window`` seconds (a true moving window, no bursts at
window edges). ``limits``' own ``MemoryStorage`` does the same but schedules a timer thread for
expiry, which cost about 1 ms per request under load in ``benchmarks.api_load``; this costs ~1 µs.
Counters are per worker process.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from limits import parse as parse_limit


class MovingWindow:
    """``hit(identity)`` → None when allowed, else seconds until a slot frees (for ``Retry-After``)."""

    def __init__(self, spec: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        item = parse_limit(spec)
        self.amount = int(item.amount)
        self.window_s = float(item.get_expiry())
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def hit(self, identity: str) -> float | None:
        now = self.clock()
        start = now - self.window_s
        with self._lock:
            self._calls += 1
            if self._calls % 10_000 == 0:
                self._forget_idle(start)
            times = self._hits.get(identity)
            if times is None:
                times = self._hits[identity] = deque()
            while times and times[0] <= start:
                times.popleft()
            if len(times) >= self.amount:
                return max(1.0, float(math.ceil(times[0] + self.window_s - now)))
            times.append(now)
            return None

    def _forget_idle(self, start: float) -> None:
        for identity in [k for k, v in self._hits.items() if not v or v[-1] <= start]:
            del self._hits[identity]

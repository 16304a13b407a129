"""Prometheus metrics in the text exposition format (version 0.0.4), written by hand.

``prometheus-client`` is not a dependency; the few series the API keeps fit in a small class.
Series are per worker process (label ``worker`` = its pid): scrape each worker, or sum them.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Callable

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _labels(pairs: dict[str, str]) -> str:
    if not pairs:
        return ""
    body = ",".join(
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(10), " ").replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs.items()
    )
    return "{" + body + "}"


class Metrics:
    """Request counts and latency histograms per (method, route, status), plus named counters and gauges."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], list[float]] = {}
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.help: dict[str, str] = {}
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}
        self.worker = str(os.getpid())

    def observe_request(self, method: str, route: str, status: int, duration_s: float) -> None:
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            h = self.latency.get((method, route))
            if h is None:
                # per bucket counts, then sum and count
                h = self.latency[(method, route)] = [0.0] * (len(LATENCY_BUCKETS_S) + 2)
            for i, edge in enumerate(LATENCY_BUCKETS_S):
                if duration_s <= edge:
                    h[i] += 1
                    break
            h[-2] += duration_s
            h[-1] += 1

    def inc(self, name: str, help_text: str, value: float = 1.0, **labels: str) -> None:
        with self._lock:
            self.help[name] = help_text
            self.counters[(name, tuple(sorted(labels.items())))] += value

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self.gauges[name] = (help_text, read)

    def render(self) -> str:
        """The exposition text."""
        w = {"worker": self.worker}
        out: list[str] = []
        with self._lock:
            out += [
                "# HELP ansim_http_requests_total HTTP requests answered, by method, route and status.",
                "# TYPE ansim_http_requests_total counter",
            ]
            for (method, route, status), total in sorted(self.requests.items()):
                text = _labels({**w, "method": method, "route": route, "status": status})
                out.append(f"ansim_http_requests_total{text} {total}")
            out += [
                "# HELP ansim_http_request_duration_seconds Time to answer, by method and route.",
                "# TYPE ansim_http_request_duration_seconds histogram",
            ]
            for (method, route), h in sorted(self.latency.items()):
                base = {**w, "method": method, "route": route}
                cumulative = 0.0
                for edge, count in zip(LATENCY_BUCKETS_S, h, strict=False):
                    cumulative += count
                    out.append(
                        f"ansim_http_request_duration_seconds_bucket{_labels({**base, 'le': repr(edge)})} {cumulative:g}"
                    )
                out.append(
                    f"ansim_http_request_duration_seconds_bucket{_labels({**base, 'le': '+Inf'})} {h[-1]:g}"
                )
                out.append(f"ansim_http_request_duration_seconds_sum{_labels(base)} {h[-2]:.6f}")
                out.append(f"ansim_http_request_duration_seconds_count{_labels(base)} {h[-1]:g}")
            names = sorted({name for name, _ in self.counters})
            for name in names:
                out += [f"# HELP {name} {self.help[name]}", f"# TYPE {name} counter"]
                for (counter, pairs), v in sorted(self.counters.items()):
                    if counter == name:
                        out.append(f"{name}{_labels({**w, **dict(pairs)})} {v:g}")
        for name, (help_text, read) in sorted(self.gauges.items()):
            try:
                value = float(read())
            except Exception:  # a gauge that cannot be read is left out, not an error page
                continue
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            out.append(f"{name}{_labels(w)} {value:g}")
        return "\n".join(out) + "\n"

"""A pure ASGI middleware: access log line and metrics per request (cheap: no body buffering)."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ansim.api.logs import log_access
from ansim.api.metrics import Metrics

UNMATCHED = "<unmatched>"


class AccessMiddleware:
    """Logs (see :mod:`ansim.api.logs`) and counts every HTTP request by route template."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        size = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            state = scope.get("state") or {}
            self.metrics.observe_request(
                scope["method"], template, status, time.perf_counter() - started
            )
            log_access(
                method=scope["method"],
                route=template,
                status=status,
                started=started,
                size=size,
                key_id=state.get("key_id"),
            )

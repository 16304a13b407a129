"""``ansim serve``: the HTTP API under uvicorn (JSON log lines, no raw access log)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the CLI."""

    @app.command("serve")
    def serve(
        host: Annotated[
            str | None, typer.Option(help="Interface (default settings.host, 127.0.0.1).")
        ] = None,
        port: Annotated[int | None, typer.Option(help="Port (default ANSIM_PORT, 8000).")] = None,
        workers: Annotated[
            int | None,
            typer.Option(
                help="Worker processes (default ANSIM_WORKERS, 1); each loads the engine."
            ),
        ] = None,
        log_level: Annotated[
            str | None, typer.Option(help="debug, info, warning (default ANSIM_LOG_LEVEL).")
        ] = None,
    ) -> None:
        """Serve the API (``/v1``, docs at ``/docs``) on the store at ANSIM_DB_URL.

        Every worker loads the risk engine from the store at startup (``/readyz`` says when) and
        follows new batches; logs are JSON lines on stderr, without coordinates or query strings.
        """
        import uvicorn

        from ansim.api.logs import uvicorn_log_config
        from ansim.settings import get_settings

        settings = get_settings()
        level = (log_level or settings.log_level).lower()
        # Fill numba's disk cache once here, so no worker compiles on its first route request.
        from ansim.routing.cch import warm_up

        warm_up()
        uvicorn.run(
            "ansim.api.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers or settings.workers,
            log_level=level,
            log_config=uvicorn_log_config(level),
            access_log=False,
            server_header=False,
            proxy_headers=False,
        )

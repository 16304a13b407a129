"""``ansim serve``: the HTTP API under uvicorn."""

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
            int | None, typer.Option(help="Worker processes (default settings.workers).")
        ] = None,
    ) -> None:
        """Serve the API (``/healthz``, docs at ``/docs``) on the store at ANSIM_DB_URL."""
        import uvicorn

        from ansim.settings import get_settings

        settings = get_settings()
        uvicorn.run(
            "ansim.api.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers or settings.workers,
            log_level=settings.log_level,
        )

"""Store commands: ``ansim db …`` and ``ansim ingest``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the store commands to the CLI."""
    db = typer.Typer(help="The embedded store: create, migrate, load the bundled data, count.")
    app.add_typer(db, name="db")

    @db.command("version")
    def version() -> None:
        """Print the Ansim version."""
        from ansim import __version__

        typer.echo(__version__)

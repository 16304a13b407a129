"""Store commands: ``ansim db …`` and ``ansim ingest SOURCE FILE``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

# Above this many records a load shows a progress bar (on a terminal).
PROGRESS_MIN_ROWS = 10_000


def _sources_help() -> str:
    from ansim.store.catalog import CATALOG

    lines = [f"{name:<20} {description}" for name, (description, _) in CATALOG.items()]
    return "SOURCE names the file format:\n\n" + "\n\n".join(lines)


def _report(console: Console, result: object) -> None:
    from ansim.store.ingest import IngestResult

    assert isinstance(result, IngestResult)
    if result.already_loaded:
        console.print(
            f"{result.source}: {result.file_name} already loaded (batch {result.batch_id}), nothing written"
        )
        return
    skipped = f", {result.rows_skipped} skipped" if result.rows_skipped else ""
    console.print(
        f"{result.source}: {result.file_name} → {result.table}: {result.rows_accepted} rows "
        f"({result.rows_new} new{skipped}), batch {result.batch_id}"
    )


def register(app: typer.Typer) -> None:
    """Add the store commands to the CLI."""
    db = typer.Typer(
        help="The embedded store: create, migrate, load the bundled data, count.",
        no_args_is_help=True,
    )
    app.add_typer(db, name="db")

    @db.command("version")
    def version() -> None:
        """Print the Ansim version."""
        from ansim import __version__

        typer.echo(__version__)

    @db.command("upgrade")
    def upgrade(
        revision: Annotated[str, typer.Argument(help="Target Alembic revision.")] = "head",
    ) -> None:
        """Create or migrate the store schema (Alembic) without loading data."""
        from ansim.store.db import make_engine
        from ansim.store.db import upgrade as run_upgrade

        engine = make_engine()
        before, after = run_upgrade(engine, revision)
        typer.echo(
            f"schema: {before or 'empty'} → {after}"
            if before != after
            else f"schema: at {after}, nothing to do"
        )

    @db.command("init")
    def init(
        data_dir: Annotated[
            Path | None,
            typer.Option(help="Bundled dataset directory (default: settings.data_dir)."),
        ] = None,
    ) -> None:
        """Create/migrate the store and load the bundled Seoul dataset (files not loaded yet only)."""
        from ansim.store.bundled import load_bundled
        from ansim.store.db import make_engine
        from ansim.store.db import upgrade as run_upgrade
        from ansim.store.queries import table_counts

        console = Console()
        started = time.perf_counter()
        engine = make_engine()
        before, after = run_upgrade(engine)
        console.print(
            f"schema: {before or 'empty'} → {after}" if before != after else f"schema: at {after}"
        )
        results = load_bundled(engine, data_dir=data_dir, on_file=lambda r: None)
        loaded = [r for r in results if not r.already_loaded]
        for r in loaded:
            _report(console, r)
        if not loaded:
            console.print(f"bundled data: all {len(results)} files already loaded, nothing to do")
        counts = table_counts(engine)
        console.print(
            "store: "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items())
            + f" ({time.perf_counter() - started:.1f} s)"
        )

    @db.command("stats")
    def stats(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON {table: rows}.")] = False,
    ) -> None:
        """Rows per table."""
        from ansim.store.db import make_engine
        from ansim.store.queries import table_counts

        counts = table_counts(make_engine())
        if as_json:
            typer.echo(json.dumps(counts))
            return
        table = Table("table", "rows")
        for name, n in counts.items():
            table.add_row(name, f"{n:,}")
        Console().print(table)

    @app.command(
        "ingest",
        help="Load one file into the store: every row is validated first, then one "
        "transaction; re-loading the same or overlapping data changes no count.\n\n"
        + _sources_help(),
    )
    def ingest(
        source: Annotated[
            str, typer.Argument(help="File format (see the list above).", show_default=False)
        ],
        file: Annotated[
            Path, typer.Argument(help="The file (plain or .gz; UTF-8, UTF-8-BOM or CP949).")
        ],
    ) -> None:
        from ansim.errors import InputError
        from ansim.store.db import make_engine
        from ansim.store.db import upgrade as run_upgrade
        from ansim.store.formats import FORMATS, load_file

        if source not in FORMATS:
            raise InputError(f"unknown source; one of: {', '.join(FORMATS)}", field="SOURCE")
        if not file.is_file():
            raise InputError("no such file", source=str(file))
        engine = make_engine()
        run_upgrade(engine)
        console = Console(stderr=True)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,} rows"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task(f"writing {file.name}", total=0, visible=False)

            def on_read(n: int) -> None:
                progress.update(task, total=n, completed=0, visible=n >= PROGRESS_MIN_ROWS)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = load_file(engine, source, file, on_progress=on_progress, on_read=on_read)
        _report(Console(), result)

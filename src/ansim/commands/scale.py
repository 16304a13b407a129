"""Scale-out commands: ``ansim aggregate`` (pings → distinct devices per cell) and ``ansim generate-pings``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ansim.errors import InputError

if TYPE_CHECKING:  # pandas is imported lazily so that ``ansim --help`` stays fast
    import pandas as pd


def _write_result(frame: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    name = out.name.lower()
    if name.endswith(".parquet"):
        frame.to_parquet(out, index=False)
    elif name.endswith(".csv"):
        text = frame.assign(period_start=frame["period_start"].map(lambda t: t.isoformat()))
        text.to_csv(out, index=False)
    else:
        raise InputError("output must end in .csv or .parquet", field="--out")


def crowd_records(frame: pd.DataFrame, *, period_s: int) -> pd.DataFrame:
    """The aggregate as crowd observations (``CROWD_COLUMNS``): area ``h3:<cell>``, source ``pings``."""
    import pandas as pd

    from ansim.records import CROWD_COLUMNS

    return pd.DataFrame(
        {
            "area": "h3:" + frame["cell"].astype(str),
            "period_start": frame["period_start"],
            "period_s": period_s,
            "count": frame["devices"].astype(float),
            "source": "pings",
        }
    )[list(CROWD_COLUMNS)]


def _ingest(frame: pd.DataFrame, *, period_s: int, checksum: str, file_name: str) -> str:
    """Load the aggregate into the store (migrating it first); return a one-line summary."""
    from ansim.store.db import make_engine, upgrade
    from ansim.store.ingest import ingest

    engine = make_engine()
    upgrade(engine)
    records = crowd_records(frame, period_s=period_s)
    result = ingest(engine, source="pings", records=records, checksum=checksum, file_name=file_name)
    if result.already_loaded:
        return "already loaded (same result file): nothing written"
    return (
        f"ingested {result.rows_accepted} crowd observations ({result.rows_new} new), source pings"
    )


def register(app: typer.Typer) -> None:
    """Add the scale-out commands to the CLI."""

    @app.command("aggregate")
    def aggregate(
        files: Annotated[list[Path], typer.Argument(help="Ping files (.parquet or .csv[.gz]).")],
        out: Annotated[Path, typer.Option("--out", help="Output OUT.csv or OUT.parquet.")],
        engine: Annotated[
            str, typer.Option(help="local (in-process, streaming) or dask.")
        ] = "local",
        scheduler: Annotated[
            str | None,
            typer.Option(help="Dask scheduler address (tcp://HOST:8786); default: a LocalCluster."),
        ] = None,
        resolution: Annotated[int, typer.Option(help="H3 resolution.")] = 9,
        period: Annotated[
            str, typer.Option(help="Period: 1h or 10min (Seoul-local boundaries).")
        ] = "1h",
        k: Annotated[
            int, typer.Option(help="Suppress cells seen by fewer than k distinct devices.")
        ] = 10,
        ingest: Annotated[
            bool, typer.Option("--ingest", help="Also load the result into the store.")
        ] = False,
    ) -> None:
        """Distinct devices per H3 cell and period from location pings (columns cell, period_start, devices)."""
        import hashlib
        import time

        from ansim.scale.aggregate import AggregationParams, parse_period
        from ansim.scale.runners import ping_secret, run

        if engine not in ("local", "dask"):
            raise InputError(f"unknown engine {engine!r}: use local or dask", field="--engine")
        if not out.name.lower().endswith((".csv", ".parquet")):
            raise InputError("output must end in .csv or .parquet", field="--out")
        params = AggregationParams(resolution=resolution, period_s=parse_period(period), k=k)
        started = time.perf_counter()
        frame = run(
            files,
            engine="dask" if engine == "dask" else "local",
            params=params,
            secret=ping_secret(),
            scheduler=scheduler,
        )
        _write_result(frame, out)
        elapsed = time.perf_counter() - started
        typer.echo(
            f"{len(frame)} (cell, period) rows with >= {k} devices -> {out} ({elapsed:.1f} s, {engine})"
        )
        if ingest:
            digest = hashlib.sha256(out.read_bytes()).hexdigest()
            typer.echo(
                _ingest(frame, period_s=params.period_s, checksum=digest, file_name=out.name)
            )

    @app.command("generate-pings")
    def generate_pings(
        devices: Annotated[int, typer.Option(help="Number of devices.")],
        hours: Annotated[int, typer.Option(help="Hours of pings from --start.")],
        out: Annotated[Path, typer.Option("--out", help="Output FILE.parquet.")],
        seed: Annotated[
            int, typer.Option(help="Random seed: the same seed gives the same file.")
        ] = 0,
        start: Annotated[
            str,
            typer.Option(help="First hour (naive = Asia/Seoul); default inside the floating data."),
        ] = "2020-02-03T00:00",
    ) -> None:
        """Synthetic pings following Seoul's floating population by gu and hour (Parquet)."""
        import time

        from ansim.scale.generate import write_pings
        from ansim.timeutil import parse_datetime

        if not out.name.lower().endswith(".parquet"):
            raise InputError("output must end in .parquet", field="--out")
        try:
            first: datetime = parse_datetime(start)
        except ValueError as exc:
            raise InputError(str(exc), field="--start") from None
        started = time.perf_counter()
        n = write_pings(out, devices=devices, hours=hours, seed=seed, start=first)
        typer.echo(
            f"{n} pings of {devices} devices -> {out} ({time.perf_counter() - started:.1f} s)"
        )

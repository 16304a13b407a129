"""Disaster-message commands: ``ansim parse-alert TEXT`` and ``ansim alerts stats [FILE]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DUMP = Path("alerts") / "mois_seoul_gu_disaster_messages_20200126_20210131.csv.gz"


def register(app: typer.Typer) -> None:
    """Add the alert commands to the CLI."""

    @app.command("parse-alert")
    def parse_alert(
        text: Annotated[
            str, typer.Argument(help="The message text, e.g. '[강남구청] 3.14(일) …'.")
        ],
        sent_at: Annotated[
            str, typer.Option("--sent-at", help="Send time (ISO 8601; naive = Seoul).")
        ],
        issuer: Annotated[
            str | None, typer.Option(help="Sender, when the text has no leading [○○구청].")
        ] = None,
        region: Annotated[
            str, typer.Option(help="Receiving region, e.g. '경상북도 포항시' (non-Seoul senders).")
        ] = "",
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Parse one 재난문자: kind, issuer and every (place, time window) with its location."""
        from ansim.alerts.parser import parse_message
        from ansim.errors import InputError
        from ansim.timeutil import parse_datetime

        try:
            when = parse_datetime(sent_at)
        except ValueError as exc:
            raise InputError(str(exc), source="parse-alert", field="--sent-at") from None
        parsed = parse_message(text, sent_at=when, issuer=issuer, region=region)
        out = parsed.as_json()
        if as_json:
            typer.echo(json.dumps(out, ensure_ascii=False))
            return
        typer.echo(f"kind: {out['kind']}  issuer: {out['issuer'] or '-'}")
        for v in out["visits"]:
            typer.echo(
                f"  {v['place_name']} [{v['address'] or '-'}] {v['district']}  {v['start']} → {v['end']}"
                f"  ({v['precision']}, ±{v['radius_m']:.0f} m)"
            )

    alerts = typer.Typer(help="Public disaster messages (재난문자).", no_args_is_help=True)
    app.add_typer(alerts, name="alerts")

    @alerts.command("stats")
    def stats(
        file: Annotated[
            Path | None,
            typer.Argument(
                help="A dump (MOIS Seoul or nationwide crawl); default: the bundled Seoul dump."
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Parse a whole dump: share per kind, visits, geocoding precision shares, parse time."""
        from ansim.alerts.sources import read_messages
        from ansim.alerts.stats import dump_stats
        from ansim.errors import InputError
        from ansim.settings import get_settings

        path = file or get_settings().data_dir / DEFAULT_DUMP
        if not path.exists():
            raise InputError("file not found", source=str(path))
        result = dump_stats(read_messages(path))
        result["file"] = path.name
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False))
            return
        for key, value in result.items():
            typer.echo(f"{key}: {value}")

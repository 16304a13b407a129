"""Plans command: ``ansim check-plans FILE.ics|FILE.json [--json]`` (advance warnings, nothing kept)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ansim.errors import InputError


def _time_option(value: str | None, field: str) -> datetime | None:
    from ansim.timeutil import parse_datetime

    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise InputError(str(exc), field=field) from None


def _text_report(answer: dict[str, Any]) -> str:
    lines = []
    for p in answer["plans"]:
        when = p["start"][:16].replace("T", " ")
        mark = "!" if p["warning"] else " "
        if p["status"] != "checked":
            lines.append(f"{mark} {when}  {p['title']}: cannot check ({p['reason']})")
            continue
        lines.append(
            f"{mark} {when}  {p['title']}: {p['ucov']['value']:,.1f} µCoV, {p['level']} ({p['level_ko']})"
        )
        for d in p["drivers"][:2]:
            lines.append(f"      why: {d['reason_en']}")
        for a in p["alternatives"][:3]:
            lines.append(f"      try: {a['text_en']} (saves {a['ucov_saved']:,.1f} µCoV)")
    budget = answer["budget"]
    lines.append(
        f"weekly budget {budget['weekly_ucov']:,.0f} µCoV (yearly {budget['yearly_ucov']:,.0f} / 50)"
    )
    for w in answer["weeks"]:
        note = f", {w['unchecked']} not checked" if w["unchecked"] else ""
        lines.append(
            f"  {w['week']}: {w['ucov']:,.1f} µCoV = {w['budget_share']:.0%} of the week's budget{note}"
        )
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add ``check-plans`` to the CLI."""

    @app.command("check-plans")
    def check_plans_command(
        path: Annotated[
            Path, typer.Argument(help="An iCalendar (.ics) file or a JSON list of plans.")
        ],
        as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
        start: Annotated[
            str | None,
            typer.Option(
                "--from",
                help="Window start for recurring events (naive = Seoul); default: the first event.",
            ),
        ] = None,
        end: Annotated[
            str | None,
            typer.Option(
                "--to", help="Window end; default: the last one-off event, at least 7 days."
            ),
        ] = None,
        now: Annotated[
            str | None,
            typer.Option(
                "--now", help="Skip plans over before this time (default: check all, for replays)."
            ),
        ] = None,
        budget: Annotated[
            float | None,
            typer.Option(
                "--budget", help="Yearly budget in µCoV (default 10,000; weekly = yearly / 50)."
            ),
        ] = None,
        presets_file: Annotated[
            Path | None,
            typer.Option(
                "--presets", help="JSON file overriding activity presets (see docs/plans.md)."
            ),
        ] = None,
        routes: Annotated[
            bool,
            typer.Option(
                "--routes/--no-routes",
                help="Look for safer routes for plans with an origin (loads the bundled street networks).",
            ),
        ] = True,
    ) -> None:
        """Check the plans of a calendar or JSON file: risk, drivers, alternatives, weekly budget."""
        from ansim.plans.ical import read_plans

        window_start = _time_option(start, "from")
        window_end = _time_option(end, "to")
        if (window_start is None) != (window_end is None):
            raise InputError("give both --from and --to, or neither", field="from")
        window = (window_start, window_end) if window_start and window_end else None
        plans, _ = read_plans(path, window=window)
        # the rest imports numpy, pandas, the engine: bad input fails before, in a fraction of a second
        from ansim.plans.check import bundled_route_planner, check_plans, validate_activities
        from ansim.plans.presets import DEFAULT_TABLE, load_presets
        from ansim.risk.engine import RiskEngine
        from ansim.store.db import make_engine

        table = load_presets(presets_file) if presets_file else DEFAULT_TABLE
        validate_activities(plans, table)
        engine = RiskEngine.from_store(make_engine())
        planner = (
            bundled_route_planner(engine)
            if routes and any(p.origin is not None for p in plans)
            else None
        )
        answer = check_plans(
            plans,
            engine,
            now=_time_option(now, "now"),
            presets=table,
            budget_ucov=budget,
            route_planner=planner,
        )
        if as_json:
            import orjson

            typer.echo(orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY).decode())
        else:
            typer.echo(_text_report(answer))

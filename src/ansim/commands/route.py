"""Route command: ``ansim route --from A --to B`` (fastest, balanced and safest routes with exposure).

``--pairs FILE.csv`` routes many pairs (columns ``from``, ``to``, optional ``at`` and ``id``) and prints one
JSON line per pair; a bad row gives ``{"row": n, "error": …}`` on its line and the batch goes on.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ansim.errors import InputError

if TYPE_CHECKING:
    from ansim.routing.fields import RiskField
    from ansim.routing.network import Network
    from ansim.routing.planner import Objective, Routers


def _parse_time(text: str | None, *, field: str, row: int | None = None) -> datetime:
    from ansim.timeutil import now_seoul, parse_datetime

    try:
        return parse_datetime(text) if text else now_seoul()
    except ValueError as exc:
        raise InputError(str(exc), row=row, field=field) from None


def _answer(
    net: Network,
    routers: Routers,
    risk: RiskField,
    origin: str,
    destination: str,
    depart: datetime,
    options: dict[str, Any],
) -> dict[str, Any]:
    from ansim.routing.places import resolve_place
    from ansim.routing.planner import plan_routes

    src = resolve_place(origin, field="from")
    dst = resolve_place(destination, field="to")
    plan = plan_routes(
        net, routers, risk, (src.lat, src.lon), (dst.lat, dst.lon), depart, **options
    )
    answer = plan.to_dict()
    answer["from"] = src.label
    answer["to"] = dst.label
    return answer


def register(app: typer.Typer) -> None:
    """Add ``ansim route`` to the CLI."""

    @app.command("route")
    def route(
        origin: Annotated[
            str | None,
            typer.Option("--from", help="'LAT,LON', a station (강남, 서울역), a gu or a dong."),
        ] = None,
        destination: Annotated[
            str | None, typer.Option("--to", help="Same forms as --from.")
        ] = None,
        at: Annotated[
            str | None, typer.Option("--at", help="Departure time (naive = Seoul); default now.")
        ] = None,
        profile: Annotated[
            str, typer.Option("--profile", "--mode", help="walk or drive.")
        ] = "walk",
        objective: Annotated[
            str, typer.Option("--objective", help="all, fastest, balanced or safest.")
        ] = "all",
        balance: Annotated[
            str,
            typer.Option(
                "--balance", help="λ of 'balanced': low, medium, high (60/300/1200 s per µCoV)."
            ),
        ] = "medium",
        avoid_level: Annotated[
            str | None,
            typer.Option(
                "--avoid-level",
                help="Avoid cells at or above this level (e.g. high) when possible.",
            ),
        ] = None,
        network: Annotated[
            str,
            typer.Option(
                "--network", "--graph", help="central, yongsan, or a GraphML/PBF/OSM file."
            ),
        ] = "central",
        hazard_geojson: Annotated[
            Path | None,
            typer.Option(
                "--hazard-geojson",
                help="GeoJSON of hazards (Point+radius_m or Polygon, property ucov_per_hour). "
                "Without it the route uses no risk (all objectives are the fastest route).",
            ),
        ] = None,
        pairs: Annotated[
            Path | None,
            typer.Option(
                "--pairs", help="CSV of many pairs (from,to[,at][,id]); prints JSON lines."
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    ) -> None:
        """Plan the fastest, balanced and safest routes between two places, with time and exposure."""
        from ansim.routing.fields import NO_RISK, hazard_from_geojson
        from ansim.routing.network import load_network
        from ansim.routing.planner import OBJECTIVES, Routers

        if profile not in ("walk", "drive"):
            raise InputError(f"unknown profile {profile!r}; use walk or drive", field="profile")
        objectives: tuple[Objective, ...]
        if objective == "all":
            objectives = OBJECTIVES
        elif objective in OBJECTIVES:
            objectives = (objective,)
        else:
            raise InputError(
                f"unknown objective {objective!r}; use all, {', '.join(OBJECTIVES)}",
                field="objective",
            )
        if pairs is None and (origin is None or destination is None):
            missing = "from" if origin is None else "to"
            raise InputError("give --from and --to, or --pairs FILE.csv", field=missing)
        depart = _parse_time(at, field="at")
        net = load_network(network, "walk" if profile == "walk" else "drive")
        risk: RiskField = (
            hazard_from_geojson(hazard_geojson, resolution=net.resolution)
            if hazard_geojson
            else NO_RISK
        )
        risk_source = "hazard-geojson" if hazard_geojson else "none"
        routers = Routers.cch(net)
        options: dict[str, Any] = {
            "objectives": objectives,
            "balance": balance,
            "avoid_level": avoid_level,
        }
        if pairs is not None:
            _batch(pairs, net, routers, risk, depart, options, risk_source)
            return
        answer = _answer(net, routers, risk, origin or "", destination or "", depart, options)
        answer["risk_source"] = risk_source
        if as_json:
            typer.echo(json.dumps(answer, ensure_ascii=False))
            return
        typer.echo(
            f"{answer['from']} → {answer['to']} ({net.name}, {net.profile}, {answer['departure']})"
        )
        for alt in answer["alternatives"]:
            typer.echo(
                f"  {'/'.join(alt['objectives']):<24} {alt['duration_s'] / 60:6.1f} min "
                f"{alt['length_m'] / 1000:6.2f} km exposure {alt['exposure_ucov']:8.3f} µCoV  "
                f"max level {alt['max_level']:<10} {alt['comparison']['en']}"
            )
        typer.echo(f"  {answer['summary']['ko']} / {answer['summary']['en']}")
        for note in answer["notes"]:
            typer.echo(f"  note: {note['en']}")


def _batch(
    path: Path,
    net: Network,
    routers: Routers,
    risk: RiskField,
    depart: datetime,
    options: dict[str, Any],
    risk_source: str,
) -> None:
    """One JSON line per CSV row; errors stay on their row."""
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read pairs: {exc}", source=path.name, field="pairs") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = {"from", "to"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(
                f"pairs CSV needs columns from,to (missing {', '.join(sorted(missing))})",
                source=path.name,
                row=0,
                field="pairs",
            )
        for row_no, row in enumerate(reader, start=1):
            line: dict[str, Any] = {"row": row_no}
            if row.get("id"):
                line["id"] = row["id"]
            try:
                when = (
                    _parse_time(row.get("at"), field="at", row=row_no) if row.get("at") else depart
                )
                line.update(
                    _answer(net, routers, risk, row["from"] or "", row["to"] or "", when, options)
                )
                line["risk_source"] = risk_source
            except InputError as exc:
                line["error"] = InputError(
                    exc.reason, source=path.name, row=row_no, field=exc.field
                ).describe()
            typer.echo(json.dumps(line, ensure_ascii=False))

"""Risk commands: ``ansim risk`` (a place and time) and ``ansim region`` (a gu's numbers and rules)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ansim.errors import InputError

if TYPE_CHECKING:
    from ansim.risk.engine import RiskEngine


def _emit(payload: object, *, as_json: bool, text: str) -> None:
    if as_json:
        import orjson

        typer.echo(orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY).decode())
    else:
        typer.echo(text)


def _parse_at(at: str | None) -> Any:
    from ansim.timeutil import now_seoul, parse_datetime

    if at is None:
        return now_seoul()
    try:
        return parse_datetime(at)
    except ValueError:
        raise InputError(f"not a time: {at!r}", field="--at") from None


def _engine() -> RiskEngine:
    """The engine over the store at ``settings.db_url``, with the forecast models of ``ansim train``.

    Models in ``settings.var_dir / "models"`` give future times forecast cases and crowds; without
    them the engine carries the latest prevalence forward (and says so).
    """
    from ansim.risk.engine import RiskEngine
    from ansim.settings import get_settings

    settings = get_settings()
    url, models = settings.db_url, settings.var_dir / "models"
    # the cached state of an unchanged SQLite store loads without SQLAlchemy, pandas or LightGBM
    cached = RiskEngine.from_state_cache(url, forecaster=models)
    if cached is not None:
        return cached
    from ansim.store.db import make_engine

    return RiskEngine.from_store(make_engine(url), forecaster=models)


def register(app: typer.Typer) -> None:
    """Add ``risk`` and ``region`` to the CLI."""

    @app.command("risk")
    def risk_command(
        lat: Annotated[float, typer.Option("--lat", help="Latitude (WGS84).")],
        lon: Annotated[float, typer.Option("--lon", help="Longitude (WGS84).")],
        at: Annotated[
            str | None, typer.Option("--at", help="Time (ISO 8601; naive = Seoul). Default: now.")
        ] = None,
        people: Annotated[
            float | None,
            typer.Option(
                "--people", help="Other people present (default: the crowd layer's estimate)."
            ),
        ] = None,
        setting: Annotated[
            str | None,
            typer.Option(
                "--setting",
                help="indoor|outdoor|transit|filtered|plane|car-windows-down|partially-enclosed",
            ),
        ] = None,
        distance: Annotated[
            str | None, typer.Option("--distance", help="intimate|close|normal|2m|3m")
        ] = None,
        voice: Annotated[str | None, typer.Option("--voice", help="silent|normal|loud")] = None,
        their_mask: Annotated[
            str | None,
            typer.Option(
                "--their-mask", help="none|thin|basic|surgical|kf80|kf94|n95|n95-sealed|p100"
            ),
        ] = None,
        your_mask: Annotated[
            str | None, typer.Option("--your-mask", help="same choices as --their-mask")
        ] = None,
        duration_min: Annotated[
            float | None, typer.Option("--duration-min", help="Minutes spent (default 60).")
        ] = None,
        variant: Annotated[
            str | None,
            typer.Option("--variant", help="wild|alpha|delta|omicron (default: by date)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Infection risk at a place and time (µCoV), its level, drivers and advice.

        Without activity options: the reference visit (one hour indoors, normal distance and voice,
        no masks, with the crowd the place has at that time).
        """
        from ansim.geo.cells import seoul_cells
        from ansim.risk.visit import REFERENCE_ACTIVITY, Activity

        seoul_cells().locate(lat, lon)  # fail fast outside Seoul, before loading the store
        when = _parse_at(at)
        given = {
            "setting": setting,
            "distance": distance,
            "voice": voice,
            "their_mask": their_mask,
            "your_mask": your_mask,
            "duration_min": duration_min,
        }
        activity = None
        if any(v is not None for v in given.values()):
            base = {
                "setting": REFERENCE_ACTIVITY.setting,
                "distance": REFERENCE_ACTIVITY.distance,
                "voice": REFERENCE_ACTIVITY.voice,
                "their_mask": REFERENCE_ACTIVITY.their_mask,
                "your_mask": REFERENCE_ACTIVITY.your_mask,
                "duration_min": REFERENCE_ACTIVITY.duration_min,
            }
            base.update({k: v for k, v in given.items() if v is not None})
            activity = Activity(**base)  # type: ignore[arg-type]
        engine = _engine()
        result = engine.assess(lat, lon, when, activity, people=people, variant=variant)
        payload = result.to_dict()
        lines = [
            f"{result.ucov:,.1f} µCoV (range {result.lower:,.1f}-{result.upper:,.1f}) · "
            f"{result.level} / {result.level_ko} · cell {result.cell} · {payload['at']}",
            f"{result.region['name']} ({result.region['name_en']}): "
            f"{result.region['incidence_per_100k']['value']:.1f} cases per 100k in 7 days",
        ]
        lines += [f"- {d['reason_en']}" for d in result.drivers]
        lines += [
            f"→ {a['text_en']} (saves {a['ucov_saved']['value']:,.1f} µCoV)" for a in result.advice
        ]
        _emit(payload, as_json=as_json, text="\n".join(lines))

    @app.command("region")
    def region_command(
        name_or_code: Annotated[
            str, typer.Argument(help="Gu name (강남구, Gangnam-gu) or code (11680).")
        ],
        at: Annotated[
            str | None, typer.Option("--at", help="Date (default: today, Seoul).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Incidence, Rt, person risk and the distancing level (with its rules) of a Seoul gu."""
        from ansim.geo.regions import find_region

        found = find_region(name_or_code)
        if found is None or found.level != "gu":
            raise InputError(f"not a Seoul gu: {name_or_code!r}", field="NAME_OR_CODE")
        when = _parse_at(at)
        engine = _engine()
        info = engine.region_info(found.code, when.date())
        d = info["distancing_level"]
        rt = info["rt"]
        rt_text = (
            f"Rt {rt['value']:.2f} ({rt['lower']:.2f}-{rt['upper']:.2f})"
            if rt["value"] is not None
            else "Rt n/a"
        )
        text = "\n".join(
            [
                f"{info['name']} ({info['name_en']}) on {info['date']}",
                f"{info['incidence_per_100k']['value']:.1f} cases per 100k in 7 days · {rt_text}",
                f"{d['name_en']} / {d['name_ko']}{'' if d['official'] else ' (indicator)'}",
                *[f"- {r}" for r in d["rules_en"]],
            ]
        )
        _emit(info, as_json=as_json, text=text)

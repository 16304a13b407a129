"""Epidemiology commands: ``ansim visit-risk`` (microCOVID-compatible) and ``ansim rt`` (Cori et al.)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ansim.errors import InputError


def _emit(payload: object, *, as_json: bool, text: str) -> None:
    if as_json:
        import orjson

        typer.echo(orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY).decode())
    else:
        typer.echo(text)


def register(app: typer.Typer) -> None:
    """Add ``visit-risk`` and ``rt`` to the CLI."""

    @app.command("visit-risk")
    def visit_risk_command(
        people: Annotated[
            float,
            typer.Option(
                "--people", help="Other people present (may be an expected, fractional count)."
            ),
        ],
        setting: Annotated[
            str,
            typer.Option(
                "--setting",
                help="indoor|outdoor|transit|filtered|plane|car-windows-down|partially-enclosed",
            ),
        ],
        distance: Annotated[str, typer.Option("--distance", help="intimate|close|normal|2m|3m")],
        voice: Annotated[str, typer.Option("--voice", help="silent|normal|loud")],
        their_mask: Annotated[
            str,
            typer.Option(
                "--their-mask", help="none|thin|basic|surgical|kf80|kf94|n95|n95-sealed|p100"
            ),
        ],
        your_mask: Annotated[str, typer.Option("--your-mask", help="same choices as --their-mask")],
        duration_min: Annotated[float, typer.Option("--duration-min", help="Minutes spent.")],
        person_risk_ucov: Annotated[
            float | None,
            typer.Option("--person-risk-ucov", help="µCoV that one other person is infectious."),
        ] = None,
        population: Annotated[
            float | None, typer.Option("--population", help="Residents of the region.")
        ] = None,
        cases_past_week: Annotated[
            float | None,
            typer.Option("--cases-past-week", help="Reported cases in the last 7 days."),
        ] = None,
        positivity: Annotated[
            float | None,
            typer.Option("--positivity", help="Test positivity in percent (missing: 100)."),
        ] = None,
        cases_increase_pct: Annotated[
            float, typer.Option("--cases-increase-pct", help="Week-on-week growth in percent.")
        ] = 0.0,
        on: Annotated[
            str | None,
            typer.Option("--date", help="Date of the case data (default: today, Seoul)."),
        ] = None,
        variant: Annotated[
            str | None,
            typer.Option("--variant", help="wild|alpha|delta|omicron (default: by date)."),
        ] = None,
        interaction: Annotated[
            str, typer.Option("--interaction", help="one-time|workplace|repeated|partner")
        ] = "one-time",
        ascertainment: Annotated[
            float | None,
            typer.Option(
                "--ascertainment",
                help="True infections per reported case instead of microCOVID's factor (default: settings).",
            ),
        ] = None,
        budget_ucov: Annotated[
            float | None,
            typer.Option(
                "--budget-ucov", help="Yearly budget for the bands (default: settings, 10,000)."
            ),
        ] = None,
        ach: Annotated[
            float | None,
            typer.Option(
                "--ach",
                help="Air changes per hour of the room (Wells-Riley adjustment, with --volume-m3).",
            ),
        ] = None,
        volume_m3: Annotated[
            float | None, typer.Option("--volume-m3", help="Room volume in m³ (with --ach).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Infection risk of one visit in µCoV (one-in-a-million chances), like microCOVID."""
        from ansim.risk.levels import band_of
        from ansim.risk.prevalence import person_risk_ucov as prevalence_person_risk
        from ansim.risk.visit import (
            Activity,
            parse_choice,
            variant_on,
            ventilation_multiplier,
            visit_risk,
        )
        from ansim.risk.visit import Variant as VariantEnum
        from ansim.settings import get_settings
        from ansim.timeutil import now_seoul, parse_date

        settings = get_settings()
        activity = Activity.parse(
            setting=setting,
            distance=distance,
            voice=voice,
            their_mask=their_mask,
            your_mask=your_mask,
            duration_min=duration_min,
            interaction=interaction,
        )
        try:
            day = parse_date(on) if on is not None else now_seoul().date()
        except ValueError:
            raise InputError(f"not a date: {on!r}", field="--date") from None
        era = parse_choice(VariantEnum, variant, "--variant") if variant else variant_on(day)
        extra: dict[str, object] = {}
        if person_risk_ucov is not None:
            if population is not None or cases_past_week is not None:
                raise InputError(
                    "give either --person-risk-ucov or --population with --cases-past-week, not both",
                    field="--person-risk-ucov",
                )
            each = person_risk_ucov
        else:
            if population is None or cases_past_week is None:
                raise InputError(
                    "give --person-risk-ucov, or --population and --cases-past-week",
                    field="--population" if population is None else "--cases-past-week",
                )
            prevalence = prevalence_person_risk(
                population=population,
                cases_past_week=cases_past_week,
                positivity_pct=positivity,
                cases_increase_pct=cases_increase_pct,
                on=day,
                ascertainment=ascertainment
                if ascertainment is not None
                else settings.ascertainment_factor,
            )
            each = prevalence.ucov
            extra["person_risk"] = {
                "ucov": prevalence.ucov,
                "lower": prevalence.lower,
                "upper": prevalence.upper,
                "method": prevalence.method,
                "factor": prevalence.factor,
                "delay_factor": prevalence.delay_factor,
            }
        ventilation = 1.0
        if (ach is None) != (volume_m3 is None):
            raise InputError(
                "give --ach and --volume-m3 together",
                field="--ach" if ach is None else "--volume-m3",
            )
        if ach is not None and volume_m3 is not None:
            ventilation = ventilation_multiplier(
                ach=ach, volume_m3=volume_m3, duration_min=duration_min
            )
            extra["ventilation_multiplier"] = ventilation
        result = visit_risk(
            activity,
            person_risk_ucov=each,
            people=people,
            variant=era,
            ventilation_mult=ventilation,
        )
        band = band_of(result.ucov, budget_ucov=budget_ucov or settings.yearly_budget_ucov)
        payload = {
            "ucov": result.ucov,
            "lower": result.lower,
            "upper": result.upper,
            "level": band.key,
            "level_ko": band.name_ko,
            "probability": result.probability,
            "person_risk_ucov": result.person_risk_ucov,
            "people": result.people,
            "activity_risk": result.activity_risk,
            "variant": result.variant.value,
            **extra,
        }
        _emit(
            payload,
            as_json=as_json,
            text=(
                f"{result.ucov:,.1f} µCoV (range {result.lower:,.1f}-{result.upper:,.1f}), "
                f"{band.name_en} / {band.name_ko}; about 1 in {1e6 / result.ucov:,.0f}"
                if result.ucov > 0
                else f"0 µCoV, {band.name_en} / {band.name_ko}"
            ),
        )

    @app.command("rt")
    def rt_command(
        incidence: Annotated[
            Path,
            typer.Option(
                "--incidence", help="CSV: header, then date,count rows for consecutive days."
            ),
        ],
        si: Annotated[
            Path | None,
            typer.Option(
                "--si", help="CSV: header, then one probability per lag 0,1,2,… (w0 = 0)."
            ),
        ] = None,
        window: Annotated[int, typer.Option("--window", help="Days per window.")] = 7,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Reproduction number Rt (Cori et al. / EpiEstim), one estimate per sliding window."""
        import numpy as np

        from ansim.risk.rt import estimate_rt, parse_incidence_csv, parse_si_csv
        from ansim.sources.encoding import read_text

        days, counts = parse_incidence_csv(read_text(incidence).text, source=incidence.name)
        w = parse_si_csv(read_text(si).text, source=si.name) if si is not None else None
        estimate = estimate_rt(
            counts, w, window=window, dates=np.array(days, dtype="datetime64[D]")
        )
        records = estimate.records()
        lines = ["date        mean    sd      q025    q975"] + [
            f"{r['date']}  {r['mean']:6.3f}  {r['sd']:6.3f}  {r['q025']:6.3f}  {r['q975']:6.3f}"
            for r in records
        ]
        _emit(records, as_json=as_json, text="\n".join(lines))

"""Forecast commands: ``ansim train``, ``ansim backtest crowd|cases``, ``ansim forecast crowd|cases``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ansim.errors import InputError

_FAMILIES = {"crowd": ("crowd_hourly", "crowd_daily"), "cases": ("cases_gu", "cases_province")}


def _what(value: str) -> str:
    if value not in _FAMILIES:
        raise InputError("expected 'crowd' or 'cases'", field="what")
    return value


def _default_models() -> Path:
    from ansim.settings import get_settings

    return get_settings().var_dir / "models"


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:  # NaN
        return None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def register(app: typer.Typer) -> None:
    """Add the forecast commands to the CLI."""

    @app.command("train")
    def train(
        out: Annotated[
            Path | None, typer.Option(help="Model directory (default var/models).")
        ] = None,
        quick: Annotated[bool, typer.Option(help="Few trees (seconds; for smoke tests).")] = False,
        if_missing: Annotated[
            bool,
            typer.Option(help="Train only the model families not saved yet (used by make run)."),
        ] = False,
    ) -> None:
        """Train the crowd and case models on the bundled data and save them with metadata."""
        from ansim.forecast.forecaster import SPECS, is_current, train_all
        from ansim.forecast.models import FAST, FitParams
        from ansim.settings import get_settings

        target = out or _default_models()
        families = tuple(name for name in SPECS if not (if_missing and is_current(target / name)))
        if not families:
            typer.echo(f"models present in {target}; nothing to train")
            return
        report = train_all(
            get_settings().data_dir,
            target,
            families=families,
            params=FAST if quick else FitParams(),
        )
        for name, meta in report.items():
            val = meta.get("validation", {})
            typer.echo(
                f"{name}: {meta['data_start'][:16]} → {meta['data_end'][:16]}, "
                f"{meta['train_rows']} rows, {meta['train_seconds']} s; validation "
                f"MAE {val.get('mae', float('nan')):.4g} (seasonal naive "
                f"{val.get('seasonal_naive_mae', float('nan')):.4g}), "
                f"80% coverage {val.get('coverage80', float('nan')):.2f}"
            )
        typer.echo(f"saved to {target}")

    @app.command("backtest")
    def backtest(
        what: Annotated[str, typer.Argument(help="crowd or cases")],
        data: Annotated[Path | None, typer.Option(help="History file (default: bundled).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        plots: Annotated[Path | None, typer.Option(help="Write PNG plots to this folder.")] = None,
        quick: Annotated[bool, typer.Option(help="Few trees (seconds; for smoke tests).")] = False,
    ) -> None:
        """Rolling-origin backtest on the last 20% of the series: model vs baselines."""
        from ansim.forecast.backtest import plot_backtest, run_backtest
        from ansim.forecast.features import SPECS
        from ansim.forecast.history import BUNDLED, load_exog, load_history, spec_name
        from ansim.forecast.models import FAST, FitParams
        from ansim.settings import get_settings

        kind = _what(what)
        data_dir = get_settings().data_dir
        histories = (
            [load_history(data, expect=kind)]  # type: ignore[arg-type]
            if data
            else [load_history(data_dir / BUNDLED[n]) for n in _FAMILIES[kind]]
        )
        out: dict[str, Any] = {}
        for h in histories:
            name = spec_name(h)
            result = run_backtest(
                h.panel,
                load_exog(data_dir, spec=name),
                SPECS[name],
                params=FAST if quick else FitParams(),
            )
            entry = {
                **result.summary,
                "notes": result.notes,
                "per_horizon": result.per_horizon.to_dict(orient="records"),
            }
            if plots:
                entry["plots"] = [str(p) for p in plot_backtest(result, plots)]
            out[name] = entry
        if as_json:
            typer.echo(json.dumps(_jsonable(out), default=str))
            return
        for name, entry in out.items():
            typer.echo(
                f"{name} ({entry['test_rows']} test rows from {entry['first_test_origin'][:16]}):"
            )
            for key in (k for k in ("next_24h", "h7") if k in entry):
                m = entry[key]
                typer.echo(
                    f"  [{key}] model MAE {m['mae']:.4g} WAPE {m['wape']:.4f} "
                    f"pinball {m['pinball']:.4g} 80% coverage {m['coverage80']:.3f}"
                )
                for b in ("seasonal_naive", "persistence", "mean7"):
                    typer.echo(
                        f"    {b:15s} MAE {m[f'{b}_mae']:.4g} WAPE {m[f'{b}_wape']:.4f}  "
                        f"skill(MAE) {m[f'skill_mae_vs_{b}']:+.3f}"
                    )
            for note in entry["notes"]:
                typer.echo(f"  note: {note}")

    @app.command("forecast")
    def forecast(
        what: Annotated[str, typer.Argument(help="crowd or cases")],
        history: Annotated[
            Path, typer.Option(help="History file in any bundled or canonical format.")
        ],
        origin: Annotated[
            str, typer.Option(help="Last observed period: a date (daily) or an hour (hourly).")
        ],
        horizon: Annotated[int, typer.Option(help="Periods to forecast after the origin.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
        models: Annotated[
            Path | None, typer.Option(help="Saved models (default var/models).")
        ] = None,
        quick: Annotated[
            bool, typer.Option(help="Few trees when a model must be fitted here.")
        ] = False,
    ) -> None:
        """Quantile forecasts for every area and each of the H periods after the origin."""
        from ansim.forecast.service import forecast_history

        kind = _what(what)
        rows, notes = forecast_history(
            history,
            kind=kind,  # type: ignore[arg-type]
            origin=origin,
            horizon=horizon,
            models_dir=models or _default_models(),
            quick=quick,
        )
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        if as_json:
            typer.echo(json.dumps(rows))
            return
        for r in rows:
            typer.echo(
                f"{r['area']}\t{r['target_time']}\t{r['q10']:.1f}\t{r['q50']:.1f}\t{r['q90']:.1f}"
            )

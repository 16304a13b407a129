"""Forecast benchmark: training time per family and backtest metrics against the baselines.

Run: ``.venv/bin/python -m benchmarks.forecast_train [--plots DIR]``. Prints, per family, the fit
time of ``ansim train``, then the rolling-origin backtest (last 20% of each series as origins) of
the LightGBM quantile model against seasonal naive, persistence and the 7-day mean, as absolute
figures and as ratios (model / baseline).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ansim.forecast.backtest import plot_backtest, run_backtest
from ansim.forecast.features import SPECS
from ansim.forecast.forecaster import train_all
from ansim.forecast.history import BUNDLED, load_exog, load_history
from ansim.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plots", type=Path, default=None)
    args = parser.parse_args()
    data = get_settings().data_dir
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = train_all(data, Path(tmp))
        total = time.perf_counter() - started
    print(f"train (all families, saved): {total:.1f} s")
    for name, meta in report.items():
        print(
            f"  {name:15s} {meta['train_seconds']:6.1f} s  {meta['train_rows']} rows  history {meta['history_mb']} MB"
        )
    for name in SPECS:
        started = time.perf_counter()
        history = load_history(data / BUNDLED[name])
        result = run_backtest(history.panel, load_exog(data, spec=name), SPECS[name])
        secs = time.perf_counter() - started
        key = "next_24h" if "next_24h" in result.summary else "h7"
        m = result.summary[key]
        print(f"\n{name} backtest ({key}, {result.summary['test_rows']} rows, {secs:.0f} s)")
        print(
            f"  model  MAE {m['mae']:.4g}  WAPE {m['wape']:.4f}  pinball {m['pinball']:.4g}  coverage80 {m['coverage80']:.3f}"
        )
        for b in ("seasonal_naive", "persistence", "mean7"):
            print(
                f"  {b:15s} MAE {m[f'{b}_mae']:.4g}  WAPE {m[f'{b}_wape']:.4f}  "
                f"ratio model/baseline {m['mae'] / m[f'{b}_mae']:.3f}"
            )
        if args.plots:
            plot_backtest(result, args.plots)


if __name__ == "__main__":
    main()

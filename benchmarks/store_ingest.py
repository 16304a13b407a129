"""Ingest throughput: ``ansim`` loading DS4C SeoulFloating vs plain ``pandas.read_csv`` + ``to_sql``.

Both start from the same gzip file and end with rows in a fresh SQLite file. Ansim additionally
detects the encoding, validates every cell (row-numbered errors), sums age/sex into gu × hour,
upserts by natural key and records a checksummed batch in one transaction; the baseline only
parses and appends the raw rows. Figures are raw-file rows per second.

Run: ``.venv/bin/python -m benchmarks.store_ingest``
"""

from __future__ import annotations

import gzip
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from ansim.store.db import make_engine, upgrade
from ansim.store.formats import load_file

DATA = Path(__file__).resolve().parents[1] / "data"
FILE = DATA / "ds4c" / "SeoulFloating.csv.gz"


def _ansim(tmp: Path) -> tuple[float, int]:
    engine = make_engine(f"sqlite:///{tmp / 'ansim.db'}")
    upgrade(engine)
    started = time.perf_counter()
    result = load_file(engine, "ds4c-floating", FILE)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, result.rows_accepted


def _baseline(tmp: Path) -> tuple[float, int]:
    engine = sa.create_engine(f"sqlite:///{tmp / 'baseline.db'}")
    started = time.perf_counter()
    frame = pd.read_csv(FILE)
    frame.to_sql("floating", engine, index=False, chunksize=5_000)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, len(frame)


def main() -> None:
    raw_rows = len(gzip.decompress(FILE.read_bytes()).splitlines()) - 1
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        ansim_s, stored = _ansim(tmp)
        base_s, base_rows = _baseline(tmp)
    print(f"SeoulFloating: {raw_rows:,} raw rows ({FILE.stat().st_size / 1e6:.1f} MB gzip)")
    print(
        f"ansim ingest (validate + aggregate + upsert): {ansim_s:6.2f} s  "
        f"{raw_rows / ansim_s:>10,.0f} raw rows/s  ({stored:,} gu×hour rows stored)"
    )
    print(
        f"baseline pandas read_csv + to_sql:           {base_s:6.2f} s  "
        f"{raw_rows / base_s:>10,.0f} raw rows/s  ({base_rows:,} raw rows stored)"
    )
    print(f"ratio ansim / baseline time: {ansim_s / base_s:.2f}x")


if __name__ == "__main__":
    main()

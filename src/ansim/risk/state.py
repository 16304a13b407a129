"""The risk engine's derived state on disk, so a cold process answers in milliseconds, not seconds.

``RiskEngine.from_store`` spends seconds on store queries, prevalence, the crowd model and the exposure
neighbourhoods; every one of them is a pure function of the store's rows and the build options. The
state cache keeps their output arrays in one ``.npz`` under ``<var_dir>/risk_state/``, named by a key
over:

- the store's version (``store.queries.store_version``: last batch id, batch count, rows per data
  table; every ingest writes a batch, so any new data changes the key),
- the store URL (password hidden), the build options (resolution, data dir, kernel, positivity,
  ascertainment, budget) and, when the engine uses forecast models, the hash of their metadata
  (``forecasts.fingerprint_of``: a retrained model changes the key),
- the code of the modules that build the state (``ansim/risk``, ``ansim/geo``, the readers) and the
  size and mtime of the bundled files it reads, so an upgrade or a new data file invalidates it.

The file holds numbers and text only (``np.load(allow_pickle=False)``; the metadata is JSON), is
written to a temporary name and renamed (a reader never sees half a file), and a damaged or
mismatching file is ignored and rebuilt. Old keys are pruned (the newest ``KEEP_FILES`` stay).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ansim.timeutil import SEOUL

if TYPE_CHECKING:
    from ansim.risk.engine import RiskEngine

STATE_VERSION = 1
"""Bump when the file layout changes."""
KEEP_FILES = 4
"""State files kept per directory (several stores may share a var dir)."""
STATE_TABLES = ("case_counts", "crowd_observations", "exposure_events")
"""The store tables the engine's state is computed from (their row counts enter the key)."""
_CODE_PACKAGES = ("risk", "geo")
_CODE_FILES = ("sources/seoul.py", "sources/csvio.py", "store/queries.py", "records.py")


def _code_digest() -> str:
    """Hash of the source files the state is computed by (a code change invalidates the cache)."""
    root = Path(__file__).resolve().parents[1]
    files = sorted(p for pkg in _CODE_PACKAGES for p in (root / pkg).glob("*.py"))
    files += [root / f for f in _CODE_FILES]
    h = hashlib.sha256()
    for p in files:
        try:
            h.update(p.name.encode())
            h.update(p.read_bytes())
        except OSError:
            h.update(b"missing")
    return h.hexdigest()


def _data_digest(data_dir: Path) -> str:
    """Size and mtime of every bundled file (cheap: a few dozen ``stat`` calls)."""
    h = hashlib.sha256()
    for dirpath, _dirs, files in sorted(os.walk(data_dir)):
        for name in sorted(files):
            p = Path(dirpath) / name
            try:
                st = p.stat()
            except OSError:
                continue
            h.update(f"{p.relative_to(data_dir)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()


def state_key(store_version: dict[str, int], *, url: str, options: dict[str, Any]) -> str:
    """The cache key (hex) of an engine built from a store at ``store_version`` with ``options``."""
    data_dir = Path(str(options.get("data_dir", "")))
    payload = {
        "state_version": STATE_VERSION,
        "store": store_version,
        "url": url,
        "options": options,
        "code": _code_digest(),
        "data": _data_digest(data_dir) if data_dir.is_dir() else "",
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def store_identity(url: str, database: str | None, backend: str) -> str:
    """What names the store in the key: the real path of a SQLite file, else the URL (no password)."""
    if (
        backend == "sqlite"
        and database
        and database != ":memory:"
        and not database.startswith("file:")
    ):
        return "sqlite:" + os.path.realpath(database)
    return url


def sqlite_version(url: str) -> tuple[str, dict[str, int]] | None:
    """(store identity, version) of a ``sqlite:///path`` store read with the standard library.

    The same numbers as ``store.queries.store_version(engine, tables=STATE_TABLES)``, without
    importing SQLAlchemy (a third of a cold CLI call); None for other URLs or when the file cannot
    be read (the caller then takes the SQLAlchemy path).
    """
    import sqlite3

    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    database = url[len(prefix) :]
    if not database or database == ":memory:" or not Path(database).exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{Path(database).resolve()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        last, batches = conn.execute("SELECT max(id), count(*) FROM ingestion_batches").fetchone()
        out = {"last_batch_id": int(last or 0), "batches": int(batches)}
        for name in STATE_TABLES:
            out[name] = int(conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return store_identity(url, database, "sqlite"), out


def state_path(cache_dir: Path, key: str) -> Path:
    """Where the state of ``key`` lives."""
    return cache_dir / "risk_state" / f"engine_{key}.npz"


# --- encoding -------------------------------------------------------------------------------------


def _classes() -> dict[str, type]:
    from ansim.risk.crowd import CellWeights, CrowdModel
    from ansim.risk.engine import RegionSeries
    from ansim.risk.exposure import ExposureField, KernelParams
    from ansim.risk.flows import GravityModel
    from ansim.risk.forecasts import CaseForecast, ForecastSeries, ForecastTables
    from ansim.risk.zones import ZoneSeries

    return {
        c.__name__: c
        for c in (
            RegionSeries,
            CrowdModel,
            CellWeights,
            GravityModel,
            ExposureField,
            KernelParams,
            ZoneSeries,
            ForecastTables,
            ForecastSeries,
            CaseForecast,
        )
    }


_EVENT_FIELDS = (
    "source",
    "source_record_id",
    "lat",
    "lon",
    "start",
    "end",
    "radius_m",
    "place_name",
    "address",
    "region_code",
    "precision",
    "place_type",
    "cases",
)


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def encode(self, value: Any, path: str) -> Any:
        from ansim.records import ExposureEvent

        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise TypeError(f"object array at {path}")
            self.arrays[path] = value
            return {"t": "array", "k": path}
        if isinstance(value, datetime):
            return {"t": "datetime", "v": value.isoformat()}
        if isinstance(value, date):
            return {"t": "date", "v": value.isoformat()}
        if isinstance(value, frozenset):
            return {"t": "dateset", "v": sorted(d.isoformat() for d in value)}
        if isinstance(value, tuple) and value and isinstance(value[0], ExposureEvent):
            rows = [
                [
                    getattr(e, f).isoformat() if f in ("start", "end") else getattr(e, f)
                    for f in _EVENT_FIELDS
                ]
                for e in value
            ]
            return {"t": "events", "v": rows}
        if isinstance(value, tuple | list):
            return {"t": "tuple", "v": [self.encode(v, f"{path}.{i}") for i, v in enumerate(value)]}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                "t": "dc",
                "cls": type(value).__name__,
                "v": {
                    f.name: self.encode(getattr(value, f.name), f"{path}.{f.name}")
                    for f in dataclasses.fields(value)
                },
            }
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, bool | int | float | str):
            return value
        raise TypeError(f"cannot store {type(value).__name__} at {path}")


def _decode(value: Any, arrays: Any, classes: dict[str, type]) -> Any:
    from ansim.records import ExposureEvent

    if not isinstance(value, dict):
        return value
    kind = value["t"]
    if kind == "array":
        return arrays[value["k"]]
    if kind == "datetime":
        return datetime.fromisoformat(value["v"]).astimezone(SEOUL)
    if kind == "date":
        return date.fromisoformat(value["v"])
    if kind == "dateset":
        return frozenset(date.fromisoformat(v) for v in value["v"])
    if kind == "events":
        out = []
        for row in value["v"]:
            kw = dict(zip(_EVENT_FIELDS, row, strict=True))
            kw["start"] = datetime.fromisoformat(kw["start"]).astimezone(SEOUL)
            kw["end"] = datetime.fromisoformat(kw["end"]).astimezone(SEOUL)
            out.append(ExposureEvent(**kw))
        return tuple(out)
    if kind == "tuple":
        return tuple(_decode(v, arrays, classes) for v in value["v"])
    if kind == "dc":
        cls = classes[value["cls"]]
        return cls(**{k: _decode(v, arrays, classes) for k, v in value["v"].items()})
    raise ValueError(f"unknown tag {kind!r}")


_PARTS = ("regions", "crowd", "weights", "gravity", "exposures", "zones", "forecasts")
_SCALARS = ("budget_ucov", "footprint_m2", "notes")


def save_engine(engine: RiskEngine, path: Path, *, table_options: dict[str, Any]) -> bool:
    """Write the engine's derived state to ``path`` (atomic); False when the disk refuses."""
    enc = _Encoder()
    meta = {
        "state_version": STATE_VERSION,
        "table": {
            **table_options,
            "resolution": engine.table.resolution,
            "n_cells": len(engine.table),
            "gu_codes": list(engine.table.gu_codes),
        },
        "parts": {name: enc.encode(getattr(engine, name, None), name) for name in _PARTS},
        "scalars": {name: enc.encode(getattr(engine, name), name) for name in _SCALARS},
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        arrays: dict[str, Any] = {"__meta__": np.asarray(json.dumps(meta)), **enc.arrays}
        np.savez(tmp, **arrays)
        tmp.replace(path)
    except OSError:
        return False
    _prune(path.parent)
    return True


def load_engine(path: Path) -> RiskEngine | None:
    """The engine stored at ``path``, or None when it is missing, damaged or from another layout."""
    from ansim.geo.cells import seoul_cells
    from ansim.risk.engine import RiskEngine

    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["__meta__"]))
            if meta.get("state_version") != STATE_VERSION:
                return None
            arrays = {k: z[k] for k in z.files if k != "__meta__"}
        classes = _classes()
        parts = {k: _decode(v, arrays, classes) for k, v in meta["parts"].items()}
        scalars = {k: _decode(v, arrays, classes) for k, v in meta["scalars"].items()}
        t = meta["table"]
        table = seoul_cells(
            t["resolution"],
            data_dir=Path(t["data_dir"]) if t.get("data_dir") else None,
            cache_dir=Path(t["cache_dir"]) if t.get("cache_dir") else None,
        )
        if len(table) != t["n_cells"] or list(table.gu_codes) != t["gu_codes"]:
            return None
        return RiskEngine(table=table, **parts, **scalars)
    except (OSError, KeyError, ValueError, TypeError):
        return None  # damaged or from older code: rebuilt by the caller


def _prune(directory: Path) -> None:
    """Keep the newest ``KEEP_FILES`` state files."""
    try:
        files = sorted(
            directory.glob("engine_*.npz"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in files[KEEP_FILES:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass

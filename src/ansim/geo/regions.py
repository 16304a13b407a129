"""One code system for Korean regions, with a crosswalk from every spelling found in the data.

Districts (gu) use the 5-digit administrative code (``11110`` = 종로구), provinces (sido) the
2-digit one (``11`` = Seoul). The crosswalk accepts the KOSTAT census codes of the boundary files
(``11010``, ``21`` …), Korean full and short names, the English names and DS4C's spellings
(including its ``Dongjag-gu``). The tables live in ``data/regions/``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ansim.settings import get_settings


@dataclass(frozen=True, slots=True)
class Region:
    """A district or province, with its names and resident population."""

    code: str
    level: str  # "gu" or "province"
    name_ko: str
    name_en: str
    kostat_code: str
    parent_code: str | None
    lat: float | None = None
    lon: float | None = None
    zone_2020: str | None = None
    population: int | None = None


# DS4C and other feeds misspell or abbreviate some names; map them to the official English name.
_ALIASES = {"dongjag-gu": "Dongjak-gu", "sejongsi": "Sejong", "seoul city": "Seoul"}


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "")


@lru_cache(maxsize=4)
def _load(data_dir: Path) -> tuple[dict[str, Region], dict[str, str]]:
    regions: dict[str, Region] = {}
    gu_pop = _gu_population(data_dir)
    with (data_dir / "regions" / "provinces.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            regions[row["code"]] = Region(
                code=row["code"],
                level="province",
                name_ko=row["name_ko"],
                name_en=row["name_en"],
                kostat_code=row["kostat_code"],
                parent_code=None,
                zone_2020=row["zone_2020"],
                population=int(row["population_2020"]),
            )
    with (data_dir / "regions" / "seoul_gu.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            regions[row["code"]] = Region(
                code=row["code"],
                level="gu",
                name_ko=row["name_ko"],
                name_en=row["name_en"],
                kostat_code=row["kostat_code"],
                parent_code="11",
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                zone_2020="capital",
                population=gu_pop.get(row["name_ko"]),
            )
    index: dict[str, str] = {}
    short = _province_short_names(data_dir)
    for r in regions.values():
        for name in (r.code, r.name_ko, r.name_en, short.get(r.code, "")):
            if name:
                index[_key(name)] = r.code
        # KOSTAT codes collide with administrative ones (KOSTAT 11010 vs admin 11110 differ, but
        # KOSTAT province 11 equals admin 11); prefix them so they never shadow an admin code.
        index[f"kostat:{r.kostat_code}"] = r.code
    for alias, official in _ALIASES.items():
        index[_key(alias)] = index[_key(official)]
    return regions, index


def _gu_population(data_dir: Path) -> dict[str, int]:
    with (data_dir / "population" / "seoul_pop2020_gu.csv").open(encoding="utf-8-sig") as f:
        return {row["자치구"].strip(): int(row["전체"].strip()) for row in csv.DictReader(f)}


def _province_short_names(data_dir: Path) -> dict[str, str]:
    with (data_dir / "regions" / "provinces.csv").open(encoding="utf-8") as f:
        return {row["code"]: row["name_short_ko"] for row in csv.DictReader(f)}


def all_regions(*, data_dir: Path | None = None) -> list[Region]:
    """Every known region: 17 provinces then the 25 Seoul districts, ordered by code."""
    regions, _ = _load(data_dir or get_settings().data_dir)
    return sorted(regions.values(), key=lambda r: (r.level != "province", r.code))


def seoul_districts(*, data_dir: Path | None = None) -> list[Region]:
    """The 25 Seoul gu, ordered by administrative code."""
    return [r for r in all_regions(data_dir=data_dir) if r.level == "gu"]


def find_region(name_or_code: str, *, data_dir: Path | None = None) -> Region | None:
    """Look a region up by code, KOSTAT code (``kostat:11010``), Korean or English name."""
    regions, index = _load(data_dir or get_settings().data_dir)
    code = index.get(_key(name_or_code)) or index.get(name_or_code.strip())
    return regions.get(code) if code else None


def region(name_or_code: str, *, data_dir: Path | None = None) -> Region:
    """Like :func:`find_region`, but raise ``KeyError`` naming the unknown region."""
    found = find_region(name_or_code, data_dir=data_dir)
    if found is None:
        msg = f"unknown region {name_or_code!r}"
        raise KeyError(msg)
    return found

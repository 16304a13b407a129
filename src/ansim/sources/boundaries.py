"""Administrative boundaries (KOSTAT SGIS GeoJSON via southkorea-maps) as region records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shapely.geometry import shape

from ansim.errors import InputError
from ansim.geo.regions import find_region
from ansim.sources.encoding import read_text


@dataclass(frozen=True, slots=True)
class RegionRecord:
    """A region row for the store. ``geometry`` is GeoJSON text (WGS84), ``None`` when unknown."""

    code: str
    name_ko: str
    name_en: str
    level: str  # "province", "gu" or "dong"
    parent: str | None
    population: int | None
    geometry: str | None


def read_boundaries(path: Path | str) -> list[RegionRecord]:
    """Read a FeatureCollection of provinces (2-digit), gu (5-digit) or dong (7-digit) KOSTAT codes.

    Province and gu codes become administrative codes through the crosswalk (KOSTAT ``11010`` →
    ``11110`` 종로구); dong keep their 7-digit KOSTAT code (no administrative code in the file) with
    the gu as parent. Each feature is row ``i + 1``; its geometry must be a valid WGS84 (Multi)Polygon.
    """
    name = Path(path).name
    try:
        data = json.loads(read_text(path).text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} at line {exc.lineno}", source=name) from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputError("not a GeoJSON FeatureCollection", source=name, row=0, field="features")
    out: list[RegionRecord] = []
    for i, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        for key in ("code", "name"):
            if not str(props.get(key, "")).strip():
                raise InputError("missing value", source=name, row=i, field=f"properties.{key}")
        kostat = str(props["code"]).strip()
        geometry = _drop_degenerate_rings(feature.get("geometry"))
        try:
            geom = shape(geometry)
        except Exception as exc:  # shapely raises several types for malformed geometry
            raise InputError(f"bad geometry: {exc}", source=name, row=i, field="geometry") from None
        if geom.geom_type not in {"Polygon", "MultiPolygon"} or geom.is_empty:
            raise InputError(
                f"expected a polygon, got {geom.geom_type}", source=name, row=i, field="geometry"
            )
        west, south, east, north = geom.bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise InputError(
                "coordinates outside WGS84 range", source=name, row=i, field="geometry"
            )
        text = json.dumps(geometry, separators=(",", ":"))
        if len(kostat) in (2, 5):
            found = find_region(f"kostat:{kostat}")
            if found is None:
                raise InputError(
                    f"unknown KOSTAT code {kostat}", source=name, row=i, field="properties.code"
                )
            out.append(
                RegionRecord(
                    code=found.code,
                    name_ko=found.name_ko,
                    name_en=found.name_en,
                    level=found.level,
                    parent=found.parent_code,
                    population=found.population,
                    geometry=text,
                )
            )
        elif len(kostat) == 7:
            gu = find_region(f"kostat:{kostat[:5]}")
            out.append(
                RegionRecord(
                    code=kostat,
                    name_ko=str(props["name"]).strip(),
                    name_en=str(props.get("name_eng", "")).strip(),
                    level="dong",
                    parent=gu.code if gu else None,
                    population=None,
                    geometry=text,
                )
            )
        else:
            raise InputError(
                f"code {kostat!r} is not a 2, 5 or 7-digit KOSTAT code",
                source=name,
                row=i,
                field="properties.code",
            )
    return out


def _drop_degenerate_rings(geometry: object) -> object:
    """Remove rings of fewer than 4 positions (simplification leaves some in the province file)."""
    if not isinstance(geometry, dict) or not isinstance(geometry.get("coordinates"), list):
        return geometry

    def polygon(rings: list) -> list:
        return [ring for ring in rings if isinstance(ring, list) and len(ring) >= 4]

    coords = geometry["coordinates"]
    if geometry.get("type") == "Polygon":
        return {**geometry, "coordinates": polygon(coords)}
    if geometry.get("type") == "MultiPolygon":
        polys = [polygon(p) for p in coords if isinstance(p, list)]
        return {**geometry, "coordinates": [p for p in polys if p]}
    return geometry

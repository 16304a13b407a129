"""Subway stations of the capital region (Seoul 역사마스터) as gazetteer places."""

from __future__ import annotations

from pathlib import Path

from ansim.records import Place
from ansim.sources.csvio import latitudes, longitudes, read_csv_table, require_text

STATION_KIND = "station"


def read_stations(path: Path | str) -> list[Place]:
    """One :class:`Place` per station and line (``역사_ID``), with WGS84 coordinates.

    The line (호선) goes into ``aliases`` as ``"<name> (<line>)"`` so a search for "서울역 (1호선)"
    finds it; ``region_code`` is left for the gazetteer's point-in-polygon step.
    """
    table = read_csv_table(path, required=["역사_ID", "역사명", "호선", "위도", "경도"])
    station_id = require_text(table, "역사_ID")
    name = require_text(table, "역사명")
    line = table.text("호선")
    lat = latitudes(table, "위도")
    lon = longitudes(table, "경도")
    seen: dict[str, int] = {}
    places = []
    for i in range(len(table)):
        if station_id.iat[i] in seen:
            table.fail(i, "역사_ID", f"station id repeats row {seen[station_id.iat[i]]}")
        seen[station_id.iat[i]] = i + 1
        places.append(
            Place(
                kind=STATION_KIND,
                source_id=station_id.iat[i],
                name_ko=name.iat[i],
                lat=float(lat.iat[i]),
                lon=float(lon.iat[i]),
                aliases=(f"{name.iat[i]} ({line.iat[i]})",) if line.iat[i] else (),
            )
        )
    return places

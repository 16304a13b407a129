"""Names and one-line descriptions of every ``ansim ingest`` format (cheap to import: no readers)."""

from __future__ import annotations

CATALOG: dict[str, tuple[str, str]] = {
    "seoul-cases": ("Seoul daily cases per gu (wide, newest first)", "case_counts"),
    "ds4c-time-province": ("DS4C TimeProvince: cumulative cases per province", "case_counts"),
    "kdca-sido": ("KDCA Covid19SidoInfState: daily cases per province", "case_counts"),
    "ds4c-floating": ("DS4C SeoulFloating: SKT people per gu and hour", "crowd_observations"),
    "seoul-living": ("Seoul KT living population per gu and day", "crowd_observations"),
    "ds4c-patient-route": ("DS4C PatientRoute: places patients visited", "exposure_events"),
    "ds4c-case": ("DS4C Case: clusters with coordinates", "exposure_events"),
    "stations": ("Seoul station master: subway stations", "places"),
    "boundaries": ("KOSTAT GeoJSON boundaries: province, gu, dong", "regions"),
    "population": ("Seoul resident population per gu or dong", "regions"),
    "ds4c-weather": ("DS4C Weather: daily weather per province", "weather_daily"),
    "ds4c-policy": ("DS4C Policy: policy timeline", "policies"),
    "alerts": (
        "disaster messages (재난문자) dump: MOIS per-gu or data.go.kr nationwide",
        "alert_messages",
    ),
    "canonical-cases": ("canonical daily cases (CSV/JSON, docs/formats.md)", "case_counts"),
    "canonical-exposures": ("canonical exposure events (CSV/JSON)", "exposure_events"),
    "canonical-crowd": ("canonical crowd observations (CSV/JSON)", "crowd_observations"),
    "canonical-places": ("canonical gazetteer places (CSV/JSON)", "places"),
}
"""format name → (description, table it fills)."""

"""Personal advance warnings: read calendars, reservations and usual routes, check them statelessly.

Readers (:mod:`ansim.plans.ical`) turn an iCalendar file or a JSON list into :class:`Plan` values,
:func:`check_plans` assesses them with the risk engine, and :mod:`ansim.plans.vault` encrypts plans
that a person chooses to subscribe. Nothing here stores or logs a plan. See docs/plans.md.

Names are imported on first use, so reading a calendar does not pull in the risk engine.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "check_plans": "ansim.plans.check",
    "bundled_route_planner": "ansim.plans.check",
    "RouteOption": "ansim.plans.check",
    "validate_activities": "ansim.plans.check",
    "read_ics": "ansim.plans.ical",
    "read_plans": "ansim.plans.ical",
    "read_plans_json": "ansim.plans.ical",
    "plans_from_document": "ansim.plans.ical",
    "Plan": "ansim.plans.model",
    "PlaceSpec": "ansim.plans.model",
    "DEFAULT_TABLE": "ansim.plans.presets",
    "Preset": "ansim.plans.presets",
    "PresetTable": "ansim.plans.presets",
    "load_presets": "ansim.plans.presets",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ansim.plans' has no attribute {name!r}")

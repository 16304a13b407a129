"""The plan record every reader produces and the checker consumes (plain frozen values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

PlanKind = Literal["plan", "reservation", "trip"]


@dataclass(frozen=True, slots=True)
class PlaceSpec:
    """Where a plan happens, as given: a point (GEO, ``lat``/``lon``) and/or a name or address."""

    text: str = ""
    lat: float | None = None
    lon: float | None = None

    @property
    def has_point(self) -> bool:
        """Whether coordinates were given."""
        return self.lat is not None and self.lon is not None

    def label(self) -> str:
        """What to show for the place: its text, else the coordinates."""
        if self.text:
            return self.text
        if self.has_point:
            return f"{self.lat:.6f},{self.lon:.6f}"
        return ""


@dataclass(frozen=True, slots=True)
class Plan:
    """One occurrence of something a person plans to do, at an aware time ``[start, end)``.

    ``activity`` is a preset name, a mapping of preset overrides (``{"preset": "bar", "your_mask":
    "kf94"}``) or None (inferred from the title and place). ``origin`` is where the person comes from,
    when known (a usual route, or ``from`` in a JSON plan): it enables the safer-route alternative.
    ``ref`` names where the plan came from (``UID`` of the calendar event, ``[3]`` in a JSON list) so
    errors and answers can point at it.
    """

    title: str
    start: datetime
    end: datetime
    place: PlaceSpec | None
    activity: str | Mapping[str, Any] | None = None
    origin: PlaceSpec | None = None
    ref: str = ""
    all_day: bool = False
    kind: PlanKind = "plan"
    categories: tuple[str, ...] = ()
    people: float | None = None
    skip_reason: str | None = None
    """Set by a reader when the entry cannot be checked whatever the risk (a cancelled event)."""

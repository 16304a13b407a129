"""Weekly totals of checked plans against a yearly µCoV budget (microCOVID: weekly = yearly / 50)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from ansim.errors import InputError
from ansim.timeutil import as_seoul

DEFAULT_YEARLY_BUDGET_UCOV = 10_000.0
"""microCOVID's default: a 1 % chance of catching COVID in a year."""
WEEKS_PER_YEAR = 50
"""microCOVID divides the yearly budget by 50 weeks (two weeks of slack), not 52."""


def weekly_budget_ucov(yearly_budget_ucov: float = DEFAULT_YEARLY_BUDGET_UCOV) -> float:
    """The weekly allowance of a yearly budget (200 µCoV for the default 10,000)."""
    if not yearly_budget_ucov > 0 or yearly_budget_ucov == float("inf"):
        raise InputError(f"must be a number > 0, got {yearly_budget_ucov!r}", field="budget_ucov")
    return yearly_budget_ucov / WEEKS_PER_YEAR


def iso_week(day: date) -> str:
    """ISO 8601 week label, ``2020-W19`` (weeks start on Monday)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_totals(
    entries: Iterable[Mapping[str, Any]],
    *,
    yearly_budget_ucov: float = DEFAULT_YEARLY_BUDGET_UCOV,
) -> list[dict[str, Any]]:
    """``[{week, start, ucov, budget_ucov, budget_share, plans, unchecked}]`` per ISO week (Seoul time).

    ``entries`` are checked plans as ``check_plans`` returns them (``start`` ISO time, ``status``,
    ``ucov.value``); a plan counts in the week it starts. Unchecked plans are counted apart, so a
    week with unchecked plans is known to be a lower bound.
    """
    weekly = weekly_budget_ucov(yearly_budget_ucov)
    weeks: dict[str, dict[str, Any]] = {}
    for entry in entries:
        start = as_seoul(datetime.fromisoformat(str(entry["start"])))
        key = iso_week(start.date())
        monday = start.date() - timedelta(days=start.weekday())
        w = weeks.setdefault(
            key,
            {"week": key, "start": monday.isoformat(), "ucov": 0.0, "plans": 0, "unchecked": 0},
        )
        if entry.get("status") == "checked" and entry.get("ucov") is not None:
            w["ucov"] += float(entry["ucov"]["value"])
            w["plans"] += 1
        else:
            w["unchecked"] += 1
    out = []
    for key in sorted(weeks):
        w = weeks[key]
        out.append(
            {
                "week": w["week"],
                "start": w["start"],
                "ucov": round(w["ucov"], 3),
                "budget_ucov": weekly,
                "budget_share": round(w["ucov"] / weekly, 4),
                "plans": w["plans"],
                "unchecked": w["unchecked"],
            }
        )
    return out

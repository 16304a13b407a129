"""Whole-dump figures: share of messages per kind, visits, geocoding precision, parse time."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from ansim.alerts.parser import KINDS, ParsedMessage, parse_message
from ansim.alerts.sources import RawMessage


def parse_raw(message: RawMessage) -> ParsedMessage:
    """Parse one dump message with its send time, issuer and receiving region."""
    return parse_message(
        message.text, sent_at=message.sent_at, issuer=message.issuer, region=message.region
    )


def dump_stats(messages: list[RawMessage]) -> dict[str, Any]:
    """Parse every message and summarise (wall-clock parse time included, gazetteer warm)."""
    from ansim.geo.gazetteer import load_gazetteer

    load_gazetteer()
    t0 = time.perf_counter()
    parsed = [parse_raw(m) for m in messages]
    elapsed_s = time.perf_counter() - t0
    kinds = Counter(p.kind for p in parsed)
    precisions = Counter(v.geo.precision for p in parsed for v in p.visits)
    n_visits = sum(precisions.values())
    n = len(parsed) or 1
    return {
        "messages": len(parsed),
        "kind_share": {k: round(kinds.get(k, 0) / n, 4) for k in KINDS},
        "kind_count": {k: kinds.get(k, 0) for k in KINDS},
        "exposure_messages_without_visit": sum(
            1 for p in parsed if p.kind == "exposure_site" and not p.visits
        ),
        "visits": n_visits,
        "precision_share": {
            k: round(c / n_visits, 4) if n_visits else 0.0 for k, c in sorted(precisions.items())
        },
        "parse_time_s": round(elapsed_s, 3),
    }


def message_rows(
    messages: list[RawMessage], *, source: str
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Exposure events and one row per message (kind, status, reason) for a store load.

    Every message gets a row: ``status`` is ``events`` (exposure events made), ``no_event``
    (an exposure message whose venues could not be dated or located in Seoul, with the reason),
    or ``not_exposure`` (other kinds, kept for the record). Nothing is dropped silently.
    """
    from ansim.alerts.parser import to_exposure_events

    events: list[Any] = []
    rows: list[dict[str, Any]] = []
    for m in messages:
        parsed = parse_raw(m)
        made = to_exposure_events(parsed, source, m.source_id)
        events.extend(made)
        if parsed.kind != "exposure_site":
            status, reason = "not_exposure", ""
        elif made:
            status, reason = "events", ""
        else:
            status = "no_event"
            reason = parsed.reason or "venues outside Seoul (no polygons to locate them)"
        rows.append(
            {
                "id": m.source_id,
                "sent_at": m.sent_at,
                "issuer": parsed.issuer,
                "text": m.text,
                "kind": parsed.kind,
                "status": status,
                "reason": reason,
                "visits": len(parsed.visits),
                "events": len(made),
            }
        )
    return events, rows

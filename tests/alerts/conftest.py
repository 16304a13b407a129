"""Hand-labelled messages and the evaluation that scores the parser against them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

LABELLED = Path(__file__).resolve().parents[1] / "data" / "alerts_labelled.jsonl"
NATIONWIDE = "alerts/SOSmsg_split_nationwide_early2020.csv.gz"
SEOUL = "alerts/mois_seoul_gu_disaster_messages_20200126_20210131.csv.gz"


def load_labelled() -> list[dict[str, Any]]:
    with LABELLED.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def visit_key(district: str, start: str, end: str) -> tuple[str, str, str]:
    """A visit matches when its district and its start and end dates agree."""
    return district, start[:10], end[:10]


def score(
    gold: list[tuple[str, str, str]], pred: list[tuple[str, str, str]]
) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) with multiset matching."""
    left = Counter(gold)
    tp = 0
    for p in pred:
        if left[p] > 0:
            left[p] -= 1
            tp += 1
    return tp, len(pred) - tp, len(gold) - tp

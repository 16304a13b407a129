"""Parser quality on 177 hand-labelled real messages (both dumps): kind accuracy and visit P/R/F1."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ansim.alerts.parser import KINDS, parse_message
from ansim.alerts.sources import read_messages
from ansim.timeutil import parse_datetime

from .conftest import NATIONWIDE, load_labelled, score, visit_key


@pytest.fixture(scope="module")
def evaluation(request: pytest.FixtureRequest) -> dict[str, float]:
    data_dir = Path(request.config.rootpath) / "data"
    regions = {m.source_id: m.region for m in read_messages(data_dir / NATIONWIDE)}
    records = load_labelled()
    correct = tp = fp = fn = 0
    for r in records:
        parsed = parse_message(
            r["text"],
            sent_at=parse_datetime(r["sent_at"]),
            issuer=r["issuer"],
            region=regions.get(r["source_id"], ""),
        )
        correct += parsed.kind == r["kind"]
        gold = [visit_key(v["district"], v["start"], v["end"]) for v in r["visits"]]
        pred = [
            visit_key(v.district, v.window.start_text(), v.window.end_text()) for v in parsed.visits
        ]
        t, f_p, f_n = score(gold, pred)
        tp, fp, fn = tp + t, fp + f_p, fn + f_n
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    return {
        "n": len(records),
        "kind_accuracy": correct / len(records),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall),
    }


def test_labelled_set_is_large_and_stratified() -> None:
    records = load_labelled()
    assert len(records) >= 150
    kinds = Counter(r["kind"] for r in records)
    assert set(kinds) == set(KINDS)
    assert kinds["exposure_site"] > len(records) / 2
    sources = Counter(r["source_id"].split(":")[0] for r in records)
    assert sources["mois"] >= 100
    assert sources["sos"] >= 20
    assert len({r["source_id"] for r in records}) == len(records)


def test_kind_accuracy_target(evaluation: dict[str, float]) -> None:
    assert evaluation["kind_accuracy"] >= 0.95, evaluation


def test_visit_f1_target(evaluation: dict[str, float]) -> None:
    assert evaluation["f1"] >= 0.9, evaluation
    assert evaluation["precision"] >= 0.85, evaluation
    assert evaluation["recall"] >= 0.85, evaluation


def test_score_matches_multisets() -> None:
    a = ("강남구", "2020-10-18", "2020-10-27")
    b = ("강남구", "2020-10-19", "2020-10-27")
    assert score([a, a], [a]) == (1, 0, 1)
    assert score([a], [a, b]) == (1, 1, 0)

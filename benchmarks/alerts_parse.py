"""Benchmark: parse all 10,811 bundled 재난문자 vs Kiwi tokenisation alone; Kiwi venue-name check.

Run: ``.venv/bin/python -m benchmarks.alerts_parse``. Prints absolute times and ratios:
- ours: the full parser (kind, windows, venues, geocoding) on one core;
- baseline: kiwipiepy ``Kiwi.tokenize`` of the same texts (morphological analysis only, no parsing),
  i.e. the floor cost of any pipeline that starts by running Kiwi on every message;
- venue names on the labelled set: the regex venue name vs a Kiwi noun-run cleanup of it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ansim.alerts.parser import parse_message
from ansim.alerts.sources import read_messages
from ansim.alerts.stats import parse_raw
from ansim.geo.gazetteer import load_gazetteer
from ansim.settings import get_settings
from ansim.timeutil import parse_datetime

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "data" / "alerts_labelled.jsonl"
_NOUNS = {"NNG", "NNP", "NNB", "SL", "SN", "SH", "XSN", "XPN", "NR", "SO", "SW"}


def kiwi_venue(kiwi: object, name: str) -> str:
    """The longest run of noun-like morphemes in a venue text (Kiwi), as written in the text."""
    tokens = kiwi.tokenize(name)  # type: ignore[attr-defined]
    best = (0, 0)
    start = None
    for i, t in enumerate([*tokens, None]):
        if t is not None and t.tag in _NOUNS:
            start = i if start is None else start
            continue
        if start is not None:
            a, b = tokens[start].start, tokens[i - 1].end
            if b - a > best[1] - best[0]:
                best = (a, b)
            start = None
    return name[best[0] : best[1]].strip() or name


def main() -> None:
    data = get_settings().data_dir / "alerts"
    messages = read_messages(
        data / "mois_seoul_gu_disaster_messages_20200126_20210131.csv.gz"
    ) + read_messages(data / "SOSmsg_split_nationwide_early2020.csv.gz")
    load_gazetteer()
    t0 = time.perf_counter()
    parsed = [parse_raw(m) for m in messages]
    ours_s = time.perf_counter() - t0
    visits = sum(len(p.visits) for p in parsed)

    from kiwipiepy import Kiwi

    t0 = time.perf_counter()
    kiwi = Kiwi(num_workers=1)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for m in messages:
        kiwi.tokenize(m.text)
    kiwi_s = time.perf_counter() - t0

    print(f"messages: {len(messages)}  visits: {visits}")
    print(
        f"ours (full parse, 1 core):        {ours_s:6.2f} s  ({1e3 * ours_s / len(messages):.2f} ms/msg)"
    )
    print(f"baseline (Kiwi tokenize only):    {kiwi_s:6.2f} s  (+{load_s:.1f} s model load)")
    print(f"ratio ours / Kiwi-tokenize:       {ours_s / kiwi_s:6.2f}")
    print(f"target < 10 s: {'met' if ours_s < 10 else 'MISSED'}")

    # Does Kiwi clean venue names better than the patterns? Exact match against hand labels.
    records = [json.loads(line) for line in LABELLED.open(encoding="utf-8")]
    regex_ok = kiwi_ok = total = 0
    for r in records:
        p = parse_message(r["text"], sent_at=parse_datetime(r["sent_at"]), issuer=r["issuer"])
        gold = {v["place_name"].replace(" ", "") for v in r["visits"]}
        for v in p.visits:
            total += 1
            regex_ok += v.place_name.replace(" ", "") in gold
            kiwi_ok += kiwi_venue(kiwi, v.place_name).replace(" ", "") in gold
    print(
        f"venue name exact match on labelled visits: regex {regex_ok}/{total}, Kiwi noun-run {kiwi_ok}/{total}"
    )


if __name__ == "__main__":
    main()

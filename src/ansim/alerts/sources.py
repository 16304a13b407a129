"""Readers for the two bundled 재난문자 dumps, returning plain :class:`RawMessage` records.

Both files are CSV (optionally gzip). The MOIS Seoul dump has columns ``연,월,일,시,분,수신지역,내용``
(CP949 originally, bundled as UTF-8); the nationwide crawl has ``,create_date,location_name,msg,msg``
(UTF-8 with BOM; the fourth column is the sender, the fifth the body).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ansim.errors import InputError
from ansim.sources.encoding import read_text
from ansim.timeutil import SEOUL

MOIS_COLUMNS = ("연", "월", "일", "시", "분", "수신지역", "내용")
SOS_COLUMNS = ("", "create_date", "location_name", "msg", "msg")


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One disaster message as sent: Seoul-aware send time, issuer, receiving region, text."""

    sent_at: datetime
    issuer: str
    region: str
    text: str
    source_id: str


def _rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    # One encoding detector for every source (UTF-8, BOM, CP949/EUC-KR; gzip transparent).
    reader = csv.reader(io.StringIO(read_text(path).text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty file", source=path.name) from None
    return [h.strip() for h in header], reader


def read_messages(path: str | Path) -> list[RawMessage]:
    """Read either dump (format detected from the header).

    Raises
    ------
    InputError
        Unknown header, or a row whose send time or columns are unreadable.
    """
    p = Path(path)
    header, rows = _rows(p)
    if tuple(header) == MOIS_COLUMNS:
        return list(_mois(p.name, rows))
    if tuple(header[1:]) == SOS_COLUMNS[1:] and len(header) == 5:
        return list(_sos(p.name, rows))
    raise InputError(
        f"unknown disaster-message header {header!r}; expected {MOIS_COLUMNS} or {SOS_COLUMNS}",
        source=p.name,
    )


def _mois(name: str, rows: Iterator[list[str]]) -> Iterator[RawMessage]:
    for i, row in enumerate(rows, start=1):
        if not row:
            continue
        if len(row) != len(MOIS_COLUMNS):
            raise InputError(f"expected 7 columns, got {len(row)}", source=name, row=i)
        try:
            y, mo, d, h, mi = (int(v) for v in row[:5])
            sent_at = datetime(y, mo, d, h, mi, tzinfo=SEOUL)
        except ValueError:
            raise InputError("bad send time", source=name, row=i, field="연") from None
        text = row[6]
        yield RawMessage(sent_at, issuer_of(text), row[5].strip(), text, f"mois:{i}")


def _sos(name: str, rows: Iterator[list[str]]) -> Iterator[RawMessage]:
    for i, row in enumerate(rows, start=1):
        if not row:
            continue
        if len(row) != 5:
            raise InputError(f"expected 5 columns, got {len(row)}", source=name, row=i)
        try:
            sent_at = datetime.strptime(row[1].strip(), "%Y/%m/%d %H:%M:%S").replace(tzinfo=SEOUL)
        except ValueError:
            raise InputError("bad send time", source=name, row=i, field="create_date") from None
        issuer = issuer_of(row[4]) or row[3].strip()
        yield RawMessage(sent_at, issuer, row[2].strip(), row[4], f"sos:{row[0].strip()}")


def issuer_of(text: str) -> str:
    """The sender named in a leading ``[○○구청]`` (a trailing ``(수정)`` note removed), else ``""``."""
    s = text.lstrip()
    if not s.startswith("["):
        return ""
    end = s.find("]")
    if end < 0:
        return ""
    name = s[1:end]
    paren = name.find("(")
    return (name[:paren] if paren > 0 else name).strip()

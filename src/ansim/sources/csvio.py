"""Row-numbered CSV reading and vectorised column validation shared by every reader.

A :class:`Table` keeps every cell as text so that each check can name the first bad row: data
rows are numbered from 1 (the header is row 0), matching :class:`ansim.errors.InputError`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from ansim.errors import InputError
from ansim.sources.encoding import read_text
from ansim.timeutil import parse_date


@dataclass(frozen=True, slots=True)
class Table:
    """A CSV file as text cells: ``frame`` has one str column per header name, index = data row - 1."""

    source: str
    frame: pd.DataFrame
    encoding: str
    row_numbers: np.ndarray | None = None  # file row of each frame row, when a subset

    def __len__(self) -> int:
        return len(self.frame)

    def fail(self, position: int, column: str | None, reason: str) -> NoReturn:
        """Raise an :class:`InputError` for the data row at 0-based ``position``."""
        row = int(self.row_numbers[position]) if self.row_numbers is not None else position + 1
        raise InputError(reason, source=self.source, row=row, field=column)

    def subset(self, mask: np.ndarray) -> Table:
        """The rows where ``mask`` holds; errors still name their row in the whole file."""
        positions = np.flatnonzero(mask)
        numbers = self.row_numbers[positions] if self.row_numbers is not None else positions + 1
        return Table(
            source=self.source,
            frame=self.frame.iloc[positions].reset_index(drop=True),
            encoding=self.encoding,
            row_numbers=numbers,
        )

    def text(self, column: str) -> pd.Series:
        """The column's cells, stripped."""
        return self.frame[column].str.strip()


def read_csv_table(
    path: Path | str,
    *,
    required: Sequence[str],
    header_aliases: dict[str, str] | None = None,
) -> Table:
    """Read a CSV file (plain/gzip, any supported encoding) into a :class:`Table`.

    Parameters
    ----------
    path
        The file.
    required
        Columns that must be present (after stripping spaces and applying ``header_aliases``).
    header_aliases
        Renames applied to header cells first, e.g. to fix a known typo in a public file.

    Raises
    ------
    InputError
        On a missing column (row 0), or a data row whose number of fields differs from the header.
    """
    name = Path(path).name
    decoded = read_text(path)
    reader = csv.reader(io.StringIO(decoded.text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty file (no header)", source=name, row=0) from None
    except csv.Error as exc:
        raise InputError(f"unreadable CSV header: {exc}", source=name, row=0) from None
    aliases = header_aliases or {}
    header = [aliases.get(h.strip(), h.strip()) for h in header]
    for column in required:
        if column not in header:
            raise InputError("missing column in header", source=name, row=0, field=column)
    width = len(header)
    rows: list[list[str]] = []
    try:
        for number, row in enumerate(reader, start=1):
            if len(row) != width:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line (often the last one)
                missing = header[len(row)] if len(row) < width else None
                raise InputError(
                    f"row has {len(row)} fields but the header has {width}"
                    + (f" (column '{missing}' missing)" if missing else ""),
                    source=name,
                    row=number,
                    field=missing,
                )
            rows.append(row)
    except csv.Error as exc:
        raise InputError(f"unreadable CSV: {exc}", source=name, row=reader.line_num) from None
    frame = (
        pd.DataFrame(rows, columns=header, dtype=object)
        if rows
        else pd.DataFrame({h: pd.Series([], dtype=object) for h in header})
    )
    # Duplicate header names (rare) would make frame[column] a DataFrame; keep the first one.
    frame = frame.loc[:, ~frame.columns.duplicated()].astype(str)
    return Table(source=name, frame=frame.reset_index(drop=True), encoding=decoded.encoding)


def _first_bad(mask: np.ndarray | pd.Series) -> int | None:
    arr = np.asarray(mask, dtype=bool)
    if arr.any():
        return int(np.argmax(arr))
    return None


def require_text(table: Table, column: str) -> pd.Series:
    """Non-empty stripped text."""
    values = table.text(column)
    bad = _first_bad(values == "")
    if bad is not None:
        table.fail(bad, column, "empty value")
    return values


def numbers(
    table: Table,
    column: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
    allow_empty: bool = False,
    what: str = "number",
) -> pd.Series:
    """Parse a numeric column; empty cells become NaN when ``allow_empty``.

    Raises
    ------
    InputError
        At the first cell that is not a number, is out of ``[minimum, maximum]``, or not whole
        when ``integer`` is set.
    """
    raw = table.text(column)
    empty = (raw == "").to_numpy()
    values = pd.to_numeric(raw.str.replace(",", "", regex=False), errors="coerce").astype(float)
    arr = values.to_numpy()
    nan = np.isnan(arr)
    bad = _first_bad(nan & ~empty) if allow_empty else _first_bad(nan)
    if bad is not None:
        reason = "empty value" if empty[bad] else f"not a {what}: {raw.iloc[bad]!r}"
        table.fail(bad, column, reason)
    ok = ~nan
    if integer:
        bad = _first_bad(ok & (np.floor(arr) != arr))
        if bad is not None:
            table.fail(bad, column, f"not a whole number: {raw.iloc[bad]!r}")
    if minimum is not None:
        bad = _first_bad(ok & (arr < minimum))
        if bad is not None:
            table.fail(bad, column, f"{raw.iloc[bad]} is below the minimum {minimum:g}")
    if maximum is not None:
        bad = _first_bad(ok & (arr > maximum))
        if bad is not None:
            table.fail(bad, column, f"{raw.iloc[bad]} is above the maximum {maximum:g}")
    return values


def latitudes(table: Table, column: str, *, allow_empty: bool = False) -> pd.Series:
    """WGS84 latitude in degrees, within [-90, 90]."""
    return numbers(table, column, minimum=-90, maximum=90, allow_empty=allow_empty, what="latitude")


def longitudes(table: Table, column: str, *, allow_empty: bool = False) -> pd.Series:
    """WGS84 longitude in degrees, within [-180, 180]."""
    return numbers(
        table, column, minimum=-180, maximum=180, allow_empty=allow_empty, what="longitude"
    )


def mapped(
    table: Table,
    column: str,
    convert: Callable[[str], Any],
    *,
    what: str,
) -> pd.Series:
    """Apply ``convert`` to each distinct cell (cheap on repetitive columns such as dates).

    ``convert`` raises ``ValueError``/``KeyError`` (message used as the reason) or returns a value.
    """
    raw = table.text(column)
    converted: dict[str, Any] = {}
    for value in pd.unique(raw):
        try:
            converted[value] = convert(value)
        except (ValueError, KeyError):
            position = int(np.argmax((raw == value).to_numpy()))
            reason = "empty value" if not value else f"not a {what}: {value!r}"
            table.fail(position, column, reason)
    return raw.map(converted)


def dates(table: Table, column: str) -> pd.Series:
    """Calendar dates (``datetime.date``) in any spelling :func:`ansim.timeutil.parse_date` knows."""

    def convert(value: str) -> date:
        if not value:
            raise ValueError("empty value")
        return parse_date(value)

    return mapped(table, column, convert, what="date")

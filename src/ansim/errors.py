"""Domain errors. Each names where the problem is, so the CLI and API can say it plainly."""

from __future__ import annotations


class AnsimError(Exception):
    """Base class of every error Ansim reports to a person (CLI exit 2, API 4xx)."""


class InputError(AnsimError):
    """Bad input: a file row, a request field or a command option.

    Parameters
    ----------
    reason
        What is wrong, in words a person can act on.
    source
        File name, endpoint or option group the value came from.
    row
        1-based data row number in the file (the header is row 0), when the input is a file.
    field
        Column, JSON field or option name.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.row = row
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class OutOfCoverageError(InputError):
    """A point or time outside the area and period the data covers."""

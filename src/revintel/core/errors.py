"""Errors a user can cause. Each message names the file, row, column or field and what was expected.

The CLI prints these without a traceback and exits non-zero; the API returns them as 4xx with the
same text. The kinds carry no HTTP status: ``revintel/api/errors.py`` maps each kind to its status.
"""

from __future__ import annotations

from dataclasses import dataclass


class RevintelError(Exception):
    """Base class for every error caused by user input or configuration."""


class ConfigError(RevintelError):
    """A setting is missing or invalid."""


class InvalidOption(RevintelError):
    """A request option or field (a month, a breakdown, a filter, a page) is not valid."""


class BackendUnavailable(RevintelError):
    """A database (or a lock it holds) could not serve the request now; a retry may succeed."""


class NotFoundError(RevintelError):
    """A named thing (table, account, model) does not exist."""


class NoDataError(RevintelError):
    """A capability needs a table that has not been loaded."""


# -- deals (pipeline area 4): optimistic concurrency of an edit ------------------------------------
class EditConflict(RevintelError):
    """An edit was based on a version of a record that has changed since (a stale ETag)."""


class PreconditionMissing(RevintelError):
    """An edit did not say which version of the record it was based on (no If-Match)."""


# -- notes (retention): only a note's author may change it ----------------------------------------
class NotAllowed(RevintelError):
    """The request is understood but this author may not do it (edit another author's note)."""


class OutsideTheData(InvalidOption):
    """A well-formed option (a month, a range) that the loaded data does not reach."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file: where it is and what was expected."""

    file: str
    message: str
    row: int | None = None  # 1-based data row (the header is row 0), as a spreadsheet user counts
    column: str | None = None
    expected: str | None = None
    got: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = f"{', '.join(where)}: {self.message}"
        if self.expected is not None:
            text += f"; expected {self.expected}"
        if self.got is not None:
            text += f", got {self.got!r}"
        return text


class ValidationFailed(RevintelError):
    """Input files broke their table contracts. Nothing was written.

    ``problems`` holds at most ``shown`` problems; ``total`` counts them all, and ``counts`` counts
    them by (file, column, message) so a file with a million bad rows gives a short, useful report.
    """

    def __init__(
        self,
        problems: list[Problem],
        total: int | None = None,
        counts: dict[str, int] | None = None,
    ) -> None:
        self.problems = problems
        self.total = total if total is not None else len(problems)
        self.counts = counts or {}
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"Validation failed: {self.total} problem(s) found; nothing was loaded."]
        lines += [f"  - {p}" for p in self.problems]
        if self.total > len(self.problems):
            lines.append(f"  … and {self.total - len(self.problems)} more.")
        if self.counts and self.total > len(self.problems):
            lines.append("  Problems by kind:")
            for kind, n in sorted(self.counts.items(), key=lambda kv: -kv[1]):
                lines.append(f"    {n:>8}  {kind}")
        return "\n".join(lines)

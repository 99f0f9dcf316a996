"""Aggregated path files, as the ChannelAttribution package takes them: ``path`` (channels joined
by ``" > "``), ``total_conversions``, optional ``total_conversion_value`` and ``total_null``, comma
or semicolon separated (docs/attribution.md, Importing journeys).

The separator is the one of ``,`` and ``;`` that the header line holds more of. Column names are
matched without regard to case or surrounding spaces; other columns are ignored. Every problem
(a missing column, a number that is not one, a negative count, an empty path or channel, a row
with too many or too few fields) is reported with the file, the 1-based data row (the header is
row 0), the column and what was expected, all at once in one :class:`InvalidPathFile`; nothing is
read from a file with a problem.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import numpy as np

from revintel.attribution.journeys import Journeys
from revintel.core.errors import Problem, ValidationFailed

PATH = "path"
CONVERSIONS = "total_conversions"
VALUE = "total_conversion_value"
NULLS = "total_null"
SEPARATOR = ">"  # channels are joined by " > "; the spaces around it are optional
SHOWN = 20  # problems listed in full; the rest are counted


class InvalidPathFile(ValidationFailed):
    """An aggregated path file that cannot be read: each problem names its row and column."""


def read_paths(path: Path) -> Journeys:
    """The journeys of an aggregated path file; a clear error naming the row and column."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidPathFile([Problem(name, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise InvalidPathFile(
            [Problem(name, f"cannot be read as UTF-8 text (byte {exc.start})")]
        ) from None
    except OSError as exc:
        raise InvalidPathFile([Problem(name, f"cannot be read: {exc.strerror}")]) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InvalidPathFile(
            [
                Problem(
                    name,
                    "no header line",
                    expected=f"a header with {PATH} and {CONVERSIONS}, comma or semicolon "
                    "separated",
                )
            ]
        )
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [h.strip().casefold() for h in next(reader)]
    missing = [c for c in (PATH, CONVERSIONS) if c not in header]
    if missing:
        raise InvalidPathFile(
            [
                Problem(
                    name,
                    f"missing column '{c}'",
                    row=0,
                    column=c,
                    expected=f"columns {PATH}, {CONVERSIONS} (optional {VALUE}, {NULLS}), "
                    f"separated by '{delimiter}'",
                    got=delimiter.join(header),
                )
                for c in missing
            ]
        )
    where = {c: header.index(c) for c in (PATH, CONVERSIONS, VALUE, NULLS) if c in header}
    problems = _Problems(name)
    paths: list[list[str]] = []
    numbers: dict[str, list[float]] = {CONVERSIONS: [], VALUE: [], NULLS: []}
    for row_number, fields in enumerate(reader, start=1):
        if not fields or all(not f.strip() for f in fields):
            continue  # a blank line
        if len(fields) != len(header):
            problems.add(
                Problem(
                    name,
                    "wrong number of fields",
                    row=row_number,
                    expected=f"{len(header)} fields separated by '{delimiter}'",
                    got=delimiter.join(fields),
                )
            )
            continue
        channels = [c.strip() for c in fields[where[PATH]].split(SEPARATOR)]
        if not fields[where[PATH]].strip():
            problems.add(
                Problem(
                    name,
                    "empty path",
                    row=row_number,
                    column=PATH,
                    expected="channels joined by ' > '",
                )
            )
        elif not all(channels):
            problems.add(
                Problem(
                    name,
                    "empty channel in the path",
                    row=row_number,
                    column=PATH,
                    expected="channels joined by ' > ', none of them empty",
                    got=fields[where[PATH]],
                )
            )
        paths.append(channels)
        for column in (CONVERSIONS, VALUE, NULLS):
            if column not in where:
                numbers[column].append(0.0)
                continue
            numbers[column].append(_number(fields[where[column]], column, row_number, problems))
    if problems.total:
        raise problems.error()
    if not paths:
        raise InvalidPathFile(
            [Problem(name, "no paths", expected="at least one data row after the header")]
        )
    return _journeys(paths, numbers)


def _number(text: str, column: str, row: int, problems: _Problems) -> float:
    stripped = text.strip()
    if column != CONVERSIONS and not stripped:
        return 0.0  # an optional count left blank
    try:
        number = float(stripped)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        problems.add(
            Problem(
                problems.file, "not a number", row=row, column=column, expected="a number", got=text
            )
        )
        return 0.0
    if number < 0:
        problems.add(
            Problem(
                problems.file,
                "negative number",
                row=row,
                column=column,
                expected="0 or more",
                got=text,
            )
        )
        return 0.0
    return number


class _Problems:
    """The problems of one file: the first :data:`SHOWN` in full, all of them counted by kind."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.shown: list[Problem] = []
        self.total = 0
        self.counts: Counter[str] = Counter()

    def add(self, problem: Problem) -> None:
        self.total += 1
        self.counts[f"{problem.column or 'row'}: {problem.message}"] += 1
        if len(self.shown) < SHOWN:
            self.shown.append(problem)

    def error(self) -> InvalidPathFile:
        return InvalidPathFile(self.shown, self.total, dict(self.counts))


def _journeys(paths: list[list[str]], numbers: dict[str, list[float]]) -> Journeys:
    flat = [c for p in paths for c in p]
    names, codes = np.unique(np.array(flat, dtype=str), return_inverse=True)
    lengths = np.array([len(p) for p in paths], dtype=np.int64)
    return Journeys(
        channels=tuple(str(n) for n in names),
        starts=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        channel=codes.ravel().astype(np.int32),
        conversions=np.array(numbers[CONVERSIONS], dtype=np.float64),
        value=np.array(numbers[VALUE], dtype=np.float64),
        nulls=np.array(numbers[NULLS], dtype=np.float64),
    )

"""Aggregated path files (docs/attribution.md, Importing journeys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.attribution.paths_file import InvalidPathFile, read_paths
from revintel.core.errors import ValidationFailed


def write(tmp_path: Path, text: str, name: str = "paths.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_semicolon_file_with_every_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "path;total_conversions;total_conversion_value;total_null\n"
        "eta > iota > alpha > eta;1;0.244;3\n"
        "iota > iota;2;3.5;6\n"
        "beta;0;0;4\n",
    )
    j = read_paths(path)
    assert j.channels == ("alpha", "beta", "eta", "iota")
    assert [tuple(j.channels[c] for c in p) for p in j.paths()] == [
        ("eta", "iota", "alpha", "eta"),
        ("iota", "iota"),
        ("beta",),
    ]
    assert j.conversions.tolist() == [1.0, 2.0, 0.0]
    assert j.value.tolist() == [0.244, 3.5, 0.0]
    assert j.nulls.tolist() == [3.0, 6.0, 4.0]
    assert j.days_before is None


def test_a_comma_file_with_only_the_required_columns_in_any_order_and_case(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "\ufeffTotal_Conversions, Path ,note\n4,Search>Email,x\n\n1,Email,y\n")
    j = read_paths(path)
    assert j.channels == ("Email", "Search")
    assert j.paths() == [(1, 0), (0,)]
    assert j.conversions.tolist() == [4.0, 1.0]
    assert j.value.tolist() == [0.0, 0.0]
    assert j.nulls.tolist() == [0.0, 0.0]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "path;conversions\nA;1\n")
    with pytest.raises(InvalidPathFile) as err:
        read_paths(path)
    text = str(err.value)
    assert "paths.csv" in text and "missing column 'total_conversions'" in text
    assert "expected columns path, total_conversions" in text
    assert isinstance(err.value, ValidationFailed)


def test_every_bad_row_is_reported_with_its_row_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "path;total_conversions;total_conversion_value;total_null\n"
        "A > B;1;2.5;3\n"
        "A;one;0;0\n"
        ";1;0;0\n"
        "A >  > B;1;0;0\n"
        "B;1;-4;0\n"
        "B;1;0;-1\n"
        "B;1;0\n"
        "C;1;nan;0\n",
    )
    with pytest.raises(InvalidPathFile) as err:
        read_paths(path)
    problems = err.value.problems
    assert err.value.total == 7
    found = [(p.row, p.column, p.message) for p in problems]
    assert found == [
        (2, "total_conversions", "not a number"),
        (3, "path", "empty path"),
        (4, "path", "empty channel in the path"),
        (5, "total_conversion_value", "negative number"),
        (6, "total_null", "negative number"),
        (7, None, "wrong number of fields"),
        (8, "total_conversion_value", "not a number"),
    ]
    text = str(err.value)
    assert "paths.csv, row 2, column 'total_conversions': not a number; expected a number" in text
    assert "got 'one'" in text


def test_a_missing_empty_or_headless_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidPathFile, match=r"nowhere\.csv: file not found"):
        read_paths(tmp_path / "nowhere.csv")
    with pytest.raises(InvalidPathFile, match="no header line"):
        read_paths(write(tmp_path, ""))
    with pytest.raises(InvalidPathFile, match="no paths"):
        read_paths(write(tmp_path, "path,total_conversions\n"))


def test_many_bad_rows_are_counted_not_all_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "path,total_conversions\n" + "A,x\n" * 50)
    with pytest.raises(InvalidPathFile) as err:
        read_paths(path)
    assert err.value.total == 50
    assert len(err.value.problems) == 20
    assert "and 30 more" in str(err.value)

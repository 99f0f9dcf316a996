"""Typing and encoding arbitrary customer tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from revintel.churn.tabular import (
    ColumnSpec,
    encode,
    infer_columns,
    parse_target,
    read_table,
)
from revintel.core.errors import RevintelError, ValidationFailed


def _kinds(frame: pl.DataFrame, exclude: list[str] | None = None) -> dict[str, str]:
    return {s.name: s.kind for s in infer_columns(frame, exclude).specs}


def test_numbers_stored_as_text_and_blanks() -> None:
    frame = pl.DataFrame({"mrr": ["1,234.5", " 12 ", "", None, "$30"], "n": [1, 2, 3, 4, 5]})
    typing = infer_columns(frame)
    assert _kinds(frame) == {"mrr": "numeric", "n": "numeric"}
    x = encode(frame, typing.specs)
    assert x[:, 0].tolist()[:2] == [1234.5, 12.0]
    assert np.isnan(x[2, 0]) and np.isnan(x[3, 0])
    assert x[4, 0] == 30.0


def test_booleans_in_their_many_spellings() -> None:
    frame = pl.DataFrame(
        {
            "yes_no": ["Yes", "no", " YES ", "", "No"],
            "y_n": ["Y", "N", "Y", "N", "Y"],
            "zero_one": [0, 1, 1, 0, None],
            "native": [True, False, None, True, False],
            "true_false": ["true", "false", "TRUE", "False", "true"],
        }
    )
    typing = infer_columns(frame)
    assert {s.kind for s in typing.specs} == {"boolean"}
    x = encode(frame, typing.specs)
    assert x[:, 0].tolist()[:3] == [1.0, 0.0, 1.0] and np.isnan(x[3, 0])
    assert x[:, 1].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert np.isnan(x[4, 2]) and np.isnan(x[2, 3])


def test_dates_become_days_since_1970() -> None:
    frame = pl.DataFrame(
        {
            "signup": ["2024-01-01", "2024-01-03", "", "2024-02-01 10:00:00"],
            "renewal": [dt.date(1970, 1, 2), dt.date(2024, 1, 1), None, dt.date(2024, 1, 2)],
        }
    )
    typing = infer_columns(frame)
    assert _kinds(frame) == {"signup": "date", "renewal": "date"}
    x = encode(frame, typing.specs)
    start = (dt.date(2024, 1, 1) - dt.date(1970, 1, 1)).days
    assert x[0, 0] == start and x[1, 0] == start + 2 and np.isnan(x[2, 0])
    assert x[3, 0] == start + 31
    assert x[0, 1] == 1.0 and np.isnan(x[2, 1])


def test_ids_free_text_and_constants_are_dropped() -> None:
    n = 40
    frame = pl.DataFrame(
        {
            "row_number": list(range(1, n + 1)),
            "surname": [f"name{i}" for i in range(n)],
            "plan": ["basic", "pro", "enterprise", ""] * (n // 4),
            "constant": ["x"] * n,
            "blank": [None] * n,
            "seats": [i % 7 for i in range(n)],
            "target": [i % 2 for i in range(n)],
        }
    )
    typing = infer_columns(frame, exclude=["target"])
    assert [s.name for s in typing.specs] == ["plan", "seats"]
    assert set(typing.dropped) == {"row_number", "surname", "constant", "blank"}
    assert "row number" in typing.dropped["row_number"]
    plan = typing.specs[0]
    assert plan.kind == "categorical" and plan.categories == ["basic", "enterprise", "pro"]
    x = encode(frame, typing.specs)
    assert x[:4, 0].tolist()[:3] == [0.0, 2.0, 1.0] and np.isnan(x[3, 0])


def test_unseen_levels_are_missing_and_missing_columns_are_named() -> None:
    spec = ColumnSpec("plan", "categorical", ["basic", "pro"])
    x = encode(pl.DataFrame({"plan": ["pro", "gold"]}), [spec])
    assert x[0, 0] == 1.0 and np.isnan(x[1, 0])
    with pytest.raises(ValidationFailed, match=r"column 'seats'.*missing"):
        encode(pl.DataFrame({"plan": ["pro"]}), [spec, ColumnSpec("seats", "numeric")])
    assert ColumnSpec.from_dict(spec.as_dict()) == spec


def test_parse_target() -> None:
    assert parse_target(pl.Series("c", [0, 1, 1])).tolist() == [False, True, True]
    assert parse_target(pl.Series("c", ["Yes", "no"])).tolist() == [True, False]
    assert parse_target(pl.Series("c", ["churned", "Retained"])).tolist() == [True, False]
    assert parse_target(pl.Series("c", [True, False])).tolist() == [True, False]
    with pytest.raises(ValidationFailed, match=r"column 'status'.*'gold', 'silver'"):
        parse_target(pl.Series("status", ["gold", "silver"]))
    with pytest.raises(ValidationFailed, match="single class"):
        parse_target(pl.Series("c", [0, 0]))
    with pytest.raises(ValidationFailed, match="blank in 1 row"):
        parse_target(pl.Series("c", ["yes", ""]))
    with pytest.raises(ValidationFailed, match="column 'c'"):
        parse_target(pl.Series("c", [0, 1, 2]))


def test_read_table(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    frame.write_csv(tmp_path / "t.csv")
    frame.write_parquet(tmp_path / "t.parquet")
    assert read_table(tmp_path / "t.csv").equals(frame)
    assert read_table(tmp_path / "t.parquet").equals(frame)
    (tmp_path / "t.xlsx").write_bytes(b"PK")
    with pytest.raises(RevintelError, match=r"t\.xlsx.*expected a \.csv or \.parquet"):
        read_table(tmp_path / "t.xlsx")
    (tmp_path / "empty.csv").write_text("a,b\n")
    with pytest.raises(RevintelError, match=r"empty\.csv.*empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(RevintelError, match=r"bad\.parquet.*cannot be read"):
        read_table(tmp_path / "bad.parquet")
    with pytest.raises(RevintelError, match=r"nothing\.csv.*not found"):
        read_table(tmp_path / "nothing.csv")

"""Typing and encoding any customer table for the churn model.

A user brings a CSV or Parquet file with one row per customer; nothing about its columns is known
in advance. :func:`infer_columns` types each column itself:

* **boolean**: a native boolean, or exactly two values from one pair of true/false, yes/no, y/n,
  t/f or 0/1 (case and surrounding blanks ignored);
* **numeric**: numbers, including numbers stored as text (``"1,234.5"``, ``" 12 "``, ``"$30"``);
* **date**: a date/datetime column or ISO text (``2024-03-01``, ``2024-03-01 10:00:00``), encoded
  as days since 1970-01-01;
* **categorical**: text with few levels (at most :data:`MAX_LEVELS`, and at most half as many
  levels as non-blank values unless there are no more than :data:`FEW_LEVELS`);
* **dropped**, with the reason: blank or constant columns, free-text or ID-like text with many
  levels (a surname), and monotone unique integers (a row number).

Empty strings count as missing everywhere. :func:`encode` turns a frame into the float64 matrix
the models use (missing → NaN; categoricals as their code in ``ColumnSpec.categories``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from revintel.core.errors import Problem, RevintelError, ValidationFailed

ColumnKind = Literal["numeric", "boolean", "categorical", "date"]

MAX_LEVELS = 100  # more distinct text values than this reads as free text or an ID
MAX_LEVEL_SHARE = 0.5  # ... and so does a level count above this share of the non-blank values
FEW_LEVELS = 10  # this many text levels is a category however short the table
MIN_ROWS_FOR_ID = 20  # below this a run of unique increasing integers is too short to call an ID

TRUE_WORDS = ("true", "yes", "y", "t", "1")
FALSE_WORDS = ("false", "no", "n", "f", "0")
BOOLEAN_PAIRS = tuple(zip(TRUE_WORDS, FALSE_WORDS, strict=True))
_BOOLEAN_CODES = {**dict.fromkeys(TRUE_WORDS, 1.0), **dict.fromkeys(FALSE_WORDS, 0.0)}
_BOOLEAN_CODES.update({"1.0": 1.0, "0.0": 0.0})

POSITIVE_LABELS = frozenset(
    (*TRUE_WORDS, "1.0", "churned", "churn", "exited", "left", "lost", "cancelled", "canceled")
)
NEGATIVE_LABELS = frozenset(
    (*FALSE_WORDS, "0.0", "retained", "active", "stayed", "kept", "renewed", "not churned")
)

_NUMBER_NOISE = r"[,\s_$€£%]"  # thousands separators, blanks, currency and percent signs


@dataclass
class ColumnSpec:
    """One model input column: its name, how it is typed and, for categoricals, its levels."""

    name: str
    kind: ColumnKind
    categories: list[str] | None = None  # categorical: known levels, in code order

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (stored with the model)."""
        return {"name": self.name, "kind": self.kind, "categories": self.categories}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnSpec:
        """Inverse of :meth:`as_dict`."""
        categories = d.get("categories")
        return cls(
            name=str(d["name"]),
            kind=d["kind"],
            categories=None if categories is None else [str(c) for c in categories],
        )


@dataclass
class TableTyping:
    """What :func:`infer_columns` decided: the model columns and the dropped ones with reasons."""

    specs: list[ColumnSpec]
    dropped: dict[str, str] = field(default_factory=dict)


# -- reading ---------------------------------------------------------------------------------------


def read_table(path: str | Path) -> pl.DataFrame:
    """Reads a customer table from CSV (any extension but .parquet/.pq) or Parquet.

    Raises RevintelError naming the file when it is missing, unreadable, empty or neither format.
    """
    path = Path(path)
    if not path.is_file():
        raise RevintelError(f"{path}: file not found; expected a CSV or Parquet customer table")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pl.read_parquet(path)
        elif suffix in (".csv", ".txt", ".tsv", ""):
            frame = _read_csv(path, separator="\t" if suffix == ".tsv" else ",")
        else:
            raise RevintelError(
                f"{path}: unsupported file type '{suffix}'; expected a .csv or .parquet file"
            )
    except RevintelError:
        raise
    except Exception as exc:  # polars raises several error types for a broken file
        raise RevintelError(
            f"{path}: cannot be read as {'Parquet' if suffix in ('.parquet', '.pq') else 'CSV'} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "expected a CSV file with a header row or a Parquet file"
        ) from exc
    if frame.width == 0 or frame.height == 0:
        raise RevintelError(f"{path}: the table is empty; expected a header row and data rows")
    return frame


def _read_csv(path: Path, separator: str) -> pl.DataFrame:
    """CSV with polars' type inference; all text if a column's later values break the guess."""
    try:
        return pl.read_csv(path, separator=separator, infer_schema_length=10_000)
    except pl.exceptions.ComputeError:
        return pl.read_csv(path, separator=separator, infer_schema=False)


# -- typing ----------------------------------------------------------------------------------------


def _clean_text(expr: pl.Expr) -> pl.Expr:
    """Stripped text; empty strings become null."""
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text != "").then(text)  # keeps the column's name


def _number_from_text(expr: pl.Expr) -> pl.Expr:
    """'1,234.5', ' 12 ', '$30' → float; anything else → null."""
    return _clean_text(expr).str.replace_all(_NUMBER_NOISE, "").cast(pl.Float64, strict=False)


def _days_from_text(expr: pl.Expr) -> pl.Expr:
    """ISO date or datetime text → days since 1970-01-01 (float); anything else → null."""
    text = _clean_text(expr)
    as_date = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    return as_date.cast(pl.Int32).cast(pl.Float64)


def _is_date_text(text: pl.Series) -> bool:
    """All non-blank values look like ISO dates (or datetimes) and parse."""
    if not text.str.contains(r"^\d{4}-\d{2}-\d{2}([ T].*)?$").all():
        return False
    frame = pl.DataFrame({"t": text})
    return frame.select(_days_from_text(pl.col("t")).is_not_null().all()).item()


def _boolean_pair(values: set[str]) -> bool:
    """Exactly two lower-cased values forming one true/false pair."""
    return len(values) == 2 and any(values == {t, f} for t, f in BOOLEAN_PAIRS)


def _type_column(series: pl.Series) -> tuple[ColumnSpec | None, str | None]:
    """The spec for one column, or None and the reason it is dropped."""
    name = series.name
    dtype = series.dtype
    if dtype == pl.Boolean:
        return (
            (ColumnSpec(name, "boolean"), None)
            if series.drop_nulls().n_unique() > 1
            else (
                None,
                "has a single value",
            )
        )
    if dtype in (pl.Date, pl.Datetime) or isinstance(dtype, pl.Datetime):
        values = series.drop_nulls()
        if values.len() == 0:
            return None, "is blank in every row"
        return (
            (ColumnSpec(name, "date"), None)
            if values.n_unique() > 1
            else (
                None,
                "has a single value",
            )
        )
    if dtype.is_numeric():
        return _type_numbers(series.cast(pl.Float64), integer=dtype.is_integer())
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return _type_text(series)
    return None, f"has an unsupported type ({dtype})"


def _type_numbers(values: pl.Series, integer: bool) -> tuple[ColumnSpec | None, str | None]:
    """Numeric, or boolean when the only values are 0 and 1; row-number-like IDs dropped."""
    name = values.name
    present = values.drop_nulls().drop_nans()
    if present.len() == 0:
        return None, "is blank in every row"
    distinct = present.n_unique()
    if distinct == 1:
        return None, "has a single value"
    if distinct == 2 and set(present.unique().to_list()) == {0.0, 1.0}:
        return ColumnSpec(name, "boolean"), None
    is_whole = integer or bool((present == present.round(0)).all())
    if (
        is_whole
        and present.len() == values.len()
        and values.len() >= MIN_ROWS_FOR_ID
        and distinct == values.len()
        and (values.diff().drop_nulls() > 0).all()
    ):
        return None, "is a unique, increasing whole number in every row (a row number or ID)"
    return ColumnSpec(name, "numeric"), None


def _type_text(series: pl.Series) -> tuple[ColumnSpec | None, str | None]:
    """Booleans, numbers, dates and categoricals hiding in a text column."""
    name = series.name
    text = pl.DataFrame({"v": series}).select(_clean_text(pl.col("v")))["v"]
    present = text.drop_nulls()
    if present.len() == 0:
        return None, "is blank in every row"
    lowered = set(present.str.to_lowercase().unique().to_list())
    if len(lowered) == 1:
        return None, "has a single value"
    if _boolean_pair(lowered):
        return ColumnSpec(name, "boolean"), None
    numbers = pl.DataFrame({"v": present}).select(_number_from_text(pl.col("v")))["v"]
    if numbers.null_count() == 0:
        return _type_numbers(
            pl.DataFrame({"v": series}).select(_number_from_text(pl.col("v")))["v"].alias(name),
            integer=False,
        )
    if _is_date_text(present):
        return ColumnSpec(name, "date"), None
    levels = present.n_unique()
    if levels > MAX_LEVELS or levels > max(MAX_LEVEL_SHARE * present.len(), FEW_LEVELS):
        return None, (
            f"is text with {levels} distinct values in {present.len()} rows "
            "(free text or an ID, not a category)"
        )
    return ColumnSpec(name, "categorical", categories=sorted(present.unique().to_list())), None


def infer_columns(frame: pl.DataFrame, exclude: list[str] | None = None) -> TableTyping:
    """Types every column of ``frame`` except ``exclude`` (the target, the ID, ...).

    See the module docstring for the rules. Columns are kept in the frame's order.
    """
    skip = set(exclude or [])
    specs: list[ColumnSpec] = []
    dropped: dict[str, str] = {}
    for name in frame.columns:
        if name in skip:
            continue
        spec, reason = _type_column(frame[name])
        if spec is None:
            dropped[name] = reason or "not usable"
        else:
            specs.append(spec)
    return TableTyping(specs=specs, dropped=dropped)


# -- encoding --------------------------------------------------------------------------------------


def _encode_expr(spec: ColumnSpec, dtype: pl.DataType) -> pl.Expr:
    """Float64 expression for one spec column of the given dtype (missing → null)."""
    col = pl.col(spec.name)
    text_like = dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)
    if spec.kind == "numeric":
        if text_like:
            return _number_from_text(col)
        if dtype == pl.Boolean or dtype.is_numeric():
            return col.cast(pl.Float64)
        return col.cast(pl.Float64, strict=False)
    if spec.kind == "boolean":
        if dtype == pl.Boolean:
            return col.cast(pl.Float64)
        if dtype.is_numeric():
            value = col.cast(pl.Float64)
            return pl.when(value.is_in([0.0, 1.0])).then(value).otherwise(None)
        return (
            _clean_text(col)
            .str.to_lowercase()
            .replace_strict(_BOOLEAN_CODES, default=None, return_dtype=pl.Float64)
        )
    if spec.kind == "categorical":
        codes = {level: float(i) for i, level in enumerate(spec.categories or [])}
        return _clean_text(col).replace_strict(codes, default=None, return_dtype=pl.Float64)
    # date
    if dtype == pl.Date:
        return col.cast(pl.Int32).cast(pl.Float64)
    if isinstance(dtype, pl.Datetime):
        return col.dt.date().cast(pl.Int32).cast(pl.Float64)
    if text_like:
        return _days_from_text(col)
    return col.cast(pl.Float64, strict=False)


def encode(frame: pl.DataFrame, specs: list[ColumnSpec], source: str = "table") -> np.ndarray:
    """The (rows × specs) float64 matrix the models use; missing and unseen values are NaN.

    Raises ValidationFailed naming each spec column missing from ``frame`` (``source`` names the
    file or table in the message).
    """
    missing = [s.name for s in specs if s.name not in frame.columns]
    if missing:
        raise ValidationFailed(
            [
                Problem(
                    file=source,
                    column=name,
                    message="column is missing",
                    expected="every column the model was trained on",
                )
                for name in missing
            ]
        )
    if not specs:
        return np.empty((frame.height, 0), dtype=np.float64)
    exprs = [
        _encode_expr(s, frame.schema[s.name]).fill_nan(None).alias(f"_{i}")
        for i, s in enumerate(specs)
    ]
    out = frame.select(exprs).to_numpy(order="c")  # fortran order is slow for LightGBM rows
    return np.ascontiguousarray(out, dtype=np.float64)


def parse_target(series: pl.Series, column: str | None = None, source: str = "table") -> np.ndarray:
    """The churn label as a bool array.

    Accepts booleans, 0/1 and two-valued text such as yes/no, true/false or churned/retained.
    Raises ValidationFailed naming the column and the values seen when the column is anything else,
    has blanks, or holds a single class.
    """
    column = column or series.name
    n_missing = series.null_count()
    if series.dtype == pl.String:
        text = pl.DataFrame({"v": series}).select(_clean_text(pl.col("v")).str.to_lowercase())["v"]
        n_missing = text.null_count()
    else:
        text = None
    if n_missing:
        raise ValidationFailed(
            [
                Problem(
                    file=source,
                    column=column,
                    message=f"the target is blank in {n_missing} row(s)",
                    expected="a churn label in every row",
                )
            ]
        )
    seen: list[Any]
    if series.dtype == pl.Boolean:
        y = series.to_numpy().astype(bool)
        seen = series.unique().sort().to_list()
    elif series.dtype.is_numeric():
        values = series.cast(pl.Float64)
        seen = sorted(values.unique().to_list())
        if not set(seen) <= {0.0, 1.0}:
            raise _bad_target(column, source, seen)
        y = values.to_numpy() == 1.0
    else:
        if text is None:
            text = series.cast(pl.String).str.strip_chars().str.to_lowercase()
        seen = sorted(text.unique().to_list())
        if len(seen) > 2:
            raise _bad_target(column, source, seen)
        positive = [v for v in seen if v in POSITIVE_LABELS]
        negative = [v for v in seen if v in NEGATIVE_LABELS and v not in positive]
        if len(seen) == 2 and not (_boolean_pair(set(seen)) or (positive and negative)):
            raise _bad_target(column, source, seen)
        if len(seen) == 2 and _boolean_pair(set(seen)):
            positive = [v for v in seen if v in TRUE_WORDS]
        if len(seen) == 1 and not (positive or seen[0] in NEGATIVE_LABELS):
            raise _bad_target(column, source, seen)
        y = text.is_in(positive).to_numpy()
    if y.all() or not y.any():
        raise ValidationFailed(
            [
                Problem(
                    file=source,
                    column=column,
                    message=f"the target has a single class ({', '.join(map(str, seen))})",
                    expected="both churned and retained customers",
                )
            ]
        )
    return np.asarray(y, dtype=bool)


def _bad_target(column: str, source: str, seen: list[Any]) -> ValidationFailed:
    shown = ", ".join(repr(v) for v in seen[:10]) + (" …" if len(seen) > 10 else "")
    return ValidationFailed(
        [
            Problem(
                file=source,
                column=column,
                message=f"cannot read the target as churned/retained (values seen: {shown})",
                expected="two values such as 0/1, true/false, yes/no or churned/retained",
            )
        ]
    )

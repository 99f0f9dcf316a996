"""Building Arrow columns straight from numpy arrays (no Python objects per row)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from revintel.data.schema import CONTRACTS

MICROS_PER_SECOND = 1_000_000


def id_width(count: int) -> int:
    """Digits for identifiers numbered 1..count (at least 7)."""
    return max(7, len(str(max(count, 1))))


def _validity(mask: np.ndarray | None) -> pa.Buffer | None:
    """Arrow validity bitmap (bit set = value present) from a numpy null mask."""
    if mask is None or not np.any(mask):
        return None
    return pa.py_buffer(np.packbits(~np.asarray(mask, dtype=bool), bitorder="little"))


def string_ids(
    prefix: str, numbers: np.ndarray, width: int, mask: np.ndarray | None = None
) -> pa.StringArray:
    """``prefix`` + zero-padded ``numbers`` as one Arrow string array, built byte-wise."""
    n = len(numbers)
    head = prefix.encode("ascii")
    size = len(head) + width
    buf = np.empty((n, size), dtype=np.uint8)
    buf[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    numbers = np.asarray(numbers)
    small = n == 0 or int(numbers.max()) < 2**32
    rest = numbers.astype(np.uint32 if small else np.uint64)
    for j in range(size - 1, len(head) - 1, -1):
        rest, digit = np.divmod(rest, 10)
        buf[:, j] = digit
    buf[:, len(head) :] += 48
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf), _validity(mask))


class Vocabulary:
    """A fixed list of strings, gathered by integer code into plain Arrow string arrays."""

    def __init__(self, values: Sequence[str]) -> None:
        self.values = tuple(values)
        self.array = pa.array(self.values, type=pa.string())

    def __len__(self) -> int:
        return len(self.values)

    def take(self, codes: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
        # Decoding a dictionary array is much faster than Array.take on strings.
        index = pa.array(np.asarray(codes, dtype=np.int32), mask=mask)
        return pa.DictionaryArray.from_arrays(index, self.array).cast(pa.string())


def labels(values: Sequence[str], codes: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Category labels by integer code (``mask`` True = null)."""
    return Vocabulary(values).take(codes, mask)


def dates(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.date32(), mask=mask)


def timestamps(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Timestamps (microseconds) from integer seconds since the epoch."""
    micros = np.asarray(seconds, dtype=np.int64) * MICROS_PER_SECOND
    return pa.array(micros, type=pa.timestamp("us"), mask=mask)


def floats(values: np.ndarray, decimals: int | None = None, mask: np.ndarray | None = None):
    values = np.asarray(values, dtype=np.float64)
    if decimals is not None:
        values = np.round(values, decimals)
    return pa.array(values, type=pa.float64(), mask=mask)


def ints(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), type=pa.int64(), mask=mask)


def bools(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool), type=pa.bool_(), mask=mask)


def contract_table(name: str, columns: dict[str, pa.Array]) -> pa.Table:
    """A table with exactly the contract's storage schema (every column, in contract order)."""
    schema = CONTRACTS[name].arrow_schema()
    missing = set(schema.names) - set(columns)
    extra = set(columns) - set(schema.names)
    if missing or extra:
        raise ValueError(f"{name}: missing columns {sorted(missing)}, unexpected {sorted(extra)}")
    arrays = [columns[f.name].cast(f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)

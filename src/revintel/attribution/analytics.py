"""Journey analytics over a :class:`Journeys`: top paths, path lengths, time to convert and
first-to-last channel flows (docs/attribution.md, Journey analytics).

Everything is counted with each journey's weights, so a warehouse journey (one conversion or one
null) and an aggregated path-file row (its counts) are treated alike: a path's journeys are its
conversions plus its nulls, its conversion rate is conversions ÷ journeys. The computations are
vectorised over the CSR arrays (numpy and polars); none loops over journeys in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from revintel.attribution.journeys import Journeys

PATH_SEPARATOR = " > "
# Time to convert, days from the first touch to the conversion: [lower, upper) bucket edges.
TIME_TO_CONVERT_EDGES: tuple[float, ...] = (0, 1, 3, 7, 14, 30, 60, 90)


@dataclass(frozen=True)
class PathStat:
    """One channel sequence: how many journeys took it, converted, and their value."""

    path: tuple[str, ...]
    journeys: float
    conversions: float
    conversion_rate: float
    value: float
    share_of_conversions: float

    @property
    def label(self) -> str:
        return PATH_SEPARATOR.join(self.path)


@dataclass(frozen=True)
class LengthBin:
    """Journeys with ``touches`` touches, converting and not."""

    touches: int
    converting: float
    non_converting: float
    conversion_rate: float


@dataclass(frozen=True)
class TimeBin:
    """Converting journeys whose first touch came ``lower``–``upper`` days before the conversion
    (``upper`` None: at least ``lower`` days)."""

    lower: float
    upper: float | None
    conversions: float
    share: float

    @property
    def label(self) -> str:
        low = f"{self.lower:g}"
        return f"{low}+ days" if self.upper is None else f"{low}–{self.upper:g} days"


@dataclass(frozen=True)
class TimeToConvert:
    """The distribution of days from the first touch to the conversion, converting journeys."""

    bins: tuple[TimeBin, ...]
    median_days: float | None
    mean_days: float | None
    conversions: float


@dataclass(frozen=True)
class Flow:
    """Converting journeys that started on ``first`` and ended on ``last``."""

    first: str
    last: str
    conversions: float
    value: float


def _weights(j: Journeys) -> np.ndarray:
    return j.conversions + j.nulls


def top_paths(j: Journeys, *, top: int = 20, collapse_repeats: bool = False) -> list[PathStat]:
    """The ``top`` channel sequences by conversions, then journeys, then the path's text.

    ``collapse_repeats``: consecutive touches on one channel count once (Email > Email > Direct
    is Email > Direct)."""
    if j.n_journeys == 0:
        return []
    journey = j.journey_of_touch()
    channel = j.channel
    if collapse_repeats and len(channel):
        keep = np.ones(len(channel), dtype=bool)
        keep[1:] = (channel[1:] != channel[:-1]) | (journey[1:] != journey[:-1])
        journey, channel = journey[keep], channel[keep]
    names = pl.Series("name", list(j.channels), dtype=pl.Utf8)
    touches = pl.DataFrame({"journey": journey, "name": names.gather(channel)})
    paths = touches.group_by("journey", maintain_order=True).agg(
        pl.col("name").str.join(PATH_SEPARATOR).alias("path")
    )
    per_journey = pl.DataFrame(
        {
            "journey": np.arange(j.n_journeys),
            "conversions": j.conversions,
            "journeys": _weights(j),
            "value": j.value,
        }
    ).join(paths, on="journey", how="left")
    grouped = (
        per_journey.with_columns(pl.col("path").fill_null(""))
        .group_by("path")
        .agg(pl.col("journeys").sum(), pl.col("conversions").sum(), pl.col("value").sum())
        .sort(["conversions", "journeys", "path"], descending=[True, True, False])
        .head(top)
    )
    total = j.total_conversions
    return [
        PathStat(
            path=tuple(r["path"].split(PATH_SEPARATOR)) if r["path"] else (),
            journeys=float(r["journeys"]),
            conversions=float(r["conversions"]),
            conversion_rate=float(r["conversions"] / r["journeys"]) if r["journeys"] else 0.0,
            value=float(r["value"]),
            share_of_conversions=float(r["conversions"] / total) if total else 0.0,
        )
        for r in grouped.iter_rows(named=True)
    ]


def path_lengths(j: Journeys) -> list[LengthBin]:
    """Journeys by number of touches (1, 2, …, the longest), converting and not."""
    lengths = j.lengths()
    if len(lengths) == 0:
        return []
    size = int(lengths.max()) + 1
    conv = np.bincount(lengths, weights=j.conversions, minlength=size)
    null = np.bincount(lengths, weights=j.nulls, minlength=size)
    return [
        LengthBin(
            touches=n,
            converting=float(conv[n]),
            non_converting=float(null[n]),
            conversion_rate=float(conv[n] / (conv[n] + null[n])) if conv[n] + null[n] else 0.0,
        )
        for n in range(1, size)
        if conv[n] + null[n] > 0
    ]


def first_touch_days(j: Journeys) -> np.ndarray:
    """Days from each journey's first touch to its end (its conversion, for a converting one)."""
    if j.days_before is None:
        raise ValueError("time to convert needs the touches' times (journeys from the warehouse)")
    return j.days_before[j.starts[:-1]] if j.n_journeys else np.zeros(0)


def time_to_convert(j: Journeys, edges: tuple[float, ...] = TIME_TO_CONVERT_EDGES) -> TimeToConvert:
    """Days from the first touch to the conversion, converting journeys, in ``edges`` buckets
    (the last open-ended), with the weighted median and mean."""
    converting = j.conversions > 0
    days = first_touch_days(j)[converting]
    weight = j.conversions[converting]
    total = float(weight.sum())
    bounds = np.asarray(edges, dtype=np.float64)
    which = np.searchsorted(bounds, days, side="right") - 1
    counts = np.bincount(np.clip(which, 0, None), weights=weight, minlength=len(bounds))
    bins = tuple(
        TimeBin(
            lower=float(bounds[i]),
            upper=float(bounds[i + 1]) if i + 1 < len(bounds) else None,
            conversions=float(counts[i]),
            share=float(counts[i] / total) if total else 0.0,
        )
        for i in range(len(bounds))
    )
    if total == 0:
        return TimeToConvert(bins, None, None, 0.0)
    order = np.argsort(days, kind="stable")
    cumulative = np.cumsum(weight[order])
    median = float(days[order][np.searchsorted(cumulative, total / 2.0)])
    mean = float(np.dot(days, weight) / total)
    return TimeToConvert(bins, median, mean, total)


def flows(j: Journeys) -> list[Flow]:
    """Converting journeys counted by (first channel, last channel), most conversions first."""
    converting = np.flatnonzero((j.conversions > 0) & (j.lengths() > 0))
    if len(converting) == 0:
        return []
    first = j.channel[j.starts[converting]]
    last = j.channel[j.starts[converting + 1] - 1]
    n = len(j.channels)
    pair = first.astype(np.int64) * n + last
    conv = np.bincount(pair, weights=j.conversions[converting], minlength=n * n)
    value = np.bincount(pair, weights=j.value[converting], minlength=n * n)
    found = np.flatnonzero(conv)
    rows = [
        Flow(j.channels[p // n], j.channels[p % n], float(conv[p]), float(value[p])) for p in found
    ]
    return sorted(rows, key=lambda f: (-f.conversions, f.first, f.last))

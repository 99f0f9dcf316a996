"""Journeys built from the warehouse on every backend (docs/attribution.md, Journeys)."""

from __future__ import annotations

from datetime import date

import polars as pl

from revintel.attribution.journeys import HASH_SEED, JourneyOptions, Journeys, load_journeys
from revintel.attribution.service.journeys import customer_journey, path_report

from .conftest import ATTRIBUTION_PAID_JOURNEYS, Backend


def _described(j: Journeys) -> set[tuple[object, ...]]:
    assert j.journey_ids is not None and j.customer_ids is not None
    return {
        (
            j.journey_ids[k],
            j.customer_ids[k],
            tuple(j.channels[c] for c in path),
            int(j.conversions[k]),
            float(j.value[k]),
        )
        for k, path in enumerate(j.paths())
    }


def test_paid_journeys_on_every_backend(attribution_backend: Backend) -> None:
    j = load_journeys(attribution_backend.ctx.warehouse, JourneyOptions())
    assert _described(j) == ATTRIBUTION_PAID_JOURNEYS
    assert j.channels == ("Direct", "Display", "Email", "Organic", "Paid Search", "Social")


def test_journey_order_and_days_are_the_same_on_every_backend(
    attribution_backend: Backend,
) -> None:
    j = load_journeys(attribution_backend.ctx.warehouse, JourneyOptions())
    assert j.journey_ids is not None and j.days_before is not None
    # Journeys come in the order of a hash of (id, converted): the same wherever they were built.
    ids = pl.Series(list(j.journey_ids), dtype=pl.Utf8)
    hashed = (ids.hash(HASH_SEED) ^ pl.Series(j.conversions).cast(pl.UInt64)).to_list()
    assert hashed == sorted(hashed)
    k = list(j.journey_ids).index("V2")
    assert [round(d, 4) for d in j.days_before[j.starts[k] : j.starts[k + 1]]] == [
        51.0833,
        8.1667,
        0.0,
    ]


def test_window_range_and_type_on_every_backend(attribution_backend: Backend) -> None:
    wh = attribution_backend.ctx.warehouse
    ranged = load_journeys(wh, JourneyOptions(start=date(2024, 2, 1), end=date(2024, 3, 31)))
    assert set(ranged.journey_ids) == {"V3", "V4", "J1", "J2", "J3"}  # type: ignore[arg-type]
    short = _described(load_journeys(wh, JourneyOptions(window_days=30)))
    assert ("V2", "C1", ("Email", "Direct"), 1, 49.0) in short
    signup = _described(load_journeys(wh, JourneyOptions(conversion_type="signup")))
    assert {r[0] for r in signup if r[3] == 1} == {"V1", "V6"}


def test_journey_analytics_and_a_customers_journey_on_every_backend(
    attribution_backend: Backend,
) -> None:
    ctx = attribution_backend.ctx
    report = path_report(ctx, collapse_repeats=True)
    assert (report.journeys, report.conversions, report.value) == (8.0, 4.0, 597.0)
    assert [(b.touches, b.converting, b.non_converting) for b in report.path_lengths] == [
        (1, 1.0, 3.0),
        (2, 1.0, 1.0),
        (3, 2.0, 0.0),
    ]
    assert report.time_to_convert.median_days is not None
    c2 = customer_journey(ctx, "C2")
    assert [e.touchpoint_id or e.conversion_id for e in c2.events] == ["T10", "T11", "V5"]
    assert c2.events[0].source == "google" and c2.events[0].days_since_previous is None

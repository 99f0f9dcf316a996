"""Conservation as a property (docs/attribution.md, Conservation): over random journeys, every
model's credit adds up to the conversions and the value, and the heuristics give nothing to a
channel absent from every converting path."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revintel.attribution.config import ModelSettings
from revintel.attribution.credit import HEURISTIC_MODELS, Credit
from revintel.attribution.heuristics import heuristic_credit
from revintel.attribution.journeys import Journeys, from_paths
from revintel.attribution.shapley import shapley_credit

CHANNELS = ("Direct", "Email", "Search", "Social", "Video")
ABSENT = "Absent"  # only ever on journeys with no conversion and no value

journey = st.tuples(
    st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=6),
    st.integers(0, 3),  # conversions
    st.floats(0, 1000, allow_nan=False),  # value
    st.integers(0, 5),  # nulls
)


@st.composite
def journeys_and_settings(draw: st.DrawFn) -> tuple[Journeys, ModelSettings]:
    rows = draw(st.lists(journey, min_size=1, max_size=12))
    lost = draw(st.lists(st.lists(st.sampled_from((*CHANNELS, ABSENT)), max_size=4), max_size=3))
    paths = [r[0] for r in rows] + [[*p, ABSENT] for p in lost]
    conversions = [r[1] for r in rows] + [0] * len(lost)
    value = [r[2] if r[1] else 0.0 for r in rows] + [0.0] * len(lost)
    nulls = [r[3] for r in rows] + [1] * len(lost)
    j = from_paths(paths, conversions, value, nulls)
    days = draw(
        st.lists(st.floats(0, 90, allow_nan=False), min_size=j.n_touches, max_size=j.n_touches)
    )
    first = draw(st.floats(0, 1))
    last = draw(st.floats(0, 1 - first))
    model_settings = ModelSettings(
        position_first=first,
        position_last=last,
        half_life_days=draw(st.floats(0.5, 30)),
        direct_channels=["Direct"],
    )
    return replace(j, days_before=np.array(days)), model_settings


def assert_conserves(c: Credit, j: Journeys) -> None:
    assert float(c.conversions.sum()) == pytest.approx(j.total_conversions, rel=1e-9, abs=1e-9)
    assert float(c.value.sum()) == pytest.approx(j.total_value, rel=1e-9, abs=1e-6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys_and_settings())
def test_every_heuristic_conserves_and_credits_nothing_to_an_absent_channel(
    case: tuple[Journeys, ModelSettings],
) -> None:
    j, model_settings = case
    for model in HEURISTIC_MODELS:
        c = heuristic_credit(j, model, model_settings)
        assert_conserves(c, j)
        assert (c.conversions >= -1e-12).all() and (c.value >= -1e-9).all()
        if ABSENT in c.channels:
            absent = c.channels.index(ABSENT)
            assert c.conversions[absent] == 0.0 and c.value[absent] == 0.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys_and_settings())
def test_shapley_conserves_exact_sampled_and_ordered(case: tuple[Journeys, ModelSettings]) -> None:
    j, _ = case
    for options in ({}, {"exact_max": 2}, {"ordered": True}):
        assert_conserves(shapley_credit(j, **options), j)  # type: ignore[arg-type]

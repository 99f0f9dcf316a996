"""The attribution report service on a small company whose journeys are worked out by hand
(tests/attribution/report_company.py): totals, the options, every model side by side, the
converting journeys, path files and the errors naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from revintel.app.context import AppContext
from revintel.attribution.credit import MODELS
from revintel.attribution.journeys import from_paths
from revintel.attribution.markov import markov_credit
from revintel.attribution.service import cache as journeys_cache
from revintel.attribution.service import report as service
from revintel.attribution.service.journeys import path_report
from revintel.attribution.service.report import ReportRequest, report, report_from_paths
from revintel.core.errors import InvalidOption
from tests.attribution.report_company import (
    CONVERTED,
    PATHS,
    VALUES,
    report_context,
    write_path_file,
)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = report_context(tmp_path)
    yield context
    context.close()


def test_markov_rows_and_totals(ctx: AppContext) -> None:
    result = report(ctx, ReportRequest(models=("markov",), markov_order=2))
    assert (result.conversions, result.value) == (3.0, 350.0)
    assert (result.journeys, result.converting_journeys) == (5, 3)
    assert result.channels == ["Direct", "Email", "Paid Search"]
    assert result.request.window_days == 90 and result.request.conversion_type == "paid"
    assert result.definitions == "docs/attribution.md"
    expected = markov_credit(
        from_paths(PATHS, CONVERTED, VALUES, [1 - c for c in CONVERTED]), order=2
    )
    rows = [r for r in result.rows if r.model == "markov"]
    assert [r.channel for r in rows] == list(expected.channels)
    np.testing.assert_allclose([r.conversions for r in rows], expected.conversions)
    np.testing.assert_allclose([r.value for r in rows], expected.value)
    assert expected.removal_effect is not None
    np.testing.assert_allclose([r.removal_effect for r in rows], expected.removal_effect)
    assert sum(r.share for r in rows) == pytest.approx(1.0)
    # Last touch credits Paid Search twice and Email once.
    last = {"Direct": 0.0, "Email": 1.0, "Paid Search": 2.0}
    for r in rows:
        assert r.difference_from_last_touch == pytest.approx(r.conversions - last[r.channel])


def test_options_select_the_journeys(ctx: AppContext) -> None:
    february = report(ctx, ReportRequest(models=("markov",), start=date(2024, 2, 1)))
    assert (february.conversions, february.value, february.journeys) == (1.0, 200.0, 1)
    signup = report(ctx, ReportRequest(models=("last_touch",), conversion_type="signup"))
    assert signup.request.conversion_type == "signup"
    # V1's signup on Jan 2 has its Jan 1 Email touch only.
    assert signup.converting_journeys == 1
    by_channel = {r.channel: r.conversions for r in signup.rows}
    assert by_channel["Email"] == pytest.approx(1.0)
    # A two-day window keeps K1's Paid Search touch (2 days before) but not its Email (4 days),
    # keeps K2 (2 days) and drops K3 (8 and 9 days).
    short = report(ctx, ReportRequest(models=("linear",), window_days=2))
    assert short.request.window_days == 2
    assert short.conversions == 2.0
    assert {r.channel: r.conversions for r in short.rows}["Paid Search"] == pytest.approx(2.0)


def test_every_model_side_by_side(ctx: AppContext) -> None:
    result = report(ctx)
    assert result.request.models == MODELS
    for model in MODELS:
        rows = [r for r in result.rows if r.model == model]
        assert len(rows) == 3
        assert sum(r.conversions for r in rows) == pytest.approx(3.0), model
        assert sum(r.value for r in rows) == pytest.approx(350.0), model
        assert all((r.removal_effect is not None) == (model == "markov") for r in rows)


def test_customer_journeys_are_paged_with_their_credit(ctx: AppContext) -> None:
    request = ReportRequest(
        models=("last_touch", "linear", "markov"), include_journeys=True, journeys_limit=2
    )
    page = report(ctx, request).customer_journeys
    assert page is not None and page.total == 3 and len(page.journeys) == 2
    first = page.journeys[0]
    assert first.journey_id == "K1" and first.path == ["Email", "Paid Search"]
    assert first.credit["last_touch"] == {"Email": 0.0, "Paid Search": 1.0}
    assert first.credit["linear"] == {"Email": 0.5, "Paid Search": 0.5}
    assert sum(first.credit["markov"].values()) == pytest.approx(1.0)
    rest = report(ctx, ReportRequest(models=("markov",), include_journeys=True, journeys_offset=2))
    assert rest.customer_journeys is not None
    assert [j.journey_id for j in rest.customer_journeys.journeys] == ["K3"]
    assert rest.customer_journeys.journeys[0].customer_id == "C2"


def test_journeys_are_cached_per_data_version(ctx: AppContext) -> None:
    journeys_cache._JOURNEYS.clear()
    report(ctx, ReportRequest(models=("markov",)))
    report(ctx, ReportRequest(models=("last_touch",)))
    assert len(journeys_cache._JOURNEYS) == 1
    path_report(ctx)  # the journey analytics share them
    assert len(journeys_cache._JOURNEYS) == 1
    report(ctx, ReportRequest(models=("markov",), window_days=30))
    assert len(journeys_cache._JOURNEYS) == 2


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (ReportRequest(models=("markov", "magic")), "model"),
        (ReportRequest(markov_order=5), "markov_order"),
        (ReportRequest(markov_order=0), "markov_order"),
        (ReportRequest(window_days=0), "window_days"),
        (ReportRequest(conversion_type="refund"), "conversion_type"),
        (ReportRequest(start=date(2024, 3, 1), end=date(2024, 2, 1)), "end_date"),
        (ReportRequest(include_journeys=True, journeys_limit=1000), "journeys_limit"),
    ],
)
def test_bad_options_name_the_field(ctx: AppContext, request_: ReportRequest, field: str) -> None:
    with pytest.raises(InvalidOption, match=field):
        report(ctx, request_)


def test_parse_helpers_name_the_field() -> None:
    assert service.parse_day("2024-02-01", "start_date") == date(2024, 2, 1)
    with pytest.raises(InvalidOption, match="start_date"):
        service.parse_day("01/02/2024", "start_date")
    assert service.parse_models("all") is None
    assert service.parse_models("markov,first_touch") == ("first_touch", "markov")
    with pytest.raises(InvalidOption, match="model"):
        service.parse_models("markov,nope")


def test_path_file_leaves_time_decay_out_with_a_note(tmp_path: Path) -> None:
    path = write_path_file(tmp_path)
    result = report_from_paths(path, ReportRequest(markov_order=2))
    assert "time_decay" not in {r.model for r in result.rows}
    assert any("time_decay" in n for n in result.notes)
    assert (result.conversions, result.value, result.journeys) == (6.0, 470.0, 13)
    markov = [r for r in result.rows if r.model == "markov"]
    assert sum(r.conversions for r in markov) == pytest.approx(6.0)
    with pytest.raises(InvalidOption, match="time_decay"):
        report_from_paths(path, ReportRequest(models=("time_decay",)))

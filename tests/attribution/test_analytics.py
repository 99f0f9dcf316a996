"""Journey analytics (docs/attribution.md, Journey analytics) and the journeys service on a
loaded company: top paths, lengths, time to convert, flows, one customer's journey."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.attribution import analytics as A
from revintel.attribution.journeys import Journeys, MissingJourneyData, from_paths
from revintel.attribution.service import journeys as S
from revintel.core.config import Settings
from tests.backends.conftest import ATTRIBUTION_TABLES, COMPANY


def _journeys() -> Journeys:
    j = from_paths(
        [["Email", "Email", "Direct"], ["Email", "Direct"], ["Social"], ["Email", "Direct"]],
        conversions=[1, 1, 0, 2],
        value=[10, 20, 0, 30],
        nulls=[0, 3, 1, 0],
    )
    days = np.array([10.0, 4.0, 0.0, 2.5, 0.0, 0.0, 40.0, 0.0])
    return Journeys(**{**j.__dict__, "days_before": days})


def test_top_paths_with_and_without_repeats() -> None:
    j = _journeys()
    plain = A.top_paths(j)
    assert [(p.label, p.journeys, p.conversions) for p in plain] == [
        ("Email > Direct", 6.0, 3.0),
        ("Email > Email > Direct", 1.0, 1.0),
        ("Social", 1.0, 0.0),
    ]
    assert plain[0].conversion_rate == 0.5 and plain[0].value == 50.0
    assert plain[0].share_of_conversions == 0.75
    collapsed = A.top_paths(j, collapse_repeats=True)
    assert [(p.label, p.journeys, p.conversions) for p in collapsed] == [
        ("Email > Direct", 7.0, 4.0),
        ("Social", 1.0, 0.0),
    ]
    assert [p.label for p in A.top_paths(j, top=1)] == ["Email > Direct"]


def test_path_lengths_time_to_convert_and_flows() -> None:
    j = _journeys()
    assert [(b.touches, b.converting, b.non_converting) for b in A.path_lengths(j)] == [
        (1, 0.0, 1.0),
        (2, 3.0, 3.0),
        (3, 1.0, 0.0),
    ]
    ttc = A.time_to_convert(j)
    # First touches: 10 days (1 conversion), 2.5 days (1), 40 days (2); Social did not convert.
    by_label = {b.label: b.conversions for b in ttc.bins}
    assert by_label["7–14 days"] == 1 and by_label["1–3 days"] == 1
    assert by_label["30–60 days"] == 2 and by_label["90+ days"] == 0
    assert ttc.conversions == 4 and ttc.median_days == 10.0
    assert ttc.mean_days == pytest.approx((10 + 2.5 + 80) / 4)
    assert [(f.first, f.last, f.conversions, f.value) for f in A.flows(j)] == [
        ("Email", "Direct", 4.0, 60.0)
    ]


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    folder = tmp_path / "company"
    folder.mkdir()
    for name, text in {**COMPANY, **ATTRIBUTION_TABLES}.items():
        (folder / name).write_text(text)
    context = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=None))
    load_paths(context, [folder], source="test")
    yield context
    context.close()


def test_path_report_on_a_loaded_company(ctx: AppContext) -> None:
    report = S.path_report(ctx)
    assert report.journeys == 8 and report.conversions == 4 and report.value == 597
    assert report.conversion_rate == 0.5
    top = {p.label: (p.journeys, p.conversions) for p in report.top_paths}
    assert top["Social"] == (1.0, 1.0)
    assert top["Paid Search"] == (1.0, 0.0)
    assert top["Social > Social > Paid Search"] == (1.0, 1.0)
    collapsed = S.path_report(ctx, collapse_repeats=True)
    assert "Social > Paid Search" in {p.label for p in collapsed.top_paths}
    assert {(f.first, f.last) for f in report.flows} == {
        ("Paid Search", "Direct"),
        ("Social", "Social"),
        ("Social", "Paid Search"),
        ("Organic", "Email"),
    }
    data = report.to_dict()
    assert data["options"] == {
        "conversion_type": "paid",
        "window_days": 90,
        "from": None,
        "to": None,
    }
    assert data["top_paths"][0]["label"] == report.top_paths[0].label


def test_options_are_checked(ctx: AppContext) -> None:
    with pytest.raises(S.InvalidJourneyOption, match="from 2024-03-01 is after to"):
        S.path_report(ctx, start="2024-03-01", end="2024-02-01")
    with pytest.raises(S.InvalidJourneyOption, match="expected a date"):
        S.path_report(ctx, start="March")
    with pytest.raises(S.InvalidJourneyOption, match="conversion type 'won'"):
        S.path_report(ctx, conversion_type="won")
    with pytest.raises(S.InvalidJourneyOption, match="top 0"):
        S.path_report(ctx, top=0)
    with pytest.raises(MissingJourneyData):
        S.path_report(ctx, start="2030-01-01")


def test_customer_journey_includes_the_visitor_touches_before_the_customer_was_known(
    ctx: AppContext,
) -> None:
    c2 = S.customer_journey(ctx, "C2")
    assert [(e.kind, e.channel or e.conversion_type) for e in c2.events] == [
        ("touch", "Organic"),
        ("touch", "Email"),
        ("conversion", "paid"),
    ]
    assert c2.journey_ids == ["L1"] and c2.days_to_first_conversion == 5.0 - 10 / 24
    assert c2.events[1].days_since_previous == 3.0
    c1 = S.customer_journey(ctx, "C1")
    assert c1.touches == 6 and c1.conversions == 3
    assert c1.channels == ["Display", "Paid Search", "Email", "Direct", "Social", "Email"]
    # The touch at the instant of V2 comes before it; T06 comes a second after V3.
    kinds = [(e.kind, e.touchpoint_id or e.conversion_id) for e in c1.events]
    assert kinds[3:7] == [
        ("conversion", "V1"),
        ("touch", "T04"),
        ("conversion", "V2"),
        ("touch", "T05"),
    ]
    assert kinds[-2:] == [("conversion", "V3"), ("touch", "T06")]
    assert c1.events[0].source == "news" and c1.events[0].campaign == "autumn"
    assert c1.first_touch_at == datetime(2023, 9, 1, 10)


def test_customer_journey_of_a_customer_without_touches_and_an_unknown_one(
    ctx: AppContext,
) -> None:
    c5 = S.customer_journey(ctx, "C5")  # a customer, no touch or conversion
    assert c5.events == [] and c5.days_to_first_conversion is None
    with pytest.raises(S.UnknownCustomer, match="'nobody'"):
        S.customer_journey(ctx, "nobody")

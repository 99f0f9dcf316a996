"""The revenue pages' KPI tiles (revintel.ui.revenue): values, changes, tooltips, as HTML."""

from __future__ import annotations

from revintel.metrics.definitions import DEFINITIONS
from revintel.ui.revenue import NULL, Kpi, delta_text, kpi_tile_html, kpi_tiles_html
from tests.ui.conftest import TileParser


def _tile(kpi: Kpi) -> dict[str, str]:
    parser = TileParser()
    parser.feed(kpi_tile_html(kpi))
    [tile] = parser.tiles
    return tile


def test_a_tile_shows_value_change_and_definition() -> None:
    tile = _tile(Kpi("mrr", 32_200_000.0, 29_700_000.0))
    assert tile["label"] == "MRR"
    assert tile["value"] == "$32.2M"
    assert tile["delta"] == "↑ +$2.5M (+8.4%)"
    assert tile["tone"] == "ri-good"
    d = DEFINITIONS["mrr"]
    for part in (d.formula, d.convention, d.link):
        assert part in tile["help"]


def test_the_colour_says_whether_the_change_is_good_news() -> None:
    assert _tile(Kpi("mrr", 90.0, 100.0))["tone"] == "ri-bad"
    assert _tile(Kpi("mrr", 90.0, 100.0))["delta"].startswith("↓ -$10")
    churn_up = Kpi("logo_churn_rate", 0.024, 0.022, good_when_down=True)
    assert _tile(churn_up)["tone"] == "ri-bad"
    assert _tile(churn_up)["delta"] == "↑ +0.2 pts"
    churn_down = Kpi("logo_churn_rate", 0.020, 0.022, good_when_down=True)
    assert _tile(churn_down)["tone"] == "ri-good"
    flat = _tile(Kpi("customers", 120.0, 120.0))
    assert flat["tone"] == "ri-flat" and flat["delta"] == "+0 (+0.0%)"  # no arrow


def test_an_undefined_value_says_why_and_shows_no_change() -> None:
    tile = _tile(Kpi("nrr_monthly", None, 1.01, reason="no customers the month before"))
    assert tile["value"] == NULL
    assert "delta" not in tile
    assert "no customers the month before" in kpi_tile_html(
        Kpi("nrr_monthly", None, 1.01, reason="no customers the month before")
    )
    assert "delta" not in _tile(Kpi("mrr", 100.0, None))  # nothing to compare with


def test_text_is_escaped_and_tiles_share_one_block() -> None:
    html = kpi_tile_html(Kpi("mrr", 1.0, None, label="<b>MRR</b> & co"))
    assert "&lt;b&gt;MRR&lt;/b&gt; &amp; co" in html and "<b>" not in html
    block = kpi_tiles_html([Kpi("mrr", 1.0, None), Kpi("arr", 12.0, None)], per_row=3)
    assert block.startswith("<style>") and "--ri-per-row: 3" in block
    assert block.count('data-testid="revintelKpi"') == 2
    # in a row's right half a tooltip opens leftwards, so it stays on the page
    row = kpi_tiles_html([Kpi("mrr", 1.0, None)] * 8, per_row=4).split('data-testid="revintelKpi"')
    assert ["ri-tip-left" in before[-60:] for before in row[:-1]] == [False, False, True, True] * 2


def test_delta_text_by_unit() -> None:
    assert delta_text(Kpi("arpa", 1009.0, 1000.0), "currency") == "+$9 (+0.9%)"
    assert delta_text(Kpi("nrr_monthly", 1.001, 0.998), "ratio") == "+0.3 pts"
    assert delta_text(Kpi("quick_ratio", 7.84, 5.23), "multiple") == "+2.61"
    assert delta_text(Kpi("cac_payback_months", 11.0, 12.5), "months") == "-1.5 mo"
    assert delta_text(Kpi("customers", 2_245.0, 0.0), "count") == "+2,245"  # no % of zero
    assert delta_text(Kpi("mrr", None, 1.0), "currency") is None


def _colour_at(figure, value: float) -> str:
    """The colour the heatmap's scale gives ``value``, as plotly interpolates it."""
    from plotly.colors import sample_colorscale

    trace = figure.data[0]
    position = min(1.0, (value - trace.zmin) / (trace.zmax - trace.zmin))
    return sample_colorscale([list(stop) for stop in trace.colorscale], [position])[0]


def test_revenue_retention_heatmap_shows_expansion_above_100_percent() -> None:
    from revintel.ui.revenue import cohort_heatmap

    triangle = {"2024-01": [1.0, 1.5, 3.12], "2024-02": [1.0, 0.6]}
    figure = cohort_heatmap(triangle, "Revenue retention", diverging=True)
    trace = figure.data[0]
    assert trace.zmax >= 3.12  # nothing clipped
    kept, expanded, lost = (_colour_at(figure, v) for v in (1.0, 1.5, 0.6))
    assert len({kept, expanded, lost}) == 3  # 100%, 150% and 60% look different
    positions = [p for p, _ in trace.colorscale]
    assert any(abs(p - 1.0 / trace.zmax) < 1e-9 for p in positions)  # centred on 100%


def test_logo_retention_heatmap_keeps_its_0_to_100_percent_scale() -> None:
    from revintel.ui.revenue import cohort_heatmap

    figure = cohort_heatmap({"2024-01": [1.0, 0.8]}, "Logo retention")
    assert (figure.data[0].zmin, figure.data[0].zmax) == (0, 1.0)


def test_cash_collected_tile_is_neutral_and_shows_recognised_revenue_beside_it() -> None:
    from revintel.ui.revenue import cash_kpi

    # December: annual prepayments lift cash 55% while MRR grows 9%
    cash = [
        {"month": "2024-11", "revenue": 700_000.0},
        {"month": "2024-12", "revenue": 1_085_000.0},
    ]
    mrr = [{"month": "2024-11", "mrr": 400_000.0}, {"month": "2024-12", "mrr": 436_000.0}]
    tile = _tile(cash_kpi(cash, mrr, "2024-12"))
    assert tile["label"] == "Cash collected"
    assert tile["value"] == "$1.1M"
    assert tile["delta"] == "↑ +$385.0k (+55.0%)"
    assert tile["tone"] == "ri-flat"  # billing timing is not shown as good news
    assert tile["note"].startswith("Recognised revenue (MRR-based) $436.0k, +9.0%")
    assert "billing timing" in tile["note"] and "not growth" in tile["note"]
    assert "recognised revenue" in tile["help"].lower()  # the tooltip says which it is

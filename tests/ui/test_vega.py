"""The Executive Overview's Vega-Lite charts are valid specs.

The page hands Streamlit the spec without Altair's JSON-schema validation (revenue.chart_card: it
costs ~10 ms a chart on every run), so the validation happens here, on every chart the page builds
from the demo company: with and without a forecast, and with anomalies marked.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema import load_schema

from revintel.app.context import AppContext
from revintel.forecast.anomalies import Anomaly, Detector
from revintel.metrics import service
from revintel.ui import vega
from revintel.ui.outlook import Outlook, compute
from tests.health.demo import demo_home, settings_for

RATES = [("logo_churn_rate", "Logo churn"), ("nrr", "NRR")]


@pytest.fixture(scope="module")
def rows() -> dict[str, Any]:
    ctx = AppContext(settings_for(demo_home()))
    try:
        return {"movements": service.mrr_movements(ctx), "revenue": service.revenue(ctx)}
    finally:
        ctx.close()


def test_every_chart_of_the_executive_overview_validates(rows: dict[str, Any]) -> None:
    movements, cash = rows["movements"], rows["revenue"]
    outlook = compute([{"month": r["month"], "mrr": r["mrr"]} for r in movements], "mrr", 6)
    assert outlook.forecast is not None
    # a flagged month, so that the anomaly layer is drawn too
    flagged = compute([{"month": r["month"], "revenue": r["revenue"]} for r in cash], "revenue", 6)
    charts = [
        vega.trend_chart(movements, "mrr", "MRR", result=outlook),
        vega.trend_chart(movements, "mrr", "MRR", result=None),
        vega.trend_chart(cash, "revenue", "Revenue", result=flagged, kind="bar"),
        vega.movements_chart(movements),
        vega.rate_lines(movements, [("logo_churn_rate", "Logo churn")]),
        vega.trend_chart([], "mrr", "MRR"),
    ]
    schema = load_schema()
    for chart in charts:
        chart.to_dict()  # validates against the Vega-Lite schema; raises if invalid
        sent = vega.spec(chart)  # what the page sends: datasets renamed
        assert sent["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
        validate_jsonschema(sent, schema)  # raises if invalid


def test_the_same_chart_of_other_data_has_the_same_spec(rows: dict[str, Any]) -> None:
    """Streamlit swaps the data of a drawn Vega view only when the spec is unchanged, so a filter
    change, or the forecast arriving, must change the datasets and nothing else."""
    movements = rows["movements"]
    halved = [{**r, **{k: v / 2 for k, v in r.items() if isinstance(v, float)}} for r in movements]
    outlook = compute([{"month": r["month"], "mrr": r["mrr"]} for r in movements], "mrr", 6)
    assert outlook.forecast is not None
    pairs = [
        (vega.movements_chart(movements), vega.movements_chart(halved)),
        (vega.rate_lines(movements, RATES), vega.rate_lines(halved, RATES)),
        (
            vega.trend_chart(movements, "mrr", "MRR", result=None),
            vega.trend_chart(halved, "mrr", "MRR", result=None),
        ),
        (  # drawn while the forecast is computed, then with it
            vega.trend_chart(movements, "mrr", "MRR", result=None),
            vega.trend_chart(movements, "mrr", "MRR", result=outlook),
        ),
    ]
    for one_chart, other_chart in pairs:
        one, other = vega.spec(one_chart), vega.spec(other_chart)
        assert one["datasets"] != other["datasets"]
        assert list(one["datasets"]) == list(other["datasets"])
        assert {k: v for k, v in one.items() if k != "datasets"} == {
            k: v for k, v in other.items() if k != "datasets"
        }
        # every dataset the spec names exists
        named = set(re.findall(r'"name": "([^"]+)"', json.dumps(one)))
        assert named and named <= set(one["datasets"])


def test_the_page_sends_the_charts_spec_without_building_it_again(rows: dict[str, Any]) -> None:
    """The ``*_spec`` functions the page calls give what Altair gives for that chart and data,
    for any data (the chart is built once per process, then only its datasets are made)."""
    movements, cash = rows["movements"], rows["revenue"]
    halved = [{**r, **{k: v / 2 for k, v in r.items() if isinstance(v, float)}} for r in movements]
    outlook = compute([{"month": r["month"], "mrr": r["mrr"]} for r in movements], "mrr", 6)
    flagged = compute([{"month": r["month"], "revenue": r["revenue"]} for r in cash], "revenue", 6)
    assert flagged.anomalies
    for data in (movements, halved, movements[:3], []):
        pairs = [
            (vega.movements_spec(data), vega.movements_chart(data)),
            (vega.rates_spec(data, RATES), vega.rate_lines(data, RATES)),
            (vega.trend_spec(data, "mrr", "MRR"), vega.trend_chart(data, "mrr", "MRR")),
            (
                vega.trend_spec(data, "mrr", "MRR", result=outlook),
                vega.trend_chart(data, "mrr", "MRR", result=outlook),
            ),
        ]
        for sent, chart in pairs:
            assert sent == vega.spec(chart)
    bars = vega.trend_spec(cash, "revenue", "Revenue", result=flagged, kind="bar")
    assert bars == vega.spec(
        vega.trend_chart(cash, "revenue", "Revenue", result=flagged, kind="bar")
    )
    assert bars["datasets"]["trend_anomalies"]  # the anomalies are drawn
    assert bars != vega.trend_spec(cash, "revenue", "Revenue", result=flagged)  # line, not bars
    # Each call gets its own copy: Streamlit adjusts the spec it is given.
    bars["layer"][0]["mark"] = "changed"
    again = vega.trend_spec(cash, "revenue", "Revenue", result=flagged, kind="bar")
    assert again["layer"][0]["mark"] != "changed"


def _sent(dataset: Any) -> list[dict[str, Any]]:
    """What the browser receives for one dataset: Streamlit's Arrow bytes, read back."""
    import pyarrow as pa
    from streamlit.dataframe_util import convert_anything_to_arrow_bytes

    table = pa.ipc.open_stream(convert_anything_to_arrow_bytes(dataset)).read_all()
    return [
        {k: v for k, v in row.items() if not k.startswith("__index")} for row in table.to_pylist()
    ]


def test_datasets_sent_as_arrow_carry_what_streamlit_would_make_of_the_records(
    rows: dict[str, Any],
) -> None:
    """The page gives Streamlit Arrow tables (faster than its own pandas path): the browser
    must receive the same columns, types and values, nulls included."""
    import math

    import pyarrow as pa

    movements, cash = rows["movements"], rows["revenue"]
    outlook = compute([{"month": r["month"], "mrr": r["mrr"]} for r in movements], "mrr", 6)
    flagged = compute([{"month": r["month"], "revenue": r["revenue"]} for r in cash], "revenue", 6)
    specs = [
        vega.trend_spec(movements, "mrr", "MRR", result=outlook),
        vega.trend_spec(movements, "mrr", "MRR"),
        vega.trend_spec(cash, "revenue", "Revenue", result=flagged, kind="bar"),
        vega.movements_spec(movements),
        vega.rates_spec(movements, RATES),
        vega.trend_spec([], "mrr", "MRR"),
    ]
    checked = 0
    for spec in specs:
        arrow = vega.with_arrow_datasets(spec)
        assert {k: v for k, v in arrow.items() if k != "datasets"} == {
            k: v for k, v in spec.items() if k != "datasets"
        }
        for name, records in spec["datasets"].items():
            assert isinstance(arrow["datasets"][name], pa.Table)
            ours, theirs = _sent(arrow["datasets"][name]), _sent(records)
            values = [v for r in theirs for v in r.values() if isinstance(v, float)]
            assert not any(math.isnan(v) for v in values)  # pandas' NaN arrives as null too
            assert ours == theirs, name
            checked += 1
    assert checked >= 10
    # some undefined rates (nulls) were among them
    assert any(r.get("logo_churn_rate") is None for r in movements[:2])


def test_records_with_different_keys_become_one_table_of_all_their_columns() -> None:
    chart = {"mark": "point", "datasets": {"d": [{"a": 1}, {"b": "x", "a": 2.5}, {}]}}
    table = vega.with_arrow_datasets(chart)["datasets"]["d"]
    assert table.column_names == ["a", "b"]
    assert table.to_pylist() == [
        {"a": 1.0, "b": None},
        {"a": 2.5, "b": "x"},
        {"a": None, "b": None},
    ]
    # Values Arrow cannot put in one column are left for Streamlit to convert.
    mixed = {"datasets": {"d": [{"a": 1}, {"a": "x"}]}}
    assert vega.with_arrow_datasets(mixed)["datasets"]["d"] == [{"a": 1}, {"a": "x"}]
    assert vega.with_arrow_datasets({"mark": "bar"}) == {"mark": "bar"}


def _anomaly(month: str, detector: Detector, reason: str) -> Anomaly:
    return Anomaly(month, "mrr", detector, 120.0, 100.0, 90.0, 110.0, 0.2, "up", reason)


def test_a_month_the_statistical_detector_flagged_is_marked_apart_from_a_rule_only_month() -> None:
    """Steady growth trips the 10% rule month after month; the months outside the model's band
    are the surprising ones, so they get the other marker (a filled red dot, not an amber ring)."""
    rows = [{"month": f"2025-0{m}", "mrr": 100.0 * m} for m in range(1, 6)]
    result = Outlook(
        anomalies=[
            _anomaly("2025-02", "rule", "MRR rose 100% vs previous month (threshold 10%)"),
            _anomaly("2025-03", "rule", "MRR rose 50% vs previous month (threshold 10%)"),
            _anomaly("2025-03", "statistical", "MRR was above its 95% band"),
            _anomaly("2025-04", "statistical", "MRR was above its 95% band"),
            _anomaly("2025-09", "statistical", "not a month shown"),
        ]
    )
    marks = vega.trend_data(rows, "mrr", result, rule=True)["trend_anomalies"]
    assert [(m["month"], m["flag"]) for m in marks] == [
        ("2025-02", "Rule: MoM 10% off trend"),
        ("2025-03", "Outside the 95% band"),
        ("2025-04", "Outside the 95% band"),
    ]
    assert marks[1]["why"] == (
        "Rule: MRR rose 50% vs previous month (threshold 10%) | "
        "Statistical: MRR was above its 95% band"
    )
    layer = vega.trend_spec(rows, "mrr", "MRR", result=result)["layer"][-1]
    stroke, fill = layer["encoding"]["stroke"]["scale"], layer["encoding"]["fill"]["scale"]
    assert stroke == {"domain": vega.FLAGS, "range": [vega.RED, vega.AMBER]}
    assert fill == {"domain": vega.FLAGS, "range": [vega.RED, "white"]}


def test_the_rule_flags_are_drawn_only_when_asked_for() -> None:
    """By default the charts show the statistical detector's months alone; the rule's are in the
    legend and drawn on request."""
    rows = [{"month": f"2025-0{m}", "mrr": 100.0 * m} for m in range(1, 6)]
    result = Outlook(
        anomalies=[
            _anomaly("2025-02", "rule", "MRR rose 100% vs previous month (threshold 10%)"),
            _anomaly("2025-03", "rule", "MRR rose 50% vs previous month (threshold 10%)"),
            _anomaly("2025-03", "statistical", "MRR was above its 95% band"),
        ]
    )
    marks = vega.trend_data(rows, "mrr", result)["trend_anomalies"]
    assert [(m["month"], m["flag"], m["why"]) for m in marks] == [
        ("2025-03", "Outside the 95% band", "Statistical: MRR was above its 95% band")
    ]
    layer = vega.trend_spec(rows, "mrr", "MRR", result=result)["layer"][-1]
    assert any(flag.startswith("Rule:") for flag in layer["encoding"]["stroke"]["scale"]["domain"])

"""Vega-Lite (Altair) versions of the revenue charts, for the pages that must draw fast.

Streamlit draws Plotly charts with a 4.6 MB script that the browser parses before the first chart
appears (about a second on a 2-core machine) and then draws each chart on the main thread. Vega-Lite
is a fraction of that. The Executive Overview, the landing page of the revenue section, uses these
builders (``benchmarks/dashboard_revenue.py`` measures it); the other revenue pages keep Plotly.

Same content as the Plotly builders in :mod:`revintel.ui.revenue`: the series, the forecast with
its 80% and 95% bands, anomaly markers whose tooltip gives every detector's reason, stacked MRR
movements with net new MRR, and rates with undefined months as gaps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Literal

import altair as alt
import pyarrow as pa

from revintel.forecast.anomalies import DEFAULT_MOM_THRESHOLD
from revintel.metrics.definitions import DEFINITIONS
from revintel.ui import theme

Record = dict[str, Any]

BLUE = theme.PRIMARY
RED = "#DC2626"
AMBER = "#F59E0B"
BAR = "#93C5FD"
HEIGHT = 340
MOVEMENTS = (
    ("new", 1, BLUE),
    ("expansion", 1, "#14B8A6"),
    ("reactivation", 1, "#8B5CF6"),
    ("contraction", -1, AMBER),
    ("churn", -1, RED),
)
FLAGS = ["Outside the 95% band", f"Rule: MoM {DEFAULT_MOM_THRESHOLD:.0%} off trend"]
"""The anomaly markers' kinds: the statistical detector's (with or without the rule's), the rule's
alone, at its default threshold, shown only when asked for (:func:`_anomaly_marks`). Both are in
the legend, so that a reader knows the rule exists."""
LINE_COLOURS = [BLUE, "#0EA5E9", "#8B5CF6", "#14B8A6", "#F59E0B", "#EC4899", "#64748B"]


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec, for ``st.vega_lite_chart``, with its datasets named by position.

    Altair names each dataset of a data frame by a hash of its rows, so the spec of a chart
    changed with its data, and Streamlit re-creates a Vega view whenever the spec changes (parse,
    compile, draw: the costliest part of a filter change in the browser). Renamed ``d0``,
    ``d1``... instead, the same chart of other data has the same spec, and Streamlit swaps the
    data in the view. (Datasets a chart names itself keep their names.)
    Not validated against the Vega-Lite schema (~10 ms a chart on every run);
    ``tests/ui/test_vega.py`` validates every chart the pages build.
    """
    out = chart.to_dict(validate=False)
    hashed = [name for name in out.get("datasets", {}) if name.startswith("data-")]
    if not hashed:
        return out
    names = {name: f"d{i}" for i, name in enumerate(hashed)}
    datasets = out.pop("datasets")
    text = json.dumps(out)
    for old, new in names.items():
        text = text.replace(json.dumps(old), json.dumps(new))
    return {**json.loads(text), "datasets": {names.get(k, k): v for k, v in datasets.items()}}


def _style(chart: alt.TopLevelMixin, height: int = HEIGHT) -> alt.TopLevelMixin:
    return (
        chart.properties(height=height, width="container")
        .configure_axis(grid=True, gridColor=theme.BORDER, labelColor=theme.TEXT, title=None)
        .configure_axisX(grid=False, labelAngle=0, labelOverlap="greedy", labelPadding=4)
        .configure_legend(orient="top", title=None, labelFontSize=11, columns=3, labelLimit=160)
        .configure_view(strokeWidth=0)
    )


# Months as text (YYYY-MM) sort in time order: no list of months in the spec, which then does not
# depend on the range shown.
_MONTH = alt.X("month:O", sort="ascending", title=None)


def _money_axis(field: str = "value", title: str | None = None) -> alt.Y:
    return alt.Y(f"{field}:Q", title=title, axis=alt.Axis(format="$~s"))


def trend_chart(
    rows: Sequence[Record],
    column: str,
    label: str,
    *,
    result: Any | None = None,  # revintel.ui.revenue.Outlook
    kind: Literal["line", "bar"] = "line",
    rule: bool = False,
) -> alt.TopLevelMixin:
    """A monthly money series, its forecast with 80% and 95% bands, and anomalous months.

    Every layer is always drawn, from a named dataset that is empty while the forecast is being
    computed (or when there is none), and the months are ordered by their text (YYYY-MM): the
    spec is the same for any data, so the browser swaps the data in the drawn view when the
    filters change or the forecast arrives (:func:`spec`). The page sends :func:`trend_spec`.
    """
    return _trend(label, kind, trend_data(rows, column, result, rule=rule))


def trend_spec(
    rows: Sequence[Record],
    column: str,
    label: str,
    *,
    result: Any | None = None,
    kind: Literal["line", "bar"] = "line",
    rule: bool = False,
) -> dict[str, Any]:
    """``spec(trend_chart(...))``, without building the chart again (:func:`_with_data`)."""
    return _with_data(("trend", label, kind), lambda: _trend(label, kind, {}),
                      trend_data(rows, column, result, rule=rule))  # fmt: skip


def trend_data(
    rows: Sequence[Record], column: str, result: Any | None = None, *, rule: bool = False
) -> dict[str, list[Record]]:
    """The trend chart's datasets: the series, the forecast's bands and path, the anomalies (the
    statistical detector's; the rule's too with ``rule``)."""
    months = [r["month"] for r in rows]
    actual = [{"month": m, "value": r.get(column)} for m, r in zip(months, rows, strict=True)]
    forecast = result.forecast if result is not None else None
    bands: list[Record] = []
    path: list[Record] = []
    if forecast is not None and forecast.forecast:
        start = [(months[-1], actual[-1]["value"])] if months else []
        bands = [
            {"month": m, "level": f"{level}%", "lower": lo, "upper": hi}
            for level in sorted(forecast.levels, reverse=True)
            for m, lo, hi in [(m, v, v) for m, v in start]
            + [(f.month, f.lower[level], f.upper[level]) for f in forecast.forecast]
        ]
        series = f"Forecast ({forecast.model})"
        path = [{"month": m, "value": v, "series": series} for m, v in start] + [
            {"month": f.month, "value": f.mean, "series": series} for f in forecast.forecast
        ]
    return {
        "trend_actual": actual,
        "trend_bands": bands,
        "trend_forecast": path,
        "trend_anomalies": _anomaly_marks(result, set(months), rule=rule),
    }


def _trend(
    label: str, kind: Literal["line", "bar"], datasets: dict[str, list[Record]]
) -> alt.TopLevelMixin:
    x = _MONTH
    base = alt.Chart(alt.NamedData("trend_actual")).encode(
        x=x,
        y=_money_axis(),
        tooltip=[alt.Tooltip("month:O", title="Month"),
                 alt.Tooltip("value:Q", title=label, format="$,.0f")],
    )  # fmt: skip
    layers = [
        base.mark_bar(color=BAR) if kind == "bar" else
        base.mark_line(color=BLUE, strokeWidth=3, point=True),
        alt.Chart(alt.NamedData("trend_bands"))
        .mark_area()
        .encode(
            x=x,
            y=alt.Y("lower:Q", axis=alt.Axis(format="$~s"), title=None),
            y2="upper:Q",
            opacity=alt.Opacity(
                "level:N", scale=alt.Scale(domain=["95%", "80%"], range=[0.12, 0.25]),
                legend=None,
            ),
            color=alt.value(BLUE),
            tooltip=[alt.Tooltip("month:O", title="Month"), alt.Tooltip("level:N"),
                     alt.Tooltip("lower:Q", format="$,.0f"),
                     alt.Tooltip("upper:Q", format="$,.0f")],
        ),
        alt.Chart(alt.NamedData("trend_forecast"))
        .mark_line(strokeDash=[6, 4], point=True)
        .encode(
            x=x,
            y=_money_axis(),
            color=alt.Color("series:N", scale=alt.Scale(range=[BLUE]), legend=None),
            tooltip=[alt.Tooltip("month:O", title="Month"),
                     alt.Tooltip("value:Q", title="Forecast", format="$,.0f")],
        ),
        alt.Chart(alt.NamedData("trend_anomalies"))
        .mark_point(shape="circle", size=150, strokeWidth=2, filled=True)
        .encode(
            x=x,
            y=_money_axis(),
            # one legend, its symbols drawn as the marks are (Vega-Lite merges the two)
            stroke=alt.Stroke("flag:N", scale=alt.Scale(domain=FLAGS, range=[RED, AMBER])),
            fill=alt.Fill("flag:N", scale=alt.Scale(domain=FLAGS, range=[RED, "white"])),
            tooltip=[alt.Tooltip("month:O", title="Anomaly"), alt.Tooltip("why:N", title="Why")],
        ),
    ]  # fmt: skip
    return _style(alt.layer(*layers, datasets=datasets))


def _anomaly_marks(result: Any | None, shown: set[str], *, rule: bool = False) -> list[Record]:
    """One mark per anomalous month shown, its tooltip giving every shown detector's reason.

    A month the statistical detector flagged (outside the in-sample 95% band: unexpected, even
    allowing for trend and seasonality) is a filled red dot. The rule's months (a month-over-month
    change more than the threshold from the trend, which a season or lumpy billing can explain)
    are shown only with ``rule``: a month only the rule flagged is then an amber ring."""
    by_month: dict[str, list[Any]] = {}
    for a in result.anomalies if result is not None else []:
        if a.month in shown and (rule or a.detector != "rule"):
            by_month.setdefault(a.month, []).append(a)
    return [
        {
            "month": m,
            "value": found[0].actual,
            "flag": FLAGS[0] if any(a.detector != "rule" for a in found) else FLAGS[1],
            "why": " | ".join(
                f"{'Rule' if a.detector == 'rule' else 'Statistical'}: {a.reason}" for a in found
            ),
        }
        for m, found in sorted(by_month.items())
    ]


def movements_chart(rows: Sequence[Record]) -> alt.TopLevelMixin:
    """MRR movements per month as stacked bars (gains up, losses down) and net new MRR.
    The page sends :func:`movements_spec`."""
    return _movements(movements_data(rows))


def movements_spec(rows: Sequence[Record]) -> dict[str, Any]:
    """``spec(movements_chart(rows))``, without building the chart again."""
    return _with_data(("movements",), lambda: _movements({}), movements_data(rows))


def movements_data(rows: Sequence[Record]) -> dict[str, list[Record]]:
    """The movements chart's datasets: one bar per month and movement, and net new MRR."""
    bars = [
        {"month": r["month"], "movement": DEFINITIONS[name].label,
         "value": sign * (r.get(name) or 0.0), "order": i}
        for r in rows
        for i, (name, sign, _colour) in enumerate(MOVEMENTS)
    ]  # fmt: skip
    net = [{"month": r["month"], "value": r.get("net_new_mrr")} for r in rows]
    return {"movements_bars": bars, "movements_net": net}


def _movements(datasets: dict[str, list[Record]]) -> alt.TopLevelMixin:
    labels = [DEFINITIONS[name].label for name, _sign, _colour in MOVEMENTS]
    stacked = (
        alt.Chart(alt.NamedData("movements_bars"))
        .mark_bar()
        .encode(
            x=_MONTH,
            y=_money_axis(),
            color=alt.Color(
                "movement:N",
                sort=labels,
                scale=alt.Scale(domain=labels, range=[c for _n, _s, c in MOVEMENTS]),
            ),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("month:O", title="Month"), alt.Tooltip("movement:N"),
                     alt.Tooltip("value:Q", format="$,.0f")],
        )
    )  # fmt: skip
    line = (
        alt.Chart(alt.NamedData("movements_net"))
        .mark_line(color=theme.TEXT, point=True, strokeWidth=2)
        .encode(
            x=_MONTH,
            y=_money_axis(),
            tooltip=[alt.Tooltip("month:O", title="Month"),
                     alt.Tooltip("value:Q", title="Net new MRR", format="$,.0f")],
        )
    )  # fmt: skip
    return _style(alt.layer(stacked, line, datasets=datasets))


def rate_lines(rows: Sequence[Record], series: Sequence[tuple[str, str]]) -> alt.TopLevelMixin:
    """One line per ``(column, label)`` as a percentage; an undefined month is a gap whose
    tooltip gives the reason. The page sends :func:`rates_spec`."""
    return _rates(rates_data(rows, series))


def rates_spec(rows: Sequence[Record], series: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """``spec(rate_lines(rows, series))``, without building the chart again."""
    return _with_data(("rates",), lambda: _rates({}), rates_data(rows, series))


def rates_data(
    rows: Sequence[Record], series: Sequence[tuple[str, str]]
) -> dict[str, list[Record]]:
    """The rate chart's dataset: one point per month and rate, with its shown value."""
    return {
        "rates": [
            {"month": r["month"], "rate": label, "value": r.get(column),
             "shown": f"{r[column]:.2%}" if r.get(column) is not None
             else f"— ({r.get(f'{column}_reason') or 'undefined'})"}
            for r in rows
            for column, label in series
        ]
    }  # fmt: skip


def _rates(datasets: dict[str, list[Record]]) -> alt.TopLevelMixin:
    chart = (
        alt.Chart(alt.NamedData("rates"))
        .mark_line(point=True)
        .encode(
            x=_MONTH,
            y=alt.Y("value:Q", axis=alt.Axis(format=".1%"), title=None),
            color=alt.Color("rate:N", scale=alt.Scale(range=LINE_COLOURS)),
            tooltip=[alt.Tooltip("month:O", title="Month"), alt.Tooltip("rate:N"),
                     alt.Tooltip("shown:N", title="Value")],
        )
    )  # fmt: skip
    return _style(alt.layer(chart, datasets=datasets))


def with_arrow_datasets(chart: dict[str, Any]) -> dict[str, Any]:
    """``chart`` with each named dataset given as an Arrow table, for ``st.vega_lite_chart``.

    Streamlit sends every dataset to the browser as Arrow; from a list of records it gets
    there through a pandas DataFrame, several times slower than building the Arrow table
    directly (four charts on every filter change). The same columns and types either way: the
    values are strings, numbers and nulls (a missing number is null, as pandas' NaN becomes).
    """
    datasets = chart.get("datasets")
    if not datasets:
        return chart
    return {**chart, "datasets": {name: _arrow(rows) for name, rows in datasets.items()}}


def _arrow(rows: Any) -> Any:
    """Records as an Arrow table with the union of their keys as columns, in order of first
    appearance (as pandas makes them); anything else, or values Arrow cannot type, as given."""
    if not isinstance(rows, list):
        return rows
    columns = list(dict.fromkeys(k for r in rows for k in r))
    try:
        return pa.table({c: [r.get(c) for r in rows] for c in columns})
    except (pa.ArrowException, TypeError, ValueError):
        return rows  # Streamlit converts it through pandas


# A chart's spec without its datasets, as JSON, per chart and static option (label, kind).
_SKELETONS: dict[tuple[str, ...], str] = {}


def _with_data(
    key: tuple[str, ...],
    build: Callable[[], alt.TopLevelMixin],
    datasets: dict[str, list[Record]],
) -> dict[str, Any]:
    """The spec of the chart ``build()`` makes (its layers read named datasets only), with
    ``datasets``.

    Those charts' specs do not depend on their data, so the chart is built and serialised by
    Altair once per process (20-60 ms a chart) and a page run only makes the datasets: a filter
    change draws four charts. A fresh copy each time: Streamlit adjusts the spec it is given.
    """
    text = _SKELETONS.get(key)
    if text is None:
        skeleton = spec(build())
        skeleton.pop("datasets", None)
        text = _SKELETONS[key] = json.dumps(skeleton)
    return {**json.loads(text), "datasets": datasets}

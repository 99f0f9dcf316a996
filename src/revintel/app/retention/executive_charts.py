"""The executive report's charts as Vega-Lite specs, drawn to PNG or SVG without a browser by
vl-convert (docs/retention.md, Executive report → Charts): MRR with its forecast band, the MRR
movements of the year, and customers by churn-risk tier (or ARR by health tier)."""

from __future__ import annotations

__all__ = ["Chart", "charts", "draw"]

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from revintel.app.retention.executive import ExecutiveReport

ImageFormat = Literal["png", "svg"]
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
WIDTH, HEIGHT = 620, 240
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
MOVEMENT_COLORS = {
    "New": "#2e7d32",
    "Expansion": "#66bb6a",
    "Reactivation": "#a5d6a7",
    "Contraction": "#ef9a9a",
    "Churn": "#c62828",
}
TIER_COLORS = {
    "High": "#c62828",
    "Medium": "#ef6c00",
    "Low": "#f9a825",
    "Safe": "#2e7d32",
    "Critical": "#c62828",
    "At Risk": "#ef6c00",
    "Healthy": "#2e7d32",
}


@dataclass(frozen=True)
class Chart:
    """One chart: its name (a file stem), title, caption and Vega-Lite spec."""

    name: str
    title: str
    caption: str
    spec: dict[str, Any]


def _base(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "width": WIDTH,
        "height": HEIGHT,
        "background": "white",
        "config": {
            "font": FONT,
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "grid": True, "gridOpacity": 0.4},
            "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "top"},
            "view": {"stroke": None},
        },
        **spec,
    }


def mrr_trend(report: ExecutiveReport) -> Chart | None:
    """MRR of the two years to the month, then the forecast's mean with its 80% and 95% bands."""
    f = report.forecast
    if f is None:
        return None
    actual = [{"month": h["month"], "mrr": h["mrr"], "kind": "Actual"} for h in f.history]
    # the forecast line starts at the last actual month so the two lines join
    last = f.history[-1] if f.history else None
    joined = [{"month": last["month"], "mean": last["mrr"]}] if last else []
    forecast = joined + [{"month": p.month, "mean": p.mean} for p in f.points]
    bands = [
        {"month": p.month, "lo80": p.lo80, "hi80": p.hi80, "lo95": p.lo95, "hi95": p.hi95}
        for p in f.points
    ]
    x = {
        "field": "month",
        "type": "temporal",
        "timeUnit": "yearmonth",
        "title": None,
        "axis": {"format": "%b %y", "labelAngle": 0, "tickCount": 10},
    }
    money_axis = {"format": "$~s", "title": "MRR"}
    spec = _base(
        {
            "layer": [
                {
                    "data": {"values": bands},
                    "mark": {"type": "area", "color": "#90caf9", "opacity": 0.35},
                    "encoding": {
                        "x": x,
                        "y": {"field": "lo95", "type": "quantitative", "axis": money_axis},
                        "y2": {"field": "hi95"},
                    },
                },
                {
                    "data": {"values": bands},
                    "mark": {"type": "area", "color": "#42a5f5", "opacity": 0.35},
                    "encoding": {
                        "x": x,
                        "y": {"field": "lo80", "type": "quantitative"},
                        "y2": {"field": "hi80"},
                    },
                },
                {
                    "data": {"values": actual},
                    "mark": {
                        "type": "line",
                        "color": "#0d47a1",
                        "strokeWidth": 2.5,
                        "point": {"size": 18, "color": "#0d47a1"},
                    },
                    "encoding": {"x": x, "y": {"field": "mrr", "type": "quantitative"}},
                },
                {
                    "data": {"values": forecast},
                    "mark": {
                        "type": "line",
                        "color": "#1565c0",
                        "strokeDash": [6, 4],
                        "strokeWidth": 2,
                    },
                    "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative"}},
                },
            ]
        }
    )
    bands_note = "shaded: 80% and 95% intervals"
    return Chart(
        "mrr_trend",
        "MRR and forecast",
        f"Solid: MRR to {report.month}; dashed: the {f.model} forecast {f.horizon} months "
        f"ahead ({bands_note}).",
        spec,
    )


def movements(report: ExecutiveReport) -> Chart:
    """Each month's movements of the year to the report month: gains up, losses down."""
    values = []
    for row in report.movements.history:
        for name, label in (
            ("new", "New"),
            ("expansion", "Expansion"),
            ("reactivation", "Reactivation"),
            ("contraction", "Contraction"),
            ("churn", "Churn"),
        ):
            sign = -1.0 if name in ("contraction", "churn") else 1.0
            values.append({"month": row["month"], "movement": label, "mrr": sign * row[name]})
    spec = _base(
        {
            "data": {"values": values},
            "mark": {"type": "bar"},
            "encoding": {
                "x": {
                    "field": "month",
                    "type": "ordinal",
                    "title": None,
                    "axis": {"labelAngle": -40},
                },
                "y": {
                    "field": "mrr",
                    "type": "quantitative",
                    "stack": "zero",
                    "axis": {"format": "$~s", "title": "MRR moved"},
                },
                "color": {
                    "field": "movement",
                    "type": "nominal",
                    "title": None,
                    "scale": {
                        "domain": list(MOVEMENT_COLORS),
                        "range": list(MOVEMENT_COLORS.values()),
                    },
                },
                "order": {"field": "movement", "sort": "ascending"},
            },
        }
    )
    return Chart(
        "movements",
        "MRR movements",
        "New, expansion and reactivation add MRR (up); contraction and churn remove it (down).",
        spec,
    )


def risk_tiers(report: ExecutiveReport) -> Chart | None:
    """Customers per churn-risk tier with their MRR at stake; else ARR per health tier."""
    r = report.risk
    if r is None:
        return None
    if r.tiers:
        values = [{"tier": t, "customers": n} for t, n in r.tiers.items()]
        field, title, caption = (
            "customers",
            "Customers by churn-risk tier",
            f"Latest churn predictions (scored {r.scored_at or 'undated'}).",
        )
    elif r.arr_by_health_tier:
        values = [{"tier": t, "arr": v} for t, v in r.arr_by_health_tier.items()]
        field, title, caption = ("arr", "ARR by health tier", f"Health scores of {r.health_month}.")
    else:
        return None
    domain = [str(v["tier"]) for v in values]
    spec = _base(
        {
            "height": 150,
            "data": {"values": values},
            "mark": {"type": "bar", "cornerRadiusEnd": 3},
            "encoding": {
                "y": {"field": "tier", "type": "nominal", "sort": domain, "title": None},
                "x": {
                    "field": field,
                    "type": "quantitative",
                    "axis": {"format": "$~s" if field == "arr" else ",d"},
                },
                "color": {
                    "field": "tier",
                    "type": "nominal",
                    "legend": None,
                    "scale": {
                        "domain": domain,
                        "range": [TIER_COLORS.get(t, "#607d8b") for t in domain],
                    },
                },
            },
        }
    )
    return Chart("risk_tiers", title, caption, spec)


def charts(report: ExecutiveReport) -> dict[str, Chart]:
    """Every chart the report has data for, by name."""
    found = [mrr_trend(report), movements(report), risk_tiers(report)]
    return {c.name: c for c in found if c is not None}


def draw(chart: Chart, fmt: ImageFormat) -> bytes:
    """The chart as PNG (twice the size, for print and slides) or SVG."""
    import vl_convert as vlc

    if fmt == "svg":
        return vlc.vegalite_to_svg(chart.spec).encode("utf-8")
    return bytes(vlc.vegalite_to_png(chart.spec, scale=2))

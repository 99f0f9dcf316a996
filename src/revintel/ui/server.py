"""The dashboard's server process: ``python -m revintel.ui.server <streamlit run args>``.

Streamlit runs every page script inside this process, so the modules the pages import and the
per-snapshot caches of the services are shared by all sessions. Importing them, and scoring the
latest month's account health, before the server accepts its first visitor spares that visitor
several seconds (pandas, pandera, SQLAlchemy and Ibis imports; the first warehouse queries).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from contextlib import suppress


def _best_effort(warm: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            warm()
        except Exception as exc:  # a warm-up failure must never stop the dashboard
            print(f"revintel: warm-up {warm.__name__} skipped: {exc}", file=sys.stderr)

    return run


def _warm_plotly() -> None:
    """Build one figure of every trace type the pages draw: Plotly imports its validators on first
    use (~2 s here), which would otherwise fall on the first visitor's first chart."""
    import plotly.graph_objects as go

    figure = go.Figure(
        [
            go.Scatter(x=[1], y=[1], mode="lines+markers", fill="tonexty"),
            go.Bar(x=[1], y=[1]),
            go.Histogram(x=[1]),
            go.Heatmap(z=[[1]]),
            go.Treemap(labels=["a"], parents=[""], values=[1]),
            go.Waterfall(x=["a"], y=[1]),
            go.Scatterpolar(r=[1], theta=["a"]),
        ]
    )
    figure.update_layout(
        title={"text": "x"},
        xaxis={"title": "x", "tickformat": ".0%", "type": "category"},
        yaxis={"title": "y", "range": [0, 1]},
        legend={"orientation": "h"},
        hovermode="x unified",
        margin={"t": 0},
        height=300,
        shapes=[{"type": "line", "x0": 0, "x1": 1, "y0": 0, "y1": 1}],
        annotations=[{"text": "a", "x": 0, "y": 0}],
        polar={"radialaxis": {"range": [0, 1]}},
        coloraxis={"colorscale": "RdYlGn"},
    )
    figure.to_json()


def _warm_caches() -> None:
    """Fill the per-snapshot service caches for the data loaded now (best effort): the revenue
    pages' metrics, cubes and anomaly drivers first (the Executive Overview is the usual landing
    page), then account health and churn."""
    try:
        from revintel.context import AppContext
        from revintel.errors import RevintelError
        from revintel.health import service as health
        from revintel.metrics import service as metrics

        ctx = AppContext()
        try:
            if ctx.warehouse.has_table("customers"):
                # No health tables or no predictions is not an error: the pages say so.
                for warm in (metrics.warm, _warm_outlook, health.score_month, _warm_churn):
                    with suppress(RevintelError):
                        warm(ctx)
        finally:
            ctx.close()
    except Exception as exc:  # a warm-up failure must never stop the dashboard
        print(f"revintel: cache warm-up skipped: {exc}", file=sys.stderr)


def _warm_outlook(ctx) -> None:
    """The Executive Overview's forecasts (remembered by revintel.forecast.service)."""
    from revintel.forecast.service import forecast_metric
    from revintel.metrics import service as metrics

    forecast_metric(metrics.mrr_movements(ctx), "mrr")
    if ctx.warehouse.has_table("payments"):
        forecast_metric(metrics.revenue(ctx), "revenue")


def _warm_churn(ctx) -> None:
    """The latest predictions and the production model (High-Risk, Customer Lookup)."""
    from revintel.churn import service as churn

    frame = churn.current_predictions(ctx)
    versions = frame["model_version"].drop_nulls().unique().to_list()
    for version in versions:
        churn.model(ctx, version)


def main(argv: list[str]) -> None:
    # The heavy imports every page needs (pandas, pandera, polars, Ibis, DuckDB, SQLAlchemy),
    # done once before the first session. Page modules themselves use st.cache_data, which wants
    # Streamlit's runtime, so they are left to the first run.
    import revintel.churn.service
    import revintel.forecast.service
    import revintel.health.service
    import revintel.metrics.service
    import revintel.store  # noqa: F401

    threading.Thread(target=_warm_caches, name="revintel-warm-up", daemon=True).start()
    threading.Thread(target=_best_effort(_warm_plotly), name="revintel-plotly", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])

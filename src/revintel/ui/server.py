"""The dashboard's server process: ``python -m revintel.ui.server <streamlit run args>``.

Streamlit runs every page script inside this process, so the modules the pages import and the
per-snapshot caches of the services are shared by all sessions. Importing them, and scoring the
latest month's account health, before the server accepts its first visitor spares that visitor
several seconds (pandas, pandera, SQLAlchemy and Ibis imports; the first warehouse queries).
"""

from __future__ import annotations

import faulthandler
import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import Route

BACKEND_CONFIG = (
    "<script>window.__streamlit = Object.assign("
    '{BACKEND_BASE_URL: new URL("./", window.location.href).href}, window.__streamlit)</script>'
)
"""Tells Streamlit's frontend that the server is at the page's folder. Without it, a page opened
by its URL (``/executive-overview``) first asks for ``/executive-overview/_stcore/health``, gets a
404 and retries at ``/`` after a pause: 0.3-0.4 s of every first render of a page's URL here."""


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
    """Fill the caches for the data loaded now (best effort): first the Executive Overview's (the
    usual landing page) monthly rows, whose forecasts the worker then computes meanwhile; then the
    revenue pages' cubes, account health and churn."""
    try:
        from revintel.app.context import AppContext
        from revintel.core.errors import RevintelError
        from revintel.health import service as health
        from revintel.metrics import service as metrics

        ctx = AppContext()
        try:
            if ctx.warehouse.has_table("customers"):
                # No health tables or no predictions is not an error: the pages say so.
                for warm in (_warm_outlook, metrics.warm, health.score_month, _warm_churn):
                    with suppress(RevintelError):
                        warm(ctx)
        finally:
            ctx.close()
    except Exception as exc:  # a warm-up failure must never stop the dashboard
        print(f"revintel: cache warm-up skipped: {exc}", file=sys.stderr)
    finally:
        _freeze_warm_objects()


def _freeze_warm_objects() -> None:
    """Move everything alive now (modules, caches, the warm results) out of the collector's
    reach: they live as long as the server, and a full collection during a visitor's page run
    would otherwise walk them all (0.1-0.2 s each time, with the GIL held)."""
    gc.collect()
    gc.freeze()


def _warm_outlook(ctx) -> None:
    """The Executive Overview's forecasts and anomalies for the view it opens on (every customer,
    up to the last complete month), started in the forecasting worker (revintel.ui.outlook): the
    first visitor's page then finds them computed, or computing."""
    from revintel.core.calendar import month_label
    from revintel.metrics import service as metrics
    from revintel.ui import revenue

    p = metrics.period(ctx)
    view = revenue.RevenueFilters(start=month_label(p.first), end=month_label(p.last))
    query = metrics.MetricQuery(**view.options)
    revenue.outlook(metrics.mrr_movements(ctx, query), "mrr", "mrr", ctx=ctx, filters=view)
    if ctx.warehouse.has_table("payments"):
        rows = metrics.revenue(ctx, query)
        revenue.outlook(rows, "revenue", "revenue", ctx=ctx, filters=view)
    revenue.start_outlooks()


def _warm_churn(ctx) -> None:
    """The latest predictions and the production model (High-Risk, Customer Lookup)."""
    from revintel.churn import service as churn

    frame = churn.current_predictions(ctx)
    versions = frame["model_version"].drop_nulls().unique().to_list()
    for version in versions:
        churn.model(ctx, version)


def _skip_direct_execution_warning() -> None:
    """Streamlit checks once, on the first element any page draws, whether it runs in a REPL, to
    print a warning that never applies here: the check (inspect.stack) resolves the source file of
    every loaded module, ~0.9 s on the first visitor's first page. Mark it as done."""
    with suppress(ImportError, AttributeError):
        from streamlit import delta_generator

        if hasattr(delta_generator, "_use_warning_has_been_displayed"):
            delta_generator._use_warning_has_been_displayed = True


def _quiet_runtime_warnings() -> None:
    """The warm-up imports the pages' modules before Streamlit's runtime exists, and Streamlit
    warns once per ``st.cache_data`` function defined then that it has no runtime. Harmless (a
    cached function looks its storage up on every call, from the runtime once it runs): drop it."""
    logging.getLogger("streamlit.runtime.caching.cache_data_api").addFilter(
        lambda record: "No runtime found" not in record.getMessage()
    )


def index_html(static: Path | None = None) -> str | None:
    """Streamlit's ``index.html`` with :data:`BACKEND_CONFIG` first in its head; None if that file
    has no ``<head>`` (another Streamlit: its pages are then served as Streamlit serves them)."""
    if static is None:
        import streamlit

        static = Path(streamlit.__file__).parent / "static"
    try:
        html = (static / "index.html").read_text(encoding="utf-8")
    except OSError:
        return None
    head = html.find("<head>")
    if head < 0:
        return None
    at = head + len("<head>")
    return html[:at] + BACKEND_CONFIG + html[at:]


def page_routes(static: Path | None = None) -> list[Route]:
    """A route per page URL (but the default page's, ``/``, which Streamlit's frontend finds at
    once) answering with :func:`index_html`, never cached, as Streamlit serves its own."""
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from revintel.ui.views import PAGES

    html = index_html(static)
    if html is None:
        return []

    async def index(_request: object) -> HTMLResponse:
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    return [
        Route(f"/{spec.url_path}", index, methods=["GET", "HEAD"])
        for spec in PAGES
        if not spec.default
    ]


def dump_stacks_on_sigusr1() -> None:
    """``kill -USR1 <pid>`` prints every thread's Python stack to this process's stderr (the
    dashboard's log) and the process goes on: what to look at when the server stops answering."""
    with suppress(AttributeError, ValueError, OSError):  # no SIGUSR1 (Windows); stderr closed
        faulthandler.register(signal.SIGUSR1, all_threads=True)


def main(argv: list[str]) -> None:
    from revintel.ui import outlook

    dump_stacks_on_sigusr1()
    _quiet_runtime_warnings()

    outlook.start()  # the forecasting worker's imports, on the other core meanwhile
    # The heavy imports every page needs (pandas, pandera, polars, Ibis, DuckDB, SQLAlchemy),
    # done once before the first session. Page modules themselves use st.cache_data, which wants
    # Streamlit's runtime, so they are left to the first run.
    import revintel.churn.service
    import revintel.forecast.service
    import revintel.health.service
    import revintel.metrics.service
    import revintel.store
    import revintel.ui.vega  # noqa: F401  (Altair: ~1.5 s on the first visitor's page otherwise)

    _skip_direct_execution_warning()

    threading.Thread(target=_warm_caches, name="revintel-warm-up", daemon=True).start()
    threading.Thread(target=_best_effort(_warm_plotly), name="revintel-plotly", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])

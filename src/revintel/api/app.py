"""The FastAPI application: ``create_app(ctx)`` wires the routes, error handlers and context."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from revintel import __version__
from revintel.api.edge import EdgePolicy, install_edge
from revintel.api.errors import install_error_handlers
from revintel.api.routes import (
    alerts,
    attribution,
    attribution_budget,
    attribution_journeys,
    campaign_results,
    campaigns,
    data_quality,
    health,
    health_scores,
    jobs,
    loads,
    notes,
    reports,
    revenue_accounts,
    revenue_analytics,
    revenue_deals,
    revenue_forecast,
    risk_trends,
    segments,
    tables,
    tracking,
)
from revintel.api.routes import churn as churn_routes
from revintel.api.routes import clv as clv_routes
from revintel.api.routes import forecast as forecast_routes
from revintel.api.routes import metrics as metrics_routes
from revintel.api.routes import models as models_routes
from revintel.app.context import AppContext

if TYPE_CHECKING:
    from revintel.app.retention.jobs import JobScheduler

API_PREFIX = "/api/v1"
log = logging.getLogger("revintel.api")

DESCRIPTION = """\
revintel's REST API, for CRMs, scripts and other services. It calls the same services as the
`revintel` command line and the dashboard.

Every error is JSON: `{"error": <class>, "detail": <message>}`, plus `problems` (file, row,
column, expected, got) when uploaded files break their table contracts, or `fields` when the
request itself is invalid.

The API answers only the host names it is configured for (421 otherwise); a browser page of another
origin may read through CORS only if its origin is allowed, and may not change data (403); request
bodies have size limits (413) and a read timeout (408). See docs/operations.md.
"""


def create_app(
    ctx: AppContext | None = None, *, bind_host: str | None = None, scheduler: bool = False
) -> FastAPI:
    """The API over ``ctx`` (by default, settings from the environment); closes it on shutdown.

    ``bind_host`` is the address the server listens on, added to the allowed hosts. With
    ``scheduler`` the scheduled jobs run in this process from start to shutdown
    (``revintel serve --scheduler``; docs/retention.md, Scheduled jobs).
    """
    context = ctx if ctx is not None else AppContext()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _reconcile_loads(context)
        jobs = _start_scheduler(context) if scheduler else None
        app.state.scheduler = jobs
        try:
            yield
        finally:
            if jobs is not None:
                jobs.shutdown(wait=False)  # a run under way is recorded when it ends
                log.info("scheduler stopped")
            context.close()

    app = FastAPI(
        title="revintel",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.context = context
    app.state.edge = EdgePolicy.from_settings(context.settings, bind_host=bind_host)
    install_edge(app, app.state.edge)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(tables.router, prefix=API_PREFIX)
    app.include_router(loads.router, prefix=API_PREFIX)
    app.include_router(health_scores.router, prefix=API_PREFIX)
    app.include_router(metrics_routes.router, prefix=API_PREFIX)
    app.include_router(forecast_routes.router, prefix=API_PREFIX)
    app.include_router(clv_routes.router, prefix=API_PREFIX)
    app.include_router(churn_routes.router, prefix=API_PREFIX)
    app.include_router(models_routes.router, prefix=API_PREFIX)
    for module in (revenue_analytics, revenue_forecast, revenue_deals, revenue_accounts):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in (attribution, attribution_journeys, attribution_budget, tracking):
        app.include_router(module.router, prefix=API_PREFIX)
    # campaign_results before campaigns: /campaigns/impact must not be read as a campaign id.
    for module in (notes, segments, campaign_results, campaigns, alerts, jobs, reports):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in (risk_trends, data_quality):
        app.include_router(module.router, prefix=API_PREFIX)
    return app


def _start_scheduler(context: AppContext) -> JobScheduler:
    """The scheduled jobs, started (invalid schedules stop the start with their message)."""
    from revintel.app.retention.jobs import JobScheduler

    jobs = JobScheduler(context)
    jobs.start()
    log.info("scheduler started: %s", ", ".join(f"{k} '{v}'" for k, v in jobs.schedules.items()))
    return jobs


def _reconcile_loads(context: AppContext) -> None:
    """At start, loads whose process died are marked ``interrupted`` in the history (a store that
    cannot be reached yet is reported by /health, not here)."""
    try:
        interrupted = context.store.reconcile_loads()
    except Exception:  # the server still starts; /health says what is down
        log.warning("could not check the load history at start", exc_info=True)
        return
    if interrupted:
        log.warning("loads %s were interrupted (their process is gone)", interrupted)

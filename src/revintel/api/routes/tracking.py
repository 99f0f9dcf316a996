"""``POST /api/v1/touchpoints`` and ``POST /api/v1/revenue-events``: touches and revenue events,
one or a batch, acknowledged only once durable (docs/attribution.md, Ingestion).

The router's lifespan runs the journal flusher of the API process
(:class:`revintel.attribution.service.ingestion.JournalFlusher`): at start it appends what an
earlier process journalled but did not append, then every ``ingestion.flush_seconds``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from revintel.api.deps import ContextDep
from revintel.app.context import AppContext
from revintel.attribution.config import InvalidAttributionConfig, load_config
from revintel.attribution.ingestion import EventKind, InvalidEvents
from revintel.attribution.service import ingestion
from revintel.core.errors import Problem

log = logging.getLogger("revintel.api")


@asynccontextmanager
async def _flusher(app: FastAPI) -> AsyncIterator[None]:
    context: AppContext = app.state.context
    try:
        settings = load_config(context.settings).ingestion
    except InvalidAttributionConfig:  # the server starts; each tracking request says why not
        log.warning("no journal flusher: the attribution settings are invalid", exc_info=True)
        yield
        return
    flusher = ingestion.JournalFlusher(
        lambda: closing(context.fork()), context.settings.home, settings
    )
    app.state.journal_flusher = flusher
    flusher.start()
    try:
        yield
    finally:
        await run_in_threadpool(flusher.stop)


router = APIRouter(tags=["tracking"], lifespan=_flusher)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="A retry with the same key and body gets the first answer and stores nothing; "
        "the same key with another body is refused (409).",
        max_length=200,
    ),
]

ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Stored durably (journalled and fsync'd); in the warehouse within about "
        "ingestion.flush_seconds. `Idempotent-Replayed: true` when the answer repeats an "
        "earlier request's."
    }
}


async def _ingest(
    kind: EventKind, request: Request, ctx: AppContext, key: str | None
) -> JSONResponse:
    raw = await request.body()
    try:
        body: Any = json.loads(raw)
    except ValueError as exc:
        problem = Problem("body", "not JSON", expected="a JSON event, list or {events: [...]}")
        raise InvalidEvents([problem]) from exc
    flusher = getattr(request.app.state, "journal_flusher", None)
    done = await run_in_threadpool(
        ingestion.ingest,
        ctx,
        kind,
        body,
        idempotency_key=key,
        on_stored=None if flusher is None else flusher.stored,
    )
    headers = {"Idempotent-Replayed": "true"} if done.replayed else None
    return JSONResponse(done.receipt, status_code=202, headers=headers)


@router.post("/touchpoints", status_code=202, responses=ACCEPTED)
async def post_touchpoints(
    request: Request, ctx: ContextDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Touches (`customer_id` or `visitor_id`/`lead_id`, `channel`, `timestamp`, optional
    `touchpoint_type`, `source`, `medium`, `campaign_id`, `event_id`): one, a list, or
    `{"events": [...]}` of up to ingestion.max_batch. A batch with any invalid event is refused
    whole (422, each problem naming `events[i].field`)."""
    return await _ingest("touchpoints", request, ctx, idempotency_key)


@router.post("/revenue-events", status_code=202, responses=ACCEPTED)
async def post_revenue_events(
    request: Request, ctx: ContextDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Revenue events (`customer_id` or `visitor_id`/`lead_id`, `event_type`
    subscription_started | trial_started | signed_up, `timestamp`, `revenue_amount`, `currency`,
    optional `event_id`), converted to the reporting currency through fx_rates; an event in a
    currency without a rate for its month is refused (422)."""
    return await _ingest("revenue-events", request, ctx, idempotency_key)

"""``GET /health``: the version and whether the warehouse and the app database answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Request, Response, status

from revintel import __version__
from revintel.api.schemas import ComponentHealth, HealthResponse
from revintel.app.context import AppContext

router = APIRouter(tags=["health"])

# The checks run on threads of their own, not on the pool that serves every other route: when
# all of that pool's threads are busy with slow requests, /health still answers at once.
_PROBES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="revintel-health")


def _probe(kind: str, ping: Callable[[], object]) -> ComponentHealth:
    try:
        ping()
    except Exception as exc:  # a health check reports every failure, it never raises
        from revintel.core.redact import public_text  # no password or server path in the answer

        first_line = public_text((str(exc).strip().splitlines() or [""])[0][:300])
        return ComponentHealth(
            status="down", kind=kind, detail=f"{type(exc).__name__}: {first_line}"
        )
    return ComponentHealth(status="ok", kind=kind)


@router.get(
    "/health",
    responses={503: {"model": HealthResponse, "description": "A component is down."}},
)
async def health(request: Request, response: Response) -> HealthResponse:
    """200 when the warehouse and the app database both answer, else 503 naming the one down."""
    parent: AppContext = request.app.state.context
    loop = asyncio.get_running_loop()
    checked = await loop.run_in_executor(_PROBES, _check, parent)
    if checked.status != "ok":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return checked


def _check(parent: AppContext) -> HealthResponse:
    ctx = parent.fork()
    try:
        return _components(ctx)
    finally:
        ctx.close()


def _components(ctx: AppContext) -> HealthResponse:
    settings = ctx.settings
    try:
        warehouse_kind = ctx.warehouse.kind  # opening the warehouse object does not connect yet
    except Exception:
        warehouse_kind = (settings.warehouse_url or "parquet://").split("://", 1)[0]
    app_db_kind = settings.sqlalchemy_url.split(":", 1)[0].split("+", 1)[0]
    components = {
        "warehouse": _probe(warehouse_kind, lambda: ctx.warehouse.ping()),
        "app_db": _probe(app_db_kind, lambda: ctx.store.ping()),
    }
    healthy = all(c.status == "ok" for c in components.values())
    return HealthResponse(
        status="ok" if healthy else "unavailable", version=__version__, components=components
    )

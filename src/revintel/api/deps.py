"""Dependencies of the API routes, as typed aliases (``ContextDep``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from revintel.app.context import AppContext


def get_context(request: Request) -> Iterator[AppContext]:
    """The request's context, closed when the response is done."""
    ctx = request.app.state.context.fork()
    try:
        yield ctx
    finally:
        ctx.close()


ContextDep = Annotated[AppContext, Depends(get_context)]

"""``POST /api/v1/touchpoints`` and ``POST /api/v1/revenue-events``: touches and revenue events,
one or a batch, acknowledged only once durable (docs/attribution.md, Ingestion)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["tracking"])

"""Portfolio churn risk over time (docs/retention.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["risk trends"])

"""``/api/v1/revenue/...``: analytics of pipeline and deal intelligence (docs/pipeline.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/revenue", tags=["pipeline and deals"])

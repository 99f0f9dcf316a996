"""``/api/v1/attribution/budget`` (and channel ROI): spend, ROI and the budget suggestion
(docs/attribution.md, Spend, ROI and budget)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/attribution", tags=["attribution"])

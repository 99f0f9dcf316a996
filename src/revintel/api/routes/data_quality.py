"""Missing values, freshness, outliers, feature correlations (docs/retention.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["data quality"])

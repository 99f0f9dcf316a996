"""``/api/v1/attribution/report`` and ``/api/v1/attribution/channels``: every model's credit per
channel (docs/attribution.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/attribution", tags=["attribution"])

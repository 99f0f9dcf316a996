"""``/api/v1/attribution/paths`` and ``/api/v1/customers/{id}/journey``: journeys
(docs/attribution.md, Journeys)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["attribution"])

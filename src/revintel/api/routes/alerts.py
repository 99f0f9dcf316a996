"""Alert rules, alerts, deliveries, digests (docs/retention.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["alerts"])

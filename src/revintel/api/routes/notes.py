"""Notes and logged actions on accounts (docs/retention.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["notes"])

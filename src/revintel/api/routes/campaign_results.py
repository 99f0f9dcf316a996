"""Campaigns: measured impact and recommendations (docs/retention.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["campaigns"])

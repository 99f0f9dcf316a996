"""Scheduled jobs and their runs (docs/retention.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["jobs"])

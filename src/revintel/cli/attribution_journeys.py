"""``revintel attribution`` commands: journeys (docs/attribution.md)."""

from __future__ import annotations

from revintel.cli.attribution import attribution_app  # noqa: F401

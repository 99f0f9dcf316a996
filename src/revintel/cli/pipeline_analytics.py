"""``revintel pipeline`` commands: analytics (docs/pipeline.md)."""

from __future__ import annotations

from revintel.cli.pipeline import pipeline_app  # noqa: F401

"""The executive report: headline KPIs, MRR movements, forecast, anomalies, churn risk, campaign
results, pipeline and attribution summaries and a narrative, as HTML, PDF or PowerPoint
(docs/retention.md, Executive report). Owned by the report area."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime

Format = Literal["html", "pdf", "pptx"]


def executive_report(rt: Runtime, month: str | None = None) -> Any:
    """The report's figures and narrative for ``month`` (default: the last complete month)."""
    raise NotImplementedError("report area")


def render(report: Any, fmt: Format) -> bytes:
    """The report as an HTML page, a PDF or a PowerPoint deck."""
    raise NotImplementedError("report area")

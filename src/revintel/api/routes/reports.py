"""``GET /api/v1/reports/executive``: the executive report as HTML, PDF, PowerPoint or JSON
(docs/retention.md, Executive report)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import Month, error_responses
from revintel.app.retention.executive import MEDIA_TYPES, executive_report, file_name, render

router = APIRouter(prefix="/reports", tags=["reports"])

ReportFormat = Literal["html", "pdf", "pptx", "json"]


class ExecutiveReportJson(BaseModel):
    """The report's figures (``format=json``); every section as in docs/retention.md."""

    company_name: str = Field(description="From the report settings (retention.toml).")
    month: str = Field(description="The month reported, YYYY-MM.")
    previous_month: str | None = Field(description="The month the changes are against.")
    data_from: str = Field(description="The data's first month.")
    data_to: str = Field(description="The data's last complete month.")
    kpis: dict[str, Any] = Field(description="Headline KPIs with value, previous and change.")
    movements: dict[str, Any] = Field(description="The month's MRR movements and the year's.")
    forecast: dict[str, Any] | None = Field(description="MRR forecast with 80%/95% intervals.")
    anomalies: list[dict[str, Any]] | None = Field(description="Flagged months of the year.")
    risk: dict[str, Any] | None = Field(description="Churn risk, capital at risk, top accounts.")
    campaigns: dict[str, Any] | None = Field(description="Measured campaign impact.")
    pipeline: dict[str, Any] | None = Field(description="Open pipeline, forecast, win rate.")
    attribution: dict[str, Any] | None = Field(description="Markov credit and ROI by channel.")
    missing: list[dict[str, Any]] = Field(description="Sections absent: why, and how to load.")
    narrative: list[str] = Field(description="The sentences generated from the figures.")


@router.get(
    "/executive",
    response_model=None,
    responses={
        200: {
            "description": "The report in the format asked for, as a download "
            "(Content-Disposition names the file).",
            "content": {
                MEDIA_TYPES["html"].split(";")[0]: {},
                MEDIA_TYPES["pdf"]: {},
                MEDIA_TYPES["pptx"]: {},
                MEDIA_TYPES["json"]: {"schema": ExecutiveReportJson.model_json_schema()},
            },
        },
        **error_responses(
            409,
            422,
            503,
            descriptions={
                409: "No subscriptions are loaded, or the month is outside the data's complete "
                "months (the message gives the range).",
                422: "month is not YYYY-MM, or format is not html, pdf, pptx or json.",
            },
        ),
    },
)
def executive(
    ctx: ContextDep,
    month: Annotated[
        Month | None, Query(description="YYYY-MM; default the last complete month.")
    ] = None,
    fmt: Annotated[
        ReportFormat,
        Query(alias="format", description="html, pdf, pptx, or json (the figures)."),
    ] = "html",
) -> Response:
    """Headline KPIs with changes, MRR movements, forecast, anomalies, churn risk and capital at
    risk, top at-risk accounts, campaigns, pipeline, attribution and a narrative, for one month."""
    report = executive_report(ctx, month)
    body = render(report, fmt)
    disposition = "attachment" if fmt in ("pdf", "pptx") else "inline"
    return Response(
        content=body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="{file_name(report, fmt)}"'},
    )

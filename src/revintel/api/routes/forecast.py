"""``/api/v1/forecast/{series}`` and ``/api/v1/anomalies`` (docs/forecasting.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.app.outlooks import (
    DEFAULT_DETECTORS,
    AnomalySeries,
    find_anomalies,
    forecast_report,
)
from revintel.forecast.anomalies import Detector
from revintel.forecast.service import HORIZON_MAX, HORIZON_MIN, MetricSeries

router = APIRouter(tags=["forecasts and anomalies"], responses=error_responses(400, 409, 422, 503))


class ForecastOut(BaseModel):
    """A forecast with the evidence for it: the chosen model, its backtest errors, notes."""

    series: str
    model: str
    model_detail: str | None
    reason: str = Field(description="Why the backtest chose this model.")
    selection_metric: str
    backtest_mape: float | None
    backtest_mase: float | None
    mase_scale: str
    backtest: list[dict[str, Any]] = Field(description="Every candidate's backtest score.")
    horizon: int
    levels: list[int]
    forecast: list[dict[str, Any]] = Field(description="month, mean, lo80, hi80, lo95, hi95.")
    in_sample: list[dict[str, Any]]
    in_sample_level: int
    history_months: int
    notes: list[str]
    definition: str
    forecast_definition: str


class AnomalyOut(BaseModel):
    """One flagged month, by one detector, with its reason and size."""

    month: str
    metric: str
    series: str
    detector: Literal["rule", "statistical"]
    actual: float
    expected: float
    lower: float
    upper: float
    size: float = Field(
        description="(actual - expected) / |expected|; for a flag by parts, the part's deviation "
        "as a share of the previous month's MRR (of the month's invoiced amount)."
    )
    direction: Literal["up", "down"]
    reason: str
    driver: str | None = Field(
        None,
        description="The part out of line when the month was judged by its parts: new, "
        "expansion, contraction, churn, reactivation or collections (docs/forecasting.md).",
    )
    driver_actual: float | None = Field(None, description="The part's amount.")
    driver_expected: float | None = Field(None, description="The part's expected amount.")


class AnomaliesOut(BaseModel):
    """Anomalous months of MRR and revenue; ``notes`` name series skipped for a missing table."""

    threshold: float
    level: int
    detectors: list[str]
    anomalies: list[AnomalyOut]
    notes: list[str]
    definition: str


@router.get(
    "/forecast/{series}",
    responses=error_responses(
        409,
        422,
        descriptions={
            409: "The table the series comes from is not loaded.",
            422: "An invalid field, or too little history to forecast.",
        },
    ),
)
def forecast(
    ctx: ContextDep,
    series: MetricSeries,
    horizon: Annotated[int, Query(ge=HORIZON_MIN, le=HORIZON_MAX)] = HORIZON_MAX,
) -> ForecastOut:
    """Forecast ``horizon`` months ahead with 80% and 95% intervals."""
    return ForecastOut.model_validate(forecast_report(ctx, series, horizon).to_dict())


@router.get("/anomalies")
def anomalies(
    ctx: ContextDep,
    series: Annotated[list[AnomalySeries] | None, Query()] = None,
    threshold: Annotated[
        float, Query(gt=0, description="Rule: MoM change this far from the trend (fraction).")
    ] = 0.10,
    level: Annotated[
        int, Query(ge=1, le=99, description="Statistical band, % (for the whole history).")
    ] = 95,
    detector: Annotated[
        list[Detector] | None,
        Query(description="statistical (the default) and/or rule (month over month vs trend)."),
    ] = None,
) -> AnomaliesOut:
    """Months flagged by the statistical detector (default) and, when asked, the rule."""
    result = find_anomalies(
        ctx,
        series or ("mrr", "revenue"),
        threshold=threshold,
        level=level,
        detectors=detector or DEFAULT_DETECTORS,
    )
    return AnomaliesOut.model_validate(result.to_dict())

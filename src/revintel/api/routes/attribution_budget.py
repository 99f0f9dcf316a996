"""``/api/v1/attribution/budget`` and ``/api/v1/attribution/roi``: channel ROI per model and the
budget suggestion (docs/attribution.md, Spend, ROI and budget)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.attribution.credit import MODELS
from revintel.attribution.service.roi import (
    BudgetRequest,
    RoiRequest,
    budget_suggestion,
    channel_roi,
)

router = APIRouter(prefix="/attribution", tags=["attribution"])

Model = Literal[
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
]
ConversionType = Literal["signup", "trial", "paid"]

FROM_WAREHOUSE = error_responses(
    400,
    409,
    422,
    503,
    descriptions={
        409: "touchpoints, conversions or channel_spend is not loaded, or nothing is in range.",
        422: "An invalid field, or a total the bounds cannot reach (the message gives the range).",
    },
)


class _Range(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(default=None, description="Conversions on or after.")
    end_date: date | None = Field(default=None, description="Conversions on or before.")
    window_days: int | None = Field(
        default=None, ge=1, le=3650, description="Look-back window in days; default the settings'."
    )
    conversion_type: ConversionType | None = Field(
        default=None, description="Conversion attributed; default the settings' (paid)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError("end_date: expected on or after start_date")
        return self


class BudgetBody(_Range):
    """A monthly total and the bounds; every field optional."""

    total: float | None = Field(
        default=None,
        gt=0,
        le=1e12,
        description="Monthly budget to allocate; default the current monthly spend.",
    )
    bound: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Each channel may move this share of its current spend; default 0.3.",
    )
    model: Model | None = Field(
        default=None, description="Model the response curves are fitted on; default markov."
    )
    bootstrap: int | None = Field(
        default=None, ge=10, le=5000, description="Bootstrap resamples for the gain's interval."
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Seed of the bootstrap.")


@router.post("/budget", responses=FROM_WAREHOUSE)
def budget(ctx: ContextDep, body: BudgetBody | None = None) -> dict[str, Any]:
    """A model-based suggestion: each paid channel's response curve (conversions = a × spend^b)
    and the monthly total allocated to maximise expected attributed revenue within the bounds,
    with the expected gain and its bootstrap interval."""
    b = body or BudgetBody()
    return budget_suggestion(
        ctx,
        BudgetRequest(
            total=b.total,
            bound=b.bound,
            model=b.model,
            start=b.start_date,
            end=b.end_date,
            window_days=b.window_days,
            conversion_type=b.conversion_type,
            bootstrap=b.bootstrap,
            seed=b.seed,
        ),
    ).to_dict()


@router.get("/roi", responses=FROM_WAREHOUSE)
def roi(
    ctx: ContextDep,
    model: Annotated[
        list[Model] | None, Query(description="Models (repeat the parameter); default every one.")
    ] = None,
    start_date: Annotated[date | None, Query(description="Conversions on or after.")] = None,
    end_date: Annotated[date | None, Query(description="Conversions on or before.")] = None,
    window_days: Annotated[int | None, Query(ge=1, le=3650, description="Window, days.")] = None,
    conversion_type: Annotated[ConversionType | None, Query(description="Default paid.")] = None,
    include_clv: Annotated[bool, Query(description="Also value at customers' CLV.")] = True,
) -> dict[str, Any]:
    """Attributed conversions, revenue and CLV, spend, CAC, ROAS and ROI per channel and model,
    and each channel's difference from last touch."""
    return channel_roi(
        ctx,
        RoiRequest(
            models=tuple(model) if model else MODELS,
            start=start_date,
            end=end_date,
            window_days=window_days,
            conversion_type=conversion_type,
            include_clv=include_clv,
        ),
    ).to_dict()

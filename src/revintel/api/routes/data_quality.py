"""``/api/v1/data-quality``: missing values, freshness, outliers and duplicate keys of every loaded
table, and the correlations of the churn features (docs/retention.md, Data quality)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.app.retention.data_quality import data_quality, feature_correlations

router = APIRouter(prefix="/data-quality", tags=["data quality"])

RESPONSES = error_responses(
    409, 422, 503, descriptions={409: "No table is loaded (or no customer has MRR)."}
)


class MissingOut(BaseModel):
    table: str = Field(description="Warehouse table.")
    column: str = Field(description="Its column.")
    dtype: str = Field(description="Storage type.")
    rows: int = Field(description="Rows of the table.")
    missing: int = Field(description="Null values (and NaN in floating columns).")
    missing_share: float = Field(description="missing ÷ rows.")
    required: bool | None = Field(description="Whether the contract requires a value.")


class FreshnessOut(BaseModel):
    table: str = Field(description="Warehouse table.")
    rows: int = Field(description="Its rows.")
    last_loaded: datetime | None = Field(description="When a load last wrote it.")
    newest_date: date | None = Field(description="Newest recorded date on or before today.")
    newest_column: str | None = Field(description="The column it is in.")
    days_stale: int | None = Field(description="Days from newest_date to today.")
    status: str = Field(description="fresh (≤ stale_days), stale (≤ 3×), old, or no dates.")


class OutliersOut(BaseModel):
    table: str = Field(description="Warehouse table.")
    column: str = Field(description="A numeric column.")
    rows: int = Field(description="Rows of the table.")
    outliers: int = Field(description="Values outside Q1 − k·IQR .. Q3 + k·IQR.")
    share: float = Field(description="outliers ÷ rows.")
    q1: float | None = Field(description="First quartile.")
    median: float | None = Field(description="Median.")
    q3: float | None = Field(description="Third quartile.")
    lower_fence: float | None = Field(description="Q1 − k·IQR (null when IQR is 0).")
    upper_fence: float | None = Field(description="Q3 + k·IQR (null when IQR is 0).")
    note: str | None = Field(description="Why no fences were drawn, if so.")
    examples: list[dict[str, Any]] = Field(description="Up to 5 outlying rows: keys and value.")


class DuplicatesOut(BaseModel):
    table: str = Field(description="Warehouse table.")
    key: list[str] = Field(description="The contract's primary key.")
    rows: int = Field(description="Rows of the table.")
    duplicated_keys: int = Field(description="Key values found more than once.")
    duplicate_rows: int = Field(description="Rows beyond the first of each such key.")
    examples: list[dict[str, Any]] = Field(description="Up to 5 duplicated keys with counts.")


class DataQualityOut(BaseModel):
    """The data quality dashboard's figures."""

    today: date = Field(description="The day freshness is measured against.")
    iqr_k: float = Field(description="k of the outlier fences.")
    stale_days: int = Field(description="Days after which a table is stale.")
    missing: list[MissingOut] = Field(description="Every column of every loaded table.")
    freshness: list[FreshnessOut] = Field(description="Every loaded table.")
    outliers: list[OutliersOut] = Field(description="Every numeric column.")
    duplicates: list[DuplicatesOut] = Field(description="Every table with a contract key.")
    features_month: str | None = Field(description="Month of the churn features checked.")
    features: list[dict[str, Any]] = Field(
        description="Churn feature quality: missing, robust-z outliers, distinct, min, max, issue."
    )


class CorrelationsOut(BaseModel):
    month: str = Field(description="The month end of the features.")
    method: str = Field(description="pearson or spearman.")
    rows: int = Field(description="Customers at risk that month.")
    features: list[str] = Field(description="Numeric and boolean churn features.")
    labels: list[str] = Field(description="The features in words.")
    matrix: list[list[float | None]] = Field(
        description="matrix[i][j]: correlation over rows where both are present."
    )
    top_pairs: list[dict[str, Any]] = Field(description="Strongest 10 pairs by |r|.")


@router.get("", response_model=DataQualityOut, responses=RESPONSES)
def report(
    ctx: ContextDep,
    iqr_k: Annotated[float, Query(ge=0.5, le=10, description="k of the IQR fences.")] = 3.0,
    stale_days: Annotated[
        int, Query(ge=1, le=3650, description="Days after which data is stale.")
    ] = 45,
) -> dict[str, Any]:
    """Missing values by table and column, freshness, outliers and duplicate keys of every
    loaded table, and the latest churn features' quality."""
    return data_quality(ctx, iqr_k=iqr_k, stale_days=stale_days).to_dict()


@router.get("/correlations", response_model=CorrelationsOut, responses=RESPONSES)
def correlations(
    ctx: ContextDep,
    method: Annotated[Literal["pearson", "spearman"], Query(description="Coefficient.")] = (
        "pearson"
    ),
) -> dict[str, Any]:
    """The correlation matrix of the churn features at the latest month."""
    return feature_correlations(ctx, method).to_dict()

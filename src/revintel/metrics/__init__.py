"""The metrics engine: SaaS metrics as pure Ibis expressions, and a service that runs them.

Definitions: ``docs/metrics.md``. Every function here takes Ibis tables and typed options and
returns an Ibis table expression (no I/O), so the same expression runs on DuckDB, PostgreSQL,
PySpark or any Ibis backend. :mod:`revintel.metrics.service` executes them for the CLI, the API
and the dashboard.
"""

from revintel.core.calendar import Period, data_period, month_spine
from revintel.metrics.churn import movement_rates, trailing_retention
from revintel.metrics.cohorts import cohort_retention
from revintel.metrics.conversion import trial_conversion
from revintel.metrics.finance import (
    LtvBasis,
    acquisition_cost,
    growth,
    lifetime_value,
    profitability,
    revenue,
)
from revintel.metrics.movements import mrr_movements
from revintel.metrics.mrr import customer_mrr, first_paid_dates, mrr_changes
from revintel.metrics.options import DIMENSIONS, Dimension, Filters, InvalidMetricOption

__all__ = [
    "DIMENSIONS",
    "Dimension",
    "Filters",
    "InvalidMetricOption",
    "LtvBasis",
    "Period",
    "acquisition_cost",
    "cohort_retention",
    "customer_mrr",
    "data_period",
    "first_paid_dates",
    "growth",
    "lifetime_value",
    "month_spine",
    "movement_rates",
    "mrr_changes",
    "mrr_movements",
    "profitability",
    "revenue",
    "trailing_retention",
    "trial_conversion",
]

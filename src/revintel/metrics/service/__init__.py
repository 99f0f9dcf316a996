"""The metrics service: builds the metric expressions on the warehouse and runs them.

The application layer, the CLI, the API and the dashboard call these functions. Each takes an
:class:`~revintel.core.runtime.Runtime` or a :class:`~revintel.warehouse.Warehouse` and a
:class:`MetricQuery` (months, as-of date, breakdown, filters, failed-payment rule), and returns
rows (:data:`Row`: plain Python values, ``None`` where a value is undefined, next to its
``*_reason``) or a typed result (:class:`Summary`). Months are ``"YYYY-MM"``. Definitions:
``docs/metrics.md``.

Modules: :mod:`.query` (the options, the months a report covers), :mod:`.recurring` (MRR and
movements), :mod:`.retention_cohorts` (retention, cohorts, trial conversion), :mod:`.finance`
(revenue, margins, CAC, LTV), :mod:`.headlines` (headline figures), :mod:`.drivers` (rows for
the anomaly detector), :mod:`.engine` (the cube engine that answers filters), :mod:`.tables` (the
shared base tables), :mod:`.scope` (what is kept, for how long), :mod:`.warmup` (the dashboard's
warm-up).
"""

from __future__ import annotations

__all__ = [
    "Headline",
    "MetricQuery",
    "Summary",
    "acquisition",
    "cohort_triangle",
    "cohorts",
    "customer_mrr",
    "dimension_values",
    "financials",
    "ltv",
    "mrr_movements",
    "period",
    "retention",
    "revenue",
    "summary",
    "trial_conversion",
]

from revintel.metrics.service.drivers import rows_with_drivers as rows_with_drivers
from revintel.metrics.service.finance import acquisition, financials, ltv, revenue
from revintel.metrics.service.headlines import Headline, Summary, summary
from revintel.metrics.service.query import MetricQuery, dimension_values, period
from revintel.metrics.service.query import Row as Row
from revintel.metrics.service.query import Value as Value
from revintel.metrics.service.recurring import customer_mrr, mrr_movements
from revintel.metrics.service.retention_cohorts import RETENTION_RATES as RETENTION_RATES
from revintel.metrics.service.retention_cohorts import CohortValue as CohortValue
from revintel.metrics.service.retention_cohorts import (
    cohort_triangle,
    cohorts,
    retention,
    trial_conversion,
)
from revintel.metrics.service.warmup import warm as warm

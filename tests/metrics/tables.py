"""Tiny hand-made canonical tables for the metric tests (docs/metrics.md worked examples)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from revintel.warehouse import local_engine

SUBSCRIPTION_SCHEMA = {
    "subscription_id": "string",
    "customer_id": "string",
    "plan_type": "string",
    "start_date": "date",
    "end_date": "date",
    "monthly_price": "float64",
    "billing_period": "string",
    "discount_pct": "float64",
    "discount_end_date": "date",
}
CUSTOMER_SCHEMA = {
    "customer_id": "string",
    "signup_date": "date",
    "segment": "string",
    "country": "string",
    "acquisition_channel": "string",
    "industry": "string",
}
PAYMENT_SCHEMA = {
    "payment_id": "string",
    "customer_id": "string",
    "payment_date": "date",
    "amount": "float64",
    "payment_status": "string",
    "subscription_id": "string",
    "invoice_id": "string",
    "due_date": "date",
}
COST_SCHEMA = {
    "month": "string",
    "infra_cost": "float64",
    "marketing_cost": "float64",
    "support_cost": "float64",
}
TRIAL_SCHEMA = {
    "trial_id": "string",
    "customer_id": "string",
    "trial_start": "date",
    "trial_end": "date",
    "plan_type": "string",
}
SPEND_SCHEMA = {"month": "string", "channel": "string", "spend": "float64"}


def frame(rows: Iterable[Mapping[str, Any]], schema: Mapping[str, str]) -> pd.DataFrame:
    """Rows as a DataFrame with every schema column (missing values are None)."""
    return pd.DataFrame([{c: row.get(c) for c in schema} for row in rows], columns=list(schema))


ARROW_TYPES = {
    "string": pa.string(),
    "date": pa.date32(),
    "float64": pa.float64(),
    "int64": pa.int64(),
}


def arrow(rows: Iterable[Mapping[str, Any]], schema: Mapping[str, str]) -> pa.Table:
    """Rows as an Arrow table: a missing value is a true null (never a float NaN)."""
    arrow_schema = pa.schema([(name, ARROW_TYPES[kind]) for name, kind in schema.items()])
    return pa.Table.from_pylist(
        [{c: row.get(c) for c in schema} for row in rows], schema=arrow_schema
    )


def table(rows: Iterable[Mapping[str, Any]], schema: Mapping[str, str]) -> ibis.Table:
    return ibis.memtable(arrow(rows, schema))


def subscriptions(*rows: Mapping[str, Any]) -> ibis.Table:
    """Subscriptions from short rows: "cid", "start", "price" and optional "sid", "end", "plan",
    "billing", "discount", "discount_end"."""
    full = []
    for i, row in enumerate(rows):
        full.append(
            {
                "subscription_id": row.get("sid", f"s{i}"),
                "customer_id": row["cid"],
                "plan_type": row.get("plan", "Basic"),
                "start_date": row["start"],
                "end_date": row.get("end"),
                "monthly_price": float(row["price"]),
                "billing_period": row.get("billing", "monthly"),
                "discount_pct": row.get("discount"),
                "discount_end_date": row.get("discount_end"),
            }
        )
    return table(full, SUBSCRIPTION_SCHEMA)


def customers(*rows: Mapping[str, Any]) -> ibis.Table:
    full = [
        {
            "customer_id": row["cid"],
            "signup_date": row.get("signup", date(2023, 1, 1)),
            "segment": row.get("segment", "SMB"),
            "country": row.get("country", "US"),
            "acquisition_channel": row.get("channel", "Organic"),
            "industry": row.get("industry"),
        }
        for row in rows
    ]
    return table(full, CUSTOMER_SCHEMA)


def records(expr: ibis.Table) -> list[dict[str, Any]]:
    """Execute on this thread's own DuckDB; NaN and NaT become None."""
    frame_ = local_engine().to_pandas(expr)
    out = []
    for row in frame_.to_dict("records"):
        clean = {}
        for k, v in row.items():
            if v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                v = None
            elif hasattr(v, "item"):
                v = v.item()
            clean[k] = v
        out.append(clean)
    return out


def by_month(rows: list[dict[str, Any]], key: str = "month") -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}

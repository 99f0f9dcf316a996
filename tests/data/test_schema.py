"""The canonical contracts: coherent keys, brief 001's columns, docs in step with the code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandera.errors
import polars as pl
import pytest

from revintel.core.errors import NotFoundError
from revintel.data.schema import CONTRACTS, TABLE_ORDER, contract_for, data_model_markdown

ROOT = Path(__file__).resolve().parents[2]

BRIEF_001 = {
    "customers": [
        "customer_id", "signup_date", "segment", "country", "acquisition_channel", "is_active",
    ],
    "subscriptions": [
        "subscription_id", "customer_id", "plan_type", "start_date", "end_date", "monthly_price",
    ],
    "payments": ["payment_id", "customer_id", "payment_date", "amount", "payment_status"],
    "costs": ["month", "infra_cost", "marketing_cost", "support_cost"],
}  # fmt: skip


@pytest.mark.parametrize("table", sorted(BRIEF_001))
def test_brief_001_columns_are_enough(table: str) -> None:
    contract = CONTRACTS[table]
    assert set(contract.required_columns) <= set(BRIEF_001[table])
    assert set(BRIEF_001[table]) <= set(contract.column_names)


def test_every_design_table_has_a_contract() -> None:
    design = {
        "customers", "subscriptions", "payments", "costs", "trials", "accounts", "usage",
        "nps_responses", "support_tickets", "deals", "deal_stage_history", "touchpoints",
        "conversions", "predictions",
    }  # fmt: skip
    assert design <= set(CONTRACTS)


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=lambda c: c.name)
def test_keys_name_real_columns_and_load_order_respects_references(contract) -> None:
    assert set(contract.primary_key) <= set(contract.column_names)
    for fk in contract.foreign_keys:
        assert fk.column in contract.column_names
        assert fk.ref_column in CONTRACTS[fk.table].column_names
        assert TABLE_ORDER.index(fk.table) < TABLE_ORDER.index(contract.name)
    for rule in contract.rules:
        assert set(rule.columns) <= set(contract.column_names)
    assert contract.arrow_schema().names == list(contract.column_names)


def test_pandera_schema_reports_each_kind_of_bad_value() -> None:
    schema = CONTRACTS["subscriptions"].pandera_schema(
        ["subscription_id", "customer_id", "plan_type", "start_date", "end_date", "monthly_price"]
    )
    day = dt.date(2024, 3, 1)
    frame = pl.DataFrame(
        {
            "subscription_id": ["s1", "s2", "s3"],
            "customer_id": ["c1", "c1", "c2"],
            "plan_type": ["Pro", "Gold", "Basic"],
            "start_date": [day, day, day],
            "end_date": [None, None, dt.date(2024, 2, 1)],
            "monthly_price": [99.0, 10.0, -5.0],
        }
    )
    with pytest.raises(pandera.errors.SchemaErrors) as info:
        schema.validate(frame, lazy=True)
    cases = info.value.failure_cases.select("column", "index").rows()
    assert ("plan_type", 1) in cases
    assert ("monthly_price", 2) in cases
    assert ("subscriptions", 2) in cases  # end before start, a frame-level rule
    assert len(cases) == 3


def test_valid_rows_pass() -> None:
    schema = CONTRACTS["costs"].pandera_schema()
    frame = pl.DataFrame(
        {"month": ["2024-01"], "infra_cost": [1.0], "marketing_cost": [2.0], "support_cost": [0.0]}
    )
    schema.validate(frame, lazy=True)


def test_month_columns_reject_bad_months() -> None:
    schema = CONTRACTS["costs"].pandera_schema()
    frame = pl.DataFrame(
        {"month": ["2024-13"], "infra_cost": [1.0], "marketing_cost": [2.0], "support_cost": [0.0]}
    )
    with pytest.raises(pandera.errors.SchemaErrors):
        schema.validate(frame, lazy=True)


def test_contract_lookup_is_case_insensitive_and_names_valid_tables() -> None:
    assert contract_for(" Customers ").name == "customers"
    with pytest.raises(NotFoundError, match="expected one of: customers, subscriptions"):
        contract_for("clients")


def test_docs_data_model_matches_contracts() -> None:
    text = (ROOT / "docs" / "data-model.md").read_text()
    begin, end = "<!-- contracts:begin -->\n", "<!-- contracts:end -->"
    embedded = text[text.index(begin) + len(begin) : text.index(end)]
    assert embedded == data_model_markdown(), (
        "docs/data-model.md is out of date: regenerate its table section with "
        "`uv run python -m revintel.data.schema`"
    )

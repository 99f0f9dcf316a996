"""The dashboard's CSV downloads escape text a spreadsheet would run as a formula.

Each page serves bytes made by one of these functions: the chart cards' ``revenue._csv``, the
High-Risk Customers and Churn Segments CRM export ``churn.crm_csv``; the Lifetime Value page
serves :func:`revintel.core.csv_export.to_csv_bytes` of its RFM table directly.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import polars as pl

from revintel.ui import churn as churn_ui
from revintel.ui import revenue as revenue_ui

EVIL = '=HYPERLINK("http://evil.example","x")'


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_the_crm_export_escapes_formulas_and_keeps_scores_numeric() -> None:
    predictions = pl.DataFrame(
        {
            "account_id": ["C1", "C2"],
            "account_name": [EVIL, "Acme"],
            "owner": ["@ana", "Ben"],
            "churn_risk_score": [0.912345, 0.1],
            "risk_tier": ["High", "Low"],
            "top_risk_factor": ["payments", "usage"],
            "top_factor_label": ["-3 late payments", "Low usage"],
            "driver_segment": [None, None],
        },
        schema_overrides={"driver_segment": pl.String},
    )
    rows = _rows(churn_ui.crm_csv(predictions))
    assert rows[0]["account_name"] == "'" + EVIL
    assert rows[0]["owner"] == "'@ana"
    assert rows[0]["top_risk_factor"] == "'-3 late payments"
    assert rows[0]["churn_risk_score"] == "0.9123"
    assert rows[1]["account_name"] == "Acme"


def test_a_chart_cards_csv_escapes_formulas_and_keeps_negative_numbers() -> None:
    frame = pd.DataFrame({"segment": [EVIL, "SMB"], "mrr_change": [-1.5, 2.0]})
    rows = _rows(revenue_ui._csv(lambda: frame))
    assert [r["segment"] for r in rows] == ["'" + EVIL, "SMB"]
    assert [float(r["mrr_change"]) for r in rows] == [-1.5, 2.0]
    assert rows[0]["mrr_change"] == "-1.5"

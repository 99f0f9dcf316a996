"""RFM on a hand-made payments frame."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from revintel.clv.rfm import SEGMENT_MAP, SEGMENTS, rfm_scores, rfm_segments


def _payments() -> pl.DataFrame:
    rows = []
    # A..E: ever fewer payments, ever longer ago; F: only a failed payment (left out).
    plan = {"A": (12, 0), "B": (9, 20), "C": (6, 60), "D": (3, 150), "E": (1, 400)}
    for customer, (count, days_ago) in plan.items():
        for i in range(count):
            rows.append(
                (
                    customer,
                    date.fromordinal(date(2024, 12, 31).toordinal() - days_ago - 30 * i),
                    100.0,
                    "Success",
                )
            )
    rows.append(("F", date(2024, 12, 1), 100.0, "Failed"))
    return pl.DataFrame(
        rows, schema=["customer_id", "payment_date", "amount", "payment_status"], orient="row"
    )


def test_scores_and_segments() -> None:
    scores = rfm_scores(_payments(), date(2024, 12, 31))
    assert scores["customer_id"].to_list() == ["A", "B", "C", "D", "E"]
    by_id = {r["customer_id"]: r for r in scores.to_dicts()}
    assert by_id["A"]["recency_days"] == 0 and by_id["A"]["frequency"] == 12
    assert by_id["A"]["monetary"] == 1200.0
    assert by_id["E"]["frequency"] == 0  # last paid 400 days ago: outside the 12 months
    assert [by_id[c]["r_score"] for c in "ABCDE"] == [5, 4, 3, 2, 1]
    assert [by_id[c]["f_score"] for c in "ABCDE"] == [5, 4, 3, 2, 1]
    assert by_id["A"]["segment"] == "Champions"
    assert by_id["B"]["segment"] == "Loyal"
    assert by_id["C"]["segment"] == "Need Attention"
    assert by_id["D"]["segment"] == "Hibernating"
    assert by_id["E"]["segment"] == "Lost"
    assert by_id["A"]["rfm_score"] == "555"


def test_segment_summary() -> None:
    summary = rfm_segments(rfm_scores(_payments(), date(2024, 12, 31)))
    assert summary["segment"].to_list() == list(SEGMENTS)
    assert summary["customers"].sum() == 5
    assert summary["monetary_share"].sum() == pytest.approx(1.0)
    assert summary.filter(pl.col("segment") == "Champions")["monetary_share"][0] == pytest.approx(
        0.4
    )
    assert summary["strategy"].null_count() == 0


def test_map_covers_every_score() -> None:
    assert len(SEGMENT_MAP) == 25
    assert set(SEGMENT_MAP.values()) == set(SEGMENTS)
    assert SEGMENT_MAP[(5, 1)] == "New" and SEGMENT_MAP[(1, 5)] == "Can't Lose Them"

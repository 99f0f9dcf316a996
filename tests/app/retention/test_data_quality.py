"""Data quality (revintel.app.retention.data_quality): missing values, freshness, outliers and
duplicate keys against hand-built tables with known answers, on a loaded warehouse and on an Ibis
backend holding rows no import would accept; correlations against numpy and scipy."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import ibis
import numpy as np
import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.app.retention import data_quality as Q
from revintel.core.errors import InvalidOption
from tests.conftest import isolated_settings

CUSTOMERS = """\
customer_id,signup_date,segment,country,acquisition_channel,company_name
C1,2024-01-05,SMB,US,Organic,Acme
C2,2024-01-20,Mid-Market,DE,Referral,
C3,2024-02-11,Enterprise,FR,Partner,Cobalt
C4,2024-03-02,SMB,GB,Paid Ads,
C5,2024-03-28,SMB,US,Organic,
C6,2024-04-02,SMB,US,Organic,Delta
"""
SUBSCRIPTIONS = """\
subscription_id,customer_id,plan_type,start_date,end_date,monthly_price
S1,C1,Basic,2024-01-05,,50
S2,C2,Pro,2024-01-20,2024-06-20,52
S3,C3,Enterprise,2024-02-11,,55
S4,C4,Basic,2024-03-02,,58
S5,C5,Basic,2024-03-28,2024-05-01,60
S6,C6,Basic,2024-04-02,,9000
"""


@pytest.fixture
def hand_built(tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "company"
    folder.mkdir()
    (folder / "customers.csv").write_text(CUSTOMERS)
    (folder / "subscriptions.csv").write_text(SUBSCRIPTIONS)
    ctx = AppContext(isolated_settings(tmp_path / "home"))
    load_paths(ctx, [folder], source="test")
    ctx.refresh()
    yield ctx
    ctx.close()


def test_missing_values_freshness_and_outliers_of_a_hand_built_company(
    hand_built: AppContext,
) -> None:
    report = Q.data_quality(hand_built, today=date(2024, 5, 11))
    missing = {(m.table, m.column): m for m in report.missing}
    assert missing["customers", "company_name"].missing == 3
    assert missing["customers", "company_name"].missing_share == pytest.approx(0.5)
    assert missing["customers", "company_name"].required is False
    assert missing["subscriptions", "end_date"].missing == 4
    assert missing["customers", "customer_id"].missing == 0
    assert missing["customers", "customer_id"].required is True
    # Every stored column of every loaded table is listed (optional ones stored as nulls).
    assert {t for t, _ in missing} == {"customers", "subscriptions"}
    fresh = {f.table: f for f in report.freshness}
    # The newest date on or before today: subscriptions' end_date 2024-05-01, 10 days.
    assert fresh["subscriptions"].newest_date == date(2024, 5, 1)
    assert fresh["subscriptions"].newest_column == "end_date"
    assert fresh["subscriptions"].days_stale == 10 and fresh["subscriptions"].status == "fresh"
    assert fresh["customers"].newest_date == date(2024, 4, 2)
    assert fresh["customers"].last_loaded is not None
    # One price far out: Q1 = 52.75, Q3 = 59.5 (linear interpolation), fence Q3 + 3·IQR.
    price = next(o for o in report.outliers if o.column == "monthly_price")
    assert price.outliers == 1 and price.upper_fence == pytest.approx(59.5 + 3 * 6.75)
    assert price.examples == [{"subscription_id": "S6", "monthly_price": 9000.0}]
    assert {d.table: d.duplicated_keys for d in report.duplicates} == {
        "customers": 0,
        "subscriptions": 0,
    }
    assert Q.data_quality(hand_built, today=date(2024, 9, 1)).freshness[1].status == "stale"
    assert Q.data_quality(hand_built, today=date(2025, 9, 1)).freshness[1].status == "old"


class _Warehouse:
    """Rows straight in DuckDB through Ibis, as a database a user points revintel at may hold:
    duplicate keys and nulls in required columns."""

    def __init__(self, tables: dict[str, pl.DataFrame]) -> None:
        self.con = ibis.duckdb.connect()
        for name, frame in tables.items():
            self.con.create_table(name, frame.to_arrow())

    def list_tables(self) -> list[str]:
        return list(self.con.list_tables())

    def has_table(self, name: str) -> bool:
        return name in self.list_tables()

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def to_arrow(self, expr: ibis.Expr):  # type: ignore[no-untyped-def]
        return self.con.to_pyarrow(expr)

    def loaded_at(self) -> dict[str, datetime]:
        return {"customers": datetime(2024, 5, 1, tzinfo=UTC)}

    def data_version(self) -> str | None:
        return None


def test_duplicate_keys_and_nulls_in_any_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    customers = pl.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C", "C", "C", None],
            "signup_date": [date(2024, 1, 1)] * 6 + [None],
            "seats": [1.0, float("nan"), 2.0, None, 3.0, 4.0, 5.0],
        }
    )
    wh = _Warehouse({"customers": customers})
    monkeypatch.setattr(Q, "_features_quality", lambda rt: (None, []))
    rt = SimpleNamespace(settings=None, warehouse=wh, store=None)
    report = Q.data_quality(rt, today=date(2024, 1, 31))  # type: ignore[arg-type]
    missing = {m.column: m.missing for m in report.missing}
    assert missing == {"customer_id": 1, "signup_date": 1, "seats": 2}  # NaN counts as missing
    (dups,) = report.duplicates
    assert (dups.duplicated_keys, dups.duplicate_rows) == (2, 3)
    assert dups.examples[0] == {"customer_id": "C", "rows": 3}
    assert report.freshness[0].days_stale == 30


def test_options_out_of_range(hand_built: AppContext) -> None:
    with pytest.raises(InvalidOption, match="iqr_k"):
        Q.data_quality(hand_built, iqr_k=0.1)
    with pytest.raises(InvalidOption, match="stale_days"):
        Q.data_quality(hand_built, stale_days=0)
    with pytest.raises(InvalidOption, match="method"):
        Q.correlation_matrix(pl.DataFrame({"a": [1.0]}), "kendall")  # type: ignore[arg-type]


def test_correlation_matrix_is_pairwise_pearson_and_spearman() -> None:
    from scipy.stats import spearmanr

    rng = np.random.default_rng(3)
    a = rng.normal(size=200)
    b = a * 2 + rng.normal(size=200)
    c = np.exp(a)  # monotone in a: Spearman 1, Pearson below
    c_missing = c.copy()
    c_missing[:20] = np.nan
    frame = pl.DataFrame({"a": a, "b": b, "c": c_missing, "flag": a > 0})
    pearson, counts = Q.correlation_matrix(frame, "pearson")
    assert pearson[0, 1] == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert pearson[0, 2] == pytest.approx(np.corrcoef(a[20:], c[20:])[0, 1])
    assert counts[0, 2] == 180 and counts[0, 1] == 200
    spearman, _ = Q.correlation_matrix(frame, "spearman")
    assert spearman[0, 2] == pytest.approx(1.0)
    assert spearman[0, 1] == pytest.approx(spearmanr(a, b).statistic)
    assert np.allclose(np.diag(pearson), 1.0)


def test_feature_correlations_on_the_churn_home(churn_home: Path) -> None:
    ctx = AppContext(isolated_settings(churn_home))
    try:
        corr = Q.feature_correlations(ctx, "spearman")
        report = Q.data_quality(ctx)
    finally:
        ctx.close()
    assert len(corr.features) >= 10 and len(corr.matrix) == len(corr.features)
    i, j = corr.features.index("mrr"), corr.features.index("seats")
    assert corr.matrix[i][j] == corr.matrix[j][i] and corr.matrix[i][j] > 0.5
    assert abs(corr.top_pairs[0]["r"]) >= abs(corr.top_pairs[-1]["r"])
    assert report.features_month == corr.month
    assert {f["column"] for f in report.features} >= {"mrr", "seats"}
    assert {f.table for f in report.freshness} >= {"customers", "subscriptions", "predictions"}

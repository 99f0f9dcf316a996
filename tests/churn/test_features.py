"""Point-in-time churn features and labels (``revintel.churn.features``)."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.churn import features as F
from revintel.core.calendar import month_number
from revintel.core.errors import NoDataError
from tests.conftest import isolated_settings


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


COMPANY = {
    "customers.csv": """\
customer_id,signup_date,segment,country,acquisition_channel
A,2024-01-01,SMB,US,Organic
B,2024-01-01,SMB,US,Referral
C,2024-01-01,Enterprise,DE,Partner
""",
    # A pays monthly and churns at the end of April (end_date 2024-05-01 -> last month April);
    # B stays; C is on an annual plan from January.
    "subscriptions.csv": """\
subscription_id,customer_id,plan_type,start_date,end_date,monthly_price,billing_period,seats
SA,A,Basic,2024-01-01,2024-05-01,100,monthly,5
SB,B,Pro,2024-01-01,,300,monthly,10
SC,C,Enterprise,2024-01-01,,2000,annual,50
""",
    "payments.csv": """\
payment_id,customer_id,payment_date,amount,payment_status,subscription_id,invoice_id,attempt,due_date
P1,A,2024-01-01,100,Success,SA,IA1,1,2024-01-01
P2,A,2024-02-01,100,Success,SA,IA2,1,2024-02-01
P3,A,2024-03-01,100,Failed,SA,IA3,1,2024-03-01
P4,A,2024-03-05,100,Success,SA,IA3,2,2024-03-01
P5,A,2024-04-01,100,Failed,SA,IA4,1,2024-04-01
P6,B,2024-01-01,300,Success,SB,IB1,1,2024-01-01
P7,B,2024-02-01,300,Success,SB,IB2,1,2024-02-01
P8,B,2024-03-01,300,Success,SB,IB3,1,2024-03-01
P9,B,2024-04-01,300,Success,SB,IB4,1,2024-04-01
P10,B,2024-05-01,300,Success,SB,IB5,1,2024-05-01
P11,B,2024-06-01,300,Success,SB,IB6,1,2024-06-01
P12,C,2024-01-01,24000,Success,SC,IC1,1,2024-01-01
""",
    "usage.csv": """\
account_id,month,active_users,licensed_seats,logins,key_feature_adoption
A,2024-01,5,5,100,0.5
A,2024-02,4,5,80,0.4
A,2024-03,2,5,30,0.3
A,2024-04,1,5,5,0.1
B,2024-01,8,10,200,0.6
B,2024-02,9,10,210,0.6
B,2024-03,9,10,220,0.7
B,2024-04,10,10,230,0.7
B,2024-05,10,10,240,0.7
B,2024-06,10,10,250,0.8
""",
    "support_tickets.csv": """\
ticket_id,account_id,opened_at,closed_at,severity
T1,A,2024-03-10 10:00:00,,urgent
T2,A,2024-04-02 10:00:00,2024-04-03 10:00:00,low
""",
    "nps_responses.csv": """\
response_id,account_id,response_date,score
N1,A,2024-02-15,8
N2,A,2024-04-10,3
N3,B,2024-03-01,9
""",
}


@pytest.fixture
def small(tmp_path: Path) -> AppContext:
    ctx = AppContext(isolated_settings(tmp_path / "home"))
    load_paths(ctx, [_write(tmp_path / "co", COMPANY)], source="test")
    ctx.refresh()
    yield ctx
    ctx.close()


def _row(frame: pl.DataFrame, account: str, month: str) -> dict:
    hit = frame.filter(
        (pl.col("account_id") == account) & (pl.col("cutoff") == month_number(month))
    )
    assert hit.height == 1, hit
    return hit.row(0, named=True)


def test_features_by_hand(small: AppContext) -> None:
    panel = F.monthly_panel(small.warehouse)
    frame = F.features_at(panel)
    assert list(frame.columns[:2]) == ["account_id", "cutoff"]
    assert set(F.FEATURES) <= set(frame.columns)
    a_apr = _row(frame, "A", "2024-04")
    # March: one retry paid (late), April: a failed attempt not paid by the end of April.
    assert a_apr["late_payments_3m"] == 1
    assert a_apr["failed_payments_3m"] == 2
    assert a_apr["failed_invoice_2m"] is True
    assert a_apr["tickets_3m"] == 2 and a_apr["urgent_tickets_3m"] == 1
    assert a_apr["nps_latest"] == 3 and a_apr["nps_change"] == -5
    assert a_apr["seat_utilisation"] == pytest.approx(0.2)
    # Logins per calendar day: April 5/30 against the mean of January, February (leap), March.
    prior = (100 / 31 + 80 / 29 + 30 / 31) / 3
    assert a_apr["logins_per_day"] == pytest.approx(5 / 30)
    assert a_apr["login_trend"] == pytest.approx(math.log(1 + 5 / 30) - math.log(1 + prior))
    assert a_apr["tenure_months"] == 3
    assert a_apr["churned_1m"] is True  # no MRR at the end of May
    b_mar = _row(frame, "B", "2024-03")
    assert b_mar["late_payments_3m"] == 0 and b_mar["failed_invoice_2m"] is False
    assert b_mar["churned_1m"] is False and b_mar["churned_3m"] is False
    assert b_mar["nps_answered"] is True and b_mar["tickets_3m"] == 0
    # The annual customer: 12-month terms from January, so in March 10 months remain.
    c_mar = _row(frame, "C", "2024-03")
    assert c_mar["billing_period"] == "annual" and c_mar["months_to_term_end"] == 10
    assert c_mar["seat_utilisation"] is None  # no usage rows


def test_labels_are_null_past_the_data(small: AppContext) -> None:
    panel = F.monthly_panel(small.warehouse)
    frame = F.features_at(panel)
    last = panel.last_month
    tail = frame.filter(pl.col("cutoff") == last)
    assert tail["churned_1m"].null_count() == tail.height
    near = frame.filter(pl.col("cutoff") == last - 2)
    assert near["churned_3m"].null_count() == near.height
    assert near["churned_1m"].null_count() == 0


def test_nothing_after_the_cutoff_leaks_in(small: AppContext, tmp_path: Path) -> None:
    """Adding data dated after the cut-off changes no feature at the cut-off."""
    before = F.features_at(F.monthly_panel(small.warehouse), [month_number("2024-03")])
    later = dict(COMPANY)
    later["payments.csv"] += "P99,A,2024-04-20,100,Failed,SA,IA9,1,2024-04-20\n"
    later["support_tickets.csv"] += "T9,A,2024-04-25 09:00:00,,urgent\n"
    later["nps_responses.csv"] += "N9,A,2024-04-28,0\n"
    later["usage.csv"] = later["usage.csv"].replace("A,2024-04,1,5,5,0.1", "A,2024-04,0,5,0,0.0")
    ctx = AppContext(isolated_settings(tmp_path / "home2"))
    try:
        load_paths(ctx, [_write(tmp_path / "co2", later)], source="test")
        ctx.refresh()
        after = F.features_at(F.monthly_panel(ctx.warehouse), [month_number("2024-03")])
    finally:
        ctx.close()
    features = [c for c in F.FEATURES if c in before.columns]
    assert before.select("account_id", *features).equals(after.select("account_id", *features))


def test_plan_cutoffs_keeps_label_windows_apart() -> None:
    split = F.plan_cutoffs(100, 130, horizon=3, train_months=12)
    test, calib = split["test"][0], split["calibration"][0]
    assert test == 127 and calib == 124
    assert max(split["train"]) + 3 <= calib and len(split["train"]) == 12
    with pytest.raises(NoDataError, match="Not enough history"):
        F.plan_cutoffs(100, 105, horizon=3)


def test_oracle_scores_combine_months(tmp_path: Path) -> None:
    truth = tmp_path / "truth"
    truth.mkdir()
    pl.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B"],
            "month": ["2024-02", "2024-03", "2024-04", "2024-02"],
            "true_churn_probability": [0.1, 0.2, 0.5, 0.3],
            "churned": [False, False, True, True],
        }
    ).write_parquet(truth / "churn_probability.parquet")
    out = F.oracle_scores(truth, [month_number("2024-01")])
    a = out.filter(pl.col("account_id") == "A").row(0, named=True)
    assert a["oracle_1m"] == pytest.approx(0.1)
    assert a["oracle_3m"] == pytest.approx(1 - 0.9 * 0.8 * 0.5)
    assert a["true_churned_1m"] is False and a["true_churned_3m"] is True
    b = out.filter(pl.col("account_id") == "B").row(0, named=True)
    assert b["true_churned_1m"] is True and b["oracle_1m"] == pytest.approx(0.3)
    assert F.oracle_scores(tmp_path / "nowhere", [1]) is None

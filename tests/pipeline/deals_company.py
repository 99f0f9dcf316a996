"""A tiny deal book whose health factors are known by hand (docs/pipeline.md, Deal health).

As of 2024-06-30 (C2 closes that day). Median days in stage over the spells that ended:
Prospecting 20 (10, 19, 20, 30, 55), Qualification 15 (10, 20), Proposal 60 (10, 110),
Negotiation 10. Open deals:

* O1 (8,000, Proposal since 2024-03-31): stagnant (91 > 1.5 × 60), no activity for 89 days,
  close pushed once, amount cut from 10,000, past its expected close (2024-06-01), no champion,
  no budget, no decision maker, a competitor: 110 points → score 0, critical.
* O2 (5,000, Qualification since 2024-06-20): no factor → 100, healthy.
* O3 (20,000, Negotiation since 2024-06-25): no activity ever (created 2024-05-01, 60 days),
  no champion, no budget, a competitor: 40 points → 60, at risk.
"""

from __future__ import annotations

from pathlib import Path

from revintel.app.context import AppContext
from tests.conftest import SMALL_COMPANY_CSVS, isolated_settings

# ruff: noqa: E501  (CSV rows)
DEALS = """\
deal_id,account_id,account_name,owner,stage,amount,created_date,expected_close_date,closed_date,forecast_category,deal_type,segment,competitor,lead_source,has_champion,budget_confirmed,decision_maker_engaged
C1,,Acme,Ana,Closed Won,6000,2024-01-01,2024-02-15,2024-02-10,Closed,New Business,SMB,,Organic,true,true,true
C2,,Brio,Ben,Closed Lost,9000,2024-02-01,2024-04-01,2024-06-30,Omitted,New Business,SMB,Orbitly,Paid Ads,false,false,false
O1,,Cato,Ana,Proposal,8000,2024-03-01,2024-06-01,,Commit,New Business,Mid-Market,Orbitly,Referral,false,false,false
O2,,Dune,Ben,Qualification,5000,2024-06-01,2024-08-30,,Pipeline,New Business,SMB,,Organic,true,true,true
O3,,Echo,Ana,Negotiation,20000,2024-05-01,2024-09-01,,Best Case,Expansion,Enterprise,Vantage Cloud,Partner,false,false,true
"""

HISTORY = """\
deal_id,stage,entered_at,amount,expected_close_date,forecast_category
C1,Prospecting,2024-01-01,6000,2024-02-15,Pipeline
C1,Qualification,2024-01-11,6000,2024-02-15,Pipeline
C1,Proposal,2024-01-21,6000,2024-02-15,Best Case
C1,Negotiation,2024-01-31,6000,2024-02-15,Commit
C1,Closed Won,2024-02-10,6000,,Closed
C2,Prospecting,2024-02-01,9000,2024-04-01,Pipeline
C2,Qualification,2024-02-21,9000,2024-04-01,Pipeline
C2,Proposal,2024-03-12,9000,2024-04-01,Best Case
C2,Closed Lost,2024-06-30,9000,,Omitted
O1,Prospecting,2024-03-01,10000,2024-05-01,Pipeline
O1,Proposal,2024-03-31,10000,2024-05-01,Best Case
O1,Proposal,2024-04-15,8000,2024-06-01,Commit
O2,Prospecting,2024-06-01,5000,2024-08-30,Pipeline
O2,Qualification,2024-06-20,5000,2024-08-30,Pipeline
O3,Prospecting,2024-05-01,20000,2024-09-01,Pipeline
O3,Negotiation,2024-06-25,20000,2024-09-01,Best Case
"""

ACTIVITIES = """\
activity_id,deal_id,activity_at,kind,direction,contact
A1,O1,2024-04-02 10:00:00,email,outbound,Lee
A2,O2,2024-06-28 15:00:00,meeting,inbound,Kim
A3,C1,2024-01-15 09:00:00,call,outbound,Ray
"""


def write_deals_company(folder: Path, *, activities: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "customers.csv").write_text(SMALL_COMPANY_CSVS["customers.csv"])
    (folder / "deals.csv").write_text(DEALS)
    (folder / "deal_stage_history.csv").write_text(HISTORY)
    if activities:
        (folder / "deal_activities.csv").write_text(ACTIVITIES)
    return folder


def deals_context(root: Path, *, activities: bool = True) -> AppContext:
    """An AppContext over a new home under ``root`` holding the deal book above."""
    from revintel.app.ingest import load_paths

    ctx = AppContext(isolated_settings(root / "home"))
    load_paths(ctx, [write_deals_company(root / "data", activities=activities)], source="test")
    return ctx

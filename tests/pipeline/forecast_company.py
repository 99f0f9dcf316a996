"""A small synthetic deal company for the forecast tests (written as CSV, loaded like any data).

360 deals created over 2023-10 … 2024-12; a deal is won with probability
``sigmoid(-1.2 + 1.5·champion + 1.0·budget − 0.8·[competitor])``; each stage takes 8–40 days; a
won deal passes every open stage, a lost one stops at a random stage. The data is as of
2024-12-31: later changes are cut, so the deals still in progress are open.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
CATEGORY = {
    "Prospecting": "Pipeline",
    "Qualification": "Pipeline",
    "Proposal": "Best Case",
    "Negotiation": "Commit",
}
AS_OF = date(2024, 12, 31)
TRUE_COEF = {"intercept": -1.2, "has_champion": 1.5, "budget_confirmed": 1.0, "competitor": -0.8}


def write_deal_company(folder: Path, *, n: int = 360, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    deals, history = [], []
    start = date(2023, 10, 1)
    for i in range(n):
        created = start + timedelta(days=int(rng.integers(0, 456)))
        champion, budget = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
        competitor = "Orbitly" if rng.random() < 0.4 else ""
        z = TRUE_COEF["intercept"] + 1.5 * champion + 1.0 * budget - 0.8 * bool(competitor)
        won = rng.random() < 1 / (1 + np.exp(-z))
        reach = 4 if won else int(rng.integers(1, 5))
        amount = float(round(rng.lognormal(9.5, 0.8), 2))
        planned = created + timedelta(days=int(rng.integers(60, 120)))
        day = created
        rows = []
        for k in range(reach):
            rows.append((STAGES[k], day, amount, planned, CATEGORY[STAGES[k]]))
            if k == 1 and rng.random() < 0.3:  # a push of the expected close
                planned = planned + timedelta(days=30)
                rows.append(
                    (STAGES[k], day + timedelta(days=3), amount, planned, CATEGORY[STAGES[k]])
                )
            day = day + timedelta(days=int(rng.integers(8, 41)))
        closed = day
        rows.append(
            (
                "Closed Won" if won else "Closed Lost",
                closed,
                amount,
                None,
                "Closed" if won else "Omitted",
            )
        )
        rows = [r for r in rows if r[1] <= AS_OF]
        is_closed = closed <= AS_OF
        stage = rows[-1][0]
        deal_id = f"D{i:04d}"
        deals.append(
            {
                "deal_id": deal_id,
                "account_id": "",
                "owner": f"Rep {i % 5}",
                "stage": stage,
                "amount": amount,
                "created_date": created.isoformat(),
                "expected_close_date": (closed if is_closed else rows[-1][3]).isoformat(),
                "closed_date": closed.isoformat() if is_closed else "",
                "forecast_category": rows[-1][4],
                "deal_type": "New Business",
                "segment": ("SMB", "Mid-Market")[i % 2],
                "competitor": competitor,
                "lead_source": "Organic",
                "has_champion": str(champion).lower(),
                "budget_confirmed": str(budget).lower(),
                "decision_maker_engaged": "false",
            }
        )
        for s, d, a, p, c in rows:
            history.append(
                {
                    "deal_id": deal_id,
                    "stage": s,
                    "entered_at": d.isoformat(),
                    "amount": a,
                    "expected_close_date": p.isoformat() if p else "",
                    "forecast_category": c,
                }
            )
    for name, data in (("deals.csv", deals), ("deal_stage_history.csv", history)):
        with (folder / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(data[0]))
            writer.writeheader()
            writer.writerows(data)
    (folder / "customers.csv").write_text(
        "customer_id,signup_date,segment,country,acquisition_channel,is_active\n"
        "C1,2023-01-03,SMB,US,Organic,true\n"
    )
    truth = folder / "truth"
    truth.mkdir(exist_ok=True)
    return folder


def drivers_table() -> pl.DataFrame:
    """The planted coefficients in ``truth/deal_win_drivers`` form."""
    return pl.DataFrame(
        {
            "feature": [
                "has_champion",
                "budget_confirmed",
                "competitor=Orbitly",
                "intercept[deal_type=New Business]",
            ],
            "coefficient": [1.5, 1.0, -0.8, -1.2],
        }
    )


def loaded_deal_home(root: Path) -> Path:
    """A home under ``root`` with the synthetic deal company loaded and its truth folder at
    ``HOME/demo/truth`` (where ``revintel demo`` leaves the generator's)."""
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.core.config import Settings

    folder = write_deal_company(root / "company")
    (folder / "truth").rmdir()
    home = root / "home"
    truth = home / "demo" / "truth"
    truth.mkdir(parents=True)
    drivers_table().write_parquet(truth / "deal_win_drivers.parquet")
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        load_paths(ctx, [folder], source="test")
    finally:
        ctx.close()
    return home

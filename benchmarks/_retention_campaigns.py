"""Benchmark part ``campaigns``: a campaign of 50k customers created with tasks and scripts
(target ≤ 10 s on SQLite), through :func:`revintel.app.retention.campaigns.create_campaign`.

    uv run --group test python -m benchmarks retention --part campaigns [--customers N]

The customers are a synthetic features frame (the columns
:func:`revintel.app.retention.features.customer_features` gives), so the figure is the wizard's
own cost: validating, the stratified holdout, owners, rendering every step's script in the
sandbox and the one-transaction bulk insert. Prints the wall-clock and CPU seconds, the tasks and
tasks per second.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

TARGET_SECONDS = 10.0


def features_frame(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    risk = rng.beta(2, 3, n)
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "name": [f"Company {i}" for i in range(n)],
            "segment": rng.choice(["SMB", "Mid-Market", "Enterprise"], n),
            "plan": rng.choice(["Basic", "Pro", "Enterprise"], n),
            "country": rng.choice(["US", "DE", "FR", "GB"], n),
            "industry": rng.choice(["Software", "Retail", "Finance"], n),
            "owner": rng.choice(["ann", "bob", "cem", "dia"], n),
            "mrr": rng.gamma(2, 500, n).round(2),
            "arr": rng.gamma(2, 6000, n).round(2),
            "tenure_months": rng.integers(1, 72, n),
            "health_score": rng.uniform(10, 95, n),
            "health_tier": rng.choice(["Healthy", "At risk", "Critical"], n),
            "churn_risk": risk,
            "risk_tier": np.where(risk >= 0.6, "High", np.where(risk >= 0.3, "Medium", "Low")),
            "clv": rng.gamma(2, 5000, n),
            "top_factor_1": rng.choice(["late_payments_3m", "login_trend", "tickets_3m"], n),
            "top_factor_2": rng.choice(["nps_latest", "seat_utilisation"], n),
            "top_factor_3": rng.choice(["mrr_change_3m", "aged_open_tickets"], n),
        }
    )


@dataclass
class _Runtime:
    settings: Any
    store: Any

    @property
    def warehouse(self) -> Any:  # pragma: no cover - the features are handed in
        raise RuntimeError("the benchmark reads no warehouse")


def run(argv: list[str] | None = None) -> dict[str, Any]:
    from revintel.app.retention.campaigns import CampaignRequest, create_campaign
    from revintel.app.retention.features import CustomerFeatures
    from revintel.core.config import Settings
    from revintel.store import open_store

    parser = argparse.ArgumentParser(prog="retention --part campaigns")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--template", default="executive_outreach")
    args, _ = parser.parse_known_args(argv or [])
    frame = features_frame(args.customers)
    features = CustomerFeatures(frame=frame, as_of="2026-02", columns={})
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), warehouse_url=None)
        store = open_store(settings)
        rt = _Runtime(settings, store)
        started, cpu = time.perf_counter(), time.process_time()
        made = create_campaign(
            rt,
            CampaignRequest(
                name="benchmark",
                template=args.template,
                start_date=date(2026, 3, 2),
                customer_ids=frame["customer_id"].to_list(),
                owners_mode="round_robin",
                people=[f"owner{i}" for i in range(20)],
                capacity=args.customers,
                holdout_share=0.15,
                seed=1,
                created_by="benchmark",
            ),
            features=features,
        )
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        store.dispose()
    return {
        "customers": made.customers,
        "treated": made.treated,
        "holdout": made.holdout,
        "tasks": made.tasks,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),  # this process alone (the machine may be busy)
        "tasks_per_second": round(made.tasks / seconds) if seconds else None,
        "target_seconds": TARGET_SECONDS,
        "within_target": seconds <= TARGET_SECONDS,
    }

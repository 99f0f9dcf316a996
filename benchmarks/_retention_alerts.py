"""Benchmark part ``alerts``: alert evaluation over 1M customers (target ≤ 10 s).

Synthetic customers (segment, plan, owner, MRR, ARR, risk tier) and their churn risk for three
scored months (seeded); an SQLite app store in a temporary home; four rules (a risk rise of more
than 15 points for everyone, a High-tier entry above 2,000 MRR, a 10-point rise in Enterprise,
an Enterprise average rise of more than 1 point), inbox only. Timed:

* ``first``: the first evaluation over months 1→2 (every condition fires: inserts);
* ``repeat``: the same data again (nothing fires; every alert's last-seen moves on);
* ``next_month``: months 2→3 (most alerts clear, new ones fire).

Each step reports wall-clock ``seconds`` and this process's ``cpu_seconds`` (on a shared
machine the wall clock includes waiting for a core).

The inputs are handed in (:class:`revintel.app.retention.alerts.AlertInputs`): reading the
predictions from the warehouse is the churn capability's cost, not timed here.

    uv run --group test python -m benchmarks retention --part alerts [--alerts-customers N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

TARGET_SECONDS = 10.0
HIGH_CUTOFF = 0.6


def synthetic_inputs(n: int, seed: int = 7) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Customers and three months of risk (months 1, 2, 3), one row per customer each."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("C", np.arange(n).astype(str))
    segments = np.array(["Enterprise", "Mid-Market", "SMB"])[rng.integers(0, 3, n)]
    mrr = np.round(rng.lognormal(6.5, 1.0, n), 2)
    r1 = rng.beta(2, 6, n)
    r2 = np.clip(r1 + rng.normal(0, 0.05, n), 0, 1)
    r3 = np.clip(r2 + rng.normal(0, 0.05, n), 0, 1)
    tiers = np.where(r2 > HIGH_CUTOFF, "High", np.where(r2 > 0.3, "Medium", "Low"))
    customers = pl.DataFrame(
        {
            "customer_id": ids,
            "name": np.char.add("Customer ", np.arange(n).astype(str)),
            "segment": segments,
            "plan": np.array(["Basic", "Pro", "Enterprise"])[rng.integers(0, 3, n)],
            "owner": np.char.add("owner", rng.integers(0, 50, n).astype(str)),
            "mrr": mrr,
            "arr": mrr * 12,
            "risk_tier": tiers,
        }
    )
    months = [
        pl.DataFrame({"customer_id": ids, "month": m, "churn_risk": r})
        for m, r in (("2026-03", r1), ("2026-04", r2), ("2026-05", r3))
    ]
    return customers, months


def run(argv: list[str]) -> dict[str, Any]:
    from revintel.app.context import AppContext
    from revintel.app.retention import alerts
    from revintel.core.config import Settings

    parser = argparse.ArgumentParser(prog="retention --part alerts")
    parser.add_argument("--alerts-customers", type=int, default=1_000_000)
    parser.add_argument("--alerts-seed", type=int, default=7)
    args, _ = parser.parse_known_args(argv)
    n = args.alerts_customers
    started = time.perf_counter()
    customers, months = synthetic_inputs(n, args.alerts_seed)
    generate = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="revintel-bench-alerts-") as tmp:
        ctx = AppContext(Settings(home=Path(tmp) / "home", warehouse_url=None, database_url=None))
        try:
            for name, kind, th, scope in (
                ("Risk up 15", "risk_rise", {"points": 15}, {}),
                ("Big accounts High", "high_tier_value", {"mrr": 2000}, {}),
                ("Enterprise risk up 10", "risk_rise", {"points": 10}, {"segment": ["Enterprise"]}),
                (
                    "Enterprise average",
                    "segment_risk_rise",
                    {"points": 1},
                    {"segment": ["Enterprise"]},
                ),
            ):
                alerts.create_rule(ctx, name=name, kind=kind, thresholds=th, scope=scope)

            def inputs(a: int, b: int) -> alerts.AlertInputs:
                return alerts.AlertInputs(
                    customers=customers,
                    risk=pl.concat([months[a], months[b]]),
                    high_cutoff=HIGH_CUTOFF,
                )

            timings: dict[str, float] = {}
            cpu: dict[str, float] = {}
            counts: dict[str, dict[str, int]] = {}
            for step, (a, b) in (("first", (0, 1)), ("repeat", (0, 1)), ("next_month", (1, 2))):
                given = inputs(a, b)
                t0, c0 = time.perf_counter(), time.process_time()
                summary = alerts.evaluate(ctx, inputs=given)
                timings[step] = round(time.perf_counter() - t0, 3)
                cpu[step] = round(time.process_time() - c0, 3)
                counts[step] = {
                    "fired": summary.fired,
                    "still_firing": summary.still_firing,
                    "cleared": summary.cleared,
                }
        finally:
            ctx.close()
    worst = max(timings.values())
    return {
        "customers": n,
        "rules": 4,
        "store": "sqlite",
        "generate_seconds": round(generate, 3),
        "seconds": timings,
        "cpu_seconds": cpu,
        "alerts": counts,
        "worst_seconds": worst,
        "target_seconds": TARGET_SECONDS,
        "met": worst <= TARGET_SECONDS,
    }

"""Benchmark: health scoring speed (docs/health.md, Speed).

1. ``score``: the pure scoring (pillars, weighted score, tiers, playbooks and reasons, change)
   on synthetic per-account-month inputs: 100k accounts for one month (targets ≤ 1 s) and for 24
   months (≤ 10 s).
2. ``warehouse``: the whole ``score_month`` / ``score_history`` path (Ibis aggregates on DuckDB
   over Parquet, then scoring) on a generated demo company loaded into a temporary home.

Prints one JSON line per measurement:

    uv run --group test python -m benchmarks.health [--accounts 100000] [--months 24]
        [--demo-customers 20000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from revintel.health.config import HealthConfig
from revintel.health.pillars import month_label, month_last_day, month_number
from revintel.health.scoring import score_accounts

TARGET_ONE_MONTH = 1.0
TARGET_HISTORY = 10.0


def synthetic_inputs(accounts: int, months: int, seed: int = 1) -> pl.DataFrame:
    """Plausible pillar inputs for ``accounts`` accounts over ``months`` months (numpy, seeded)."""
    rng = np.random.default_rng(seed)
    last = month_number("2025-12")
    idx = np.arange(last - months + 1, last + 1)
    n = accounts * months
    account = np.repeat(np.arange(accounts), months)
    month = np.tile(idx, accounts)
    seats = np.repeat(rng.integers(1, 200, accounts), months)
    active = rng.binomial(seats, 0.7)
    rate = rng.gamma(2.0, 2.0, n)
    answered = rng.random(n) < 0.6
    ends = {m: month_last_day(int(m)) for m in idx}
    return pl.DataFrame(
        {
            "account_id": [f"A{a:07d}" for a in account],
            "month_idx": month,
            "month": [month_label(int(m)) for m in month],
            "month_end": [ends[m] for m in month],
            "arr": np.repeat(rng.lognormal(9.5, 1.2, accounts), months),
            "segment": np.repeat(rng.choice(["SMB", "Mid-Market", "Enterprise"], accounts), months),
            "last_contact_date": [date(2025, 1, 1)] * n,
            "active_users": active,
            "licensed_seats": seats,
            "logins": (rate * 30).astype(np.int64),
            "key_feature_adoption": rng.uniform(0, 1, n),
            "logins_per_day": rate,
            "prior_logins_per_day": rate * rng.uniform(0.6, 1.3, n),
            "nps_score": rng.integers(0, 11, n),
            "nps_date": [date(2025, 6, 1) if a else None for a in answered],
            "nps_previous": rng.integers(0, 11, n),
            "tickets_low": rng.poisson(0.5, n),
            "tickets_medium": rng.poisson(0.3, n),
            "tickets_high": rng.poisson(0.1, n),
            "tickets_urgent": rng.poisson(0.05, n),
            "aged_open_tickets": rng.poisson(0.1, n),
        },
        strict=False,
    ).with_columns(
        tickets=pl.sum_horizontal(pl.col("^tickets_.*$")),
        nps_score=pl.when(pl.Series(answered)).then(pl.col("nps_score")),
        nps_previous=pl.when(pl.Series(answered)).then(pl.col("nps_previous")),
    )


def time_scoring(accounts: int, months: int, target: float) -> dict:
    # One extra month so the first scored month has a previous score, as score_month does.
    inputs = synthetic_inputs(accounts, months + (1 if months == 1 else 0))
    config = HealthConfig()
    score_accounts(inputs.head(1000), config)  # warm up
    start = time.perf_counter()
    scored = score_accounts(inputs, config)
    seconds = time.perf_counter() - start
    return {
        "benchmark": "health.score",
        "accounts": accounts,
        "months": months,
        "rows": scored.height,
        "seconds": round(seconds, 3),
        "target_seconds": target,
        "ok": seconds <= target,
    }


def time_warehouse(customers: int, months: int) -> list[dict]:
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.core.config import Settings
    from revintel.data.generator import generate_company, write_company
    from revintel.health import service
    from revintel.warehouse.cache import clear_all

    with tempfile.TemporaryDirectory() as tmp:
        company = generate_company(customers=customers, months=months, seed=42)
        out = Path(tmp) / "files"
        write_company(company, out, "parquet")
        ctx = AppContext(Settings(home=Path(tmp) / "home", warehouse_url=None, database_url=None))
        files = [out / f"{n}.parquet" for n, t in company.tables.items() if t.num_rows]
        load_paths(ctx, files, source="benchmark")
        results = []
        for name, run in (
            ("health.warehouse.score_month", lambda: service.score_month(ctx).frame.height),
            ("health.warehouse.score_history", lambda: service.score_history(ctx).height),
        ):
            clear_all()  # time the queries, not the cache
            start = time.perf_counter()
            rows = run()
            results.append(
                {
                    "benchmark": name,
                    "customers": customers,
                    "months": months,
                    "rows": rows,
                    "seconds": round(time.perf_counter() - start, 3),
                }
            )
        ctx.close()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--demo-customers", type=int, default=20_000)
    args = parser.parse_args()
    print(json.dumps(time_scoring(args.accounts, 1, TARGET_ONE_MONTH)), flush=True)
    print(json.dumps(time_scoring(args.accounts, args.months, TARGET_HISTORY)), flush=True)
    for row in time_warehouse(args.demo_customers, args.months):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

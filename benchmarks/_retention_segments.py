"""Benchmark part ``segments`` of ``retention``: a segment rule over a synthetic features frame.

    uv run --group test python -m benchmarks retention --part segments [--customers N]
        [--preview-customers N] [--repeat R]

A seeded numpy frame shaped like :func:`revintel.app.retention.features.customer_features`
(attributes, MRR/ARR, health and pillars, churn risk and tier, CLV, RFM and churn features) of
``--customers`` rows (default 1,000,000) is registered once in an in-memory DuckDB (timed
apart: it happens once per data snapshot). Then, the median of ``--repeat`` runs of:

* ``rule_seconds``: parse the rule, build the Ibis expression, DuckDB count and MRR sum (and the
  average churn risk) at ``--customers``: target ≤ 1 s;
* ``preview_seconds``: the whole preview (the same plus the 10 largest rows) at
  ``--preview-customers`` (default 100,000): target ≤ 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
import polars as pl

from revintel.app.retention import features as F
from revintel.app.retention import segments as S
from revintel.retention import rules as R

RULE = (
    'mrr > 1_000 and churn_risk > 0.3 and not has_account_manager and segment in ("SMB", '
    '"Mid-Market") or (health_tier = "Critical" and tenure_months >= 12 and name contains "labs")'
)
RULE_TARGET = 1.0
PREVIEW_TARGET = 0.3


def synthetic_features(n: int, seed: int = 7) -> F.CustomerFeatures:
    """``n`` customers with realistic distributions (log-normal MRR by segment, beta risks)."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(["SMB", "Mid-Market", "Enterprise"], n, p=[0.65, 0.27, 0.08])
    scale = np.select([segment == "SMB", segment == "Mid-Market"], [60.0, 600.0], 4000.0)
    active = rng.random(n) < 0.7
    mrr = np.where(active, np.round(rng.lognormal(0, 0.6, n) * scale, 2), 0.0)
    risk = np.where(active, rng.beta(1.5, 8, n), np.nan)
    health = np.where(active, np.clip(rng.normal(72, 15, n), 0, 100), np.nan)
    owner = np.where(rng.random(n) < 0.35, rng.choice(["Ana", "Bo", "Cy", "Di"], n), None)
    words = np.array(["Acme", "Labs", "Data", "Cloud", "Works", "Systems", "Group"])
    name = np.char.add(np.char.add(rng.choice(words, n), " "), rng.choice(words, n))
    tiers = np.select([health < 50, health < 70], ["Critical", "At Risk"], "Healthy")
    data = {
        "customer_id": [f"C{i:07d}" for i in range(n)],
        "name": name.astype(str).tolist(),
        "segment": segment,
        "plan": rng.choice(["Basic", "Pro", "Enterprise"], n, p=[0.5, 0.4, 0.1]),
        "country": rng.choice(["US", "GB", "DE", "FR", "CA", "AU"], n),
        "industry": rng.choice(["Software", "Retail", "Health", "Finance", "Education"], n),
        "owner": owner,
        "has_account_manager": owner != None,  # noqa: E711 (numpy elementwise)
        "is_active": active,
        "mrr": mrr,
        "arr": mrr * 12,
        "tenure_months": np.where(active, rng.integers(0, 60, n), np.nan).astype(float),
        "health_score": health,
        "engagement": np.clip(health + rng.normal(0, 8, n), 0, 100),
        "sentiment": np.clip(health + rng.normal(0, 10, n), 0, 100),
        "support": np.clip(health + rng.normal(0, 12, n), 0, 100),
        "health_tier": np.where(active, tiers, None),
        "churn_risk": risk,
        "risk_tier": np.where(
            active, np.select([risk > 0.4, risk > 0.2], ["High", "Medium"], "Low"), None
        ),
        "clv": mrr * 0.8 * rng.uniform(5, 40, n),
        "rfm_segment": rng.choice(["Champions", "Loyal", "At Risk", "Hibernating"], n),
        "seat_utilisation": rng.beta(5, 2, n),
        "logins_per_user": rng.gamma(3, 4, n),
        "nps_latest": rng.integers(0, 11, n).astype(float),
        "tickets_3m": rng.poisson(1.0, n).astype(float),
        "late_payments_3m": rng.poisson(0.2, n).astype(float),
        "failed_invoice_2m": rng.random(n) < 0.03,
    }
    frame = pl.DataFrame(
        {  # numpy text arrays as Python lists: polars reads fixed-width numpy text as binary
            k: v.tolist() if isinstance(v, np.ndarray) and v.dtype.kind in "UO" else v
            for k, v in data.items()
        },
        nan_to_null=True,
    )
    kinds = {
        "number": ("mrr", "arr", "tenure_months", "health_score", "engagement", "sentiment",
                   "support", "churn_risk", "clv", "seat_utilisation", "logins_per_user",
                   "nps_latest", "tickets_3m", "late_payments_3m"),
        "bool": ("has_account_manager", "is_active", "failed_invoice_2m"),
    }  # fmt: skip
    columns = {
        c: F.FeatureColumn(
            c,
            "number" if c in kinds["number"] else ("bool" if c in kinds["bool"] else "text"),
            c,
            "synthetic",
        )
        for c in frame.columns
    }
    return F.CustomerFeatures(frame, "2025-06", columns, key=f"synthetic-{n}-{seed}")


def _median(fn: Any, repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="retention --part segments")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--preview-customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args, _ = parser.parse_known_args(argv)

    started = time.perf_counter()
    big = synthetic_features(args.customers)
    generate = time.perf_counter() - started
    started = time.perf_counter()
    engine = S.engine_for(big)
    register = time.perf_counter() - started

    def rule() -> dict[str, Any]:
        return engine.summary(R.parse(RULE))

    rule_seconds, summary = _median(rule, args.repeat)
    # the same rule in polars, to check the count
    expected = big.frame.filter(
        (
            (pl.col("mrr") > 1000)
            & (pl.col("churn_risk") > 0.3)
            & ~pl.col("has_account_manager")
            & pl.col("segment").is_in(["SMB", "Mid-Market"])
        ).fill_null(False)
        | (
            (pl.col("health_tier") == "Critical")
            & (pl.col("tenure_months") >= 12)
            & pl.col("name").str.to_lowercase().str.contains("labs", literal=True)
        ).fill_null(False)
    ).height

    small = synthetic_features(args.preview_customers, seed=11)
    S.engine_for(small)  # registered once per snapshot, as the page's first preview does

    def preview() -> S.SegmentPreview:
        node = R.parse(RULE)
        return S.preview_features(small, node, RULE, sample=10)

    preview_seconds, result = _median(preview, args.repeat)
    return {
        "customers": args.customers,
        "rule": RULE,
        "count": summary["count"],
        "count_matches_polars": summary["count"] == expected,
        "mrr": round(summary["mrr"], 2),
        "generate_seconds": round(generate, 3),
        "register_seconds": round(register, 3),
        "rule_seconds": round(rule_seconds, 4),
        "rule_target_seconds": RULE_TARGET,
        "rule_within_target": rule_seconds <= RULE_TARGET,
        "preview_customers": args.preview_customers,
        "preview_count": result.count,
        "preview_seconds": round(preview_seconds, 4),
        "preview_target_seconds": PREVIEW_TARGET,
        "preview_within_target": preview_seconds <= PREVIEW_TARGET,
    }

"""Benchmark: every metric, monthly, no filters, cold, on DuckDB, beside the briefs' stack.

For each size the demo company is generated, written as Parquet and loaded into a fresh home by
one subprocess (not timed). Then, each in a fresh subprocess (cold; its own peak memory):

* ``revintel-duckdb``: open the context and call every service function of
  ``revintel.metrics.service`` once with no filters (period, mrr_movements, retention, cohorts,
  trial_conversion, revenue, financials, acquisition in total and by channel, ltv, summary).
  The clock starts before the warehouse is opened (Python imports excluded, Ibis's DuckDB backend
  included: Ibis imports it lazily) and stops after the
  last call; per-call times are reported too. Run twice: with the default failed-payment rule
  (``delinquency_days`` 30, the target figure) and with it switched off (``delinquency_days``
  36500: no invoice can be 100 years past due inside the data), which is what the baseline
  computes;
* ``pandas+sqlite`` (the briefs' stack): read the same Parquet files with pandas, load them into
  an in-memory sqlite3 database (``DataFrame.to_sql``) and compute the same definitions
  (``docs/metrics.md``) the way a brief's notebook would: MRR per customer-month in SQL (a month
  table joined to subscriptions on the active-at-month-end rule, discounted while
  ``discount_end_date >= month end``), then pandas for movements, churn rates, NRR/GRR monthly and
  trailing 12 months, cohorts, revenue, margins, CAC by channel, LTV and trial conversion. No
  failed-payment rule. Timed: Parquet read + load into SQLite + computation. At sizes above
  100k it runs only when the 100k baseline took at most 60 s (and is stopped after 15 minutes).

* ``revintel-pyspark`` (with ``--spark``): the same engine runs on the same home with
  ``REVINTEL_WAREHOUSE_URL=pyspark://local[2]`` (the same Parquet snapshot read by Spark in local
  mode; the clock includes starting Spark, ``open``), the path for a user who outgrows one
  machine: with the default failed-payment rule and with it off, as on DuckDB. Its figures must
  equal DuckDB's within 1e-6 relative, every field of every row of MRR movements, retention,
  cohorts, trial conversion, revenue and LTV; its time is reported beside DuckDB's.

The baseline's monthly MRR, movements and logo churn must equal the engine's (delinquency off)
within 1e-6 relative; revenue, trailing NRR/GRR, cohorts and trial conversion are compared too.
Prints JSON lines (one per measurement, one per comparison, one ratio per size):

    uv run --group test python -m benchmarks metrics_suite [--sizes 100000,1000000] [--months 36]
        [--spark]

Targets (restated in issue 19): at 1M customers x 36 months, cold, <= 2 s on DuckDB (2 cores)
and at least 20x faster than pandas + in-memory SQLite; at 100k customers at least 5x faster;
each ratio measured side by side in one run. On Spark: completes, equal figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_SIZES = [100_000, 1_000_000]
TARGET_SECONDS = 2.0  # engine, at 1M customers x 36 months
TARGET_RATIOS = {100_000: 5.0, 1_000_000: 20.0}  # baseline / engine, by customers
BASELINE_SKIP_AFTER = 90.0  # skip larger baselines when the 100k baseline took longer
BASELINE_TIMEOUT = 1800.0
SPARK_URL = "pyspark://local[2]"
SPARK_TIMEOUT = 1800.0
NO_DELINQUENCY = 36_500  # days: no invoice is 100 years past due inside the data
RTOL = 1e-6
ROOT = Path(__file__).resolve().parents[1]
TABLES = ("subscriptions", "payments", "trials", "costs", "marketing_spend", "customers")


# -- children -------------------------------------------------------------------------------------
def prepare(customers: int, months: int, data: Path, home: Path, seed: int = 42) -> dict[str, Any]:
    """Generate the company, write it as Parquet to ``data`` and load it into ``home``."""
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.core.config import Settings
    from revintel.data.generator import generate_company, write_company

    started = time.perf_counter()
    company = generate_company(customers=customers, months=months, seed=seed)
    write_company(company, data, "parquet")
    del company
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    result = load_paths(ctx, [data], source="benchmark")
    ctx.close()
    return {
        "prepare_seconds": round(time.perf_counter() - started, 1),
        "rows": {k: v for k, v in result.tables.items() if k in TABLES},
    }


def engine(
    home: Path, days: int | None, out: Path | None, warehouse_url: str | None = None
) -> dict[str, Any]:
    """Every service function once, no filters, on a freshly opened warehouse; timed here."""
    import ibis

    from revintel.app.context import AppContext
    from revintel.core.config import Settings
    from revintel.metrics import service as s

    # Python imports are outside the clock (module doc): Ibis imports a backend (and the SQL
    # dialects it pulls in) lazily, on first use, which would otherwise land in "open".
    ibis.duckdb  # noqa: B018 (the attribute access is the import)
    if warehouse_url is not None and warehouse_url.startswith("pyspark://"):
        import pyspark.sql  # noqa: F401 (imports outside the clock; starting Spark is inside)

        ibis.pyspark  # noqa: B018
        # What a user of local mode sets: the driver's heap (1 GB by default) and as many shuffle
        # partitions as a few times the cores (200 by default, sized for a cluster).
        os.environ.setdefault(
            "PYSPARK_SUBMIT_ARGS",
            "--driver-memory 4g --conf spark.sql.shuffle.partitions=8 pyspark-shell",
        )

    d = s.MetricQuery(delinquency_days=days)
    calls: list[tuple[str, Any]] = [
        ("period", lambda wh: s.period(wh)),
        ("mrr_movements", lambda wh: s.mrr_movements(wh, d)),
        ("retention", lambda wh: s.retention(wh, d)),
        ("cohorts", lambda wh: s.cohorts(wh, d)),
        ("trial_conversion", lambda wh: s.trial_conversion(wh)),
        ("revenue", lambda wh: s.revenue(wh)),
        ("financials", lambda wh: s.financials(wh)),
        ("acquisition", lambda wh: s.acquisition(wh, d)),
        (
            "acquisition_by_channel",
            lambda wh: s.acquisition(wh, d.but(by="acquisition_channel")),
        ),
        ("ltv", lambda wh: s.ltv(wh, d)),
        ("summary", lambda wh: s.summary(wh, d)),
    ]
    results: dict[str, Any] = {}
    per_call: dict[str, float] = {}
    started = time.perf_counter()
    ctx = AppContext(Settings(home=home, warehouse_url=warehouse_url, database_url=None))
    wh = ctx.warehouse
    wh.table("subscriptions")  # open the warehouse inside the clock
    per_call["open"] = time.perf_counter() - started
    for name, call in calls:
        t0 = time.perf_counter()
        results[name] = call(wh)
        per_call[name] = time.perf_counter() - t0
    seconds = time.perf_counter() - started
    ctx.close()
    if out is not None:
        keep = ("mrr_movements", "retention", "cohorts", "trial_conversion", "revenue", "ltv")
        out.write_text(json.dumps({k: results[k] for k in keep}, default=str))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": round(seconds, 3),
        "per_call_seconds": {k: round(v, 3) for k, v in per_call.items()},
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "report_months": len(results["mrr_movements"]),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def baseline(data: Path, out: Path | None) -> dict[str, Any]:
    """The briefs' stack: pandas + in-memory SQLite, same definitions, no failed-payment rule."""
    import sqlite3

    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    frames = {name: pd.read_parquet(data / f"{name}.parquet") for name in TABLES}
    read = time.perf_counter()
    con = sqlite3.connect(":memory:")
    for name, frame in frames.items():
        frame = frame.copy()
        for col in frame.columns:  # dates as ISO text, the way a notebook stores them
            if col.endswith("_date") or col in ("trial_start", "trial_end"):
                frame[col] = pd.to_datetime(frame[col]).dt.strftime("%Y-%m-%d")
        frame.to_sql(name, con, index=False)
    del frames
    loaded = time.perf_counter()

    # Period: first month of the data to the last complete month before the as-of date.
    first_date, as_of = con.execute(
        """SELECT MIN(d), MAX(l) FROM (
             SELECT start_date AS d, start_date AS l FROM subscriptions
             UNION ALL SELECT payment_date, payment_date FROM payments
             UNION ALL SELECT NULL, trial_start FROM trials)"""
    ).fetchone()
    as_of_ts = pd.Timestamp(as_of)
    last = as_of_ts.to_period("M")
    if as_of_ts != last.end_time.normalize():
        last -= 1
    months_p = pd.period_range(pd.Timestamp(first_date).to_period("M"), last, freq="M")
    labels = [str(p) for p in months_p]
    months = pd.DataFrame(
        {"month": labels, "month_end": [p.end_time.strftime("%Y-%m-%d") for p in months_p]}
    )
    months.to_sql("months", con, index=False)

    # MRR per customer and month: the month table joined to subscriptions.
    cm = pd.read_sql_query(
        """SELECT s.customer_id, m.month,
                  SUM(s.monthly_price * (1 - CASE
                        WHEN s.discount_end_date IS NULL OR s.discount_end_date >= m.month_end
                        THEN COALESCE(s.discount_pct, 0) ELSE 0 END)) AS mrr
           FROM subscriptions s JOIN months m
             ON s.start_date <= m.month_end
            AND (s.end_date IS NULL OR s.end_date > m.month_end)
           GROUP BY s.customer_id, m.month""",
        con,
    )
    mrr = cm.pivot(index="customer_id", columns="month", values="mrr")
    mrr = mrr.reindex(columns=labels).fillna(0.0).round(6)
    now = mrr.to_numpy()
    prev = np.hstack([np.zeros((len(mrr), 1)), now[:, :-1]])
    eps = 1e-9
    had_before = np.maximum.accumulate(prev > eps, axis=1)
    up = (prev <= eps) & (now > eps)
    moves = {
        "new": np.where(up & ~had_before, now, 0.0),
        "reactivation": np.where(up & had_before, now, 0.0),
        "expansion": np.where((prev > eps) & (now > prev + eps), now - prev, 0.0),
        "contraction": np.where((prev > eps) & (now > eps) & (now < prev - eps), prev - now, 0.0),
        "churn": np.where((prev > eps) & (now <= eps), prev, 0.0),
    }
    mv = pd.DataFrame({k: v.sum(axis=0) for k, v in moves.items()}, index=labels)
    counts = {
        "new_customers": "new",
        "reactivated_customers": "reactivation",
        "expansion_customers": "expansion",
        "contraction_customers": "contraction",
        "churned_customers": "churn",
    }
    for count, move in counts.items():
        mv[count] = (moves[move] > 0).sum(axis=0)
    mv["mrr"] = now.sum(axis=0)
    mv["customers"] = (now > eps).sum(axis=0)
    mv["mrr_previous"] = prev.sum(axis=0)
    mv["customers_previous"] = (prev > eps).sum(axis=0)
    mv["arr"] = mv.mrr * 12
    mv["arpa"] = mv.mrr / mv.customers.replace(0, np.nan)
    base = mv.mrr_previous.replace(0, np.nan)
    mv["logo_churn_rate"] = mv.churned_customers / mv.customers_previous.replace(0, np.nan)
    mv["gross_mrr_churn_rate"] = (mv.churn + mv.contraction) / base
    mv["net_mrr_churn_rate"] = (mv.churn + mv.contraction - mv.expansion) / base
    mv["nrr_monthly"] = (mv.mrr_previous + mv.expansion - mv.contraction - mv.churn) / base
    mv["grr_monthly"] = (mv.mrr_previous - mv.contraction - mv.churn) / base
    mv["quick_ratio"] = (mv.new + mv.expansion + mv.reactivation) / (
        mv.contraction + mv.churn
    ).replace(0, np.nan)

    # Trailing 12 months NRR / GRR.
    t12 = {}
    for i in range(12, len(labels)):
        was = now[:, i - 12]
        kept = was > eps
        b = was[kept].sum()
        t12[labels[i]] = {
            "nrr_t12m": now[kept, i].sum() / b if b else np.nan,
            "grr_t12m": np.minimum(now[kept, i], was[kept]).sum() / b if b else np.nan,
        }
    trailing = pd.DataFrame.from_dict(t12, orient="index")

    # Cohorts (first-paid month): logo and revenue retention by age.
    paying = now > eps
    ever = paying.any(axis=1)
    cohort_idx = pd.Series(np.where(ever, paying.argmax(axis=1), -1), index=mrr.index)
    logos = pd.DataFrame(paying, index=mrr.index).groupby(cohort_idx).sum()
    money = pd.DataFrame(now, index=mrr.index).groupby(cohort_idx).sum()
    cohort_rows = []
    for c in logos.index:
        if c < 0:
            continue
        for age in range(len(labels) - c):
            cohort_rows.append(
                {
                    "cohort": labels[c],
                    "age": age,
                    "customers": int(logos.at[c, c + age]),
                    "mrr": float(money.at[c, c + age]),
                    "logo_retention": logos.at[c, c + age] / logos.at[c, c],
                    "revenue_retention": money.at[c, c + age] / money.at[c, c],
                }
            )
    cohorts = pd.DataFrame(cohort_rows)

    # Revenue (Success payments), margins, contribution.
    revenue = pd.read_sql_query(
        """SELECT substr(payment_date, 1, 7) AS month, SUM(amount) AS revenue,
                  COUNT(*) AS successful_payments
           FROM payments WHERE payment_status = 'Success' GROUP BY 1""",
        con,
    ).set_index("month")
    fin = pd.DataFrame(index=labels).join(revenue).fillna({"revenue": 0.0})
    costs = pd.read_sql_query("SELECT * FROM costs", con).set_index("month")
    fin = fin.join(costs)
    fin["gross_profit"] = fin.revenue - fin.infra_cost - fin.support_cost
    fin["gross_margin"] = fin.gross_profit / fin.revenue.replace(0, np.nan)
    fin["contribution"] = fin.gross_profit - fin.marketing_cost
    fin["revenue_mom"] = fin.revenue / fin.revenue.shift(1).replace(0, np.nan) - 1

    # CAC and payback, in total and by acquisition channel; LTV.
    mv["cac"] = fin.marketing_cost / mv.new_customers.replace(0, np.nan)
    mv["cac_payback_months"] = mv.cac / (mv.arpa * fin.gross_margin).replace(0, np.nan)
    churn6 = mv.logo_churn_rate.shift(1).rolling(6, min_periods=6).mean()
    mv["ltv"] = mv.arpa * fin.gross_margin / churn6.replace(0, np.nan)
    channels = pd.read_sql_query("SELECT customer_id, acquisition_channel FROM customers", con)
    chan = channels.set_index("customer_id").acquisition_channel.reindex(mrr.index)
    chan = chan.fillna("(unknown)").replace("", "(unknown)")
    new_by = pd.DataFrame((moves["new"] > 0).astype(np.int64), index=mrr.index, columns=labels)
    new_by = new_by.groupby(chan).sum().stack().rename("new_customers")
    mrr_by = pd.DataFrame(now, index=mrr.index, columns=labels).groupby(chan).sum().stack()
    cust_by = pd.DataFrame(paying, index=mrr.index, columns=labels).groupby(chan).sum().stack()
    spend = pd.read_sql_query(
        "SELECT month, channel, SUM(spend) AS spend FROM marketing_spend GROUP BY 1, 2", con
    ).set_index(["channel", "month"])["spend"]
    by_channel = pd.concat([new_by, (mrr_by / cust_by.replace(0, np.nan)).rename("arpa")], axis=1)
    by_channel.index.names = ["channel", "month"]
    by_channel = by_channel.join(spend)
    by_channel["cac"] = by_channel.spend / by_channel.new_customers.replace(0, np.nan)
    gm = fin.gross_margin.reindex(by_channel.index.get_level_values(1)).to_numpy()
    by_channel["cac_payback_months"] = by_channel.cac / (by_channel.arpa * gm)

    # Trial-to-paid conversion, 30-day window (cohort view by trial-start month).
    subs = pd.read_sql_query(
        "SELECT customer_id, start_date, end_date, monthly_price, discount_pct, "
        "discount_end_date FROM subscriptions",
        con,
    )
    start = pd.to_datetime(subs.start_date)
    end = pd.to_datetime(subs.end_date)
    disc_end = pd.to_datetime(subs.discount_end_date)
    s_m = start.dt.to_period("M")
    active_some_month_end = end.isna() | (s_m < end.dt.to_period("M"))
    start_month_end = s_m.dt.end_time.dt.normalize()
    discounted_at_start = disc_end.isna() | (disc_end >= start_month_end)
    at_start = subs.monthly_price * (
        1 - np.where(discounted_at_start, subs.discount_pct.fillna(0.0), 0.0)
    )
    no_disc_month = (disc_end + pd.Timedelta(days=1)).dt.to_period("M")
    later = (
        (subs.monthly_price > 0)
        & disc_end.notna()
        & (end.isna() | (no_disc_month < end.dt.to_period("M")))
    )
    paid_day = pd.Series(pd.NaT, index=subs.index, dtype="datetime64[ns]")
    paid_day = paid_day.mask(later, disc_end + pd.Timedelta(days=1))
    paid_day = paid_day.mask(at_start.round(6) > 0, start)
    paid_day = paid_day[active_some_month_end]
    first_paid = paid_day.groupby(subs.customer_id[active_some_month_end]).min()
    trials = pd.read_sql_query("SELECT customer_id, trial_start, trial_end FROM trials", con)
    t_start = pd.to_datetime(trials.trial_start)
    closes = pd.to_datetime(trials.trial_end) + pd.Timedelta(days=30)
    fp = trials.customer_id.map(first_paid)
    trials["converted"] = (fp.notna() & (fp >= t_start) & (fp <= closes)).astype(int)
    trials["month"] = t_start.dt.strftime("%Y-%m")
    trials["closes"] = closes
    conv = trials.groupby("month").agg(
        trials=("converted", "size"), converted=("converted", "sum"), closes=("closes", "max")
    )
    conv = conv.reindex(labels)
    conv["conversion_rate"] = conv.converted / conv.trials
    conv["provisional"] = conv.closes > as_of_ts
    con.close()
    seconds = time.perf_counter() - started

    if out is not None:
        out.write_text(
            json.dumps(
                {
                    "movements": _rows(mv.reset_index(names="month")),
                    "trailing": _rows(trailing.reset_index(names="month")),
                    "cohorts": _rows(cohorts),
                    "revenue": _rows(fin.reset_index(names="month")[["month", "revenue"]]),
                    "conversion": _rows(
                        conv.reset_index(names="month")[
                            ["month", "trials", "converted", "conversion_rate"]
                        ]
                    ),
                },
                default=str,
            )
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": round(seconds, 3),
        "read_parquet_seconds": round(read - started, 3),
        "load_sqlite_seconds": round(loaded - read, 3),
        "compute_seconds": round(seconds - (loaded - started), 3),
        "customer_months": len(cm),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "report_months": len(labels),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def _rows(frame: Any) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


# -- comparison -----------------------------------------------------------------------------------
def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=RTOL, abs_tol=1e-9)


def _compare(
    engine_rows: list[dict[str, Any]],
    base_rows: list[dict[str, Any]],
    key: tuple[str, ...],
    columns: tuple[str, ...],
) -> dict[str, Any]:
    """Compare ``columns`` on the keys both sides cover; count and show the first mismatches."""
    eng = {tuple(r[k] for k in key): r for r in engine_rows}
    base = {tuple(r[k] for k in key): r for r in base_rows}
    common = sorted(set(eng) & set(base))
    bad = []
    for k in common:
        for c in columns:
            if not _close(eng[k].get(c), base[k].get(c)):
                bad.append(
                    {
                        "key": list(k),
                        "column": c,
                        "engine": eng[k].get(c),
                        "baseline": base[k].get(c),
                    }
                )
    return {
        "compared": len(common),
        "only_engine": len(set(eng) - set(base)),
        "only_baseline": len(set(base) - set(eng)),
        "mismatches": len(bad),
        "first_mismatches": bad[:3],
    }


def compare(engine_file: Path, baseline_file: Path) -> dict[str, Any]:
    e = json.loads(engine_file.read_text())
    b = json.loads(baseline_file.read_text())
    money = ("mrr", "new", "expansion", "contraction", "churn", "reactivation")
    counts = (
        "customers",
        "new_customers",
        "expansion_customers",
        "contraction_customers",
        "churned_customers",
        "reactivated_customers",
    )
    required = {
        "mrr_and_movements": _compare(
            e["mrr_movements"], b["movements"], ("month",), money + counts + ("mrr_previous",)
        ),
        "logo_churn": _compare(
            e["retention"], b["movements"], ("month",), ("logo_churn_rate", "churned_customers")
        ),
    }
    extra = {
        "rates": _compare(
            e["mrr_movements"],
            b["movements"],
            ("month",),
            (
                "arpa",
                "gross_mrr_churn_rate",
                "net_mrr_churn_rate",
                "nrr_monthly",
                "grr_monthly",
                "quick_ratio",
            ),
        ),
        "trailing_nrr_grr": _compare(
            [r for r in e["retention"] if r.get("nrr_t12m") is not None],
            b["trailing"],
            ("month",),
            ("nrr_t12m", "grr_t12m"),
        ),
        "cohorts": _compare(
            e["cohorts"],
            b["cohorts"],
            ("cohort", "age"),
            ("customers", "mrr", "logo_retention", "revenue_retention"),
        ),
        "revenue": _compare(e["revenue"], b["revenue"], ("month",), ("revenue",)),
        "trial_conversion": _compare(
            e["trial_conversion"], b["conversion"], ("month",), ("trials", "converted")
        ),
        "ltv": _compare(e["ltv"], b["movements"], ("month",), ("ltv",)),
    }
    ok = all(r["mismatches"] == 0 and r["compared"] > 0 for r in required.values())
    return {
        "match": ok,
        "required": required,
        "extra_match": all(r["mismatches"] == 0 for r in extra.values()),
        "extra": extra,
    }


# -- driver ---------------------------------------------------------------------------------------
def _child(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    try:
        return subprocess.run(
            [sys.executable, "-m", "benchmarks.metrics_suite", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, -9, "", f"timed out after {timeout:.0f} s")


def _last_error(child: subprocess.CompletedProcess[str]) -> str:
    lines = (child.stderr or "").strip().splitlines()
    return lines[-1] if lines else f"exit code {child.returncode}"


def _result(child: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    if child.returncode:
        return {"error": _last_error(child)}
    return json.loads(child.stdout.strip().splitlines()[-1])


def _emit(record: dict[str, Any]) -> dict[str, Any]:
    print(json.dumps(record), flush=True)
    return record


def spark_run(
    common: dict[str, Any], home: Path, tmp: Path, duckdb: dict[int, tuple[float, Path]]
) -> list[dict[str, Any]]:
    """The engine on Spark (local mode) over the same home, with each failed-payment rule DuckDB
    ran with (``duckdb``: days -> DuckDB's seconds and figures file); the figures compared."""
    records = []
    for days, (seconds, duckdb_file) in duckdb.items():
        spark_file = tmp / f"engine-spark-{days}.json"
        child = _child(
            "--engine", str(home), "--out", str(spark_file), "--warehouse", SPARK_URL,
            "--days", str(days), timeout=SPARK_TIMEOUT,
        )  # fmt: skip
        record = _emit(
            {
                **common,
                "impl": "revintel-pyspark",
                "warehouse_url": SPARK_URL,
                "delinquency_days": days,
                **_result(child),
                "duckdb_seconds": seconds,
            }
        )
        records.append(record)
        if "seconds" in record and duckdb_file.exists():
            duck, spark = json.loads(duckdb_file.read_text()), json.loads(spark_file.read_text())
            check = {**common, "check": "spark_equals_duckdb", "delinquency_days": days}
            records.append(_emit({**check, "rtol": RTOL, **same_figures(duck, spark)}))
    return records


def same_figures(duck: dict[str, Any], spark: dict[str, Any]) -> dict[str, Any]:
    """Every field of every row of each result, DuckDB's against Spark's (rows by their keys)."""
    keys = ("month", "cohort", "age", "channel", "acquisition_channel")
    out: dict[str, Any] = {}
    for name, rows in duck.items():
        other = spark.get(name, [])
        key = tuple(k for k in keys if rows and k in rows[0])
        columns = tuple(c for c in (rows[0] if rows else {}) if c not in key)
        out[name] = _compare(rows, other, key, columns)
        out[name]["rows"] = [len(rows), len(other)]
    match = all(
        r["mismatches"] == 0 and r["only_engine"] == 0 and r["only_baseline"] == 0
        for r in out.values()
    )
    return {"match": match, "results": out}


def run(
    sizes: list[int] | None = None, months: int = 36, spark: bool = False
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    baseline_100k: float | None = None
    for customers in sizes or DEFAULT_SIZES:
        common = {"benchmark": "metrics_suite", "customers": customers, "months": months}
        with tempfile.TemporaryDirectory(prefix="revintel-bench-metrics-") as tmp:
            data, home = Path(tmp) / "data", Path(tmp) / "home"
            made = _child(
                "--prepare",
                str(customers),
                "--months",
                str(months),
                "--data",
                str(data),
                "--home",
                str(home),
            )
            if made.returncode:
                records.append(_emit({**common, "error": "prepare: " + _last_error(made)}))
                continue
            prepared = _result(made)
            eng_file, base_file = Path(tmp) / "engine.json", Path(tmp) / "baseline.json"
            default_file = Path(tmp) / "engine-default.json"
            eng = {
                **common,
                "impl": "revintel-duckdb",
                "delinquency_days": 30,
                **_result(_child("--engine", str(home), "--out", str(default_file))),
                "target_seconds": TARGET_SECONDS,
                "rows": prepared.get("rows"),
            }
            if "seconds" in eng and customers == 1_000_000 and months == 36:
                eng["within_target"] = eng["seconds"] <= TARGET_SECONDS
            records.append(_emit(eng))
            eng_off = _emit(
                {
                    **common,
                    "impl": "revintel-duckdb",
                    "delinquency_days": NO_DELINQUENCY,
                    "note": "failed-payment rule off, as in the baseline",
                    **_result(
                        _child(
                            "--engine",
                            str(home),
                            "--days",
                            str(NO_DELINQUENCY),
                            "--out",
                            str(eng_file),
                        )
                    ),
                }
            )
            records.append(eng_off)
            if spark:
                ran = {30: (eng, default_file), NO_DELINQUENCY: (eng_off, eng_file)}
                duckdb = {d: (r["seconds"], f) for d, (r, f) in ran.items() if "seconds" in r}
                records += spark_run(common, home, Path(tmp), duckdb)
            skip = (
                customers > 100_000
                and baseline_100k is not None
                and baseline_100k > BASELINE_SKIP_AFTER
            )
            if skip:
                records.append(
                    _emit(
                        {
                            **common,
                            "impl": "pandas+sqlite",
                            "skipped": True,
                            "note": f"100k baseline took {baseline_100k:.0f} s "
                            f"> {BASELINE_SKIP_AFTER:.0f} s",
                        }
                    )
                )
                continue
            base = _emit(
                {
                    **common,
                    "impl": "pandas+sqlite",
                    "delinquency_days": None,
                    **_result(
                        _child(
                            "--baseline",
                            str(data),
                            "--out",
                            str(base_file),
                            timeout=BASELINE_TIMEOUT,
                        )
                    ),
                }
            )
            records.append(base)
            if customers == 100_000 and "seconds" in base:
                baseline_100k = base["seconds"]
            if "seconds" in base and "seconds" in eng_off:
                check = {
                    **common,
                    "check": "baseline_equals_engine",
                    "rtol": RTOL,
                    **compare(eng_file, base_file),
                }
                records.append(_emit(check))
                records.append(
                    _emit(
                        {
                            **common,
                            "ratio": round(base["seconds"] / eng_off["seconds"], 1),
                            "ratio_vs_default_engine": (
                                round(base["seconds"] / eng["seconds"], 1)
                                if "seconds" in eng
                                else None
                            ),
                            "target_ratio": TARGET_RATIOS.get(customers),
                            **(
                                {
                                    "within_target": base["seconds"] / eng_off["seconds"]
                                    >= TARGET_RATIOS[customers]
                                }
                                if customers in TARGET_RATIOS and months == 36
                                else {}
                            ),
                            "numbers_match": check["match"],
                        }
                    )
                )
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks metrics_suite",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", help="comma-separated customer counts (default 100k,1M)")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument(
        "--spark", action="store_true", help=f"also run the engine on Spark ({SPARK_URL})"
    )
    parser.add_argument("--warehouse", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--engine", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--days", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare is not None:
        print(json.dumps(prepare(args.prepare, args.months, args.data, args.home)), flush=True)
        return 0
    if args.engine is not None:
        print(json.dumps(engine(args.engine, args.days, args.out, args.warehouse)), flush=True)
        return 0
    if args.baseline is not None:
        print(json.dumps(baseline(args.baseline, args.out)), flush=True)
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else None
    records = run(sizes, args.months, args.spark)
    failed = any("error" in r for r in records) or any(
        r.get("check") and not r.get("match") for r in records
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: pipeline data at scale. A fast numpy writer of deals, their history and activities
(1M deals, 5M history rows, 10M activities by default) to Parquet, then timings of what exists:
the load of those files, a CRM export of the same deals loaded through the Maven mapping, and the
pipeline queries (data as of, learned stage probabilities, open pipeline by stage, win rate by
owner, activities per deal). Prints one JSON line:

    uv run --group test python -m benchmarks pipeline [--deals 1000000] [--open-deals N]
        [--span-days 1095] [--history-per-deal 5] [--activities-per-deal 10] [--keep DIR]
        [--skip-mapped] [--warehouse-url URL] [--steps a,b]

Issue 21's sizes (1M open deals to score, 200k closed to train on, 24 monthly snapshots to
backtest): ``--deals 1200000 --open-deals 1000000 --span-days 760 --skip-mapped``. Each step's
figures (seconds, rows per second, peak memory, target) are also printed to stderr as it ends.
Figures and targets: docs/pipeline.md, Speed.

``--write-only DIR`` writes the files and exits (for other benchmarks and manual runs). The data
is shaped like a CRM's, not planted: every deal walks the open stages in order, closed ones end
won or lost, every history row is dated after the previous one; values are random. Each step is
timed with the wall clock in this process; ``peak_rss_mb`` is the process's peak memory. The
queries are the steps of :data:`QUERY_STEPS`: a capability's service is timed by adding one.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
MAVEN_MAPPING = ROOT / "examples" / "mappings" / "maven-crm.toml"
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
START = np.datetime64("2023-01-01")
SPAN_DAYS = 3 * 365
OWNERS = 200
OPEN_RECENT_DAYS = 60
ROW_GROUP_ROWS = 122_880  # as the importer writes (DuckDB's row group size)


def _ids(prefix: str, n: int, offset: int = 0) -> pa.Array:
    numbers = pc.cast(pa.array(np.arange(offset, offset + n, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, numbers, "")


def _pick(
    rng: np.random.Generator, values: list[str], n: int, p: list[float] | None = None
) -> pa.Array:
    codes = rng.choice(len(values), size=n, p=p).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(values)).cast(pa.string())


def _days(values: np.ndarray) -> pa.Array:
    return pa.array((START + values.astype("timedelta64[D]")).astype("datetime64[D]"))


def _write(table: pa.Table, contract_name: str, path: Path) -> None:
    """Write ``table`` in the warehouse's storage schema (absent contract columns as nulls)."""
    from revintel.data.schema import CONTRACTS

    schema = CONTRACTS[contract_name].arrow_schema()
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    pq.write_table(
        pa.Table.from_arrays(columns, schema=schema), path, row_group_size=ROW_GROUP_ROWS
    )


def write_scale_data(
    out: Path,
    *,
    deals: int = 1_000_000,
    history_per_deal: int = 5,
    activities_per_deal: int = 10,
    seed: int = 7,
    open_deals: int | None = None,
    span_days: int = SPAN_DAYS,
) -> dict[str, int]:
    """Write deals.parquet, deal_stage_history.parquet and deal_activities.parquet to ``out``.

    Each deal has exactly ``history_per_deal`` history rows (≥ 5: its stages in order, then
    changes in its last open stage, then its close) and ``activities_per_deal`` activities on
    average. ``open_deals`` of the deals are still open (the others closed; by default about a
    quarter are open). Closed deals are created over ``span_days`` days from 2023-01-01; an open
    deal's last change falls in the :data:`OPEN_RECENT_DAYS` before the latest close. Returns
    the rows written per table.
    """
    if history_per_deal < 5:
        raise ValueError("history_per_deal must be at least 5 (four open stages and a close)")
    if open_deals is not None and not 0 <= open_deals <= deals:
        raise ValueError(f"open_deals must be between 0 and deals ({deals}), got {open_deals}")
    if span_days < 1:
        raise ValueError(f"span_days must be at least 1, got {span_days}")
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    n, k = deals, history_per_deal
    furthest = rng.choice(4, size=n, p=[0.35, 0.3, 0.2, 0.15])  # furthest open stage reached
    if open_deals is None:
        closed = rng.random(n) < 0.75
    else:
        closed = np.ones(n, dtype=bool)
        closed[rng.permutation(n)[:open_deals]] = False
    won = closed & (rng.random(n) < 0.2 + 0.15 * furthest)
    created = rng.integers(0, span_days, size=n)
    # History: row j of a deal is open stage j up to its furthest stage, then changes in that
    # stage, and for a closed deal a last row in its closing stage. Dates strictly increase.
    j = np.tile(np.arange(k), n)
    f = np.repeat(furthest, k)
    c = np.repeat(closed, k)
    rank = np.minimum(j, f)
    gaps = rng.integers(1, 21, size=n * k)
    gaps[j == 0] = 0
    # An open deal was last changed in the OPEN_RECENT_DAYS before the data's end (a CRM's open
    # pipeline is worked on); closed deals are created over the whole span.
    life = gaps.reshape(n, k).sum(axis=1)
    end = span_days - 1 + 20 * (k - 1)  # the latest a closed deal can end
    still_open = ~closed
    last_change = end - rng.integers(0, OPEN_RECENT_DAYS, size=int(still_open.sum()))
    created[still_open] = np.maximum(0, last_change - life[still_open])
    entered = np.repeat(created, k) + np.cumsum(gaps.reshape(n, k), axis=1).ravel()
    stage_names = np.array([*OPEN_STAGES, "Closed Won", "Closed Lost"], dtype=object)
    last = j == k - 1
    stage_code = np.where(last & c, np.where(np.repeat(won, k), 4, 5), rank)
    amount = np.round(rng.lognormal(9.5, 1.0, size=n), 2)
    drift = np.exp(rng.normal(0, 0.05, size=n * k)).round(3)
    history = pa.table(
        {
            "deal_id": pc.take(_ids("D", n), pa.array(np.repeat(np.arange(n), k))),
            "stage": pa.DictionaryArray.from_arrays(
                pa.array(stage_code.astype(np.int32)), pa.array(list(stage_names))
            ).cast(pa.string()),
            "entered_at": _days(entered),
            "amount": pa.array(np.round(np.repeat(amount, k) * drift, 2)),
            "expected_close_date": _days(entered + rng.integers(20, 120, size=n * k)),
            "forecast_category": _pick(rng, ["Pipeline", "Best Case", "Commit"], n * k),
        }
    )
    ends = entered.reshape(n, k)[:, -1]
    deal_stage = np.where(closed, np.where(won, 4, 5), furthest)
    expected = ends + rng.integers(10, 90, size=n)
    deals_table = pa.table(
        {
            "deal_id": _ids("D", n),
            "account_name": _pick(rng, [f"Prospect {i}" for i in range(5_000)], n),
            "owner": _pick(rng, [f"Rep {i}" for i in range(OWNERS)], n),
            "stage": pa.DictionaryArray.from_arrays(
                pa.array(deal_stage.astype(np.int32)), pa.array(list(stage_names))
            ).cast(pa.string()),
            "amount": pa.array(amount),
            "created_date": _days(created),
            "expected_close_date": _days(expected),
            "closed_date": pa.array(
                np.where(
                    closed, START + ends.astype("timedelta64[D]"), np.datetime64("NaT")
                ).astype("datetime64[D]")
            ),
            "deal_type": _pick(rng, ["New Business", "Expansion", "Renewal"], n, [0.6, 0.25, 0.15]),
            "segment": _pick(rng, ["SMB", "Mid-Market", "Enterprise"], n, [0.5, 0.3, 0.2]),
            "lead_source": _pick(rng, ["Inbound", "Outbound", "Partner", "Event"], n),
            "competitor": _pick(rng, ["", "Acme", "Globex", "Initech"], n, [0.5, 0.2, 0.2, 0.1]),
            "has_champion": pa.array(rng.random(n) < 0.5),
            "budget_confirmed": pa.array(rng.random(n) < 0.5),
            "decision_maker_engaged": pa.array(rng.random(n) < 0.5),
            "seats": pa.array(rng.integers(5, 500, size=n)),
            "product": _pick(rng, ["Basic", "Pro", "Enterprise"], n),
        }
    )
    deals_table = deals_table.set_column(
        deals_table.schema.get_field_index("competitor"),
        "competitor",
        pc.if_else(pc.equal(deals_table["competitor"], ""), None, deals_table["competitor"]),
    )
    # Activities: spread over the deals, each between a deal's creation and its last change.
    m = n * activities_per_deal
    owner = rng.integers(0, n, size=m)
    life = (ends - created)[owner]
    at_day = created[owner] + (rng.random(m) * (life + 1)).astype(np.int64)
    seconds = rng.integers(8 * 3600, 19 * 3600, size=m)
    at = (START + at_day.astype("timedelta64[D]")).astype("datetime64[us]") + seconds.astype(
        "timedelta64[s]"
    )
    activities = pa.table(
        {
            "activity_id": _ids("A", m),
            "deal_id": pc.take(_ids("D", n), pa.array(owner)),
            "activity_at": pa.array(at),
            "kind": _pick(rng, ["email", "call", "meeting", "note"], m, [0.5, 0.2, 0.2, 0.1]),
            "direction": _pick(rng, ["inbound", "outbound"], m),
        }
    )
    with ThreadPoolExecutor(max_workers=3) as pool:  # Parquet encoding releases the GIL
        written = [
            pool.submit(_write, deals_table, "deals", out / "deals.parquet"),
            pool.submit(_write, history, "deal_stage_history", out / "deal_stage_history.parquet"),
            pool.submit(_write, activities, "deal_activities", out / "deal_activities.parquet"),
        ]
        for future in written:
            future.result()
    return {"deals": n, "deal_stage_history": n * k, "deal_activities": m}


def write_maven_export(out: Path, *, deals: int, seed: int = 7) -> int:
    """A CRM export in the layout of Maven's sample (sales_pipeline.csv, products.csv,
    accounts.csv), for the Maven mapping."""
    import polars as pl

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    products = {"GTX Basic": 550, "GTX Pro": 4821, "MG Special": 55, "GTK 500": 26768}
    pl.DataFrame(
        {
            "product": list(products),
            "series": ["GTX", "GTX", "MG", "GTK"],
            "sales_price": list(products.values()),
        }
    ).write_csv(out / "products.csv")
    stage = rng.choice(
        np.array(["Prospecting", "Engaging", "Won", "Lost"]), size=deals, p=[0.06, 0.18, 0.48, 0.28]
    )
    engage = START + rng.integers(0, SPAN_DAYS, size=deals).astype("timedelta64[D]")
    close = engage + rng.integers(1, 140, size=deals).astype("timedelta64[D]")
    names = np.array(list(products))
    price = np.array(list(products.values()))
    pick = rng.integers(0, len(names), size=deals)
    accounts = [f"Account {i}" for i in range(85)]
    pl.DataFrame(
        {"account": accounts, "employees": rng.integers(10, 30_000, size=len(accounts))}
    ).write_csv(out / "accounts.csv")
    frame = pl.DataFrame(
        {
            "opportunity_id": pl.Series(_ids("O", deals).to_numpy(zero_copy_only=False)),
            "sales_agent": rng.choice(np.array([f"Agent {i}" for i in range(35)]), size=deals),
            "product": names[pick],
            "account": rng.choice(np.array(accounts), size=deals),
            "deal_stage": stage,
            "engage_date": engage,
            "close_date": close,
            "close_value": np.round(price[pick] * rng.uniform(0.9, 1.1, size=deals)).astype(int),
        }
    ).with_columns(
        engage_date=pl.when(pl.col("deal_stage") == "Prospecting")
        .then(None)
        .otherwise(pl.col("engage_date")),
        close_date=pl.when(pl.col("deal_stage").is_in(["Won", "Lost"])).then(pl.col("close_date")),
        close_value=pl.when(pl.col("deal_stage") == "Won")
        .then(pl.col("close_value"))
        .when(pl.col("deal_stage") == "Lost")
        .then(0),
    )
    frame.write_csv(out / "sales_pipeline.csv")
    return deals


def _timed(steps: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = fn()
    steps[name] = round(time.perf_counter() - started, 3)
    return result


class PeakRss:
    """The peak resident memory of this process while the block runs, in MiB, sampled every
    10 ms from ``/proc/self/statm`` (elsewhere the process's peak so far)."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def now_mb() -> float:
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            return _peak_rss_mb()
        return pages * resource.getpagesize() / 2**20

    def _sample(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, self.now_mb())
            if self._stop.wait(0.01):
                return

    def __enter__(self) -> PeakRss:
        self.peak_mb = self.now_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self.now_mb())


# The timed steps over the loaded warehouse, in order: name -> function of (ctx, tables, as_of)
# returning what it handled: ``rows`` (the rows per second are computed from it) and any other
# figures worth reporting. Before each step every result cache of the services is emptied, so each
# is timed cold, as the first request after a load (DuckDB's files may be in the OS page cache),
# except the forecast service's point-in-time base (the pipeline rebuilt at every month-start):
# the ``forecast_snapshots`` step builds it cold and the forecast steps after it reuse it, so each
# of them reports ``seconds`` (base cached) and ``cold_seconds`` (+ the snapshots' time), and its
# target is judged on ``cold_seconds``. A capability's service is timed by adding its step here; a
# step whose module is not on this branch is reported as skipped.
StepOutput = dict[str, Any]
QuerySteps = dict[str, Callable[[Any, Any, date], StepOutput]]

TARGETS: dict[str, float] = {
    "pipeline_summary": 2.0,
    "stage_weighted_forecast": 2.0,
    "backtest": 20.0,
    "train_close_probability": 60.0,
    "deal_health": 15.0,
    "close_probability_scoring": 15.0,
}
"""Issue 21's speed targets (seconds, on DuckDB): summary and stage-weighted forecast ≤ 2 s cold,
the backtest over 24 monthly snapshots ≤ 20 s, training on 200k closed deals ≤ 60 s, scoring
1M open deals ≤ 15 s (health and close probability each held to it)."""


def _count(wh: Any, table: Any) -> int:
    return int(wh.to_arrow(table.count()).as_py())


def _stage_probabilities(ctx: Any, t: Any, as_of: date) -> StepOutput:
    from revintel.pipeline.stages import learned_stage_probabilities

    ctx.warehouse.to_arrow(learned_stage_probabilities(t.deals, t.history, as_of=as_of))
    return {"rows": _count(ctx.warehouse, t.history)}


def _open_by_stage(ctx: Any, t: Any, as_of: date) -> StepOutput:
    d = t.deals
    open_deals = d.filter(~d.stage.isin(["Closed Won", "Closed Lost"]))
    out = ctx.warehouse.to_arrow(
        open_deals.group_by("stage").aggregate(
            deals=open_deals.count(), amount=open_deals.amount.sum()
        )
    )
    return {"rows": _count(ctx.warehouse, d), "open_deals": int(pc.sum(out["deals"]).as_py())}


def _win_rate_by_owner(ctx: Any, t: Any, as_of: date) -> StepOutput:
    import ibis

    closed = t.deals.filter(t.deals.stage.isin(["Closed Won", "Closed Lost"]))
    out = ctx.warehouse.to_arrow(
        closed.group_by("owner").aggregate(
            closed=closed.count(),
            won=ibis.cases((closed.stage == "Closed Won", 1), else_=0).sum(),
        )
    )
    return {
        "rows": _count(ctx.warehouse, t.deals),
        "closed_deals": int(pc.sum(out["closed"]).as_py()),
    }


def _activities_per_deal(ctx: Any, t: Any, as_of: date) -> StepOutput:
    a = t.activities
    per_deal = a.group_by("deal_id").aggregate(n=a.count(), last=a.activity_at.max())
    ctx.warehouse.to_arrow(per_deal.aggregate(deals=per_deal.count(), mean=per_deal.n.mean()))
    return {"rows": _count(ctx.warehouse, a)}


def _pipeline_summary(ctx: Any, t: Any, as_of: date) -> StepOutput:
    """The headline figures (``revintel pipeline summary``, the Pipeline page's tiles)."""
    from revintel.pipeline.service.analytics import summary

    s = summary(ctx)
    return {"rows": _count(ctx.warehouse, t.deals), "open_deals": s.deal_count}


def _stage_weighted_forecast(ctx: Any, t: Any, as_of: date) -> StepOutput:
    """Stage probability × amount of the open deals expected to close within 90 days."""
    from revintel.pipeline.service.analytics import scope, weighted_forecast_90d

    s = scope(ctx)
    value = weighted_forecast_90d(s)
    rounded = None if value is None else round(value, 2)  # None: no open deal has a close date
    return {"rows": _count(ctx.warehouse, t.deals), "weighted_forecast_90d": rounded}


def _deal_health(ctx: Any, t: Any, as_of: date) -> StepOutput:
    """Health of every open deal with its close probability (``revintel pipeline deals``,
    ``GET /deals``)."""
    from revintel.pipeline.service.deals import list_deals

    scored = list_deals(ctx).deals
    return {
        "rows": scored.height,
        "open_deals_scored": scored.height,
        "critical": int((scored["health_category"] == "critical").sum()),
    }


def _at_risk_alerts(ctx: Any, t: Any, as_of: date) -> StepOutput:
    """At-risk alerts at the settings' minimum value, cold: the open deals are scored first."""
    from revintel.pipeline.service.deals import at_risk

    alerts = at_risk(ctx)
    open_deals = _count(
        ctx.warehouse, t.deals.filter(~t.deals.stage.isin(["Closed Won", "Closed Lost"]))
    )
    return {
        "rows": open_deals,
        "alerts": len(alerts.deals),
        "min_deal_value": alerts.min_deal_value,
    }


def _forecast_snapshots(ctx: Any, t: Any, as_of: date) -> StepOutput:
    """The point-in-time pipeline at every month-start and now, which the forecasts, the backtest
    and the training read (each of them builds it when it is not cached: timed on its own here
    to show its share)."""
    from revintel.pipeline.service import forecasts

    base = forecasts._base(ctx)  # the service's cached base: what a first forecast request builds
    return {
        "rows": sum(s.height for s in base.snaps.values()),
        "snapshots": len(base.snaps),
    }


def _monthly_forecast(ctx: Any, t: Any, as_of: date) -> StepOutput:
    """Every forecast method (stage-weighted, probability-weighted, categories, time series) for
    the next 6 months and 30/60/90 days, with intervals (``GET /forecast/monthly``)."""
    from revintel.pipeline.service.forecasts import monthly_forecast

    result = monthly_forecast(ctx)
    return {"rows": result.open_deals, "open_deals": result.open_deals}


def _backtest(ctx: Any, t: Any, as_of: date) -> StepOutput:
    """Every method at every month-start whose 90-day window has ended (``GET
    /forecast/backtest``)."""
    from revintel.pipeline.service.forecasts import backtest

    result = backtest(ctx)
    return {"rows": _count(ctx.warehouse, t.deals), "snapshots": result.snapshots}


def _train_close_probability(ctx: Any, t: Any, as_of: date) -> StepOutput:
    """The close-probability model on the closed deals, calibrated and held out (``revintel
    pipeline train``); saved in the home, so the scoring step after it uses it."""
    from revintel.pipeline.service.forecasts import train

    r = train(ctx)
    closed = r.train_deals + r.calibration_deals + r.test_deals
    return {
        "rows": closed,
        "closed_deals": closed,
        "train_deals": r.train_deals,
        "test_deals": r.test_deals,
        "roc_auc": r.roc_auc,
        "method": r.method,
    }


def _close_probability_scoring(ctx: Any, t: Any, as_of: date) -> StepOutput:
    """The saved model's close probability of every open deal (the deals table's column), cold:
    it reads the current snapshot only."""
    from revintel.pipeline.service.forecasts import open_deal_probabilities

    scored = open_deal_probabilities(ctx)
    return {"rows": scored.height, "open_deals_scored": scored.height}


SHARED_BASE = "pipeline.forecast.base"
"""The cache the forecast steps share (:data:`QUERY_STEPS`); built by ``forecast_snapshots``."""
USES_SHARED_BASE = ("backtest", "train_close_probability")

QUERY_STEPS: QuerySteps = {
    "stage_probabilities": _stage_probabilities,
    "open_by_stage": _open_by_stage,
    "win_rate_by_owner": _win_rate_by_owner,
    "activities_per_deal": _activities_per_deal,
    "pipeline_summary": _pipeline_summary,
    "stage_weighted_forecast": _stage_weighted_forecast,
    "forecast_snapshots": _forecast_snapshots,
    "backtest": _backtest,
    "train_close_probability": _train_close_probability,
    "close_probability_scoring": _close_probability_scoring,
    # After training: the deals table carries the saved model's close probability (without a
    # saved model it would fit one on every month-start's snapshot first).
    "deal_health": _deal_health,
    "at_risk_alerts": _at_risk_alerts,
}
OPTIONAL_STEPS: QuerySteps = {"monthly_forecast": _monthly_forecast}
"""Timed only when named in ``only`` (``--steps``): at 1M open deals the monthly forecast's
simulation held 18.6 GB and had not finished after 3.5 min (docs/pipeline.md, Speed)."""


def _clear_caches(keep: str | None = None) -> None:
    """Empty every service result cache but the one named ``keep``."""
    from revintel.warehouse import cache

    for c in list(cache._REGISTRY):
        if c.name != keep:
            c.clear()


def run_step(
    name: str, step: Callable[[], StepOutput], *, base_seconds: float | None = None
) -> dict[str, Any]:
    """Time one step cold (service caches emptied) with its peak memory; with ``base_seconds``
    the forecast base stays cached and ``cold_seconds`` adds its build time. A step whose module
    is missing is skipped, one the service refuses (a :class:`RevintelError`) reports its
    message."""
    from revintel.core.errors import RevintelError

    _clear_caches(keep=SHARED_BASE if base_seconds is not None else None)
    figures: dict[str, Any] = {"step": name}
    started = time.perf_counter()
    try:
        with PeakRss() as memory:
            output = step()
    except ImportError as exc:
        return {**figures, "skipped": f"not on this branch ({exc})"}
    except RevintelError as exc:
        output = {"error": str(exc)}
    seconds = time.perf_counter() - started
    figures["seconds"] = round(seconds, 3)
    rows = output.pop("rows", None)
    if rows is not None:
        figures["rows"] = rows
        figures["rows_per_second"] = round(rows / seconds) if seconds > 0 else None
    figures["peak_rss_mb"] = round(memory.peak_mb, 1)
    cold = seconds
    if base_seconds is not None:
        cold = seconds + base_seconds
        figures["cold_seconds"] = round(cold, 3)
    if name in TARGETS:
        figures["target_seconds"] = TARGETS[name]
        figures["met"] = "error" not in output and cold <= TARGETS[name]
    figures.update(output)
    print(json.dumps(figures), file=sys.stderr, flush=True)  # progress, kept if the run is cut
    return figures


def measure(
    data: Path,
    home: Path,
    export: Path | None,
    warehouse_url: str | None = None,
    only: list[str] | None = None,
) -> dict[str, Any]:
    """Time the load of ``data`` into ``home`` and :data:`QUERY_STEPS` (those named in ``only``
    when given); then (with ``export``) a mapped load of that CRM export into a second home."""
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_mapped, load_paths
    from revintel.core.config import Settings
    from revintel.pipeline.frames import data_as_of, deal_tables

    steps: dict[str, float] = {}
    ctx = AppContext(Settings(home=home, warehouse_url=warehouse_url, database_url=None))
    ctx.store  # noqa: B018 - open and migrate the app database before the clock starts
    with PeakRss() as load_memory:
        result = _timed(steps, "load_seconds", lambda: load_paths(ctx, [data], source="benchmark"))
    wh = ctx.warehouse
    tables = deal_tables(wh)
    as_of = _timed(steps, "data_as_of_seconds", lambda: data_as_of(wh, tables))
    figures = [
        {
            "step": "load",
            "seconds": steps["load_seconds"],
            "rows": sum(result.tables.values()),
            "rows_per_second": round(sum(result.tables.values()) / steps["load_seconds"]),
            "peak_rss_mb": round(load_memory.peak_mb, 1),
        }
    ]
    print(json.dumps(figures[0]), file=sys.stderr, flush=True)
    chosen = {**QUERY_STEPS, **{n: f for n, f in OPTIONAL_STEPS.items() if only and n in only}}
    for name, step in chosen.items():
        if only is not None and name not in only:
            continue
        base = steps.get("forecast_snapshots_seconds") if name in USES_SHARED_BASE else None
        row = run_step(name, functools.partial(step, ctx, tables, as_of), base_seconds=base)
        figures.append(row)
        if "seconds" in row:
            steps[f"{name}_seconds"] = row["seconds"]
    ctx.close()
    record: dict[str, Any] = {
        "warehouse": wh.kind,
        "rows": dict(result.tables),
        "as_of": as_of.isoformat() if isinstance(as_of, date) else str(as_of),
        "rows_per_second": round(sum(result.tables.values()) / steps["load_seconds"]),
        **steps,
        "steps": figures,
    }
    if export is not None:
        mapped_home = home.parent / "home-mapped"
        mctx = AppContext(Settings(home=mapped_home, warehouse_url=None, database_url=None))
        mctx.store  # noqa: B018
        mapped = _timed(
            steps,
            "mapped_load_seconds",
            lambda: load_mapped(mctx, export, MAVEN_MAPPING, source="benchmark"),
        )
        mctx.close()
        record["mapped_rows"] = dict(mapped.tables)
        record["mapped_load_seconds"] = steps["mapped_load_seconds"]
    return record


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def run(
    deals: int,
    history_per_deal: int,
    activities_per_deal: int,
    keep: Path | None,
    mapped: bool,
    warehouse_url: str | None = None,
    *,
    open_deals: int | None = None,
    span_days: int = SPAN_DAYS,
    only: list[str] | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="revintel-bench-pipeline-") as tmp:
        root = keep or Path(tmp)
        data, export = root / "data", root / "crm-export"
        steps: dict[str, float] = {}
        rows = _timed(
            steps,
            "write_seconds",
            lambda: write_scale_data(
                data,
                deals=deals,
                history_per_deal=history_per_deal,
                activities_per_deal=activities_per_deal,
                open_deals=open_deals,
                span_days=span_days,
            ),
        )
        if mapped:
            _timed(steps, "write_export_seconds", lambda: write_maven_export(export, deals=deals))
        record: dict[str, Any] = {
            "benchmark": "pipeline",
            "deals": deals,
            "open_deals": open_deals,
            "span_days": span_days,
            "written_rows": rows,
            "input_mb": round(sum(p.stat().st_size for p in data.iterdir()) / 2**20, 1),
            **steps,
        }
        record.update(measure(data, root / "home", export if mapped else None, warehouse_url, only))
        record["cpu_seconds"] = round(_cpu_seconds(), 1)  # of the whole run, this process
        record["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    print(json.dumps(record), flush=True)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks pipeline", description=__doc__)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument(
        "--open-deals",
        type=int,
        help="how many of the deals are open (default: about a quarter); the rest are closed",
    )
    parser.add_argument(
        "--span-days",
        type=int,
        default=SPAN_DAYS,
        help="deals are created over this many days from 2023-01-01",
    )
    parser.add_argument("--history-per-deal", type=int, default=5)
    parser.add_argument("--activities-per-deal", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="write the data here and keep it")
    parser.add_argument("--write-only", type=Path, help="only write the Parquet files here")
    parser.add_argument("--skip-mapped", action="store_true", help="no CRM-export mapped load")
    parser.add_argument(
        "--steps",
        help="comma-separated names of the steps to time (default: all of "
        + ", ".join(QUERY_STEPS)
        + "; "
        + ", ".join(OPTIONAL_STEPS)
        + " only when named)",
    )
    parser.add_argument(
        "--warehouse-url",
        help="load into this warehouse (duckdb:///file.db, postgresql://…) instead of the "
        "default Parquet files read through DuckDB",
    )
    args = parser.parse_args(argv)
    only = None
    if args.steps:
        only = [s.strip() for s in args.steps.split(",") if s.strip()]
        known = [*QUERY_STEPS, *OPTIONAL_STEPS]
        unknown = [s for s in only if s not in known]
        if unknown:
            parser.error(f"--steps: unknown {', '.join(unknown)}; expected {', '.join(known)}")
    if args.write_only:
        started, cpu = time.perf_counter(), _cpu_seconds()
        rows = write_scale_data(
            args.write_only,
            deals=args.deals,
            history_per_deal=args.history_per_deal,
            activities_per_deal=args.activities_per_deal,
            open_deals=args.open_deals,
            span_days=args.span_days,
        )
        seconds = round(time.perf_counter() - started, 2)
        cpu_seconds = round(_cpu_seconds() - cpu, 2)
        print(json.dumps({"written_rows": rows, "seconds": seconds, "cpu_seconds": cpu_seconds}))
        return 0
    run(
        args.deals,
        args.history_per_deal,
        args.activities_per_deal,
        args.keep,
        not args.skip_mapped,
        args.warehouse_url,
        open_deals=args.open_deals,
        span_days=args.span_days,
        only=only,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

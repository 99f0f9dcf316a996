"""`revintel demo`: make sure a demo company is generated and loaded."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from revintel.app.context import AppContext


def ensure_demo_data(
    ctx: AppContext,
    *,
    customers: int = 2000,
    months: int = 36,
    seed: int = 42,
    force: bool = False,
    echo: Callable[[str], object] = print,
) -> str:
    """Generate and load a demo company unless customers are already loaded (or ``force``).

    The generated files stay in ``REVINTEL_HOME/demo/`` so a user can open them and see the formats.
    """
    from revintel.app.ingest import load_paths
    from revintel.data.generator import generate_company, write_company

    if ctx.warehouse.has_table("customers") and not force:
        rows = ctx.warehouse.row_counts().get("customers", 0)
        return f"Data already loaded ({rows:,} customers); use --regenerate for a fresh demo."
    out = ctx.settings.home / "demo"
    if out.exists():
        shutil.rmtree(out)
    echo(f"Generating a demo company: {customers:,} customers over {months} months (seed {seed})…")
    company = generate_company(customers=customers, months=months, seed=seed)
    write_company(company, out, "parquet")
    echo(f"Loading it into {ctx.settings.warehouse_dir}…")
    result = load_paths(ctx, [out], source="demo")
    total = sum(result.tables.values())
    ctx.refresh()
    churn = train_demo_churn_models(ctx, echo=echo)
    deals = train_demo_close_probability(ctx, echo=echo)
    return f"Demo company loaded: {total:,} rows in {len(result.tables)} tables. {churn} {deals}"


def train_demo_close_probability(ctx: AppContext, *, echo: Callable[[str], object] = print) -> str:
    """Train and save the close-probability model on the demo's deals (docs/pipeline.md, Close
    probability), so the deal pages score open deals at once; a demo without enough closed deals
    is not an error."""
    from revintel.core.errors import RevintelError
    from revintel.pipeline.service import forecasts

    echo("Training the close-probability model…")
    try:
        r = forecasts.train(ctx)
    except RevintelError as exc:
        return f"No close-probability model ({exc})."
    oracle = f", oracle {r.oracle_auc:.3f}" if r.oracle_auc is not None else ""
    auc = f"{r.roc_auc:.3f}" if r.roc_auc is not None else "n/a"
    return f"Close-probability model trained (held-out ROC AUC {auc}{oracle})."


def train_demo_churn_models(ctx: AppContext, *, echo: Callable[[str], object] = print) -> str:
    """Train the 1- and 3-month churn models on the demo, apply the max-F1 threshold of the
    default-horizon model (3 months) and score every customer with it, so the churn pages have
    data at once.

    A demo too short or too small for a model (``--months`` under 13, or no churners in a split)
    is not an error: the churn pages then say how to train one.
    """
    from revintel.app import churn as app_churn
    from revintel.churn import service as churn
    from revintel.core.errors import RevintelError

    reports = []
    for horizon in (1, 3):
        echo(f"Training the {horizon}-month churn model…")
        try:
            reports.append(churn.train_warehouse_model(ctx, horizon, promote="always"))
        except RevintelError as exc:
            echo(f"  skipped: {exc}")
    if not reports:
        return "No churn model (the demo is too short or too small to train one)."
    # The default horizon's model when it could be trained, else the other one.
    chosen = max(reports, key=lambda r: r.horizon or 0).version
    try:
        churn.apply_threshold(ctx, method="max_f1", version=chosen)
    except RevintelError as exc:
        echo(f"  kept the default threshold: {exc}")
    run = app_churn.score_warehouse(ctx, chosen)
    aucs = ", ".join(f"{r.horizon}-month ROC AUC {r.metrics['roc_auc']:.3f}" for r in reports)
    return f"Churn models trained ({aucs}, held out); {run.scored:,} customers scored."

"""`revintel demo`: make sure a demo company is generated and loaded."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from revintel.context import AppContext


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
    from revintel.data.generator import generate_company, write_company
    from revintel.data.loading import load_paths

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
    return f"Demo company loaded: {total:,} rows in {len(result.tables)} tables."

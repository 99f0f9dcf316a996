"""The dashboard's server process: ``python -m revintel.ui.server <streamlit run args>``.

Streamlit runs every page script inside this process, so the modules the pages import and the
per-snapshot caches of the services are shared by all sessions. Importing them, and scoring the
latest month's account health, before the server accepts its first visitor spares that visitor
several seconds (pandas, pandera, SQLAlchemy and Ibis imports; the first warehouse queries).
"""

from __future__ import annotations

import sys
import threading
from contextlib import suppress


def _warm_caches() -> None:
    """Fill the per-snapshot service caches for the data loaded now (best effort)."""
    try:
        from revintel.context import AppContext
        from revintel.errors import RevintelError
        from revintel.health import service as health

        ctx = AppContext()
        try:
            if ctx.warehouse.has_table("customers"):
                # No health tables or no predictions is not an error: the pages say so.
                for warm in (health.score_month, _warm_churn):
                    with suppress(RevintelError):
                        warm(ctx)
        finally:
            ctx.close()
    except Exception as exc:  # a warm-up failure must never stop the dashboard
        print(f"revintel: cache warm-up skipped: {exc}", file=sys.stderr)


def _warm_churn(ctx) -> None:
    """The latest predictions and the production model (High-Risk, Customer Lookup)."""
    from revintel.churn import service as churn

    frame = churn.current_predictions(ctx)
    versions = frame["model_version"].drop_nulls().unique().to_list()
    for version in versions:
        churn.model(ctx, version)


def main(argv: list[str]) -> None:
    # The heavy imports every page needs (pandas, pandera, polars, Ibis, DuckDB, SQLAlchemy),
    # done once before the first session. Page modules themselves use st.cache_data, which wants
    # Streamlit's runtime, so they are left to the first run.
    import revintel.churn.service
    import revintel.forecast.service
    import revintel.health.service
    import revintel.metrics.service
    import revintel.store  # noqa: F401

    threading.Thread(target=_warm_caches, name="revintel-warm-up", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])

"""On the demo company exactly as ``revintel demo`` makes it, the data-driven models recover the
channel effects the generator planted (docs/attribution.md, On the demo company), and last touch
does not.

Planted shares: ``truth/attribution_truth`` (the generator's own first-order chain, solved
exactly): ``true_share`` is each channel's removal effect normalised to 1, ``shapley_share`` the
Shapley value of the true game v(S) = P(sign-up | only the channels in S). The planted conversion
is the sign-up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from revintel.app.context import AppContext
from revintel.attribution.service.report import ReportRequest, report
from tests.conftest import isolated_settings


@pytest.fixture(scope="module")
def recovered(demo_churn_home: Path) -> tuple[pl.DataFrame, dict[str, dict[str, float]]]:
    truth = pl.read_parquet(demo_churn_home / "demo" / "truth" / "attribution_truth.parquet")
    ctx = AppContext(isolated_settings(demo_churn_home))
    try:
        result = report(
            ctx,
            ReportRequest(models=("last_touch", "markov", "shapley"), conversion_type="signup"),
        )
    finally:
        ctx.close()
    shares: dict[str, dict[str, float]] = {}
    for row in result.rows:
        shares.setdefault(row.model, {})[row.channel] = row.share
    return truth, shares


def _compare(truth: pl.DataFrame, shares: dict[str, float], column: str) -> tuple[float, float]:
    planted = np.array(truth[column].to_list())
    got = np.array([shares.get(c, 0.0) for c in truth["channel"]])
    return float(spearmanr(planted, got).statistic), float(np.abs(planted - got).max())


def test_markov_and_shapley_recover_the_planted_shares_and_last_touch_does_not(
    recovered: tuple[pl.DataFrame, dict[str, dict[str, float]]],
) -> None:
    truth, shares = recovered
    rho, worst = _compare(truth, shares["markov"], "true_share")
    assert rho >= 0.9 and worst <= 0.05, (rho, worst)
    rho, worst = _compare(truth, shares["shapley"], "shapley_share")
    assert rho >= 0.9 and worst <= 0.05, (rho, worst)
    # Shapley against the removal-effect shares too (a different game, so a looser fit).
    rho, worst = _compare(truth, shares["shapley"], "true_share")
    assert rho >= 0.9, rho
    # Last touch misranks: it over-credits the closers and under-credits the openers.
    rho, worst = _compare(truth, shares["last_touch"], "true_share")
    assert rho < 0.9 and worst > 0.05, (rho, worst)

"""The weighted health score, tiers, playbooks and month-over-month change (pure, vectorised).

``score_accounts`` takes one row per account and month with the pillar inputs
(``revintel.health.pillars``) and returns the scored frame. Formulas: ``docs/health.md``
(Score, Tiers); defaults: ``metric-definitions.md`` (Health score).

* health = Σ weight × pillar ÷ Σ weight, over the pillars with data for that account and month; a
  pillar without data is left out and the other weights renormalised (Gainsight's NA treatment);
  the account is then marked ``partial``. Rounded to 0.1, and the tier is read off the rounded
  score, so a score shown as 70.0 is always Healthy.
* ``health_change`` = health(M) − health(M−1) when both exist.
"""

from __future__ import annotations

import polars as pl

from revintel.health.config import PILLARS, HealthConfig, Pillar
from revintel.health.pillars import engagement_pillar, sentiment_pillar, support_pillar
from revintel.health.playbooks import tier_expr, with_playbooks

BIG_DROP_POINTS = 20.0
"""A fall of at least this many points since last month is called out ("dropped 20 points")."""

INPUT_COLUMNS: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "month_idx": pl.Int64(),
    "month": pl.String(),
    "month_end": pl.Date(),
    "arr": pl.Float64(),
    "segment": pl.String(),
    "last_contact_date": pl.Date(),
    # engagement inputs
    "active_users": pl.Int64(),
    "licensed_seats": pl.Int64(),
    "logins": pl.Int64(),
    "key_feature_adoption": pl.Float64(),
    "logins_per_day": pl.Float64(),
    "prior_logins_per_day": pl.Float64(),
    "prior_months": pl.Int64(),
    # sentiment inputs
    "nps_score": pl.Int64(),
    "nps_date": pl.Date(),
    "nps_previous": pl.Int64(),
    "nps_responses": pl.Int64(),
    # support inputs
    "tickets": pl.Int64(),
    "tickets_low": pl.Int64(),
    "tickets_medium": pl.Int64(),
    "tickets_high": pl.Int64(),
    "tickets_urgent": pl.Int64(),
    "aged_open_tickets": pl.Int64(),
}


def with_input_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every input column (absent ones as nulls), cast to the input types."""
    missing = [
        pl.lit(None, dtype).alias(name)
        for name, dtype in INPUT_COLUMNS.items()
        if name not in frame.columns
    ]
    out = frame.with_columns(missing) if missing else frame
    return out.with_columns([pl.col(name).cast(dtype) for name, dtype in INPUT_COLUMNS.items()])


def weighted_score(frame: pl.DataFrame, weights: dict[Pillar, float]) -> pl.DataFrame:
    """Add ``health_score`` (renormalised over present pillars, 0.1 steps), ``partial`` and
    ``pillars_used``. A pillar with weight 0 neither counts nor makes the score partial."""
    used = [p for p in PILLARS if weights.get(p, 0.0) > 0]
    num = pl.sum_horizontal([pl.col(p).fill_null(0.0) * weights[p] for p in used])
    den = pl.sum_horizontal([pl.col(p).is_not_null().cast(pl.Float64) * weights[p] for p in used])
    present = pl.sum_horizontal([pl.col(p).is_not_null().cast(pl.Int64) for p in used])
    return frame.with_columns(
        health_score=pl.when(den > 0).then((num / den).round(1)).otherwise(None),
        partial=(present < len(used)) & (present > 0),
        pillars_used=present,
    )


def score_accounts(
    inputs: pl.DataFrame,
    config: HealthConfig,
    pillars: tuple[Pillar, ...] = PILLARS,
) -> pl.DataFrame:
    """Score every account-month row of ``inputs``.

    ``pillars`` names the pillars whose source table is loaded; the others are null for everyone
    (so every account is partial). Adds the pillar scores and their components, ``health_score``,
    ``partial``, ``tier``, ``days_since_contact``, ``silent``, ``playbook``, ``reason``,
    ``previous_score`` and ``health_change``.
    """
    frame = with_input_columns(inputs)
    frame = engagement_pillar(frame)
    frame = sentiment_pillar(frame, config)
    frame = support_pillar(frame, config)
    absent = [p for p in PILLARS if p not in pillars]
    if absent:
        frame = frame.with_columns([pl.lit(None, pl.Float64).alias(p) for p in absent])
    frame = weighted_score(frame, config.weights.as_dict())
    contact = (pl.col("month_end") - pl.col("last_contact_date")).dt.total_days()
    frame = frame.with_columns(
        tier=tier_expr(pl.col("health_score"), config),
        # A contact after the month's end (a snapshot read for a past month) is unknown then.
        days_since_contact=pl.when(contact >= 0).then(contact).otherwise(None),
    )
    frame = with_playbooks(frame, config)
    return with_change(frame)


def with_change(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``previous_score`` (the account's score the month before, if scored) and
    ``health_change``. Rows are ordered by account and month (sorted here if they are not)."""
    account, month = pl.col("account_id"), pl.col("month_idx")
    same = account == account.shift(1)
    ordered = frame.select(
        ((account > account.shift(1)) | (same & (month > month.shift(1)))).fill_null(True).all()
    ).item()
    if not ordered:
        frame = frame.sort(["account_id", "month_idx"])
    follows = (same & (month == month.shift(1) + 1)).fill_null(False)
    out = frame.with_columns(
        previous_score=pl.when(follows).then(pl.col("health_score").shift(1)).otherwise(None)
    )
    return out.with_columns(health_change=(pl.col("health_score") - pl.col("previous_score")))

"""Tiers and the four strategic playbooks of brief 000, each assignment with its reason in words.

Rules (``docs/health.md``, Playbooks; ``metric-definitions.md``, Health score), first match wins:

1. Critical and ARR ≥ ``high_value_arr`` ($250k) → Executive Sponsor Call;
2. Critical → Risk Mitigation Plan;
3. At Risk, or no contact for more than ``no_contact_days`` (90) days ("silent churn") →
   Strategy Session / QBR;
4. otherwise → Value Realization Report.

An account without any pillar data has no tier; it gets rule 3 when it is silent, else no playbook.
Everything is a polars expression, so 100k accounts take milliseconds.
"""

from __future__ import annotations

import polars as pl

from revintel.health.config import HealthConfig

UNSCORED_REASON = "No health data this month (no usage, NPS or ticket rows)"


def tier_expr(score: pl.Expr, config: HealthConfig) -> pl.Expr:
    """Healthy when ``score`` ≥ healthy_from, At Risk when ≥ at_risk_from, else Critical."""
    t = config.tiers
    return (
        pl.when(score.is_null())
        .then(pl.lit(None, pl.String))
        .when(score >= t.healthy_from)
        .then(pl.lit("Healthy"))
        .when(score >= t.at_risk_from)
        .then(pl.lit("At Risk"))
        .otherwise(pl.lit("Critical"))
    )


def money_text(value: float) -> str:
    """``$250,000`` (whole dollars)."""
    return f"${value:,.0f}"


def money_column(amounts: pl.Series) -> pl.Series:
    """:func:`money_text` of every amount (null stays null).

    Formats each distinct amount once (an account's ARR repeats across months), which is much
    faster than building the text with string expressions row by row.
    """
    distinct = amounts.drop_nulls().unique()
    texts = pl.Series([money_text(v) for v in distinct.to_list()], dtype=pl.String)
    return amounts.replace_strict(distinct, texts, default=None, return_dtype=pl.String)


def with_playbooks(frame: pl.DataFrame, config: HealthConfig) -> pl.DataFrame:
    """Add ``silent`` (no contact > no_contact_days), ``playbook`` and ``reason``.

    Needs ``tier``, ``health_score``, ``arr`` and ``days_since_contact`` (null when the last contact
    is unknown: an unknown contact never triggers rule 3).
    """
    limit = config.no_contact_days
    tiers = config.tiers
    tier = pl.col("tier")
    critical = tier == "Critical"
    high_value = pl.col("arr").fill_null(0.0) >= config.high_value_arr
    silent = (pl.col("days_since_contact") > limit).fill_null(False)
    threshold = money_text(config.high_value_arr)
    playbook = (
        pl.when(critical & high_value)
        .then(pl.lit("Executive Sponsor Call"))
        .when(critical)
        .then(pl.lit("Risk Mitigation Plan"))
        .when((tier == "At Risk").fill_null(False) | silent)
        .then(pl.lit("Strategy Session / QBR"))
        .when(tier.is_not_null())
        .then(pl.lit("Value Realization Report"))
        .otherwise(pl.lit(None, pl.String))
    )
    # The text pieces are computed once as columns; each reason then only concatenates them.
    out = frame.with_columns(
        silent=silent,
        playbook=playbook,
        _score=pl.col("health_score").round(1).cast(pl.String),
        _days=pl.col("days_since_contact").cast(pl.Int64).cast(pl.String),
    )
    # Only the executive call's reason names the ARR: it is why that playbook was chosen. A
    # Critical account below the threshold is there because it is Critical, not because of its ARR.
    exec_arr = out.select(
        pl.when(pl.col("playbook") == "Executive Sponsor Call").then(pl.col("arr").fill_null(0.0))
    )["arr"]
    out = out.with_columns(_arr=money_column(exec_arr))
    # The reason is a concatenation of pieces, each a cheap choice between literals; nulls are
    # skipped. (One when/then branch per full sentence would build every sentence for every row.)
    name = pl.col("playbook")
    exec_call = name == "Executive Sponsor Call"
    mitigation = name == "Risk Mitigation Plan"
    qbr = name == "Strategy Session / QBR"
    value = name == "Value Realization Report"
    at_risk = tier == "At Risk"
    qbr_silent = qbr & pl.col("silent")
    contacted = value & pl.col("_days").is_not_null()
    none = pl.lit(None, pl.String)
    cut = f"{tiers.at_risk_from:g}"
    pieces = [
        pl.when(exec_call | mitigation)
        .then(pl.lit("Critical (health "))
        .when(at_risk)
        .then(pl.lit("At Risk (health "))
        .when(tier.is_null())
        .then(pl.lit("not scored"))
        .otherwise(pl.lit("Healthy (health ")),
        pl.col("_score"),
        pl.when(exec_call)
        .then(pl.lit(f" < {cut}) and high value: ARR "))
        .when(mitigation)
        .then(pl.lit(f" < {cut})"))
        .when(at_risk)
        .then(pl.lit(f", {cut}–{tiers.healthy_from:g})"))
        .when(value)
        .then(pl.lit(f" ≥ {tiers.healthy_from:g})"))
        .when(tier.is_not_null())
        .then(pl.lit(")"))
        .otherwise(none),
        pl.col("_arr"),
        pl.when(exec_call).then(pl.lit(f" ≥ {threshold}")).otherwise(none),
        pl.when(qbr_silent)
        .then(pl.lit("; no contact for "))
        .when(contacted)
        .then(pl.lit(", last contact "))
        .otherwise(none),
        pl.when(qbr_silent | contacted).then(pl.col("_days")).otherwise(none),
        pl.when(qbr_silent)
        .then(pl.lit(f" days (> {limit}): silent churn risk"))
        .when(contacted)
        .then(pl.lit(" days ago"))
        .otherwise(none),
    ]
    reason = (
        pl.when(name.is_null())
        .then(pl.lit(UNSCORED_REASON))
        .otherwise(pl.concat_str(pieces, ignore_nulls=True))
    )
    return out.with_columns(reason=reason).drop("_score", "_days", "_arr")

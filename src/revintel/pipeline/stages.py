"""Stages: their order and the probability that a deal in each one is won.

Stage-weighted probability (``docs/pipeline.md``, Stage probabilities): for an open stage *s*,

    p(s) = closed deals that reached s and were won ÷ closed deals that reached s,

where "reached" means the deal has a ``deal_stage_history`` row in stage *s* or a later open stage
(a deal may skip a stage), counting deals closed on or before ``as_of`` only, so a point-in-time
forecast never learns from outcomes after its own date. Probabilities set in the pipeline settings
(``stage_probabilities``) replace the learned ones.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from revintel.data.schema import DEAL_STAGES

if TYPE_CHECKING:
    import ibis

WON_STAGE = "Closed Won"
LOST_STAGE = "Closed Lost"
CLOSED_STAGES: tuple[str, ...] = (WON_STAGE, LOST_STAGE)
OPEN_STAGES: tuple[str, ...] = tuple(s for s in DEAL_STAGES if s not in CLOSED_STAGES)
STAGE_ORDER: dict[str, int] = {s: i for i, s in enumerate(OPEN_STAGES)}


def stage_rank(stage: ibis.Value) -> ibis.Value:
    """The position of an open stage (0 = Prospecting); closed stages rank after every open one."""
    import ibis

    cases = [(stage == s, i) for s, i in STAGE_ORDER.items()]
    return ibis.cases(*cases, else_=len(OPEN_STAGES))


def furthest_open_stage(history: ibis.Table, *, as_of: date | None = None) -> ibis.Table:
    """``deal_id``, ``furthest_rank``: the furthest open stage each deal reached (by ``as_of``)."""
    h = history if as_of is None else history.filter(history.entered_at.cast("date") <= as_of)
    h = h.filter(h.stage.isin(OPEN_STAGES))
    return h.group_by("deal_id").aggregate(furthest_rank=stage_rank(h.stage).max())


def learned_stage_probabilities(
    deals: ibis.Table, history: ibis.Table, *, as_of: date | None = None
) -> ibis.Table:
    """``stage``, ``rank``, ``reached``, ``won``, ``probability`` for every open stage.

    ``probability`` is null for a stage no closed deal reached.
    """
    import ibis

    d = deals.filter(deals.stage.isin(CLOSED_STAGES) & deals.closed_date.notnull())
    if as_of is not None:
        d = d.filter(d.closed_date <= as_of)
    reach = furthest_open_stage(history).join(d.select("deal_id", "stage"), "deal_id")
    stages = ibis.memtable(
        {"stage": list(OPEN_STAGES), "rank": list(range(len(OPEN_STAGES)))}
    ).cast({"rank": "int64"})
    joined = stages.join(reach, reach.furthest_rank >= stages["rank"], how="left")
    agg = joined.group_by(["stage", "rank"]).aggregate(
        reached=joined.deal_id.count(),
        won=ibis.cases((joined.stage_right == WON_STAGE, 1), else_=0).sum(),
    )
    won = agg.won.coalesce(0)
    return agg.mutate(
        won=won,
        probability=ibis.cases((agg.reached > 0, won.cast("float64") / agg.reached), else_=None),
    ).order_by("rank")

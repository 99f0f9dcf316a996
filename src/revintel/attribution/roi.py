"""Channel ROI: a model's credit per channel joined to the channel's spend.

Definitions (docs/attribution.md, Spend, ROI and budget; ../shared/docs/metric-definitions.md,
Attribution and Revenue and unit economics):

* attributed conversions and attributed revenue: the model's credit (:class:`Credit`), revenue
  being the credited conversion value (first-year value) and, where the CLV capability knows the
  customer, the credited customer lifetime value;
* CAC = spend ÷ attributed conversions;
* ROAS = attributed revenue ÷ spend;
* ROI = (attributed revenue × gross margin − spend) ÷ spend.

A channel without spend has no CAC, ROAS or ROI (None, never infinity); a channel with spend but
no attributed conversions has no CAC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from revintel.attribution.credit import Credit


@dataclass(frozen=True, slots=True)
class ChannelRoi:
    """One channel's figures under one model."""

    model: str
    channel: str
    conversions: float
    share: float  # of the model's conversions
    revenue: float  # attributed first-year value
    clv: float | None  # attributed customer lifetime value, None when unknown
    spend: float
    cac: float | None
    roas: float | None
    roi: float | None
    clv_roi: float | None  # ROI on the attributed CLV instead of the first-year value
    last_touch_conversions: float | None  # the same channel's credit under last touch
    difference_from_last_touch: float | None  # conversions − last touch's conversions


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator ÷ denominator``, None when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else None


def roi(revenue: float, spend: float, gross_margin: float) -> float | None:
    """(revenue × gross margin − spend) ÷ spend; None without spend."""
    return (revenue * gross_margin - spend) / spend if spend > 0 else None


def channel_roi(
    credit: Credit,
    spend: Mapping[str, float],
    gross_margin: float,
    *,
    clv: Credit | None = None,
    last_touch: Credit | None = None,
) -> list[ChannelRoi]:
    """Every channel of ``credit`` or of ``spend`` (a channel with spend but no touches gets zero
    credit), in ``credit``'s channel order then the spend-only channels by name.

    ``clv`` is the same model's credit over journeys valued at each customer's CLV (its value is
    used); ``last_touch`` gives the difference column.
    """
    if not 0 <= gross_margin <= 1:
        raise ValueError(f"gross_margin: expected a share between 0 and 1, got {gross_margin}")
    channels: list[str] = list(credit.channels)
    channels += sorted(c for c in spend if c not in set(credit.channels))
    conv = _by_channel(credit.channels, credit.conversions)
    value = _by_channel(credit.channels, credit.value)
    clv_value = _by_channel(clv.channels, clv.value) if clv is not None else None
    last = _by_channel(last_touch.channels, last_touch.conversions) if last_touch else None
    total = float(credit.conversions.sum())
    rows = []
    for c in channels:
        n = conv.get(c, 0.0)
        revenue = value.get(c, 0.0)
        cost = float(spend.get(c, 0.0))
        lifetime = None if clv_value is None else clv_value.get(c, 0.0)
        lt = None if last is None else last.get(c, 0.0)
        rows.append(
            ChannelRoi(
                model=credit.model,
                channel=c,
                conversions=n,
                share=n / total if total > 0 else 0.0,
                revenue=revenue,
                clv=lifetime,
                spend=cost,
                cac=ratio(cost, n) if cost > 0 else None,
                roas=ratio(revenue, cost),
                roi=roi(revenue, cost, gross_margin),
                clv_roi=None if lifetime is None else roi(lifetime, cost, gross_margin),
                last_touch_conversions=lt,
                difference_from_last_touch=None if lt is None else _difference(n, lt),
            )
        )
    return rows


def _difference(credit: float, last_touch: float) -> float:
    """``credit − last_touch``; 0 when they differ only by floating-point rounding (1e-9)."""
    d = credit - last_touch
    return 0.0 if abs(d) <= 1e-9 * max(1.0, abs(last_touch)) else d


def _by_channel(channels: Sequence[str], values: np.ndarray) -> dict[str, float]:
    return {c: float(v) for c, v in zip(channels, values.tolist(), strict=True)}

"""Channel ROI figures worked by hand on hand-built credit (docs/attribution.md, Spend, ROI and
budget)."""

from __future__ import annotations

import numpy as np
import pytest

from revintel.attribution.credit import Credit
from revintel.attribution.roi import channel_roi, ratio, roi


def _credit(model: str, conversions: list[float], value: list[float]) -> Credit:
    return Credit(
        model=model,
        channels=("Direct", "Email", "Search"),
        conversions=np.array(conversions),
        value=np.array(value),
    )


def test_cac_roas_and_roi_by_hand() -> None:
    credit = _credit("markov", [2.0, 3.0, 5.0], [200.0, 600.0, 1500.0])
    last = _credit("last_touch", [4.0, 1.0, 5.0], [400.0, 100.0, 1500.0])
    rows = {r.channel: r for r in channel_roi(credit, {"Email": 300.0, "Search": 1000.0}, 0.8,
                                              last_touch=last)}
    email = rows["Email"]
    assert email.cac == pytest.approx(100.0)  # 300 / 3
    assert email.roas == pytest.approx(2.0)  # 600 / 300
    assert email.roi == pytest.approx((600 * 0.8 - 300) / 300)  # 0.6
    assert email.share == pytest.approx(0.3)
    assert email.difference_from_last_touch == pytest.approx(2.0)
    search = rows["Search"]
    assert search.roi == pytest.approx((1500 * 0.8 - 1000) / 1000)
    assert rows["Direct"].difference_from_last_touch == pytest.approx(-2.0)


def test_channel_without_spend_has_no_ratios_not_infinity() -> None:
    rows = channel_roi(_credit("linear", [1.0, 1.0, 1.0], [10.0, 10.0, 10.0]), {}, 0.5)
    for row in rows:
        assert row.spend == 0.0
        assert row.cac is None and row.roas is None and row.roi is None
    assert ratio(1.0, 0.0) is None and roi(5.0, 0.0, 0.8) is None


def test_spend_only_channel_is_listed_with_zero_credit_and_negative_roi() -> None:
    rows = channel_roi(_credit("first_touch", [1.0, 0.0, 0.0], [10.0, 0, 0]), {"Display": 50.0},
                       1.0)
    display = rows[-1]
    assert display.channel == "Display"
    assert display.conversions == 0.0 and display.cac is None
    assert display.roas == 0.0 and display.roi == pytest.approx(-1.0)


def test_clv_roi_uses_the_credited_lifetime_value() -> None:
    credit = _credit("linear", [1.0, 1.0, 2.0], [100.0, 100.0, 200.0])
    clv = _credit("linear", [1.0, 1.0, 2.0], [1000.0, 500.0, 0.0])
    rows = {r.channel: r for r in channel_roi(credit, {"Email": 100.0}, 0.5, clv=clv)}
    assert rows["Email"].clv == pytest.approx(500.0)
    assert rows["Email"].clv_roi == pytest.approx((500 * 0.5 - 100) / 100)
    assert rows["Email"].roi == pytest.approx((100 * 0.5 - 100) / 100)


def test_margin_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match="gross_margin"):
        channel_roi(_credit("linear", [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]), {}, 1.5)

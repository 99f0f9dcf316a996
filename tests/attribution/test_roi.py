"""Channel ROI figures worked by hand on hand-built credit (docs/attribution.md, Spend, ROI and
budget)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

import revintel.app  # noqa: F401  (wires the ports)
from revintel.app.context import AppContext
from revintel.attribution.credit import Credit
from revintel.attribution.models import UnknownModel
from revintel.attribution.roi import channel_roi as roi_rows
from revintel.attribution.roi import ratio, roi
from revintel.attribution.service.roi import MissingSpendData, RoiRequest, channel_roi
from revintel.core.config import Settings
from tests.attribution.roi_data import (
    CURVES,
    DIRECT_PER_MONTH,
    MONTHS,
    conversions_of,
    load_company,
    spend_table,
)


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
    rows = {
        r.channel: r
        for r in roi_rows(credit, {"Email": 300.0, "Search": 1000.0}, 0.8, last_touch=last)
    }
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
    rows = roi_rows(_credit("linear", [1.0, 1.0, 1.0], [10.0, 10.0, 10.0]), {}, 0.5)
    for row in rows:
        assert row.spend == 0.0
        assert row.cac is None and row.roas is None and row.roi is None
    assert ratio(1.0, 0.0) is None and roi(5.0, 0.0, 0.8) is None


def test_spend_only_channel_is_listed_with_zero_credit_and_negative_roi() -> None:
    rows = roi_rows(_credit("first_touch", [1.0, 0.0, 0.0], [10.0, 0, 0]), {"Display": 50.0}, 1.0)
    display = rows[-1]
    assert display.channel == "Display"
    assert display.conversions == 0.0 and display.cac is None
    assert display.roas == 0.0 and display.roi == pytest.approx(-1.0)


def test_clv_roi_uses_the_credited_lifetime_value() -> None:
    credit = _credit("linear", [1.0, 1.0, 2.0], [100.0, 100.0, 200.0])
    clv = _credit("linear", [1.0, 1.0, 2.0], [1000.0, 500.0, 0.0])
    rows = {r.channel: r for r in roi_rows(credit, {"Email": 100.0}, 0.5, clv=clv)}
    assert rows["Email"].clv == pytest.approx(500.0)
    assert rows["Email"].clv_roi == pytest.approx((500 * 0.5 - 100) / 100)
    assert rows["Email"].roi == pytest.approx((100 * 0.5 - 100) / 100)


def test_margin_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match="gross_margin"):
        roi_rows(_credit("linear", [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]), {}, 1.5)


# -- the service on a loaded company --------------------------------------------------------------
@pytest.fixture(scope="module")
def roi_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_company(tmp_path_factory.mktemp("roi"))


@pytest.fixture
def ctx(roi_home: Path) -> Iterator[AppContext]:
    context = AppContext(Settings(home=roi_home, warehouse_url=None, database_url=None))
    yield context
    context.close()


def test_service_joins_credit_to_spend(ctx: AppContext) -> None:
    spend = spend_table()
    report = channel_roi(ctx, RoiRequest(models=("last_touch", "markov")))
    assert report.spend_months == MONTHS
    assert report.gross_margin_source.startswith("settings budget.gross_margin")  # no costs
    rows = {(r.model, r.channel): r for r in report.rows}
    for model in ("last_touch", "markov"):
        for c, (_, _, value, _) in CURVES.items():
            n = sum(conversions_of(c, spend[(m, c)]) for m in MONTHS)
            cost = sum(spend[(m, c)] for m in MONTHS)
            row = rows[(model, c)]
            assert row.conversions == pytest.approx(n)
            assert row.spend == pytest.approx(cost)
            assert row.cac == pytest.approx(cost / n)
            assert row.roas == pytest.approx(n * value / cost)
            assert row.roi == pytest.approx((n * value * 0.75 - cost) / cost)
        direct = rows[(model, "Direct")]
        assert direct.spend == 0 and direct.roi is None and direct.cac is None
        assert direct.conversions == pytest.approx(DIRECT_PER_MONTH * len(MONTHS))


def test_service_takes_margin_and_clv_from_the_ports(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from revintel.attribution import ports

    def margin(runtime: object, *, start: date | None, end: date | None) -> ports.GrossMargin:
        return ports.GrossMargin(0.5, period="2024-01 to 2024-12")

    def values(runtime: object) -> ports.CustomerLifetimeValues:
        return ports.CustomerLifetimeValues({"C000001": 1000.0, "C000004": 500.0}, "test CLV")

    monkeypatch.setattr(ports, "_plugged", ports.Providers(margin, values))
    report = channel_roi(ctx, RoiRequest(models=("linear",)))
    assert report.gross_margin == 0.5
    assert report.gross_margin_source == "metrics gross margin, 2024-01 to 2024-12"
    assert report.clv_note is not None and "known for 2 of" in report.clv_note
    rows = {r.channel: r for r in report.rows}
    assert rows["Search"].clv == pytest.approx(1500.0)
    assert rows["Social"].clv == 0.0
    cost = rows["Search"].spend
    assert rows["Search"].clv_roi == pytest.approx((1500 * 0.5 - cost) / cost)


def test_unknown_model_and_missing_spend_are_named(ctx: AppContext, tmp_path: Path) -> None:
    with pytest.raises(UnknownModel, match="'nope'"):
        channel_roi(ctx, RoiRequest(models=("nope",)))
    empty = AppContext(Settings(home=tmp_path / "empty", warehouse_url=None, database_url=None))
    with pytest.raises(MissingSpendData, match="channel_spend"):
        channel_roi(empty, RoiRequest())
    empty.close()


def test_difference_from_last_touch_ignores_rounding_noise() -> None:
    credit = _credit("markov", [2.0 + 1e-13, 3.0 - 1e-13, 5.0], [1.0, 1.0, 1.0])
    last = _credit("last_touch", [2.0, 3.0, 4.0], [1.0, 1.0, 1.0])
    rows = roi_rows(credit, {}, 0.5, last_touch=last)
    assert [r.difference_from_last_touch for r in rows] == [0.0, 0.0, 1.0]


def test_the_wired_ports_give_the_metrics_margin_and_clv_values(tmp_path: Path) -> None:
    from revintel.attribution import ports
    from revintel.metrics import service as metrics
    from tests.conftest import generated_company

    plugged = ports.providers()
    assert plugged is not None  # revintel.app wires them on import
    with generated_company(tmp_path, customers=150, months=12, seed=3) as company:
        rows = metrics.financials(company)
        months = [str(r["month"]) for r in rows]
        some = [r for r in rows if months[2] <= str(r["month"]) <= months[5]]
        want = sum(r["gross_profit"] for r in some) / sum(r["revenue"] for r in some)
        start = date.fromisoformat(f"{months[2]}-01")
        end = date.fromisoformat(f"{months[5]}-28")
        margin = plugged.gross_margin(company, start=start, end=end)
        assert margin.value == pytest.approx(want)
        assert margin.period == f"{months[2]} to {months[5]}"
        values = plugged.customer_values(company)
        assert values.values and all(v >= 0 for v in values.values.values())
        assert set(values.values) <= set(
            company.warehouse.to_arrow(company.warehouse.table("customers").customer_id).to_pylist()  # type: ignore[union-attr]
        )

"""Health takes MRR from whatever is plugged into health/ports.py: a test may plug a fake."""

from __future__ import annotations

import ibis
import pytest

from revintel.app.context import AppContext
from revintel.health import ports, service
from revintel.warehouse.cache import clear_all
from tests.health.demo import demo_home, settings_for


def test_scores_use_the_plugged_mrr(monkeypatch: pytest.MonkeyPatch) -> None:
    def flat_mrr(
        subscriptions: ibis.Table, *, from_month: str, to_month: str, payments: ibis.Table | None
    ) -> ibis.Table:
        months = ibis.memtable({"month": [from_month, to_month]})
        ids = subscriptions.select("customer_id").distinct()
        return ids.cross_join(months).mutate(mrr=ibis.literal(100.0))

    ctx = AppContext(settings_for(demo_home()))
    monkeypatch.setattr(ports, "_customer_mrr", flat_mrr)
    clear_all()
    try:
        frame = service.score_month(ctx).frame
        assert frame.height == ctx.warehouse.table("subscriptions").customer_id.nunique().execute()
        assert set(frame["arr"].to_list()) == {1200.0}
    finally:
        clear_all()
        ctx.close()

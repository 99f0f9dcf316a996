"""Editing a deal (docs/pipeline.md, Editing a deal): atomic, recorded, and never lost."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.core.errors import EditConflict, InvalidOption, RevintelError
from revintel.pipeline.service import deals as service
from tests.pipeline.deals_company import deals_context


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = deals_context(tmp_path)
    yield context
    context.close()


def test_two_edits_of_one_version_at_once_one_wins_the_other_gets_a_conflict(
    ctx: AppContext,
) -> None:
    etag = service.deal_detail(ctx, "O2").etag

    def edit(amount: float) -> str:
        fork = ctx.fork()
        try:
            service.edit_deal(
                fork,
                "O2",
                service.DealChanges(amount=amount),
                if_match=f'"{etag}"',
                edited_by=f"rep-{amount:.0f}",
            )
            return "ok"
        except EditConflict:
            return "conflict"
        finally:
            fork.close()

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(edit, [6000.0, 7000.0]))
    assert outcomes == ["conflict", "ok"]
    ctx.refresh()
    detail = service.deal_detail(ctx, "O2")
    assert len(detail.edits) == 1
    winner = detail.edits[0]
    assert detail.deal["amount"] == winner["changes"]["amount"][1]
    assert detail.timeline[-1]["amount"] == detail.deal["amount"]


def test_a_failed_warehouse_commit_writes_no_audit_row(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    etag = service.deal_detail(ctx, "O1").etag
    before = service.deal_detail(ctx, "O1")

    def broken(*args: object, **kwargs: object) -> None:
        raise RevintelError("disk full")

    monkeypatch.setattr(type(ctx.warehouse), "commit", broken)
    with pytest.raises(RevintelError, match="disk full"):
        service.edit_deal(ctx, "O1", service.DealChanges(amount=1.0), if_match=etag, edited_by="x")
    monkeypatch.undo()
    ctx.refresh()
    after = service.deal_detail(ctx, "O1")
    assert after.etag == before.etag and after.edits == [] and after.timeline == before.timeline


def test_reopening_a_closed_deal_clears_its_close_date(ctx: AppContext) -> None:
    detail = service.edit_deal(
        ctx,
        "C2",
        service.DealChanges(stage="Negotiation", expected_close_date=date(2024, 9, 1)),
        if_match=service.deal_detail(ctx, "C2").etag,
        edited_by="ben",
    )
    assert detail.deal["closed_date"] is None and detail.health is not None
    with pytest.raises(InvalidOption, match="expected_close_date"):
        service.edit_deal(
            ctx,
            "C2",
            service.DealChanges(expected_close_date=date(2023, 1, 1)),
            if_match=detail.etag,
            edited_by="ben",
        )

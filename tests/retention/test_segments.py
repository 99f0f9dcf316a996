"""Segments (app/retention/segments.py): preview, saved segments, compare, discovery, tracking,
on the churn demo company; the store on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.app.retention import segments as S
from revintel.app.retention.features import customer_features
from revintel.core.config import Settings
from revintel.core.errors import NotFoundError
from revintel.retention.rules import RuleError
from tests.conftest import isolated_settings


@pytest.fixture(scope="module")
def ctx(churn_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    """A private copy of the churn demo home (segments are written to its app store)."""
    home = tmp_path_factory.mktemp("segments") / "home"
    shutil.copytree(churn_home, home, symlinks=True)
    context = AppContext(isolated_settings(home))
    yield context
    context.close()


@pytest.fixture(scope="module")
def frame(ctx: AppContext) -> pl.DataFrame:
    return customer_features(ctx).frame


def test_preview_counts_what_polars_counts(ctx: AppContext, frame: pl.DataFrame) -> None:
    rule = 'mrr > 1000 and churn_risk > 0.1 or segment = "Enterprise" and not has_account_manager'
    expected = frame.filter(
        ((pl.col("mrr") > 1000) & (pl.col("churn_risk") > 0.1)).fill_null(False)
        | ((pl.col("segment") == "Enterprise") & ~pl.col("has_account_manager")).fill_null(False)
    )
    p = S.preview(ctx, rule, sample=5)
    assert p.count == expected.height > 0
    assert p.mrr == pytest.approx(expected["mrr"].sum(), abs=0.01)
    assert p.arr == pytest.approx(12 * p.mrr, abs=0.1)
    assert p.avg_risk == pytest.approx(expected["churn_risk"].mean(), abs=1e-4)
    assert p.total_customers == frame.height
    assert len(p.sample) == min(5, p.count)
    assert [r["mrr"] for r in p.sample] == sorted((r["mrr"] for r in p.sample), reverse=True)
    assert p.as_of == customer_features(ctx).as_of
    # the builder form selects the same customers
    again = S.preview(ctx, builder=p.builder, sample=0)
    assert again.count == p.count and again.sample == []


def test_a_segment_ranges_over_every_customer(ctx: AppContext, frame: pl.DataFrame) -> None:
    everyone = S.preview(ctx, "mrr >= 0", sample=0)
    assert everyone.count == frame.height  # churned customers (MRR 0) included
    churned = S.resolve_customers(ctx, rule="not is_active")
    assert churned.height == frame.filter(~pl.col("is_active")).height > 0
    assert churned.columns == frame.columns


def test_bad_rules_name_position_and_feature(ctx: AppContext) -> None:
    with pytest.raises(RuleError, match=r"position 29: expected a value .* after '>', got end"):
        S.preview(ctx, "mrr > 10000 and churn_risk >")
    with pytest.raises(RuleError, match="unknown feature 'chrun_risk'; did you mean churn_risk"):
        S.preview(ctx, "chrun_risk > 0.5")
    with pytest.raises(RuleError, match="segment is text"):
        S.preview(ctx, 'segment > "SMB"')


def test_saved_segments_crud(ctx: AppContext) -> None:
    seg = S.create_segment(
        ctx, "At-risk SMB", rule='segment = "SMB" and churn_risk > 0.2', created_by="ana"
    )
    assert seg.created_by == "ana" and seg.source == "rule" and seg.shared
    assert seg.builder is not None and seg.builder["op"] == "and"
    with pytest.raises(S.InvalidSegment, match="name: a segment named 'At-risk SMB' exists"):
        S.create_segment(ctx, "At-risk SMB", rule="mrr > 1")
    before = len(S.list_segments(ctx, counts=False))
    with pytest.raises(RuleError):
        S.create_segment(ctx, "bad", rule="mrr >")
    with pytest.raises(RuleError, match="unknown feature"):
        S.create_segment(ctx, "bad", rule="mmr > 1")
    assert len(S.list_segments(ctx, counts=False)) == before  # a bad rule saves nothing
    listed = {s.id: s for s in S.list_segments(ctx)}
    assert listed[seg.id].count == S.preview(ctx, seg.rule, sample=0).count
    changed = S.update_segment(ctx, seg.id, rule='segment = "SMB"', description="all SMB")
    assert changed.rule == 'segment = "SMB"' and changed.description == "all SMB"
    with pytest.raises(RuleError):
        S.update_segment(ctx, seg.id, rule="segment = ")
    assert S.get_segment(ctx, seg.id).rule == 'segment = "SMB"'  # unchanged by the bad update
    members = S.resolve_customers(ctx, segment_id=seg.id)
    assert set(members["segment"]) == {"SMB"}
    S.delete_segment(ctx, seg.id)
    with pytest.raises(NotFoundError, match=f"segment_id {seg.id}"):
        S.get_segment(ctx, seg.id)


def test_compare_sizes_churn_and_effect_sizes(ctx: AppContext, frame: pl.DataFrame) -> None:
    result = S.compare(ctx, ['segment = "Enterprise"', 'segment = "SMB"'])
    big, small = result.segments
    assert big.count == frame.filter(pl.col("segment") == "Enterprise").height
    assert len(big.churn_by_month) == S.CHURN_MONTHS
    month = big.churn_by_month[-1]
    assert month["month"] == result.as_of
    assert 0 <= month["churned"] <= month["at_start"]
    # SMB customers churn more often than Enterprise ones in the demo company
    assert small.average_monthly_churn > big.average_monthly_churn
    diffs = {d.feature: d for d in result.differences}
    assert "segment" in diffs and diffs["segment"].measure == "Cramér's V"
    assert diffs["segment"].effect == pytest.approx(1.0)
    assert diffs["mrr"].measure == "Cohen's d" and diffs["mrr"].effect > 0.5
    assert abs(result.differences[0].effect) >= abs(result.differences[-1].effect)
    with pytest.raises(S.InvalidSegment, match="expected 2 or 3"):
        S.compare(ctx, ["mrr > 1"])


def test_churn_by_month_definition() -> None:
    history = pl.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c", "d"],
            "month": ["2024-01", "2024-02", "2024-01", "2024-03", "2024-02", "2024-03"],
            "mrr": [10.0, 10.0, 5.0, 5.0, 7.0, 1.0],
        }
    )
    rows = S.churn_by_month(history, ["a", "b", "c"], "2024-03", months=2)
    assert rows[0] == {
        "month": "2024-02", "customers": 2, "mrr": 17.0, "at_start": 2, "churned": 1,
        "churn_rate": 0.5,
    }  # fmt: skip
    # 2024-03: a and c paid in February and not in March; b came back (not at start)
    assert rows[1]["at_start"] == 2 and rows[1]["churned"] == 2 and rows[1]["churn_rate"] == 1.0


def test_discovery_chooses_k_by_silhouette_and_saves_a_cluster(ctx: AppContext) -> None:
    found = S.discover(ctx)
    assert found.k == max(found.scores, key=lambda k: found.scores[k])
    assert set(found.scores) == set(range(2, 9))
    assert sum(c.size for c in found.clusters) == found.population
    for c in found.clusters:
        assert c.distinctive and c.description and c.rule.startswith("mrr ")
        assert c.churn_rate is not None and 0 <= c.churn_rate <= 1
        assert c.rule_precision is not None and c.rule_precision > 0.5
        assert c.rule_matches == S.preview(ctx, c.rule, sample=0).count
    risks = sorted(c.churn_rate for c in found.clusters)
    assert risks[-1] > 1.5 * risks[0]  # the clusters separate risk
    fixed = S.discover(ctx, k=3)
    assert fixed.k == 3 and len(fixed.clusters) == 3
    seg = S.save_cluster(ctx, found.clusters[0].cluster, "Cluster A", created_by="t")
    assert seg.source == "discovery" and seg.rule == found.clusters[0].rule
    with pytest.raises(NotFoundError):
        S.save_cluster(ctx, 99, "nope")


def test_track_records_one_snapshot_per_month(ctx: AppContext) -> None:
    seg = S.create_segment(ctx, "Tracked", rule='plan = "Basic"')
    first = S.track(ctx, seg.id)
    again = S.track(ctx, seg.id)
    assert len(again.snapshots) == 1 and again.snapshots[0]["month"] == first.as_of
    assert again.current["customers"] == S.preview(ctx, seg.rule, sample=0).count
    assert len(first.months) == S.CHURN_MONTHS
    assert first.months[-1]["customers"] <= again.current["customers"]
    S.delete_segment(ctx, seg.id)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppContext]:
    """An empty home (no data) with the app store on SQLite or PostgreSQL."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    context = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=url))
    yield context
    context.close()


def test_store_without_data(bare: AppContext) -> None:
    """Without data a rule is checked by the grammar alone; the store works on both databases."""
    for s in S.list_segments(bare, counts=False):
        S.delete_segment(bare, s.id)
    seg = S.create_segment(bare, "Big", rule="mrr > 10k", created_by="x")
    with pytest.raises(S.InvalidSegment):
        S.create_segment(bare, "Big", rule="mrr > 1")
    with pytest.raises(RuleError):
        S.create_segment(bare, "Broken", rule="mrr >")
    (listed,) = S.list_segments(bare)
    assert listed.id == seg.id and listed.error is not None and listed.count is None
    renamed = S.update_segment(bare, seg.id, name="Bigger", shared=False)
    assert renamed.name == "Bigger" and not renamed.shared
    assert S.delete_segment(bare, seg.id).name == "Bigger"
    assert S.list_segments(bare) == []

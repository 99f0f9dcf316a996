"""The ``retention`` benchmark's segments part runs on a small frame and checks its own count."""

from __future__ import annotations

from benchmarks import _retention_segments as bench


def test_segments_benchmark_small() -> None:
    out = bench.run(["--customers", "3000", "--preview-customers", "1000", "--repeat", "1"])
    assert out["customers"] == 3000 and out["preview_customers"] == 1000
    assert out["count"] > 0 and out["count_matches_polars"]
    assert 0 < out["preview_count"] <= 1000
    assert out["rule_seconds"] > 0 and out["preview_seconds"] > 0
    assert set(out) >= {"rule_within_target", "preview_within_target", "register_seconds"}


def test_synthetic_frame_is_shaped_like_the_features() -> None:
    features = bench.synthetic_features(500)
    frame = features.frame
    assert frame.height == 500 and frame["customer_id"].n_unique() == 500
    assert list(features.columns) == frame.columns
    assert frame.filter(~frame["is_active"])["mrr"].max() == 0
    assert features.columns["has_account_manager"].kind == "bool"

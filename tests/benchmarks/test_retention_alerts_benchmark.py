"""benchmarks/_retention_alerts.py at a small n: the evaluation fires, repeats nothing, clears."""

from __future__ import annotations

from benchmarks._retention_alerts import run


def test_the_alerts_benchmark_runs_small() -> None:
    result = run(["--alerts-customers", "20000"])
    assert result["customers"] == 20_000 and result["rules"] == 4
    first, repeat, nxt = (result["alerts"][k] for k in ("first", "repeat", "next_month"))
    assert first["fired"] > 0 and first["still_firing"] == 0
    assert repeat == {"fired": 0, "still_firing": first["fired"], "cleared": 0}
    assert nxt["cleared"] > 0 and nxt["fired"] > 0
    assert nxt["fired"] + nxt["still_firing"] + nxt["cleared"] >= first["fired"]
    assert set(result["seconds"]) == {"first", "repeat", "next_month"}
    assert result["met"] is True  # 20k customers are far inside the 10 s of 1M

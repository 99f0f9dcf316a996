"""Speed benchmarks. Run one with `uv run --group test python -m benchmarks NAME [options]`; each
prints one JSON line per measurement (figures, targets and ratios against a baseline measured in
the same run)."""

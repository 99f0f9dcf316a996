"""Benchmark ``retention``: the speed targets of retention operations (docs/retention.md, Speed).

    uv run --group test python -m benchmarks retention [--part segments|campaigns|alerts|report]

Parts (each prints one JSON line with its figures and its target):

* ``segments``: a segment rule over 1M customers with features (target ≤ 1 s);
* ``campaigns``: a campaign of 50k customers created with tasks and scripts (≤ 10 s);
* ``alerts``: alert evaluation over 1M customers (≤ 10 s);
* ``report``: the executive report as PDF at 100k customers (≤ 15 s).

Each part lives in ``benchmarks/_retention_<part>.py`` and exposes ``run(argv) -> dict``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

PARTS = ("segments", "campaigns", "alerts", "report")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks retention", description=__doc__)
    parser.add_argument("--part", choices=PARTS, action="append", help="Run only this part.")
    args, rest = parser.parse_known_args(argv)
    for part in args.part or PARTS:
        module = importlib.import_module(f"benchmarks._retention_{part}")
        result = module.run(rest)
        print(json.dumps({"benchmark": "retention", "part": part, **result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

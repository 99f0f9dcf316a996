"""Our order-1 Markov attribution beside the ChannelAttribution package's on its own path file.

    uv run --group test python -m benchmarks attribution_reference [--data Data.csv]
        [--reference-python PATH] [--seeds 5] [--save FILE] [--reference-json FILE]

The data is ``../shared/datasets/channelattribution/Data.csv`` beside the repository (10,000
aggregated paths over 12 channels: ``path``, ``total_conversions``, ``total_conversion_value``,
``total_null``, semicolon separated); without it the benchmark says so and exits cleanly.

Ours: :func:`revintel.attribution.paths_file.read_paths` and
:func:`revintel.attribution.markov.markov_credit` (order 1, removal effects solved exactly from the
absorbing chain). The reference: ``ChannelAttribution.markov_model(Data, "path",
"total_conversions", var_value="total_conversion_value", var_null="total_null", order=1,
out_more=True, seed=s)``, which estimates the removal effects by simulating paths from the
transition matrix, so it is run with ``--seeds`` seeds and its spread per channel is reported
beside the difference. The package's transition matrix (``out_more=True``; counted from the data,
not simulated) is also solved exactly in the reference's Python (``reference_exact_*``): the same
model as ours without the simulation noise, so there the difference should vanish. The package is
never a dependency of revintel: it runs in a separate
Python given by ``--reference-python`` (a virtual environment with ``channelattribution``,
``pandas`` and ``matplotlib``, which the package imports), else through ``uv run --no-project
--with channelattribution --with pandas --with matplotlib``. It builds from source (a C++
compiler is needed); when it cannot be installed or run, the error is printed and our side is
still reported. ``--reference-json`` reuses a saved reference output (``--save`` writes one).

Prints one JSON line: per channel our conversions, value and removal effect, the reference's (mean
over seeds, and min and max), and the differences; a table of them goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "channelattribution" / "Data.csv"
BENCHMARK = "attribution_reference"
PACKAGES = ("channelattribution", "pandas", "matplotlib")

# Run in the reference's Python: argv[1] the path file, argv[2] the seeds (comma separated).
REFERENCE_SCRIPT = r"""
import json, sys, time
import pandas as pd
import ChannelAttribution as ca

path, seeds = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
sep = ";" if open(path, encoding="utf-8").readline().count(";") else ","
data = pd.read_csv(path, sep=sep)
runs = []
for seed in seeds:
    started = time.perf_counter()
    out = ca.markov_model(data, "path", "total_conversions", var_value="total_conversion_value",
                          var_null="total_null", order=1, out_more=True, seed=seed,
                          verbose=False, flg_pro=False)
    seconds = time.perf_counter() - started
    res, rem = out["result"], out["removal_effects"]
    runs.append({
        "seed": seed,
        "seconds": round(seconds, 3),
        "conversions": dict(zip(res["channel_name"], map(float, res["total_conversions"]))),
        "value": dict(zip(res["channel_name"], map(float, res["total_conversion_value"]))),
        "removal_effect": dict(zip(rem["channel_name"],
                                   map(float, rem["removal_effects_conversion"]))),
    })
# The package's transition matrix (counted from the data, not simulated), solved exactly: the
# probability of converting from (start), and with each channel removed (its in-transitions go
# to (null)); removal effect = 1 - removed / full; conversions shared in proportion.
import numpy as np
tm = out["transition_matrix"]
names = list(out["result"]["channel_name"])  # channel k in the matrix is names[k - 1]
index = {"(start)": 0, **{str(k): k for k in range(1, len(names) + 1)}}
n = len(names) + 1
Q, conv = np.zeros((n, n)), np.zeros(n)
for a, b, p in zip(tm["channel_from"], tm["channel_to"], tm["transition_probability"]):
    if b == "(conversion)":
        conv[index[str(a)]] += p
    elif b != "(null)":
        Q[index[str(a)], index[str(b)]] += p
def p_conv(q):
    return float(np.linalg.solve(np.eye(n) - q, conv)[0])
full = p_conv(Q)
removal = {}
for k, name in enumerate(names, start=1):
    q = Q.copy(); q[:, k] = 0.0; q[k, :] = 0.0
    removal[name] = 1.0 - p_conv(q) / full
total_re = sum(removal.values())
total = float(data["total_conversions"].sum())
exact = {
    "conversion_probability": full,
    "removal_effect": removal,
    "conversions": {c: total * r / total_re for c, r in removal.items()},
}
version = getattr(ca, "__version__", None)
if version is None:
    from importlib.metadata import version as v
    version = v("channelattribution")
print(json.dumps({"package": "channelattribution", "version": version, "runs": runs,
                  "exact_from_transition_matrix": exact}))
"""


def run_reference(data: Path, seeds: list[int], python: str | None) -> dict[str, Any]:
    """The package's order-1 Markov output for each seed, or ``{"error": ...}``."""
    if python is not None:
        command = [python, "-c", REFERENCE_SCRIPT]
    else:
        withs = [arg for p in PACKAGES for arg in ("--with", p)]
        command = ["uv", "run", "--no-project", *withs, "python", "-c", REFERENCE_SCRIPT]
    command += [str(data), ",".join(str(s) for s in seeds)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        return {"error": f"the reference did not run (exit {done.returncode}):\n{tail}"}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall_seconds"] = round(time.perf_counter() - started, 2)
    return dict(out)


def run_ours(data: Path) -> dict[str, Any]:
    """Our order-1 Markov credit on the path file, or ``{"error": ...}``."""
    from revintel.attribution.markov import markov_credit
    from revintel.attribution.paths_file import read_paths

    started = time.perf_counter()
    try:
        journeys = read_paths(data)
        read_seconds = time.perf_counter() - started
        credit = markov_credit(journeys, 1)
    except Exception as exc:  # a model missing on this checkout, or refusing the data
        return {"error": f"{type(exc).__name__}: {exc}"}
    seconds = time.perf_counter() - started
    removal = credit.removal_effect
    return {
        "read_seconds": round(read_seconds, 3),
        "seconds": round(seconds, 3),
        "journeys": journeys.n_journeys,
        "total_conversions": journeys.total_conversions,
        "total_value": journeys.total_value,
        "conversions": dict(zip(credit.channels, map(float, credit.conversions), strict=True)),
        "value": dict(zip(credit.channels, map(float, credit.value), strict=True)),
        "removal_effect": (
            None
            if removal is None
            else dict(zip(credit.channels, map(float, removal), strict=True))
        ),
    }


def compare(ours: dict[str, Any], reference: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per channel: ours, the reference's mean (min, max over seeds) and the difference."""
    runs = reference.get("runs") or []
    channels = sorted(
        {*(ours.get("conversions") or {}), *(c for r in runs for c in r["conversions"])}
    )
    rows: list[dict[str, Any]] = []
    for channel in channels:
        row: dict[str, Any] = {"channel": channel}
        for figure in ("conversions", "value", "removal_effect"):
            mine = (ours.get(figure) or {}).get(channel)
            theirs = [r[figure].get(channel, 0.0) for r in runs]
            row[f"ours_{figure}"] = None if mine is None else round(mine, 4)
            if theirs:
                mean = sum(theirs) / len(theirs)
                row[f"reference_{figure}"] = round(mean, 4)
                row[f"reference_{figure}_min"] = round(min(theirs), 4)
                row[f"reference_{figure}_max"] = round(max(theirs), 4)
                if mine is not None:
                    row[f"difference_{figure}"] = round(mine - mean, 4)
                    if mean:
                        row[f"difference_{figure}_pct"] = round(100 * (mine - mean) / mean, 2)
        exact = reference.get("exact_from_transition_matrix")
        if exact is not None:
            for figure in ("conversions", "removal_effect"):
                solved = exact[figure].get(channel)
                row[f"reference_exact_{figure}"] = None if solved is None else round(solved, 4)
                if solved is not None and row.get(f"ours_{figure}") is not None:
                    row[f"difference_exact_{figure}"] = round(row[f"ours_{figure}"] - solved, 4)
        rows.append(row)
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    def cell(value: Any) -> str:
        return "—" if value is None else f"{value:,.2f}"

    head = (
        f"{'channel':<10} {'ours conv':>11} {'ref conv':>11} {'ref min-max':>19} {'diff':>9} "
        f"{'ours value':>11} {'ref value':>11} {'diff':>9} {'ref exact':>11} {'diff':>9}"
    )
    lines = [head]
    for r in rows:
        spread = (
            f"{r['reference_conversions_min']:,.1f}-{r['reference_conversions_max']:,.1f}"
            if "reference_conversions_min" in r
            else "—"
        )
        lines.append(
            f"{r['channel']:<10} {cell(r.get('ours_conversions')):>11} "
            f"{cell(r.get('reference_conversions')):>11} {spread:>19} "
            f"{cell(r.get('difference_conversions')):>9} {cell(r.get('ours_value')):>11} "
            f"{cell(r.get('reference_value')):>11} {cell(r.get('difference_value')):>9} "
            f"{cell(r.get('reference_exact_conversions')):>11} "
            f"{cell(r.get('difference_exact_conversions')):>9}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks {BENCHMARK}", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the path file")
    parser.add_argument("--reference-python", help="a Python with channelattribution installed")
    parser.add_argument("--seeds", type=int, default=5, help="reference runs (seeds 0..N-1)")
    parser.add_argument("--save", type=Path, help="write the reference's output to this file")
    parser.add_argument("--reference-json", type=Path, help="reuse a saved reference output")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(
            json.dumps({"benchmark": BENCHMARK, "skipped": f"no path file at {args.data}"}),
            flush=True,
        )
        return 0
    if args.reference_json is not None:
        reference = json.loads(args.reference_json.read_text(encoding="utf-8"))
    else:
        reference = run_reference(args.data, list(range(args.seeds)), args.reference_python)
        if args.save is not None and "error" not in reference:
            args.save.write_text(json.dumps(reference, indent=1) + "\n", encoding="utf-8")
    ours = run_ours(args.data)
    rows = compare(ours, reference)
    record = {
        "benchmark": BENCHMARK,
        "data": str(args.data),
        "ours": {k: v for k, v in ours.items() if k not in ("conversions", "value")},
        "reference": {
            k: v for k, v in reference.items() if k not in ("runs", "exact_from_transition_matrix")
        }
        | {"seeds": [r["seed"] for r in reference.get("runs", [])]},
        "channels": rows,
    }
    if rows and "error" not in ours and reference.get("runs"):
        record["max_abs_difference_conversions"] = max(
            abs(r["difference_conversions"]) for r in rows if "difference_conversions" in r
        )
        exact = [
            abs(r["difference_exact_conversions"])
            for r in rows
            if "difference_exact_conversions" in r
        ]
        if exact:
            record["max_abs_difference_exact_conversions"] = max(exact)
        spread = [r["reference_conversions_max"] - r["reference_conversions_min"] for r in rows]
        record["max_reference_spread_conversions"] = round(max(spread), 4)
    print(_table(rows), file=sys.stderr, flush=True)
    for side, out in (("ours", ours), ("reference", reference)):
        if "error" in out:
            print(f"{side}: {out['error']}", file=sys.stderr, flush=True)
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Speed before and after: five benchmarks run for two checkouts alternately, as one table.

    uv run --group test python -m benchmarks compare_speed --before CHECKOUT_A --after CHECKOUT_B
        [--repeat 2] [--scale standard|tiny] [--only metrics_suite,health,...] [--json FILE]

Each benchmark runs through its checkout's own environment and its own copy of the benchmark
(``uv run --frozen --project CHECKOUT python -m benchmarks.NAME …`` in CHECKOUT), alternately:
for every benchmark, repetition 1 of A, repetition 1 of B, repetition 2 of A, and so on, so that
a load on the machine that drifts in time lands on both. The data are made once, not timed, by
checkout A's code, and copied for B (each checkout has its own homes):

* ``metrics_suite``: a company of ``customers`` x 36 months loaded into a home
  (``benchmarks.metrics_suite --prepare``), then the suite's cold engine run in a fresh process
  (``--engine HOME``), with the default failed-payment rule and with it off; the pandas + SQLite
  baseline is the same code on both sides and is not run here;
* ``health``: the benchmark as it is (synthetic scoring; score_month and score_history on a demo
  company it generates itself);
* ``churn_model``: on a loaded home (``benchmarks.churn_model.prepare``): features, train, score
  and explain; its home then holds a model and predictions for
* ``high_risk_page``: the High-Risk Customers page and the Home page in headless Chromium;
* ``dashboard_revenue``: the Executive Overview on the ``metrics_suite`` home.

``--scale standard`` (the default) keeps two repetitions of everything within about 20 minutes
on two cores (100k customers for the metrics and the Executive Overview, 60k sign-ups for churn);
``--scale tiny`` only checks that the comparison runs. Prints a markdown table: benchmark, figure,
the medians before and after, after/before, and ``> 1.10`` where after is more than 10% slower.
Exit code 1 when a benchmark failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ("metrics_suite", "health", "churn_model", "dashboard_revenue", "high_risk_page")
WORSE = 1.10
TIMEOUT = 1800.0

SCALES: dict[str, dict[str, Any]] = {
    "standard": {
        "metrics_customers": 100_000,
        "metrics_months": 36,
        "health": ["--accounts", "100000", "--months", "12", "--demo-customers", "10000"],
        "churn_customers": 60_000,
        "churn_months": 24,
        "dashboard": ["--repeat", "2"],
        "high_risk": ["--reloads", "3"],
    },
    "tiny": {
        "metrics_customers": 2_000,
        "metrics_months": 12,
        "health": ["--accounts", "2000", "--months", "3", "--demo-customers", "1000"],
        "churn_customers": 3_000,
        "churn_months": 12,
        "dashboard": ["--repeat", "1"],
        "high_risk": ["--reloads", "1"],
    },
}


@dataclass(slots=True)
class Side:
    label: str
    checkout: Path
    homes: dict[str, Path] = field(default_factory=dict)

    def python(self, *args: str, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        """Run ``python ARGS`` in this checkout's environment; its JSON lines."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("REVINTEL_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")
        }
        env["PYTHONPATH"] = str(self.checkout)
        command = ["uv", "run", "--frozen", "--project", str(self.checkout), "python", *args]
        done = subprocess.run(
            command,
            cwd=self.checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"{' '.join(args[:3])} failed in {self.checkout}:\n{tail}")
        rows = []
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    continue
        return rows


Figures = dict[str, float]


# -- figures of each benchmark --------------------------------------------------------------------
def metrics_suite(side: Side, scale: dict[str, Any]) -> Figures:
    home = str(side.homes["metrics"])
    run = "benchmarks.metrics_suite"
    default = side.python("-m", run, "--engine", home)[-1]
    off = side.python("-m", run, "--engine", home, "--days", "36500")[-1]
    out = {
        "engine cold, s": default["seconds"],
        "engine cold, failed-payment rule off, s": off["seconds"],
    }
    for name, seconds in default.get("per_call_seconds", {}).items():
        out[f"engine call {name}, s"] = seconds
    return out


def health(side: Side, scale: dict[str, Any]) -> Figures:
    out: Figures = {}
    for row in side.python("-m", "benchmarks.health", *scale["health"]):
        name = row["benchmark"]
        if name == "health.score":
            name += f" {row['accounts']} accounts x {row['months']} months"
        out[f"{name}, s"] = row["seconds"]
    return out


def churn_model(side: Side, scale: dict[str, Any]) -> Figures:
    home = side.homes["churn"]
    args = ["--home", str(home), "--customers", str(scale["churn_customers"])]
    args += ["--months", str(scale["churn_months"])]
    out: Figures = {}
    for row in side.python("-m", "benchmarks.churn_model", *args):
        step = row.get("step")
        if step == "features":
            out["features, s"] = row["seconds"]
        elif step == "train":
            out["train (features cached), s"] = row["seconds_features_cached"]
        elif step == "score":
            out["score, s"] = row["seconds"]
        elif step == "explain":
            out["explain one customer, median ms"] = row["median_ms"]
    return out


def dashboard_revenue(side: Side, scale: dict[str, Any]) -> Figures:
    args = ["--home", str(side.homes["metrics"]), *scale["dashboard"]]
    args += [
        "--customers",
        str(scale["metrics_customers"]),
        "--months",
        str(scale["metrics_months"]),
    ]
    return {
        f"{row['measure']}, median s": row["median_seconds"]
        for row in side.python("-m", "benchmarks.dashboard_revenue", *args)
        if "measure" in row and row.get("median_seconds") is not None
    }


def high_risk_page(side: Side, scale: dict[str, Any]) -> Figures:
    args = ["--home", str(side.homes["churn"]), *scale["high_risk"]]
    for row in side.python("-m", "benchmarks.high_risk_page", *args):
        if row.get("summary"):
            return {
                "high-risk cold, s": row["cold_seconds"],
                "high-risk warm, median s": row["warm_median_seconds"],
                "home page cold, s": row["baseline_home_cold_seconds"],
                "home page warm, median s": row["baseline_home_warm_median_seconds"],
            }
    raise RuntimeError("high_risk_page printed no summary")


RUNNERS: dict[str, Callable[[Side, dict[str, Any]], Figures]] = {
    "metrics_suite": metrics_suite,
    "health": health,
    "churn_model": churn_model,
    "dashboard_revenue": dashboard_revenue,
    "high_risk_page": high_risk_page,
}


# -- driver ---------------------------------------------------------------------------------------
def prepare(a: Side, b: Side, scale: dict[str, Any], root: Path, wanted: list[str]) -> None:
    """The homes, made by A's code (not timed) and copied for B."""
    if {"metrics_suite", "dashboard_revenue"} & set(wanted):
        home, data = root / "metrics-home-a", root / "metrics-data"
        started = time.perf_counter()
        a.python(
            "-m", "benchmarks.metrics_suite", "--prepare", str(scale["metrics_customers"]),
            "--months", str(scale["metrics_months"]), "--data", str(data), "--home", str(home),
        )  # fmt: skip
        print(f"prepared the metrics home in {time.perf_counter() - started:.0f} s", flush=True)
        a.homes["metrics"] = home
        b.homes["metrics"] = root / "metrics-home-b"
        shutil.copytree(home, b.homes["metrics"])
    if {"churn_model", "high_risk_page"} & set(wanted):
        home = root / "churn-home-a"
        started = time.perf_counter()
        a.python(
            "-c",
            "import sys; from pathlib import Path; from benchmarks.churn_model import prepare; "
            "print(prepare(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), 5))",
            str(home), str(scale["churn_customers"]), str(scale["churn_months"]),
        )  # fmt: skip
        print(f"prepared the churn home in {time.perf_counter() - started:.0f} s", flush=True)
        a.homes["churn"] = home
        b.homes["churn"] = root / "churn-home-b"
        shutil.copytree(home, b.homes["churn"])


def table(results: dict[str, dict[str, dict[str, list[float]]]], a: Side, b: Side) -> str:
    lines = [
        f"| benchmark | figure | before median ({a.checkout.name}) "
        f"| after median ({b.checkout.name}) | after/before | |",
        "|---|---|---:|---:|---:|---|",
    ]
    for bench, figures in results.items():
        for figure, sides in figures.items():
            before, after = sides.get("before", []), sides.get("after", [])
            mb = statistics.median(before) if before else None
            ma = statistics.median(after) if after else None
            ratio = ma / mb if mb and ma is not None else None
            flag = f"> {WORSE:.2f}" if ratio is not None and ratio > WORSE else ""
            lines.append(
                f"| {bench} | {figure} | {_num(mb)} | {_num(ma)} "
                f"| {'' if ratio is None else f'{ratio:.2f}'} | {flag} |"
            )
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks compare_speed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--before", type=Path, required=True, help="checkout A")
    parser.add_argument("--after", type=Path, required=True, help="checkout B")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--scale", choices=sorted(SCALES), default="standard")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated benchmarks")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    args = parser.parse_args(argv)
    wanted = [name for name in args.only.split(",") if name]
    unknown = set(wanted) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    scale = SCALES[args.scale]
    a = Side("before", args.before.resolve())
    b = Side("after", args.after.resolve())
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    runs: list[dict[str, Any]] = []
    failed = False
    root = Path(tempfile.mkdtemp(prefix="revintel-compare-speed-"))
    try:
        prepare(a, b, scale, root, wanted)
        for bench in wanted:
            for rep in range(1, args.repeat + 1):
                for side in (a, b):
                    started = time.perf_counter()
                    try:
                        figures = RUNNERS[bench](side, scale)
                    except (RuntimeError, subprocess.TimeoutExpired, KeyError) as exc:
                        failed = True
                        print(f"{bench} {side.label} #{rep}: FAILED {exc}", flush=True)
                        runs.append({"benchmark": bench, "side": side.label, "error": str(exc)})
                        continue
                    wall = time.perf_counter() - started
                    print(f"{bench} {side.label} #{rep} ({wall:.0f} s): {figures}", flush=True)
                    runs.append({"benchmark": bench, "side": side.label, "run": rep, **figures})
                    for figure, value in figures.items():
                        slot = results.setdefault(bench, {}).setdefault(figure, {})
                        slot.setdefault(side.label, []).append(float(value))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print()
    print(
        f"before: {a.checkout}  after: {b.checkout}  scale: {args.scale}, {args.repeat} runs each"
    )
    print(table(results, a, b))
    if args.json:
        args.json.write_text(json.dumps({"scale": args.scale, "runs": runs}, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

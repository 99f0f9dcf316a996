"""Both anomaly detectors on the demo generator's planted anomalies, seed by seed.

For each seed a company is generated (``generate_company``), written and loaded into a temporary
home with ``load_paths``; the monthly MRR and revenue rows, with the drivers the statistical
detector judges them by, come from the metrics engine (``revintel.metrics.service.
rows_with_drivers``, as for the CLI, the API and the dashboard) and go through the same
``metric_anomalies``. Flags are matched with ``truth/anomalies``
(``month``, ``series`` ``mrr`` | ``revenue``, ``kind``, ``size``) by (series, month):

* a planted anomaly is **found** when its series is flagged in its month. The MRR events (price
  increase, mass churn, enterprise cohort) are level shifts: only their first month counts, and a
  flag in a later month is a false alarm;
* a billing outage dips cash revenue and the retried invoices push it back up the next month (the
  generator documents that rebound). A revenue flag in the month right after a planted outage is
  counted as part of the same event: neither a hit nor a false alarm;
* every other flag is a false alarm, including a revenue flag in the month of an MRR event (the
  event does move cash too, but the truth table does not list it, and we do not guess it).
  ``secondary`` also reports precision when a flag on the *other* series in a planted month is
  not counted against the detector, for information.

The detector by parts (session 3) was designed looking at seeds 1-20 (``--seeds``, the default);
seeds 21-40 (``--holdout``, the default) were first run after its design was frozen
(docs/forecasting.md gives every figure). Prints one JSON line per seed and detector, then per
detector the pooled recall and precision of the design seeds, of the held-out seeds, of all of
them, and of every set of five consecutive seeds (so that a weak set shows):

    uv run --group test python -m benchmarks anomalies [--seeds 1,...,20] [--holdout 21,...,40]
        [--customers 2000] [--months 36]

About 8 s a seed here (2 cores). Targets (issue 3): the statistical detector's recall >= 90% and
precision >= 80% over at least 5 seeds; ``meets_targets`` is judged on every pooled line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCHMARK = "anomalies"
TARGETS = {"recall": 0.90, "precision": 0.80}
DETECTORS = ("rule", "statistical")
SERIES = ("mrr", "revenue")


@dataclass
class Score:
    """Planted anomalies found, missed, and false alarms of one detector."""

    hits: int = 0
    misses: int = 0
    false_alarms: int = 0
    rebounds: int = 0  # flags on the month after a planted outage (same event, not scored)
    other_series: int = 0  # false alarms on the other series in a planted month
    missed: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.hits += other.hits
        self.misses += other.misses
        self.false_alarms += other.false_alarms
        self.rebounds += other.rebounds
        self.other_series += other.other_series
        self.missed += other.missed
        self.false += other.false

    @property
    def recall(self) -> float | None:
        planted = self.hits + self.misses
        return self.hits / planted if planted else None

    @property
    def precision(self) -> float | None:
        flagged = self.hits + self.false_alarms
        return self.hits / flagged if flagged else None

    @property
    def precision_any_series(self) -> float | None:
        flagged = self.hits + self.false_alarms - self.other_series
        return self.hits / flagged if flagged else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "planted": self.hits + self.misses,
            "found": self.hits,
            "false_alarms": self.false_alarms,
            "rebounds_not_scored": self.rebounds,
            "recall": _round(self.recall),
            "precision": _round(self.precision),
            "secondary": {"precision_other_series_in_planted_month_allowed": _round(
                self.precision_any_series
            )},
            "missed": self.missed,
            "false": self.false,
        }  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def company_series(seed: int, customers: int, months: int) -> tuple[dict, list[dict[str, Any]]]:
    """The monthly MRR and revenue rows of one generated company, and its planted anomalies."""
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.core.config import Settings
    from revintel.data.generator import generate_company, write_company
    from revintel.metrics.service import rows_with_drivers

    company = generate_company(customers=customers, months=months, seed=seed)
    planted = company.truth["anomalies"].to_pylist()
    with tempfile.TemporaryDirectory(prefix="revintel-anomalies-") as tmp:
        folder = Path(tmp) / "company"
        write_company(company, folder, "parquet")
        ctx = AppContext(Settings(home=Path(tmp) / "home", warehouse_url=None, database_url=None))
        try:
            load_paths(ctx, [folder], source="benchmark")
            rows = {series: rows_with_drivers(ctx, series) for series in SERIES}
        finally:
            ctx.close()
    return rows, planted


def score(flags: dict[str, set[str]], planted: Sequence[dict[str, Any]], detector: str) -> Score:
    """Match one detector's flagged months per series with the planted anomalies (module doc)."""
    from revintel.core.calendar import month_label, month_number

    result = Score()
    targets = {(p["series"], p["month"]) for p in planted}
    planted_months = {p["month"] for p in planted}
    rebounds = {
        ("revenue", month_label(month_number(p["month"]) + 1))
        for p in planted
        if p["kind"] == "billing_outage"
    }
    for series, month in sorted(targets):
        if month in flags.get(series, set()):
            result.hits += 1
        else:
            result.misses += 1
            result.missed.append(f"{series} {month}")
    for series, months in flags.items():
        for month in sorted(months):
            if (series, month) in targets:
                continue
            if (series, month) in rebounds:
                result.rebounds += 1
                continue
            result.false_alarms += 1
            result.false.append(f"{series} {month}")
            if month in planted_months:
                result.other_series += 1
    return result


def run_seed(seed: int, customers: int, months: int) -> dict[str, Score]:
    from revintel.forecast.service import metric_anomalies

    started = time.perf_counter()
    rows, planted = company_series(seed, customers, months)
    flags: dict[str, dict[str, set[str]]] = {d: {s: set() for s in SERIES} for d in DETECTORS}
    detect_started = time.perf_counter()
    for series in SERIES:
        for anomaly in metric_anomalies(rows[series], series):  # type: ignore[arg-type]
            flags[anomaly.detector][series].add(anomaly.month)
    detect_seconds = time.perf_counter() - detect_started
    scores = {}
    for detector in DETECTORS:
        scores[detector] = score(flags[detector], planted, detector)
        emit(
            seed=seed,
            detector=detector,
            customers=customers,
            months=months,
            events=[f"{p['series']} {p['month']} {p['kind']} {p['size']:+.3f}" for p in planted],
            **scores[detector].as_dict(),
            detect_seconds=round(detect_seconds, 2),
            seconds=round(time.perf_counter() - started, 2),
        )
    return scores


def run(
    label: str, seeds: Sequence[int], customers: int, months: int
) -> dict[int, dict[str, Score]]:
    """Every seed's scores, and the pooled ones printed."""
    scores = {seed: run_seed(seed, customers, months) for seed in seeds}
    pooled(label, scores)
    return scores


def pooled(label: str, scores: dict[int, dict[str, Score]]) -> None:
    """Print each detector's recall and precision over the seeds of ``scores`` together."""
    totals = {d: Score() for d in DETECTORS}
    for by_detector in scores.values():
        for detector, result in by_detector.items():
            totals[detector].add(result)
    seeds = list(scores)
    for detector, total in totals.items():
        met = (
            detector == "statistical"
            and (total.recall or 0) >= TARGETS["recall"]
            and (total.precision or 0) >= TARGETS["precision"]
        )
        emit(
            seeds=label,
            seed_list=list(seeds),
            detector=detector,
            **{k: v for k, v in total.as_dict().items() if k not in ("missed", "false")},
            targets=TARGETS if detector == "statistical" else None,
            meets_targets=met if detector == "statistical" else None,
        )
    return totals


def emit(**fields: Any) -> None:
    print(json.dumps({"benchmark": BENCHMARK, **fields}), flush=True)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seeds", type=_ints, default=list(range(1, 21)), help="Seeds seen during the design."
    )
    parser.add_argument(
        "--holdout", type=_ints, default=list(range(21, 41)), help="Seeds held out from it."
    )
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    scores = run("design", args.seeds, args.customers, args.months)
    if args.holdout:
        scores |= run("held out", args.holdout, args.customers, args.months)
        pooled("all", scores)
    seeds = list(scores)
    for i in range(0, len(seeds) - 4, 5):  # every set of five consecutive seeds
        five = seeds[i : i + 5]
        pooled(f"{five[0]}-{five[-1]}", {s: scores[s] for s in five})


if __name__ == "__main__":
    main()

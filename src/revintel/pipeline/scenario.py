"""The scenario calculator (``docs/pipeline.md``, Scenario calculator).

Inputs are relative changes. With *pipeline* the open pipeline and *win rate* the closed win rate
by count (won ÷ closed):

    projected pipeline = pipeline × (1 + pipeline_growth)
    projected win rate = min(1, win rate × (1 + win_rate_increase))
    projected forecast = projected pipeline × projected win rate × (1 + deal_size_increase)
    baseline forecast  = pipeline × win rate
    delta              = projected forecast − baseline forecast (and ÷ baseline, in percent)

Cycle time: each open deal's days to its expected close (0 when already past it) are multiplied by
(1 + cycle_time_change); the bookings *within the horizon* are the forecast over the deals whose
(projected) days to close are at most ``horizon_days``. A shorter cycle (a negative change) moves
bookings earlier, into the horizon.

Distribution: ``simulations`` runs, each drawing the projected number of deals (open deals × (1 +
pipeline_growth), rounded) with replacement from the open deals, each won with the projected win
rate, its amount × (1 + deal_size_increase). The baseline is simulated the same way with no
change. Percentiles 5/10/50/90/95 and the mean are returned. Past :data:`MAX_DRAWS` deal draws the
sum is drawn from its normal approximation instead (``method``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from revintel.core.errors import InvalidOption

INPUTS: tuple[str, ...] = (
    "win_rate_increase",
    "deal_size_increase",
    "pipeline_growth",
    "cycle_time_change",
)
PERCENTILES: tuple[int, ...] = (5, 10, 50, 90, 95)


class InvalidScenario(InvalidOption):
    """A scenario input is out of range."""


@dataclass(frozen=True)
class ScenarioInputs:
    """Relative changes; each must be a finite number ≥ −1 (cycle time > −1)."""

    win_rate_increase: float = 0.0
    deal_size_increase: float = 0.0
    pipeline_growth: float = 0.0
    cycle_time_change: float = 0.0

    def __post_init__(self) -> None:
        check_inputs(asdict(self))


def check_inputs(values: dict[str, float], where: str = "") -> None:
    """:class:`InvalidScenario` naming the field when a value is not a finite number ≥ −1."""
    for name, value in values.items():
        label = f"{where}{name}"
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidScenario(f"{label}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise InvalidScenario(f"{label}: expected a finite number, got {value!r}")
        if name == "cycle_time_change" and value <= -1:
            raise InvalidScenario(f"{label}: expected a relative change above -1, got {value}")
        if value < -1:
            raise InvalidScenario(
                f"{label}: expected a relative change of at least -1, got {value}"
            )
        if value > 100:
            raise InvalidScenario(
                f"{label}: expected a relative change of at most 100, got {value}"
            )


@dataclass(frozen=True)
class Distribution:
    mean: float
    percentiles: dict[str, float]


@dataclass(frozen=True)
class ScenarioResult:
    baseline: dict[str, Any]
    projected: dict[str, Any]
    delta: dict[str, float | None]
    inputs: dict[str, float]
    horizon_days: int
    distribution: dict[str, Distribution]
    simulations: int
    method: str = "deal by deal"
    by_segment: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return out


def _within(amounts: np.ndarray, days: np.ndarray, horizon: int, factor: float) -> float:
    return float(amounts[days * factor <= horizon].sum())


def formulas(pipeline: float, win_rate: float, inputs: ScenarioInputs) -> dict[str, Any]:
    """The issue's exact formulas: baseline, projected and delta (no simulation)."""
    projected_pipeline = pipeline * (1.0 + inputs.pipeline_growth)
    projected_win_rate = min(1.0, win_rate * (1.0 + inputs.win_rate_increase))
    baseline_forecast = pipeline * win_rate
    projected_forecast = projected_pipeline * projected_win_rate * (1.0 + inputs.deal_size_increase)
    delta = projected_forecast - baseline_forecast
    return {
        "baseline": {"pipeline": pipeline, "win_rate": win_rate, "forecast": baseline_forecast},
        "projected": {
            "pipeline": projected_pipeline,
            "win_rate": projected_win_rate,
            "deal_size_change": f"{inputs.deal_size_increase * 100:+.1f}%",
            "forecast": projected_forecast,
        },
        "delta": {
            "value": delta,
            "percent": None if baseline_forecast == 0 else delta / baseline_forecast * 100.0,
        },
    }


MAX_DRAWS = 20_000_000
"""Above this many deal draws (deals × runs), the sum is drawn from its normal approximation
(the sum of many independent deals, by the central limit theorem) instead of deal by deal."""


def _simulate(
    rng: np.random.Generator,
    amounts: np.ndarray,
    n_deals: int,
    win_rate: float,
    size: float,
    runs: int,
) -> np.ndarray:
    if len(amounts) == 0 or n_deals == 0:
        return np.zeros(runs)
    if n_deals * runs > MAX_DRAWS:
        # One deal drawn from the pipeline and won with probability p adds X = a·B, with
        # E[X] = p·E[a] and Var[X] = p·E[a²] − p²·E[a]².
        mean = win_rate * float(amounts.mean())
        var = win_rate * float((amounts**2).mean()) - mean**2
        draws = rng.normal(n_deals * mean, np.sqrt(max(var, 0.0) * n_deals), runs)
        return np.clip(draws, 0.0, None) * size
    out = np.empty(runs)
    for i in range(runs):
        picked = amounts[rng.integers(0, len(amounts), n_deals)]
        out[i] = float(picked[rng.random(n_deals) < win_rate].sum()) * size
    return out


def _distribution(values: np.ndarray) -> Distribution:
    return Distribution(
        mean=float(values.mean()),
        percentiles={f"p{q}": float(np.percentile(values, q)) for q in PERCENTILES},
    )


def run_scenario(
    amounts: np.ndarray,
    days_to_close: np.ndarray,
    win_rate: float,
    inputs: ScenarioInputs,
    *,
    horizon_days: int = 90,
    simulations: int = 2000,
    seed: int = 0,
) -> ScenarioResult:
    """Baseline against projected for the open deals' ``amounts`` (and days to expected close).

    ``days_to_close`` is NaN for a deal with no expected close date (never within the horizon).
    """
    if not 0.0 <= win_rate <= 1.0:
        raise InvalidScenario(f"win_rate: expected a rate in [0, 1], got {win_rate}")
    amounts = np.asarray(amounts, dtype=float)
    days = np.clip(np.asarray(days_to_close, dtype=float), 0, None)
    days = np.where(np.isnan(days), np.inf, days)
    pipeline = float(amounts.sum())
    out = formulas(pipeline, win_rate, inputs)
    size = 1.0 + inputs.deal_size_increase
    growth = 1.0 + inputs.pipeline_growth
    projected_rate = out["projected"]["win_rate"]
    base_in = _within(amounts, days, horizon_days, 1.0)
    proj_in = _within(amounts, days, horizon_days, 1.0 + inputs.cycle_time_change)
    out["baseline"]["forecast_in_horizon"] = base_in * win_rate
    out["projected"]["forecast_in_horizon"] = proj_in * growth * projected_rate * size
    runs = int(simulations)
    rng = np.random.default_rng(seed)
    n = len(amounts)
    base_sim = _simulate(rng, amounts, n, win_rate, 1.0, runs)
    proj_sim = _simulate(rng, amounts, round(n * growth), projected_rate, size, runs)
    return ScenarioResult(
        baseline=out["baseline"],
        projected=out["projected"],
        delta=out["delta"],
        inputs=asdict(inputs),
        horizon_days=horizon_days,
        distribution={"baseline": _distribution(base_sim), "projected": _distribution(proj_sim)},
        simulations=runs,
        method=(
            "normal approximation"
            if max(n, round(n * growth)) * runs > MAX_DRAWS
            else "deal by deal"
        ),
    )

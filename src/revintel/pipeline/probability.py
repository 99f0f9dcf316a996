"""Close probability: brief 003's transparent rule, and a calibrated model of deals' outcomes.

Definitions: ``docs/pipeline.md``, Close probability.

**Rule** (:func:`rule_probability`), in percent, every weight in the pipeline settings
(``[forecast]`` ``rule_*``):

    base          = rule_base_probability[stage]
    engagement    = min(cap, lead_score × w_score + interactions × w_int + objections × w_obj)
    qualification = champion_boost·[champion] + budget_boost·[budget] + dm_boost·[decision maker]
    velocity      = min(cap, max(0, days_in_stage − stage_day_limit) × penalty_per_day)
    competition   = min(cap, competitors × competitor_penalty)
    probability   = clamp(base + engagement + qualification − velocity − competition, min, max)

**Model** (:func:`fit_close_model`): one row per (deal, month-start snapshot *D*) for every deal
open on *D* that closed later; the features are the deal as it stood on *D*
(:mod:`revintel.pipeline.snapshot`), never at its close; the label is whether it was won. Deals are
split by close date: the first 60 % train, the next 20 % calibrate (Platt scaling), the last 20 %
are held out for the ROC AUC, the Brier score and the calibration table. Logistic regression and
LightGBM are both fitted; the one with the lower calibrated Brier score on the calibration deals is
kept (the measured choice, reported as ``method``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from revintel.core.errors import InvalidOption, NoDataError
from revintel.pipeline.stages import OPEN_STAGES

if TYPE_CHECKING:
    from pathlib import Path

    from revintel.pipeline.config import ForecastSettings

FLAGS: tuple[str, ...] = ("has_champion", "budget_confirmed", "decision_maker_engaged")
CATEGORICAL: tuple[str, ...] = (
    "stage",
    "deal_type",
    "segment",
    "competitor",
    "lead_source",
    "product",
)
NUMERIC: tuple[str, ...] = (
    "log_amount",
    "amount_ratio",
    "age_days",
    "days_in_stage",
    "close_pushes",
    "activities_30d",
    "days_since_activity",
)
MIN_TRAINING_DEALS = 30


class InvalidCloseProbabilityInput(InvalidOption):
    """A close-probability request field is invalid."""


# -- the rule ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleInput:
    """Brief 003's request fields."""

    deal_stage: str
    days_in_stage: int = 0
    lead_score: float = 0.0
    num_interactions: int = 0
    num_objections_handled: int = 0
    champion_identified: bool = False
    budget_confirmed: bool = False
    decision_maker_engaged: bool = False
    competitors_mentioned: int = 0


@dataclass(frozen=True)
class RuleResult:
    close_probability: float
    confidence: str
    key_factors: list[str]
    breakdown: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "close_probability": self.close_probability,
            "confidence": self.confidence,
            "key_factors": self.key_factors,
            "breakdown": self.breakdown,
        }


def stage_named(stage: str, what: str = "deal_stage") -> str:
    """The open stage called ``stage`` (case-insensitive); an error naming ``what`` otherwise."""
    for s in OPEN_STAGES:
        if s.lower() == stage.strip().lower():
            return s
    raise InvalidCloseProbabilityInput(
        f"{what}: unknown stage {stage!r}; expected one of {', '.join(OPEN_STAGES)}"
    )


def rule_probability(inp: RuleInput, cfg: ForecastSettings) -> RuleResult:
    """Brief 003's multi-factor rule with its breakdown (module docstring)."""
    stage = stage_named(inp.deal_stage)
    for name in ("days_in_stage", "num_interactions", "num_objections_handled"):
        if getattr(inp, name) < 0:
            raise InvalidCloseProbabilityInput(f"{name}: expected a count ≥ 0")
    if inp.competitors_mentioned < 0:
        raise InvalidCloseProbabilityInput("competitors_mentioned: expected a count ≥ 0")
    if not 0 <= inp.lead_score <= 100:
        raise InvalidCloseProbabilityInput("lead_score: expected a score in 0-100")
    base = cfg.rule_base_probability[OPEN_STAGES.index(stage)]
    engagement = min(
        cfg.rule_engagement_cap,
        inp.lead_score * cfg.rule_lead_score_weight
        + inp.num_interactions * cfg.rule_interaction_weight
        + inp.num_objections_handled * cfg.rule_objection_weight,
    )
    qualification = (
        cfg.rule_champion_boost * inp.champion_identified
        + cfg.rule_budget_boost * inp.budget_confirmed
        + cfg.rule_decision_maker_boost * inp.decision_maker_engaged
    )
    velocity = min(
        cfg.rule_velocity_penalty_cap,
        max(0, inp.days_in_stage - cfg.rule_stage_day_limit) * cfg.rule_velocity_penalty_per_day,
    )
    competition = min(
        cfg.rule_competition_penalty_cap, inp.competitors_mentioned * cfg.rule_competitor_penalty
    )
    raw = base + engagement + qualification - velocity - competition
    p = min(cfg.rule_max_probability, max(cfg.rule_min_probability, raw))
    factors: list[str] = []
    if engagement >= 0.6 * cfg.rule_engagement_cap and engagement > 0:
        factors.append("Strong engagement")
    elif inp.num_interactions < 2:
        factors.append("Little engagement")
    qualified = sum((inp.champion_identified, inp.budget_confirmed, inp.decision_maker_engaged))
    factors.append("Well qualified" if qualified >= 2 else "Qualification gaps")
    if velocity > 0:
        factors.append(f"{inp.days_in_stage} days in {stage} (over {cfg.rule_stage_day_limit})")
    if inp.competitors_mentioned:
        factors.append(f"{inp.competitors_mentioned} competitors")
    late = OPEN_STAGES.index(stage) >= 2
    if late and qualified >= 2 and inp.num_interactions >= 5:
        confidence = "high"
    elif OPEN_STAGES.index(stage) == 0 or inp.num_interactions < 2:
        confidence = "low"
    else:
        confidence = "medium"
    return RuleResult(
        close_probability=round(p, 1),
        confidence=confidence,
        key_factors=factors,
        breakdown={
            "base_probability": round(base, 2),
            "engagement_boost": round(engagement, 2),
            "qualification_boost": round(qualification, 2),
            "velocity_penalty": round(velocity, 2),
            "competition_penalty": round(competition, 2),
            "raw_total": round(raw, 2),
        },
    )


# -- features ------------------------------------------------------------------------------------
def feature_frame(snap: pl.DataFrame) -> pl.DataFrame:
    """Model features of a snapshot frame (one row per deal and snapshot date)."""
    cols = snap.columns
    exprs: list[pl.Expr] = [
        pl.col("amount").fill_null(0).clip(0).log1p().alias("log_amount"),
        (pl.col("amount") / pl.col("first_amount").replace(0, None))
        .fill_null(1.0)
        .alias("amount_ratio"),
        pl.col("age_days").cast(pl.Float64),
        pl.col("days_in_stage").cast(pl.Float64),
        pl.col("close_pushes").cast(pl.Float64).fill_null(0),
    ]
    for c in ("activities_30d", "days_since_activity"):
        exprs.append(
            pl.col(c).cast(pl.Float64).fill_null(-1) if c in cols else pl.lit(-1.0).alias(c)
        )
    for c in CATEGORICAL:
        exprs.append(
            pl.col(c).cast(pl.String).fill_null("none") if c in cols else pl.lit("none").alias(c)
        )
    for c in FLAGS:
        exprs.append(
            pl.col(c).cast(pl.Float64).fill_null(0.5) if c in cols else pl.lit(0.5).alias(c)
        )
    return snap.select(exprs)


@dataclass
class Encoder:
    """One-hot levels of each categorical feature, learned on the training rows."""

    levels: dict[str, list[str]]

    @staticmethod
    def fit(frame: pl.DataFrame) -> Encoder:
        return Encoder({c: sorted(frame[c].unique().to_list()) for c in CATEGORICAL})

    def names(self) -> list[str]:
        out = list(NUMERIC) + list(FLAGS)
        for c, levels in self.levels.items():
            out += [f"{c}={v}" for v in levels]
        return out

    def matrix(self, frame: pl.DataFrame) -> np.ndarray:
        parts = [frame.select(NUMERIC + FLAGS).to_numpy().astype(float)]
        for c, levels in self.levels.items():
            values = frame[c].to_numpy()
            parts.append(np.stack([values == v for v in levels], axis=1).astype(float))
        return np.hstack(parts)


# -- the model -----------------------------------------------------------------------------------
@dataclass
class CloseModel:
    """A fitted close-probability model (saved as JSON text, never pickled)."""

    method: str
    encoder: Encoder
    mean: list[float]
    scale: list[float]
    coef: list[float] | None = None
    intercept: float = 0.0
    booster: str | None = None
    platt: tuple[float, float] = (1.0, 0.0)
    metrics: dict[str, Any] = field(default_factory=dict)
    _lgb: Any = None

    def raw(self, x: np.ndarray) -> np.ndarray:
        if self.method == "logistic":
            z = (x - np.array(self.mean)) / np.array(self.scale)
            return z @ np.array(self.coef) + self.intercept
        if self._lgb is None:
            import lightgbm as lgb

            self._lgb = lgb.Booster(model_str=self.booster)
        p = np.clip(self._lgb.predict(x), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Calibrated P(won) per row of a :func:`feature_frame`."""
        if frame.height == 0:
            return np.zeros(0)
        a, b = self.platt
        return _sigmoid(a * self.raw(self.encoder.matrix(frame)) + b)

    def to_json(self) -> str:
        return json.dumps(
            {
                "method": self.method,
                "levels": self.encoder.levels,
                "mean": self.mean,
                "scale": self.scale,
                "coef": self.coef,
                "intercept": self.intercept,
                "booster": self.booster,
                "platt": list(self.platt),
                "metrics": self.metrics,
            }
        )

    @staticmethod
    def from_json(text: str) -> CloseModel:
        d = json.loads(text)
        return CloseModel(
            method=d["method"],
            encoder=Encoder(d["levels"]),
            mean=d["mean"],
            scale=d["scale"],
            coef=d["coef"],
            intercept=d["intercept"],
            booster=d["booster"],
            platt=(d["platt"][0], d["platt"][1]),
            metrics=d["metrics"],
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _fit_logistic(x: np.ndarray, y: np.ndarray, encoder: Encoder) -> CloseModel:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=0.5, max_iter=2000)
    lr.fit((x - mean) / scale, y)
    return CloseModel(
        method="logistic",
        encoder=encoder,
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=lr.coef_[0].tolist(),
        intercept=float(lr.intercept_[0]),
    )


def _fit_lightgbm(x: np.ndarray, y: np.ndarray, encoder: Encoder, seed: int) -> CloseModel:
    import lightgbm as lgb

    params = {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 8,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": seed,
        "verbose": -1,
        "num_threads": 1,
    }
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=200)
    return CloseModel(
        method="lightgbm",
        encoder=encoder,
        mean=[0.0] * x.shape[1],
        scale=[1.0] * x.shape[1],
        booster=booster.model_to_string(),
    )


def _platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2:
        return (1.0, 0.0)
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
    return (float(lr.coef_[0, 0]), float(lr.intercept_[0]))


def roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """ROC AUC (Mann–Whitney with ties counted half); None with one class only."""
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, p))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    """Held-out rows in ``bins`` equal-width probability bins: predicted mean vs observed rate."""
    out = []
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    for b in range(bins):
        m = which == b
        if m.sum() == 0:
            continue
        out.append(
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "rows": int(m.sum()),
                "predicted": round(float(p[m].mean()), 4),
                "observed": round(float(y[m].mean()), 4),
            }
        )
    return out


def split_by_close(rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Deals ordered by close date: first 60 % train, next 20 % calibrate, last 20 % test."""
    deals = (
        rows.group_by("deal_id").agg(pl.col("closed_date").first()).sort(["closed_date", "deal_id"])
    )
    n = deals.height
    cut1, cut2 = int(n * 0.6), int(n * 0.8)
    ids = deals["deal_id"]
    part = {"train": ids[:cut1], "calibration": ids[cut1:cut2], "test": ids[cut2:]}
    return {k: rows.filter(pl.col("deal_id").is_in(v.implode())) for k, v in part.items()}


def fit_close_model(
    rows: pl.DataFrame, *, seed: int = 7, methods: tuple[str, ...] = ("logistic", "lightgbm")
) -> CloseModel:
    """Fit on snapshot rows with ``won`` and ``closed_date`` (module docstring), calibrate, and
    report held-out ``roc_auc``, ``brier`` and ``calibration`` in ``metrics``."""
    n_deals = rows["deal_id"].n_unique() if rows.height else 0
    if n_deals < MIN_TRAINING_DEALS or rows["won"].n_unique() < 2:
        raise NoDataError(
            f"the close-probability model needs at least {MIN_TRAINING_DEALS} closed deals with "
            f"both outcomes seen open at a month-start; found {n_deals}"
        )
    parts = split_by_close(rows)
    feats = {k: feature_frame(v) for k, v in parts.items()}
    ys = {k: v["won"].cast(pl.Float64).to_numpy() for k, v in parts.items()}
    encoder = Encoder.fit(feats["train"])
    xs = {k: encoder.matrix(v) for k, v in feats.items()}
    candidates: list[tuple[float, CloseModel]] = []
    for method in methods:
        if method == "logistic":
            model = _fit_logistic(xs["train"], ys["train"], encoder)
        else:
            model = _fit_lightgbm(xs["train"], ys["train"], encoder, seed)
        model.platt = _platt(model.raw(xs["calibration"]), ys["calibration"])
        p_cal = model.predict(feats["calibration"])
        brier_cal = float(np.mean((p_cal - ys["calibration"]) ** 2))
        p_test = model.predict(feats["test"])
        model.metrics = {
            "calibration_brier": round(brier_cal, 4),
            "roc_auc": _round(roc_auc(ys["test"], p_test)),
            "brier": round(float(np.mean((p_test - ys["test"]) ** 2)), 4),
        }
        candidates.append((brier_cal, model))
    candidates.sort(key=lambda c: c[0])
    best = candidates[0][1]
    p_test = best.predict(feats["test"])
    best.metrics.update(
        {
            "method": best.method,
            "candidates": {m.method: dict(m.metrics) for _, m in candidates},
            "train_deals": parts["train"]["deal_id"].n_unique(),
            "calibration_deals": parts["calibration"]["deal_id"].n_unique(),
            "test_deals": parts["test"]["deal_id"].n_unique(),
            "test_rows": parts["test"].height,
            "test_from": str(parts["test"]["closed_date"].min()),
            "test_win_rate": round(float(ys["test"].mean()), 4),
            "calibration": calibration_table(ys["test"], p_test),
        }
    )
    best.metrics["static_roc_auc"] = _static_auc(feats, ys)
    return best


STATIC_FEATURES: tuple[str, ...] = ("deal_type", "segment", "competitor", *FLAGS)
"""What the generator's true win probability depends on (``truth/deal_win_drivers``)."""


def _static_auc(feats: dict[str, pl.DataFrame], ys: dict[str, np.ndarray]) -> float | None:
    """Held-out AUC of a logistic model on :data:`STATIC_FEATURES` only: the like-for-like
    comparison with the oracle (the full model also sees how far each deal has progressed)."""

    def blank(f: pl.DataFrame) -> pl.DataFrame:
        keep = set(STATIC_FEATURES)
        return f.with_columns(
            [pl.lit(0.0).alias(c) for c in NUMERIC]
            + [pl.lit("none").alias(c) for c in CATEGORICAL if c not in keep]
        )

    train = pl.concat([blank(feats["train"]), blank(feats["calibration"])])
    y = np.concatenate([ys["train"], ys["calibration"]])
    encoder = Encoder.fit(train)
    model = _fit_logistic(encoder.matrix(train), y, encoder)
    return _round(roc_auc(ys["test"], model.predict(blank(feats["test"]))))


def fit_quick(rows: pl.DataFrame) -> CloseModel | None:
    """A logistic model on every row, without a hold-out (the backtest refits it each month on
    what was closed by then); None when there are too few deals or one outcome only."""
    if rows.height == 0 or rows["deal_id"].n_unique() < MIN_TRAINING_DEALS:
        return None
    if rows["won"].n_unique() < 2:
        return None
    frame = feature_frame(rows)
    encoder = Encoder.fit(frame)
    return _fit_logistic(encoder.matrix(frame), rows["won"].cast(pl.Float64).to_numpy(), encoder)


def _round(v: float | None) -> float | None:
    return None if v is None or math.isnan(v) else round(v, 4)


# -- the oracle ----------------------------------------------------------------------------------
def true_win_logit(rows: pl.DataFrame, drivers: pl.DataFrame) -> np.ndarray:
    """The generator's planted log-odds of winning for each row (``truth/deal_win_drivers``):
    intercept[deal_type] + segment shift + Σ flag coefficients + competitor coefficient."""
    coef = dict(zip(drivers["feature"].to_list(), drivers["coefficient"].to_list(), strict=True))
    z = np.zeros(rows.height)
    dt = rows["deal_type"].fill_null("").to_list() if "deal_type" in rows.columns else []
    seg = rows["segment"].fill_null("").to_list() if "segment" in rows.columns else []
    comp = rows["competitor"].fill_null("").to_list() if "competitor" in rows.columns else []
    for i in range(rows.height):
        if dt:
            z[i] += coef.get(f"intercept[deal_type={dt[i]}]", 0.0)
        if seg:
            z[i] += coef.get(f"segment={seg[i]}", 0.0)
        if comp and comp[i]:
            z[i] += coef.get(f"competitor={comp[i]}", 0.0)
    for flag in FLAGS:
        if flag in rows.columns and flag in coef:
            z += coef[flag] * rows[flag].cast(pl.Float64).fill_null(0).to_numpy()
    return z


def oracle_auc(test_rows: pl.DataFrame, truth_dir: Path) -> float | None:
    """ROC AUC of the generator's true win probabilities on the held-out rows; None without the
    truth folder (data that is not revintel's demo)."""
    # ``deal_signals`` holds each deal's true win probability (``true_win_probability``); an
    # older truth folder has only the coefficients of ``deal_win_drivers``.
    for name in ("deal_signals.parquet", "deal_win_drivers.parquet"):
        path = truth_dir / name
        if not path.exists():
            continue
        truth = pl.read_parquet(path)
        y = test_rows["won"].cast(pl.Float64).to_numpy()
        if name.startswith("deal_signals"):
            if "true_win_probability" not in truth.columns:
                continue
            p = test_rows.select("deal_id").join(
                truth.select("deal_id", pl.col("true_win_probability").alias("_p")),
                on="deal_id",
                how="left",
            )["_p"]
            if p.null_count():
                continue
            return _round(roc_auc(y, p.to_numpy()))
        return _round(roc_auc(y, true_win_logit(test_rows, truth)))
    return None

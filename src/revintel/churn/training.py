"""Training the churn model: LightGBM, Platt calibration, a logistic baseline, splits, importance.

* **Model**: gradient-boosted trees (LightGBM, Ke et al. 2017, "LightGBM: A Highly Efficient
  Gradient Boosting Decision Tree") on the :func:`~revintel.churn.tabular.encode` matrix, with
  categorical columns as LightGBM categorical features. Class imbalance is handled by weighting
  churners by ``n_retained / n_churned`` (``scale_pos_weight``, the default) or LightGBM's
  ``is_unbalance``; boosting stops early when the calibration frame's AUC has not improved for
  ``early_stopping_rounds`` rounds.
* **Calibration**: Platt scaling (Platt 1999, "Probabilistic outputs for support vector
  machines"): ``P(churn) = σ(a × margin + b)`` with ``a, b`` a logistic regression of the
  calibration frame's label on the raw boosted margin. It is affine in the margin, so the exact
  TreeSHAP contributions (Lundberg et al. 2020, "From local explanations to global understanding
  with explainable AI for trees"; LightGBM ``pred_contrib``) times ``a``, with ``a × bias + b`` as
  the new bias, still add up to the calibrated log-odds of every row.
* **Baseline**: logistic regression on the same columns (numbers imputed with the median plus a
  missing indicator and standardised; categoricals one-hot), with ``class_weight="balanced"`` like
  the trees, and Platt-calibrated on the same calibration frame so both report comparable
  probabilities.

Training is seeded and single-machine deterministic (``deterministic=True``,
``force_row_wise=True``, a fixed thread count): the same data, config and machine give the same
probabilities.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import lightgbm
import numpy as np
import polars as pl
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from revintel.churn.tabular import ColumnSpec, encode, parse_target
from revintel.core.errors import Problem, ValidationFailed

Progress = Callable[[float, str], None]

BUNDLE_FORMAT = "revintel.churn.model/1"

# Types skops reports as untrusted in a bundle (``skops.io.get_untrusted_types``); loading a model
# file trusts exactly these (tests/churn/test_training.py checks the list is complete).
SKOPS_TYPES: list[str] = [
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "numpy.dtype",
]

DEFAULT_THREADS = min(4, os.cpu_count() or 1)
PLATT_C = 1e6  # effectively unpenalised: two parameters, thousands of rows


@dataclass
class TrainConfig:
    """Hyper-parameters; the defaults suit customer tables of 1k to 2M rows."""

    seed: int = 42
    n_estimators: int = 1000  # upper bound; early stopping picks the number of rounds
    learning_rate: float = 0.05
    num_leaves: int = 31
    max_depth: int = 6  # bounds TreeSHAP cost (O(leaves × depth²) per tree) at no loss in AUC
    min_child_samples: int = 50
    subsample: float = 0.8  # bagging fraction, redrawn every round
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    max_bin: int = 255
    max_cat_to_onehot: int = 8
    cat_smooth: float = 10.0
    early_stopping_rounds: int = 50
    imbalance: Literal["scale_pos_weight", "is_unbalance", "none"] = "scale_pos_weight"
    calibration: Literal["platt"] = "platt"
    baseline_class_weight: Literal["balanced", "none"] = "balanced"
    baseline_c: float = 1.0
    num_threads: int = DEFAULT_THREADS

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`as_dict`; unknown keys are ignored."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^−x), computed stably."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for large |x|


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 − p)), with p clipped to [1e-15, 1 − 1e-15]."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15)
    return np.log(p) - np.log1p(-p)


@dataclass
class ChurnModel:
    """A trained churn model: calibrated LightGBM plus a calibrated logistic baseline."""

    specs: list[ColumnSpec]
    target: str
    lgbm: lightgbm.LGBMClassifier
    platt: tuple[float, float]  # calibrated logit = a × raw margin + b
    baseline: Pipeline
    baseline_platt: tuple[float, float] = (1.0, 0.0)  # same, on the baseline's decision function
    params: dict[str, Any] = field(default_factory=dict)  # config, rounds used, class weights
    id_column: str | None = None
    horizon_months: int | None = None

    @property
    def feature_names(self) -> list[str]:
        """Input columns, in the order of the encoded matrix."""
        return [s.name for s in self.specs]

    @property
    def num_iteration(self) -> int | None:
        """Boosting rounds used for prediction (the early-stopping best)."""
        n = self.params.get("best_iteration")
        return int(n) if n else None

    # -- on the encoded matrix (what-if and batch code reuse these) --------------------------------

    def encode(self, frame: pl.DataFrame, source: str = "table") -> np.ndarray:
        """The frame as the model's float64 matrix (see :func:`~revintel.churn.tabular.encode`)."""
        return encode(frame, self.specs, source=source)

    def margin_from_matrix(self, x: np.ndarray) -> np.ndarray:
        """Calibrated log-odds of churn for an encoded matrix."""
        raw = self.lgbm.booster_.predict(x, raw_score=True, num_iteration=self.num_iteration)
        a, b = self.platt
        return a * np.asarray(raw, dtype=np.float64) + b

    def proba_from_matrix(self, x: np.ndarray) -> np.ndarray:
        """Calibrated P(churn) for an encoded matrix."""
        return sigmoid(self.margin_from_matrix(x))

    def contributions_from_matrix(self, x: np.ndarray) -> np.ndarray:
        """(n, k+1) TreeSHAP contributions in calibrated log-odds; the last column is the bias."""
        raw = np.asarray(
            self.lgbm.booster_.predict(x, pred_contrib=True, num_iteration=self.num_iteration),
            dtype=np.float64,
        )
        a, b = self.platt
        out = raw * a
        out[:, -1] += b
        return out

    # -- on frames ---------------------------------------------------------------------------------

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        """Calibrated P(churn) per row of ``frame`` (which needs at least the spec columns)."""
        return self.proba_from_matrix(self.encode(frame))

    def baseline_proba(self, frame: pl.DataFrame) -> np.ndarray:
        """Calibrated P(churn) from the logistic-regression baseline."""
        decision = self.baseline.decision_function(self.encode(frame))
        a, b = self.baseline_platt
        return sigmoid(a * np.asarray(decision, dtype=np.float64) + b)

    def contributions(self, frame: pl.DataFrame) -> np.ndarray:
        """(n, k+1) contributions in calibrated log-odds; row sums equal logit(predict_proba)."""
        return self.contributions_from_matrix(self.encode(frame))

    def importance(self) -> dict[str, float]:
        """Share of total split gain per feature (sums to 1; no data needed).

        Mean |SHAP| over a reference frame (:func:`global_importance`) is the better measure.
        """
        gain = np.asarray(
            self.lgbm.booster_.feature_importance(
                importance_type="gain", iteration=self.num_iteration
            ),
            dtype=np.float64,
        )
        total = gain.sum()
        share = gain / total if total > 0 else gain
        return {name: float(v) for name, v in zip(self.feature_names, share, strict=True)}

    # -- persistence -------------------------------------------------------------------------------

    def to_bundle(self) -> dict[str, Any]:
        """Plain dict of sklearn/LightGBM objects and JSON-able values, for ``skops.io.dump``."""
        return {
            "format": BUNDLE_FORMAT,
            "specs": [s.as_dict() for s in self.specs],
            "target": self.target,
            "id_column": self.id_column,
            "horizon_months": self.horizon_months,
            "lgbm": self.lgbm,
            "platt": [float(self.platt[0]), float(self.platt[1])],
            "baseline": self.baseline,
            "baseline_platt": [float(self.baseline_platt[0]), float(self.baseline_platt[1])],
            "params": dict(self.params),
        }

    @classmethod
    def from_bundle(cls, bundle: dict[str, Any]) -> ChurnModel:
        """Inverse of :meth:`to_bundle`."""
        if bundle.get("format") != BUNDLE_FORMAT:
            raise ValidationFailed(
                [
                    Problem(
                        file="model file",
                        column="format",
                        message="not a revintel churn model",
                        expected=BUNDLE_FORMAT,
                        got=str(bundle.get("format")),
                    )
                ]
            )
        return cls(
            specs=[ColumnSpec.from_dict(d) for d in bundle["specs"]],
            target=str(bundle["target"]),
            id_column=bundle.get("id_column"),
            horizon_months=bundle.get("horizon_months"),
            lgbm=bundle["lgbm"],
            platt=(float(bundle["platt"][0]), float(bundle["platt"][1])),
            baseline=bundle["baseline"],
            baseline_platt=(float(bundle["baseline_platt"][0]), float(bundle["baseline_platt"][1])),
            params=dict(bundle.get("params", {})),
        )


# -- training --------------------------------------------------------------------------------------


def _labels(frame: pl.DataFrame, target: str, given: np.ndarray | None, source: str) -> np.ndarray:
    if given is not None:
        y = np.asarray(given, dtype=bool)
        if len(y) != frame.height:
            raise ValueError(f"{source}: {len(y)} labels for {frame.height} rows")
        return y
    if target not in frame.columns:
        raise ValidationFailed(
            [Problem(file=source, column=target, message="target column is missing")]
        )
    return parse_target(frame[target], target, source=source)


def fit_platt(score: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: (a, b) with P(y) = σ(a × score + b), by (nearly) unpenalised ML."""
    lr = LogisticRegression(C=PLATT_C, solver="lbfgs", max_iter=1000)
    lr.fit(np.asarray(score, dtype=np.float64).reshape(-1, 1), np.asarray(y, dtype=bool))
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


BASELINE_MAX_ROWS = 200_000


def _baseline_rows(y: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Indices of at most ``limit`` rows, sampled per class in proportion (all rows if fewer)."""
    if len(y) <= limit:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    share = limit / len(y)
    picked = [
        rng.choice(idx, size=max(1, round(len(idx) * share)), replace=False)
        for idx in (np.flatnonzero(y), np.flatnonzero(~y))
    ]
    return np.sort(np.concatenate(picked))


def _baseline_pipeline(specs: list[ColumnSpec], config: TrainConfig) -> Pipeline:
    numeric = [i for i, s in enumerate(specs) if s.kind != "categorical"]
    categorical = [i for i, s in enumerate(specs) if s.kind == "categorical"]
    parts: list[tuple[str, Any, list[int]]] = []
    if numeric:
        parts.append(
            (
                "numeric",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                        ("scale", StandardScaler()),
                    ]
                ),
                numeric,
            )
        )
    if categorical:
        parts.append(
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value=-1.0)),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                categorical,
            )
        )
    return Pipeline(
        [
            ("columns", ColumnTransformer(parts, remainder="drop")),
            (
                "logistic",
                LogisticRegression(
                    C=config.baseline_c,
                    class_weight="balanced" if config.baseline_class_weight == "balanced" else None,
                    max_iter=2000,
                    random_state=config.seed,
                ),
            ),
        ]
    )


def _lgbm_params(config: TrainConfig, y: np.ndarray) -> dict[str, Any]:
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    params: dict[str, Any] = {
        "objective": "binary",
        "n_estimators": config.n_estimators,
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "max_depth": config.max_depth,
        "min_child_samples": config.min_child_samples,
        "subsample": config.subsample,
        "subsample_freq": 1 if config.subsample < 1 else 0,
        "colsample_bytree": config.colsample_bytree,
        "reg_lambda": config.reg_lambda,
        "max_bin": config.max_bin,
        "max_cat_to_onehot": config.max_cat_to_onehot,
        "cat_smooth": config.cat_smooth,
        "random_state": config.seed,
        "n_jobs": config.num_threads,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }
    if config.imbalance == "scale_pos_weight":
        params["scale_pos_weight"] = n_neg / n_pos
    elif config.imbalance == "is_unbalance":
        params["is_unbalance"] = True
    return params


def train_model(
    train: pl.DataFrame,
    calibration: pl.DataFrame,
    specs: list[ColumnSpec],
    target: str,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
    *,
    labels: tuple[np.ndarray, np.ndarray] | None = None,
    id_column: str | None = None,
    horizon_months: int | None = None,
) -> ChurnModel:
    """Trains LightGBM and the logistic baseline on ``train``; calibrates both on ``calibration``.

    ``target`` names the label column of both frames (parsed with
    :func:`~revintel.churn.tabular.parse_target`) unless ``labels`` gives the (train, calibration)
    bool arrays. ``calibration`` drives early stopping and Platt scaling, so keep the test frame
    out of it. ``progress(fraction, message)`` is called once per boosting round and per stage.
    """
    config = config or TrainConfig()
    report = progress or (lambda _f, _m: None)
    started = time.perf_counter()
    report(0.0, "Encoding the training data")
    y_train = _labels(train, target, None if labels is None else labels[0], "training data")
    y_cal = _labels(calibration, target, None if labels is None else labels[1], "calibration data")
    for name, y in (("training data", y_train), ("calibration data", y_cal)):
        if y.all() or not y.any():
            raise ValidationFailed(
                [
                    Problem(
                        file=name,
                        column=target,
                        message="has a single class",
                        expected="both churned and retained customers",
                    )
                ]
            )
    x_train = encode(train, specs, source="training data")
    x_cal = encode(calibration, specs, source="calibration data")
    categorical = [i for i, s in enumerate(specs) if s.kind == "categorical"]

    params = _lgbm_params(config, y_train)
    lgbm = lightgbm.LGBMClassifier(**params)
    total = config.n_estimators

    def on_round(env: lightgbm.callback.CallbackEnv) -> None:
        done = env.iteration - env.begin_iteration + 1
        report(min(0.9, 0.02 + 0.88 * done / total), f"Boosting round {done} of at most {total}")

    lgbm.fit(
        x_train,
        y_train,
        eval_X=(x_cal,),
        eval_y=(y_cal,),
        eval_metric="auc",
        categorical_feature=categorical if categorical else "auto",
        callbacks=[
            lightgbm.early_stopping(
                config.early_stopping_rounds, first_metric_only=True, verbose=False
            ),
            on_round,
        ],
    )
    best = int(lgbm.best_iteration_ or lgbm.n_estimators_)

    report(0.9, "Calibrating probabilities (Platt scaling)")
    raw_cal = lgbm.booster_.predict(x_cal, raw_score=True, num_iteration=best)
    platt = fit_platt(raw_cal, y_cal)

    report(0.93, "Training the logistic-regression baseline")
    baseline = _baseline_pipeline(specs, config)
    # The baseline learns a dozen coefficients: 200k rows pin them down, so larger training sets
    # are subsampled (seeded, stratified by label) to keep training time for the real model.
    rows = _baseline_rows(y_train, BASELINE_MAX_ROWS, config.seed)
    baseline.fit(x_train[rows], y_train[rows])
    baseline_platt = fit_platt(baseline.decision_function(x_cal), y_cal)

    seconds = time.perf_counter() - started
    model = ChurnModel(
        specs=list(specs),
        target=target,
        id_column=id_column,
        horizon_months=horizon_months,
        lgbm=lgbm,
        platt=platt,
        baseline=baseline,
        baseline_platt=baseline_platt,
        params={
            "config": config.as_dict(),
            "lightgbm": {k: v for k, v in params.items() if k != "verbosity"},
            "best_iteration": best,
            "train_rows": int(train.height),
            "calibration_rows": int(calibration.height),
            "train_churn_rate": float(y_train.mean()),
            "training_seconds": round(seconds, 3),
        },
    )
    report(1.0, f"Done: {best} boosting rounds in {seconds:.1f} s")
    return model


# -- splits ----------------------------------------------------------------------------------------


def split_random(
    frame: pl.DataFrame,
    target: str | np.ndarray,
    test_share: float = 0.2,
    seed: int = 42,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rest, test): a random split stratified on the label, ``test_share`` of rows in test."""
    from sklearn.model_selection import train_test_split

    y = parse_target(frame[target], target) if isinstance(target, str) else np.asarray(target)
    rows = np.arange(frame.height)
    rest, test = train_test_split(rows, test_size=test_share, random_state=seed, stratify=y)
    return frame[np.sort(rest)], frame[np.sort(test)]


def split_by_time(
    frame: pl.DataFrame,
    time_column: str,
    test_values: list[Any],
    gap: int = 0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train, test): test holds the rows whose ``time_column`` is in ``test_values``; train the
    rows strictly earlier than ``min(test_values) − gap``.

    Use ``gap = horizon`` on monthly cut-offs so no training label looks past the test cut-off.
    """
    if time_column not in frame.columns:
        raise ValidationFailed(
            [Problem(file="table", column=time_column, message="time column is missing")]
        )
    first = min(test_values)
    test = frame.filter(pl.col(time_column).is_in(list(test_values)))
    train = frame.filter(pl.col(time_column) < (first - gap if gap else first))
    return train, test


# -- importance ------------------------------------------------------------------------------------


def global_importance(
    model: ChurnModel, frame: pl.DataFrame, max_rows: int = 20_000, seed: int = 0
) -> list[tuple[str, float]]:
    """(feature, mean |SHAP| in calibrated log-odds) over ``frame`` (a seeded sample of at most
    ``max_rows`` rows), largest first."""
    if frame.height > max_rows:
        frame = frame.sample(n=max_rows, seed=seed)
    contrib = model.contributions(frame)[:, :-1]
    mean_abs = np.abs(contrib).mean(axis=0) if len(contrib) else np.zeros(contrib.shape[1])
    pairs = [(name, float(v)) for name, v in zip(model.feature_names, mean_abs, strict=True)]
    return sorted(pairs, key=lambda kv: -kv[1])

"""The model registry: versions, promote / reject / rollback, restart, skops export and import."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import polars as pl
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from revintel.churn import registry
from revintel.churn.registry import (
    InvalidModelFile,
    ModelStateError,
    UntrustedModelFile,
)
from revintel.config import Settings
from revintel.context import AppContext
from revintel.errors import NotFoundError, RevintelError
from tests.conftest import isolated_settings


class NotAModelPart:
    """A type no model file may carry."""

    def __init__(self, value: int = 1) -> None:
        self.value = value


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    """A bundle shaped like ``ChurnModel.to_bundle()``: LightGBM, a sklearn pipeline, arrays."""
    rng = np.random.default_rng(7)
    n = 300
    frame = pd.DataFrame(
        {
            "late_payments": rng.poisson(1.0, n).astype(float),
            "mrr": rng.gamma(2.0, 100.0, n),
            "plan": rng.choice(["Basic", "Pro", "Enterprise"], n),
        }
    )
    frame.loc[::17, "mrr"] = np.nan
    y = (frame["late_payments"] + rng.normal(0, 1, n) > 1.5).astype(int).to_numpy()
    lgbm = lightgbm.LGBMClassifier(n_estimators=15, num_leaves=7, verbose=-1, random_state=1)
    lgbm.fit(frame[["late_payments", "mrr"]].to_numpy(), y)
    numeric = Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    baseline = Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [("num", numeric, ["late_payments", "mrr"]), ("cat", categorical, ["plan"])]
                ),
            ),
            ("model", LogisticRegression(max_iter=200)),
        ]
    ).fit(frame, y)
    return {
        "format": 1,
        "specs": [
            {"name": "late_payments", "kind": "numeric", "categories": None},
            {"name": "mrr", "kind": "numeric", "categories": None},
            {"name": "plan", "kind": "categorical", "categories": ["Basic", "Enterprise", "Pro"]},
        ],
        "target": "churned_1m",
        "id_column": "account_id",
        "horizon_months": 1,
        "lgbm": lgbm,
        "platt": [1.0, 0.0],
        "baseline": baseline,
        "baseline_platt": [1.0, 0.0],
        "params": {"seed": 1, "n_estimators": 15},
        "train_means": np.array([1.0, 200.0]),
        "_probe": frame[["late_payments", "mrr"]].to_numpy()[:5],
    }


def _register(ctx: AppContext, bundle: dict[str, Any], **overrides: Any) -> registry.ModelRecord:
    args: dict[str, Any] = {
        "kind": "warehouse",
        "horizon": 1,
        "metrics": {
            "roc_auc": 0.85,
            "pr_auc": 0.5,
            "confusion_matrix": [[80, 5], [6, 9]],
            "baseline": {"roc_auc": 0.8},
        },
        "params": {"seed": 1},
        "features": [{"name": "late_payments", "kind": "numeric", "categories": None}],
        "importance": {"late_payments": 0.4, "mrr": 0.2},
        "reference": {"format": 1, "bins": 10, "rows": 3, "features": {}},
        "training_from": "2025-01",
        "training_to": "2025-12",
        "data_hash": registry.frame_hash(pl.DataFrame({"a": [1, 2, 3]})),
        "source": "warehouse",
    }
    args.update(overrides)
    return registry.register(ctx, bundle, **args)


@pytest.fixture
def ctx(empty_context: AppContext) -> AppContext:
    return empty_context


def test_register_writes_the_file_and_the_row(ctx: AppContext, bundle: dict[str, Any]) -> None:
    record = _register(ctx, bundle)

    assert record.version == "churn-1m-v1"
    assert record.status == "candidate" and record.promoted_at is None
    assert record.artifact == "models/churn-1m-v1.skops"
    assert (ctx.settings.home / record.artifact).is_file()
    assert not [p for p in (ctx.settings.home / "models").iterdir() if p.suffix != ".skops"]
    assert len(record.data_hash) == 64 and record.created_at.utcoffset() is not None
    json.dumps(record.as_dict())  # JSON-able for the API and the CLI
    assert "reference" not in record.as_dict(reference=False)


def test_versions_count_per_kind_and_horizon(ctx: AppContext, bundle: dict[str, Any]) -> None:
    versions = [
        _register(ctx, bundle).version,
        _register(ctx, bundle).version,
        _register(ctx, bundle, horizon=3).version,
        _register(ctx, bundle, kind="table", horizon=None).version,
        _register(ctx, bundle, kind="table", horizon=None).version,
    ]
    assert versions == ["churn-1m-v1", "churn-1m-v2", "churn-3m-v1", "custom-v1", "custom-v2"]
    assert registry.next_version(ctx, "warehouse", 1) == "churn-1m-v3"
    assert [r.version for r in registry.list_models(ctx, horizon=1)] == versions[1::-1]
    assert [r.version for r in registry.list_models(ctx, kind="table")] == [
        "custom-v2",
        "custom-v1",
    ]
    with pytest.raises(ModelStateError, match="horizon"):
        registry.next_version(ctx, "warehouse", None)
    with pytest.raises(ModelStateError, match="kind 'lake'"):
        registry.next_version(ctx, "lake", 1)  # type: ignore[arg-type]


def test_frame_hash_follows_the_data() -> None:
    a = pl.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    same = pl.concat([a.head(1), a.tail(1)])  # two chunks, same data
    assert registry.frame_hash(a) == registry.frame_hash(same)
    assert registry.frame_hash(a) != registry.frame_hash(a.with_columns(pl.col("x") * 2))
    assert registry.frame_hash(a) != registry.frame_hash(a.rename({"x": "z"}))


def test_a_failed_row_removes_the_file(ctx: AppContext, bundle: dict[str, Any]) -> None:
    with pytest.raises(Exception):  # noqa: B017 - NOT NULL violation, whatever the driver calls it
        _register(ctx, bundle, data_hash=None)

    assert registry.list_models(ctx) == []
    assert list((ctx.settings.home / "models").glob("*")) == []


def test_get_names_an_unknown_version(ctx: AppContext) -> None:
    with pytest.raises(NotFoundError, match="'churn-1m-v9'"):
        registry.get(ctx, "churn-1m-v9")


def test_promote_archives_the_previous_production_model(
    ctx: AppContext, bundle: dict[str, Any]
) -> None:
    v1, v2 = _register(ctx, bundle), _register(ctx, bundle)
    other = _register(ctx, bundle, horizon=3, status="production")
    assert registry.production(ctx) is None

    assert registry.promote(ctx, v1.version).status == "production"
    promoted = registry.promote(ctx, v2.version)

    assert promoted.status == "production" and promoted.promoted_at is not None
    assert registry.production(ctx).version == v2.version
    assert registry.get(ctx, v1.version).status == "archived"
    assert registry.production(ctx, "warehouse", 3).version == other.version  # other horizon
    assert registry.promote(ctx, v2.version).promoted_at == promoted.promoted_at  # idempotent


def test_reject_keeps_the_reason(ctx: AppContext, bundle: dict[str, Any]) -> None:
    v1 = _register(ctx, bundle, status="production")
    v2 = _register(ctx, bundle)

    rejected = registry.reject(ctx, v2.version, "worse on the 3-month cohort")

    assert rejected.status == "rejected" and "worse on the 3-month cohort" in rejected.notes
    with pytest.raises(ModelStateError, match="in production"):
        registry.reject(ctx, v1.version, "oops")


def test_rollback_goes_back_one_production_model_at_a_time(
    ctx: AppContext, bundle: dict[str, Any]
) -> None:
    v1, v2, v3 = (_register(ctx, bundle) for _ in range(3))
    with pytest.raises(ModelStateError, match="no earlier production model"):
        registry.rollback(ctx, "warehouse", 1)
    for v in (v1, v2, v3):
        registry.promote(ctx, v.version)

    assert registry.rollback(ctx, "warehouse", 1).version == v2.version
    assert registry.get(ctx, v3.version).status == "rejected"
    assert "rolled back to churn-1m-v2" in registry.get(ctx, v3.version).notes
    assert registry.rollback(ctx, "warehouse", 1).version == v1.version
    assert registry.production(ctx).version == v1.version
    with pytest.raises(ModelStateError):
        registry.rollback(ctx, "warehouse", 1)


def test_the_registry_survives_a_restart(tmp_path: Path, bundle: dict[str, Any]) -> None:
    settings = isolated_settings(tmp_path / "home")
    first = AppContext(settings)
    record = _register(first, bundle, status="production")
    first.close()

    second = AppContext(isolated_settings(tmp_path / "home"))
    try:
        (again,) = registry.list_models(second)
        assert again == record
        assert registry.production(second).version == record.version
        loaded = registry.load_bundle(second, record.version)
        probe = bundle["_probe"]
        np.testing.assert_allclose(
            loaded["lgbm"].predict_proba(probe), bundle["lgbm"].predict_proba(probe)
        )
    finally:
        second.close()


def test_a_real_model_bundle_passes_the_trusted_types_check(
    ctx: AppContext, bundle: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "bundle.skops"
    sio.dump(bundle, path)
    assert set(sio.get_untrusted_types(file=path)) <= set(registry.TRUSTED_TYPES)

    record = _register(ctx, bundle)
    loaded = registry.load_bundle(ctx, record.version)

    frame = pd.DataFrame({"late_payments": [0.0, 4.0], "mrr": [np.nan, 50.0], "plan": ["Pro", "X"]})
    np.testing.assert_allclose(
        loaded["baseline"].predict_proba(frame), bundle["baseline"].predict_proba(frame)
    )
    assert loaded["specs"] == bundle["specs"] and loaded["platt"] == [1.0, 0.0]


def test_export_then_import_round_trips_model_and_metadata(
    ctx: AppContext, bundle: dict[str, Any], tmp_path: Path
) -> None:
    original = _register(ctx, bundle, status="production", notes="first model")
    exported = registry.export_model(ctx, original.version, tmp_path / "out" / "model.skops")
    assert exported.is_file()

    other = AppContext(isolated_settings(tmp_path / "elsewhere"))
    try:
        imported = registry.import_model(other, exported)
        assert imported.version == original.version  # free in the new registry: kept
        assert imported.status == "candidate"
        for key in ("metrics", "params", "features", "importance", "reference", "data_hash"):
            assert getattr(imported, key) == getattr(original, key)
        assert (imported.training_from, imported.training_to) == ("2025-01", "2025-12")
        assert "first model" in imported.notes and "imported from model.skops" in imported.notes
        loaded = registry.load_bundle(other, imported.version)
        probe = bundle["_probe"]
        np.testing.assert_allclose(
            loaded["lgbm"].predict_proba(probe), bundle["lgbm"].predict_proba(probe)
        )
    finally:
        other.close()

    again = registry.import_model(ctx, exported)  # the version is taken here: a new one
    assert again.version == "churn-1m-v2" and again.status == "candidate"
    assert "exported as churn-1m-v1" in again.notes
    assert registry.production(ctx).version == original.version


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda b: {**b, "hook": functools.partial(print, "hi")}, id="partial"),
        pytest.param(lambda b: {**b, "extra": NotAModelPart(3)}, id="custom-class"),
    ],
)
def test_an_untrusted_file_is_refused_and_nothing_is_registered(
    ctx: AppContext,
    bundle: dict[str, Any],
    tmp_path: Path,
    payload: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    path = tmp_path / "evil.skops"
    sio.dump({"revintel_model": 1, "meta": {"kind": "warehouse"}, "bundle": payload(bundle)}, path)

    with pytest.raises(UntrustedModelFile) as caught:
        registry.import_model(ctx, path)

    message = str(caught.value)
    assert str(path) in message and "untrusted types" in message
    assert ("functools.partial" in message) or ("NotAModelPart" in message)
    assert caught.value.status_code == 422 and isinstance(caught.value, RevintelError)
    assert registry.list_models(ctx) == []
    assert not (ctx.settings.home / "models").exists() or not any(
        (ctx.settings.home / "models").iterdir()
    )


def test_files_that_are_not_revintel_exports_are_refused(
    ctx: AppContext, bundle: dict[str, Any], tmp_path: Path
) -> None:
    text_file = tmp_path / "model.skops"
    text_file.write_text("not a zip")
    with pytest.raises(InvalidModelFile, match=r"model\.skops: not a skops model file"):
        registry.import_model(ctx, text_file)

    plain = tmp_path / "plain.skops"
    sio.dump(bundle, plain)  # a bare bundle, without the registry metadata
    with pytest.raises(InvalidModelFile, match=r"plain\.skops: not a revintel model export"):
        registry.import_model(ctx, plain)

    bad_kind = tmp_path / "kind.skops"
    sio.dump({"revintel_model": 1, "meta": {"kind": "lake"}, "bundle": {}}, bad_kind)
    with pytest.raises(InvalidModelFile, match=r"meta\.kind is 'lake'"):
        registry.import_model(ctx, bad_kind)

    with pytest.raises(NotFoundError, match="no such model file"):
        registry.import_model(ctx, tmp_path / "missing.skops")
    assert registry.list_models(ctx) == []


def test_an_unsafe_version_name_in_a_file_is_replaced(
    ctx: AppContext, bundle: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "m.skops"
    meta = {"kind": "table", "horizon_months": None, "version": "../../escape"}
    sio.dump({"revintel_model": 1, "meta": meta, "bundle": bundle}, path)

    record = registry.import_model(ctx, path)

    assert record.version == "custom-v1" and record.artifact == "models/custom-v1.skops"


def test_compare_sets_two_versions_side_by_side(ctx: AppContext, bundle: dict[str, Any]) -> None:
    a = _register(ctx, bundle)
    b = _register(
        ctx,
        bundle,
        metrics={"roc_auc": 0.88, "brier": 0.1, "confusion_matrix": [[81, 4], [5, 10]]},
        importance={f"f{i}": float(i) for i in range(20)},
    )

    result = registry.compare(ctx, a.version, b.version)

    metrics = {m["metric"]: m for m in result["metrics"]}
    assert metrics["roc_auc"]["delta"] == pytest.approx(0.03)
    assert metrics["baseline.roc_auc"] == {
        "metric": "baseline.roc_auc",
        "a": 0.8,
        "b": None,
        "delta": None,
    }
    assert metrics["brier"]["a"] is None
    features = [row["feature"] for row in result["importance"]]
    assert features[0] == "f19" and "late_payments" in features and "f4" not in features
    assert len(features) == 15 + 2
    assert result["confusion"] == {"a": [[80, 5], [6, 9]], "b": [[81, 4], [5, 10]]}
    assert (result["a"]["version"], result["b"]["version"]) == (a.version, b.version)
    json.dumps(result)


@pytest.fixture
def postgres_context(tmp_path: Path, postgres_databases: Callable[[], str]) -> Iterator[AppContext]:
    url = postgres_databases()
    ctx = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=url))
    yield ctx
    ctx.close()


@pytest.mark.postgres
def test_registry_lifecycle_on_postgres(
    postgres_context: AppContext, bundle: dict[str, Any], tmp_path: Path
) -> None:
    ctx = postgres_context
    assert ctx.store.engine.dialect.name == "postgresql"
    v1 = _register(ctx, bundle, status="production")
    v2 = _register(ctx, bundle)
    custom = _register(ctx, bundle, kind="table", horizon=None, status="production")

    registry.promote(ctx, v2.version)
    assert registry.get(ctx, v1.version).status == "archived"
    assert registry.production(ctx, "table", None).version == custom.version
    assert registry.rollback(ctx, "warehouse", 1).version == v1.version
    exported = registry.export_model(ctx, v1.version, tmp_path / "v1.skops")
    assert registry.import_model(ctx, exported).version == "churn-1m-v3"

    restarted = AppContext(ctx.settings)
    try:
        assert [r.version for r in registry.list_models(restarted, kind="warehouse")] == [
            "churn-1m-v3",
            "churn-1m-v2",
            "churn-1m-v1",
        ]
    finally:
        restarted.close()

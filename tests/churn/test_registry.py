"""The model registry: versions, promote / reject / rollback, restart, skops export and import."""

from __future__ import annotations

import functools
import json
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import polars as pl
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from revintel.api.errors import status_of
from revintel.app.context import AppContext
from revintel.churn import registry
from revintel.churn.drift import histogram_reference
from revintel.churn.explain import reference_stats
from revintel.churn.registry import (
    InvalidModelFile,
    ModelFileTooLarge,
    ModelStateError,
    UntrustedModelFile,
)
from revintel.churn.tabular import ColumnSpec
from revintel.churn.training import ChurnModel, TrainConfig, train_model
from revintel.core.config import Settings
from revintel.core.errors import NotFoundError, RevintelError
from tests.conftest import isolated_settings


class NotAModelPart:
    """A type no model file may carry."""

    def __init__(self, value: int = 1) -> None:
        self.value = value


@dataclass(frozen=True)
class Trained:
    """A real (small) warehouse model: its bundle, the frame it saw, its registry fields."""

    bundle: dict[str, Any]
    frame: pl.DataFrame
    fields: dict[str, Any]


@pytest.fixture(scope="module")
def trained() -> Trained:
    rng = np.random.default_rng(7)
    n = 400
    late = rng.poisson(1.0, n).astype(float)
    mrr = rng.gamma(2.0, 100.0, n)
    frame = pl.DataFrame(
        {
            "late_payments_3m": late,
            "mrr": [None if i % 17 == 0 else float(v) for i, v in enumerate(mrr)],
            "plan_type": rng.choice(["Basic", "Pro", "Enterprise"], n),
            "failed_invoice_2m": rng.random(n) < 0.1,
            "churned_1m": late + rng.normal(0, 1, n) > 1.5,
        }
    )
    specs = [
        ColumnSpec("late_payments_3m", "numeric"),
        ColumnSpec("mrr", "numeric"),
        ColumnSpec("plan_type", "categorical", ["Basic", "Enterprise", "Pro"]),
        ColumnSpec("failed_invoice_2m", "boolean"),
    ]
    config = TrainConfig(n_estimators=20, min_child_samples=10, early_stopping_rounds=5)
    model = train_model(frame[:300], frame[300:], specs, "churned_1m", config)
    model.horizon_months, model.id_column = 1, "account_id"
    names = [s.name for s in specs]
    y = frame["churned_1m"].to_numpy()
    fields = {
        "kind": "warehouse",
        "horizon": 1,
        "metrics": {
            "roc_auc": 0.85,
            "pr_auc": 0.5,
            "confusion_matrix": [[80, 5], [6, 9]],
            "baseline": {"roc_auc": 0.8},
        },
        "params": {"seed": 1},
        "features": [s.as_dict() for s in specs],
        "importance": model.importance(),
        "reference": {
            "stats": reference_stats(frame, specs, y).as_dict(),
            "histograms": histogram_reference(frame, names),
        },
        "training_from": "2025-01",
        "training_to": "2025-12",
        "data_hash": registry.frame_hash(frame),
        "source": "warehouse",
    }
    return Trained(model.to_bundle(), frame, fields)


def _register(ctx: AppContext, trained: Trained, **overrides: Any) -> registry.ModelRecord:
    return registry.register(ctx, trained.bundle, **{**trained.fields, **overrides})


def probabilities(bundle: dict[str, Any], frame: pl.DataFrame) -> np.ndarray:
    return ChurnModel.from_bundle(bundle).predict_proba(frame)


@pytest.fixture
def ctx(empty_context: AppContext) -> AppContext:
    return empty_context


def test_register_writes_the_file_and_the_row(ctx: AppContext, trained: Trained) -> None:
    record = _register(ctx, trained)

    assert record.version == "churn-1m-v1"
    assert record.status == "candidate" and record.promoted_at is None
    assert record.artifact == "models/churn-1m-v1.skops"
    assert (ctx.settings.home / record.artifact).is_file()
    assert not [p for p in (ctx.settings.home / "models").iterdir() if p.suffix != ".skops"]
    assert len(record.data_hash) == 64 and record.created_at.utcoffset() is not None
    json.dumps(record.as_dict())  # JSON-able for the API and the CLI
    assert "reference" not in record.as_dict(reference=False)


def test_versions_count_per_kind_and_horizon(ctx: AppContext, trained: Trained) -> None:
    versions = [
        _register(ctx, trained).version,
        _register(ctx, trained).version,
        _register(ctx, trained, horizon=3).version,
        _register(ctx, trained, kind="table", horizon=None).version,
        _register(ctx, trained, kind="table", horizon=None).version,
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


def test_a_failed_row_removes_the_file(ctx: AppContext, trained: Trained) -> None:
    with pytest.raises(Exception):  # noqa: B017 - NOT NULL violation, whatever the driver calls it
        _register(ctx, trained, data_hash=None)

    assert registry.list_models(ctx) == []
    assert list((ctx.settings.home / "models").glob("*")) == []


def test_get_names_an_unknown_version(ctx: AppContext) -> None:
    with pytest.raises(NotFoundError, match="'churn-1m-v9'"):
        registry.get(ctx, "churn-1m-v9")


def test_promote_archives_the_previous_production_model(ctx: AppContext, trained: Trained) -> None:
    v1, v2 = _register(ctx, trained), _register(ctx, trained)
    other = _register(ctx, trained, horizon=3, status="production")
    assert registry.production(ctx) is None

    assert registry.promote(ctx, v1.version).status == "production"
    promoted = registry.promote(ctx, v2.version)

    assert promoted.status == "production" and promoted.promoted_at is not None
    assert registry.production(ctx).version == v2.version
    assert registry.get(ctx, v1.version).status == "archived"
    assert registry.production(ctx, "warehouse", 3).version == other.version  # other horizon
    assert registry.promote(ctx, v2.version).promoted_at == promoted.promoted_at  # idempotent


def test_reject_keeps_the_reason(ctx: AppContext, trained: Trained) -> None:
    v1 = _register(ctx, trained, status="production")
    v2 = _register(ctx, trained)

    rejected = registry.reject(ctx, v2.version, "worse on the 3-month cohort")

    assert rejected.status == "rejected" and "worse on the 3-month cohort" in rejected.notes
    with pytest.raises(ModelStateError, match="in production"):
        registry.reject(ctx, v1.version, "oops")


def test_rollback_goes_back_one_production_model_at_a_time(
    ctx: AppContext, trained: Trained
) -> None:
    v1, v2, v3 = (_register(ctx, trained) for _ in range(3))
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


def test_the_registry_survives_a_restart(tmp_path: Path, trained: Trained) -> None:
    settings = isolated_settings(tmp_path / "home")
    first = AppContext(settings)
    record = _register(first, trained, status="production")
    first.close()

    second = AppContext(isolated_settings(tmp_path / "home"))
    try:
        (again,) = registry.list_models(second)
        assert again == record
        assert registry.production(second).version == record.version
        loaded = registry.load_bundle(second, record.version)
        np.testing.assert_allclose(
            probabilities(loaded, trained.frame), probabilities(trained.bundle, trained.frame)
        )
    finally:
        second.close()


def test_a_real_model_bundle_passes_the_trusted_types_check(
    ctx: AppContext, trained: Trained, tmp_path: Path
) -> None:
    path = tmp_path / "bundle.skops"
    sio.dump(trained.bundle, path)
    assert set(sio.get_untrusted_types(file=path)) <= set(registry.TRUSTED_TYPES)

    record = _register(ctx, trained)
    loaded = ChurnModel.from_bundle(registry.load_bundle(ctx, record.version))

    frame = pl.DataFrame(
        {
            "late_payments_3m": [0.0, 4.0],
            "mrr": [None, 50.0],
            "plan_type": ["Pro", "X"],
            "failed_invoice_2m": [True, None],
        }
    )
    original = ChurnModel.from_bundle(trained.bundle)
    np.testing.assert_allclose(loaded.baseline_proba(frame), original.baseline_proba(frame))
    assert loaded.specs == original.specs and loaded.platt == original.platt


def test_export_then_import_round_trips_model_and_metadata(
    ctx: AppContext, trained: Trained, tmp_path: Path
) -> None:
    original = _register(ctx, trained, status="production", notes="first model")
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
        np.testing.assert_allclose(
            probabilities(loaded, trained.frame), probabilities(trained.bundle, trained.frame)
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
    trained: Trained,
    tmp_path: Path,
    payload: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    path = tmp_path / "evil.skops"
    sio.dump(
        {"revintel_model": 1, "meta": {"kind": "warehouse"}, "bundle": payload(trained.bundle)},
        path,
    )

    with pytest.raises(UntrustedModelFile) as caught:
        registry.import_model(ctx, path)

    message = str(caught.value)
    assert str(path) in message and "untrusted types" in message
    assert ("functools.partial" in message) or ("NotAModelPart" in message)
    assert status_of(caught.value) == 422 and isinstance(caught.value, RevintelError)
    assert registry.list_models(ctx) == []
    assert not (ctx.settings.home / "models").exists() or not any(
        (ctx.settings.home / "models").iterdir()
    )


def test_files_that_are_not_revintel_exports_are_refused(
    ctx: AppContext, trained: Trained, tmp_path: Path
) -> None:
    text_file = tmp_path / "model.skops"
    text_file.write_text("not a zip")
    with pytest.raises(InvalidModelFile, match=r"model\.skops: not a skops model file"):
        registry.import_model(ctx, text_file)

    plain = tmp_path / "plain.skops"
    sio.dump(trained.bundle, plain)  # a bare bundle, without the registry metadata
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
    ctx: AppContext, trained: Trained, tmp_path: Path
) -> None:
    path = tmp_path / "m.skops"
    fields = trained.fields
    meta = {
        "kind": "table",
        "horizon_months": None,
        "version": "../../escape",
        **{key: fields[key] for key in ("features", "reference", "importance")},
    }
    table_bundle = {**trained.bundle, "horizon_months": None}
    sio.dump({"revintel_model": 1, "meta": meta, "bundle": table_bundle}, path)

    record = registry.import_model(ctx, path)

    assert record.version == "custom-v1" and record.artifact == "models/custom-v1.skops"


def test_compare_sets_two_versions_side_by_side(ctx: AppContext, trained: Trained) -> None:
    a = _register(ctx, trained, importance={"late_payments": 0.4, "mrr": 0.2})
    b = _register(
        ctx,
        trained,
        metrics={"roc_auc": 0.88, "brier": 0.1, "confusion_matrix": [[81, 4], [5, 10]]},
        importance={f"f{i}": float(i) for i in range(20)},
    )

    result = registry.compare(ctx, a.version, b.version)

    metrics = {m["metric"]: m for m in result.metrics}
    assert metrics["roc_auc"]["delta"] == pytest.approx(0.03)
    assert metrics["baseline.roc_auc"] == {
        "metric": "baseline.roc_auc",
        "a": 0.8,
        "b": None,
        "delta": None,
    }
    assert metrics["brier"]["a"] is None
    features = [row["feature"] for row in result.importance]
    assert features[0] == "f19" and "late_payments" in features and "f4" not in features
    assert len(features) == 15 + 2
    assert result.confusion == {"a": [[80, 5], [6, 9]], "b": [[81, 4], [5, 10]]}
    assert (result.a.version, result.b.version) == (a.version, b.version)
    json.dumps(result.to_dict())


# -- what an import must pass -------------------------------------------------------------------

MIB = 1 << 20


def write_export(path: Path, meta: dict[str, Any], bundle: Any) -> Path:
    sio.dump({"revintel_model": 1, "meta": meta, "bundle": bundle}, path)
    return path


def export_meta(trained: Trained, **changes: Any) -> dict[str, Any]:
    """The metadata ``export_model`` writes for ``trained``, with ``changes``."""
    fields = trained.fields
    meta = {key: fields[key] for key in ("metrics", "params", "features", "importance")}
    meta.update(
        kind="warehouse",
        horizon_months=1,
        version="churn-1m-v7",
        reference=fields["reference"],
        training_from="2025-01",
        training_to="2025-12",
        data_hash=fields["data_hash"],
    )
    return {**meta, **changes}


def nothing_registered(ctx: AppContext) -> bool:
    models = ctx.settings.home / "models"
    return registry.list_models(ctx) == [] and (not models.exists() or not any(models.iterdir()))


def logistic_regression(width: int) -> LogisticRegression:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, width))
    return LogisticRegression().fit(x, x[:, 0] > 0)


def test_a_bare_logistic_regression_with_made_up_metadata_is_refused(
    ctx: AppContext, tmp_path: Path
) -> None:
    """The issue's file: trusted types only, but not a revintel model."""
    meta = {
        "kind": "warehouse",
        "horizon_months": 1,
        "version": "churn-1m-v9",
        "features": [{"name": "mrr", "kind": "numeric", "categories": None}],
        "metrics": {"roc_auc": 0.99},
    }
    path = write_export(tmp_path / "lr.skops", meta, {"model": logistic_regression(1)})

    with pytest.raises(InvalidModelFile) as caught:
        registry.import_model(ctx, path)

    message = str(caught.value)
    assert status_of(caught.value) == 422
    assert message.startswith(f"{path}: not a revintel churn model")
    assert "bundle.format is None" in message and "bundle.specs must be" in message
    assert "bundle.target must be text" in message
    assert nothing_registered(ctx)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda b, m: ({**b, "lgbm": logistic_regression(4)}, m),
            "bundle.lgbm is sklearn.linear_model._logistic.LogisticRegression; expected a "
            "fitted lightgbm.LGBMClassifier",
            id="lgbm-is-a-logistic-regression",
        ),
        pytest.param(
            lambda b, m: ({**b, "lgbm": lightgbm.LGBMClassifier()}, m),
            "bundle.lgbm is not fitted",
            id="lgbm-not-fitted",
        ),
        pytest.param(
            lambda b, m: ({**b, "baseline": logistic_regression(4)}, m),
            "bundle.baseline is sklearn.linear_model._logistic.LogisticRegression",
            id="baseline-not-a-pipeline",
        ),
        pytest.param(
            lambda b, m: ({**b, "specs": b["specs"][:3]}, {**m, "features": m["features"][:3]}),
            "bundle.lgbm takes 4 features; bundle.specs lists 3",
            id="fewer-specs-than-the-model-takes",
        ),
        pytest.param(
            lambda b, m: (b, {**m, "features": m["features"][::-1]}),
            "meta.features must list the bundle's features in order",
            id="metadata-features-differ",
        ),
        pytest.param(
            lambda b, m: (
                {**b, "specs": [{**b["specs"][0], "name": "favourite_colour"}, *b["specs"][1:]]},
                m,
            ),
            "not so: favourite_colour (not a warehouse feature)",
            id="not-a-warehouse-feature",
        ),
        pytest.param(
            lambda b, m: (
                {**b, "specs": [*b["specs"][:3], {**b["specs"][3], "kind": "numeric"}]},
                m,
            ),
            "not so: failed_invoice_2m (numeric)",
            id="warehouse-feature-of-the-wrong-kind",
        ),
        pytest.param(
            lambda b, m: (b, {**m, "horizon_months": 3}),
            "bundle.horizon_months is 1 but meta.horizon_months is 3",
            id="horizon-disagrees",
        ),
        pytest.param(
            lambda b, m: ({**b, "horizon_months": 2}, {**m, "horizon_months": 2}),
            "meta.horizon_months is 2; a warehouse model's horizon is one of (1, 3) months",
            id="horizon-not-trained-by-revintel",
        ),
        pytest.param(
            lambda b, m: ({**b, "target": "churned_3m"}, m),
            "bundle.target is 'churned_3m'; a warehouse model of 1 month(s) predicts churned_1m",
            id="target-of-another-horizon",
        ),
        pytest.param(
            lambda b, m: ({**b, "format": "revintel.churn.model/0"}, m),
            "bundle.format is 'revintel.churn.model/0'",
            id="bundle-format",
        ),
        pytest.param(
            lambda b, m: ({**b, "platt": [float("nan"), 0.0]}, m),
            "bundle.platt must be two numbers",
            id="platt-not-numbers",
        ),
        pytest.param(
            lambda b, m: (b, {**m, "reference": {"stats": m["reference"]["stats"]}}),
            "meta.reference must hold 'stats' and 'histograms'",
            id="no-drift-reference",
        ),
        pytest.param(
            lambda b, m: (b, {**m, "importance": {"mrr": "high"}}),
            "meta.importance must map features to numbers",
            id="importance-not-numbers",
        ),
        pytest.param(
            lambda b, m: (b, {**m, "training_to": 202512}),
            "meta.training_to must be text",
            id="version-field-not-text",
        ),
    ],
)
def test_a_file_that_is_not_what_training_produces_is_refused(
    ctx: AppContext,
    trained: Trained,
    tmp_path: Path,
    change: Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]],
    expected: str,
) -> None:
    bundle, meta = change(dict(trained.bundle), export_meta(trained))
    path = write_export(tmp_path / "model.skops", meta, bundle)

    with pytest.raises(InvalidModelFile) as caught:
        registry.import_model(ctx, path, name="model.skops")

    assert status_of(caught.value) == 422
    assert str(caught.value).startswith("model.skops: not a revintel churn model: ")
    assert expected in str(caught.value)
    assert nothing_registered(ctx)


def test_the_trial_scoring_must_run(ctx: AppContext, trained: Trained, tmp_path: Path) -> None:
    meta = export_meta(trained)
    histograms = meta["reference"]["histograms"]
    mrr = {
        **histograms["features"]["mrr"],
        "edges": ["low"] * len(histograms["features"]["mrr"]["edges"]),
    }
    meta["reference"] = {
        **meta["reference"],
        "histograms": {**histograms, "features": {**histograms["features"], "mrr": mrr}},
    }
    path = write_export(tmp_path / "model.skops", meta, trained.bundle)

    with pytest.raises(InvalidModelFile, match=r"scoring 6 trial rows failed \(ValueError"):
        registry.import_model(ctx, path)
    assert nothing_registered(ctx)


def test_trial_probabilities_must_be_in_0_1(
    ctx: AppContext, trained: Trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_export(tmp_path / "model.skops", export_meta(trained), trained.bundle)
    monkeypatch.setattr(ChurnModel, "predict_proba", lambda self, frame: np.full(frame.height, 1.5))

    with pytest.raises(InvalidModelFile, match=r"expected 6 numbers in \[0, 1\]"):
        registry.import_model(ctx, path)
    assert nothing_registered(ctx)


def test_an_export_of_a_trained_model_passes_and_scores(
    ctx: AppContext, trained: Trained, tmp_path: Path
) -> None:
    path = write_export(tmp_path / "model.skops", export_meta(trained), trained.bundle)

    record = registry.import_model(ctx, path, name="model.skops")

    assert record.version == "churn-1m-v7" and record.source == "import: model.skops"
    loaded = registry.load_bundle(ctx, record.version)
    np.testing.assert_allclose(
        probabilities(loaded, trained.frame), probabilities(trained.bundle, trained.frame)
    )


# -- archive limits --------------------------------------------------------------------------------


def write_zip_bomb(path: Path, expanded_mib: int = 512, name: str = "schema.json") -> Path:
    """A zip whose one member expands to ``expanded_mib`` MiB of zeros, about 1 KB per MiB on
    disk: one deflated MiB ending in a full flush (so it stands alone) repeated, then a final
    empty block. Built in a fraction of a second, without compressing the whole."""
    chunk = b"\0" * MIB
    squeezer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = squeezer.compress(chunk) + squeezer.flush(zlib.Z_FULL_FLUSH)
    data = block * expanded_mib + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(expanded_mib):
        crc = zlib.crc32(chunk, crc)
    size, packed, encoded = expanded_mib * MIB, len(data), name.encode()
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 33, crc, packed, size, len(encoded), 0
    )
    central = struct.pack(
        "<4s6H3L5H2L",
        *(b"PK\x01\x02", 20, 20, 0, 8, 0, 33, crc, packed, size, len(encoded), 0, 0, 0, 0, 0, 0),
    )
    offset = len(local) + len(encoded) + packed
    directory = central + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), offset, 0)
    path.write_bytes(local + encoded + data + directory + end)
    return path


@pytest.fixture
def no_skops(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything reaches skops (the archive must be refused before)."""

    def reached(*_: Any, **__: Any) -> None:
        raise AssertionError("skops was called on a file that should have been refused")

    monkeypatch.setattr(registry.sio, "get_untrusted_types", reached)
    monkeypatch.setattr(registry.sio, "load", reached)


def test_the_bomb_helper_builds_a_real_zip(tmp_path: Path) -> None:
    path = write_zip_bomb(tmp_path / "small.skops", expanded_mib=2)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert archive.read("schema.json") == b"\0" * (2 * MIB)


def test_a_zip_bomb_is_refused_before_anything_is_read(
    ctx: AppContext, tmp_path: Path, no_skops: None
) -> None:
    path = write_zip_bomb(tmp_path / "bomb.skops")
    assert path.stat().st_size < 600_000  # the 510 KB that expands to 512 MB

    started = time.perf_counter()
    with pytest.raises(ModelFileTooLarge) as caught:
        registry.import_model(ctx, path, name="bomb.skops")
    assert time.perf_counter() - started < 1.0

    assert status_of(caught.value) == 413
    assert str(caught.value) == (
        "bomb.skops: the archive expands to 536,870,912 bytes; a model file may expand to at "
        "most 268,435,456 bytes (setting model_bundle_max_expanded_bytes)"
    )
    assert nothing_registered(ctx)


def test_a_small_bomb_is_refused_by_its_compression_ratio(
    ctx: AppContext, tmp_path: Path, no_skops: None
) -> None:
    path = write_zip_bomb(tmp_path / "ratio.skops", expanded_mib=8)
    with pytest.raises(InvalidModelFile, match=r"ratio\.skops: compressed 1,0\d\d to 1") as caught:
        registry.import_model(ctx, path)
    assert status_of(caught.value) == 422 and "model_bundle_max_ratio" in str(caught.value)
    assert nothing_registered(ctx)


def test_file_size_and_member_count_are_limited(
    tmp_path: Path, trained: Trained, no_skops: None
) -> None:
    many = tmp_path / "many.skops"
    with zipfile.ZipFile(many, "w") as archive:
        for i in range(11):
            archive.writestr(f"{i}.npy", b"")
    settings = Settings(
        home=tmp_path / "home",
        warehouse_url=None,
        database_url=None,
        model_upload_max_bytes=5_000,
        model_bundle_max_members=10,
    )
    ctx = AppContext(settings)
    try:
        with pytest.raises(ModelFileTooLarge, match=r"holds 11 files; .* at most 10 "):
            registry.import_model(ctx, many)
        big = write_zip_bomb(tmp_path / "big.skops", expanded_mib=8)
        with pytest.raises(ModelFileTooLarge, match=r"at most 5,000 bytes \(setting model_up"):
            registry.import_model(ctx, big)
        assert nothing_registered(ctx)
    finally:
        ctx.close()


def test_a_zip64_archive_is_refused(ctx: AppContext, tmp_path: Path, no_skops: None) -> None:
    path = tmp_path / "z64.skops"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("schema.json", b"{}")
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = b"\xff\xff\xff\xff"  # the member counts say: see the ZIP64 record
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileTooLarge, match="a ZIP64 archive"):
        registry.import_model(ctx, path)


@pytest.fixture
def postgres_context(tmp_path: Path, postgres_databases: Callable[[], str]) -> Iterator[AppContext]:
    url = postgres_databases()
    ctx = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=url))
    yield ctx
    ctx.close()


@pytest.mark.postgres
def test_registry_lifecycle_on_postgres(
    postgres_context: AppContext, trained: Trained, tmp_path: Path
) -> None:
    ctx = postgres_context
    assert ctx.store.engine.dialect.name == "postgresql"
    v1 = _register(ctx, trained, status="production")
    v2 = _register(ctx, trained)
    custom = _register(ctx, trained, kind="table", horizon=None, status="production")

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

"""``/api/v1/models/...``: the churn model registry over a copy of the trained demo home."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from tests.conftest import isolated_settings

API = "/api/v1/models"


@pytest.fixture
def client(churn_home: Path) -> Iterator[TestClient]:
    """Read-only: only GETs."""
    with TestClient(create_app(AppContext(isolated_settings(churn_home)))) as test_client:
        yield test_client


@pytest.fixture
def writable(churn_context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(churn_context)) as test_client:
        yield test_client


def statuses(client: TestClient) -> dict[str, str]:
    return {m["version"]: m["status"] for m in client.get(API).json()}


def test_list_and_filter(client: TestClient) -> None:
    models = client.get(API).json()
    assert {m["version"] for m in models} == {"churn-1m-v1", "churn-3m-v1"}
    assert all("reference" not in m for m in models)
    one = client.get(API, params={"horizon": 3}).json()
    assert [m["version"] for m in one] == ["churn-3m-v1"]
    assert client.get(API, params={"kind": "table"}).json() == []
    assert client.get(API, params={"kind": "nope"}).status_code == 422


def test_show_compare_drift(client: TestClient) -> None:
    model = client.get(f"{API}/churn-1m-v1").json()
    assert model["status"] == "production" and model["horizon_months"] == 1
    assert model["metrics"]["roc_auc"] > 0.5 and model["features"]
    compared = client.get(f"{API}/churn-1m-v1/compare/churn-3m-v1").json()
    roc = next(m for m in compared["metrics"] if m["metric"] == "roc_auc")
    assert roc["delta"] == pytest.approx(roc["b"] - roc["a"])
    drift = client.get(f"{API}/churn-1m-v1/drift")
    assert drift.status_code == 200, drift.text
    assert drift.json()["drift"] and drift.json()["quality"]


def test_unknown_version_is_a_404(client: TestClient) -> None:
    for path in ("/nope", "/nope/compare/churn-1m-v1", "/nope/drift", "/nope/download"):
        response = client.get(f"{API}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"] == "NotFoundError"


def test_download_import_promote_rollback_round_trip(writable: TestClient) -> None:
    download = writable.get(f"{API}/churn-1m-v1/download")
    assert download.status_code == 200
    assert "churn-1m-v1.skops" in download.headers["content-disposition"]

    imported = writable.post(
        f"{API}/import", files={"file": ("churn-1m-v1.skops", download.content)}
    )
    assert imported.status_code == 201, imported.text
    new = imported.json()["version"]
    assert new != "churn-1m-v1" and imported.json()["status"] == "candidate"

    # Only the production model can be rolled back.
    assert writable.post(f"{API}/{new}/rollback").status_code == 409

    promoted = writable.post(f"{API}/{new}/promote")
    assert promoted.status_code == 200 and promoted.json()["status"] == "production"
    assert statuses(writable)["churn-1m-v1"] == "archived"

    rolled = writable.post(f"{API}/{new}/rollback")
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["production"]["version"] == "churn-1m-v1"
    after = statuses(writable)
    assert after["churn-1m-v1"] == "production" and after[new] == "rejected"
    assert after["churn-3m-v1"] == "production"


def test_reject(writable: TestClient) -> None:
    assert writable.post(f"{API}/churn-1m-v1/reject", json={}).status_code == 422
    production = writable.post(f"{API}/churn-1m-v1/reject", json={"reason": "worse"})
    assert production.status_code == 409
    download = writable.get(f"{API}/churn-3m-v1/download").content
    new = writable.post(f"{API}/import", files={"file": ("m.skops", download)}).json()["version"]
    rejected = writable.post(f"{API}/{new}/reject", json={"reason": "too old"})
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected" and "too old" in rejected.json()["notes"]


class Untrusted:
    """A type skops does not trust."""

    def __init__(self) -> None:
        self.secret = 1


def test_import_of_an_untrusted_file_is_a_422_naming_the_types(
    writable: TestClient, tmp_path: Path
) -> None:
    import skops.io as sio

    path = tmp_path / "evil.skops"
    sio.dump({"revintel_model": 1, "payload": Untrusted()}, path)
    response = writable.post(f"{API}/import", files={"file": ("evil.skops", path.read_bytes())})
    assert response.status_code == 422
    assert response.json()["error"] == "UntrustedModelFile"
    assert f"{__name__}.Untrusted" in response.json()["detail"]
    assert set(statuses(writable)) == {"churn-1m-v1", "churn-3m-v1"}

    garbage = writable.post(f"{API}/import", files={"file": ("x.skops", b"not a zip")})
    assert garbage.status_code == 422


def test_import_of_a_model_that_is_not_revintel_s_is_a_422_and_nothing_is_registered(
    writable: TestClient, tmp_path: Path
) -> None:
    """The issue's file: a bare LogisticRegression with made-up metadata (was 201, then 500s)."""
    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    x = np.random.default_rng(1).normal(size=(40, 2))
    meta = {
        "kind": "warehouse",
        "horizon_months": 1,
        "version": "churn-1m-v2",
        "features": [{"name": "mrr", "kind": "numeric"}, {"name": "seats", "kind": "numeric"}],
        "metrics": {"roc_auc": 0.99},
    }
    path = tmp_path / "lr.skops"
    sio.dump(
        {
            "revintel_model": 1,
            "meta": meta,
            "bundle": {"model": LogisticRegression().fit(x, x[:, 0] > 0)},
        },
        path,
    )

    response = writable.post(f"{API}/import", files={"file": ("lr.skops", path.read_bytes())})

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "InvalidModelFile"
    assert response.json()["detail"].startswith("lr.skops: not a revintel churn model: ")
    assert statuses(writable) == {"churn-1m-v1": "production", "churn-3m-v1": "production"}
    assert writable.get(f"{API}/churn-1m-v1/drift").status_code == 200


def test_a_zip_bomb_upload_is_a_413_before_anything_is_read(
    writable: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from revintel.churn import registry
    from tests.churn.test_registry import write_zip_bomb

    def reached(*_: object, **__: object) -> None:
        raise AssertionError("skops was called on a zip bomb")

    monkeypatch.setattr(registry.sio, "get_untrusted_types", reached)
    monkeypatch.setattr(registry.sio, "load", reached)
    bomb = write_zip_bomb(tmp_path / "bomb.skops").read_bytes()  # 520 KB -> 512 MiB

    started = time.perf_counter()
    response = writable.post(f"{API}/import", files={"file": ("bomb.skops", bomb)})
    seconds = time.perf_counter() - started

    assert response.status_code == 413, response.text
    assert response.json()["detail"] == (
        "bomb.skops: the archive expands to 536,870,912 bytes; a model file may expand to at "
        "most 268,435,456 bytes (setting model_bundle_max_expanded_bytes)"
    )
    assert seconds < 2.0
    assert set(statuses(writable)) == {"churn-1m-v1", "churn-3m-v1"}


def test_drift_of_a_table_model_is_a_422_naming_the_version(
    churn_context: AppContext, tmp_path: Path
) -> None:
    from revintel.churn import service
    from tests.cli.test_churn import write_customers

    table = write_customers(tmp_path / "customers.csv")
    version = service.train_table_model(churn_context, table, "exited", "customer").version
    with TestClient(create_app(churn_context)) as client:
        response = client.get(f"{API}/{version}/drift")
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(
        f"version '{version}': expected a model trained on the loaded data"
    )

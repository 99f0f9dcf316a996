"""``revintel churn …`` on the trained demo home (``churn_home``, read-only) or a private copy."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.cli import app, main

runner = CliRunner()
HEADLINE = ("roc_auc", "pr_auc", "precision", "recall", "f1", "brier")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No REVINTEL_* setting or revintel.toml of the machine reaches these commands."""
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-such-revintel.toml"))


@pytest.fixture
def home(churn_context: AppContext) -> Path:
    """A private, writable copy of the trained demo home."""
    return churn_context.settings.home


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.stdout


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run the console entry point as a shell would; returns its exit code."""
    monkeypatch.setattr(sys, "argv", ["revintel", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0)


def write_customers(path: Path, n: int = 400, seed: int = 3) -> Path:
    """A customer table with a real signal: late payments and low usage raise churn."""
    rng = np.random.default_rng(seed)
    late = rng.poisson(1.0, n)
    usage = rng.uniform(0, 100, n)
    plan = rng.choice(["Basic", "Pro", "Enterprise"], n)
    logit = -1.0 + 1.2 * late - 0.04 * (usage - 50) + (plan == "Basic") * 0.5
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["customer", "late_payments", "usage", "plan", "signup", "exited"])
        for i in range(n):
            writer.writerow(
                [
                    f"K{i:04d}",
                    late[i],
                    "" if i % 37 == 0 else f"{usage[i]:.1f}",  # blanks
                    plan[i],
                    f"2023-{1 + i % 12:02d}-15",
                    "yes" if churned[i] else "no",
                ]
            )
    return path


# -- train and evaluate ---------------------------------------------------------------------------
def test_train_on_a_table_prints_the_held_out_metrics_as_json(tmp_path: Path) -> None:
    table = write_customers(tmp_path / "customers.csv")
    out = invoke(
        "churn",
        "train",
        "--table",
        str(table),
        "--target",
        "exited",
        "--id",
        "customer",
        "--home",
        str(tmp_path / "home"),
        "--format",
        "json",
    )

    summary = json.loads(out)
    for key in HEADLINE:
        assert isinstance(summary[key], float), key
    assert 0.7 < summary["roc_auc"] <= 1.0
    assert summary["status"] == "production"  # auto: nothing was in production
    listed = json.loads(
        invoke("churn", "models", "list", "--home", str(tmp_path / "home"), "--format", "json")
    )
    assert [m["version"] for m in listed] == [summary["version"]]
    assert listed[0]["kind"] == "table"


def test_train_table_output_shows_baseline_features_and_decision(tmp_path: Path) -> None:
    table = write_customers(tmp_path / "customers.csv")
    out = invoke(
        "churn",
        "train",
        "--table",
        str(table),
        "--target",
        "exited",
        "--promote",
        "never",
        "--home",
        str(tmp_path / "home"),
    )
    assert "logistic baseline" in out and "roc_auc" in out
    assert "Top features" in out and "late_payments" in out
    assert "candidate" in out


def test_train_table_needs_a_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = write_customers(tmp_path / "customers.csv", n=50)
    code = run_main(monkeypatch, "churn", "train", "--table", str(table), "--home", str(tmp_path))
    assert code == 1


def test_evaluate_json_and_table(churn_home: Path) -> None:
    data = json.loads(
        invoke(
            "churn",
            "evaluate",
            "--version",
            "churn-1m-v1",
            "--format",
            "json",
            "--home",
            str(churn_home),
        )
    )
    assert data["version"] == "churn-1m-v1"
    for key in (*HEADLINE, "confusion", "calibration", "lift_top_decile", "capture_top_decile"):
        assert key in data["metrics"], key
    assert data["metrics"]["oracle_roc_auc"] is not None
    out = invoke("churn", "evaluate", "--horizon", "3", "--home", str(churn_home))
    assert "churn-3m-v1" in out and "Confusion matrix" in out and "Calibration" in out


# -- predictions, segments, explanations ----------------------------------------------------------
def test_predictions_filters_and_csv_export(churn_home: Path) -> None:
    everyone = json.loads(
        invoke("churn", "predictions", "--format", "json", "--home", str(churn_home))
    )
    tiers = sorted({r["risk_tier"] for r in everyone})[:2]
    args = [a for t in tiers for a in ("--tier", t)]
    out = invoke("churn", "predictions", *args, "--format", "csv", "--home", str(churn_home))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == sum(r["risk_tier"] in tiers for r in everyone) > 0
    assert {r["risk_tier"] for r in rows} <= set(tiers)
    assert {"account_id", "churn_risk_score", "risk_tier", "prediction"} <= set(rows[0])
    scores = [float(r["churn_risk_score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)

    limited = json.loads(
        invoke(
            "churn",
            "predictions",
            "--min-score",
            "0.2",
            "--limit",
            "5",
            "--format",
            "json",
            "--home",
            str(churn_home),
        )
    )
    assert len(limited) <= 5
    assert all(r["churn_risk_score"] >= 0.2 for r in limited)


def test_the_crm_export_carries_the_dashboards_recommended_action(churn_home: Path) -> None:
    from revintel.ui import churn as churn_ui
    from tests.conftest import isolated_settings

    out = invoke("churn", "predictions", "--format", "csv", "--home", str(churn_home))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert all(r["recommended_action"] for r in rows)
    ctx = AppContext(isolated_settings(churn_home))
    try:
        dashboard = churn_ui.crm_csv(churn_ui.predictions(ctx)).decode("utf-8")
    finally:
        ctx.close()
    expected = {
        r["account_id"]: r["recommended_action"] for r in csv.DictReader(io.StringIO(dashboard))
    }
    assert {r["account_id"]: r["recommended_action"] for r in rows} == expected
    assert len(set(expected.values())) > 1  # segment and factor actions, not only the default
    as_json = json.loads(
        invoke("churn", "predictions", "--format", "json", "--home", str(churn_home))
    )
    assert {r["account_id"]: r["recommended_action"] for r in as_json} == expected


def test_segments_list_the_five_drivers(churn_home: Path) -> None:
    rows = json.loads(invoke("churn", "segments", "--home", str(churn_home), "--format", "json"))
    assert [r["segment"] for r in rows] == [
        "Payment issues",
        "Support issues",
        "Declining engagement",
        "Revenue decline",
        "Renewal due",
    ]
    assert all(r["recommended_action"] for r in rows)


def _riskiest(home: Path) -> str:
    """The riskiest customer of the latest scoring run (one with an explanation)."""
    rows = json.loads(invoke("churn", "predictions", "--format", "json", "--home", str(home)))
    return next(r["account_id"] for r in rows if r["top_risk_factor"] is not None)


def test_explain_and_what_if(churn_home: Path) -> None:
    account = _riskiest(churn_home)
    data = json.loads(
        invoke(
            "churn", "explain", account, "--top", "5", "--format", "json", "--home", str(churn_home)
        )
    )
    assert data["account_id"] == account
    factors = data["explanation"]["factors"]
    assert 0 < len(factors) <= 5
    for key in ("value", "retained_avg", "churned_avg", "z_score", "contribution", "sentence"):
        assert key in factors[0]
    table = invoke("churn", "explain", account, "--home", str(churn_home))
    assert "Top risk factors" in table and "churn risk" in table

    numeric = next(f["feature"] for f in factors if f["kind"] == "numeric")
    what_if = json.loads(
        invoke(
            "churn",
            "explain",
            account,
            "--set",
            f"{numeric}=0",
            "--format",
            "json",
            "--home",
            str(churn_home),
        )
    )
    assert set(what_if) >= {"probability", "new_probability", "delta", "suggestions"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("tickets_3m=lots", "tickets_3m: expected a number of at least 0, got 'lots'"),
        ("discount_pct=50", "discount_pct: expected a number from 0 to 1, got 50.0"),
    ],
)
def test_what_if_value_a_feature_cannot_take_exits_1_without_traceback(
    churn_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: str,
    expected: str,
) -> None:
    account = _riskiest(churn_home)
    args = ("churn", "explain", account, "--set", change, "--home", str(churn_home))
    assert run_main(monkeypatch, *args) == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_unknown_account_and_feature_exit_1_without_traceback(
    churn_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(monkeypatch, "churn", "explain", "NOPE", "--home", str(churn_home)) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "NOPE" in err and "Traceback" not in err

    account = _riskiest(churn_home)
    capsys.readouterr()
    code = run_main(
        monkeypatch,
        "churn",
        "explain",
        account,
        "--set",
        "no_such_feature=1",
        "--home",
        str(churn_home),
    )
    assert code == 1
    assert "no_such_feature" in capsys.readouterr().err


# -- thresholds -----------------------------------------------------------------------------------
def test_threshold_table_and_apply(home: Path) -> None:
    data = json.loads(
        invoke("churn", "threshold", "--value", "5000", "--format", "json", "--home", str(home))
    )
    assert {"max_f1", "max_net_value"} <= set(data["choices"])
    assert 5 <= len(data["table"]) <= 12

    def predicted() -> int:
        rows = json.loads(invoke("churn", "predictions", "--format", "json", "--home", str(home)))
        return sum(r["prediction"] for r in rows)

    invoke(
        "churn", "threshold", "--apply", "manual", "--value-threshold", "0.9", "--home", str(home)
    )
    strict = predicted()
    out = invoke(
        "churn", "threshold", "--apply", "manual", "--value-threshold", "0.05", "--home", str(home)
    )
    assert "0.05" in out
    assert predicted() > strict


def test_threshold_capacity_and_figures_at_a_threshold(home: Path) -> None:
    args = ("churn", "threshold", "--cost", "150", "--format", "json", "--home", str(home))
    free = json.loads(invoke(*args))
    capped = json.loads(invoke(*args, "--max-contacts", "120", "--at", "0.2345"))
    within = capped["choices"]["max_net_value_within_capacity"]
    assert within["flagged"] <= capped["capacity"]["max_flagged"]
    assert within["flagged"] < free["choices"]["max_net_value"]["flagged"]
    assert [r["threshold"] for r in capped["table"] if r["recommended"]] == [within["threshold"]]
    at = json.loads(invoke(*args, "--at", str(within["threshold"])))["at"][0]
    assert (at["flagged"], at["net_value"]) == (within["flagged"], within["net_value"])
    assert capped["at"][0]["threshold"] == 0.2345
    out = invoke(
        "churn", "threshold", "--apply", "max-net-value-within-capacity", "--max-contacts", "120",
        "--cost", "150", "--home", str(home),
    )  # fmt: skip
    assert "max_net_value_within_capacity" in out


# -- the registry ---------------------------------------------------------------------------------
def test_models_list_show_compare(churn_home: Path) -> None:
    listed = json.loads(
        invoke("churn", "models", "list", "--home", str(churn_home), "--format", "json")
    )
    versions = {m["version"]: m["status"] for m in listed}
    assert versions == {"churn-1m-v1": "production", "churn-3m-v1": "production"}
    shown = json.loads(
        invoke("churn", "models", "show", "churn-1m-v1", "--home", str(churn_home), "-f", "json")
    )
    assert shown["horizon_months"] == 1 and "reference" not in shown
    compared = json.loads(
        invoke(
            "churn",
            "models",
            "compare",
            "churn-1m-v1",
            "churn-3m-v1",
            "--format",
            "json",
            "--home",
            str(churn_home),
        )
    )
    assert any(m["metric"] == "roc_auc" for m in compared["metrics"])


def test_models_export_import_promote_rollback_round_trip(home: Path, tmp_path: Path) -> None:
    exported = tmp_path / "m.skops"
    invoke("churn", "models", "export", "churn-1m-v1", str(exported), "--home", str(home))
    out = invoke("churn", "models", "import", str(exported), "--home", str(home))
    listed = json.loads(invoke("churn", "models", "list", "--home", str(home), "-f", "json"))
    new = next(m["version"] for m in listed if m["status"] == "candidate")
    assert new in out

    invoke("churn", "models", "promote", new, "--home", str(home))
    status = {
        m["version"]: m["status"]
        for m in json.loads(invoke("churn", "models", "list", "--home", str(home), "-f", "json"))
    }
    assert status[new] == "production" and status["churn-1m-v1"] == "archived"

    invoke("churn", "models", "rollback", "--horizon", "1", "--home", str(home))
    status = {
        m["version"]: m["status"]
        for m in json.loads(invoke("churn", "models", "list", "--home", str(home), "-f", "json"))
    }
    assert status["churn-1m-v1"] == "production" and status[new] == "rejected"


def test_reject_needs_a_reason_and_refuses_production(
    churn_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = runner.invoke(
        app, ["churn", "models", "reject", "churn-1m-v1", "--home", str(churn_home)]
    )
    assert result.exit_code != 0  # --reason is required
    code = run_main(
        monkeypatch,
        "churn",
        "models",
        "reject",
        "churn-1m-v1",
        "--reason",
        "worse",
        "--home",
        str(churn_home),
    )
    assert code == 1
    assert "production" in capsys.readouterr().err


def test_import_of_an_untrusted_file_is_refused(
    churn_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import skops.io as sio

    path = tmp_path / "evil.skops"
    sio.dump({"revintel_model": 1, "payload": Untrusted()}, path)
    code = run_main(monkeypatch, "churn", "models", "import", str(path), "--home", str(tmp_path))
    assert code == 1
    assert "Untrusted" in capsys.readouterr().err


def test_drift_json(churn_home: Path) -> None:
    data = json.loads(
        invoke("churn", "models", "drift", "churn-1m-v1", "--home", str(churn_home), "-f", "json")
    )
    assert data["version"] == "churn-1m-v1"
    assert data["drift"] and {"feature", "psi", "status"} <= set(data["drift"][0])
    assert data["quality"]


def test_drift_of_a_table_model_is_a_clear_message(
    churn_context: AppContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from revintel.churn import service

    table = write_customers(tmp_path / "customers.csv")
    version = service.train_table_model(churn_context, table, "exited", "customer").version
    home = str(churn_context.settings.home)
    assert run_main(monkeypatch, "churn", "models", "drift", version, "--home", home) == 1
    err = capsys.readouterr().err
    assert f"version '{version}': expected a model trained on the loaded data" in err
    assert "Traceback" not in err and "polars" not in err


def test_drift_leaves_tenure_out_of_the_retraining_trigger(churn_home: Path) -> None:
    data = json.loads(
        invoke("churn", "models", "drift", "churn-3m-v1", "--home", str(churn_home), "-f", "json")
    )
    rows = {r["feature"]: r for r in data["drift"]}
    assert rows["tenure_months"]["retrain_trigger"] is False
    assert rows["subscription_age_months"]["retrain_trigger"] is False
    assert rows["tickets_3m"]["retrain_trigger"] is True
    triggers = [r["psi"] for r in data["drift"] if r["retrain_trigger"] and r["psi"] is not None]
    assert data["max_psi"] == pytest.approx(max(triggers))
    assert data["max_psi_feature"] not in ("tenure_months", "subscription_age_months")


class Untrusted:
    """A type skops does not trust."""

    def __init__(self) -> None:
        self.secret = 1


def test_import_of_a_zip_bomb_is_refused_before_anything_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from revintel.churn import registry
    from tests.churn.test_registry import write_zip_bomb

    def reached(*_: object, **__: object) -> None:
        raise AssertionError("skops was called on a zip bomb")

    monkeypatch.setattr(registry.sio, "get_untrusted_types", reached)
    monkeypatch.setattr(registry.sio, "load", reached)
    bomb = write_zip_bomb(tmp_path / "bomb.skops")

    code = run_main(monkeypatch, "churn", "models", "import", str(bomb), "--home", str(tmp_path))

    assert code == 1
    err = capsys.readouterr().err
    assert f"{bomb}: the archive expands to 536,870,912 bytes" in err and "Traceback" not in err


_PEAK = """
import resource, sys
from revintel.cli import main
sys.argv = ["revintel", "churn", "models", "import", sys.argv[1], "--home", sys.argv[2]]
try:
    main()
except SystemExit as exit:
    code = exit.code
print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.chaos
def test_a_zip_bomb_does_not_raise_the_memory_of_the_import(tmp_path: Path) -> None:
    """Peak RSS of ``revintel churn models import`` on a 520 KB file that expands to 512 MiB,
    against the same command on a 9-byte file that is not a zip (ru_maxrss is in KiB)."""
    import subprocess

    from tests.churn.test_registry import write_zip_bomb

    bomb = write_zip_bomb(tmp_path / "bomb.skops")
    junk = tmp_path / "junk.skops"
    junk.write_text("not a zip")
    peaks = {}
    for name, path in (("junk", junk), ("bomb", bomb)):
        done = subprocess.run(
            [sys.executable, "-c", _PEAK, str(path), str(tmp_path / "home")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        code, peak = done.stdout.split()[-2:]
        assert code == "1", done.stdout + done.stderr
        peaks[name] = int(peak)
    assert peaks["bomb"] - peaks["junk"] < 32 * 1024, peaks  # under 32 MiB more

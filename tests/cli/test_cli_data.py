"""`revintel load` and `revintel info`: results in every format, clear errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.cli import app, main

CUSTOMERS = """\
customer_id,signup_date,segment,country,acquisition_channel,is_active
C1,2023-01-05,SMB,US,Paid Ads,True
C2,2023-02-10,Enterprise,DE,Referral,False
C3,2023-03-01,Mid-Market,FR,Organic,True
"""
PAYMENTS = """\
payment_id,customer_id,payment_date,amount,payment_status
P1,C1,2023-01-05,49.0,Success
P2,C2,2023-02-10,999.0,Success
"""
BAD_PAYMENTS = """\
payment_id,customer_id,payment_date,amount,payment_status
P1,C1,2023-01-05,49.0,Success
P2,C9,2023-13-10,-5,Paid
"""

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No REVINTEL_* setting or revintel.toml of the machine reaches these commands."""
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-such-revintel.toml"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "customers.csv").write_text(CUSTOMERS)
    (folder / "payments.csv").write_text(PAYMENTS)
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run the console entry point as a shell would; returns its exit code."""
    monkeypatch.setattr(sys, "argv", ["revintel", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0)


def test_load_prints_the_rows_loaded(data: Path, home: Path) -> None:
    result = runner.invoke(app, ["load", str(data), "--home", str(home)])

    assert result.exit_code == 0, result.output
    assert "Loaded" in result.output
    lines = {line.split()[1]: line for line in result.output.splitlines() if "│" in line}
    assert "3" in lines["customers"] and "2" in lines["payments"]


def test_load_json_and_csv_output(data: Path, home: Path) -> None:
    as_json = runner.invoke(app, ["load", str(data), "--home", str(home), "--format", "json"])
    as_csv = runner.invoke(
        app, ["load", str(data / "payments.csv"), "--home", str(home), "--append", "-f", "csv"]
    )

    assert as_json.exit_code == 0 and as_csv.exit_code == 0
    result = json.loads(as_json.stdout)
    assert result["tables"] == {"customers": 3, "payments": 2}
    assert result["mode"] == "replace" and result["rows"] == 5
    assert as_csv.stdout.splitlines() == ["table,rows", "payments,2"]


def test_load_with_table_option(tmp_path: Path, home: Path) -> None:
    export = tmp_path / "crm-export.csv"
    export.write_text(CUSTOMERS)

    result = runner.invoke(
        app, ["load", str(export), "--table", "customers", "--home", str(home), "-f", "json"]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tables"] == {"customers": 3}


def test_a_folder_with_only_predictions_loads(tmp_path: Path, home: Path) -> None:
    # Bring-your-own churn scores need no customers table: the accounts they name are enough.
    folder = tmp_path / "scores"
    folder.mkdir()
    rows = [f"ACC-{i:04d},{i / 200:.3f},Low,0" for i in range(200)]
    text = "account_id,churn_risk_score,risk_tier,prediction\n" + "\n".join(rows) + "\n"
    (folder / "predictions.csv").write_text(text)

    result = runner.invoke(app, ["load", str(folder), "--home", str(home), "-f", "json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tables"] == {"predictions": 200}


def test_bad_input_prints_every_problem_and_exits_1(
    data: Path, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(monkeypatch, "load", str(data), "--home", str(home)) == 0
    capsys.readouterr()
    (data / "payments.csv").write_text(BAD_PAYMENTS)

    code = run_main(monkeypatch, "load", str(data / "payments.csv"), "--home", str(home))

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.startswith("Error: Validation failed: 4 problem(s) found; nothing was loaded.")
    bad = data / "payments.csv"
    for line in (
        f"{bad}, row 2, column 'payment_date': not a valid date; expected a date YYYY-MM-DD, "
        "got '2023-13-10'",
        f"{bad}, row 2, column 'amount': value out of range; expected a number ≥ 0, got '-5'",
        f"{bad}, row 2, column 'payment_status': unknown value; expected one of Success, Failed, "
        "got 'Paid'",
        f"{bad}, row 2, column 'customer_id': no customers row has this customer_id (orphan)",
    ):
        assert line in err
    assert "Traceback" not in err
    # The earlier data is still there.
    assert run_main(monkeypatch, "info", "--home", str(home), "--format", "json") == 0
    tables = json.loads(capsys.readouterr().out)["tables"]
    assert {name: t["rows"] for name, t in tables.items()} == {"customers": 3, "payments": 2}


def test_unknown_file_name_exits_1(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(CUSTOMERS)

    assert run_main(monkeypatch, "load", str(export), "--home", str(home)) == 1

    err = capsys.readouterr().err
    assert f"{export}: cannot tell which table this file holds from its name" in err
    assert "--table NAME" in err and "Traceback" not in err


def test_bad_input_through_the_installed_command(data: Path, home: Path) -> None:
    (data / "customers.csv").write_text(CUSTOMERS.replace("Mid-Market", "Startup"))
    command = Path(sys.executable).with_name("revintel")

    done = subprocess.run(
        [str(command), "load", str(data), "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1
    assert "column 'segment': unknown value; expected one of SMB, Mid-Market, Enterprise" in (
        done.stderr
    )
    assert "got 'Startup'" in done.stderr
    assert "Traceback" not in done.stderr


def test_info_json_lists_loaded_tables(data: Path, home: Path) -> None:
    assert runner.invoke(app, ["load", str(data), "--home", str(home)]).exit_code == 0

    result = runner.invoke(app, ["info", "--home", str(home), "--format", "json"])

    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert {name: table["rows"] for name, table in info["tables"].items()} == {
        "customers": 3,
        "payments": 2,
    }
    assert info["tables"]["customers"]["last_loaded"] is not None
    assert "subscriptions" in info["missing"]


def test_the_cli_starts_without_the_libraries_only_some_commands_need() -> None:
    """Every command pays the CLI's imports: validation (pandera, polars), migrations (Alembic),
    charts and models are imported by the commands that use them, not by the CLI itself."""
    heavy = ["pandera", "polars", "alembic", "plotly", "streamlit", "sklearn", "lightgbm",
             "statsforecast"]  # fmt: skip
    probe = f"import sys, revintel.cli; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

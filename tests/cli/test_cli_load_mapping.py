"""`revintel load DIR --mapping FILE`: a CRM export loads; errors name the mapping key."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from revintel.cli import main
from tests.data.test_mapping import MAPPING, export


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-such-revintel.toml"))


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["revintel", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0)


def test_load_with_a_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, mapping = export(tmp_path)
    home = str(tmp_path / "home")

    code = run(
        monkeypatch, "load", str(folder), "--mapping", str(mapping), "--home", home, "-f", "json"
    )

    assert code == 0
    assert json.loads(capsys.readouterr().out)["tables"] == {"deals": 4, "deal_stage_history": 9}


def test_a_bad_mapping_is_printed_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, mapping = export(tmp_path, mapping=MAPPING.replace('"opportunity_id"', '"opp_id"'))

    code = run(monkeypatch, "load", str(folder), "-m", str(mapping), "--home", str(tmp_path / "h"))

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    assert "key tables.deals.columns.deal_id: no column 'opp_id' in this file" in err


def test_a_mapping_takes_one_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, mapping = export(tmp_path)
    code = run(
        monkeypatch, "load", str(folder), str(folder), "-m", str(mapping), "--home", str(tmp_path)
    )
    assert code != 0
    assert "--mapping: give exactly one folder" in capsys.readouterr().err

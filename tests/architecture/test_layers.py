"""The layers hold: imports point down, capabilities stand alone, the API starts alone.

The contracts are in ``pyproject.toml`` (``[tool.importlinter]``) and ``docs/architecture.md``
explains them; import-linter checks them over every import in ``src/revintel``, including the
imports inside functions. Imports under ``if TYPE_CHECKING:`` are not edges (they never run).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ("layers", "capabilities-alone", "api-alone")


def lint_imports(src: Path, config: Path, *, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the ``revintel`` package found in ``src``."""
    command = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", command, "--config", str(config), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


def test_every_contract_is_kept() -> None:
    result = lint_imports(ROOT / "src", ROOT / "pyproject.toml", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for contract in ("Layers:", "Capabilities never import", "The API starts without"):
        assert f"{contract}" in result.stdout


def test_every_contract_is_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    for contract in CONTRACTS:
        assert f'id = "{contract}"' in text


BENT = {
    "capability imports a capability": (
        "revintel/health/_bent.py",
        "from revintel.metrics import options\n",
        "Capabilities never import each other",
    ),
    "capability imports the app layer": (
        "revintel/clv/_bent.py",
        "def f():\n    from revintel.app import context\n    return context\n",
        "revintel.clv is not allowed to import revintel.app",
    ),
    "storage imports a capability": (
        "revintel/warehouse/_bent.py",
        "import revintel.churn.config\n",
        "revintel.warehouse is not allowed to import revintel.churn",
    ),
    "base imports storage": (
        "revintel/core/_bent.py",
        "from revintel.warehouse import cache\n",
        "revintel.core is not allowed to import revintel.warehouse",
    ),
    "the API imports the command line": (
        "revintel/api/_bent.py",
        "import typer\n",
        "revintel.api is not allowed to import typer",
    ),
}


@pytest.mark.parametrize("case", sorted(BENT))
def test_a_bent_import_breaks_a_contract(tmp_path: Path, case: str) -> None:
    """The contracts are not vacuous: one import that points the wrong way fails the check."""
    path, source, message = BENT[case]
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "revintel", src / "revintel",
                    ignore=shutil.ignore_patterns("__pycache__", "assets"))  # fmt: skip
    (src / path).write_text(source)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = lint_imports(src, tmp_path / "pyproject.toml", cwd=tmp_path)
    assert result.returncode != 0, result.stdout
    bent = path.removesuffix(".py").replace("/", ".")
    assert message in result.stdout, result.stdout
    assert f"{bent} ->" in result.stdout, result.stdout  # reported as the edge that broke it

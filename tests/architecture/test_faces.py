"""Each face starts without the others: the API without the command line's or the dashboard's
libraries, the dashboard without the API's, and ``revintel --help`` without either server.

What a process imported is read from Python itself, never from the application: a fresh
interpreter lists its ``sys.modules``, or a started server runs with ``PYTHONPROFILEIMPORTTIME``
set, so that it (and the dashboard's Streamlit process it starts) writes every module it imports
to its log (``-X importtime``). The static import contracts are checked by
``tests/architecture/test_layers.py``.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from tests.api.serving import serving

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "src" / "revintel" / "ui"

CLI_AND_DASHBOARD = ("typer", "streamlit", "revintel.cli", "revintel.ui")
API = ("fastapi", "revintel.api")
IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)\s*$", re.MULTILINE)


def within(modules: Iterable[str], packages: Iterable[str]) -> list[str]:
    """The modules that are one of ``packages`` or inside one of them."""
    packages = tuple(packages)
    return sorted({m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)})


def modules_after(code: str) -> list[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def imported_in(log: str) -> list[str]:
    """The modules ``-X importtime`` (``PYTHONPROFILEIMPORTTIME``) reports in a log."""
    return IMPORTED.findall(log)


def test_the_api_imports_neither_the_command_line_nor_the_dashboard() -> None:
    loaded = modules_after("import revintel.api.app, revintel.api.server")
    assert "revintel.api.app" in loaded
    assert within(loaded, CLI_AND_DASHBOARD) == []


def test_python_m_revintel_help_answers_without_either_server() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "revintel", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    for command in ("serve", "dashboard", "metrics"):
        assert command in result.stdout
    loaded = imported_in(result.stderr)
    assert "revintel.cli" in loaded
    assert within(loaded, (*API, "streamlit", "revintel.ui", "uvicorn")) == []


def test_revintel_serve_runs_without_the_dashboard(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "revintel", "serve", "--home", str(tmp_path / "home")]
    # A request past /health, so that imports done on a first request are seen too.
    with (
        serving([*command, "--port", "{port}"], tmp_path, PYTHONPROFILEIMPORTTIME="1") as served,
        urllib.request.urlopen(f"{served.url}/openapi.json", timeout=30) as answer,
    ):
        assert answer.status == 200
    loaded = imported_in(served.text())
    assert "revintel.api.app" in loaded
    assert within(loaded, ("streamlit", "revintel.ui")) == []


def test_revintel_dashboard_runs_without_the_api(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "revintel", "dashboard", "--no-browser"]
    command += ["--home", str(tmp_path / "home"), "--port", "{port}"]
    with serving(
        command, tmp_path, health_path="/_stcore/health", PYTHONPROFILEIMPORTTIME="1"
    ) as served:
        pass
    # Both processes write here: the command that launches, and Streamlit's server it started.
    loaded = imported_in(served.text())
    assert "revintel.ui.launch" in loaded and "revintel.ui.server" in loaded
    assert "streamlit" in loaded
    assert within(loaded, API) == []


def page_imports() -> list[str]:
    """The absolute imports of the dashboard's entry script and page scripts (which Streamlit
    runs as scripts, so importing them would draw them)."""
    scripts = [UI / "app.py", UI / "asgi.py", *sorted((UI / "views").glob("*.py"))]
    names: set[str] = set()
    for script in scripts:
        for node in ast.walk(ast.parse(script.read_text(), filename=str(script))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return sorted(names)


def test_the_dashboards_pages_import_nothing_of_the_api() -> None:
    imports = page_imports()
    assert "revintel.ui.components" in imports
    loaded = modules_after("\n".join(f"import {name}" for name in imports))
    assert within(loaded, (*API, "typer", "revintel.cli")) == []

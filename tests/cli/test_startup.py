"""The CLI's help answers without the data stack: no Ibis, SQLAlchemy, PyArrow or pandas import.

Those imports take about 1.3 s on this machine; a command that reads data imports them when it
opens its context (``revintel.cli.app.context``).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("ibis", "sqlalchemy", "pyarrow", "pandas", "duckdb", "revintel.app.context")

PROBE = """
import json, sys
from typer.testing import CliRunner
from revintel.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps({"code": result.exit_code, "output": result.output,
                  "heavy": [m for m in %r if m in sys.modules]}))
"""


@pytest.mark.parametrize("args", [["--help"], ["metrics", "--help"], ["churn", "--help"]])
def test_help_does_not_import_the_data_stack(args: list[str]) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, result["output"]
    assert "Usage" in result["output"]
    assert result["heavy"] == []

"""The README's two commands: the first installs what the product needs, the second the tests'.

A newcomer's first command (`uv sync … && uv run revintel demo`) must not bring the test tools or
PySpark; the test command asks for them itself, and `.ci/run` runs exactly that command.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _two_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Two commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "README's 'Two commands' section has no bash block"
    return [
        line.strip()
        for line in block.group(1).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_readme_has_two_commands_and_ci_runs_the_test_command() -> None:
    setup, test = _two_commands()
    assert setup.startswith("uv sync") and "uv run revintel demo" in setup
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert ci[-1] == test


def test_plain_sync_installs_no_test_tools_and_the_test_command_asks_for_them() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["tool"]["uv"]["default-groups"] == []
    runtime = _requirement_names(project["project"]["dependencies"])
    for tool in ("pytest", "playwright", "pyspark", "mypy", "hypothesis", "schemathesis"):
        assert tool not in runtime, f"{tool} is installed by the first README command"
    setup, test = _two_commands()
    group = re.search(r"--group (\w+)", test)
    assert group, "the test command does not ask for the test group"
    tools = _requirement_names(project["dependency-groups"][group.group(1)])
    assert {"pytest", "playwright", "pyspark"} <= tools
    assert "--group" not in setup and "--all-groups" not in setup

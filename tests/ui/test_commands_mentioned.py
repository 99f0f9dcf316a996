"""Every ``revintel …`` command a page tells users to run exists in the command line."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import typer.main

import revintel.ui
from revintel.cli.app import app

UI = Path(revintel.ui.__file__).parent
QUOTED = re.compile(r"`(revintel [^`]+)`")  # a command quoted in Markdown text


def _text(node: ast.expr) -> str | None:
    """A string literal's text (implicit concatenation joined; an f-string's fields as {})."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _commands_in(tree: ast.AST) -> list[str]:
    found = []
    code_blocks = set()
    for node in ast.walk(tree):  # st.code("revintel churn train …\n…"): every line a command
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "code":
            for arg in node.args:
                code_blocks.add(id(arg))
                for line in (_text(arg) or "").splitlines():
                    if line.startswith("revintel "):
                        found.append(line)
    for node in ast.walk(tree):
        text = _text(node) if isinstance(node, ast.expr) else None
        if text is not None and id(node) not in code_blocks:
            found += QUOTED.findall(text)
    return [c.split("#")[0].strip() for c in found]


def mentioned_commands() -> list[tuple[str, str]]:
    return [
        (path.relative_to(UI).as_posix(), command)
        for path in sorted(UI.rglob("*.py"))
        for command in _commands_in(ast.parse(path.read_text(encoding="utf-8")))
    ]


def is_group(command: object) -> bool:
    return isinstance(getattr(command, "commands", None), dict)


def resolves(command: str) -> bool:
    """Whether the words after ``revintel`` name a command (options and arguments after it)."""
    current = typer.main.get_command(app)
    for word in command.split()[1:]:
        if not is_group(current):
            return True  # an argument or option of the command reached
        if word.startswith("-"):
            return False  # an option before any command: a group was named, not a command
        sub = current.commands.get(word)
        if sub is None:
            return False
        current = sub
    return not is_group(current)


def test_the_pages_mention_commands() -> None:
    commands = {c for _, c in mentioned_commands()}
    assert "revintel churn models retrain" in commands
    assert "revintel churn train --horizon 1" in commands


@pytest.mark.parametrize(("page", "command"), mentioned_commands())
def test_every_command_a_page_mentions_exists(page: str, command: str) -> None:
    assert resolves(command), f"{page} tells users to run `{command}`, which revintel does not have"


def test_a_command_that_does_not_exist_is_caught() -> None:
    assert not resolves("revintel churn retrain")
    assert resolves("revintel churn models retrain")

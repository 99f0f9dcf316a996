"""Comments and docstrings under ``src/`` point to things that exist: a repository path names a file
or folder of this repository, and a ``revintel.…`` name a module (or a name in one) that imports.

A path is read relative to the repository root, to ``src/`` or to ``src/revintel/``
(``api/errors.py``). ``shared/docs/…`` is the team's shared folder beside the repository, not in
it, and is allowed as it is.
"""

from __future__ import annotations

import ast
import importlib
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
PACKAGE = SRC / "revintel"
BASES = (ROOT, SRC, PACKAGE)

# A path: folders then a name, e.g. docs/metrics.md, api/errors.py, tests/backends/.
PATH = re.compile(r"(?<![\w./:$-])((?:[A-Za-z_][\w.-]*/)+[\w.-]*)")
# The ones that are repository paths: a Python or Markdown file, or under a top-level folder.
TOP_FOLDERS = ("docs/", "tests/", "benchmarks/", "src/", ".ci/")
OUTSIDE = ("shared/docs/",)
# A dotted name of the package: revintel.core.errors, revintel.api.errors.ERROR_STATUSES.
DOTTED = re.compile(r"(?<![\w.])revintel(?:\.[A-Za-z_]\w*)+")
NOT_MODULES = {
    "revintel.toml",  # the settings file a user writes (core/config.py)
    "revintel.access",  # the API's access log, a logger's name (api/edge.py)
}


def _texts(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment and docstring of a module, attribute docstrings included."""
    source = path.read_text(encoding="utf-8")
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for statement in body:
            if (
                isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                yield statement.lineno, statement.value.value


def _mentions() -> Iterator[tuple[str, str, str]]:
    """(where, kind, mention) of every path and dotted name in src/'s comments and docstrings."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, text in _texts(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            for found in PATH.findall(text):
                mention = found.rstrip(".")
                if mention.endswith((".py", ".md")) or mention.startswith(TOP_FOLDERS):
                    yield where, "path", mention
            for mention in DOTTED.findall(text):
                yield where, "name", mention.rstrip(".")


def _path_exists(mention: str) -> bool:
    if mention.startswith(OUTSIDE):
        return True
    return any((base / mention).exists() for base in BASES)


def _name_exists(mention: str) -> bool:
    """Whether ``revintel.a.b.c`` is a module, or a name reachable from its longest module."""
    if mention in NOT_MODULES:
        return True
    parts = mention.split(".")
    for end in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:end]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[end:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


MENTIONS = sorted(set(_mentions()))


def test_the_scan_finds_references() -> None:
    kinds = {kind for _, kind, _ in MENTIONS}
    assert kinds == {"path", "name"} and len(MENTIONS) > 50


def test_every_repository_path_exists() -> None:
    dangling = [f"{where}: {m}" for where, kind, m in MENTIONS if kind == "path"]
    dangling = [d for d in dangling if not _path_exists(d.rsplit(": ", 1)[1])]
    assert dangling == [], "comments or docstrings name files that do not exist"


@pytest.mark.filterwarnings("ignore")
def test_every_revintel_name_imports() -> None:
    names = sorted({m for _, kind, m in MENTIONS if kind == "name"})
    missing = [m for m in names if not _name_exists(m)]
    where = [f"{w}: {m}" for w, kind, m in MENTIONS if kind == "name" and m in missing]
    assert where == [], "comments or docstrings name modules or attributes that do not exist"


@pytest.mark.parametrize(
    ("mention", "exists"),
    [
        ("docs/metrics.md", True),
        ("api/errors.py", True),
        ("revintel/core/errors.py", True),
        ("shared/docs/DESIGN.md", True),
        ("metrics/months.py", False),
        ("docs/nothing-here.md", False),
    ],
)
def test_paths_resolve_from_the_root_src_or_the_package(mention: str, exists: bool) -> None:
    assert _path_exists(mention) is exists

"""Words a user reads are product words: no development brief, no file that is not shipped.

Users read the README, ``docs/``, the dashboard's texts (string literals in ``revintel.ui``, not
docstrings or comments) and the metric definitions shown beside every number.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from revintel.metrics.definitions import DEFINITIONS

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = re.compile(r"\bbriefs?\b|\bDEVELOPERS\.md\b|Convention: Brief", re.IGNORECASE)


def _hits(text: str, where: str) -> list[str]:
    return [
        f"{where}:{n}: {line.strip()}"
        for n, line in enumerate(text.splitlines(), 1)
        if FORBIDDEN.search(line)
    ]


def test_readme_and_docs_speak_product_words() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    hits = [h for page in pages for h in _hits(page.read_text(), page.name)]
    assert not hits, "\n".join(hits)


def _user_strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that are not docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_dashboard_texts_speak_product_words() -> None:
    ui = ROOT / "src" / "revintel" / "ui"
    hits = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sorted(ui.rglob("*.py"))
        for line, text in _user_strings(path)
        if FORBIDDEN.search(text)
    ]
    assert not hits, "\n".join(hits)


def test_metric_definitions_shown_beside_numbers_speak_product_words() -> None:
    hits = [
        f"{d.name}: {field}"
        for d in DEFINITIONS.values()
        for field in (d.label, d.formula, d.convention)
        if FORBIDDEN.search(field)
    ]
    assert not hits, hits

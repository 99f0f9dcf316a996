"""Page scripts must not hold bare string statements: Streamlit's "magic" would print them."""

from __future__ import annotations

import ast

import pytest

from revintel.ui.views import PAGES


def _bare_strings(body: list[ast.stmt]) -> list[int]:
    found = []
    for index, node in enumerate(body):
        is_text = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if is_text and isinstance(node.value.value, str) and index > 0:
            found.append(node.lineno)
        for name in ("body", "orelse", "finalbody", "handlers"):
            sub = getattr(node, name, None)
            if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                found += _bare_strings(sub)
    return found


@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.script)
def test_no_bare_strings_on_pages(spec) -> None:
    tree = ast.parse(spec.path.read_text())
    assert _bare_strings(tree.body) == [], f"{spec.script}: use comments, not bare strings"

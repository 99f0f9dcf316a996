"""docs/metrics.md states every definition the code implements (DESIGN.md, Definitions)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from revintel.metrics import __all__ as public_names
from revintel.metrics.definitions import DEFINITIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def anchors(markdown: str) -> set[str]:
    """GitHub-style heading anchors."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text()


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_every_definition_has_its_section_and_function(doc, name):
    definition = DEFINITIONS[name]
    assert definition.anchor in anchors(doc), f"docs/metrics.md has no section #{definition.anchor}"
    module, function = definition.function.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), function))
    assert f"`{function}`" in doc, f"docs/metrics.md does not name {function}"


HELPERS = {"data_period", "month_spine", "first_paid_dates"}  # building blocks, not metrics


def test_every_public_metric_function_is_documented(doc):
    for name in public_names:
        if name[0].islower() and name not in HELPERS:
            assert f"`{name}`" in doc, name


def test_every_service_function_is_documented(doc):
    from revintel.metrics import service

    for name in service.__all__:
        assert f"`service.{name}`" in doc, name

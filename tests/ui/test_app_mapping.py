"""The Data page's upload form with a mapping file: a CRM export validates, then loads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from revintel.app.context import AppContext
from tests.data.test_mapping import MAPPING, PIPELINE, PRODUCTS

DATA_PAGE = "views/data.py"


def test_a_crm_export_uploads_with_its_mapping(
    dashboard: Callable[[Path], AppTest], empty_context: AppContext
) -> None:
    at = dashboard(empty_context.settings.home).run()
    at.switch_page(DATA_PAGE).run()
    at.file_uploader[0].set_value(
        [
            ("sales_pipeline.csv", PIPELINE.encode(), "text/csv"),
            ("products.csv", PRODUCTS.encode(), "text/csv"),
        ]
    )
    at.file_uploader[1].set_value([("crm.toml", MAPPING.encode(), "application/toml")])
    at.button(key="FormSubmitter:upload-Validate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith("Valid: 13 rows for deals 4 · deal_stage_history 9")
    assert empty_context.warehouse.list_tables() == []

    next(b for b in at.button if b.label == "Load 2 file(s)").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.toast[0].value.startswith("Loaded 13 rows into 2 table(s)")
    assert empty_context.store.load_history(1)[0]["source"] == "upload"

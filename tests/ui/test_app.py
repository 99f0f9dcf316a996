"""The dashboard through Streamlit's AppTest: empty state, Data page, upload form, demo button."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from revintel.app.context import AppContext
from revintel.data.schema import CONTRACTS
from tests.conftest import SMALL_COMPANY_CSVS, SMALL_COMPANY_ROWS

Dashboard = Callable[[Path], AppTest]
DATA_PAGE = "views/data.py"
BAD_CUSTOMERS = b"""\
customer_id,signup_date,segment,country,acquisition_channel
C001,2024-13-01,SMB,US,Organic
C002,2024-01-20,Tiny,DE,Referral
"""


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [c.value for c in at.code] + [s.value for s in at.subheader]
    return "\n".join(str(p) for p in parts)


def _frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one dataframe on the page with this column."""
    [frame] = [df.value for df in at.dataframe if column in df.value.columns]
    return frame


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_empty_home_shows_how_to_load_data(dashboard: Dashboard, tmp_path: Path) -> None:
    at = dashboard(tmp_path / "home").run()
    _no_exception(at)
    assert at.title[0].value == "revintel"
    code = "\n".join(c.value for c in at.code)
    assert "revintel demo" in code
    assert "revintel load PATH" in code
    assert "No data loaded yet" in _text(at)
    assert [b.label for b in at.button if b.key == "generate_demo"]
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "parquet" in sidebar
    assert "none loaded yet" in sidebar
    assert not at.metric  # no numbers to show yet


def test_empty_data_page_lists_every_table_unloaded(dashboard: Dashboard, tmp_path: Path) -> None:
    at = dashboard(tmp_path / "home").run()
    at.switch_page(DATA_PAGE).run()
    _no_exception(at)
    catalog = at.dataframe[0].value
    assert list(catalog["table"]) == list(CONTRACTS)
    assert not catalog["loaded"].any()
    assert "No loads yet." in [i.value for i in at.info]


def test_loaded_home_and_data_page(dashboard: Dashboard, loaded_context: AppContext) -> None:
    at = dashboard(loaded_context.settings.home).run()
    _no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "5"
    assert metrics["Tables loaded"] == "3"
    assert metrics["Rows"] == f"{sum(SMALL_COMPANY_ROWS.values()):,}"
    assert "3 tables" in "\n".join(m.value for m in at.sidebar.markdown)

    at.switch_page(DATA_PAGE).run()
    _no_exception(at)
    assert at.title[0].value == "Data"
    catalog = at.dataframe[0].value.set_index("table")
    for name, rows in SMALL_COMPANY_ROWS.items():
        assert bool(catalog.loc[name, "loaded"])
        assert catalog.loc[name, "rows"] == rows
        assert catalog.loc[name, "last_loaded"] is not None
    assert not bool(catalog.loc["deals", "loaded"])
    # Every table's expected columns, from its contract.
    expanders = [e.label for e in at.expander]
    assert len(expanders) == len(CONTRACTS)
    assert expanders[0].startswith("**customers** · 5 required, 3 optional columns")
    columns = at.dataframe[1].value
    assert list(columns["column"]) == list(CONTRACTS["customers"].column_names)
    # The load history.
    history = _frame_with(at, "status")
    assert list(history["status"]) == ["success"]
    assert history["rows"][0] == sum(SMALL_COMPANY_ROWS.values())


def test_upload_with_bad_file_shows_every_problem_and_no_load_button(
    dashboard: Dashboard, loaded_context: AppContext
) -> None:
    at = dashboard(loaded_context.settings.home).run()
    at.switch_page(DATA_PAGE).run()
    at.file_uploader[0].set_value([("customers.csv", BAD_CUSTOMERS, "text/csv")])
    at.button(key="FormSubmitter:upload-Validate").click().run()
    _no_exception(at)
    # Two bad values, and replacing customers would orphan the subscriptions and payments of
    # C003 and C004 (loaded before, not in this upload): six problems, every one listed.
    assert at.error[0].value.startswith("6 problem(s) found")
    problems = _frame_with(at, "problem")
    assert len(problems) == 6
    assert set(problems["file"]) == {"customers.csv"}
    cells = problems[problems["row"].notna()]
    assert list(cells["row"]) == [1, 2]
    assert list(cells["column"]) == ["signup_date", "segment"]
    assert list(cells["got"]) == ["2024-13-01", "Tiny"]
    assert sorted(problems[problems["row"].isna()]["got"]) == ["C003", "C003", "C004", "C004"]
    assert not [b for b in at.button if b.label.startswith("Load ")]
    # Nothing changed in the warehouse.
    ctx = AppContext(loaded_context.settings)
    try:
        assert ctx.warehouse.row_counts()["customers"] == 5
    finally:
        ctx.close()


def test_upload_with_good_files_validates_then_loads(
    dashboard: Dashboard, empty_context: AppContext
) -> None:
    at = dashboard(empty_context.settings.home).run()
    at.switch_page(DATA_PAGE).run()
    files = [(name, text.encode(), "text/csv") for name, text in SMALL_COMPANY_CSVS.items()]
    at.file_uploader[0].set_value(files)
    at.button(key="FormSubmitter:upload-Validate").click().run()
    _no_exception(at)
    assert not at.error
    assert at.success[0].value.startswith("Valid: 15 rows for customers 5 · subscriptions 4")
    report = _frame_with(at, "format")
    assert dict(zip(report["table"], report["rows"], strict=True)) == SMALL_COMPANY_ROWS
    assert list(report["problems"]) == [0, 0, 0]
    # Validation wrote nothing.
    assert empty_context.warehouse.list_tables() == []

    load = next(b for b in at.button if b.label == "Load 3 file(s)")
    load.click().run()
    _no_exception(at)
    catalog = at.dataframe[0].value.set_index("table")
    assert {n: catalog.loc[n, "rows"] for n in SMALL_COMPANY_ROWS} == SMALL_COMPANY_ROWS
    assert at.toast[0].value.startswith("Loaded 15 rows into 3 table(s)")
    history = _frame_with(at, "status")
    assert list(history["source"]) == ["upload"]


def test_demo_button_generates_and_loads_a_company(dashboard: Dashboard, tmp_path: Path) -> None:
    at = dashboard(tmp_path / "home").run()
    next(b for b in at.button if b.key == "generate_demo").click().run()
    _no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Customers"].replace(",", "")) > 0
    assert int(metrics["Tables loaded"]) > 3
    assert not [c for c in at.code if "revintel demo" in c.value]  # the empty state is gone
    assert at.toast[0].value.startswith("Demo company loaded")

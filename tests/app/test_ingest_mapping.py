"""`load_mapped`: a CRM export loads through its mapping file, without customers, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_mapped, load_paths, validate_mapped
from revintel.core.errors import ValidationFailed
from tests.data.test_mapping import export

REPO = Path(__file__).resolve().parents[2]
MAVEN_MAPPING = REPO / "examples" / "mappings" / "maven-crm.toml"
# The public Maven Analytics CRM export; REVINTEL_MAVEN_CRM points elsewhere.
MAVEN_EXPORT = Path(os.environ.get("REVINTEL_MAVEN_CRM", "/work/shared/datasets/crm"))


def test_a_crm_export_loads_without_customers(tmp_path: Path, empty_context: AppContext) -> None:
    folder, mapping = export(tmp_path)

    result = load_mapped(empty_context, folder, mapping, source="test")

    assert result.tables == {"deals": 4, "deal_stage_history": 9}
    deals = empty_context.warehouse.table("deals").order_by("deal_id").to_pyarrow().to_pylist()
    assert [d["amount"] for d in deals] == [1054.0, 55.0, 550.0, 550.0]
    assert deals[0]["stage"] == "Closed Won" and deals[0]["account_id"] is None
    assert str(deals[3]["created_date"]) == "2017-12-31"
    assert not empty_context.warehouse.has_table("customers")
    # The staging folder of the mapped tables is gone.
    assert not any((empty_context.settings.home / "staging").glob("*mapped*"))


def test_a_bad_export_changes_nothing_and_names_the_source_row(
    tmp_path: Path, empty_context: AppContext
) -> None:
    folder, mapping = export(tmp_path)
    load_mapped(empty_context, folder, mapping, source="test")
    # A duplicate opportunity id passes the mapping and is refused by the deals contract,
    # which names the export's file (through the mapping) and its row.
    pipeline = folder / "sales_pipeline.csv"
    pipeline.write_text(pipeline.read_text() + "O1,Ann Lee,GTX Basic,,Engaging,03/11/2016,,\n")

    with pytest.raises(ValidationFailed) as excinfo:
        load_mapped(empty_context, folder, mapping, source="test")

    text = str(excinfo.value)
    assert f"{pipeline} via crm.toml [tables.deals], row 5, column 'deal_id'" in text
    assert empty_context.warehouse.table("deals").count().to_pyarrow().as_py() == 4


def test_a_bad_mapping_is_a_failed_load_in_the_history(
    tmp_path: Path, empty_context: AppContext
) -> None:
    folder, mapping = export(tmp_path)
    mapping.write_text(mapping.read_text().replace('owner = "sales_agent"', 'owner = "agent"'))

    with pytest.raises(ValidationFailed):
        load_mapped(empty_context, folder, mapping, source="test")

    (last,) = empty_context.store.load_history(limit=1)
    assert last["status"] == "failed"
    assert "key tables.deals.columns.owner: no column 'agent'" in last["message"]
    assert not empty_context.warehouse.has_table("deals")


def test_a_deal_naming_an_account_id_still_needs_that_customer(
    tmp_path: Path, empty_context: AppContext
) -> None:
    folder, mapping = export(tmp_path)
    text = mapping.read_text().replace('account_name = "account"', 'account_id = "account"')
    mapping.write_text(text)

    report = validate_mapped(empty_context, folder, mapping)

    assert not report.ok
    assert any("customer" in p.message and p.got == "Acme" for p in report.problems)


def test_deals_file_alone_loads_without_customers(
    tmp_path: Path, empty_context: AppContext
) -> None:
    folder = tmp_path / "crm"
    folder.mkdir()
    (folder / "deals.csv").write_text(
        "deal_id,account_id,owner,stage,amount,created_date,expected_close_date,closed_date\n"
        "D1,,Ann,Prospecting,100,2024-01-02,2024-03-01,\n"
    )
    assert load_paths(empty_context, [folder], source="test").tables == {"deals": 1}


def test_a_mapping_load_needs_a_folder(tmp_path: Path, empty_context: AppContext) -> None:
    _, mapping = export(tmp_path)
    with pytest.raises(ValidationFailed, match="not a folder"):
        load_mapped(empty_context, tmp_path / "missing", mapping)


@pytest.mark.skipif(not MAVEN_EXPORT.is_dir(), reason="the Maven CRM export is not on this machine")
def test_the_maven_crm_example_loads_the_export_as_it_is(empty_context: AppContext) -> None:
    result = load_mapped(empty_context, MAVEN_EXPORT, MAVEN_MAPPING, source="test")

    # 8,800 opportunities; history: every deal's first stage, 8,300 engaged, 6,711 closed.
    assert result.tables == {"deals": 8_800, "deal_stage_history": 8_800 + 8_300 + 6_711}
    deals = empty_context.warehouse.table("deals")
    counts = deals.group_by("stage").aggregate(n=deals.count()).to_pyarrow().to_pydict()
    by_stage = dict(zip(counts["stage"], counts["n"], strict=True))
    assert by_stage == {
        "Closed Won": 4_238,
        "Closed Lost": 2_473,
        "Qualification": 1_589,
        "Prospecting": 500,
    }
    assert deals.filter(deals.amount.isnull()).count().to_pyarrow().as_py() == 0
    # Before the close a deal is worth its product's list price (history entries' ``amount``):
    # the close value, known only at the close, never shows in an open stage's row.
    import csv

    with (MAVEN_EXPORT / "products.csv").open() as handle:
        prices = {float(row["sales_price"]) for row in csv.DictReader(handle)}
    h = empty_context.warehouse.table("deal_stage_history")
    open_rows = h.filter(h.stage.isin(["Prospecting", "Qualification"]))
    seen = set(open_rows.select("amount").distinct().to_pyarrow().column("amount").to_pylist())
    assert seen <= prices
    won = h.filter(h.stage == "Closed Won").select("amount").distinct().count().to_pyarrow()
    assert won.as_py() > len(prices)  # the close values themselves


def test_the_salesforce_example_loads(tmp_path: Path, empty_context: AppContext) -> None:
    from tests.data.test_mapping import SALESFORCE, SALESFORCE_MAPPING

    for name, text in SALESFORCE.items():
        (tmp_path / name).write_text(text)

    result = load_mapped(empty_context, tmp_path, SALESFORCE_MAPPING, source="test")

    assert result.tables == {"deals": 2, "deal_stage_history": 5}


def test_a_mapped_load_empties_the_deal_tables_it_would_orphan(
    tmp_path: Path, empty_context: AppContext
) -> None:
    before = tmp_path / "before"
    before.mkdir()
    (before / "deals.csv").write_text(
        "deal_id,account_id,owner,stage,amount,created_date,expected_close_date,closed_date\n"
        "D1,,Ann,Prospecting,100,2024-01-02,2024-03-01,\n"
    )
    (before / "deal_activities.csv").write_text(
        "activity_id,deal_id,activity_at,kind\nA1,D1,2024-01-03 10:00:00,call\n"
    )
    load_paths(empty_context, [before], source="test")
    folder, mapping = export(tmp_path)

    result = load_mapped(empty_context, folder, mapping, source="test")

    assert result.tables == {"deals": 4, "deal_stage_history": 9, "deal_activities": 0}
    assert [str(w) for w in result.warnings] == [
        f"{mapping}: table deal_activities emptied: its rows belong to the deals this load "
        "replaces, and the mapping does not make it; expected [tables.deal_activities] in the "
        "mapping to load it from the export"
    ]
    assert empty_context.warehouse.table("deal_activities").count().to_pyarrow().as_py() == 0


def test_an_appended_mapped_load_keeps_the_other_deal_tables(
    tmp_path: Path, empty_context: AppContext
) -> None:
    before = tmp_path / "before"
    before.mkdir()
    (before / "deals.csv").write_text(
        "deal_id,account_id,owner,stage,amount,created_date,expected_close_date,closed_date\n"
        "D1,,Ann,Prospecting,100,2024-01-02,2024-03-01,\n"
    )
    (before / "deal_activities.csv").write_text(
        "activity_id,deal_id,activity_at,kind\nA1,D1,2024-01-03 10:00:00,call\n"
    )
    load_paths(empty_context, [before], source="test")
    folder, mapping = export(tmp_path)

    result = load_mapped(empty_context, folder, mapping, mode="append", source="test")

    assert "deal_activities" not in result.tables and not result.warnings
    assert empty_context.warehouse.table("deals").count().to_pyarrow().as_py() == 5
    assert empty_context.warehouse.table("deal_activities").count().to_pyarrow().as_py() == 1


def test_a_derived_history_feeds_the_learned_stage_probabilities(
    tmp_path: Path, empty_context: AppContext
) -> None:
    from revintel.pipeline.frames import data_as_of, deal_tables
    from revintel.pipeline.stages import learned_stage_probabilities

    folder, mapping = export(tmp_path)
    load_mapped(empty_context, folder, mapping, source="test")
    tables = deal_tables(empty_context.warehouse)
    assert tables.history is not None

    learned = learned_stage_probabilities(tables.deals, tables.history).to_pyarrow().to_pylist()

    # Two closed deals, both reached Qualification (engaged), one won.
    by_stage = {row["stage"]: (row["reached"], row["won"]) for row in learned}
    assert by_stage == {
        "Prospecting": (2, 1),
        "Qualification": (2, 1),
        "Proposal": (0, 0),
        "Negotiation": (0, 0),
    }
    assert str(data_as_of(empty_context.warehouse, tables)) == "2017-12-31"

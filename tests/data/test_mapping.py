"""Mapping files (`revintel.data.mapping`): a CRM export becomes canonical tables, unedited;
every problem names the mapping key to change, or the file, row and column of a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.core.errors import ValidationFailed
from revintel.data.mapping import apply_mapping, read_mapping

# A CRM export in Maven's layout (made-up rows): dates as day/month/year.
PIPELINE = """\
opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value
O1,Ann Lee,GTXPro,Acme,Won,20/10/2016,01/03/2017,1054
O2,Bob Roy,MG Special,Beta,Lost,25/10/2016,07/03/2017,0
O3,Ann Lee,GTX Basic,,Engaging,02/11/2016,,
O4,Bob Roy,GTX Basic,,Prospecting,,,
"""
PRODUCTS = """\
product,series,sales_price
GTX Pro,GTX,4821
MG Special,MG,55
GTX Basic,GTX,550
"""

MAPPING = """\
version = 1

[files]
pipeline = "sales_pipeline.csv"
products = "products.csv"

[tables.deals]
file = "pipeline"
date_format = "%d/%m/%Y"

[tables.deals.columns]
deal_id = "opportunity_id"
owner = "sales_agent"
account_name = "account"
product = "product"
stage = "deal_stage"
created_date = "engage_date"
closed_date = "close_date"
amount = ["close_value", "list_price"]

[tables.deals.values.deal_stage]
Prospecting = "Prospecting"
Engaging = "Qualification"
Won = "Closed Won"
Lost = "Closed Lost"

[tables.deals.values.product]
GTXPro = "GTX Pro"

[tables.deals.values.close_value]
"0" = ""

[tables.deals.constants]
lead_source = "CRM"

[tables.deals.defaults]
created_date = "31/12/2017"

[[tables.deals.lookups]]
file = "products"
match = { product = "product" }
take = { list_price = "sales_price" }
required = true

[tables.deal_stage_history]
from_deals = true

[[tables.deal_stage_history.entries]]
stage = "Prospecting"
date = "created_date"

[[tables.deal_stage_history.entries]]
stage = "Qualification"
date = "engage_date"

[[tables.deal_stage_history.entries]]
stage = "Closed Won"
date = "closed_date"
when_stage = "Closed Won"

[[tables.deal_stage_history.entries]]
stage = "Closed Lost"
date = "closed_date"
when_stage = ["Closed Lost"]
"""


def export(
    tmp_path: Path, *, pipeline: str = PIPELINE, mapping: str = MAPPING
) -> tuple[Path, Path]:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    (folder / "sales_pipeline.csv").write_text(pipeline)
    (folder / "products.csv").write_text(PRODUCTS)
    path = tmp_path / "crm.toml"
    path.write_text(mapping)
    return folder, path


def problems(excinfo: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


def test_an_export_becomes_deals_and_their_history(tmp_path: Path) -> None:
    folder, path = export(tmp_path)
    tables = {t.table: t for t in apply_mapping(read_mapping(path), folder)}

    deals = tables["deals"].frame
    assert deals["deal_id"].to_list() == ["O1", "O2", "O3", "O4"]
    assert deals["stage"].to_list() == ["Closed Won", "Closed Lost", "Qualification", "Prospecting"]
    # Renamed, recoded, looked up: won keeps its value, lost (0) and open take the list price.
    assert deals["amount"].to_list() == ["1054", "55", "550", "550"]
    assert deals["product"].to_list() == ["GTX Pro", "MG Special", "GTX Basic", "GTX Basic"]
    # Dates reformatted to ISO; a blank filled by its default (written like the source).
    assert deals["created_date"].to_list() == [
        "2016-10-20",
        "2016-10-25",
        "2016-11-02",
        "2017-12-31",
    ]
    assert deals["closed_date"].to_list() == ["2017-03-01", "2017-03-07", None, None]
    assert deals["lead_source"].to_list() == ["CRM"] * 4
    # CRM accounts are not customers: account_id is there (a required column) and blank.
    assert deals["account_id"].null_count() == 4
    assert deals["account_name"].to_list() == ["Acme", "Beta", None, None]
    # Extra export columns (series, list_price) do not leak into the table.
    assert "list_price" not in deals.columns and "series" not in deals.columns

    history = tables["deal_stage_history"].frame
    rows = sorted(history.select("deal_id", "stage", "entered_at").iter_rows())
    assert rows == [
        ("O1", "Closed Won", "2017-03-01"),
        ("O1", "Prospecting", "2016-10-20"),
        ("O1", "Qualification", "2016-10-20"),
        ("O2", "Closed Lost", "2017-03-07"),
        ("O2", "Prospecting", "2016-10-25"),
        ("O2", "Qualification", "2016-10-25"),
        ("O3", "Prospecting", "2016-11-02"),
        ("O3", "Qualification", "2016-11-02"),
        ("O4", "Prospecting", "2017-12-31"),
    ]
    assert tables["deals"].label == f"{folder / 'sales_pipeline.csv'} via crm.toml [tables.deals]"


def test_a_history_entry_takes_its_amount_from_the_column_it_names(tmp_path: Path) -> None:
    # Before the close a deal is worth its list price; the close value shows from the close on.
    text = MAPPING.replace(
        'stage = "Qualification"\ndate = "engage_date"\n',
        'stage = "Qualification"\ndate = "engage_date"\namount = "list_price"\n',
    )
    folder, path = export(tmp_path, mapping=text)
    history = {t.table: t for t in apply_mapping(read_mapping(path), folder)}[
        "deal_stage_history"
    ].frame
    amounts = {(r["deal_id"], r["stage"]): r["amount"] for r in history.iter_rows(named=True)}
    assert amounts[("O1", "Qualification")] == "4821"  # GTX Pro's list price
    assert amounts[("O1", "Closed Won")] == "1054"  # its close value
    assert amounts[("O1", "Prospecting")] == "1054"  # no amount named: the deal's
    bad = MAPPING.replace(
        'stage = "Qualification"\ndate = "engage_date"\n',
        'stage = "Qualification"\ndate = "engage_date"\namount = "list_prise"\n',
    )
    folder, path = export(tmp_path, mapping=bad)
    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(path), folder)
    assert any("entries[1].amount" in p and "list_prise" in p for p in problems(excinfo))


def test_mapping_problems_name_their_keys(tmp_path: Path) -> None:
    bad = (
        MAPPING.replace('deal_id = "opportunity_id"', 'deal_id = "opportunity_id"\nregion = "x"')
        .replace('owner = "sales_agent"\n', "")
        .replace('file = "products"', 'file = "catalog"')
        .replace('stage = "Closed Won"', 'stage = "Won"')
        .replace('date_format = "%d/%m/%Y"', 'date_format = "dd/mm/yyyy"')
    )
    bad += '\n[tables.leads]\nfile = "pipeline"\n'
    _, path = export(tmp_path, mapping=bad)

    with pytest.raises(ValidationFailed) as excinfo:
        read_mapping(path)

    text = "\n".join(problems(excinfo))
    for expected in (
        "key tables.deals.columns.region: not a column of deals; expected one of deal_id,",
        "key tables.deals.columns.owner: required column of deals is not mapped",
        "key tables.deals.lookups[0].file: not a file named under [files]; expected one of "
        "pipeline, products, got 'catalog'",
        "key tables.deal_stage_history.entries[2].stage: not a revintel stage; expected one of "
        "Prospecting,",
        "key tables.deals.date_format: not a date format; expected a strptime format",
        "key tables.leads: not a revintel table",
    ):
        assert expected in text
    assert all(p.file == str(path) for p in excinfo.value.problems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version = [", "not valid TOML"),
        ("version = 2\n" + MAPPING.replace("version = 1\n", ""), "key version: unsupported"),
        (MAPPING.replace('"sales_pipeline.csv"', '"../sales_pipeline.csv"'), "inside the export"),
        (MAPPING.replace('"sales_pipeline.csv"', '"sales_pipeline.xlsx"'), "unsupported file type"),
        (MAPPING + "\n[tables.deals.other]\n", "key tables.deals.other: unknown key"),
        (MAPPING.replace("required = true", 'required = "yes"'), "must be true or false"),
        (
            MAPPING.replace('file = "pipeline"', 'file = "pipeline"\nkeep = "newest"'),
            "key tables.deals.keep: unknown value; expected first or last",
        ),
        (
            MAPPING.replace("from_deals = true", 'from_deals = true\nkeep = "last"'),
            "key tables.deal_stage_history.keep: not used when the table is derived",
        ),
        (
            MAPPING.replace(
                'closed_date = "close_date"',
                'closed_date = { from = "close_date", when = { deal_stage = 3 } }',
            ),
            "key tables.deals.columns.closed_date.when.deal_stage: must be a value or a list",
        ),
    ],
)
def test_a_bad_mapping_file_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    _, path = export(tmp_path, mapping=text)
    with pytest.raises(ValidationFailed) as excinfo:
        read_mapping(path)
    assert any(expected in p for p in problems(excinfo)), problems(excinfo)


def test_a_missing_mapping_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="mapping file not found"):
        read_mapping(tmp_path / "nope.toml")


def test_export_problems_name_file_row_column_and_key(tmp_path: Path) -> None:
    pipeline = PIPELINE.replace("01/03/2017", "2017-03-01").replace(",Lost,", ",Stalled,")
    pipeline = pipeline.replace("02/11/2016", "2016-11-02")  # created date and history entry
    pipeline += "O5,Ann Lee,Widget,,Engaging,03/11/2016,,\n"
    folder, path = export(tmp_path, pipeline=pipeline)

    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(path), folder)

    csv = folder / "sales_pipeline.csv"
    text = "\n".join(problems(excinfo))
    assert (
        f"{csv}, row 1, column 'close_date': key tables.deals.date_format: date does not match "
        "the format '%d/%m/%Y'; expected a date like 31/03/2024, got '2017-03-01'"
    ) in text
    assert (
        f"{csv}, column 'stage': key tables.deals.values.deal_stage: source column 'deal_stage' "
        "has 1 row(s) with a value stage cannot take (first at row 2)"
    ) in text
    assert "got 'Stalled'" in text
    # A bad cell used by a deals column and a history entry with the same format: reported once.
    assert text.count("got '2016-11-02'") == 1
    assert f"{csv}, row 3, column 'engage_date': key tables.deals.date_format" in text
    assert (
        f"{csv}, row 5, column 'product': key tables.deals.lookups[0] (required = true): no row "
        f"of {folder / 'products.csv'} matches"
    ) in text


def test_a_missing_source_column_or_file_is_named(tmp_path: Path) -> None:
    mapping = MAPPING.replace('owner = "sales_agent"', 'owner = "agent"')
    folder, path = export(tmp_path, mapping=mapping)
    (folder / "products.csv").unlink()

    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(path), folder)

    text = "\n".join(problems(excinfo))
    assert "key tables.deals.columns.owner: no column 'agent' in this file" in text
    assert "expected one of opportunity_id, sales_agent," in text
    assert (
        f"{folder / 'products.csv'}: file not found in the export folder (key files.products"
        in (text)
    )


def test_a_lookup_key_must_be_unique(tmp_path: Path) -> None:
    folder, path = export(tmp_path)
    (folder / "products.csv").write_text(PRODUCTS + "GTX Basic,GTX,560\n")

    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(path), folder)

    assert any(
        "key tables.deals.lookups[0].match: product is not unique in this file" in p
        and "got 'GTX Basic'" in p
        for p in problems(excinfo)
    )


def test_an_optional_lookup_leaves_unmatched_rows_blank(tmp_path: Path) -> None:
    folder, path = export(tmp_path, mapping=MAPPING.replace("required = true", "required = false"))
    (folder / "products.csv").write_text(PRODUCTS.replace("MG Special,MG,55\n", ""))

    tables = {t.table: t for t in apply_mapping(read_mapping(path), folder)}

    # O2 (lost, value 0 blanked) finds no list price: its amount is blank, for the importer to
    # refuse (amount is required), naming the row.
    assert tables["deals"].frame["amount"].to_list() == ["1054", None, "550", "550"]


def test_a_parquet_export_maps_like_a_csv(tmp_path: Path) -> None:
    import polars as pl

    folder, path = export(tmp_path)
    pl.read_csv(folder / "sales_pipeline.csv", infer_schema=False).with_columns(
        pl.col("close_value").cast(pl.Int64)
    ).write_parquet(folder / "sales_pipeline.parquet")
    path.write_text(MAPPING.replace('"sales_pipeline.csv"', '"sales_pipeline.parquet"'))

    tables = {t.table: t for t in apply_mapping(read_mapping(path), folder)}

    assert tables["deals"].frame["amount"].to_list() == ["1054", "55", "550", "550"]


def test_a_file_that_cannot_be_read_is_named_with_its_key(tmp_path: Path) -> None:
    folder, path = export(tmp_path)
    (folder / "products.csv").write_bytes(b'product,series\n"GTX Pro,GTX\n')

    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(path), folder)

    assert any(
        p.file == str(folder / "products.csv")
        and "cannot be read" in p.message
        and "key files.products, used by tables.deals.lookups[0].file" in p.message
        for p in excinfo.value.problems
    ), problems(excinfo)


# A Salesforce Data Export in its own layout (made-up rows), for examples/mappings/salesforce.toml.
SALESFORCE = {
    "Opportunity.csv": "\n".join(
        ",".join(f'"{v}"' for v in row)
        for row in (
            [
                "Id",
                "IsDeleted",
                "AccountId",
                "Name",
                "StageName",
                "Amount",
                "CloseDate",
                "Type",
                "LeadSource",
                "IsClosed",
                "IsWon",
                "ForecastCategoryName",
                "OwnerId",
                "CreatedDate",
            ],
            [
                "006A",
                "false",
                "001A",
                "Acme renewal",
                "Closed Won",
                "12000.0",
                "2024-03-28",
                "Existing Customer - Upgrade",
                "Web",
                "true",
                "true",
                "Closed",
                "005A",
                "2024-01-05T09:12:44.000Z",
            ],
            [
                "006B",
                "false",
                "",
                "Beta new",
                "Negotiation/Review",
                "",
                "2024-06-30",
                "New Customer",
                "Partner",
                "false",
                "false",
                "Commit",
                "005B",
                "2024-02-11T17:40:03.000Z",
            ],
        )
    )
    + "\n",
    "OpportunityHistory.csv": """\
"Id","OpportunityId","CreatedDate","StageName","Amount","CloseDate","ForecastCategory"
"008A","006A","2024-01-05T09:12:44.000Z","Prospecting","10000.0","2024-03-31","Pipeline"
"008B","006A","2024-02-01T10:00:00.000Z","Proposal/Price Quote","11000.0","2024-03-31","BestCase"
"008C","006A","2024-02-01T15:30:00.000Z","Proposal/Price Quote","12000.0","2024-03-31","Forecast"
"008D","006A","2024-03-28T08:00:00.000Z","Closed Won","12000.0","2024-03-28","Closed"
"008E","006B","2024-02-11T17:40:03.000Z","Needs Analysis","","2024-05-31","Pipeline"
"008F","006B","2024-04-02T11:00:00.000Z","Negotiation/Review","","2024-06-30","Forecast"
""",
    "Account.csv": '"Id","Name","Industry"\n"001A","Acme","Retail"\n',
    "User.csv": '"Id","Name"\n"005A","Ann Lee"\n"005B","Bob Roy"\n',
}
SALESFORCE_MAPPING = Path(__file__).resolve().parents[2] / "examples/mappings/salesforce.toml"


def test_the_salesforce_example_maps_an_export_with_its_own_history(tmp_path: Path) -> None:
    for name, text in SALESFORCE.items():
        (tmp_path / name).write_text(text)

    tables = {t.table: t.frame for t in apply_mapping(read_mapping(SALESFORCE_MAPPING), tmp_path)}

    deals = tables["deals"]
    assert deals.select("deal_id", "stage", "owner", "account_name", "amount").rows() == [
        ("006A", "Closed Won", "Ann Lee", "Acme", "12000.0"),
        ("006B", "Negotiation", "Bob Roy", None, "0"),
    ]
    assert deals["created_date"].to_list() == ["2024-01-05", "2024-02-11"]
    # CloseDate is the expected close of every deal and the close date of closed ones only.
    assert deals["expected_close_date"].to_list() == ["2024-03-28", "2024-06-30"]
    assert deals["closed_date"].to_list() == ["2024-03-28", None]
    assert deals["deal_type"].to_list() == ["Expansion", "New Business"]
    history = tables["deal_stage_history"]
    # Two changes on 1 February: the day's last stands.
    assert history.select(
        "deal_id", "stage", "entered_at", "amount", "forecast_category"
    ).rows() == [
        ("006A", "Prospecting", "2024-01-05", "10000.0", "Pipeline"),
        ("006A", "Proposal", "2024-02-01", "12000.0", "Commit"),
        ("006A", "Closed Won", "2024-03-28", "12000.0", "Closed"),
        ("006B", "Qualification", "2024-02-11", None, "Pipeline"),
        ("006B", "Negotiation", "2024-04-02", None, "Commit"),
    ]


def _with_bins(mapping: str, edges: str = "[1000, 5000]", labels: str = "") -> str:
    labels = labels or '["SMB", "Mid-Market", "Enterprise"]'
    return mapping.replace(
        'products = "products.csv"', 'products = "products.csv"\naccounts = "accounts.csv"'
    ) + (
        '\n[[tables.deals.lookups]]\nfile = "accounts"\nmatch = { account = "account" }\n'
        'take = { employees = "employees" }\n'
        f'\n[tables.deals.bins.segment]\nfrom = "employees"\nedges = {edges}\nlabels = {labels}\n'
    )


def test_bins_cut_a_number_into_labelled_ranges(tmp_path: Path) -> None:
    folder, path = export(tmp_path, mapping=_with_bins(MAPPING))
    (folder / "accounts.csv").write_text("account,employees\nAcme,999\nBeta,1000\n")

    deals = {t.table: t.frame for t in apply_mapping(read_mapping(path), folder)}["deals"]

    # Below the first edge, from an edge on (included); no account, no segment.
    assert deals["segment"].to_list() == ["SMB", "Mid-Market", None, None]
    (folder / "accounts.csv").write_text("account,employees\nAcme,5000\nBeta,12\n")
    deals = {t.table: t.frame for t in apply_mapping(read_mapping(path), folder)}["deals"]
    assert deals["segment"].to_list() == ["Enterprise", "SMB", None, None]


def test_bad_bins_are_named(tmp_path: Path) -> None:
    _, path = export(tmp_path, mapping=_with_bins(MAPPING, edges="[5000, 1000]"))
    with pytest.raises(ValidationFailed, match=r"key tables.deals.bins.segment.edges: must be"):
        read_mapping(path)
    _, path = export(tmp_path, mapping=_with_bins(MAPPING, labels='["SMB", "Enterprise"]'))
    with pytest.raises(ValidationFailed, match=r"segment.labels: must be one label more"):
        read_mapping(path)
    folder, path = export(tmp_path, mapping=_with_bins(MAPPING, labels='["S", "M", "E"]'))
    (folder / "accounts.csv").write_text("account,employees\nAcme,many\nBeta,1000\n")
    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(path), folder)
    text = "\n".join(problems(excinfo))
    assert "row 1, column 'employees': key tables.deals.bins.segment: not a number" in text
    assert (
        "key tables.deals.bins.segment.labels: tables.deals.bins.segment.labels has 1 row" in text
    )


def test_a_link_out_of_the_export_folder_is_not_read(tmp_path: Path) -> None:
    folder, path = export(tmp_path)
    secret = tmp_path / "secret.csv"
    secret.write_text("product,sales_price\nGTX Pro,1\n")
    (folder / "products.csv").unlink()
    (folder / "products.csv").symlink_to(secret)

    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(path), folder)

    assert any("is outside the export folder" in p for p in problems(excinfo))


def test_many_bad_values_give_a_short_report(tmp_path: Path) -> None:
    rows = "".join(f"X{i},Ann Lee,GTX Basic,,Stage {i},02/11/2016,,\n" for i in range(200))
    folder, path = export(tmp_path, pipeline=PIPELINE + rows)

    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(path), folder)

    assert excinfo.value.total == 200
    assert len(excinfo.value.problems) == 50


HUBSPOT_MAPPING = Path(__file__).resolve().parents[2] / "examples/mappings/hubspot.toml"
HUBSPOT_STAGES = (
    "Appointment Scheduled",
    "Qualified To Buy",
    "Presentation Scheduled",
    "Decision Maker Bought-In",
    "Contract Sent",
    "Closed Won",
    "Closed Lost",
)


def _hubspot_export(folder: Path) -> None:
    """A HubSpot deals export in a default portal's layout (made-up rows)."""
    import polars as pl

    entered = {
        f'Date entered "{s} (Sales Pipeline)"': values
        for s, values in zip(
            HUBSPOT_STAGES,
            [
                ["2024-01-03 09:00", "2024-02-01 10:30"],
                ["2024-01-10 14:00", None],
                ["2024-01-20 11:15", None],
                ["2024-02-02 16:45", None],
                ["2024-02-20 08:00", None],
                ["2024-03-01 12:00", None],
                [None, None],
            ],
            strict=True,
        )
    }
    pl.DataFrame(
        {
            "Record ID": ["101", "102"],
            "Deal Name": ["Acme", "Beta"],
            "Associated Company": ["Acme Inc", None],
            "Deal owner": ["Ann Lee", "Bob Roy"],
            "Deal Stage": ["Closed Won", "Appointment Scheduled"],
            "Amount": ["5000", None],
            "Create Date": ["2024-01-03 09:00", "2024-02-01 10:30"],
            "Close Date": ["2024-03-01 12:00", "2024-04-30 00:00"],
            "Forecast category": ["Closed won", "Pipeline"],
            "Deal Type": ["New Business", "Existing Business"],
            "Original Source Type": ["Organic Search", "Direct Traffic"],
            **entered,
        }
    ).write_csv(folder / "deals.csv")


def test_the_hubspot_example_derives_history_from_date_entered_columns(tmp_path: Path) -> None:
    _hubspot_export(tmp_path)

    tables = {t.table: t.frame for t in apply_mapping(read_mapping(HUBSPOT_MAPPING), tmp_path)}

    deals = tables["deals"]
    assert deals.select(
        "deal_id", "stage", "amount", "closed_date", "forecast_category"
    ).rows() == [
        ("101", "Closed Won", "5000", "2024-03-01", "Closed"),
        ("102", "Prospecting", "0", None, "Pipeline"),
    ]
    assert deals["deal_type"].to_list() == ["New Business", "Expansion"]
    history = tables["deal_stage_history"].select("deal_id", "stage", "entered_at").rows()
    assert history == [
        ("101", "Prospecting", "2024-01-03"),
        ("101", "Qualification", "2024-01-10"),
        ("101", "Proposal", "2024-01-20"),
        ("101", "Proposal", "2024-02-02"),
        ("101", "Negotiation", "2024-02-20"),
        ("101", "Closed Won", "2024-03-01"),
        ("102", "Prospecting", "2024-02-01"),
    ]


def test_a_byte_order_mark_and_quoted_header_names_are_read(tmp_path: Path) -> None:
    header, rows = PIPELINE.split("\n", 1)
    quoted = ",".join(f'"{name}"' for name in header.split(","))
    folder, path = export(tmp_path, pipeline="")
    (folder / "sales_pipeline.csv").write_bytes(b"\xef\xbb\xbf" + f"{quoted}\n{rows}".encode())

    deals = {t.table: t.frame for t in apply_mapping(read_mapping(path), folder)}["deals"]

    assert deals["deal_id"].to_list() == ["O1", "O2", "O3", "O4"]


def test_a_file_with_a_repeated_column_name_is_refused(tmp_path: Path) -> None:
    folder, path = export(tmp_path)
    (folder / "products.csv").write_text("product,series,product \nGTX Pro,GTX,x\n")

    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(path), folder)

    assert any("column names repeated: product" in p for p in problems(excinfo)), problems(excinfo)

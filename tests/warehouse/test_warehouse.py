"""Atomic commits to the Parquet warehouse and to a DuckDB file warehouse."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest

from revintel.app.ingest import storage_table
from revintel.core.config import Settings
from revintel.data.schema import contract_for
from revintel.warehouse import (
    SNAPSHOTS_KEPT,
    DatabaseWarehouse,
    ParquetWarehouse,
    StagedTable,
    Warehouse,
    connect,
)


def stage(folder: Path, table: str, rows: list[dict[str, Any]], part: int = 0) -> StagedTable:
    """Rows of ``table`` written as a staged Parquet file in the storage schema."""
    contract = contract_for(table)
    frame = pl.DataFrame(rows, schema=contract.polars_schema(list(rows[0])), orient="row")
    path = folder / f"{table}-{part}-{len(list(folder.glob('*')))}.parquet"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(storage_table(contract, frame), path)
    return StagedTable(table, (path,), len(rows))


def customer(cid: str, segment: str = "SMB") -> dict[str, Any]:
    from datetime import date

    return {
        "customer_id": cid,
        "signup_date": date(2024, 1, 5),
        "segment": segment,
        "country": "US",
        "acquisition_channel": "Organic",
    }


def costs(month: str, infra: float) -> dict[str, Any]:
    return {"month": month, "infra_cost": infra, "marketing_cost": 1.0, "support_cost": 2.0}


def rows_of(warehouse: Warehouse, table: str, key: str) -> list[dict[str, Any]]:
    rows = warehouse.table(table).to_pyarrow().to_pylist()
    return sorted(rows, key=lambda r: r[key])


@pytest.fixture
def parquet(tmp_path: Path) -> ParquetWarehouse:
    return ParquetWarehouse(Settings(home=tmp_path / "home", warehouse_url=None, database_url=None))


@pytest.fixture
def duckdb_file(tmp_path: Path) -> DatabaseWarehouse:
    url = f"duckdb:///{tmp_path / 'home' / 'warehouse.db'}"
    settings = Settings(home=tmp_path / "home", warehouse_url=url, database_url=None)
    warehouse = connect(settings)
    assert isinstance(warehouse, DatabaseWarehouse) and warehouse.kind == "duckdb"
    yield warehouse
    warehouse.close()


# -- Parquet snapshots ----------------------------------------------------------------------------


def test_parquet_commit_writes_a_snapshot_and_moves_the_staged_files(
    parquet: ParquetWarehouse, tmp_path: Path
) -> None:
    staged = stage(tmp_path / "staging", "customers", [customer("C1"), customer("C2")])

    parquet.commit({"customers": staged})

    current = (parquet.root / "CURRENT").read_text()
    assert parquet.current_snapshot() == parquet.snapshots_dir / current
    assert parquet.list_tables() == ["customers"]
    assert parquet.row_counts() == {"customers": 2}
    assert not staged.files[0].exists()  # moved, not copied
    assert [r["customer_id"] for r in rows_of(parquet, "customers", "customer_id")] == ["C1", "C2"]


def test_a_snapshots_tables_are_listed_once_and_a_new_load_is_seen(
    parquet: ParquetWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages ask which tables exist several times a run; a snapshot never changes once written,
    so its folders are listed once. A load writes a new snapshot, which is listed afresh."""
    parquet.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    assert parquet.list_tables() == ["customers"]
    listed: list[Path] = []
    glob = Path.glob
    monkeypatch.setattr(
        Path, "glob", lambda self, *a, **k: listed.append(self) or glob(self, *a, **k)
    )
    for _ in range(3):
        assert parquet.list_tables() == ["customers"]
        assert parquet.has_table("customers") and not parquet.has_table("costs")
        assert len(parquet.table_files("customers")) == 1
    assert listed == []
    parquet.commit({"costs": stage(tmp_path / "s2", "costs", [costs("2024-01", 5.0)])})
    parquet.refresh()
    assert parquet.list_tables() == ["customers", "costs"]
    assert listed  # the new snapshot's folders


def test_unchanged_tables_are_shared_with_the_previous_snapshot(
    parquet: ParquetWarehouse, tmp_path: Path
) -> None:
    parquet.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    first = parquet.current_snapshot()
    assert first is not None
    parquet.commit({"costs": stage(tmp_path / "s2", "costs", [costs("2024-01", 5.0)])})
    second = parquet.current_snapshot()
    assert second is not None and second != first

    old_file = next((first / "customers").glob("*.parquet"))
    new_file = next((second / "customers").glob("*.parquet"))
    assert os.stat(old_file).st_ino == os.stat(new_file).st_ino  # hard link, no copy
    assert parquet.row_counts() == {"customers": 1, "costs": 1}


def test_parquet_append_upserts_by_primary_key(parquet: ParquetWarehouse, tmp_path: Path) -> None:
    parquet.commit(
        {"customers": stage(tmp_path / "s1", "customers", [customer("C1"), customer("C2")])}
    )
    update = [customer("C2", "Enterprise"), customer("C3")]

    parquet.commit({"customers": stage(tmp_path / "s2", "customers", update)}, mode="append")
    once = rows_of(parquet, "customers", "customer_id")
    parquet.commit({"customers": stage(tmp_path / "s3", "customers", update)}, mode="append")

    assert rows_of(parquet, "customers", "customer_id") == once
    assert [(r["customer_id"], r["segment"]) for r in once] == [
        ("C1", "SMB"),
        ("C2", "Enterprise"),
        ("C3", "SMB"),
    ]


def test_composite_key_append(parquet: ParquetWarehouse, tmp_path: Path) -> None:
    spend = [
        {"month": "2024-01", "channel": "Organic", "spend": 1.0},
        {"month": "2024-01", "channel": "Referral", "spend": 2.0},
    ]
    parquet.commit({"marketing_spend": stage(tmp_path / "s1", "marketing_spend", spend)})
    more = [
        {"month": "2024-01", "channel": "Referral", "spend": 5.0},
        {"month": "2024-02", "channel": "Referral", "spend": 3.0},
    ]

    parquet.commit({"marketing_spend": stage(tmp_path / "s2", "marketing_spend", more)}, "append")

    rows = parquet.table("marketing_spend").to_pyarrow().to_pylist()
    assert sorted((r["month"], r["channel"], r["spend"]) for r in rows) == [
        ("2024-01", "Organic", 1.0),
        ("2024-01", "Referral", 5.0),
        ("2024-02", "Referral", 3.0),
    ]


def test_a_reader_keeps_its_snapshot_until_refreshed(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)
    writer, reader = ParquetWarehouse(settings), ParquetWarehouse(settings)
    writer.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    assert reader.row_counts() == {"customers": 1}
    reader.table("customers").count().execute()  # opens the connection: pins the snapshot

    rows = [customer("C1"), customer("C2")]
    writer.commit({"customers": stage(tmp_path / "s2", "customers", rows)})

    assert reader.table("customers").count().execute() == 1
    reader.refresh()
    assert reader.table("customers").count().execute() == 2


def test_what_a_reader_names_its_snapshot_is_what_it_reads(tmp_path: Path) -> None:
    # Caches are keyed by the snapshot a reader names before it opens its connection: a load
    # landing between naming and opening once put the new data under the old snapshot's name.
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)
    writer, reader = ParquetWarehouse(settings), ParquetWarehouse(settings)
    writer.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    named = reader.data_version()
    assert reader.list_tables() == ["customers"]  # no connection opened yet

    rows = [customer("C1"), customer("C2")]
    writer.commit({"customers": stage(tmp_path / "s2", "customers", rows)})

    assert reader.data_version() == named
    assert reader.table("customers").count().execute() == 1
    reader.refresh()
    assert reader.data_version() != named
    assert reader.table("customers").count().execute() == 2


def test_a_reader_knows_whether_it_sees_the_newest_load(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)
    writer, reader = ParquetWarehouse(settings), ParquetWarehouse(settings)
    writer.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    assert not reader.is_current()  # no connection yet: nothing to keep
    reader.table("customers")
    assert reader.is_current()

    writer.commit({"customers": stage(tmp_path / "s2", "customers", [customer("C2")])})
    assert not reader.is_current()
    reader.refresh()
    reader.table("customers")
    assert reader.is_current()


def test_a_database_warehouse_cannot_tell_it_is_current(
    duckdb_file: DatabaseWarehouse,
) -> None:
    duckdb_file.list_tables()
    assert not duckdb_file.is_current()


def test_old_snapshots_are_collected(parquet: ParquetWarehouse, tmp_path: Path) -> None:
    for i in range(6):
        parquet.commit({"costs": stage(tmp_path / f"s{i}", "costs", [costs("2024-01", float(i))])})

    snapshots = [p for p in parquet.snapshots_dir.iterdir() if not p.name.startswith(".")]
    assert len(snapshots) == 3
    assert parquet.current_snapshot() in snapshots
    assert parquet.table("costs").infra_cost.max().execute() == 5.0


def test_leftovers_of_a_killed_commit_are_removed(
    parquet: ParquetWarehouse, tmp_path: Path
) -> None:
    parquet.commit({"costs": stage(tmp_path / "s1", "costs", [costs("2024-01", 1.0)])})
    (parquet.snapshots_dir / ".tmp-killed" / "costs").mkdir(parents=True)
    (parquet.root / ".CURRENT-killed").write_text("killed")
    assert parquet.row_counts() == {"costs": 1}  # readers ignore them

    parquet.commit({"costs": stage(tmp_path / "s2", "costs", [costs("2024-02", 2.0)])})

    assert not (parquet.snapshots_dir / ".tmp-killed").exists()
    assert not (parquet.root / ".CURRENT-killed").exists()


def test_a_failed_parquet_commit_changes_nothing(
    parquet: ParquetWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import revintel.warehouse.parquet as warehouse_module

    parquet.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    pointer = (parquet.root / "CURRENT").read_text()

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(warehouse_module, "_fsync_tree", full_disk)
    staged = stage(tmp_path / "s2", "customers", [customer("C8"), customer("C9")])
    with pytest.raises(OSError, match="No space left"):
        parquet.commit({"customers": staged})

    assert (parquet.root / "CURRENT").read_text() == pointer
    assert list(parquet.snapshots_dir.glob(".tmp-*")) == []
    parquet.refresh()
    assert [r["customer_id"] for r in rows_of(parquet, "customers", "customer_id")] == ["C1"]


# -- DuckDB file ----------------------------------------------------------------------------------


def test_duckdb_file_commit_and_append(duckdb_file: DatabaseWarehouse, tmp_path: Path) -> None:
    duckdb_file.commit(
        {
            "customers": stage(tmp_path / "s1", "customers", [customer("C1"), customer("C2")]),
            "costs": stage(tmp_path / "s1", "costs", [costs("2024-01", 1.0)]),
        }
    )
    assert duckdb_file.list_tables() == ["customers", "costs"]
    assert duckdb_file.row_counts() == {"customers": 2, "costs": 1}

    update = [customer("C2", "Enterprise"), customer("C3")]
    for part in (2, 3):  # the same rows twice: the second append changes nothing
        duckdb_file.commit(
            {"customers": stage(tmp_path / f"s{part}", "customers", update)}, "append"
        )

    rows = rows_of(duckdb_file, "customers", "customer_id")
    assert [(r["customer_id"], r["segment"]) for r in rows] == [
        ("C1", "SMB"),
        ("C2", "Enterprise"),
        ("C3", "SMB"),
    ]
    assert duckdb_file.row_counts()["costs"] == 1
    assert not [t for t in duckdb_file.con.list_tables() if t.startswith("_revintel_staging")]


def test_duckdb_file_replace_then_reopen(duckdb_file: DatabaseWarehouse, tmp_path: Path) -> None:
    duckdb_file.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    duckdb_file.commit({"customers": stage(tmp_path / "s2", "customers", [customer("C7")])})
    duckdb_file.close()

    assert [r["customer_id"] for r in rows_of(duckdb_file, "customers", "customer_id")] == ["C7"]
    assert (tmp_path / "home" / "warehouse.db").is_file()


def test_a_failed_duckdb_swap_changes_nothing(
    duckdb_file: DatabaseWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    duckdb_file.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    real_execute_target = duckdb_file.con.con

    class FailingAfterDrop:
        """The DuckDB connection, except that renaming a table fails (after the live one is
        dropped inside the swap's transaction)."""

        def execute(self, statement: str, *args: object) -> object:
            if statement.startswith("ALTER TABLE"):
                raise RuntimeError("disk full")
            return real_execute_target.execute(statement, *args)

        def __getattr__(self, name: str) -> object:
            return getattr(real_execute_target, name)

    monkeypatch.setattr(duckdb_file.con, "con", FailingAfterDrop())
    staged = {"customers": stage(tmp_path / "s2", "customers", [customer("C8"), customer("C9")])}
    with pytest.raises(RuntimeError, match="disk full"):
        duckdb_file.commit(staged)
    monkeypatch.undo()

    assert [r["customer_id"] for r in rows_of(duckdb_file, "customers", "customer_id")] == ["C1"]
    assert not [t for t in duckdb_file.con.list_tables() if t.startswith("_revintel_staging")]


def test_duckdb_file_warehouse_through_load_paths(tmp_path: Path) -> None:
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "customers.csv").write_text(
        "customer_id,signup_date,segment,country,acquisition_channel\n"
        "C1,2024-01-05,SMB,US,Organic\nC2,2024-02-05,Enterprise,DE,Referral\n"
    )
    (folder / "payments.csv").write_text(
        "payment_id,customer_id,payment_date,amount,payment_status\n"
        "P1,C1,2024-01-05,10,Success\nP2,C2,2024-02-05,20,Failed\n"
    )
    url = f"duckdb:///{tmp_path / 'home' / 'wh.db'}"
    ctx = AppContext(Settings(home=tmp_path / "home", warehouse_url=url, database_url=None))

    load_paths(ctx, [folder])
    load_paths(ctx, [folder / "payments.csv"], mode="append")

    assert ctx.warehouse.kind == "duckdb"
    assert ctx.warehouse.row_counts() == {"customers": 2, "payments": 2}
    assert ctx.warehouse.table("payments").amount.sum().execute() == 30.0
    ctx.close()


def test_readers_of_one_snapshot_reuse_idle_connections_one_at_a_time(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)
    writer = ParquetWarehouse(settings)
    writer.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    first, second = ParquetWarehouse(settings), ParquetWarehouse(settings)
    con_a, con_b = first.con, second.con
    assert con_a is not con_b  # two readers at once never share a connection
    first.close()
    third = ParquetWarehouse(settings)
    assert third.con is con_a  # the closed reader's connection serves the next one
    assert third.table("customers").count().execute() == 1

    rows = [customer("C1"), customer("C2")]
    writer.commit({"customers": stage(tmp_path / "s2", "customers", rows)})
    second.close()  # on an old snapshot: closed, not kept
    third.close()
    fourth = ParquetWarehouse(settings)
    assert fourth.con is not con_a and fourth.con is not con_b
    assert fourth.table("customers").count().execute() == 2
    fourth.close()


def test_a_snapshot_records_when_each_table_was_loaded(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)
    writer = ParquetWarehouse(settings)
    writer.commit({"customers": stage(tmp_path / "s1", "customers", [customer("C1")])})
    first = writer.loaded_at()
    assert first is not None and set(first) == {"customers"}
    writer.commit({"costs": stage(tmp_path / "s2", "costs", [costs("2024-01", 5.0)])})
    second = writer.loaded_at()
    assert second is not None
    assert second["customers"] == first["customers"]  # carried over, not reloaded
    assert second["costs"] > first["customers"]


def test_concurrent_appends_keep_every_row(tmp_path: Path) -> None:
    # Commits wait for each other: two appends that both built on the same snapshot kept only
    # the rows of whichever renamed last.
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)
    first = stage(tmp_path / "s0", "customers", [customer("C0")])
    ParquetWarehouse(settings).commit({"customers": first})
    batches = [stage(tmp_path / f"s{i}", "customers", [customer(f"C{i}")]) for i in range(1, 7)]
    with ThreadPoolExecutor(6) as pool:
        list(
            pool.map(
                lambda b: ParquetWarehouse(settings).commit({"customers": b}, mode="append"),
                batches,
            )
        )
    reader = ParquetWarehouse(settings)
    assert reader.table("customers").count().execute() == 7
    assert not list(reader.snapshots_dir.glob(".tmp-*"))


def test_a_snapshot_is_kept_while_a_reader_reads_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)
    writer, reader = ParquetWarehouse(settings), ParquetWarehouse(settings)
    writer.commit({"customers": stage(tmp_path / "s0", "customers", [customer("C0")])})
    assert reader.table("customers").count().execute() == 1
    read = reader.current_snapshot()
    for i in range(1, SNAPSHOTS_KEPT + 2):  # enough loads to make the reader's snapshot old
        rows = [customer(f"C{j}") for j in range(i + 1)]
        writer.commit({"customers": stage(tmp_path / f"s{i}", "customers", rows)})
    assert read is not None and read.is_dir()
    assert reader.table("customers").customer_id.count().execute() == 1  # still its own rows

    reader.close()
    writer.commit({"customers": stage(tmp_path / "last", "customers", [customer("C0")])})
    assert not read.exists()  # no reader left: the next load deletes it

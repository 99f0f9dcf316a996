"""Filtered and broken-down metrics from the customer-dimension cube equal the direct computation.

``revintel.metrics.cube``: on a Parquet warehouse the service answers customer filters and
breakdowns by summing cells of a cube kept per snapshot. Every row and column must equal what the
raw tables give (the service with the cube switched off).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from revintel.app.context import AppContext
from revintel.metrics import service
from revintel.metrics.options import UnknownFilterValue
from revintel.metrics.service import MetricQuery, engine
from revintel.metrics.service.query import full_period
from revintel.warehouse.cache import clear_all
from tests.conftest import isolated_settings
from tests.health.demo import demo_home

CASES = [
    {"filters": {"segment": ["SMB"]}},
    {"filters": {"segment": ["Enterprise", "Mid-Market"], "acquisition_channel": ["Partner"]}},
    {"filters": {"country": ["(unknown)"]}},  # no such customer: every month at zero
    {"by": "segment"},
    {"by": "industry", "filters": {"segment": ["SMB"]}},
    {"by": "acquisition_channel", "end": "2024-06"},
]


@pytest.fixture
def fresh() -> Iterator[AppContext]:
    clear_all()
    ctx = AppContext(isolated_settings(demo_home()))
    yield ctx
    ctx.close()
    clear_all()


def _build_cubes(ctx: AppContext) -> None:
    """Both cubes built, as the dashboard's warm-up does (the revenue cube ignores the rule)."""
    wh = ctx.warehouse
    full = full_period(service.period(wh), wh)
    engine.cube_totals(wh, "movements", full, 30)
    engine.cube_totals(wh, "revenue", full, None)


def _both(ctx: AppContext, name: str, options: dict, monkeypatch) -> tuple[list, list]:
    _build_cubes(ctx)
    sliced = []
    original = engine.on_cube
    monkeypatch.setattr(engine, "on_cube", lambda *a, **k: sliced.append(1) or original(*a, **k))
    with_cube = getattr(service, name)(ctx, MetricQuery(**options))
    monkeypatch.undo()
    assert sliced  # the cube path was taken
    other = AppContext(ctx.settings)
    clear_all()
    monkeypatch.setattr(engine, "cube_for", lambda *args, **kwargs: None)
    try:
        direct = getattr(service, name)(other, MetricQuery(**options))
    finally:
        monkeypatch.undo()
        other.close()
    return with_cube, direct


ACQUISITION_CASES = [{"by": "acquisition_channel"}, {"by": "acquisition_channel", "end": "2024-06"}]
"""CAC is by acquisition channel only, without filters."""


@pytest.mark.parametrize(
    ("name", "options"),
    [(name, o) for name in ("mrr_movements", "revenue") for o in CASES]
    + [("acquisition", o) for o in ACQUISITION_CASES],
    ids=str,
)
def test_cube_rows_equal_the_direct_computation(fresh, monkeypatch, name, options):
    with_cube, direct = _both(fresh, name, options, monkeypatch)
    assert len(with_cube) == len(direct) > 0
    for got, want in zip(with_cube, direct, strict=True):
        assert got.keys() == want.keys()
        for column, value in want.items():
            if isinstance(value, float):
                assert got[column] == pytest.approx(value, rel=1e-12, abs=1e-9), column
            else:
                assert got[column] == value, column


def test_a_plan_filter_does_not_use_the_cube(fresh):
    full = full_period(service.period(fresh.warehouse), fresh.warehouse)
    assert engine.cube_for(fresh.warehouse, "movements", full, None, {"plan": ["Pro"]}, 30) is None
    assert engine.cube_for(fresh.warehouse, "movements", full, None, {}, 30) is None


def test_a_one_off_question_is_computed_directly_and_the_second_builds_the_cube(fresh):
    wh = fresh.warehouse
    full = full_period(service.period(wh), wh)
    built = engine.cube_key("movements", full, 30)
    by_segment = service.mrr_movements(
        fresh, MetricQuery(by="segment")
    )  # _cube asked twice in this call
    assert engine.RESULTS.peek(wh, built) is None
    assert service.revenue(
        fresh, MetricQuery(by="segment")
    )  # the revenue cube is counted on its own
    revenue_cube = engine.cube_key("revenue", full, None)
    assert engine.RESULTS.peek(wh, revenue_cube) is None
    smb = service.mrr_movements(fresh, MetricQuery(filters={"segment": ["SMB"]}))
    assert engine.RESULTS.peek(wh, built) is not None
    assert [r["mrr"] for r in smb] == [r["mrr"] for r in by_segment if r["segment"] == "SMB"]
    engine._ASKED.clear()  # a built cube is used whoever asks
    assert engine.cube_for(wh, "movements", full, "segment", {}, 30) is not None


def test_a_new_value_on_a_filtered_dimension_reuses_the_compiled_query(fresh, monkeypatch):
    engine.COMPILED.clear()
    _build_cubes(fresh)
    con = fresh.warehouse.con
    compiled = []
    original = type(con).compile
    monkeypatch.setattr(
        type(con), "compile", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    service.mrr_movements(fresh, MetricQuery(filters={"segment": ["SMB"]}))
    first = len(compiled)
    assert first >= 1
    service.mrr_movements(fresh, MetricQuery(filters={"segment": ["Enterprise"]}))
    service.mrr_movements(fresh, MetricQuery(filters={"segment": ["Enterprise", "Mid-Market"]}))
    assert len(compiled) == first  # same shape: the SQL is reused, the values are data
    service.mrr_movements(fresh, MetricQuery(filters={"country": ["US"]}))
    assert len(compiled) > first  # a new shape is compiled
    monkeypatch.undo()
    # ... and the reused query answers for its own values.
    with_cube, direct = _both(
        fresh, "mrr_movements", {"filters": {"segment": ["Mid-Market"]}}, monkeypatch
    )
    assert [r["mrr"] for r in with_cube] == [r["mrr"] for r in direct]


def test_concurrent_filters_on_one_cube_each_get_their_own_values(fresh):
    """Every session queries the same cube database, whose filter tables each query refills:
    queries from several threads must not see one another's values."""
    from concurrent.futures import ThreadPoolExecutor

    wh = fresh.warehouse
    full = full_period(service.period(wh), wh)
    cube = engine.cube_totals(wh, "movements", full, 30)
    asked = [
        {"segment": ["SMB"]},
        {"segment": ["Enterprise"]},
        {"segment": ["Mid-Market"], "country": ["US"]},
        {"country": ["DE", "FR"]},
    ]
    expected = [engine.sliced(wh, "movements", cube, full, None, f).to_pylist() for f in asked]
    assert len({str(rows) for rows in expected}) == len(asked)  # different answers

    def ask(worker: int) -> list[bool]:
        ctx = AppContext(fresh.settings)  # a session of its own
        try:
            return [
                engine.sliced(
                    ctx.warehouse, "movements", cube, full, None, asked[i % 4]
                ).to_pylist()
                == expected[i % 4]
                for i in range(worker, worker + 24)
            ]
        finally:
            ctx.close()

    with ThreadPoolExecutor(4) as pool:
        answers = [ok for oks in pool.map(ask, range(4)) for ok in oks]
    assert len(answers) == 96 and all(answers)


@pytest.mark.parametrize("name", ["mrr_movements", "revenue"])
def test_a_value_no_customer_has_is_refused_with_the_values_that_exist(fresh, name):
    """Before, such a filter answered zeros on both paths; now it names what exists."""
    _build_cubes(fresh)
    odd = "O'Brien\"); DROP TABLE customers; --"
    with pytest.raises(
        UnknownFilterValue, match=r"Filter 'segment' value .* 'Enterprise', 'Mid-Market', 'SMB'"
    ):
        getattr(service, name)(fresh, MetricQuery(filters={"segment": [odd]}))
    assert fresh.warehouse.has_table("customers")


def test_without_duckdb_the_slice_runs_as_an_ibis_expression(fresh):
    """Spark reads the same snapshots; there the slice is an Ibis expression on memtables."""
    wh = fresh.warehouse
    full = full_period(service.period(wh), wh)
    cube = engine.cube_totals(wh, "movements", full, 30)
    kept = {"segment": ["SMB", "Enterprise"]}
    rows = engine.growth_rows("mrr", "country")

    class NotDuckDB:
        kind = "pyspark"

    then = (("rows", 12), rows)
    on_duckdb = engine.sliced(wh, "movements", cube, full, "country", kept, then)
    elsewhere = engine.sliced(NotDuckDB(), "movements", cube, full, "country", kept, then)
    assert on_duckdb.num_rows > 0
    assert elsewhere.to_pylist() == on_duckdb.to_pylist()


def test_the_warm_up_compiles_a_filter_on_every_dimension_and_pair(fresh, monkeypatch):
    engine.COMPILED.clear()
    service.warm(fresh)
    con = fresh.warehouse.con
    compiled = []
    original = type(con).compile
    monkeypatch.setattr(
        type(con), "compile", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    values = {
        "segment": ["SMB"],
        "country": ["US"],
        "acquisition_channel": ["Partner"],
        "industry": [service.dimension_values(fresh, "industry")[-1]],
    }
    dims = tuple(values)
    for picked in [*itertools.combinations(dims, 1), *itertools.combinations(dims, 2)]:
        filters = {dim: values[dim] for dim in picked}
        assert service.mrr_movements(fresh, MetricQuery(filters=filters))
        service.revenue(fresh, MetricQuery(filters=filters))
    assert compiled == []
    # Three dimensions at once are not compiled ahead: the first such filter compiles its query.
    service.mrr_movements(fresh, MetricQuery(filters={dim: values[dim] for dim in dims[:3]}))
    assert compiled


def test_a_session_filters_a_warmed_snapshot_without_a_connection_of_its_own(fresh):
    """A dashboard session (a fork) whose first filter is answered from the warmed cube does not
    open a warehouse connection: opening one and reading a schema took ~35 ms of that pick."""
    service.warm(fresh)
    session = fresh.fork()
    try:
        filters = {"segment": ["SMB"], "country": ["US"]}
        rows = service.mrr_movements(session, MetricQuery(filters=filters))
        service.revenue(session, MetricQuery(filters=filters))
        assert session.warehouse._con is None
        assert rows == service.mrr_movements(
            fresh, MetricQuery(filters=filters, delinquency_days=30)
        )
    finally:
        session.close()


def test_a_cube_database_has_every_filter_table_before_its_first_statement(fresh):
    """DuckDB plans a prepared statement again on every execution, for good, once its catalog
    has changed after the statement was prepared: a filter's table created on first use made
    every earlier statement three times slower. So the tables exist from the start and
    filtering never changes the catalog."""
    wh = fresh.warehouse
    full = full_period(service.period(wh), wh)
    cube = engine.cube_totals(wh, "movements", full, 30)
    database = engine.CUBE_DATABASES.of(cube)  # the one the service queries
    dims = ("segment", "country", "acquisition_channel", "industry")

    def tables() -> list[str]:
        query = "SELECT table_name FROM duckdb_tables() ORDER BY table_name"
        return [name for (name,) in database.con.execute(query).fetchall()]

    at_start = tables()
    assert at_start == sorted([engine.CUBE_NAME, *(engine.filter_table(d) for d in dims)])
    for picked in [*itertools.combinations(dims, 1), *itertools.combinations(dims, 2)]:
        engine.sliced(wh, "movements", cube, full, None, {d: ["SMB", "US"] for d in picked})
    assert tables() == at_start
    assert len(database._statements) == database._prepared == 10  # each shape prepared once

"""The journey builder (docs/attribution.md, Journeys): which touches make each journey, the
vectorised collect, and tables loaded before journey_id existed."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.attribution import journeys as J
from revintel.attribution.config import ModelSettings
from revintel.attribution.models import model_credit
from revintel.core.config import Settings
from tests.backends.conftest import ATTRIBUTION_PAID_JOURNEYS, ATTRIBUTION_TABLES, COMPANY


def _table(text: str, drop: tuple[str, ...] = ()) -> pa.Table:
    table = pacsv.read_csv(
        io.BytesIO(text.encode()),
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=True,
            column_types={"journey_id": pa.string(), "customer_id": pa.string()},
            timestamp_parsers=["%Y-%m-%d %H:%M:%S"],
        ),
    )
    return table.drop_columns(list(drop))


@pytest.fixture
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def _build(
    con: ibis.BaseBackend, options: J.JourneyOptions, drop: tuple[str, ...] = ()
) -> J.Journeys:
    tp = con.create_table("tp", _table(ATTRIBUTION_TABLES["touchpoints.csv"], drop), overwrite=True)
    cv = con.create_table("cv", _table(ATTRIBUTION_TABLES["conversions.csv"], drop), overwrite=True)
    return J.collect(con.to_pyarrow(J.journey_touches(tp, cv, options)))


def _described(j: J.Journeys) -> set[tuple[object, ...]]:
    assert j.journey_ids is not None and j.customer_ids is not None
    return {
        (
            j.journey_ids[k],
            j.customer_ids[k],
            tuple(j.channels[c] for c in path),
            int(j.conversions[k]),
            float(j.value[k]),
        )
        for k, path in enumerate(j.paths())
    }


def test_paid_journeys_window_previous_conversion_and_non_converting(con: ibis.BaseBackend) -> None:
    j = _build(con, J.JourneyOptions(conversion_type="paid", window_days=90))
    assert _described(j) == ATTRIBUTION_PAID_JOURNEYS
    assert j.total_conversions == 4 and j.total_value == 597.0
    assert float(j.nulls.sum()) == 4.0
    # days_before: V2's touches are 51 days, 8 days 4 hours and 0 days before it.
    assert j.days_before is not None and j.journey_ids is not None
    k = list(j.journey_ids).index("V2")
    days = j.days_before[j.starts[k] : j.starts[k + 1]]
    assert np.allclose(days, [51.0833333, 8.1666667, 0.0])


def test_window_and_date_range(con: ibis.BaseBackend) -> None:
    short = _described(_build(con, J.JourneyOptions(window_days=30)))
    assert ("V2", "C1", ("Email", "Direct"), 1, 49.0) in short  # T02 is 51 days before
    ranged = _described(
        _build(con, J.JourneyOptions(start=date(2024, 2, 1), end=date(2024, 3, 31)))
    )
    assert {r[0] for r in ranged} == {"V3", "V4", "J1", "J2", "J3"}
    assert ("J2", None, ("Direct",), 0, 0.0) in ranged


def test_conversion_type_signup(con: ibis.BaseBackend) -> None:
    got = _described(_build(con, J.JourneyOptions(conversion_type="signup")))
    converting = {r for r in got if r[3] == 1}
    # T01 is 124 days before V1; touches after the signup are not a journey of C1's.
    assert converting == {
        ("V1", "C1", ("Paid Search", "Email"), 1, 0.0),
        ("V6", "C3", ("Organic",), 1, 0.0),
    }
    assert {r[0] for r in got if r[3] == 0} == {"J9", "L1", "J1", "J2", "J3"}


def test_tables_without_journey_id_are_customers_journeys(con: ibis.BaseBackend) -> None:
    j = _build(con, J.JourneyOptions(), drop=("journey_id",))
    got = _described(j)
    # Without journey_id, rows without a customer belong to no journey.
    assert got == {
        ("V2", "C1", ("Paid Search", "Email", "Direct"), 1, 49.0),
        ("V3", "C1", ("Social",), 1, 49.0),
        ("V5", "C2", ("Email",), 1, 199.0),
        ("C3", "C3", ("Organic",), 0, 0.0),
    }


def test_collect_is_independent_of_row_order_and_orders_ties() -> None:
    rows = pa.table(
        {
            "journey": ["A", "A", "A", "B", "B"],
            "customer_id": ["C", "C", "C", None, None],
            "touchpoint_id": ["t3", "t1", "t2", "u1", "u2"],
            "channel": ["Email", "Social", "Direct", "Email", "Email"],
            "touched_at": pa.array(
                [3_000_000, 1_000_000, 1_000_000, 5_000_000, 6_000_000], pa.timestamp("us")
            ),
            "days_before": [0.0, 2.0, 2.0, 1.0, 0.0],
            "converted": pa.array([1, 1, 1, 0, 0], pa.int8()),
            "value": [10.0, 10.0, 10.0, 0.0, 0.0],
        }
    )
    first = J.collect(rows)
    rng = np.random.default_rng(3)
    for _ in range(5):
        shuffled = J.collect(rows.take(rng.permutation(rows.num_rows)))
        assert shuffled.paths() == first.paths()
        assert list(shuffled.journey_ids) == list(first.journey_ids)  # type: ignore[arg-type]
    by_id = dict(zip(first.journey_ids, first.paths(), strict=True))  # type: ignore[arg-type]
    names = first.channels
    assert [names[c] for c in by_id["B"]] == ["Email", "Email"]
    assert [names[c] for c in by_id["A"]][2] == "Email"  # the last touch
    assert set(by_id["A"][:2]) == {names.index("Social"), names.index("Direct")}


def test_string_sort_fallback_groups_the_same_journeys() -> None:
    """The order used when two journeys share a hash: the strings, then time, then touch id."""
    import polars as pl

    rows = pl.DataFrame(
        {
            "journey": ["B", "A", "A", "B"],
            "converted": [0, 1, 1, 0],
            "touched_at": [2, 5, 1, 1],
            "touchpoint_id": ["b2", "a2", "a1", "b1"],
        }
    )
    order, boundary = J._sorted_by_strings(rows)
    assert order.tolist() == [3, 0, 2, 1]  # B (not converted) first, then A
    assert boundary.tolist() == [True, False, True, False]


def test_a_journey_id_equal_to_a_conversion_id_stays_two_journeys() -> None:
    rows = pa.table(
        {
            "journey": ["X", "X"],
            "customer_id": [None, None],
            "touchpoint_id": ["t1", "t2"],
            "channel": ["Email", "Social"],
            "touched_at": pa.array([1, 2], pa.timestamp("us")),
            "days_before": [0.0, 0.0],
            "converted": pa.array([1, 0], pa.int8()),
            "value": [5.0, 0.0],
        }
    )
    j = J.collect(rows)
    assert j.n_journeys == 2 and j.total_conversions == 1.0


def test_no_rows_is_missing_data() -> None:
    empty = pa.table(
        {
            "journey": pa.array([], pa.string()),
            "touched_at": pa.array([], pa.timestamp("us")),
        }
    )
    with pytest.raises(J.MissingJourneyData):
        J.collect(empty)


def test_old_tables_without_journey_id_load_and_attribute(tmp_path: Path) -> None:
    """Touchpoints and conversions written before journey_id existed still load and build."""
    folder = tmp_path / "old"
    folder.mkdir()
    for name, text in COMPANY.items():
        (folder / name).write_text(text)
    for name in ("touchpoints.csv", "conversions.csv"):
        lines = ATTRIBUTION_TABLES[name].splitlines()
        kept = [ln for ln in lines if ",C" in ln or ln.startswith(("touchpoint_id", "conv"))]
        (folder / name).write_text(
            "\n".join(",".join(f for i, f in enumerate(ln.split(",")) if i != 1) for ln in kept)
            + "\n"
        )
    ctx = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=None))
    try:
        load_paths(ctx, [folder], source="test")
        # The loader adds the optional column, blank: every row is its customer's journey.
        wh = ctx.warehouse
        assert wh.to_arrow(wh.table("touchpoints").journey_id.count()).as_py() == 0
        j = J.load_journeys(ctx.warehouse, J.JourneyOptions())
        assert _described(j) == {
            ("V2", "C1", ("Paid Search", "Email", "Direct"), 1, 49.0),
            ("V3", "C1", ("Social",), 1, 49.0),
            ("V5", "C2", ("Email",), 1, 199.0),
            ("C3", "C3", ("Organic",), 0, 0.0),
        }
        last = model_credit(j, "last_touch", ModelSettings())
        assert dict(zip(last.channels, last.value.tolist(), strict=True)) == {
            "Direct": 49.0,
            "Email": 199.0,
            "Organic": 0.0,
            "Paid Search": 0.0,
            "Social": 49.0,
        }
    finally:
        ctx.close()


def _rows_for_order() -> pa.Table:
    """Four journeys, touches in the same second and at the same instant, in shuffled order."""
    base = 1_700_000_000_000_000  # µs
    journeys = ["A", "A", "A", "B", "B", "C", "D", "D", "D"]
    at = [base + 5, base + 2, base + 2, base, base + 3_000_000, base, base + 1, base, base + 1]
    return pa.table(
        {
            "journey": journeys,
            "customer_id": [None] * 9,
            "touchpoint_id": [f"t{i}" for i in range(9)],
            "channel": ["Email", "Social", "Direct", "Email", "Direct", "Social", "A", "B", "C"],
            "touched_at": pa.array(at, pa.timestamp("us")),
            "days_before": [0.0] * 9,
            "converted": pa.array([1, 1, 1, 0, 0, 1, 0, 0, 0], pa.int8()),
            "value": [1.0, 1.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0],
        }
    ).take([4, 0, 8, 2, 6, 1, 5, 3, 7])


@pytest.mark.parametrize("bits", [63, 0])
def test_every_sort_path_gives_the_same_journeys(
    monkeypatch: pytest.MonkeyPatch, bits: int
) -> None:
    """The one-key sort's run repair (63: every journey's hash shares its top bit with others')
    and the two-key sort (0: the data spans more seconds than the key holds) agree with the
    default path."""
    rows = _rows_for_order()
    expected = J.collect(rows)
    monkeypatch.setattr(J, "TIME_BITS", bits)
    got = J.collect(rows)
    assert got.paths() == expected.paths()
    assert list(got.journey_ids) == list(expected.journey_ids)  # type: ignore[arg-type]
    by_id = dict(zip(got.journey_ids, got.paths(), strict=True))  # type: ignore[arg-type]
    names = got.channels
    assert [names[c] for c in by_id["A"]][2] == "Email"  # 5 µs after the two tied touches
    assert names[by_id["D"][0]] == "B"  # 1 µs before the others, same second
    assert [names[c] for c in by_id["B"]] == ["Email", "Direct"]

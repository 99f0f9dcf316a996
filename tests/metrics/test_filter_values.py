"""Filter values reach the database as data, never as SQL text, and odd ones never give a 500.

The brief-001 company (``tests/cli/test_cli_metrics.py``) with values a naive query builder
breaks on: customer C's industry is ``O'Brien & "Sons" \\ 100%``, its country ``Côte d'Ivoire``,
D's industry ``zq'Marker%\\`` (segment, plan and channel are closed sets in ``data/schema.py``).
A filter value is matched to the values the data holds, whatever it holds (in another case when
only one value matches); one that matches none is refused naming the filter and the values that
exist; a control character (a NUL first of all) is refused at the edge with a 422 naming the
parameter.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import sqlglot
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.app.reports import REPORTS
from revintel.metrics import service
from revintel.metrics.options import (
    InvalidFilterValue,
    UnknownFilterValue,
    check_filters,
    match_filter_values,
)
from revintel.metrics.service import MetricQuery, engine
from revintel.warehouse.cache import clear_all
from tests.cli.test_cli_metrics import BRIEF_001
from tests.conftest import isolated_settings

ODD_COMPANY = {
    **BRIEF_001,
    "customers.csv": """\
customer_id,signup_date,segment,country,acquisition_channel,industry
A,2024-01-10,SMB,US,Organic,Retail
B,2024-01-15,SMB,DE,Referral,Retail
C,2024-02-01,Enterprise,Côte d'Ivoire,Partner,"O'Brien & ""Sons"" \\ 100%"
D,2024-03-15,Mid-Market,FR,Paid Ads,zq'Marker%\\
""",
}
OBRIEN = 'O\'Brien & "Sons" \\ 100%'
MARKER = "zq'Marker%\\"
FILTERS = ["segment", "plan", "country", "channel", "industry"]
ODD_VALUES = [
    "O'Brien",
    "a'b",
    "'; DROP TABLE customers; --",
    'say "hi"',
    "back\\slash\\",
    "100%",
    "_%_",
    "$1",
    "?",
    "Zürich 東京 🚀",
]
CONTROL_VALUES = ["a\x00b", "\x00", "line\nbreak", "tab\there", "bell\x07", "del\x7f"]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    folder = tmp_path_factory.mktemp("odd-company")
    for name, text in ODD_COMPANY.items():
        (folder / name).write_text(text)
    context = AppContext(isolated_settings(tmp_path_factory.mktemp("odd") / "home"))
    load_paths(context, [folder], source="test")
    yield context
    context.close()


@pytest.fixture(scope="module")
def api(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def fresh() -> Iterator[None]:
    """No cube or result kept from another test: the first question is computed directly."""
    clear_all()
    yield
    clear_all()


def test_a_nul_in_any_filter_of_any_metric_is_a_422_naming_it(api):
    for metric, name in itertools.product(REPORTS, FILTERS):
        response = api.get(f"/api/v1/metrics/{metric}", params={name: "a\x00b"})
        assert response.status_code == 422, (metric, name, response.text)
        assert f"Filter '{name}'" in response.json()["detail"]


@pytest.mark.parametrize("value", CONTROL_VALUES, ids=repr)
def test_every_control_character_is_a_422(api, value):
    response = api.get("/api/v1/metrics/retention", params={"country": ["US", value]})
    assert response.status_code == 422, response.text
    assert "Filter 'country' value 2" in response.json()["detail"]


def test_quotes_backslashes_percents_and_unicode_never_give_a_server_error(api, fresh):
    # Twice: the first filtered question is computed from the raw tables, the next from the
    # cube (revintel.metrics.service.engine._cube_wanted). Every odd value at once (a filter keeps
    # any of its values): none is any customer's.
    for _, metric, name in itertools.product(range(2), REPORTS, FILTERS):
        response = api.get(f"/api/v1/metrics/{metric}", params={name: ODD_VALUES})
        # 422: the metric takes no filter; 409: no trials loaded (conversion).
        assert response.status_code in (200, 409, 422), (metric, name, response.text)
        if response.status_code == 200:
            rows = response.json()["rows"]
            assert not any(row.get("mrr") or row.get("revenue") for row in rows), (metric, name)


def _column(api: TestClient, url: str, column: str, **params: str) -> list[float]:
    response = api.get(url, params=params)
    assert response.status_code == 200, response.text
    return [row[column] for row in response.json()["rows"]]


@pytest.mark.parametrize("attempt", ["direct", "cube"])
def test_a_value_with_a_quote_matches_the_rows_that_hold_it(api, fresh, attempt):
    if attempt == "cube":  # a filtered question before: the next one is answered by the cube
        _column(api, "/api/v1/metrics/movements", "mrr", channel="Organic")
        _column(api, "/api/v1/metrics/revenue", "revenue", channel="Organic")
    movements = "/api/v1/metrics/movements"
    assert _column(api, movements, "mrr", industry=OBRIEN) == [0, 1000, 1000, 1000]
    assert _column(api, movements, "mrr", country="Côte d'Ivoire") == [0, 1000, 1000, 1000]
    revenue = "/api/v1/metrics/revenue"
    assert _column(api, revenue, "revenue", industry=OBRIEN) == [0, 1000, 1000, 1000]
    retention = _column(api, "/api/v1/metrics/retention", "customers", industry=OBRIEN)
    assert retention == [0, 1, 1, 1]


def test_the_service_refuses_a_control_character_naming_the_dimension() -> None:
    with pytest.raises(InvalidFilterValue, match=r"Filter 'segment' value 2 .*U\+000A"):
        check_filters({"segment": ["SMB", "two\nlines"]})


@pytest.mark.parametrize("attempt", ["direct", "cube"])
def test_no_filter_value_is_written_into_any_query(ctx, fresh, monkeypatch, attempt):
    """Every SQL text Ibis writes (sqlglot renders all of it, on every backend) and every
    statement the cube's database prepares: the filter value is in none of them."""
    written: list[str] = []
    render = sqlglot.Expression.sql

    def recording(self: sqlglot.Expression, *args: object, **kwargs: object) -> str:
        text = render(self, *args, **kwargs)
        written.append(text)
        return text

    if attempt == "cube":
        service.mrr_movements(ctx, MetricQuery(filters={"segment": ["SMB"]}))
        service.revenue(ctx, MetricQuery(filters={"segment": ["SMB"]}))
    monkeypatch.setattr(sqlglot.Expression, "sql", recording)
    filtered: list[dict[str, list[str]]] = [
        {"industry": [MARKER]},
        {"industry": [MARKER.upper(), OBRIEN], "acquisition_channel": ["Paid Ads"]},
        {"industry": [MARKER], "plan": ["Basic"]},
    ]
    for filters in filtered:
        for function in (service.mrr_movements, service.revenue, service.retention):
            rows = function(ctx, MetricQuery(filters=filters))
            assert rows
        assert service.cohorts(ctx, MetricQuery(filters=filters)) is not None
        service.customer_mrr(ctx, MetricQuery(filters=filters), customer_ids=[MARKER])
    with pytest.raises(UnknownFilterValue):  # refused before any query is written
        service.mrr_movements(ctx, MetricQuery(filters={"segment": [MARKER]}))
    prepared = [sql for sql, _ in engine.COMPILED._values.values()]
    assert written
    assert "marker" not in "".join(written + prepared).lower()  # (random table names: [a-z0-9])


# -- values in another case, values that match nothing ---------------------------------------------
def test_a_value_in_another_case_filters_the_customers_that_hold_it(ctx, fresh):
    exact = service.mrr_movements(ctx, MetricQuery(filters={"segment": ["SMB"]}))
    for given in ("smb", "Smb", " SMB "):
        assert service.mrr_movements(ctx, MetricQuery(filters={"segment": [given]})) == exact
    assert [r["mrr"] for r in exact] == [300, 100, 150, 350]  # A and B (not zeros)
    both = MetricQuery(filters={"industry": ["retail"], "plan": ["pro"]})
    assert [r["mrr"] for r in service.mrr_movements(ctx, both)] == [200, 0, 0, 250]  # B's Pro


def test_every_face_agrees_on_a_value_in_another_case(ctx, api):
    upper = api.get("/api/v1/metrics/mrr", params={"channel": "Organic"})
    lower = api.get("/api/v1/metrics/mrr", params={"channel": "organic"})
    assert lower.status_code == 200, lower.text
    assert [r["mrr"] for r in lower.json()["rows"]] == [r["mrr"] for r in upper.json()["rows"]]
    assert [r["mrr"] for r in lower.json()["rows"]] == [100, 100, 150, 100]


def test_a_value_that_matches_nothing_is_a_422_listing_the_values_that_exist(api):
    response = api.get("/api/v1/metrics/mrr", params={"segment": "smbx"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        "Filter 'segment' value 'smbx' matches no segment in the data; expected one of: "
        "'Enterprise', 'Mid-Market', 'SMB'"
    )
    response = api.get("/api/v1/metrics/revenue", params={"channel": ["Organic", "Organik"]})
    assert response.status_code == 422, response.text
    assert "Filter 'channel' value 'Organik'" in response.json()["detail"]
    assert "'Organic', 'Paid Ads', 'Partner', 'Referral'" in response.json()["detail"]


def test_values_that_differ_only_in_case_are_not_guessed_between() -> None:
    known = ["Retail", "RETAIL", "Fintech"]
    assert match_filter_values("industry", ["RETAIL", "fintech"], known) == ["RETAIL", "Fintech"]
    with pytest.raises(UnknownFilterValue, match="'retail' matches 'RETAIL', 'Retail', which"):
        match_filter_values("industry", ["retail"], known)
    assert match_filter_values("industry", ["(Unknown)"], known) == ["(unknown)"]


def test_a_long_list_of_values_is_cut_in_the_message() -> None:
    known = [f"C{i:03}" for i in range(120)]
    with pytest.raises(UnknownFilterValue, match=r"'C024' and 95 more$"):
        match_filter_values("country", ["Atlantis"], known)

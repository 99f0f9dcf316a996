"""One loaded warehouse per backend, shared by the tests of this folder.

``backend`` is parametrised over DuckDB (the default Parquet warehouse), PostgreSQL and PySpark
(local mode), each loaded once per session through ``load_paths`` with the same small company. A
test that uses it runs on every backend. A known gap of one backend is declared on the test with

    @pytest.mark.notimpl(["pyspark"], reason="…")

which turns into a strict expected failure for that backend only, so the gap stays visible and
the test starts failing (as XPASS) when the gap closes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import ibis
import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.core.config import Settings

BACKENDS = ["duckdb", "postgres", "pyspark"]

# A small company: 6 customers in 3 segments, 5 subscriptions, 10 payment attempts over 3 months.
COMPANY = {
    "customers.csv": """\
customer_id,signup_date,segment,country,acquisition_channel,is_active
C1,2024-01-03,SMB,US,Organic,true
C2,2024-01-10,SMB,DE,Referral,true
C3,2024-01-20,Mid-Market,FR,Partner,false
C4,2024-02-02,Enterprise,US,Paid Ads,true
C5,2024-02-15,Mid-Market,GB,Organic,true
C6,2024-03-01,SMB,US,Organic,true
""",
    "subscriptions.csv": """\
subscription_id,customer_id,plan_type,start_date,end_date,monthly_price
S1,C1,Basic,2024-01-03,,49
S2,C2,Pro,2024-01-10,,199
S3,C3,Pro,2024-01-20,2024-03-20,199
S4,C4,Enterprise,2024-02-02,,2500
S5,C5,Basic,2024-02-15,,49
""",
    "payments.csv": """\
payment_id,customer_id,payment_date,amount,payment_status
P01,C1,2024-01-03,49,Success
P02,C2,2024-01-10,199,Success
P03,C3,2024-01-20,199,Failed
P04,C3,2024-01-23,199,Success
P05,C1,2024-02-03,49,Success
P06,C2,2024-02-10,199,Success
P07,C4,2024-02-02,2500,Success
P08,C5,2024-02-15,49,Failed
P09,C1,2024-03-03,49,Success
P10,C4,2024-03-02,2500,Success
""",
}


# The health tables of the same company (tests/backends/test_health_backends.py): usage, NPS and
# tickets with edge cases (two answers in one month, a ticket open across months, zero seats).
HEALTH_TABLES = {
    "accounts.csv": """\
account_id,account_name,industry,arr,owner,renewal_date,last_contact_date
C1,Acme,Retail,588,Ana,2024-06-30,2024-03-01
C2,Brio,Fintech,2388,Ben,2024-04-15,2023-11-20
C3,Cora,Retail,0,Ana,,
C4,Dune,Health,30000,Ben,2025-02-01,2024-03-28
C5,Echo,Fintech,588,,2024-05-10,2024-01-05
""",
    "usage.csv": """\
account_id,month,active_users,licensed_seats,logins,key_feature_adoption
C1,2024-01,5,10,100,0.5
C1,2024-02,6,10,120,0.6
C1,2024-03,4,10,60,0.4
C2,2024-01,3,5,40,0.2
C2,2024-03,5,5,90,0.7
C4,2024-02,30,50,900,0.8
C4,2024-03,20,0,300,0.55
C5,2024-03,1,2,4,0.1
""",
    "nps_responses.csv": """\
response_id,account_id,response_date,score,comment
N1,C1,2024-01-15,9,Great
N2,C1,2024-03-10,6,
N3,C2,2024-02-01,7,Fine
N4,C4,2024-02-20,3,Slow
N5,C4,2024-02-25,5,Better
""",
    "support_tickets.csv": """\
ticket_id,account_id,opened_at,closed_at,severity,category
T1,C1,2024-01-05 09:00:00,2024-01-06 10:00:00,low,how-to
T2,C1,2024-02-10 12:00:00,,high,bug
T3,C2,2024-03-01 08:30:00,2024-03-29 17:00:00,urgent,billing
T4,C4,2024-01-02 10:00:00,2024-02-15 10:00:00,medium,bug
T5,C4,2024-03-31 23:30:00,,low,billing
T6,C5,2024-02-16 09:00:00,2024-02-16 11:00:00,medium,how-to
""",
}

# The deal tables of the same company (tests/backends/test_pipeline_*.py): won, lost and open
# deals, a skipped stage, a pushed close date and a reduced amount in the history.
# ruff: noqa: E501  (CSV rows)
PIPELINE_TABLES = {
    "deals.csv": """\
deal_id,account_id,owner,stage,amount,created_date,expected_close_date,closed_date,forecast_category,deal_type,segment,competitor,lead_source,has_champion,budget_confirmed,decision_maker_engaged
D1,C1,Ana,Closed Won,600,2024-01-02,2024-01-20,2024-01-18,Closed,New Business,SMB,,Organic,true,true,false
D2,,Ana,Closed Lost,900,2024-01-05,2024-02-01,2024-02-10,Omitted,New Business,SMB,Orbitly,Paid Ads,false,false,false
D3,C4,Ben,Closed Won,30000,2024-01-10,2024-02-15,2024-02-02,Closed,New Business,Enterprise,Orbitly,Partner,true,true,true
D4,,Ben,Negotiation,12000,2024-02-01,2024-04-30,,Commit,New Business,Mid-Market,,Referral,true,false,true
D5,,Ana,Proposal,5000,2024-02-20,2024-04-15,,Best Case,New Business,SMB,Vantage Cloud,Organic,false,true,false
D6,C2,Ben,Qualification,2400,2024-03-05,2024-05-31,,Pipeline,Expansion,SMB,,Existing Customer,true,false,false
D7,,Ana,Closed Lost,8000,2024-02-10,2024-03-10,2024-03-20,Omitted,New Business,Mid-Market,Vantage Cloud,Paid Ads,false,true,false
D8,C5,Ben,Prospecting,1200,2024-03-25,2024-06-30,,Pipeline,Expansion,Mid-Market,,Existing Customer,,,
""",
    "deal_stage_history.csv": """\
deal_id,stage,entered_at,amount,expected_close_date,forecast_category
D1,Prospecting,2024-01-02,600,2024-01-20,Pipeline
D1,Proposal,2024-01-10,600,2024-01-20,Commit
D1,Closed Won,2024-01-18,600,,Closed
D2,Prospecting,2024-01-05,900,2024-02-01,Pipeline
D2,Qualification,2024-01-15,900,2024-02-01,Pipeline
D2,Qualification,2024-02-01,900,2024-02-20,Pipeline
D2,Closed Lost,2024-02-10,900,,Omitted
D3,Prospecting,2024-01-10,35000,2024-02-15,Pipeline
D3,Qualification,2024-01-12,35000,2024-02-15,Pipeline
D3,Proposal,2024-01-20,32000,2024-02-15,Best Case
D3,Negotiation,2024-01-28,30000,2024-02-15,Commit
D3,Closed Won,2024-02-02,30000,,Closed
D4,Prospecting,2024-02-01,15000,2024-03-31,Pipeline
D4,Qualification,2024-02-10,15000,2024-03-31,Pipeline
D4,Negotiation,2024-03-01,12000,2024-03-31,Commit
D4,Negotiation,2024-03-20,12000,2024-04-30,Commit
D5,Prospecting,2024-02-20,5000,2024-04-15,Pipeline
D5,Proposal,2024-03-15,5000,2024-04-15,Best Case
D6,Prospecting,2024-03-05,2400,2024-05-31,Pipeline
D6,Qualification,2024-03-18,2400,2024-05-31,Pipeline
D7,Prospecting,2024-02-10,8000,2024-03-10,Pipeline
D7,Proposal,2024-02-25,8000,2024-03-10,Best Case
D7,Closed Lost,2024-03-20,8000,,Omitted
D8,Prospecting,2024-03-25,1200,2024-06-30,Pipeline
""",
    "deal_activities.csv": """\
activity_id,deal_id,activity_at,kind,direction,contact
A1,D1,2024-01-03 10:00:00,email,outbound,Lee
A2,D1,2024-01-12 15:00:00,meeting,inbound,Lee
A3,D3,2024-01-15 09:00:00,call,outbound,Kim
A4,D3,2024-01-29 11:00:00,meeting,inbound,Kim
A5,D4,2024-02-05 10:00:00,email,outbound,
A6,D4,2024-03-02 16:00:00,call,inbound,Ray
A7,D5,2024-02-21 10:00:00,email,outbound,
A8,D7,2024-02-12 10:00:00,email,outbound,
""",
}


@dataclass
class Backend:
    """A loaded warehouse on one backend."""

    name: str
    ctx: AppContext

    def table(self, name: str) -> ibis.Table:
        return self.ctx.warehouse.table(name)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "notimpl(backends, reason): a known gap of those backends (strict xfail)"
    )


@pytest.fixture(scope="session")
def company_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("backend-company")
    for name, text in COMPANY.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One local Spark for the session (starting one takes seconds); SparkWarehouse reuses it."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("revintel-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    yield session
    session.stop()


def _warehouse_url(name: str, request: pytest.FixtureRequest) -> str | None:
    if name == "postgres":
        create: Callable[[], str] = request.getfixturevalue("postgres_databases")
        return create()
    if name == "pyspark":
        request.getfixturevalue("spark_session")
        return "pyspark://local[2]"
    return None


@pytest.fixture(
    scope="session",
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("pyspark", marks=pytest.mark.spark),
    ],
)
def loaded_backend(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    company_folder: Path,
) -> Iterator[Backend]:
    name: str = request.param
    home = tmp_path_factory.mktemp(f"home-{name}")
    url = _warehouse_url(name, request)
    ctx = AppContext(Settings(home=home, warehouse_url=url, database_url=None))
    load_paths(ctx, [company_folder], source="test")
    yield Backend(name, ctx)
    ctx.close()


def _loaded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    folder: Path,
    label: str,
) -> Iterator[Backend]:
    """``folder`` loaded into a home of its own on the backend ``request.param``."""
    name: str = request.param
    home = tmp_path_factory.mktemp(f"home-{label}-{name}")
    url = _warehouse_url(name, request)
    ctx = AppContext(Settings(home=home, warehouse_url=url, database_url=None))
    load_paths(ctx, [folder], source="test")
    yield Backend(name, ctx)
    ctx.close()


def _mark_gap(request: pytest.FixtureRequest, name: str) -> None:
    marker = request.node.get_closest_marker("notimpl")
    if marker is not None and name in marker.args[0]:
        reason = marker.kwargs.get("reason", "not implemented on this backend")
        request.applymarker(pytest.mark.xfail(reason=f"{name}: {reason}", strict=True))


@pytest.fixture
def backend(request: pytest.FixtureRequest, loaded_backend: Backend) -> Backend:
    """The loaded warehouse of each backend in turn (see the module docstring)."""
    _mark_gap(request, loaded_backend.name)
    return loaded_backend


@pytest.fixture(scope="session")
def health_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The company plus its health tables (a separate home, so ``backend`` keeps its 3 tables)."""
    folder = tmp_path_factory.mktemp("backend-health-company")
    for name, text in {**COMPANY, **HEALTH_TABLES}.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture(scope="session")
def duckdb_health(
    tmp_path_factory: pytest.TempPathFactory, health_folder: Path
) -> Iterator[Backend]:
    """The health company on DuckDB: the reference the other backends are compared with."""
    home = tmp_path_factory.mktemp("home-health-reference")
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    load_paths(ctx, [health_folder], source="test")
    yield Backend("duckdb", ctx)
    ctx.close()


@pytest.fixture(
    scope="session",
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("pyspark", marks=pytest.mark.spark),
    ],
)
def loaded_health_backend(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    health_folder: Path,
) -> Iterator[Backend]:
    # On Spark both homes register their tables as views of one session; the shared tables
    # (customers, subscriptions, payments) hold the same rows in both, so neither sees a change.
    yield from _loaded(request, tmp_path_factory, health_folder, "health")


@pytest.fixture
def health_backend(request: pytest.FixtureRequest, loaded_health_backend: Backend) -> Backend:
    """Like ``backend``, with the health tables (accounts, usage, NPS, tickets) loaded too."""
    _mark_gap(request, loaded_health_backend.name)
    return loaded_health_backend


@pytest.fixture(scope="session")
def pipeline_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The company plus its deal tables (a separate home, so ``backend`` keeps its 3 tables)."""
    folder = tmp_path_factory.mktemp("backend-pipeline-company")
    for name, text in {**COMPANY, **PIPELINE_TABLES}.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture(
    scope="session",
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("pyspark", marks=pytest.mark.spark),
    ],
)
def loaded_pipeline_backend(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pipeline_folder: Path,
) -> Iterator[Backend]:
    yield from _loaded(request, tmp_path_factory, pipeline_folder, "pipeline")


@pytest.fixture
def pipeline_backend(request: pytest.FixtureRequest, loaded_pipeline_backend: Backend) -> Backend:
    """Like ``backend``, with the deal tables (deals, stage history, activities) loaded too."""
    _mark_gap(request, loaded_pipeline_backend.name)
    return loaded_pipeline_backend


# The journeys of the same company (tests/backends/test_attribution_journeys.py and
# tests/attribution): C1 converts (paid) twice and signs up once, with a touch outside the
# window and one after its last conversion; J9 converts with no customer; the lead L1 is
# identified (C2) on its second touch; J1, J2, J3 never convert (J2's first touch is outside the
# window of its last); C3 only signs up (no paid conversion); C4 pays with no touch at all.
ATTRIBUTION_TABLES = {
    "touchpoints.csv": """\
touchpoint_id,journey_id,customer_id,touched_at,channel,source,medium,campaign
T01,,C1,2023-09-01 10:00:00,Display,news,banner,autumn
T02,,C1,2023-11-20 10:00:00,Paid Search,google,cpc,brand
T03,,C1,2024-01-02 08:00:00,Email,newsletter,email,jan
T04,,C1,2024-01-10 12:00:00,Direct,,,
T05,,C1,2024-02-01 09:00:00,Social,linkedin,social,feb
T06,,C1,2024-03-10 12:00:01,Email,newsletter,email,mar
T07,J9,,2024-02-01 10:00:00,Social,facebook,social,feb
T08,J9,,2024-02-03 10:00:00,Social,facebook,social,feb
T09,J9,,2024-02-05 10:00:00,Paid Search,google,cpc,generic
T10,L1,,2024-01-05 10:00:00,Organic,google,organic,
T11,L1,C2,2024-01-08 10:00:00,Email,newsletter,email,jan
T12,J1,,2024-02-10 10:00:00,Social,facebook,social,feb
T13,J1,,2024-02-12 10:00:00,Display,news,banner,feb
T14,J2,,2023-10-01 10:00:00,Email,newsletter,email,oct
T15,J2,,2024-03-01 10:00:00,Direct,,,
T16,J3,,2024-03-20 10:00:00,Paid Search,google,cpc,brand
T17,,C3,2024-01-15 10:00:00,Organic,bing,organic,
""",
    "conversions.csv": """\
conversion_id,journey_id,customer_id,converted_at,conversion_type,value
V1,,C1,2024-01-03 09:00:00,signup,0
V2,,C1,2024-01-10 12:00:00,paid,49
V3,,C1,2024-03-10 12:00:00,paid,49
V4,J9,,2024-02-06 00:00:00,paid,300
V5,L1,C2,2024-01-10 00:00:00,paid,199
V6,,C3,2024-01-20 00:00:00,signup,0
V7,,C4,2024-02-02 00:00:00,paid,2500
""",
}

# Paid journeys of ATTRIBUTION_TABLES under a 90-day window: (journey, customer, channels,
# converted, value). T01 is outside V2's window, T06 after V3, T14 outside J2's window, V7 has
# no touch.
ATTRIBUTION_PAID_JOURNEYS = {
    ("V2", "C1", ("Paid Search", "Email", "Direct"), 1, 49.0),
    ("V3", "C1", ("Social",), 1, 49.0),
    ("V4", None, ("Social", "Social", "Paid Search"), 1, 300.0),
    ("V5", "C2", ("Organic", "Email"), 1, 199.0),
    ("J1", None, ("Social", "Display"), 0, 0.0),
    ("J2", None, ("Direct",), 0, 0.0),
    ("J3", None, ("Paid Search",), 0, 0.0),
    ("C3", "C3", ("Organic",), 0, 0.0),
}


@pytest.fixture(scope="session")
def attribution_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The company plus its touchpoints and conversions (a home of its own)."""
    folder = tmp_path_factory.mktemp("backend-attribution-company")
    for name, text in {**COMPANY, **ATTRIBUTION_TABLES}.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture(
    scope="session",
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("pyspark", marks=pytest.mark.spark),
    ],
)
def loaded_attribution_backend(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    attribution_folder: Path,
) -> Iterator[Backend]:
    yield from _loaded(request, tmp_path_factory, attribution_folder, "attribution")


@pytest.fixture
def attribution_backend(
    request: pytest.FixtureRequest, loaded_attribution_backend: Backend
) -> Backend:
    """Like ``backend``, with touchpoints and conversions (ATTRIBUTION_TABLES) loaded too."""
    _mark_gap(request, loaded_attribution_backend.name)
    return loaded_attribution_backend

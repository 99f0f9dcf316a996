"""`revintel metrics …`, `revintel forecast`, `revintel anomalies` on a loaded home.

Values are worked by hand for a small company given as brief 001's four CSVs only (customers,
subscriptions, payments, costs: no trials), as of 2024-05-02, so January to April are complete:

====== ===================================== ======= ===== ====== ===== ====== ======
month  what happens                           MRR    new   exp.   contr. churn  react.
====== ===================================== ======= ===== ====== ===== ====== ======
Jan    A 100 and B 200 start                    300   300     0      0      0      0
Feb    B ends (Feb 20), C 1000 starts          1100  1000     0      0    200      0
Mar    A adds 50; D joins and leaves in March  1150     0    50      0      0      0
Apr    A's add-on ends, B comes back at 250    1350     0     0     50      0    250
====== ===================================== ======= ===== ====== ===== ====== ======
"""

from __future__ import annotations

import itertools
import json
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.cli import app
from revintel.core.config import Settings

BRIEF_001 = {
    "customers.csv": """\
customer_id,signup_date,segment,country,acquisition_channel
A,2024-01-10,SMB,US,Organic
B,2024-01-15,SMB,DE,Referral
C,2024-02-01,Enterprise,US,Partner
D,2024-03-15,Mid-Market,FR,Paid Ads
""",
    "subscriptions.csv": """\
subscription_id,customer_id,plan_type,start_date,end_date,monthly_price
A1,A,Basic,2024-01-10,,100
A2,A,Basic,2024-03-05,2024-04-10,50
B1,B,Pro,2024-01-15,2024-02-20,200
B2,B,Pro,2024-04-01,,250
C1,C,Enterprise,2024-02-01,,1000
D1,D,Basic,2024-03-15,2024-03-25,80
""",
    "payments.csv": """\
payment_id,customer_id,payment_date,amount,payment_status
P01,A,2024-01-10,100,Success
P02,B,2024-01-15,200,Success
P03,A,2024-02-10,100,Success
P04,C,2024-02-01,1000,Success
P05,B,2024-02-15,200,Failed
P06,A,2024-03-10,150,Success
P07,C,2024-03-01,1000,Success
P08,D,2024-03-15,80,Success
P09,A,2024-04-10,100,Success
P10,C,2024-04-01,1000,Success
P11,B,2024-04-01,250,Success
P12,A,2024-05-02,100,Success
""",
    "costs.csv": """\
month,infra_cost,marketing_cost,support_cost
2024-01,30,500,20
2024-02,110,500,40
2024-03,123,500,27
2024-04,135,600,15
""",
}
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No REVINTEL_* setting or revintel.toml of the machine reaches these commands."""
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-such-revintel.toml"))


def _load(home: Path, folder: Path) -> Path:
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        load_paths(ctx, [folder], source="test")
    finally:
        ctx.close()
    return home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding the brief-001 company above."""
    folder = tmp_path_factory.mktemp("brief001")
    for name, text in BRIEF_001.items():
        (folder / name).write_text(text)
    return _load(tmp_path_factory.mktemp("home") / "home", folder)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding a small generated demo company (every table), 24 months."""
    from revintel.data.generator import generate_company, write_company

    folder = tmp_path_factory.mktemp("demo")
    write_company(generate_company(customers=300, months=24, seed=7), folder, "parquet")
    return _load(tmp_path_factory.mktemp("demo-home") / "home", folder)


def run(*args: str | Path) -> object:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def run_json(*args: str | Path) -> object:
    return json.loads(run(*args, "--format", "json").stdout)


def test_movements_json_is_the_hand_worked_table(home: Path) -> None:
    rows = run_json("metrics", "movements", "--home", home)
    assert [r["month"] for r in rows] == MONTHS
    got = [
        [r[k] for k in ("mrr", "new", "expansion", "contraction", "churn", "reactivation")]
        for r in rows
    ]
    assert got == [
        [300, 300, 0, 0, 0, 0],
        [1100, 1000, 0, 0, 200, 0],
        [1150, 0, 50, 0, 0, 0],
        [1350, 0, 0, 50, 0, 250],
    ]
    assert [r["customers"] for r in rows] == [2, 2, 2, 3]  # D joined and left within March
    assert {r["definition"] for r in rows} == {"docs/metrics.md#mrr-movements"}


def test_churn_json_rates_and_reasons(home: Path) -> None:
    rows = {r["month"]: r for r in run_json("metrics", "churn", "--home", home)}
    assert list(rows) == MONTHS
    january = rows["2024-01"]
    assert january["logo_churn_rate"] is None
    assert (
        january["logo_churn_rate_reason"] == "no paying customers at the end of the previous month"
    )
    assert january["nrr"] is None and january["nrr_reason"]
    feb, mar, apr = rows["2024-02"], rows["2024-03"], rows["2024-04"]
    assert feb["logo_churn_rate"] == pytest.approx(1 / 2)
    assert feb["gross_mrr_churn_rate"] == pytest.approx(200 / 300)
    assert feb["net_mrr_churn_rate"] == pytest.approx(200 / 300)
    assert feb["nrr"] == pytest.approx(100 / 300)
    assert mar["logo_churn_rate"] == 0
    assert mar["net_mrr_churn_rate"] == pytest.approx(-50 / 1100)
    assert mar["nrr"] == pytest.approx(1150 / 1100)
    # Reactivation is not part of NRR or net churn.
    assert apr["gross_mrr_churn_rate"] == pytest.approx(50 / 1150)
    assert apr["nrr"] == pytest.approx(1100 / 1150)
    assert feb["definition"] == "docs/metrics.md#churn-and-retention"


def test_summary_json_is_the_latest_complete_month(home: Path) -> None:
    result = run_json("metrics", "summary", "--home", home)
    assert result["month"] == "2024-04"
    mrr = result["metrics"]["mrr"]
    assert (mrr["value"], mrr["previous"], mrr["change"]) == (1350, 1150, 200)
    assert mrr["definition"] == "docs/metrics.md#mrr"
    assert result["metrics"]["arr"]["value"] == 1350 * 12
    assert result["metrics"]["revenue"]["value"] == pytest.approx(100 + 1000 + 250)
    assert result["metrics"]["nrr_t12m"]["value"] is None
    assert result["metrics"]["nrr_t12m"]["reason"]


def test_range_breakdown_and_filters(home: Path) -> None:
    rows = run_json("metrics", "mrr", "--from", "2024-03", "--by", "segment", "--home", home)
    assert {(r["month"], r["segment"]): r["mrr"] for r in rows} == {
        ("2024-03", "SMB"): 150,
        ("2024-03", "Enterprise"): 1000,
        ("2024-04", "SMB"): 350,
        ("2024-04", "Enterprise"): 1000,
    }
    smb = run_json("metrics", "mrr", "--segment", "SMB", "--to", "2024-02", "--home", home)
    assert [(r["month"], r["mrr"]) for r in smb] == [("2024-01", 300), ("2024-02", 100)]
    two = run_json("metrics", "mrr", "--country", "DE", "--country", "FR", "--home", home)
    assert [r["mrr"] for r in two] == [200, 0, 0, 250]


def test_revenue_and_finance_from_brief_001_tables(home: Path) -> None:
    revenue = run_json("metrics", "revenue", "--home", home)
    assert [r["revenue"] for r in revenue] == [300, 1100, 1230, 1350]  # the failed payment is out
    finance = {r["month"]: r for r in run_json("metrics", "finance", "--home", home)}
    assert finance["2024-04"]["gross_margin"] == pytest.approx((1350 - 135 - 15) / 1350)
    assert finance["2024-04"]["contribution"] == pytest.approx(1350 - 135 - 15 - 600)


def test_table_output_names_the_definition_and_null_reasons(home: Path) -> None:
    result = run("metrics", "churn", "--home", home)
    assert "docs/metrics.md#churn-and-retention" in result.stdout
    assert "— no paying customers at the end of the previous month: logo_churn_rate 2024-01" in (
        result.stdout
    )
    assert "50.0%" in result.stdout  # February's logo churn, as a percentage
    csv = run("metrics", "movements", "--format", "csv", "--home", home).stdout.splitlines()
    assert csv[0].startswith("month,mrr,")
    assert csv[4].startswith("2024-04,1350.0,")


def test_a_metric_without_its_table_names_the_table(home: Path) -> None:
    result = runner.invoke(app, ["metrics", "conversion", "--home", str(home)])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
    assert "'trials' has not been loaded" in str(result.exception)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2024-13"], "--from = '2024-13': expected a month YYYY-MM"),
        (["--to", "April"], "--to = 'April': expected a month YYYY-MM"),
        (["--by", "planet"], "--by = 'planet' is not a breakdown; expected one of segment"),
    ],
)
def test_bad_month_or_dimension_is_a_clear_error(home: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["metrics", "mrr", *args, "--home", str(home)])
    assert result.exit_code != 0
    assert message in str(result.exception)


def test_finance_refuses_a_breakdown(home: Path) -> None:
    result = runner.invoke(app, ["metrics", "finance", "--by", "segment", "--home", str(home)])
    assert result.exit_code != 0
    assert "has no breakdown" in str(result.exception)


def test_every_metric_on_the_demo_company(demo_home: Path) -> None:
    movements = run_json("metrics", "movements", "--home", demo_home)
    assert len(movements) >= 20
    for before, row in itertools.pairwise(movements):
        flows = row["new"] + row["reactivation"] + row["expansion"]
        assert row["mrr"] == pytest.approx(
            before["mrr"] + flows - row["contraction"] - row["churn"]
        )
    for name in ("mrr", "churn", "retention", "cohorts", "conversion", "revenue", "finance", "cac"):
        rows = run_json("metrics", name, "--home", demo_home)
        assert rows and all(r["definition"].startswith("docs/metrics.md#") for r in rows), name
    by_plan = run_json("metrics", "conversion", "--by", "plan", "--home", demo_home)
    assert {r["plan"] for r in by_plan} >= {"Basic", "Pro"}


def test_forecast_prints_model_backtest_errors_and_rows(demo_home: Path) -> None:
    result = run_json("forecast", "mrr", "--horizon", "3", "--home", demo_home)
    assert result["model"] and result["horizon"] == 3
    assert result["backtest_mape"] is not None and result["backtest_mape"] > 0
    assert "backtest_mase" in result and isinstance(result["notes"], list)
    months = [r["month"] for r in result["forecast"]]
    assert len(months) == 3 and months == sorted(months)
    last = run_json("metrics", "mrr", "--home", demo_home)[-1]["month"]
    assert months[0] > last
    for row in result["forecast"]:
        assert row["lo95"] <= row["lo80"] <= row["mean"] <= row["hi80"] <= row["hi95"]
    table = run("forecast", "revenue", "--horizon", "3", "--home", demo_home).stdout
    assert "backtest MAPE" in table and "MASE" in table


def test_forecast_horizon_is_checked(demo_home: Path) -> None:
    result = runner.invoke(app, ["forecast", "mrr", "--horizon", "9", "--home", str(demo_home)])
    assert result.exit_code == 2
    bad = runner.invoke(app, ["forecast", "arr", "--home", str(demo_home)])
    assert bad.exit_code != 0 and "unknown series 'arr'" in str(bad.exception)


def test_anomalies_flag_with_reason_and_size(demo_home: Path) -> None:
    result = run_json("anomalies", "--home", demo_home)
    assert result["threshold"] == 0.10 and result["level"] == 95
    # the statistical detector is the default; the rule is given on request
    assert result["detectors"] == ["statistical"]
    assert {a["detector"] for a in result["anomalies"]} <= {"statistical"}
    asked = run_json("anomalies", "--detector", "rule", "--detector", "statistical",
                     "--home", demo_home)  # fmt: skip
    rule = [a for a in asked["anomalies"] if a["detector"] == "rule"]
    assert rule, "a company growing from zero has months off its trend"
    mrr = {r["month"]: r["mrr"] for r in run_json("metrics", "mrr", "--home", demo_home)}
    months = sorted(mrr)
    changes = {m: mrr[m] / mrr[p] - 1 for p, m in itertools.pairwise(months) if mrr[p]}
    for a in rule:
        if a["metric"] != "mrr":
            continue
        i = months.index(a["month"])
        before = [changes[m] for m in months[max(1, i - 6) : i] if m in changes]
        trend = statistics.median(before) if len(before) >= 3 else 0.0
        assert a["size"] == pytest.approx(changes[a["month"]] - trend)
        assert abs(a["size"]) > 0.10
        assert a["reason"].startswith("MRR rose" if changes[a["month"]] > 0 else "MRR fell")
    only = run_json("anomalies", "--series", "mrr", "--detector", "rule", "--home", demo_home)
    assert {a["metric"] for a in only["anomalies"]} == {"mrr"}
    assert {a["detector"] for a in only["anomalies"]} == {"rule"}


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """The default demo company (2,000 sign-ups, 36 months, seed 42) and its planted anomalies."""
    from revintel.data.generator import generate_company, write_company

    folder = tmp_path_factory.mktemp("default-demo")
    company = generate_company(customers=2000, months=36, seed=42)
    write_company(company, folder, "parquet")
    home = _load(tmp_path_factory.mktemp("default-demo-home") / "home", folder)
    return home, company.truth["anomalies"].to_pylist()


def test_statistical_detector_finds_the_planted_events_of_the_default_demo(default_demo) -> None:
    home, planted = default_demo
    result = run_json("anomalies", "--detector", "statistical", "--home", home)
    found = {(a["metric"], a["month"]) for a in result["anomalies"]}
    assert found == {(p["series"], p["month"]) for p in planted}
    drivers = {a["month"]: a["driver"] for a in result["anomalies"]}
    kinds = {p["month"]: p["kind"] for p in planted}
    expected = {"price_increase": "expansion", "mass_churn": "churn",
                "enterprise_cohort": "new", "billing_outage": "collections"}  # fmt: skip
    assert drivers == {month: expected[kind] for month, kind in kinds.items()}
    assert all("band for the whole history" in a["reason"] for a in result["anomalies"])
    from fastapi.testclient import TestClient

    from revintel.api.app import create_app

    with TestClient(create_app(AppContext(Settings(home=home, warehouse_url=None,
                                                   database_url=None)))) as client:  # fmt: skip
        body = client.get("/api/v1/anomalies?detector=statistical").json()
    assert [(a["month"], a["driver"]) for a in body["anomalies"]] == [
        (a["month"], a["driver"]) for a in result["anomalies"]
    ]
    assert all(a["driver_actual"] > a["driver_expected"] for a in body["anomalies"])


def test_a_control_character_in_a_filter_is_a_clear_error_naming_the_option(home: Path) -> None:
    result = runner.invoke(app, ["metrics", "movements", "--channel", "a\x00b", "--home", home])
    assert result.exit_code != 0
    assert "Filter 'channel' value 1 ('a\\x00b') contains the control character U+0000" in str(
        result.exception
    )


@pytest.mark.parametrize("series", ["mrr", "revenue", "paying_customers", "new_mrr", "churned_mrr"])
def test_forecast_title_prints_the_backtest_mape_as_the_percent_it_is(
    demo_home: Path, series: str
) -> None:
    # backtest_mape is in percent (3.63 means 3.63%): the title once printed it as 363.0%.
    mape = run_json("forecast", series, "--horizon", "3", "--home", demo_home)["backtest_mape"]
    title = " ".join(run("forecast", series, "--horizon", "3", "--home", demo_home).stdout.split())
    expected = "n/a" if mape is None else f"{mape:.2f}%"
    assert f"backtest MAPE {expected}," in title


# -- tables for people: 80 columns, percents and dollars -------------------------------------------
def run_narrow(*args: str | Path) -> str:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "80"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_summary_in_80_columns_shows_dollars_percents_and_whole_labels(home: Path) -> None:
    out = run_narrow("metrics", "summary", "--home", home)
    assert max(len(line) for line in out.splitlines()) <= 80
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "NRR (trailing 12 months)" in lines  # a label on one line, not wrapped
    mrr = [cell.strip() for cell in lines["MRR"].split("│")[1:-1]]
    assert mrr == ["MRR", "$1.4k", "$1.1k", "+$200", "+17.4%"]  # 1350, 1150, +200
    customers = [cell.strip() for cell in lines["Paying customers"].split("│")[1:-1]]
    assert customers == ["Paying customers", "3", "2", "+1", "+50.0%"]
    logo = [cell.strip() for cell in lines["Logo churn rate"].split("│")[1:-1]]
    assert logo == ["Logo churn rate", "0.0%", "0.0%", "0.0 pp", ""]
    nrr = [cell.strip() for cell in lines["NRR (monthly)"].split("│")[1:-1]]
    assert nrr == ["NRR (monthly)", "95.7%", "104.5%", "-8.9 pp", ""]  # 1150/1200, 1150/1100
    quick = [cell.strip() for cell in lines["SaaS Quick Ratio"].split("│")[1:-1]]
    assert quick == ["SaaS Quick Ratio", "5.00x", "—", "—", ""]
    assert "— NRR (trailing 12 months): no MRR 12 months earlier" in out
    assert "0.1739" not in out and "docs/metrics.md" in out


def test_summary_csv_keeps_raw_numbers(home: Path) -> None:
    rows = run("metrics", "summary", "--format", "csv", "--home", home).stdout.splitlines()
    assert rows[0] == "metric,value,previous,change,change_pct,definition"
    assert rows[1].startswith("MRR,1350.0,1150.0,200.0,0.1739")


def test_report_tables_in_80_columns_cut_no_figure(home: Path) -> None:
    out = run_narrow("metrics", "movements", "--home", home)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out
    assert "$1,350" in out and "$1,000" in out and "reactivation" in out
    assert out.count("│ 2024-04 │") == 2  # printed in two parts, each with its month
    quick = run_narrow("metrics", "movements", "--by", "segment", "--home", home)
    assert "SMB" in quick and "…" not in quick


def test_a_filter_value_in_another_case_and_one_that_matches_nothing(home: Path) -> None:
    smb = run_json("metrics", "mrr", "--segment", "smb", "--to", "2024-02", "--home", home)
    assert [(r["month"], r["mrr"]) for r in smb] == [("2024-01", 300), ("2024-02", 100)]
    result = runner.invoke(app, ["metrics", "mrr", "--segment", "smbx", "--home", str(home)])
    assert result.exit_code != 0
    said = result.output + str(result.exception)
    assert "Filter 'segment' value 'smbx' matches no segment in the data; expected one of: " in said
    assert "'Enterprise', 'Mid-Market', 'SMB'" in said


def test_the_anomalies_table_shows_dollars_and_signed_percentages(demo_home: Path) -> None:
    found = run_json("anomalies", "--series", "mrr", "--detector", "rule", "--home", demo_home)
    first = found["anomalies"][0]
    out = run_narrow("anomalies", "--series", "mrr", "--detector", "rule", "--home", demo_home)
    row = next(line for line in out.splitlines() if line.startswith(f"│ {first['month']} "))
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[3] == f"${first['actual']:,.0f}" and cells[4] == f"${first['expected']:,.0f}"
    assert cells[5] == f"{first['size']:+.1%}"

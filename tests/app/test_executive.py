"""The executive report (docs/retention.md, Executive report): its figures equal what the command
line prints for the same month, every format carries them, the narrative speaks only of what is
there, and bad months and empty homes are refused with their reasons.

Built on ``churn_home`` (read-only: 3,000 customers over 30 months, churn models scored)."""

from __future__ import annotations

import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.app.retention.executive import (
    ExecutiveReport,
    Movements,
    executive_report,
    render,
    report_months,
)
from revintel.app.retention.executive_narrative import narrative
from revintel.app.retention.executive_render import html as render_html
from revintel.app.retention.executive_render import view
from revintel.cli import app
from revintel.core.calendar import MonthsOutsideTheData, month_label, month_number
from revintel.core.errors import InvalidOption, NoDataError
from revintel.core.formatting import money
from tests.conftest import isolated_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No REVINTEL_* setting or revintel.toml of the machine reaches these commands."""
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-such-revintel.toml"))


@pytest.fixture(scope="module")
def ctx(churn_home: Path) -> Iterator[AppContext]:
    context = AppContext(isolated_settings(churn_home))
    yield context
    context.close()


@pytest.fixture(scope="module")
def report(ctx: AppContext) -> ExecutiveReport:
    return executive_report(ctx)


def cli_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(result.stdout)


# -- every figure equals the command line's --------------------------------------------------------
def test_kpis_and_movements_equal_metrics_summary(
    report: ExecutiveReport, churn_home: Path
) -> None:
    summary = cli_json("metrics", "summary", "--home", str(churn_home))
    assert report.month == summary["month"]
    mine = report.to_dict()
    for name, kpi in mine["kpis"].items():
        theirs = summary["metrics"][name]
        assert kpi["value"] == pytest.approx(theirs["value"], rel=1e-12), name
        assert kpi["previous"] == pytest.approx(theirs["previous"], rel=1e-12), name
        assert kpi["change"] == pytest.approx(theirs["change"], rel=1e-9, abs=1e-12), name
    for name in ("new", "expansion", "contraction", "churn", "reactivation"):
        assert mine["movements"][name] == pytest.approx(summary["metrics"][name]["value"])


def test_an_earlier_month_equals_the_metric_reports(churn_home: Path) -> None:
    last = cli_json("metrics", "summary", "--home", str(churn_home))["month"]
    month = month_label(month_number(last) - 5)
    before = month_label(month_number(month) - 1)
    mine = cli_json("report", "executive", "--month", month, "--home", str(churn_home))
    assert mine["month"] == month and mine["previous_month"] == before
    rows: dict[str, dict[str, Any]] = {}
    for metric in ("mrr", "movements", "churn", "retention"):
        answer = cli_json(
            "metrics", metric, "--from", before, "--to", month, "--home", str(churn_home)
        )
        rows[metric] = {r["month"]: r for r in answer}
    for name, kpi in mine["kpis"].items():
        metric = kpi["source"].split()[2]
        column = name if metric != "churn" or name != "nrr_monthly" else "nrr"
        assert kpi["value"] == pytest.approx(rows[metric][month][column]), name
        assert kpi["previous"] == pytest.approx(rows[metric][before][column]), name
    movements = rows["movements"][month]
    for name in ("mrr", "new", "expansion", "contraction", "churn", "reactivation"):
        assert mine["movements"][name] == pytest.approx(movements[name]), name
    assert mine["movements"]["churned_customers"] == movements["churned_customers"]
    assert mine["forecast"]["points"][0]["month"] == month_label(month_number(month) + 1)


def test_forecast_risk_pipeline_and_attribution_equal_their_commands(
    report: ExecutiveReport, churn_home: Path
) -> None:
    home = ("--home", str(churn_home))
    forecast = cli_json("forecast", "mrr", *home)
    assert report.forecast is not None
    assert report.forecast.model == forecast["model"]
    for mine, theirs in zip(report.forecast.points, forecast["forecast"], strict=True):
        assert mine.month == theirs["month"]
        assert mine.mean == pytest.approx(theirs["mean"])
        assert (mine.lo95, mine.hi95) == pytest.approx((theirs["lo95"], theirs["hi95"]))

    health = cli_json("health", "summary", "--month", report.month, *home)
    assert report.risk is not None
    assert report.risk.capital_at_risk == pytest.approx(health["capital_at_risk"])
    assert report.risk.total_arr == pytest.approx(health["total_arr"])

    predictions = {
        r["account_id"]: r
        for r in cli_json("churn", "predictions", *home)  # every customer, riskiest first
    }
    assert report.risk.customers == len(predictions)
    top = report.risk.top_accounts
    assert len(top) == 10  # report.top_accounts' default
    for account in top:
        row = predictions[account.account_id]
        # the command line prints risks to 4 decimals, amounts of 100 and more to 1
        assert account.churn_risk == pytest.approx(row["churn_risk_score"], abs=5e-5)
        assert account.risk_tier == row["risk_tier"]
        assert account.mrr == pytest.approx(row["mrr"], abs=0.0501)
    stakes = [a.mrr_at_risk or 0.0 for a in top]
    assert stakes == sorted(stakes, reverse=True)
    everyone = sorted((r["mrr"] or 0) * r["churn_risk_score"] for r in predictions.values())
    assert stakes[0] == pytest.approx(everyone[-1], rel=1e-3)  # the account with the most at stake

    pipeline = cli_json("pipeline", "summary", *home)
    assert report.pipeline is not None
    assert report.pipeline.open_pipeline == pytest.approx(pipeline["open_pipeline"])
    assert report.pipeline.win_rate == pytest.approx(pipeline["win_rate"])
    assert report.pipeline.weighted_forecast == pytest.approx(pipeline["weighted_forecast_90d"])

    a = report.attribution
    assert a is not None
    credit = cli_json(
        "attribution", "report", "--model", "markov", "--from", a.start, "--to", a.end, *home
    )
    by_channel = {r["channel"]: r for r in credit}
    assert [c.channel for c in a.channels] == sorted(
        by_channel, key=lambda c: by_channel[c]["conversions"], reverse=True
    )
    for channel in a.channels:
        assert channel.conversions == pytest.approx(by_channel[channel.channel]["conversions"])


# -- the narrative ---------------------------------------------------------------------------------
def test_narrative_names_the_driver_and_only_present_sections(report: ExecutiveReport) -> None:
    sentences = report.narrative
    mrr = report.kpis["mrr"]
    assert sentences[0].startswith("MRR ")
    assert money(mrr.value) in sentences[0]
    m = report.movements
    gains = {"new MRR": m.new, "expansion": m.expansion, "reactivated MRR": m.reactivation}
    losses = {"churned MRR": m.churn, "contraction": m.contraction}
    biggest = max(gains if (mrr.change or 0) > 0 else losses, key=lambda k: {**gains, **losses}[k])
    assert sentences[0].split(":")[1].strip().startswith(biggest)
    assert any(s.startswith("Open pipeline is") for s in sentences)
    assert any("High churn risk" in s for s in sentences)
    bare = replace(report, risk=None, pipeline=None, attribution=None, campaigns=None)
    plain = narrative(bare)
    assert not any("pipeline" in s.lower() or "risk" in s.lower() for s in plain)
    assert not any("attribution" in s.lower() for s in plain)
    assert all("None" not in s and "nan" not in s.split() for s in sentences)


def _with_movements(report: ExecutiveReport, **amounts: float) -> ExecutiveReport:
    m = report.movements
    base = {n: 0.0 for n in ("new", "expansion", "contraction", "churn", "reactivation")}
    base.update(amounts)
    net = base["new"] + base["expansion"] + base["reactivation"] - base["contraction"]
    net -= base["churn"]
    previous = 400_000.0
    movements = Movements(**{**m.to_dict(), **base, "net_new_mrr": net, "mrr": previous + net})
    kpis = dict(report.kpis)
    kpis["mrr"] = replace(
        kpis["mrr"],
        value=previous + net,
        previous=previous,
        change=net,
        change_pct=net / previous,
    )
    return replace(report, movements=movements, kpis=kpis)


def test_mrr_sentence_rising_falling_and_flat(report: ExecutiveReport) -> None:
    rising = narrative(_with_movements(report, new=18_200, churn=9_900, expansion=4_100))[0]
    assert rising.startswith("MRR rose 3.1% to $412.4k in ")
    assert rising.endswith(
        ": new MRR of $18.2k outran churned MRR of $9.9k; expansion added $4.1k."
    )
    falling = narrative(_with_movements(report, new=5_000, churn=20_000, contraction=3_000))[0]
    assert "fell 4.5%" in falling
    assert "churned MRR of $20.0k outweighed new MRR of $5.0k; contraction took $3.0k" in falling
    flat = narrative(_with_movements(report, new=10_000, churn=10_000))[0]
    assert "held steady" in flat and "$10.0k gained offset $10.0k lost" in flat


# -- the formats -----------------------------------------------------------------------------------
def _pdf_text(data: bytes) -> str:
    """The PDF's uncompressed objects and decompressed streams (its metadata among them)."""
    parts = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts).decode("latin-1")


def _pdf_strings(text: str) -> str:
    """Literal and UTF-16 hex strings of a PDF, decoded."""
    found = [m.group(1) for m in re.finditer(r"\(([^)]*)\)", text)]
    for m in re.finditer(r"<FEFF([0-9A-Fa-f]+)>", text):
        found.append(bytes.fromhex(m.group(1)).decode("utf-16-be", errors="replace"))
    return "\n".join(found)


def test_pdf_is_a4_with_the_month_and_company(report: ExecutiveReport) -> None:
    from weasyprint import HTML

    named = replace(report, company_name="Northwind Analytics")
    data = render(named, "pdf")
    assert data.startswith(b"%PDF")
    strings = _pdf_strings(_pdf_text(data))
    assert "Northwind Analytics" in strings
    assert report.month in strings
    document = HTML(string=render_html(named, "png")).render()
    assert len(document.pages) > 1
    width, height = document.pages[0].width, document.pages[0].height
    assert (round(width * 25.4 / 96), round(height * 25.4 / 96)) == (210, 297)  # A4 in mm


def test_pptx_has_the_slides_and_the_kpi_values(report: ExecutiveReport) -> None:
    from pptx import Presentation

    deck = Presentation(io.BytesIO(render(report, "pptx")))
    titles = [s.shapes.title.text for s in deck.slides if s.shapes.title is not None]
    assert titles[0] == report.company_name
    for expected in ("Summary", "Headline KPIs", "MRR movements", "Forecast", "Churn risk"):
        assert any(t.startswith(expected) for t in titles), expected
    assert "Campaign results" in titles and "Pipeline" in titles and "Attribution" in titles
    kpi_slide = next(s for s in deck.slides if s.shapes.title.text.startswith("Headline KPIs"))
    table = next(shape.table for shape in kpi_slide.shapes if shape.has_table)
    cells = {table.cell(i, 0).text: table.cell(i, 1).text for i in range(1, len(table.rows))}
    for kpi in view(report)["kpis"]:
        assert cells[kpi["label"]] == kpi["value"]
    assert cells["MRR"] == money(report.kpis["mrr"].value)
    pictures = [p for s in deck.slides for p in s.shapes if p.shape_type == 13]  # PICTURE
    assert len(pictures) >= 2  # movements and the forecast
    assert report.narrative[0] in deck.slides[1].notes_slide.notes_text_frame.text
    for slide in deck.slides:  # nothing runs off the slide
        for shape in slide.shapes:
            assert shape.left + shape.width <= deck.slide_width, shape.name
            assert shape.top + shape.height <= deck.slide_height, shape.name


def test_html_has_every_section_and_no_none(report: ExecutiveReport) -> None:
    page = render(report, "html").decode("utf-8")
    text = re.sub(r"<[^>]+>|data:image/[^\"]+", " ", page)
    assert not re.search(r"\bNone\b|\bnan\b|\bNaN\b", text)
    for section in ("kpis", "movements", "forecast", "risk", "campaigns", "pipeline"):
        assert f'id="{section}"' in page
    assert page.count("data:image/svg+xml;base64,") == 3
    assert report.narrative[0].replace("'", "&#39;") in page
    assert money(report.kpis["arr"].value) in page


def test_every_value_is_escaped(report: ExecutiveReport) -> None:
    hostile = '<script>alert(1)</script> & "Co" }'
    page = render(replace(report, company_name=hostile), "html").decode("utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Co&#34;" in page
    style = page.split("<style>")[1].split("</style>")[0]
    assert "<script" not in style and '"Co"' not in style  # the page header's CSS string


def test_json_format_is_the_figures(report: ExecutiveReport) -> None:
    data = json.loads(render(report, "json"))
    assert data["month"] == report.month
    assert data["kpis"]["mrr"]["value"] == report.kpis["mrr"].value
    assert data["narrative"] == report.narrative


# -- bad months, missing data ----------------------------------------------------------------------
def test_a_month_outside_the_data_names_the_month_and_range(ctx: AppContext) -> None:
    months = report_months(ctx)
    after = month_label(month_number(months[0]) + 1)
    with pytest.raises(MonthsOutsideTheData) as caught:
        executive_report(ctx, after)
    message = str(caught.value)
    assert after in message and f"from {months[-1]} to {months[0]}" in message
    with pytest.raises(InvalidOption, match="month"):
        executive_report(ctx, "2025-13")


def test_an_empty_warehouse_says_what_to_load(empty_context: AppContext) -> None:
    with pytest.raises(NoDataError, match=r"subscriptions table.*revintel demo"):
        executive_report(empty_context)


def test_sections_without_data_say_how_to_load_it(loaded_context: AppContext) -> None:
    report = executive_report(loaded_context)
    missing = {m.section: m.reason for m in report.missing}
    assert "churn risk" in missing and "revintel churn train" in missing["churn risk"]
    assert "pipeline" in missing and "deals" in missing["pipeline"]
    assert "attribution" in missing
    assert report.pipeline is None and report.attribution is None
    page = render(report, "html").decode("utf-8")
    assert "revintel churn train" in page
    assert not any("pipeline" in s.lower() for s in report.narrative)
    text = re.sub(r"<[^>]+>|data:image/[^\"]+", " ", page)
    assert not re.search(r"\bNone\b|\bnan\b", text)


def test_campaign_results_from_intervention_impact(
    ctx: AppContext, report: ExecutiveReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    from revintel.app.retention import executive, impact

    class Impact:  # the shape of impact.InterventionImpact: rows() and method
        method = "difference in churn rates, Newcombe interval"

        def rows(self) -> list[dict[str, Any]]:
            finished = {
                "name": "Payment rescue",
                "template": "payment_assistance",
                "status": "finished",
                "treated": 850,
                "holdout": 150,
                "uplift": 0.062,
                "uplift_low": 0.011,
                "uplift_high": 0.113,
                "p_value": 0.021,
                "saves": 52.7,
                "cost": 8_500.0,
                "roi": 412_000.0,
                "months_remaining": 0,
            }
            running = {**finished, "name": "Win-back", "status": "in progress"}
            running.update(uplift=None, uplift_low=None, uplift_high=None, p_value=None)
            running.update(saves=None, roi=None, months_remaining=2)
            return [finished, running]

    monkeypatch.setattr(impact, "intervention_impact", lambda rt: Impact())
    missing: list[Any] = []
    section = executive._campaigns(ctx, missing)
    assert missing == [] and section is not None
    first, second = section.campaigns
    assert (first.uplift, first.uplift_low, first.uplift_high) == (0.062, 0.011, 0.113)
    assert second.uplift is None and second.months_remaining == 2
    with_campaigns = replace(report, campaigns=section)
    sentence = next(s for s in narrative(with_campaigns) if "campaign" in s)
    assert sentence == (
        "1 campaign measured; the largest uplift is Payment rescue's: churn 6.2 pp lower than its "
        "holdout (95% interval 1.1 pp to 11.3 pp), 53 customers saved, net return $412.0k."
    )
    page = render(replace(with_campaigns, narrative=[sentence]), "html").decode("utf-8")
    assert "1.1 to 11.3 pp" in page and "in progress (2 months to go)" in page

    monkeypatch.setattr(
        impact, "intervention_impact", lambda rt: type("Empty", (), {"rows": lambda self: []})()
    )
    assert executive._campaigns(ctx, missing) is None
    assert "No campaign to report" in missing[0].reason

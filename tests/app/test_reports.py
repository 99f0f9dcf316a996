"""The report catalogue (revintel.app.reports) on the brief-001 company of
``tests/cli/test_cli_metrics.py``: the rows each face prints, validated options, typed answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.app.reports import (
    FILTER_DIMENSIONS,
    REPORTS,
    ReportRows,
    check_by,
    check_month,
    headlines,
    metric_report,
    series_rows,
)
from revintel.core.config import Settings
from revintel.core.errors import InvalidOption, NoDataError, RevintelError
from tests.cli.test_cli_metrics import BRIEF_001, MONTHS


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    folder = tmp_path_factory.mktemp("brief001")
    for name, text in BRIEF_001.items():
        (folder / name).write_text(text)
    home = Path(tmp_path_factory.mktemp("home")) / "home"
    context = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    load_paths(context, [folder], source="test")
    yield context
    context.close()


def test_a_report_gives_its_rows_with_their_definition(ctx: AppContext) -> None:
    result = metric_report(ctx, "movements")
    assert isinstance(result, ReportRows)
    assert [r["month"] for r in result.rows] == MONTHS
    assert [r["mrr"] for r in result.rows] == pytest.approx([300, 1100, 1150, 1350])
    assert all(r["definition"] == "docs/metrics.md#mrr-movements" for r in result.rows)
    answer = result.to_dict()
    assert list(answer) == ["metric", "label", "definition", "by", "filters", "from", "to", "rows"]
    assert (answer["from"], answer["to"]) == ("2024-01", "2024-04")


def test_filters_are_named_as_a_user_names_them(ctx: AppContext) -> None:
    result = metric_report(ctx, "mrr", by="channel", filters={"segment": ["SMB"]})
    assert result.by == "acquisition_channel"
    assert result.filters == {"segment": ["SMB"]}
    assert {r["acquisition_channel"] for r in result.rows} <= {"Organic", "Referral"}
    assert FILTER_DIMENSIONS["channel"] == "acquisition_channel"


def test_options_are_checked_and_named_as_the_caller_spells_them() -> None:
    assert check_month(" 2024-03 ", "from") == "2024-03"
    assert check_by("channel") == "acquisition_channel"
    with pytest.raises(InvalidOption, match="--by"):
        check_by("region", "--by")


def test_unknown_metrics_filters_and_breakdowns_are_refused(ctx: AppContext) -> None:
    with pytest.raises(InvalidOption, match="unknown"):
        metric_report(ctx, "nps")
    with pytest.raises(InvalidOption, match="filter 'region'"):
        metric_report(ctx, "mrr", filters={"region": ["EU"]})
    with pytest.raises(InvalidOption, match="no breakdown"):
        metric_report(ctx, "finance", by="segment")
    with pytest.raises(InvalidOption, match="only be broken down by channel"):
        metric_report(ctx, "cac", by="segment")


def test_a_missing_table_names_the_metric(ctx: AppContext) -> None:
    with pytest.raises(NoDataError, match=r"Trial-to-paid conversion \(conversion\)"):
        metric_report(ctx, "conversion")


def test_every_report_names_a_definition() -> None:
    assert all(r.definition.startswith("docs/metrics.md#") for r in REPORTS.values())


def test_headlines_are_typed(ctx: AppContext) -> None:
    summary = headlines(ctx)
    assert summary.month == "2024-04"
    assert summary.metrics["mrr"].value == pytest.approx(1350)
    assert summary.to_dict()["metrics"]["mrr"]["value"] == pytest.approx(1350)


def test_series_rows_come_from_the_registry(ctx: AppContext) -> None:
    assert [r["month"] for r in series_rows(ctx, "new_mrr")] == MONTHS
    assert "new_sq" in series_rows(ctx, "mrr")[0]
    with pytest.raises(RevintelError, match="unknown series"):
        series_rows(ctx, "nps")

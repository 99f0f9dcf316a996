"""Each error kind answers with its HTTP status, and only ``api/errors.py`` knows the statuses."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.errors import ERROR_STATUSES, status_of
from revintel.api.routes import tables as tables_route
from revintel.core.errors import Problem, RevintelError, ValidationFailed

SRC = Path(__file__).resolve().parents[2] / "src" / "revintel"

# Every error kind in src/ and the status the API answers it with, by class name. A new kind
# fails test_every_error_kind_has_a_known_status until it is added here (and, if its status is
# not its base's, to ERROR_STATUSES).
EXPECTED: dict[str, int] = {
    "RevintelError": 400,
    "ConfigError": 400,
    "InvalidChurnConfig": 422,
    "InvalidHealthConfig": 422,
    "InvalidOption": 422,
    # retention campaigns
    "TemplateError": 422,
    "CapacityShortfall": 422,
    "InvalidFilterValue": 422,
    "InvalidHealthOption": 422,
    "InvalidMonth": 422,
    "InvalidChurnRequest": 422,
    "InvalidClvOption": 422,
    # issue 23, segments
    "RuleError": 422,
    "InvalidSegment": 422,
    "InvalidSurvivors": 422,
    "InvalidText": 422,
    # area 3, forecast
    "InvalidForecastOption": 422,
    "InvalidCloseProbabilityInput": 422,
    "OutsideTheData": 409,
    "MonthsOutsideTheData": 409,
    "MonthOutsideTheData": 409,
    "RfmDayOutsideTheData": 409,
    "UnknownFilterValue": 422,
    "NotFoundError": 404,
    "NoDataError": 409,
    "ValidationFailed": 422,
    "InvalidFileName": 400,
    "UntrustedModelFile": 422,
    "InvalidModelFile": 422,
    "ModelFileTooLarge": 413,
    "ModelStateError": 409,
    "ForecastInputError": 400,
    "NotEnoughHistoryError": 422,
    "BackendUnavailable": 503,
    "WarehouseUnavailable": 503,
    "WarehouseBusy": 503,
    # pipeline
    "InvalidPipelineConfig": 422,
    "MissingDealData": 409,
    "InvalidAttributionConfig": 422,
    "InvalidRetentionConfig": 422,  # retention settings (alerts, mail, webhooks, ...)
    "MissingJourneyData": 409,
    "InvalidJourneyOption": 422,
    "UnknownCustomer": 404,
    "UnknownModel": 422,
    "TouchTimesNeeded": 422,
    "InvalidPathFile": 422,
    # attribution: spend, ROI and budget
    "MissingSpendData": 409,
    "MissingJourneyMonths": 409,
    "InvalidBudgetRequest": 422,
    "InfeasibleBudget": 422,
    "InvalidMarkovOrder": 422,
    # attribution ingestion (tracking API)
    "InvalidEvents": 422,
    "IdempotencyKeyReused": 409,
    "InvalidPipelineOption": 422,
    "InvalidScenario": 422,
    "InvalidExpansionOption": 422,
    "ExpansionMonthOutsideTheData": 409,
    "MissingAccountData": 409,
    # deals (pipeline area 4): optimistic concurrency of PATCH /deals/{id}
    "EditConflict": 409,
    "PreconditionMissing": 428,
    # retention: risk trends and data quality
    "InvalidTrendRequest": 422,
    "InvalidQualityRequest": 422,
    # notes (retention): another author's note
    "NotAllowed": 403,
}


@functools.cache
def _error_kinds() -> dict[str, type[RevintelError]]:
    """Every subclass of RevintelError defined in src/, imported, by name."""
    import importlib
    import pkgutil

    import revintel

    for module in pkgutil.walk_packages(revintel.__path__, "revintel."):
        if not module.name.startswith(("revintel.ui", "revintel.__main__")):
            importlib.import_module(module.name)
    kinds: dict[str, type[RevintelError]] = {}
    pending: list[type[RevintelError]] = [RevintelError]
    while pending:
        kind = pending.pop()
        kinds[kind.__name__] = kind
        pending += kind.__subclasses__()
    return {name: kind for name, kind in kinds.items() if kind.__module__.startswith("revintel.")}


def _an_error(kind: type[RevintelError]) -> RevintelError:
    if issubclass(kind, ValidationFailed):
        return kind([Problem(file="customers.csv", message="bad", row=2, column="mrr")])
    return kind("something the user can fix")


def test_every_error_kind_has_a_known_status() -> None:
    kinds = _error_kinds()
    assert set(kinds) == set(EXPECTED), "add the new error kind to EXPECTED (and its status)"
    statuses = {name: status_of(_an_error(kind)) for name, kind in kinds.items()}
    assert statuses == EXPECTED


def test_options_the_request_gets_wrong_are_all_422() -> None:
    # A metric option and a health option are the same kind of mistake: the same status.
    from revintel.health.service import InvalidHealthOption
    from revintel.metrics.options import InvalidMetricOption

    assert status_of(InvalidMetricOption("by")) == status_of(InvalidHealthOption("sort")) == 422


def test_the_table_lists_the_most_specific_kind_first() -> None:
    kinds = [kind for kind, _ in ERROR_STATUSES]
    for i, earlier in enumerate(kinds):
        for later in kinds[i + 1 :]:
            assert not issubclass(later, earlier), f"{later.__name__} is hidden by {earlier}"
    assert kinds[-1] is RevintelError  # every kind gets a status


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_kind_answers_its_status_over_http(
    name: str, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = _an_error(_error_kinds()[name])

    def raise_it(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(tables_route, "table_catalog", raise_it)
    response = client.get("/api/v1/tables")
    assert response.status_code == EXPECTED[name], response.text
    assert response.json()["error"] == name


def test_no_error_class_outside_the_api_carries_a_status() -> None:
    carrying = []
    for path in SRC.rglob("*.py"):
        if path.is_relative_to(SRC / "api"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    targets = (
                        statement.targets
                        if isinstance(statement, ast.Assign)
                        else [statement.target]
                        if isinstance(statement, ast.AnnAssign)
                        else []
                    )
                    if any(getattr(t, "id", None) == "status_code" for t in targets):
                        carrying.append(f"{path.relative_to(SRC)}: {node.name}")
    assert carrying == []

"""The settings service: every face reads and writes the health and churn sections through it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from revintel.app import settings as app_settings
from revintel.app.settings import CHURN, HEALTH
from revintel.churn.config import ChurnConfig, InvalidChurnConfig
from revintel.core.config import Settings
from revintel.health.config import HealthConfig, InvalidHealthConfig
from tests.conftest import isolated_settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "revintel.toml"))
    return isolated_settings(tmp_path / "home")


def test_defaults_without_any_file(settings: Settings) -> None:
    assert app_settings.read(settings, HEALTH) == app_settings.InEffect(HealthConfig(), ())
    assert app_settings.load(settings, CHURN) == ChurnConfig()
    assert app_settings.home_file(settings, HEALTH) == settings.home / "health.toml"
    assert app_settings.home_file(settings, CHURN) == settings.home / "churn.toml"


def test_health_written_and_read_back(settings: Settings) -> None:
    weights = {"engagement": 50.0, "sentiment": 25.0, "support": 25.0}
    saved = app_settings.save(settings, HEALTH, {"weights": weights, "no_contact_days": 45})
    assert saved.weights.as_dict() == weights
    in_effect = app_settings.read(settings, HEALTH)
    assert in_effect.value == saved
    assert in_effect.value.no_contact_days == 45
    assert in_effect.sources == (settings.home / "health.toml",)


def test_churn_written_as_a_model_and_read_back(settings: Settings) -> None:
    app_settings.save(settings, CHURN, ChurnConfig(threshold=0.35, value_per_save=1200.0))
    loaded = app_settings.load(settings, CHURN)
    assert loaded.threshold == 0.35
    assert loaded.value_per_save == 1200.0


def test_update_changes_only_the_given_settings(settings: Settings) -> None:
    app_settings.save(settings, CHURN, ChurnConfig(threshold=0.35))
    new = app_settings.update(settings, CHURN, cost_per_action=80.0, success_rate=0.5)
    assert (new.threshold, new.cost_per_action, new.success_rate) == (0.35, 80.0, 0.5)
    assert app_settings.load(settings, CHURN) == new


@pytest.mark.parametrize(
    ("section", "good", "bad", "error", "field"),
    [
        (
            HEALTH,
            {"no_contact_days": 45},
            {"weights": {"engagement": 50.0, "sentiment": 30.0, "support": 30.0}},
            InvalidHealthConfig,
            "weights must sum to 100%",
        ),
        (CHURN, {"threshold": 0.35}, {"threshold": 1.5}, InvalidChurnConfig, "threshold"),
    ],
)
def test_an_invalid_value_is_refused_and_the_file_is_left_intact(
    settings: Settings, section, good, bad, error, field
) -> None:
    app_settings.save(settings, section, good)
    path = app_settings.home_file(settings, section)
    before = path.read_bytes()
    with pytest.raises(error, match=field):
        app_settings.save(settings, section, bad)
    with pytest.raises(error, match=field):
        app_settings.update(settings, section, **bad)
    assert path.read_bytes() == before
    assert tomllib.loads(before.decode())  # still a valid file
    assert app_settings.load(settings, section) == section.check(good)


def test_a_model_changed_in_place_is_validated_again(settings: Settings) -> None:
    config = HealthConfig()
    config.weights.engagement = 90.0  # the sum is now 150%: no validation on assignment
    with pytest.raises(InvalidHealthConfig, match="weights must sum to 100%"):
        app_settings.save(settings, HEALTH, config)
    assert not app_settings.home_file(settings, HEALTH).exists()


def test_reset_forgets_the_saved_settings(settings: Settings) -> None:
    app_settings.save(settings, HEALTH, {"no_contact_days": 45})
    app_settings.reset(settings, HEALTH)
    assert not app_settings.home_file(settings, HEALTH).exists()
    assert app_settings.load(settings, HEALTH) == HealthConfig()


def test_no_face_reads_or_writes_a_settings_file_itself() -> None:
    import ast

    import revintel

    file_functions = {
        "load_config", "config_sources", "save_config", "update_config", "reset_config",
        "health_file", "churn_file", "FILE",
    }  # fmt: skip
    root = Path(revintel.__file__).parent
    found = []
    for face in ("cli", "api", "ui"):
        for path in sorted((root / face).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ImportFrom) or node.module is None:
                    continue
                if node.module == "revintel.store.settings_files" or (
                    node.module in ("revintel.health.config", "revintel.churn.config")
                    and {a.name for a in node.names} & file_functions
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.module}")
    assert found == [], "faces use revintel.app.settings instead: " + ", ".join(found)

"""Settings: environment, revintel.toml, explicit overrides, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.core.config import load_settings
from revintel.core.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "absent.toml"))


def test_defaults_use_a_per_user_folder_and_sqlite() -> None:
    settings = load_settings()
    assert settings.home.name == "revintel"
    assert settings.warehouse_url is None
    assert settings.sqlalchemy_url == f"sqlite:///{settings.home / 'app.db'}"
    assert settings.warehouse_dir == settings.home / "warehouse"


def test_environment_overrides_toml_and_arguments_override_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    toml = tmp_path / "revintel.toml"
    toml.write_text(f'home = "{tmp_path / "from-toml"}"\nmax_problems = 7\n')
    monkeypatch.setenv("REVINTEL_CONFIG", str(toml))
    assert load_settings().home == tmp_path / "from-toml"
    assert load_settings().max_problems == 7
    monkeypatch.setenv("REVINTEL_HOME", str(tmp_path / "from-env"))
    assert load_settings().home == tmp_path / "from-env"
    assert load_settings(home=tmp_path / "from-arg").home == tmp_path / "from-arg"
    assert load_settings(home=None).home == tmp_path / "from-env"  # an unset CLI option


def test_home_expands_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVINTEL_HOME", "~/somewhere")
    assert load_settings().home == Path("~/somewhere").expanduser()


def test_postgres_database_url_uses_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVINTEL_DATABASE_URL", "postgres://u@db:5432/app")
    assert load_settings().sqlalchemy_url == "postgresql+psycopg://u@db:5432/app"


@pytest.mark.parametrize(
    "url", ["parquet://", "duckdb:///x.db", "postgres://u@h/db", "postgresql://h/db", "pyspark://"]
)
def test_supported_warehouse_urls(url: str) -> None:
    assert load_settings(warehouse_url=url).warehouse_url == url


def test_unsupported_warehouse_url_names_the_setting_and_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REVINTEL_WAREHOUSE_URL", "mysql://h/db")
    with pytest.raises(ConfigError, match=r"REVINTEL_WAREHOUSE_URL 'mysql://h/db'.*postgres://"):
        load_settings()

"""Credentials and server paths never reach a person (revintel.core.redact), and the settings that
hold URLs never echo a password when they are mistyped (revintel.core.config)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

from revintel.cli import main
from revintel.core.config import Settings, load_settings
from revintel.core.errors import ConfigError
from revintel.core.redact import public_text, redact_credentials


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres://u:s3cret@db:5432/w", "postgres://u:***@db:5432/w"),
        ("postgres//u:s3cret@db/w", "postgres//u:***@db/w"),  # mistyped scheme separator
        ("postgres:/u:s3cret@db/w", "postgres:***@db/w"),  # over-redacted, never leaked
        ("postgresql+psycopg://:s3cret@db/w", "postgresql+psycopg://:***@db/w"),
        ("postgres://u:p@ss:w/rd@db/w", "postgres://u:***@db/w"),  # '@', ':' and '/' inside
        ("'postgres://u:s3cret@db/w': bad", "'postgres://u:***@db/w': bad"),
        ("postgres://u@db/w?password=s3cret&sslmode=require", "postgres://u@db/w?password=***&sslmode=require"),
        ("host=db password=s3cret user=u", "host=db password=*** user=u"),
        ("postgres://u@db:5432/w", "postgres://u@db:5432/w"),  # nothing secret
        ("postgres://user@host:port/db, pyspark://", "postgres://user@host:port/db, pyspark://"),
    ],
)  # fmt: skip
def test_redact_credentials(text: str, expected: str) -> None:
    assert redact_credentials(text) == expected


def test_public_text_keeps_routes_and_hides_server_paths(tmp_path: Path) -> None:
    home = tmp_path / "home"
    upload = Path(tempfile.gettempdir()) / "revintel-upload-x1" / "2" / "customers.csv"
    text = (
        f"{home}/models/a.skops; {upload}; {sys.prefix}/lib/site.py; {Path.home()}/notes.txt; "
        "see GET /health or /api/v1/loads"
    )
    assert public_text(text, home) == (
        "<home>/models/a.skops; customers.csv; site.py; ~/notes.txt; "
        "see GET /health or /api/v1/loads"
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("REVINTEL_HOME", str(tmp_path / "home"))
    return monkeypatch


MISTYPED = [
    ("REVINTEL_WAREHOUSE_URL", "postgres//revintel:s3cret@db/w", "expected one of"),
    ("REVINTEL_WAREHOUSE_URL", "mysql://revintel:s3cret@db/w", "expected one of"),
    ("REVINTEL_WAREHOUSE_URL", "postgres://revintel:s3cret@db:5o32/w", "port"),
    ("REVINTEL_WAREHOUSE_URL", "POSTGRES://revintel:s3cret@db:99999/w", "port"),
    ("REVINTEL_DATABASE_URL", "postgres//revintel:s3cret@db/app", "expected a database URL"),
    ("REVINTEL_DATABASE_URL", "postgresql://revintel:s3cret@db:x/app", "port"),
]


@pytest.mark.parametrize(("variable", "url", "says"), MISTYPED)
def test_a_mistyped_url_names_the_setting_but_not_the_password(
    clean_env: pytest.MonkeyPatch, variable: str, url: str, says: str
) -> None:
    clean_env.setenv(variable, url)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert variable in message and says in message and "revintel:***@db" in message
    assert "s3cret" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(("variable", "url", "says"), MISTYPED[:1] + MISTYPED[4:5])
def test_the_command_line_prints_a_mistyped_url_without_its_password(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, url: str,
    says: str,
) -> None:  # fmt: skip
    clean_env.setenv(variable, url)
    clean_env.setattr(sys, "argv", ["revintel", "info"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert variable in err and says in err
    assert "s3cret" not in err


def test_well_formed_urls_are_kept(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("REVINTEL_WAREHOUSE_URL", "Postgres://u:pw@db:5432/w")
    clean_env.setenv("REVINTEL_DATABASE_URL", "postgresql+psycopg://u:pw@db/app")
    settings = load_settings()
    assert settings.warehouse_url == "postgres://u:pw@db:5432/w"  # scheme lower-cased
    assert settings.database_url == "postgresql+psycopg://u:pw@db/app"


@pytest.mark.parametrize("url", ["pyspark://", "pyspark://local[2]", "pyspark://local[*]"])
def test_a_spark_master_is_not_read_as_a_host_and_port(url: str) -> None:
    assert Settings(warehouse_url=url).warehouse_url == url

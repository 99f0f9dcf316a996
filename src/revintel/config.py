"""One settings object, from ``REVINTEL_*`` environment variables and an optional ``revintel.toml``.

Precedence (highest first): explicit arguments (such as the CLI's ``--home``), environment
variables, ``revintel.toml`` (in the working directory, or the file named by
``REVINTEL_CONFIG``), defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from revintel.errors import ConfigError

WAREHOUSE_SCHEMES = ("parquet", "duckdb", "postgres", "postgresql", "pyspark")


def _toml_file() -> Path:
    return Path(os.environ.get("REVINTEL_CONFIG", "revintel.toml"))


class Settings(BaseSettings):
    """revintel's settings. Every field reads ``REVINTEL_<FIELD>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="REVINTEL_", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path(user_data_dir("revintel", appauthor=False)),
        description="Data folder: the Parquet warehouse, app.db, models, artefacts.",
    )
    warehouse_url: str | None = Field(
        default=None,
        description="Analytic warehouse. Unset: Parquet folder under home read through in-memory "
        "DuckDB. Else duckdb:///file.db, postgres://user@host:port/db or pyspark://",
    )
    database_url: str | None = Field(
        default=None,
        description="App state database (SQLAlchemy URL). Unset: sqlite under home/app.db.",
    )
    max_problems: int = Field(default=50, ge=1, description="Problems listed per failed load.")
    delinquency_days: int = Field(
        default=30,
        ge=0,
        description="Days past due after which an unpaid invoice takes its subscription out of "
        "MRR (docs/metrics.md, failed payments).",
    )

    # -- The API's edge: hosts, origins, request sizes and timeouts (docs/operations.md) --------

    # -- Warehouse and app-store connections: pools, lock timeouts (docs/operations.md) ---------
    warehouse_pool_size: int = Field(
        default=10,
        ge=1,
        description="Most connections one process holds to a PostgreSQL warehouse (each API "
        "request and dashboard run borrows one while it is open).",
    )
    warehouse_pool_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for a pooled PostgreSQL warehouse connection before "
        "a 503 that says whether the server is down or every connection busy.",
    )
    warehouse_load_connections: int = Field(
        default=2,
        ge=1,
        description="Connections a PostgreSQL warehouse load uses to COPY its tables in parallel "
        "(besides its pooled one).",
    )
    warehouse_lock_timeout: float = Field(
        default=2.0,
        gt=0,
        description="Seconds the swap at the end of a PostgreSQL load waits for a table that a "
        "running query holds before giving way to the queries queued behind it and retrying.",
    )
    warehouse_lock_retries: int = Field(
        default=3,
        ge=0,
        description="Retries of a PostgreSQL load's swap (after 0.5 s, 1 s, 2 s, ...) before the "
        "load fails with the previous data unchanged.",
    )
    database_pool_size: int = Field(
        default=5,
        ge=1,
        description="Connections one process keeps to a PostgreSQL app database.",
    )
    database_pool_overflow: int = Field(
        default=5,
        ge=0,
        description="Extra app-database connections opened under load beyond database_pool_size "
        "(closed when returned).",
    )
    database_pool_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a request waits for a pooled app-database connection.",
    )

    # -- Uploaded files and model bundles: sizes and archive checks (docs/operations.md) --------

    @field_validator("home", mode="before")
    @classmethod
    def _expand_home(cls, value: Any) -> Any:
        return Path(value).expanduser() if isinstance(value, str | Path) else value

    @field_validator("warehouse_url")
    @classmethod
    def _check_warehouse_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        scheme = value.split("://", 1)[0].lower()
        if "://" not in value or scheme not in WAREHOUSE_SCHEMES:
            raise ValueError(
                f"REVINTEL_WAREHOUSE_URL {value!r}: expected one of "
                "parquet://, duckdb:///path/file.db, postgres://user@host:port/db, pyspark://"
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_toml_file()),
        )

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Accept the libpq style URL users copy from their provider.
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        return f"sqlite:///{self.home / 'app.db'}"


def load_settings(**overrides: Any) -> Settings:
    """Build settings; ``overrides`` with a None value are ignored (an unset CLI option)."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise ConfigError(str(exc)) from exc

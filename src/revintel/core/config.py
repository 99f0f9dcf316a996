"""One settings object, from ``REVINTEL_*`` environment variables and an optional ``revintel.toml``.

Precedence (highest first): explicit arguments (such as the CLI's ``--home``), environment
variables, ``revintel.toml`` (in the working directory, or the file named by
``REVINTEL_CONFIG``), defaults.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from platformdirs import user_data_dir
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from revintel.core.errors import ConfigError
from revintel.core.redact import redact_credentials

WAREHOUSE_SCHEMES = ("parquet", "duckdb", "postgres", "postgresql", "pyspark")
MIB = 1024 * 1024


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
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost", "::1"],
        description="Host names the API answers (its Host header, port ignored); `revintel serve` "
        "adds the address it binds to. `*.example.com` matches subdomains; `*` turns the check "
        "off (only behind a proxy that checks Host). Comma-separated in the environment.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins (scheme://host[:port]) besides the API's own that may change "
        "data and read answers through CORS. Comma-separated in the environment.",
    )
    max_json_body_bytes: int = Field(
        default=1 * MIB,
        ge=1,
        description="Largest request body other than a multipart upload (JSON); larger: 413.",
    )
    max_upload_body_bytes: int = Field(
        default=100 * MIB,
        ge=1,
        description="Largest multipart/form-data request body (all files of one upload); "
        "larger: 413.",
    )
    body_read_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        description="Longest wait for the next part of a request body; then 408 and the "
        "connection is closed.",
    )
    head_read_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A connection that has not sent a whole request line and headers this long "
        "after it opened (or after it began its next request) is closed.",
    )
    keep_alive_timeout_seconds: int = Field(
        default=5, ge=1, description="An idle keep-alive connection is closed after this long."
    )
    shutdown_grace_seconds: float = Field(
        default=3.0,
        ge=0,
        le=30,
        description="On SIGTERM or Ctrl+C, in-flight requests get this long to finish before they "
        "are cancelled; the process is gone at most 1 s later.",
    )
    access_log_values: bool = Field(
        default=False,
        description="Write query-string values and id path parameters (account_id, customer_id) "
        "to the access log instead of `…` and `{account_id}`.",
    )

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
    max_cell_bytes: int = Field(
        default=64 << 10,
        ge=1024,
        description="Largest value (one cell of a CSV or Parquet file) a load accepts, in bytes; "
        "a longer one is a problem naming its file, row and column.",
    )
    model_upload_max_bytes: int = Field(
        default=64 * 1024**2,
        ge=1,
        description="Largest model file (.skops) that `models import` accepts, in bytes (64 MiB); "
        "a larger file is refused with 413 before it is opened.",
    )
    model_bundle_max_expanded_bytes: int = Field(
        default=256 * 1024**2,
        ge=1,
        description="Largest total size a model file's archive may expand to, in bytes (256 "
        "MiB), checked from its directory before any member is read (413).",
    )
    model_bundle_max_members: int = Field(
        default=10_000,
        ge=1,
        description="Most files a model file's archive may hold (413); a trained model holds "
        "about 300.",
    )
    model_bundle_max_ratio: float = Field(
        default=100.0,
        ge=1,
        description="Largest compression ratio (expanded / compressed) of a model file and of "
        "any member over 1 MiB (422: a zip bomb); skops stores members uncompressed (ratio 1).",
    )

    @field_validator("home", mode="before")
    @classmethod
    def _expand_home(cls, value: Any) -> Any:
        return Path(value).expanduser() if isinstance(value, str | Path) else value

    @field_validator("warehouse_url")
    @classmethod
    def _check_warehouse_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        scheme, separator, rest = value.partition("://")
        if not separator or scheme.lower() not in WAREHOUSE_SCHEMES:
            raise ValueError(
                f"REVINTEL_WAREHOUSE_URL {redact_credentials(value)!r}: expected one of "
                "parquet://, duckdb:///path/file.db, postgres://user@host:port/db, pyspark://"
            )
        value = f"{scheme.lower()}://{rest}"
        _check_port("REVINTEL_WAREHOUSE_URL", value)
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value):
            raise ValueError(
                f"REVINTEL_DATABASE_URL {redact_credentials(value)!r}: expected a database URL "
                "such as postgres://user@host:5432/db or sqlite:///path/app.db"
            )
        _check_port("REVINTEL_DATABASE_URL", value)
        return value

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        """A comma-separated string (or a JSON list) from the environment, a list from TOML."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        hosts = []
        for entry in value:
            host = entry.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
            if not host or "/" in host or host.count(":") == 1 or "*" in host[1:]:
                raise ValueError(
                    f"REVINTEL_ALLOWED_HOSTS entry {entry!r}: expected a host name or address "
                    "without scheme or port (api.example.com, 10.0.0.5, ::1), *.example.com, or *"
                )
            hosts.append(host)
        return hosts

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        origins = []
        for entry in value:
            origin = normalise_origin(entry)
            if origin is None:
                raise ValueError(
                    f"REVINTEL_ALLOWED_ORIGINS entry {entry!r}: expected an origin "
                    "scheme://host[:port] such as https://crm.example.com (no path; neither * nor "
                    "null, which would let any page change data)"
                )
            origins.append(origin)
        return origins

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


def normalise_origin(text: str) -> str | None:
    """``scheme://host[:port]`` lower-cased, without a default port or a trailing slash; None when
    ``text`` is not an http(s) origin (a path, ``*``, ``null``)."""
    try:
        parts = urlsplit(text.strip().rstrip("/"))
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("http", "https") or not host or parts.path or parts.query or parts.fragment:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == {"http": 80, "https": 443}[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _check_port(setting: str, url: str) -> None:
    if url.lower().startswith("pyspark://"):  # a Spark master (local[4]), not a host and port
        return
    try:
        urlsplit(url).port  # noqa: B018 (parsing the port is the check)
    except ValueError as exc:
        raise ValueError(
            f"{setting} {redact_credentials(url)!r}: the port is not a number from 0 to 65535"
        ) from exc


def _settings_problems(exc: ValidationError) -> str:
    """One line per invalid setting, naming it; values pass through :func:`redact_credentials`."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        setting = f"REVINTEL_{str(error['loc'][0]).upper()}" if error["loc"] else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(message if message.startswith("REVINTEL_") else f"{setting}: {message}")
    return redact_credentials("Invalid settings: " + "; ".join(lines))


def load_settings(**overrides: Any) -> Settings:
    """Build settings; ``overrides`` with a None value are ignored (an unset CLI option)."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        # Not chained: pydantic's own message repeats each input value, passwords included.
        raise ConfigError(_settings_problems(exc)) from None
    except ValueError as exc:
        raise ConfigError(redact_credentials(str(exc))) from None

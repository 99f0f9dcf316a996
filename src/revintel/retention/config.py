"""Retention settings: segments, campaigns, alerts, mail, webhooks, scheduled jobs and the
executive report (docs/retention.md).

Overridden in two places, merged in this order (later wins): the ``[retention]`` table of
``revintel.toml``, then ``REVINTEL_HOME/retention.toml`` (written through
:mod:`revintel.app.settings`). Every value is validated; an invalid file or request raises
:class:`InvalidRetentionConfig` naming the field and what was expected.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from revintel.core.config import Settings
from revintel.core.errors import ConfigError
from revintel.store.settings_files import SettingsFile, problems_of, toml_document

RETENTION_FILE = "retention.toml"


class InvalidRetentionConfig(ConfigError):
    """A retention setting is invalid."""


# -- segments ------------------------------------------------------------------------------------
class SegmentSettings(BaseModel):
    """The segment builder and discovery (docs/retention.md, Segments)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    max_clusters: int = Field(default=8, ge=2, le=20, description="Discovery tries k = 2..this.")
    discovery_seed: int = Field(default=42, description="Random seed of the clustering.")


# -- end segments --------------------------------------------------------------------------------
# -- campaigns -----------------------------------------------------------------------------------
class CampaignSettings(BaseModel):
    """Campaigns: the holdout control and measuring impact (docs/retention.md, Campaigns)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    holdout_share: float = Field(
        default=0.15,
        ge=0.05,
        le=0.5,
        description="Share of a campaign's customers held out (per risk tier), 0.05..0.5.",
    )
    owner_capacity: int = Field(
        default=50, ge=1, le=100_000, description="Round-robin: most customers per owner."
    )
    outcome_months: int = Field(
        default=3, ge=1, le=24, description="A campaign's churn outcome is read this long after."
    )


# -- end campaigns -------------------------------------------------------------------------------
# -- alerts, mail and webhooks -------------------------------------------------------------------
class MailSettings(BaseModel):
    """Email over SMTP (docs/retention.md, Alerts)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    host: str | None = Field(default=None, description="SMTP server; no mail is sent without one.")
    port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    security: Literal["none", "starttls", "tls"] = Field(
        default="starttls", description="none, starttls (port 587) or tls (port 465)."
    )
    username: str | None = Field(default=None, description="SMTP user name, if it asks for one.")
    password: str | None = Field(default=None, description="SMTP password.")
    sender: str = Field(default="revintel@localhost", description="From address.")
    timeout_seconds: float = Field(default=10.0, gt=0, le=300, description="Connect timeout.")
    ca_file: str | None = Field(
        default=None,
        description="A CA bundle (PEM) to trust besides the system's, e.g. a company CA.",
    )
    retries: int = Field(
        default=2, ge=0, le=10, description="Retries after a connection failure or a 4xx reply."
    )
    backoff_seconds: float = Field(
        default=1.0, ge=0, le=600, description="First retry delay; it doubles each retry."
    )


class WebhookSettings(BaseModel):
    """Webhook delivery (docs/retention.md, Alerts)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    signing_secret: str | None = Field(
        default=None, description="HMAC-SHA256 key for the X-Revintel-Signature header."
    )
    retries: int = Field(default=3, ge=0, le=10, description="Retries after a failed delivery.")
    backoff_seconds: float = Field(
        default=1.0, ge=0, le=600, description="First retry delay; it doubles each retry."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=300, description="Request timeout.")
    allow_private: list[str] = Field(
        default_factory=list,
        description="Private networks (CIDR) webhooks may reach; loopback is always allowed.",
    )


class AlertSettings(BaseModel):
    """Alert evaluation and digests (docs/retention.md, Alerts)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    digest_recipients: list[str] = Field(
        default_factory=list, description="Who receives the daily and weekly digests."
    )
    digest_webhook: str | None = Field(
        default=None, description="A webhook (http(s) URL) that also receives the digests."
    )
    digest_webhook_style: Literal["generic", "slack"] = Field(
        default="generic", description="The digest webhook's payload: generic JSON or Slack."
    )
    dashboard_url: str | None = Field(
        default=None, description="The dashboard's address, linked from alert messages."
    )


# -- end alerts ----------------------------------------------------------------------------------
# -- jobs ----------------------------------------------------------------------------------------
class JobSettings(BaseModel):
    """The scheduler (docs/retention.md, Scheduled jobs): one crontab line per job."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    schedules: dict[str, str] = Field(
        default_factory=dict,
        description="Job name → crontab schedule (minute hour day month weekday), UTC, or 'off'; "
        "a job not named keeps its default schedule.",
    )
    export_folder: str | None = Field(
        default=None, description="Folder the scheduled CSV exports are written to."
    )
    export_webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        description="Also (or instead) POST each scheduled export to this http(s) URL.",
    )
    export_webhook_style: Literal["generic", "slack"] = Field(
        default="generic", description="Payload of the export webhook: generic JSON or Slack."
    )
    export_segment_id: int | None = Field(
        default=None,
        ge=1,
        description="Export this saved segment's customers instead of the High risk tier.",
    )
    report_recipients: list[str] = Field(
        default_factory=list, description="Who receives the monthly executive report."
    )
    lock_seconds: int = Field(
        default=900,
        ge=30,
        le=86_400,
        description="Lease of a job's run lock, renewed every third of it while the run "
        "lasts; a crashed run's lock frees itself after this.",
    )

    @field_validator("schedules")
    @classmethod
    def _crontabs(cls, value: dict[str, str]) -> dict[str, str]:
        from revintel.retention.schedule import check_schedules

        return check_schedules(value)

    @field_validator("export_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("http://", "https://")):
            raise ValueError(f"{value!r}: expected an http:// or https:// URL")
        return value


# -- end jobs ------------------------------------------------------------------------------------
# -- report --------------------------------------------------------------------------------------
class ReportSettings(BaseModel):
    """The executive report (docs/retention.md, Executive report)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    company_name: str = Field(default="Your company", description="Shown on the cover.")
    top_accounts: int = Field(default=10, ge=1, le=100, description="At-risk accounts listed.")


# -- end report ----------------------------------------------------------------------------------


class RetentionConfig(BaseModel):
    """Every retention setting, one nested model per area."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    segments: SegmentSettings = Field(default_factory=SegmentSettings)
    campaigns: CampaignSettings = Field(default_factory=CampaignSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)


def validate_config(data: dict[str, Any], source: str = "retention settings") -> RetentionConfig:
    """A :class:`RetentionConfig` from plain data; :class:`InvalidRetentionConfig` naming each
    problem."""
    try:
        return RetentionConfig.model_validate(data)
    except ValidationError as exc:
        raise InvalidRetentionConfig(f"{source}: " + problems_of(exc, "retention")) from exc


FILE: SettingsFile[RetentionConfig] = SettingsFile(
    "retention", RETENTION_FILE, InvalidRetentionConfig
)


def load_config(settings: Settings) -> RetentionConfig:
    """Defaults, then ``revintel.toml`` ``[retention]``, then the home's ``retention.toml``."""
    return FILE.load(settings, validate_config)[0]


def to_toml(config: RetentionConfig) -> str:
    """``config`` as TOML: one table per nested model."""
    return toml_document(
        "revintel retention settings (docs/retention.md); written by the settings API.",
        config.model_dump(mode="json"),
    )

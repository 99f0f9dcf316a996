"""The settings service: how every face reads and writes the capabilities' settings sections.

Each section (``[health]``, ``[churn]``) is a table of ``revintel.toml`` overridden by a file in
the home (``health.toml``, ``churn.toml``); :mod:`revintel.store.settings_files` merges, locks and
writes the files atomically, and the capability's own model validates them
(:mod:`revintel.health.config`, :mod:`revintel.churn.config`). A value is validated before
anything is written, so a refused value leaves the saved file as it was.

>>> in_effect = read(ctx.settings, HEALTH)
>>> in_effect.value.weights, in_effect.sources
>>> save(ctx.settings, HEALTH, {"weights": {"engagement": 50, "sentiment": 25, "support": 25}})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from revintel.attribution import config as attribution_config
from revintel.churn import config as churn_config
from revintel.core.config import Settings
from revintel.health import config as health_config
from revintel.pipeline import config as pipeline_config
from revintel.retention import config as retention_config
from revintel.store.settings_files import SettingsFile, Validate

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Section(Generic[T]):
    """One settings section: its file, its validation and how it is written as TOML."""

    name: str
    file: SettingsFile[T]
    validate: Validate[T]
    render: Callable[[T], str]

    def check(self, value: T | Mapping[str, Any]) -> T:
        """``value`` validated (a model is checked again: it may have been changed in place)."""
        data = value.model_dump() if isinstance(value, BaseModel) else dict(value)
        return self.validate(data, f"{self.name} settings")


@dataclass(frozen=True, slots=True)
class InEffect(Generic[T]):
    """The settings in effect and the files they come from, in merge order."""

    value: T
    sources: tuple[Path, ...]


HEALTH: Section[health_config.HealthConfig] = Section(
    "health", health_config.FILE, health_config.validate_config, health_config.to_toml
)
CHURN: Section[churn_config.ChurnConfig] = Section(
    "churn", churn_config.FILE, churn_config.validate_config, churn_config.to_toml
)
PIPELINE: Section[pipeline_config.PipelineConfig] = Section(
    "pipeline", pipeline_config.FILE, pipeline_config.validate_config, pipeline_config.to_toml
)
ATTRIBUTION: Section[attribution_config.AttributionConfig] = Section(
    "attribution",
    attribution_config.FILE,
    attribution_config.validate_config,
    attribution_config.to_toml,
)
RETENTION: Section[retention_config.RetentionConfig] = Section(
    "retention", retention_config.FILE, retention_config.validate_config, retention_config.to_toml
)


def read(settings: Settings, section: Section[T]) -> InEffect[T]:
    """The section's settings in effect: defaults, then ``revintel.toml``, then the home file
    (or its last good copy when the home file is bad)."""
    value, sources = section.file.load(settings, section.validate)
    return InEffect(value, tuple(sources))


def load(settings: Settings, section: Section[T]) -> T:
    """The section's settings in effect (:func:`read` without the sources)."""
    return read(settings, section).value


def home_file(settings: Settings, section: Section[T]) -> Path:
    """The file a save writes (``REVINTEL_HOME/<section>.toml``)."""
    return section.file.home_file(settings)


def save(settings: Settings, section: Section[T], value: T | Mapping[str, Any]) -> T:
    """Validate ``value`` (the whole section) and write it to the home file; returns it.

    The section's error (:class:`~revintel.health.config.InvalidHealthConfig`,
    :class:`~revintel.churn.config.InvalidChurnConfig`) names each bad field; nothing is written
    then.
    """
    checked = section.check(value)
    section.file.save(settings, section.render(checked))
    return checked


def update(settings: Settings, section: Section[T], **changes: Any) -> T:
    """Change some settings of the section and save them, holding the section's lock from the
    read to the write so that a change saved meanwhile (another request, the dashboard, the CLI)
    is not lost. Validated as :func:`save`; returns the new settings."""

    def change(current: T) -> T:
        return section.check({**current.model_dump(), **changes})

    return section.file.update(settings, section.validate, change, section.render)


def reset(settings: Settings, section: Section[T]) -> None:
    """Forget the saved settings (the defaults and ``revintel.toml`` apply again)."""
    section.file.reset(settings)

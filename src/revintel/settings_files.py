"""Settings kept in TOML: a ``[section]`` of ``revintel.toml`` overridden by a file in the home.

Health (``health.toml``) and churn (``churn.toml``) settings share this mechanism: defaults, then
the project file's section, then the home file, merged table by table; saved whole with an atomic
rename. Each capability validates the merged data itself and raises its own error class.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revintel.config import Settings, _toml_file
from revintel.errors import ConfigError


def deep_merge(
    base: dict[str, Any], override: dict[str, Any], whole: Collection[str] = ()
) -> dict[str, Any]:
    """``override`` on ``base``, table by table; keys in ``whole`` are replaced, not merged."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key not in whole:
            merged[key] = deep_merge(merged[key], value, whole)
        else:
            merged[key] = value
    return merged


def toml_value(value: Any) -> str:
    """One TOML value: booleans, numbers, strings and lists of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


@dataclass(frozen=True)
class SettingsFile:
    """Where one capability's settings live and how bad files are reported."""

    section: str  # the table of revintel.toml, e.g. "churn"
    filename: str  # the file under REVINTEL_HOME, e.g. "churn.toml"
    error: type[ConfigError]
    whole_tables: tuple[str, ...] = field(default=())  # tables replaced, not merged

    def read(self, path: Path) -> dict[str, Any]:
        try:
            with path.open("rb") as handle:
                return tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise self.error(f"{path}: not valid TOML ({exc})") from exc
        except OSError as exc:
            raise self.error(f"{path}: cannot be read ({exc.strerror})") from exc

    def home_file(self, settings: Settings) -> Path:
        return settings.home / self.filename

    def sources(self, settings: Settings) -> list[Path]:
        """The files that override the defaults, in merge order (only those that exist)."""
        sources = []
        project = _toml_file()
        if project.is_file() and self.section in self.read(project):
            sources.append(project)
        if self.home_file(settings).is_file():
            sources.append(self.home_file(settings))
        return sources

    def merged(self, settings: Settings) -> tuple[dict[str, Any], list[Path]]:
        """The merged settings data (unvalidated) and the files it came from."""
        data: dict[str, Any] = {}
        sources = self.sources(settings)
        for path in sources:
            table = self.read(path)
            section = table[self.section] if path == _toml_file() else table
            if not isinstance(section, dict):
                raise self.error(f"{path}: [{self.section}] must be a table")
            data = deep_merge(data, section, self.whole_tables)
        return data, sources

    def save(self, settings: Settings, text: str) -> Path:
        """Write ``text`` to the home file (atomic rename); returns the path."""
        path = self.home_file(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
        return path

    def reset(self, settings: Settings) -> None:
        """Forget the saved settings (the defaults and ``revintel.toml`` apply again)."""
        self.home_file(settings).unlink(missing_ok=True)

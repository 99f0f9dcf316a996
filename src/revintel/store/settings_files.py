"""Settings kept in TOML: a ``[section]`` of ``revintel.toml`` overridden by a file in the home.

Health (``health.toml``) and churn (``churn.toml``) settings share this mechanism: defaults, then
the project file's section, then the home file, merged table by table. Each capability validates
the merged data itself and raises its own error class.

The API, the dashboard and the CLI are separate processes that may write the same home file at
once, so every write (docs/operations.md, Settings files):

* holds the file's lock: a lock per file within the process (threads) and an OS lock
  (``fcntl.flock``) on ``<file>.lock`` beside it (processes); a read-modify-write
  (:meth:`SettingsFile.update`) holds it from the read to the write, so no change is lost;
* is atomic: the text goes to a temporary file with a unique name in the same folder, is flushed
  to disk (``fsync``) and renamed over the file (``os.replace``), so a reader sees the old file or
  the new one, never part of one;
* leaves a copy, ``<file>.last-good``, of what it wrote.

A home file that cannot be read, is not valid TOML or does not validate is reported (a warning
naming the file and what is wrong, logged once per version of the file) and its last good copy is
used instead; without a last good copy the error, naming the file, is raised. The next successful
write replaces the bad file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import tomllib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from revintel.core.config import Settings, _toml_file
from revintel.core.errors import ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: only the in-process lock
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
Validate = Callable[[dict[str, Any], str], T]

_LOG = logging.getLogger(__name__)
LAST_GOOD_SUFFIX = ".last-good"
LOCK_SUFFIX = ".lock"


def problems_of(exc: ValidationError, root: str) -> str:
    """A settings model's validation errors as one line: ``field.path: message; …`` (``root``
    names an error of the whole model)."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or root
        problems.append(f"{where}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(problems)


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


def toml_document(header: str, data: Mapping[str, Any]) -> str:
    """A settings model's dump as TOML: a ``# header`` line, the scalars, then one table per
    mapping (a mapping inside a table as an inline table). TOML has no null: a None is left out."""
    lines = [f"# {header}"]
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif value is not None:
            lines.append(f"{key} = {toml_value(value)}")
    for name, table in tables:
        lines.append("")
        lines.append(f"[{name}]")
        for key, value in table.items():
            if value is None:
                continue
            if isinstance(value, Mapping):
                pairs = (f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items())
                text = "{ " + ", ".join(pairs) + " }"
            else:
                text = toml_value(value)
            lines.append(f"{json.dumps(key)} = {text}")
    return "\n".join(lines) + "\n"


# -- locking ---------------------------------------------------------------------------------------


class _FileLock:
    """Exclusive, re-entrant within a thread: a process lock, then ``flock`` on the lock file.

    ``flock`` locks belong to an open file, so a second ``open`` + ``flock`` by the same process
    would wait for itself: only the outermost acquire opens and locks the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._thread_lock:
            if self._depth == 0:
                self._fd = self._lock_os()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fd, self._fd = self._fd, None
                    os.close(fd)  # closing the file releases the flock

    def _lock_os(self) -> int | None:
        if fcntl is None:  # pragma: no cover
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd


_LOCKS: dict[Path, _FileLock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> _FileLock:
    key = path.absolute()
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = _FileLock(key)
        return lock


# -- writing ---------------------------------------------------------------------------------------


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a uniquely named temporary file in the same folder,
    flushed to disk and renamed over ``path``; on any failure ``path`` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not possible everywhere (and not needed for correctness).
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- one settings file -----------------------------------------------------------------------------

_WARNED: set[tuple[str, int, int]] = set()
_WARNED_GUARD = threading.Lock()


def _warn_once(path: Path, message: str) -> None:
    """Log ``message`` once per version (mtime, size) of ``path``: not on every request."""
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = (str(path), 0, 0)
    with _WARNED_GUARD:
        if key in _WARNED:
            return
        _WARNED.add(key)
    _LOG.warning(message)


@dataclass(frozen=True)
class SettingsFile(Generic[T]):
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
        except UnicodeDecodeError as exc:
            raise self.error(f"{path}: not valid TOML (not UTF-8 text: {exc.reason})") from exc
        except OSError as exc:
            raise self.error(f"{path}: cannot be read ({exc.strerror})") from exc

    def home_file(self, settings: Settings) -> Path:
        return settings.home / self.filename

    def last_good_file(self, settings: Settings) -> Path:
        """The copy of the last settings written, used when the home file is bad."""
        return settings.home / f"{self.filename}{LAST_GOOD_SUFFIX}"

    def lock_file(self, settings: Settings) -> Path:
        return settings.home / f"{self.filename}{LOCK_SUFFIX}"

    @contextlib.contextmanager
    def locked(self, settings: Settings) -> Iterator[None]:
        """Hold the file's lock (threads of this process and other processes wait)."""
        with _lock_for(self.lock_file(settings)).held():
            yield

    def sources(self, settings: Settings) -> list[Path]:
        """The files that override the defaults, in merge order (only those that exist)."""
        sources = []
        project = _toml_file()
        if project.is_file() and self.section in self.read(project):
            sources.append(project)
        if self.home_file(settings).is_file():
            sources.append(self.home_file(settings))
        return sources

    def _merge(self, sources: list[Path]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        project = _toml_file()
        for path in sources:
            table = self.read(path)
            section = table[self.section] if path == project else table
            if not isinstance(section, dict):
                raise self.error(f"{path}: [{self.section}] must be a table")
            data = deep_merge(data, section, self.whole_tables)
        return data

    def merged(self, settings: Settings) -> tuple[dict[str, Any], list[Path]]:
        """The merged settings data (unvalidated) and the files it came from."""
        sources = self.sources(settings)
        return self._merge(sources), sources

    def load(self, settings: Settings, validate: Validate[T]) -> tuple[T, list[Path]]:
        """The validated settings and the files they came from.

        When the home file is bad and its last good copy is not, the copy is used (and listed in
        the sources instead of the home file) and a warning names the bad file and the problem.
        """
        sources = self.sources(settings)
        try:
            return validate(self._merge(sources), self._describe(sources)), sources
        except self.error as problem:
            home, backup = self.home_file(settings), self.last_good_file(settings)
            if home not in sources or not backup.is_file():
                raise
            fallback = [backup if path == home else path for path in sources]
            try:
                value = validate(self._merge(fallback), self._describe(fallback))
            except self.error:
                raise problem from None
            _warn_once(
                home,
                f"{problem} -- using the last good copy {backup} until the settings are saved "
                f"again (fix or delete {home} to stop this warning)",
            )
            return value, fallback

    def save(self, settings: Settings, text: str) -> Path:
        """Write ``text`` to the home file and its last good copy, atomically, holding the lock;
        returns the path."""
        path = self.home_file(settings)
        with self.locked(settings):
            self._sweep_temporary(path)
            write_atomic(path, text)
            write_atomic(self.last_good_file(settings), text)
        return path

    def update(
        self,
        settings: Settings,
        validate: Validate[T],
        change: Callable[[T], T],
        render: Callable[[T], str],
    ) -> T:
        """Read the settings, apply ``change`` and save the result, holding the lock throughout
        so that a change made meanwhile by another thread or process is not lost."""
        with self.locked(settings):
            current, _ = self.load(settings, validate)
            new = change(current)
            self.save(settings, render(new))
            return new

    def reset(self, settings: Settings) -> None:
        """Forget the saved settings (the defaults and ``revintel.toml`` apply again)."""
        with self.locked(settings):
            self.home_file(settings).unlink(missing_ok=True)
            self.last_good_file(settings).unlink(missing_ok=True)

    def _sweep_temporary(self, path: Path) -> None:
        # Every writer holds the lock, so a temporary file seen now belongs to a writer that died.
        # (".churn.toml.*.tmp" covers the last good copy's ".churn.toml.last-good.*.tmp" too.)
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)

    def _describe(self, sources: list[Path]) -> str:
        return " + ".join(str(p) for p in sources) or f"{self.section} settings"

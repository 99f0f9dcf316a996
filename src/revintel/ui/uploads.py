"""The upload form's workflow: save the files, validate them, and load them once they are valid."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from revintel.app.context import AppContext
from revintel.app.ingest import (
    LoadResult,
    ValidationReport,
    load_mapped,
    load_paths,
    validate_mapped,
    validate_paths,
)
from revintel.core.errors import ValidationFailed
from revintel.core.vocabulary import LoadMode
from revintel.data.names import plain_name

UPLOAD_PREFIX = "revintel-dashboard-upload-"
EXPORT = "export"  # the subfolder a CRM export's files are saved to, beside its mapping
ABANDONED_AFTER = 24 * 3600  # seconds; a validated upload nobody loaded (its session ended)


@dataclass
class PendingUpload:
    """Files saved and validated, waiting for the user to load them."""

    folder: Path
    paths: list[Path]
    table: str | None
    mode: LoadMode
    report: ValidationReport
    mapping: Path | None = None  # a CRM export's mapping file: the files are loaded through it

    def display_name(self, text: str) -> str:
        """``text`` without the temporary folder, so it names the file the user uploaded."""
        return text.replace(f"{self.folder}/{EXPORT}/", "").replace(f"{self.folder}/", "")

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def save_uploads(files: Iterable[tuple[str, bytes]], folder: Path) -> list[Path]:
    """Write each ``(name, content)`` under its own name (the loader reads the table from it);
    :class:`~revintel.data.names.InvalidFileName` for a name that cannot be one, before anything
    is written."""
    named = [(plain_name(name), content) for name, content in files]
    paths: list[Path] = []
    for index, (filename, content) in enumerate(named, start=1):
        path = folder / filename
        if path.exists():  # the same name twice: keep both
            path = folder / str(index) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        paths.append(path)
    return paths


def validate_uploads(
    ctx: AppContext,
    files: Iterable[tuple[str, bytes]],
    *,
    table: str | None = None,
    mode: LoadMode = "replace",
    mapping: tuple[str, bytes] | None = None,
) -> PendingUpload:
    """Save the files to a new temporary folder and validate them as a load would (no write).

    With ``mapping`` (a TOML mapping file's name and content) the files are a CRM export,
    validated through the mapping (``docs/pipeline.md``, "Importing a CRM export").
    """
    _remove_abandoned_uploads()
    folder = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX))
    try:
        if mapping is None:
            paths = save_uploads(files, folder)
            report = validate_paths(ctx, paths, table=table, mode=mode)
            return PendingUpload(folder, paths, table, mode, report)
        export = folder / EXPORT
        export.mkdir()
        paths = save_uploads(files, export)
        (rules,) = save_uploads([mapping], folder)
        try:
            report = validate_mapped(ctx, export, rules, mode=mode)
        except ValidationFailed as exc:  # the mapping, or the export as it maps
            report = ValidationReport([], exc.problems, exc.total, dict(exc.counts))
        return PendingUpload(folder, paths, None, mode, report, mapping=rules)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def load_upload(ctx: AppContext, pending: PendingUpload) -> LoadResult:
    """Load validated files (raises ValidationFailed if the data changed since); then discard."""
    try:
        if pending.mapping is not None:
            return load_mapped(
                ctx, pending.folder / EXPORT, pending.mapping, mode=pending.mode, source="upload"
            )
        return load_paths(
            ctx, pending.paths, table=pending.table, mode=pending.mode, source="upload"
        )
    finally:
        pending.discard()


def _remove_abandoned_uploads(now: float | None = None) -> None:
    now = time.time() if now is None else now
    for folder in Path(tempfile.gettempdir()).glob(f"{UPLOAD_PREFIX}*"):
        with suppress(OSError):
            if now - folder.stat().st_mtime > ABANDONED_AFTER:
                shutil.rmtree(folder, ignore_errors=True)

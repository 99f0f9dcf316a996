"""Uploaded files saved to a folder under their own (sanitised) names, for the loader to read."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from revintel.errors import ValidationFailed


def save_uploads(files: Iterable[tuple[str | None, BinaryIO]], folder: Path) -> list[Path]:
    """Write each ``(filename, stream)`` into ``folder``; return the paths in upload order.

    The loader infers a file's table from its name, so names are kept; only the directory part of
    a client-sent name is dropped. A repeated name goes into a numbered subfolder.
    """
    paths: list[Path] = []
    for index, (filename, stream) in enumerate(files, start=1):
        name = Path((filename or "").replace("\\", "/")).name or f"upload-{index}"
        path = folder / name
        if path.exists():
            path = folder / str(index) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            shutil.copyfileobj(stream, out)
        paths.append(path)
    return paths


def without_folder(exc: ValidationFailed, folder: Path) -> ValidationFailed:
    """``exc`` with ``folder/`` cut from every file name, so problems name the uploaded files."""
    prefix = f"{folder}{os.sep}"

    def cut(text: str | None) -> str | None:
        return text.replace(prefix, "") if text is not None else None

    problems = [
        replace(
            p,
            file=cut(p.file) or p.file,
            message=cut(p.message) or "",
            expected=cut(p.expected),
            got=cut(p.got),
        )
        for p in exc.problems
    ]
    counts = {cut(kind) or kind: n for kind, n in exc.counts.items()}
    return ValidationFailed(problems, exc.total, counts)

"""Uploaded files saved to a folder under their own (sanitised) names, for the loader to read.

A client's file name is only ever used as one plain name inside a fresh temporary folder: its
directory part is dropped, and a name that is empty, ``.``, ``..``, holds a NUL or another control
character, or is too long (:mod:`revintel.data.names`) is refused with a 422 naming the form field.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from fastapi.exceptions import RequestValidationError

from revintel.core.errors import ValidationFailed
from revintel.data.names import InvalidFileName, plain_name


def upload_name(filename: str | None, field: str = "files") -> str:
    """The base name of a client-sent file name, or a 422 on form field ``field``."""
    try:
        return plain_name(filename)
    except InvalidFileName as exc:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", field), "msg": str(exc), "input": None}]
        ) from None


def save_uploads(
    files: Iterable[tuple[str | None, BinaryIO]], folder: Path, *, field: str = "files"
) -> list[Path]:
    """Write each ``(filename, stream)`` into ``folder``; return the paths in upload order.

    The loader infers a file's table from its name, so names are kept (see :func:`upload_name`).
    A repeated name goes into a numbered subfolder. Every name is checked before anything is
    written.
    """
    named = [(upload_name(filename, field), stream) for filename, stream in files]
    paths: list[Path] = []
    for index, (name, stream) in enumerate(named, start=1):
        path = folder / name
        if path.exists():
            path = folder / str(index) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as out:
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

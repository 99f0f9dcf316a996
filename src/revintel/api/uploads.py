"""Uploaded files saved to a folder under their own (sanitised) names, for the loader to read.

A client's file name is only ever used as one plain name inside a fresh temporary folder: its
directory part is dropped, and a name that is empty, ``.``, ``..``, holds a NUL or another control
character, or is longer than :data:`MAX_NAME_CHARS` is refused with a 422 naming the form field.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from fastapi.exceptions import RequestValidationError

from revintel.errors import ValidationFailed

# Below every common filesystem's limit of 255 bytes per name, with room for UTF-8.
MAX_NAME_CHARS = 120
NAME_EXPECTED = (
    f"a file name such as customers.csv (at most {MAX_NAME_CHARS} characters, no control "
    "characters, not '.' or '..')"
)


def upload_name(filename: str | None, field: str = "files") -> str:
    """The base name of a client-sent file name, or a 422 on form field ``field``."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    problem = None
    if base in ("", ".", ".."):
        problem = f"the file name {filename!r} names no file"
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in base):
        problem = "the file name holds a NUL or another control character"
    elif len(base) > MAX_NAME_CHARS:
        problem = f"the file name is {len(base)} characters long"
    if problem is not None:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", field),
                    "msg": f"{problem}; expected {NAME_EXPECTED}",
                    "input": None,
                }
            ]
        )
    return base


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

"""Client-sent file names, reduced to one safe plain name (API uploads and dashboard uploads).

The loader reads a file's table from its name, so the name is kept; but only its last part, and
never one that is empty, ``.``, ``..``, holds a NUL or another control character, or is longer
than :data:`MAX_NAME_CHARS`.
"""

from __future__ import annotations

from revintel.core.errors import RevintelError

# Below every common filesystem's limit of 255 bytes per name, with room for UTF-8.
MAX_NAME_CHARS = 120
NAME_EXPECTED = (
    f"a file name such as customers.csv (at most {MAX_NAME_CHARS} characters, no control "
    "characters, not '.' or '..')"
)


class InvalidFileName(RevintelError):
    """A client-sent file name that cannot be used as a file's name."""


def plain_name(filename: str | None) -> str:
    """The last part of ``filename``; :class:`InvalidFileName` saying what is wrong and expected."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    problem = None
    if base in ("", ".", ".."):
        problem = f"the file name {filename!r} names no file"
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in base):
        problem = "the file name holds a NUL or another control character"
    elif len(base) > MAX_NAME_CHARS:
        problem = f"the file name is {len(base)} characters long"
    if problem is not None:
        raise InvalidFileName(f"{problem}; expected {NAME_EXPECTED}")
    return base

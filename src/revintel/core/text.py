"""Checks on free text a user gives as an option (a filter value, a search)."""

from __future__ import annotations

import unicodedata

from revintel.core.errors import InvalidOption


class InvalidText(InvalidOption):
    """A free-text option holds a NUL or another control character."""


def control_character(value: str) -> str | None:
    """The first control character of ``value`` (Unicode category Cc: NUL, tab, newline, DEL...)
    as ``U+0000``, or None. Letters of any script, punctuation and emoji are not control
    characters."""
    for char in value:
        if unicodedata.category(char) == "Cc":
            return f"U+{ord(char):04X}"
    return None


def check_text(parameter: str, value: str | None) -> str | None:
    """``value`` unchanged, or :class:`InvalidText` naming ``parameter`` when it holds a control
    character (no name, id or dimension value holds one)."""
    if value is None:
        return None
    found = control_character(value)
    if found is not None:
        raise InvalidText(
            f"'{parameter}' = {value!r} contains the control character {found}; "
            "expected text without control characters"
        )
    return value


def check_texts(parameter: str, values: list[str] | tuple[str, ...] | None) -> None:
    """:func:`check_text` on each of ``values`` (a repeatable option)."""
    for value in values or ():
        check_text(parameter, value)

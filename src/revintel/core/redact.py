"""Text that leaves revintel (error messages, API bodies, logs) without credentials or server paths.

Two functions, used wherever a setting, a database error or a file name can reach a person:

- :func:`redact_credentials` hides passwords in URLs (``postgres://user:***@host/db``, also when the
  URL is mistyped, as in ``postgres//user:***@host``) and in ``password=…`` style parameters;
- :func:`public_text` also replaces absolute server paths: the home folder becomes ``<home>``, the
  user's home directory ``~``, and any other existing server path (a temporary upload folder, the
  Python installation, a DuckDB file) its file name.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

MASK = "***"

# `user:secret@` anywhere, the secret running to the token's last `@` (a password may hold `@`, `/`
# or `:`). The user part holds no `/`, so in `scheme://user:secret@` the match starts after `//`;
# a colon followed by `//` is a scheme separator, not a password.
_USERINFO = re.compile(r"(?P<user>[^\s:/@'\"]*):(?!//)(?P<secret>\S*)@")
# password=…, ?sslpassword=…&, token=… in URL query strings and libpq connection strings.
_SECRET_PARAMETER = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|pass|sslpassword|secret|token|api_key|apikey|"
    r"access_token)=)(?P<secret>[^\s&;'\"]*)",
    re.IGNORECASE,
)
# An absolute POSIX path: `/` then path characters, not preceded by a word character or `:`/`/`
# (so `http://host/path` and `a/b` are not taken for one).
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~<>-])/[\w.@+~%-]+(?:/[\w.@+~%-]*)*")


def redact_credentials(text: str) -> str:
    """``text`` with every URL password and ``password=``-style value replaced by ``***``."""
    text = _USERINFO.sub(lambda m: f"{m['user']}:{MASK}@", text)
    return _SECRET_PARAMETER.sub(lambda m: f"{m['key']}{MASK}", text)


def _roots(home: Path | None) -> list[tuple[str, str]]:
    """(folder, label) pairs, the longest folder first; a label of "" keeps only the file name."""
    roots: dict[str, str] = {}
    for folder, label in (
        (Path(tempfile.gettempdir()), ""),
        (Path(sys.prefix), ""),
        (Path.home(), "~"),
        *(((home, "<home>"), (home.resolve(), "<home>")) if home is not None else ()),
    ):
        text = str(folder).rstrip(os.sep)
        if len(text) > 1:  # never the file system root
            roots[text] = label
    return sorted(roots.items(), key=lambda item: -len(item[0]))


def public_text(text: str, home: Path | None = None) -> str:
    """``text`` fit for a client: no credentials and no absolute path of this server.

    A path under ``home`` keeps its place in it (``<home>/models/churn.skops``); any other path
    that exists here (a temporary upload folder, a DuckDB file) is cut to its file name. Paths that
    do not exist on this server (an API route such as ``/api/v1/loads``) are left alone.
    """
    roots = _roots(home)

    def replace(match: re.Match[str]) -> str:
        path = match.group(0)
        for root, label in roots:
            if path == root or path.startswith(root + os.sep):
                if label:
                    return label + path[len(root) :]
                return Path(path).name or label
        if len(path) > 1 and os.path.lexists(path):
            return Path(path).name
        return path

    return _ABSOLUTE_PATH.sub(replace, redact_credentials(text))

"""The `revintel` command line. Each capability adds its command group in a module here."""

from __future__ import annotations

import sys

import typer

from revintel.cli.app import app
from revintel.core.errors import RevintelError


def main() -> None:
    """Console entry point: user errors print as one clear message, no traceback, exit code 1."""
    try:
        app()
    except RevintelError as exc:
        from revintel.core.redact import redact_credentials

        typer.echo(f"Error: {redact_credentials(str(exc))}", err=True)
        sys.exit(1)


__all__ = ["app", "main"]

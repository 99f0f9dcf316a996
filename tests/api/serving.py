"""A real server started for a test: a free loopback port, its log, killed at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 120.0


@dataclass
class Served:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    command: list[str], workdir: Path, *, health_path: str = "/health", **env: str
) -> Iterator[Served]:
    """``command`` (a server on ``{port}``) with REVINTEL_* variables of the machine ignored; waits
    for ``health_path`` to answer, yields, and kills whatever is left at the end."""
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVINTEL_")}
    environ |= {"REVINTEL_CONFIG": str(workdir / "absent.toml"), **env}
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [part.replace("{port}", str(port)) for part in command],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environ,
            start_new_session=True,
        )
    served = Served(port, process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{served.text()}")
            with (
                suppress(urllib.error.URLError, OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{port}{health_path}", timeout=5),
            ):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"no answer within {START_TIMEOUT:.0f} s:\n{served.text()}")
            time.sleep(0.2)
        yield served
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def revintel_serve(home: Path) -> list[str]:
    return [sys.executable, "-m", "revintel", "serve", "--home", str(home), "--port", "{port}"]

"""Benchmark: the REST API under many concurrent clients, with and without a load running.

Generates a demo company, loads it into a temporary home, starts a real ``revintel serve`` on
loopback, asks every endpoint of the mix once (so the reads measured are the cached ones a
dashboard-heavy team makes), then runs ``--clients`` concurrent clients (asyncio + httpx, each
asking its next request as soon as the last one answered) for ``--seconds``:

1. ``idle``: nothing else running;
2. ``during_load``: a ``revintel load`` of a second company runs over and over beside the clients.

Prints one JSON line per phase: requests per second, p50/p95/p99/max latency, errors, timeouts
and the server's CPU time per request.

    uv run --group test python -m benchmarks load_api [--customers 2000] [--clients 100]
        [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

MIX = [
    "/health",
    "/api/v1/tables",
    "/api/v1/metrics/summary",
    "/api/v1/metrics/mrr",
    "/api/v1/metrics/movements?segment=SMB",
    "/api/v1/metrics/churn?by=plan",
    "/api/v1/accounts?page=1",
    "/api/v1/accounts?page=3&sort=arr",
    "/api/v1/health/summary",
    "/api/v1/clv/segments?by=segment",
    "/api/v1/anomalies",
    "/api/v1/forecast/mrr",
]
REQUEST_TIMEOUT = 30.0


def _revintel(home: Path, *args: str) -> None:
    env = {**os.environ, "REVINTEL_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-m", "revintel", *args], env=env, check=True, capture_output=True
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "REVINTEL_HOME": str(home)}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "revintel", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"revintel serve did not start; see {log}")


class _Loader(threading.Thread):
    """``revintel load`` of each folder in turn, back to back, until :meth:`finish`."""

    def __init__(self, home: Path, folders: list[Path]) -> None:
        super().__init__(daemon=True)
        self.home, self.folders = home, folders
        self.stopping = threading.Event()
        self.completed = 0
        self.current: subprocess.Popen[bytes] | None = None

    def run(self) -> None:
        env = {**os.environ, "REVINTEL_HOME": str(self.home)}
        i = 0
        while not self.stopping.is_set():
            command = [sys.executable, "-m", "revintel", "load", str(self.folders[i % 2])]
            self.current = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if self.current.wait() == 0 and not self.stopping.is_set():
                self.completed += 1
            i += 1

    def finish(self) -> int:
        """Stop (the load under way is ended) and return how many loads completed."""
        self.stopping.set()
        if self.current is not None:
            self.current.terminate()
        self.join()
        return self.completed


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _run(url: str, clients: int, seconds: float) -> dict[str, object]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    timeouts = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(worker: int, http: httpx.AsyncClient) -> None:
        nonlocal timeouts
        i = worker
        while time.perf_counter() < stop_at:
            path = MIX[i % len(MIX)]
            i += 1
            started = time.perf_counter()
            try:
                response = await http.get(path)
            except httpx.TimeoutException:
                timeouts += 1
                continue
            except httpx.HTTPError as exc:
                took = time.perf_counter() - started
                key = f"{type(exc).__name__} {path.split('?')[0]} after {took:.1f} s"
                errors[key] = errors.get(key, 0) + 1
                continue
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                key = f"{response.status_code} {path.split('?')[0]}"
                errors[key] = errors.get(key, 0) + 1

    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT, limits=limits) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client(w, http) for w in range(clients)))
        elapsed = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_s": round(_percentile(latencies, 0.50), 4) if latencies else None,
        "p95_s": round(_percentile(latencies, 0.95), 4) if latencies else None,
        "p99_s": round(_percentile(latencies, 0.99), 4) if latencies else None,
        "max_s": round(max(latencies), 4) if latencies else None,
        "errors": errors,
        "timeouts": timeouts,
    }


WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "WRK {\\"requests\\": %%d, \\"seconds\\": %%.3f, \\"p50_s\\": %%.4f, "
    .. "\\"p95_s\\": %%.4f, \\"p99_s\\": %%.4f, \\"max_s\\": %%.4f, "
    .. "\\"non_2xx_or_errors\\": %%d, \\"timeouts\\": %%d}\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e6,
    latency:percentile(95) / 1e6, latency:percentile(99) / 1e6, latency.max / 1e6, errors,
    summary.errors.timeout))
end
"""


def _run_wrk(url: str, clients: int, seconds: float, script: Path) -> dict[str, object]:
    """The same mix driven by wrk (C, two threads): a Python client spends more CPU per request
    than the server does, so on two cores it, not the server, sets the pace."""
    paths = ", ".join(json.dumps(p) for p in MIX)
    script.write_text(WRK_SCRIPT % paths)
    done = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s",
         "--timeout", f"{int(REQUEST_TIMEOUT)}s", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK "))
    found = json.loads(line[4:])
    found["requests_per_s"] = round(found["requests"] / found.pop("seconds"), 1)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--phases", default="idle,during_load")
    parser.add_argument("--server-log", type=Path, help="keep the server's log in this file")
    parser.add_argument(
        "--client",
        choices=["wrk", "httpx"],
        default="wrk" if shutil.which("wrk") else "httpx",
        help="load generator (wrk: apt-get install wrk)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="revintel-load-api-") as tmp:
        root = Path(tmp)
        for name, seed in (("a", "1"), ("b", "2")):
            _revintel(
                root / "scratch", "generate", "--out", str(root / name),
                "--customers", str(args.customers), "--months", str(args.months), "--seed", seed,
            )  # fmt: skip
        home = root / "home"
        _revintel(home, "load", str(root / "a"))
        server, url = _start(home, root / "server.log")
        process = psutil.Process(server.pid)
        try:
            with httpx.Client(base_url=url, timeout=120) as http:
                for path in MIX:  # warm: the measured reads are the cached ones
                    http.get(path)
            for phase in args.phases.split(","):
                loader = None
                if phase == "during_load":
                    loader = _Loader(home, [root / "b", root / "a"])
                    loader.start()
                cpu_before = sum(process.cpu_times()[:2])
                if args.client == "wrk":
                    result = _run_wrk(url, args.clients, args.seconds, root / "mix.lua")
                else:
                    result = asyncio.run(_run(url, args.clients, args.seconds))
                cpu = sum(process.cpu_times()[:2]) - cpu_before
                loads = None
                if loader is not None:
                    loads = loader.finish()
                requests = int(result["requests"]) or 1  # type: ignore[call-overload]
                print(
                    json.dumps(
                        {
                            "benchmark": "load_api",
                            "phase": phase,
                            "client": args.client,
                            "customers": args.customers,
                            "clients": args.clients,
                            "seconds": args.seconds,
                            **result,
                            "server_cpu_ms_per_request": round(1000 * cpu / requests, 2),
                            "server_rss_mb": round(process.memory_info().rss / 2**20),
                            "loads_completed": loads,
                        }
                    ),
                    flush=True,
                )
                if phase == "during_load":  # back on one dataset for any phase after
                    _revintel(home, "load", str(root / "a"))
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
            if args.server_log is not None:
                args.server_log.write_bytes((root / "server.log").read_bytes())


if __name__ == "__main__":
    main()

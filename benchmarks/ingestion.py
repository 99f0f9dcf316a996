"""Benchmark: tracking ingestion through the API into the default embedded store (Parquet read by
DuckDB). Starts ``revintel serve`` on a new home holding a few customers, posts touchpoint and
revenue-event batches from client threads over keep-alive connections, and waits until the
warehouse holds every acknowledged event; then counts them (each id once). Prints one JSON line:

    uv run --group test python -m benchmarks ingestion [--events 300000] [--batch 1000]
        [--clients 4] [--revenue-share 0.1] [--port 8741] [--keep DIR]

Figures: ``events_per_second`` is every event over the time from the first request to the moment
the last one is visible in the warehouse (acknowledged, journalled, appended and readable);
``acknowledged_per_second`` is the rate of the 202s alone; ``visible_lag_seconds`` is how long
after the last acknowledgement the warehouse held every event. ``server_peak_rss_mb`` is the API
process's peak memory (``VmHWM``), ``client_peak_rss_mb`` this process's. Target: 5,000 events per
second (docs/attribution.md, Ingestion).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

TARGET_EVENTS_PER_SECOND = 5_000
CHANNELS = ("Paid Search", "Email", "Organic Search", "Social", "Referral", "Direct", "Display")
CUSTOMERS = 200


def write_customers(folder: Path, n: int = CUSTOMERS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["customer_id,signup_date,segment,country,acquisition_channel"]
    rows += [f"C{i:05d},2025-01-01,SMB,US,Organic" for i in range(n)]
    (folder / "customers.csv").write_text("\n".join(rows) + "\n")
    return folder


def touch(i: int) -> dict[str, Any]:
    """The ``i``-th touch: a visitor's (4 in 5) or a known customer's, ids unique per ``i``."""
    event: dict[str, Any] = {
        "event_id": f"t{i}",
        "channel": CHANNELS[i % len(CHANNELS)],
        "touchpoint_type": "visit",
        "source": "bench",
        "medium": "cpc",
        "campaign_id": f"cmp-{i % 50}",
        "timestamp": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
    }
    if i % 5 == 0:
        event["customer_id"] = f"C{i % CUSTOMERS:05d}"
    else:
        event["visitor_id"] = f"v{i // 7}"
    return event


def revenue(i: int) -> dict[str, Any]:
    return {
        "event_id": f"r{i}",
        "visitor_id": f"v{i // 7}",
        "event_type": ("signed_up", "trial_started", "subscription_started")[i % 3],
        "revenue_amount": float(i % 500),
        "currency": "USD",
        "timestamp": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00Z",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(home: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``revintel serve`` on ``home`` at ``port``, up once /health answers; killed at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVINTEL_")}
    env["REVINTEL_CONFIG"] = str(home / "absent.toml")
    command = [sys.executable, "-m", "revintel", "serve", "--home", str(home), "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text(errors='replace')}")
            with suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status < 500:
                    conn.close()
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer within 120 s")
            time.sleep(0.2)
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def post(
    conn: http.client.HTTPConnection, path: str, events: list[dict[str, Any]], key: str
) -> dict[str, Any]:
    body = json.dumps(events).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    conn.request("POST", path, body=body, headers=headers)
    answer = conn.getresponse()
    data = answer.read()
    if answer.status != 202:
        raise RuntimeError(f"{path} answered {answer.status}: {data[:500]!r}")
    return dict(json.loads(data))


def batches(events: int, batch: int, revenue_share: float) -> list[tuple[str, int, int]]:
    """(path, first index, count) of every request: touches, and revenue events between them."""
    out: list[tuple[str, int, int]] = []
    n_revenue = int(events * revenue_share)
    n_touch = events - n_revenue
    out += [("/api/v1/touchpoints", s, min(batch, n_touch - s)) for s in range(0, n_touch, batch)]
    every = max(1, len(out) // max(1, -(-n_revenue // batch)))
    revenue_batches = [
        ("/api/v1/revenue-events", s, min(batch, n_revenue - s)) for s in range(0, n_revenue, batch)
    ]
    for k, item in enumerate(revenue_batches):
        out.insert(min(len(out), (k + 1) * every + k), item)
    return out


def server_peak_mb(pid: int) -> float | None:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def warehouse_ids(home: Path) -> dict[str, list[str]]:
    """Every touchpoint and conversion id in the home's warehouse (a fresh reader)."""
    from revintel.app.context import AppContext
    from revintel.core.config import Settings

    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        out: dict[str, list[str]] = {}
        for table, column in (("touchpoints", "touchpoint_id"), ("conversions", "conversion_id")):
            if not ctx.warehouse.has_table(table):
                out[table] = []
                continue
            ids = ctx.warehouse.to_arrow(ctx.warehouse.table(table).select(column))
            out[table] = [str(v) for v in ids.column(0).to_pylist()]  # type: ignore[union-attr]
        return out
    finally:
        ctx.close()


def warehouse_counts(home: Path) -> dict[str, int]:
    from revintel.app.context import AppContext
    from revintel.core.config import Settings

    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        counts = ctx.warehouse.row_counts()
        return {t: counts.get(t, 0) for t in ("touchpoints", "conversions")}
    finally:
        ctx.close()


def run(
    home: Path,
    *,
    events: int,
    batch: int,
    clients: int,
    revenue_share: float,
    port: int,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Ingest ``events`` through a server on ``home``; the figures of the module docstring."""
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.core.config import Settings

    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        load_paths(ctx, [write_customers(home.parent / "customers")], source="benchmark")
    finally:
        ctx.close()
    plan = batches(events, batch, revenue_share)
    expected = {
        "touchpoints": sum(n for p, _, n in plan if p.endswith("touchpoints")),
        "conversions": sum(n for p, _, n in plan if p.endswith("revenue-events")),
    }
    log = home.parent / "server.log"
    with served(home, port, log) as process:
        lock = threading.Lock()
        queue = list(reversed(plan))
        errors: list[str] = []

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            try:
                while True:
                    with lock:
                        if not queue or errors:
                            return
                        path, start, n = queue.pop()
                    make = touch if path.endswith("touchpoints") else revenue
                    body = [make(start + j) for j in range(n)]
                    post(conn, path, body, f"{path}-{start}")
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                conn.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        acknowledged = time.perf_counter()
        if errors:
            raise RuntimeError(errors[0])
        deadline = acknowledged + timeout
        while warehouse_counts(home) != expected:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"not every event visible after {timeout:.0f} s")
            time.sleep(0.05)
        visible = time.perf_counter()
        peak_server = server_peak_mb(process.pid)
    ids = warehouse_ids(home)
    counted = {t: len(v) for t, v in ids.items()}
    distinct = {t: len(set(v)) for t, v in ids.items()}
    total = visible - started
    return {
        "benchmark": "ingestion",
        "events": events,
        "batch": batch,
        "clients": clients,
        "requests": len(plan),
        "counted": counted,
        "distinct": distinct,
        "expected": expected,
        "all_there_once": counted == expected == distinct,
        "seconds": round(total, 3),
        "events_per_second": round(events / total),
        "acknowledged_per_second": round(events / (acknowledged - started)),
        "visible_lag_seconds": round(visible - acknowledged, 3),
        "target_events_per_second": TARGET_EVENTS_PER_SECOND,
        "meets_target": events / total >= TARGET_EVENTS_PER_SECOND,
        "server_peak_rss_mb": peak_server,
        "client_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks ingestion", description=__doc__)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--revenue-share", type=float, default=0.1)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--keep", type=Path, help="keep the home in this folder")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="revintel-ingest-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        figures = run(
            root / "home",
            events=args.events,
            batch=args.batch,
            clients=args.clients,
            revenue_share=args.revenue_share,
            port=args.port or free_port(),
        )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(figures))
    return 0 if figures["all_there_once"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""A `revintel load` killed with SIGKILL mid-way (chaos): the warehouse keeps its data, the next
load cleans up after it, and the load history shows it as interrupted."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from tests.app.test_ingest import BRIEF_001, warehouse_state, write_files
from tests.conftest import isolated_settings

ROWS = 200_000


def _payments(path: Path) -> None:
    rng = np.random.default_rng(3)
    pl.DataFrame(
        {
            "payment_id": [f"PAY-{i:09d}" for i in range(ROWS)],
            "customer_id": rng.choice(["C1", "C2", "C3"], ROWS),
            "payment_date": ["2023-05-01"] * ROWS,
            "amount": np.round(rng.random(ROWS) * 100, 2),
            "payment_status": ["Success"] * ROWS,
        }
    ).write_csv(path)


@pytest.mark.chaos
def test_a_load_killed_mid_commit_is_reconciled(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ctx = AppContext(isolated_settings(home))
    brief = write_files(tmp_path / "brief", dict(BRIEF_001))
    load_paths(ctx, [brief])
    before = warehouse_state(ctx)
    big = tmp_path / "big" / "payments.csv"
    big.parent.mkdir()
    _payments(big)
    snapshots = home / "warehouse" / "snapshots"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVINTEL_")}
    command = [sys.executable, "-m", "revintel", "load", str(big), "--append", "--home", str(home)]

    # An append rewrites the table into a new snapshot folder (.tmp-*): kill it while it does.
    load = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    caught = False
    while load.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(".tmp-") for p in snapshots.iterdir()):
            load.kill()
            caught = True
            break
        time.sleep(0.002)
    load.wait()
    assert caught, f"the load ended before its commit could be killed: {load.stderr.read()!r}"
    assert load.returncode == -9

    # The killed load's snapshot folder is there, but CURRENT still names the previous one.
    assert any(p.name.startswith(".tmp-") for p in snapshots.iterdir())
    assert warehouse_state(ctx) == before
    (killed, *_) = ctx.store.load_history()
    assert killed["status"] == "interrupted"
    assert f"process {load.pid} on" in killed["message"] and killed["finished_at"] is not None

    load_paths(ctx, [brief / "costs.csv"])  # the next load

    assert not any(p.name.startswith(".") for p in snapshots.iterdir())
    assert not (home / "staging").exists() or list((home / "staging").iterdir()) == []
    assert warehouse_state(ctx)["tables"] == before["tables"]
    statuses = [r["status"] for r in ctx.store.load_history()]
    assert statuses == ["success", "interrupted", "success"]
    ctx.close()

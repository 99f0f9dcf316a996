"""Expansion reads health and metrics through its ports only (revintel/pipeline/ports.py)."""

from __future__ import annotations

import polars as pl
import pytest

from revintel.pipeline import ports


def test_importing_the_app_plugs_the_expansion_ports() -> None:
    import revintel.app  # noqa: F401
    from revintel.app import wiring

    plugged = ports.expansion_providers()
    assert plugged.account_signals is wiring._expansion_account_signals
    assert plugged.health_months is wiring._expansion_health_months


def test_nothing_plugged_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "_expansion", None)
    with pytest.raises(RuntimeError, match="plug_expansion"):
        ports.expansion_providers()


def test_the_signals_adapter_returns_the_port_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import revintel.app  # noqa: F401
    from revintel.app.context import AppContext
    from tests.conftest import isolated_settings
    from tests.pipeline.planted_home import planted_home

    home = planted_home(tmp_path)
    ctx = AppContext(isolated_settings(home))
    try:
        lo, hi = ports.expansion_providers().health_months(ctx)
        assert (lo, hi) == (2023 * 12, 2023 * 12 + 11)
        frame = ports.expansion_providers().account_signals(ctx, lo=hi, hi=hi)
    finally:
        ctx.close()
    assert tuple(frame.columns) == ports.ACCOUNT_SIGNAL_COLUMNS
    assert frame.height == 120 and frame["month"].unique().to_list() == ["2023-12"]
    assert frame.filter(pl.col("account_id") == "A000")["arr"][0] == pytest.approx(1800.0)

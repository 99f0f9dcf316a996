"""Shared dashboard parts: what they read per page run."""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.ui.components import ASSETS, asset_url, last_load_time
from revintel.ui.revenue import data_version


def test_last_load_time_is_read_once_per_page_run_and_sees_a_new_load(
    loaded_context: AppContext, company_csvs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = loaded_context.fork()
    reads: list[int] = []
    read = ctx.store.last_loaded
    monkeypatch.setattr(ctx.store, "last_loaded", lambda: reads.append(1) or read())
    try:
        ctx.refresh(if_stale=True)  # a page run starts
        before = last_load_time(ctx)
        assert before is not None
        assert data_version(ctx) and last_load_time(ctx) == before  # the sidebar's and the page's
        assert len(reads) == 1
        load_paths(ctx, [company_csvs / "customers.csv"], source="test")  # refreshes ctx
        after = last_load_time(ctx)
        assert after is not None and after > before
        assert len(reads) == 2
    finally:
        ctx.close()


@pytest.mark.parametrize("name", ["logo.svg", "icon.svg"])
def test_the_logo_and_icon_are_data_urls_streamlit_passes_through(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a file path, Streamlit reads and encodes the SVG on every page run; a data URL it
    sends as it is, without touching the disk."""
    import base64

    from streamlit.elements.lib import image_utils

    url = asset_url(name)
    assert url.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == (ASSETS / name).read_bytes()
    monkeypatch.setattr("builtins.open", lambda *a, **k: pytest.fail(f"opened {a[0]}"))
    assert image_utils.image_to_url(url, None, False, "RGB", "auto", "logo") == url  # type: ignore[arg-type]

"""Pieces every page shares: the run's context, the sidebar and the no-data empty state."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from revintel.app.context import AppContext
from revintel.core.config import Settings, load_settings
from revintel.core.errors import RevintelError
from revintel.ui.views import page_path

ASSETS = Path(__file__).parent / "assets"
PRODUCT = "revintel"
TAGLINE = "Revenue intelligence for B2B SaaS"
DEMO_CUSTOMERS = 500
DEMO_MONTHS = 24
DEMO_SEED = 42


@functools.cache
def asset_url(name: str) -> str:
    """An SVG of ``assets/`` as a data URL, made once per process: given a file path, Streamlit
    reads, checks and encodes the file again on every page run (st.logo, the page icon)."""
    encoded = base64.b64encode((ASSETS / name).read_bytes()).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


_CONTEXT_KEY = "_revintel_context"
_FLASH_KEY = "_revintel_flash"
_CONTROLS_KEY = "_revintel_page_controls"

# App-wide sidebar sections, drawn under the data status in list order. A capability whose
# controls apply to every page appends a function here; a page's own controls go in its script.
SIDEBAR_SECTIONS: list[Callable[[AppContext], None]] = []


@st.cache_resource(show_spinner=False)
def _shared_context(key: str, _settings: Settings) -> AppContext:
    # Keyed by the settings, so a change of REVINTEL_HOME (as in tests) opens a new store.
    return AppContext(_settings)


def open_context() -> AppContext:
    """The session's context, refreshed so this run sees the newest load. Once per run; the
    warehouse connection of the runs before is kept while it sees the newest load (opening one
    and reading its schemas again costs ~25 ms of every run)."""
    settings = load_settings()
    ctx = st.session_state.get(_CONTEXT_KEY)
    if not isinstance(ctx, AppContext) or ctx.settings != settings:
        ctx = _shared_context(settings.model_dump_json(), settings).fork()
        st.session_state[_CONTEXT_KEY] = ctx
    ctx.refresh(if_stale=True)
    return ctx


def current_context() -> AppContext:
    """The context the entry script opened for this run (pages call this)."""
    ctx = st.session_state.get(_CONTEXT_KEY)
    return ctx if isinstance(ctx, AppContext) else open_context()


def has_data(ctx: AppContext) -> bool:
    """Whether the one required table, customers, is loaded."""
    return ctx.warehouse.has_table("customers")


def has_scores(ctx: AppContext) -> bool:
    """Whether the churn pages that read predictions have something to show: customers, or a
    predictions table loaded on its own (bring-your-own scores name their accounts)."""
    return has_data(ctx) or ctx.warehouse.has_table("predictions")


def age_text(when: datetime | None, now: datetime | None = None) -> str:
    """How long ago ``when`` was, e.g. "just now", "5 min ago", "3 days ago"."""
    if when is None:
        return "never"
    now = now or datetime.now(UTC)
    seconds = max((now - when).total_seconds(), 0)
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''} ago"
    return "just now"


def last_load_time(ctx: AppContext) -> datetime | None:
    """When a successful load last wrote any table. Read once per page run (the sidebar and the
    revenue pages' data version ask; a load refreshes the context:
    :meth:`AppContext.per_refresh`)."""
    return ctx.per_refresh(
        "last_load_time", lambda: max(ctx.store.last_loaded().values(), default=None)
    )


def render_sidebar(ctx: AppContext) -> None:
    """The page's own controls (:func:`page_controls`), the product, the warehouse and how fresh
    the data is; then the registered sections."""
    st.logo(asset_url("logo.svg"), size="large", icon_image=asset_url("icon.svg"))
    with st.sidebar:
        # First under the page list: on a 900-pixel-high window a page's filters are then on
        # screen without scrolling the sidebar (under the data status they started at ~870 px).
        st.session_state[_CONTROLS_KEY] = st.container()
        tables = ctx.warehouse.list_tables()
        loaded_at = last_load_time(ctx)
        st.caption(TAGLINE)
        with st.container(border=True):
            st.markdown(f":material/storage: **Warehouse** &nbsp;`{ctx.warehouse.kind}`")
            if tables:
                st.markdown(
                    f":material/schedule: **Data** {age_text(loaded_at)} · "
                    f"{len(tables)} table{'s' if len(tables) != 1 else ''}",
                    help=f"Last load: {loaded_at:%Y-%m-%d %H:%M} UTC" if loaded_at else None,
                )
            else:
                st.markdown(":material/schedule: **Data** none loaded yet")
        for section in SIDEBAR_SECTIONS:
            section(ctx)


def page_controls() -> DeltaGenerator:
    """Where a page draws its own sidebar controls (the revenue pages' filters): above the data
    status, in a place :func:`render_sidebar` keeps for this run; the sidebar's end without it."""
    slot = st.session_state.get(_CONTROLS_KEY)
    return slot if isinstance(slot, DeltaGenerator) else st.sidebar


def render_empty_state(ctx: AppContext) -> None:
    """No data yet: the commands that load some, and a button that loads a demo company here."""
    with st.container(border=True):
        st.subheader(":material/rocket_launch: No data loaded yet", anchor=False)
        st.markdown(
            "revintel needs at least a **customers** table. Load your own CSV or Parquet "
            "files, or try it on a simulated SaaS company."
        )
        st.markdown("**From a terminal**")
        st.code(
            "revintel demo          # generate a demo company, load it and open this dashboard\n"
            "revintel load PATH     # load CSV or Parquet files: customers.csv, subscriptions.csv…",
            language="bash",
        )
        st.markdown("**Or right here**")
        left, right = st.columns(2)
        generate = left.button(
            f"Generate a demo company ({DEMO_CUSTOMERS} customers, {DEMO_MONTHS} months)",
            icon=":material/auto_awesome:",
            type="primary",
            key="generate_demo",
        )
        right.page_link(
            page_path("data.py"),
            label="Upload your files on the Data page",
            icon=":material/upload:",
        )
        st.caption(f"Data is stored in `{ctx.settings.home}`.")
    if generate:
        generate_demo(ctx)


def generate_demo(ctx: AppContext) -> None:
    """Generate and load a small demo company, showing progress; then rerun to show it."""
    from revintel.app.demo import ensure_demo_data

    with st.status("Generating a demo company…", expanded=True) as status:
        try:
            summary = ensure_demo_data(
                ctx,
                customers=DEMO_CUSTOMERS,
                months=DEMO_MONTHS,
                seed=DEMO_SEED,
                echo=st.write,
            )
        except RevintelError as exc:
            status.update(label="The demo company could not be loaded", state="error")
            st.error(str(exc), icon=":material/error:")
            return
        status.update(label=summary, state="complete", expanded=False)
    flash(summary)
    st.rerun()


def flash(message: str) -> None:
    """Show ``message`` as a toast on the next run (it survives ``st.rerun``)."""
    st.session_state[_FLASH_KEY] = message


def show_flash() -> None:
    """Show the message :func:`flash` left, once."""
    message = st.session_state.pop(_FLASH_KEY, None)
    if message:
        st.toast(message, icon=":material/check_circle:")

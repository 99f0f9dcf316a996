"""What the three revenue pages share: sidebar filters, cached service calls, KPI tiles, charts.

The Executive Overview, Customer Insights and Financial Health pages call the metrics and forecast
services through :func:`metric` (``st.cache_data`` keyed by the warehouse snapshot and the
options, so a filter change recomputes only what it changes), draw with the Plotly builders here
and put every chart in a :func:`chart_card` with its CSV download. Definitions:
``docs/metrics.md`` (via :data:`revintel.metrics.definitions.DEFINITIONS`).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, fields, replace
from functools import partial
from html import escape
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.core.calendar import month_label
from revintel.core.csv_export import to_csv_bytes
from revintel.core.errors import RevintelError
from revintel.core.formatting import NULL, money, percent
from revintel.metrics import service
from revintel.metrics.definitions import DEFINITIONS
from revintel.metrics.finance import cash_against_recognised
from revintel.ui import outlook as outlook_worker
from revintel.ui import theme, vega
from revintel.ui.components import last_load_time, page_controls
from revintel.ui.outlook import DriverSource, Outlook

Record = dict[str, Any]
Unit = Literal["currency", "count", "ratio", "months", "multiple"]

# -- look -----------------------------------------------------------------------------------------
BLUE = theme.PRIMARY
GREEN = "#16A34A"
RED = "#DC2626"
AMBER = "#F59E0B"
SLATE = "#64748B"
PALETTE = [BLUE, "#0EA5E9", "#8B5CF6", "#14B8A6", AMBER, "#EC4899", SLATE, "#84CC16"]
MOVEMENT_COLOURS = {
    "new": BLUE,
    "expansion": "#14B8A6",
    "reactivation": "#8B5CF6",
    "contraction": AMBER,
    "churn": RED,
}
CHART_HEIGHT = 340

# -- filters --------------------------------------------------------------------------------------
FILTER_DIMENSIONS: dict[str, str] = {
    "segment": "Segment",
    "plan": "Plan",
    "country": "Country",
    "acquisition_channel": "Channel",
    "industry": "Industry",
}
_STATE = "_revintel_revenue_filters"  # survives page switches (widget state does not)


@dataclass(frozen=True)
class RevenueFilters:
    """The sidebar's choices: a month range and, per dimension, the values kept (empty: all)."""

    start: str
    end: str
    values: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def dimensions(self) -> dict[str, list[str]]:
        """The metrics service's ``filters`` option (only the dimensions with values chosen)."""
        return {d: list(v) for d, v in self.values if v}

    @property
    def options(self) -> dict[str, Any]:
        """The Executive Overview's metric options: up to the last month, with the filters (the
        dashboard server's warm-up asks the same, so that the page finds them computed)."""
        return {"end": self.end, "filters": self.dimensions}

    def without(self, *dimensions: str) -> dict[str, list[str]]:
        """The ``filters`` option minus some dimensions (for a breakdown by one of them)."""
        return {d: v for d, v in self.dimensions.items() if d not in dimensions}

    def describe(self) -> str:
        """E.g. ``2023-01 → 2024-06 · Segment: SMB``, for captions and file names."""
        parts = [f"{self.start} → {self.end}"]
        parts += [f"{FILTER_DIMENSIONS[d]}: {', '.join(v)}" for d, v in self.dimensions.items()]
        return " · ".join(parts)


def data_version(ctx: AppContext) -> str:
    """What identifies the loaded data: the warehouse, its snapshot and the last load time. Read
    once per page run (:meth:`AppContext.per_refresh`): a page asks it for every metric."""
    return ctx.per_refresh("data_version", lambda: _data_version(ctx))


def _data_version(ctx: AppContext) -> str:
    wh = ctx.warehouse
    snapshot = getattr(wh, "current_snapshot", None)
    loaded = last_load_time(ctx)
    return "|".join(
        str(part)
        for part in (
            ctx.settings.home,
            wh.kind,
            snapshot() if callable(snapshot) else "",
            loaded.isoformat() if loaded else "",
        )
    )


@st.cache_data(show_spinner=False, max_entries=512)
def _run(version: str, name: str, options: str, _ctx: AppContext) -> Any:
    given = json.loads(options)
    query = service.MetricQuery(**{k: given.pop(k) for k in _QUERY_FIELDS if k in given})
    return getattr(service, name)(_ctx, query, **given)


_QUERY_FIELDS = tuple(f.name for f in fields(service.MetricQuery))


def metric(ctx: AppContext, name: str, **options: Any) -> Any:
    """``revintel.metrics.service.<name>(ctx, MetricQuery(...), **rest)``: the options that are
    :class:`~revintel.metrics.service.MetricQuery` fields go to the query, the others (``basis``,
    ``cmgr_months``) to the function; cached per data version and options."""
    return _run(data_version(ctx), name, json.dumps(options, sort_keys=True), ctx)


@st.cache_data(show_spinner=False, max_entries=16)
def _filter_choices(version: str, _ctx: AppContext) -> dict[str, list[str]]:
    """Each filter's values as the data holds them (the metrics service's own list, which it
    matches filter values to)."""
    choices: dict[str, list[str]] = {}
    for dim in FILTER_DIMENSIONS:
        values = service.dimension_values(_ctx, dim)  # type: ignore[arg-type]
        if values:
            choices[dim] = list(values)
    return choices


def data_months(ctx: AppContext) -> list[str]:
    """Every complete month of the data, oldest first."""
    p = metric(ctx, "period")
    return [month_label(m) for m in range(p.first, p.last + 1)]


def render_filters(ctx: AppContext) -> RevenueFilters:
    """The revenue pages' sidebar filters; the choice is kept when switching between pages."""
    months = data_months(ctx)
    choices = _filter_choices(data_version(ctx), ctx)
    kept: dict[str, Any] = st.session_state.setdefault(_STATE, {})
    with page_controls():
        st.markdown("**:material/filter_alt: Filters**")
        if len(months) > 1:
            start, end = kept.get("months", (months[0], months[-1]))
            if start not in months or end not in months:
                start, end = months[0], months[-1]
            start, end = st.select_slider(
                "Months",
                options=months,
                value=(start, end),
                key="rev_months",
                help="First and last month shown; KPI tiles show the last month",
            )
        else:
            start = end = months[0]
        chosen: list[tuple[str, tuple[str, ...]]] = []
        for dim, label in FILTER_DIMENSIONS.items():
            options = choices.get(dim, [])
            key = f"rev_{dim}"
            default = [v for v in kept.get(dim, []) if v in options]
            picked = st.multiselect(label, options, default=default, key=key, placeholder="All")
            chosen.append((dim, tuple(picked)))
            kept[dim] = list(picked)
        kept["months"] = (start, end)
    return RevenueFilters(start=start, end=end, values=tuple(chosen))


def filter_note(filters: RevenueFilters, applies: Sequence[str], what: str) -> None:
    """Say which chosen filters a chart cannot apply (the engine offers no such cut)."""
    ignored = [FILTER_DIMENSIONS[d] for d in filters.dimensions if d not in applies]
    if ignored:
        st.caption(
            f":material/filter_alt_off: {what}: the {', '.join(ignored)} filter"
            f"{'s do' if len(ignored) > 1 else ' does'} not apply here."
        )


# -- values ---------------------------------------------------------------------------------------
def formatted(value: float | None, unit: Unit) -> str:
    """A value for a tile or a hover, by unit; ``—`` when undefined (never inf or nan)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NULL
    if unit == "currency":
        return money(value)
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "months":
        return f"{value:,.1f} mo"
    if unit == "multiple":
        return f"{value:,.2f}×"
    return percent(value)


def definition_help(name: str) -> str:
    """A metric's tooltip: its definition and convention from ``docs/metrics.md``."""
    d = DEFINITIONS[name]
    return f"**{d.label}** = {d.formula}.\n\nConvention: {d.convention}. See `{d.link}`."


@dataclass(frozen=True)
class Kpi:
    """One tile: a metric's value in a month and the month before, with its reason if undefined."""

    name: str  # a key of DEFINITIONS
    value: float | None
    previous: float | None
    reason: str | None = None
    unit: Unit | None = None
    label: str | None = None
    good_when_down: bool = False
    neutral: bool = False  # the change is neither good nor bad news (cash: billing timing)
    note: str | None = None  # read beside the value (cash: recognised revenue)

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def kpi_from_rows(
    name: str, rows: Sequence[Record], month: str, column: str | None = None, **extra: Any
) -> Kpi:
    """The KPI ``column`` (default ``name``) of ``month`` and of the row before it in ``rows``."""
    column = column or name
    by_month = {r["month"]: r for r in rows}
    ordered = sorted(by_month)
    now = by_month.get(month)
    index = ordered.index(month) if month in ordered else -1
    before = by_month[ordered[index - 1]] if index > 0 else None
    value = now.get(column) if now else None
    reason = (now or {}).get(f"{column}_reason") if now else "no data for this month"
    if value is None and reason is None:
        reason = "not defined for this month"
    return Kpi(
        name=name,
        value=value,
        previous=before.get(column) if before else None,
        reason=reason if value is None else None,
        **extra,
    )


def cash_kpi(cash: Sequence[Record], movements: Sequence[Record], month: str) -> Kpi:
    """The cash collected tile: its change in a neutral colour (billing timing moves it as much as
    growth does) and recognised revenue (MRR-based, from ``movements``) beside it
    (:func:`revintel.metrics.finance.cash_against_recognised`)."""
    kpi = kpi_from_rows("revenue", cash, month)
    recognised = kpi_from_rows("recognised_revenue", movements, month, column="mrr")
    note = None
    if kpi.value is not None:
        note = cash_against_recognised(
            kpi.value, kpi.previous, recognised.value, recognised.previous
        )
    return replace(kpi, neutral=True, note=note)


def delta_text(kpi: Kpi, unit: Unit) -> str | None:
    """A tile's month-over-month change: ``+$2.5M (+8.5%)``, ``+0.3 pts``; None if undefined."""
    change = kpi.change
    if change is None:
        return None
    relative = f" ({change / abs(kpi.previous):+.1%})" if kpi.previous else ""
    if unit == "ratio":
        return f"{100 * change:+.1f} pts"
    if unit == "currency":
        return f"{'+' if change >= 0 else '-'}{money(abs(change))}{relative}"
    if unit == "months":
        return f"{change:+.1f} mo"
    if unit == "multiple":
        return f"{change:+.2f}"
    return f"{change:+,.0f}{relative}"


TILE_STYLE = f"""<style>
.ri-kpis {{ display: grid; grid-template-columns: repeat(var(--ri-per-row), minmax(0, 1fr));
  gap: 1rem; }}
@media (max-width: 640px) {{ .ri-kpis {{ grid-template-columns: repeat(2, minmax(0, 1fr)); }} }}
.ri-kpi {{ border: 1px solid {theme.BORDER}; border-radius: 0.5rem; padding: 1rem;
  min-width: 0; }}
.ri-kpi-label {{ font-size: 0.875rem; display: flex; align-items: center; gap: 0.35rem;
  margin-bottom: 0.25rem; }}
.ri-kpi-value {{ font-size: 2.25rem; line-height: 1.2; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }}
.ri-kpi-delta {{ display: inline-block; margin-top: 0.5rem; padding: 0.1rem 0.4rem;
  border-radius: 0.5rem; font-size: 0.875rem; }}
.ri-kpi-delta.ri-good {{ color: #15803D; background: rgba(21, 128, 61, 0.1); }}
.ri-kpi-delta.ri-bad {{ color: #B91C1C; background: rgba(185, 28, 28, 0.1); }}
.ri-kpi-delta.ri-flat {{ color: #475569; background: rgba(71, 85, 105, 0.1); }}
.ri-kpi-reason {{ margin-top: 0.5rem; font-size: 0.875rem; color: #64748B; }}
.ri-help {{ position: relative; display: inline-flex; width: 1rem; height: 1rem;
  border: 1.5px solid #64748B; border-radius: 50%; color: #64748B; font-size: 0.7rem;
  font-weight: 700; align-items: center; justify-content: center; cursor: help; }}
.ri-tip {{ visibility: hidden; opacity: 0; position: absolute; left: -1rem; bottom: 1.6rem;
  z-index: 1000; width: 22rem; max-width: 80vw; padding: 0.75rem; border-radius: 0.5rem;
  background: #FFFFFF; color: {theme.TEXT}; border: 1px solid {theme.BORDER};
  box-shadow: 0 4px 16px rgba(15, 23, 42, 0.15); font-size: 0.875rem; font-weight: 400;
  line-height: 1.45; text-align: left; cursor: auto; transition: opacity 0.1s; }}
.ri-tip-left .ri-tip {{ left: auto; right: -1rem; }}
.ri-help:hover .ri-tip, .ri-help:focus .ri-tip {{ visibility: visible; opacity: 1; }}
.ri-tip code {{ font-size: 0.8rem; }}
</style>"""
"""The tiles' look, following the dashboard's theme (``ui/theme.py``)."""


def definition_html(name: str) -> str:
    """:func:`definition_help` as HTML, for a tile's tooltip."""
    d = DEFINITIONS[name]
    return (
        f"<strong>{escape(d.label)}</strong> = {escape(d.formula)}.<br><br>"
        f"Convention: {escape(d.convention)}. See <code>{escape(d.link)}</code>."
    )


def kpi_tile_html(kpi: Kpi, *, tip_leftwards: bool = False) -> str:
    """One tile: label with its definition as tooltip, value, month-over-month change (green when
    it is good news, red when bad) or, when undefined, why. ``tip_leftwards``: the tooltip opens
    towards the left (the right half of a row, where it would run off the page)."""
    d = DEFINITIONS[kpi.name]
    unit = kpi.unit or d.unit
    label = escape(kpi.label or d.label)
    delta = delta_text(kpi, unit)
    if kpi.value is None:
        below = f'<div class="ri-kpi-reason">{NULL} {escape(kpi.reason or "")}</div>'
    elif delta is None:
        below = ""
    else:
        change = kpi.change or 0.0
        arrow, tone = "", "ri-flat"
        if change:
            arrow = "↑ " if change > 0 else "↓ "
            if not kpi.neutral:
                tone = "ri-good" if (change > 0) != kpi.good_when_down else "ri-bad"
        below = (
            f'<div class="ri-kpi-delta {tone}" data-testid="revintelKpiDelta">'
            f"{arrow}{escape(delta)}</div>"
        )
    if kpi.note:
        below += (
            f'<div class="ri-kpi-reason" data-testid="revintelKpiNote">{escape(kpi.note)}</div>'
        )
    return (
        f'<div class="ri-kpi{" ri-tip-left" if tip_leftwards else ""}" data-testid="revintelKpi"'
        f' data-metric="{escape(kpi.name)}">'
        f'<div class="ri-kpi-label"><span data-testid="revintelKpiLabel">{label}</span>'
        f'<span class="ri-help" tabindex="0" role="button" aria-label="Definition of {label}">?'
        f'<span class="ri-tip" role="tooltip" data-testid="revintelKpiHelp">'
        f"{definition_html(kpi.name)}</span></span></div>"
        f'<div class="ri-kpi-value" data-testid="revintelKpiValue">'
        f"{escape(formatted(kpi.value, unit))}</div>{below}</div>"
    )


def kpi_tiles_html(kpis: Sequence[Kpi], per_row: int = 4) -> str:
    """The tiles as one HTML block (:data:`TILE_STYLE` with them): one element for Streamlit to
    draw instead of a column and a metric per tile (a third of the page's elements)."""
    tiles = "".join(
        kpi_tile_html(kpi, tip_leftwards=i % per_row >= per_row / 2) for i, kpi in enumerate(kpis)
    )
    return f'{TILE_STYLE}<div class="ri-kpis" style="--ri-per-row: {per_row}">{tiles}</div>'


def kpi_tiles(kpis: Sequence[Kpi], per_row: int = 4) -> None:
    """KPI tiles with the month-over-month change and the definition as tooltip."""
    st.html(kpi_tiles_html(kpis, per_row))


# -- missing tables -------------------------------------------------------------------------------
def missing_table_notice(ctx: AppContext, table: str, what: str) -> bool:
    """When ``table`` is not loaded, say which table to load for ``what``; True if it is missing."""
    if ctx.warehouse.has_table(table):
        return False
    st.info(
        f"Load the **{table}** table to see {what} (`revintel load {table}.csv`, or the Data "
        "page).",
        icon=":material/upload_file:",
    )
    return True


# -- chart cards ----------------------------------------------------------------------------------
def chart_card(
    title: str,
    figure: go.Figure | dict[str, Any] | Any | None,
    frame: Callable[[], pd.DataFrame],
    key: str,
    *,
    caption: str | None = None,
    help: str | None = None,
) -> None:
    """A bordered card: the title, the chart, a caption and a CSV download of its data.

    ``figure`` is a Plotly figure, an Altair chart (:mod:`revintel.ui.vega`) or its Vega-Lite
    spec (``revintel.ui.vega``'s ``*_spec``). ``frame`` makes the CSV's table, on the click only
    (a page run, such as a filter change, builds no table the user does not ask for).
    """
    with st.container(border=True):
        head, button = st.columns([3, 1], vertical_alignment="center")
        head.markdown(f"**{title}**", help=help)
        button.download_button(
            "CSV",
            # Made on the click: a file made on every run is stored by the server and fetched
            # by the browser with the page (four per page, on every filter change).
            data=partial(_csv, frame),
            file_name=f"{key}.csv",
            mime="text/csv",
            key=f"csv_{key}",
            icon=":material/download:",
            on_click="ignore",
            width="stretch",
        )
        if isinstance(figure, go.Figure):
            st.plotly_chart(figure, key=f"chart_{key}", config={"displaylogo": False})
        elif figure is not None:
            # A Vega-Lite spec (vega.*_spec), or an Altair chart turned into one (vega.spec: not
            # validated on every run as st.altair_chart does; named so that new data keeps it).
            spec = figure if isinstance(figure, dict) else vega.spec(figure)
            st.vega_lite_chart(
                spec=vega.with_arrow_datasets(spec),
                key=f"chart_{key}",
                width="stretch",
                theme=None,
            )
        if caption:
            st.caption(caption)


def _csv(frame: Callable[[], pd.DataFrame]) -> bytes:
    """The card's table as CSV, formula-like text escaped for spreadsheets."""
    return to_csv_bytes(frame())


def layout(figure: go.Figure, *, height: int = CHART_HEIGHT, **extra: Any) -> go.Figure:
    """The house style: white, light grid, legend on top, compact margins."""
    figure.update_layout(
        template="plotly_white",
        height=height,
        margin={"t": 10, "l": 10, "r": 10, "b": 10},
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "x": 0,
            "title": None,
            "font": {"size": 11},
        },
        font={"family": "sans-serif", "color": theme.TEXT, "size": 12},
        hoverlabel={"align": "left"},
        colorway=PALETTE,
        **extra,
    )
    figure.update_xaxes(showgrid=False)
    figure.update_yaxes(gridcolor=theme.BORDER, zeroline=False)
    return figure


def frame_of(rows: Sequence[Record], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows as a table (the chart's CSV), keeping ``columns`` and their reasons when given."""
    frame = pd.DataFrame(list(rows))
    if columns is not None and not frame.empty:
        keep = [c for c in frame.columns if c in columns or c.removesuffix("_reason") in columns]
        frame = frame[keep]
    return frame


def in_range(rows: Sequence[Record], filters: RevenueFilters) -> list[Record]:
    """The rows whose month is in the chosen range."""
    return [r for r in rows if filters.start <= r["month"] <= filters.end]


def _hover_value(value: Any, reason: Any, unit: Unit) -> str:
    return formatted(value, unit) if value is not None else f"{NULL} ({reason or 'undefined'})"


# -- outlook: forecast and anomalies, computed in a worker process (revintel.ui.outlook) ---------
# One computation per series, data and filters for the whole process; a page asks for the ones it
# draws, draws, then starts those not started yet (start_outlooks), so that the background work
# does not compete with the page's own run for the processor.
class OutlookFuture(Future):
    """A future :class:`Outlook` that knows its identity (series, data, filters): ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key


_FUTURES: OrderedDict[str, OutlookFuture] = OrderedDict()
_UNSTARTED: list[tuple[OutlookFuture, tuple[Any, ...]]] = []
_FUTURES_LOCK = threading.Lock()
_FUTURES_SIZE = 128


def _outlook_future(
    key: str, series: str, horizon: int, rows: list[Record], drivers: DriverSource | None
) -> OutlookFuture:
    with _FUTURES_LOCK:
        future = _FUTURES.get(key)
        if future is None:
            future = _FUTURES[key] = OutlookFuture(key)
            _UNSTARTED.append((future, (rows, series, horizon, drivers)))
            while len(_FUTURES) > _FUTURES_SIZE:
                _FUTURES.popitem(last=False)
        else:
            _FUTURES.move_to_end(key)
        return future


def start_outlooks() -> None:
    """Start the forecasts and anomaly detections asked for and not started yet."""
    with _FUTURES_LOCK:
        waiting = list(_UNSTARTED)
        _UNSTARTED.clear()
    for future, arguments in waiting:
        if future.set_running_or_notify_cancel():
            outlook_worker.submit(*arguments).add_done_callback(partial(_fill, future))


def _fill(future: OutlookFuture, computed: Future[Outlook]) -> None:
    try:
        result = computed.result()
    except BaseException as exc:  # the page shows it when it reads the result
        future.set_exception(exc)
        return
    if result.worker_failed:  # shown once; the next page run asks again (computed in the server)
        with _FUTURES_LOCK:
            if _FUTURES.get(future.key) is future:
                del _FUTURES[future.key]
    future.set_result(result)


def outlook(
    rows: Sequence[Record],
    series: str,
    column: str,
    horizon: int = 6,
    *,
    ctx: AppContext | None = None,
    filters: RevenueFilters | None = None,
) -> OutlookFuture:
    """The forecast and anomalies of ``column`` in ``rows``, computed in the background once.

    The computation starts at the next :func:`start_outlooks` (call it once the page is drawn).
    With ``ctx`` (and the page's ``filters``), MRR and revenue anomalies are judged by their
    drivers (movements, collections: :mod:`revintel.forecast.drivers`), read in the background.
    """
    slim = [{"month": r["month"], column: r.get(column)} for r in rows]
    drivers = None
    if ctx is not None and series in ("mrr", "revenue"):
        drivers = DriverSource(
            ctx.settings,
            data_version(ctx),
            filters.end if filters is not None else None,
            json.dumps(filters.dimensions if filters is not None else {}, sort_keys=True),
        )
    identity = [slim, series, None if drivers is None else [drivers.version, drivers.end,
                                                             drivers.filters]]  # fmt: skip
    key = hashlib.sha1(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
    return _outlook_future(key, series, horizon, slim, drivers)


def rerun_when_done(futures: Sequence[Future[Any]], every: float = 0.5) -> None:
    """Poll in a fragment while background work runs; rerun the page once it is all done."""

    @st.fragment(run_every=every)
    def poll() -> None:
        if all(f.done() for f in futures):
            st.rerun()

    poll()


# -- chart builders -------------------------------------------------------------------------------
def lines_by(
    rows: Sequence[Record],
    by: str,
    column: str,
    unit: Unit,
    *,
    mode: str = "lines+markers",
) -> go.Figure:
    """One line per ``by`` value of ``column`` over the months; undefined months are gaps."""
    figure = go.Figure()
    groups: dict[str, list[Record]] = {}
    for r in rows:
        groups.setdefault(str(r[by]), []).append(r)
    for name in sorted(groups):
        part = sorted(groups[name], key=lambda r: r["month"])
        figure.add_scatter(
            x=[r["month"] for r in part],
            y=[r.get(column) for r in part],
            mode=mode,
            name=name,
            customdata=[_hover_value(r.get(column), r.get(f"{column}_reason"), unit) for r in part],
            hovertemplate=f"{name} · %{{x}}: %{{customdata}}<extra></extra>",
            connectgaps=False,
        )
    figure = layout(figure, hovermode="closest")
    _axis_format(figure, unit)
    return figure


def _axis_format(figure: go.Figure, unit: Unit, axis: str = "y") -> None:
    update = figure.update_yaxes if axis == "y" else figure.update_xaxes
    if unit == "ratio":
        update(tickformat=".0%")
    elif unit == "currency":
        update(tickprefix="$", tickformat="~s")


def ranked_bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    reasons: Sequence[str | None],
    unit: Unit,
    *,
    notes: Sequence[str] | None = None,
    colour: str = BLUE,
) -> go.Figure:
    """Horizontal bars sorted by value (undefined values last, labelled ``—`` with the reason)."""
    items = sorted(
        zip(labels, values, reasons, notes or [""] * len(labels), strict=True),
        key=lambda t: (t[1] is None, -(t[1] or 0.0)),
    )
    items.reverse()  # Plotly draws the first category at the bottom
    texts = [_hover_value(v, r, unit) for _, v, r, _ in items]
    figure = go.Figure(
        go.Bar(
            x=[v if v is not None else 0.0 for _, v, _, _ in items],
            y=[str(label) for label, *_ in items],
            orientation="h",
            marker_color=colour,
            text=texts,
            textposition="outside",
            cliponaxis=False,
            customdata=[
                f"{t}{'<br>' + n if n else ''}" for t, (*_, n) in zip(texts, items, strict=True)
            ],
            hovertemplate="<b>%{y}</b><br>%{customdata}<extra></extra>",
        )
    )
    height = max(220, 28 * len(items) + 60)
    figure = layout(figure, height=min(height, 560), showlegend=False)
    _axis_format(figure, unit, axis="x")
    top = max((v for _, v, _, _ in items if v is not None), default=0.0)
    figure.update_xaxes(range=[0, top * 1.2 if top > 0 else 1])
    figure.update_yaxes(gridcolor="rgba(0,0,0,0)", type="category")
    figure.update_xaxes(showgrid=True, gridcolor=theme.BORDER)
    return figure


RETENTION_SCALE = [[0.0, "#EFF6FF"], [0.5, "#60A5FA"], [1.0, "#1E3A8A"]]
"""Logo retention, 0 to 100%: darker is more of the cohort kept."""
LOSS, KEPT, EXPANDED = "#B91C1C", "#F8FAFC", "#15803D"
"""Revenue retention's diverging scale: red below 100% (revenue lost), neutral at 100%, green
above (expansion), so that a cohort at 150% does not look like one at 100%."""


def cohort_heatmap(
    triangle: Mapping[str, Sequence[float | int | None]], label: str, *, diverging: bool = False
) -> go.Figure:
    """Cohorts (rows, newest at the bottom) × months since first payment, coloured by retention.

    ``diverging``: a scale centred on 100% (revenue retention, which expansion takes above 100%),
    running to the largest cell; else a 0-100% scale (logo retention, which cannot exceed it)."""
    cohorts = list(triangle)
    width = max((len(v) for v in triangle.values()), default=0)
    z = [list(triangle[c]) + [None] * (width - len(triangle[c])) for c in cohorts]
    text = [["" if v is None else f"{100 * v:.0f}%" for v in row] for row in z]
    top = 1.0
    colorscale = RETENTION_SCALE
    if diverging:
        top = max([1.25, *(v for row in z for v in row if v is not None)])
        centre = 1.0 / top
        colorscale = [
            [0.0, LOSS],
            [centre / 2, "#FCA5A5"],
            [centre, KEPT],
            [centre + (1.0 - centre) / 3, "#86EFAC"],
            [1.0, EXPANDED],
        ]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(width)),
            y=cohorts,
            text=text,
            texttemplate="%{text}" if width <= 13 else None,
            textfont={"size": 10},
            colorscale=colorscale,
            zmin=0,
            zmax=top,
            hoverongaps=False,
            colorbar={"title": {"text": label}, "tickformat": ".0%", "thickness": 12},
            hovertemplate="Cohort %{y} · month %{x}: %{z:.1%}<extra></extra>",
        )
    )
    figure = layout(figure, height=max(CHART_HEIGHT, 18 * len(cohorts) + 80))
    figure.update_yaxes(
        autorange="reversed", type="category", title=None, gridcolor="rgba(0,0,0,0)"
    )
    figure.update_xaxes(title="Months since first payment", dtick=1 if width <= 24 else 3)
    return figure


def money_bars_and_lines(
    rows: Sequence[Record],
    bars: Sequence[tuple[str, str, str]],
    lines: Sequence[tuple[str, str, str]],
    *,
    stacked: bool = True,
) -> go.Figure:
    """Monthly amounts: ``(column, label, colour)`` bars (stacked) and lines, in dollars."""
    months = [r["month"] for r in rows]
    figure = go.Figure()
    for column, label, colour in bars:
        figure.add_bar(x=months, y=[r.get(column) for r in rows], name=label, marker_color=colour,
                       hovertemplate=f"{label} %{{y:$,.0f}}<extra></extra>")  # fmt: skip
    for column, label, colour in lines:
        figure.add_scatter(x=months, y=[r.get(column) for r in rows], name=label,
                           mode="lines+markers", line={"color": colour, "width": 3},
                           hovertemplate=f"{label} %{{y:$,.0f}}<extra></extra>")  # fmt: skip
    figure = layout(figure, barmode="relative" if stacked else "group", hovermode="x unified")
    figure.update_yaxes(tickprefix="$", tickformat="~s")
    return figure


def signed_bars(rows: Sequence[Record], column: str, label: str) -> go.Figure:
    """Monthly amounts coloured by sign (profit green, loss red); undefined months say why."""
    months = [r["month"] for r in rows]
    values = [r.get(column) for r in rows]
    figure = go.Figure(
        go.Bar(
            x=months,
            y=values,
            marker_color=[SLATE if v is None else GREEN if v >= 0 else RED for v in values],
            customdata=[
                _hover_value(v, r.get(f"{column}_reason"), "currency")
                for v, r in zip(values, rows, strict=True)
            ],
            hovertemplate=f"%{{x}} · {label}: %{{customdata}}<extra></extra>",
        )
    )
    figure = layout(figure, showlegend=False)
    figure.update_yaxes(tickprefix="$", tickformat="~s")
    return figure


def ratio_line(rows: Sequence[Record], column: str, label: str) -> go.Figure:
    """A monthly rate as a line; undefined months are gaps whose hover says why."""
    months = [r["month"] for r in rows]
    figure = go.Figure(
        go.Scatter(
            x=months,
            y=[r.get(column) for r in rows],
            mode="lines+markers",
            name=label,
            line={"color": BLUE, "width": 3},
            fill="tozeroy",
            fillcolor="rgba(37,99,235,0.08)",
            customdata=[
                _hover_value(r.get(column), r.get(f"{column}_reason"), "ratio") for r in rows
            ],
            hovertemplate=f"%{{x}} · {label}: %{{customdata}}<extra></extra>",
        )
    )
    figure = layout(figure, showlegend=False)
    figure.update_yaxes(tickformat=".0%")
    return figure


def page_header(title: str, caption: str) -> None:
    """The page's title and one line on what it shows."""
    st.title(title, anchor=False)
    st.caption(caption)


def guarded(draw: Callable[[], None], what: str) -> None:
    """Draw a section; a user-level error (a missing column, no data) is said, not raised."""
    try:
        draw()
    except RevintelError as exc:
        st.warning(f"{what}: {exc}", icon=":material/warning:")

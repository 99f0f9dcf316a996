"""Model Training: train a churn model on the warehouse or an uploaded customer table, with a
validation and drift report first and live progress; compare it with production; promote, reject,
roll back, download and import versions; the scheduled retraining policy.

Thin: calls :mod:`revintel.churn.service` and :mod:`revintel.churn.registry` and draws.
Definitions: ``docs/churn.md``.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from revintel.app import churn as app_churn
from revintel.app import settings as app_settings
from revintel.app.context import AppContext
from revintel.churn import registry, service
from revintel.churn.config import InvalidChurnConfig
from revintel.churn.features import FEATURES
from revintel.churn.tabular import parse_target, read_table
from revintel.churn.training import TrainConfig
from revintel.core.errors import RevintelError
from revintel.health.service import snapshot_key
from revintel.ui.components import current_context, flash, has_data, render_empty_state
from revintel.ui.uploads import UPLOAD_PREFIX, save_uploads

WAREHOUSE = "Loaded warehouse"
UPLOAD = "Upload a customer table"
TRAINED_KEY = "mt_trained"
TABLE_KEY = "mt_table"
NO_ID = "(none)"
TARGET_HINTS = ("churn", "exited", "churned", "target", "label", "attrition", "left")
# Threshold-free measures first; then each model's own max-F1 threshold and the figures at it.
COMPARED = (
    "roc_auc", "pr_auc", "brier", "lift_top_decile", "capture_top_decile", "baseline.roc_auc",
    "oracle_roc_auc", "threshold", "precision", "recall", "f1", "accuracy",
)  # fmt: skip
COMPARED_LABELS = {
    "roc_auc": "ROC AUC", "pr_auc": "PR AUC", "brier": "Brier score",
    "lift_top_decile": "Top-decile lift", "capture_top_decile": "Top-decile capture",
    "baseline.roc_auc": "Baseline ROC AUC", "oracle_roc_auc": "Oracle ROC AUC",
    "threshold": "Max-F1 threshold", "precision": "Precision", "recall": "Recall", "f1": "F1",
    "accuracy": "Accuracy",
}  # fmt: skip
NOT_COLOURED = {"threshold"}  # a different threshold is neither better nor worse
LOWER_IS_BETTER = {"brier", "log_loss"}
# Each warehouse feature's label in words; an uploaded table's columns keep their names.
LABELS = {name: info.label for name, info in FEATURES.items()}
PSI_COLOURS = {"stable": "#DCFCE7", "moderate": "#FEF9C3", "drift": "#FEE2E2"}
OLD_COLOUR, NEW_COLOUR = "#9CA3AF", "#2563EB"


def plain(text: str) -> str:
    """``text`` with Markdown's special characters escaped (type names hold ``__main__``)."""
    return re.sub(r"([\\`*_{}\[\]<>#+|~$])", r"\\\1", text)


def _num(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render(ctx: AppContext) -> None:
    """The whole page: train, versions, scheduled retraining."""
    st.title("Model Training", anchor=False)
    st.caption(
        "Train the churn model on the loaded warehouse (1- or 3-month horizon) or on your own "
        "customer table, check it against the production model, and manage the versions."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    train_tab, versions_tab, retrain_tab = st.tabs(
        [
            ":material/model_training: Train",
            ":material/history: Versions",
            ":material/event_repeat: Scheduled retraining",
        ]
    )
    with train_tab:
        render_train(ctx)
    with versions_tab:
        render_versions(ctx)
    with retrain_tab:
        render_retraining(ctx)


# -- train ----------------------------------------------------------------------------------------
def render_train(ctx: AppContext) -> None:
    source = st.radio("Data", [WAREHOUSE, UPLOAD], horizontal=True, key="mt_source")
    if source == WAREHOUSE:
        horizon = st.segmented_control(
            "Horizon",
            [1, 3],
            default=1,
            format_func=lambda h: f"{h} month{'s' if h > 1 else ''}",
            key="mt_horizon",
        )
        horizon = int(horizon or 1)
        render_warehouse_report(ctx, horizon)
        job: dict[str, Any] | None = {"kind": "warehouse", "horizon": horizon}
    else:
        job = render_upload(ctx)
    config = render_config(enabled=job is not None)
    if config is not None and job is not None:
        train(ctx, job, config)
    trained = st.session_state.get(TRAINED_KEY)
    if trained:
        render_comparison(ctx, trained)


@st.cache_data(max_entries=8, show_spinner=False)
def _cached_drift(_ctx: AppContext, key: tuple[str, str]) -> service.DriftReport:
    return service.drift(_ctx, key[1])


def warehouse_drift(ctx: AppContext, version: str) -> service.DriftReport:
    """:func:`service.drift`, cached per data snapshot and model version."""
    snapshot = snapshot_key(ctx)
    if snapshot is None:
        return service.drift(ctx, version)
    return _cached_drift(ctx, (snapshot, version))


def render_warehouse_report(ctx: AppContext, horizon: int) -> None:
    """Data quality of the latest month and PSI per feature against the production model."""
    st.subheader("Validation and drift", anchor=False)
    production = registry.production(ctx, kind="warehouse", horizon=horizon)
    if production is None:
        st.info(
            f"No {horizon}-month model is in production yet: the first one trained is promoted "
            "and becomes the reference for drift.",
            icon=":material/info:",
        )
        return
    try:
        report = warehouse_drift(ctx, production.version)
    except RevintelError as exc:
        st.warning(f"No drift report: {exc}", icon=":material/warning:")
        return
    render_drift_and_quality(
        report.drift,
        report.quality,
        f"Latest month {report.month} against {production.version}'s training data "
        f"({report.training}).",
    )


def render_drift_and_quality(drift: pl.DataFrame, quality: pl.DataFrame, caption: str) -> None:
    """PSI per feature (coloured by status) beside the data-quality table."""
    st.caption(
        caption + " PSI < 0.1 stable · 0.1–0.25 moderate · ≥ 0.25 drift (retrain; not for the "
        "features that move with time, tenure and subscription age). Quality: "
        "missing values, outliers (|robust z| > 5), constant columns."
    )
    triggers = drift.filter(pl.col("retrain_trigger")) if drift.height else drift
    drifting = triggers.filter(pl.col("status") == "drift").height if triggers.height else 0
    issues = quality.filter(pl.col("issue").is_not_null()).height
    cols = st.columns(3)
    cols[0].metric(
        "Largest PSI",
        _num(triggers["psi"].max() if triggers.height else None),
        border=True,
        help="Among the features that can trigger retraining (not tenure or subscription age, "
        "which grow every month).",
    )
    cols[1].metric("Features drifting", f"{drifting}", border=True)
    cols[2].metric("Columns with a quality issue", f"{issues}", border=True)
    left, right = st.columns(2)
    with left:
        st.markdown("**Drift (PSI per feature, worst first)**")
        frame = (
            drift.with_columns(
                feature=pl.col("feature").replace_strict(LABELS, default=pl.col("feature")),
                status=pl.when(pl.col("retrain_trigger"))
                .then(pl.col("status"))
                .otherwise(pl.col("status") + " · moves with time"),
            )
            .select(
                "feature",
                "psi",
                "status",
                "reference_mean",
                "current_mean",
                "current_missing_share",
            )
            .to_pandas()
        )
        numeric = ["psi", "reference_mean", "current_mean", "current_missing_share"]
        frame[numeric] = frame[numeric].astype(float)
        st.dataframe(
            frame.style.apply(_psi_style, axis=None).format(
                {
                    "psi": "{:.3f}",
                    "reference_mean": "{:,.3g}",
                    "current_mean": "{:,.3g}",
                    "current_missing_share": "{:.0%}",
                },
                na_rep="—",
            ),
            hide_index=True,
            placeholder="—",
            height=320,
            key="mt_drift",
            column_config={
                "reference_mean": st.column_config.NumberColumn("mean in training"),
                "current_mean": st.column_config.NumberColumn("mean now"),
                "current_missing_share": st.column_config.NumberColumn("missing now"),
            },
        )
    with right:
        st.markdown("**Data quality**")
        st.dataframe(
            quality.with_columns(
                column=pl.col("column").replace_strict(LABELS, default=pl.col("column"))
            )
            .select(
                "column", "issue", "missing_share", "outliers", "distinct", "min", "max", "dtype"
            )
            .to_pandas(),
            hide_index=True,
            placeholder="—",
            height=320,
            key="mt_quality",
            column_config={
                "missing_share": st.column_config.NumberColumn("missing %", format="percent"),
                "issue": st.column_config.TextColumn("issue", width="medium"),
            },
        )


def _psi_style(frame: pd.DataFrame) -> pd.DataFrame:
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for i, status in frame["status"].items():
        if status in PSI_COLOURS:  # a feature that moves with time is left uncoloured
            styles.loc[i, ["psi", "status"]] = f"background-color: {PSI_COLOURS[status]}"
    return styles


def _guess_target(columns: list[str]) -> int:
    for i, name in enumerate(columns):
        if any(hint in name.lower() for hint in TARGET_HINTS):
            return i
    return len(columns) - 1


def _guess_id(columns: list[str]) -> int:
    for i, name in enumerate(columns):
        lower = name.lower()
        if lower == "id" or lower.endswith("_id") or lower.endswith("id"):
            return i + 1  # after NO_ID
    return 0


def render_upload(ctx: AppContext) -> dict[str, Any] | None:
    """An uploaded CSV/Parquet customer table, its target and id columns, and its validation."""
    upload = st.file_uploader(
        "Customer table (CSV or Parquet): one row per customer, a churn column",
        type=["csv", "parquet"],
        key="mt_upload",
    )
    if upload is None:
        st.session_state.pop(TABLE_KEY, None)
        st.info("Upload a table to validate and train on it.", icon=":material/upload:")
        return None
    saved = st.session_state.get(TABLE_KEY)
    if not saved or saved["id"] != upload.file_id:
        folder = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX))
        try:
            path = save_uploads([(upload.name, upload.getvalue())], folder)[0]
        except RevintelError as exc:
            st.error(str(exc), icon=":material/error:")
            return None
        saved = {"id": upload.file_id, "path": str(path), "name": upload.name}
        st.session_state[TABLE_KEY] = saved
    try:
        frame = read_table(Path(saved["path"]))
    except RevintelError as exc:
        st.error(
            str(exc).replace(str(Path(saved["path"]).parent) + "/", ""), icon=":material/error:"
        )
        return None
    columns = frame.columns
    left, right = st.columns(2)
    target = left.selectbox(
        "Target column (churned or not)", columns, index=_guess_target(columns), key="mt_target"
    )
    id_choice = right.selectbox(
        "Customer id column", [NO_ID, *columns], index=_guess_id(columns), key="mt_id"
    )
    id_column = None if id_choice == NO_ID else id_choice
    st.subheader("Validation and drift", anchor=False)
    st.caption(f"{saved['name']}: {frame.height:,} rows × {frame.width} columns.")
    try:
        y = parse_target(frame[target], target, source=saved["name"])
    except RevintelError as exc:
        st.error(f"The target cannot be used: {exc}", icon=":material/error:")
        return None
    if id_column == target:
        st.error("The id column and the target must differ.", icon=":material/error:")
        return None
    st.caption(f"Target {target}: {int(y.sum()):,} churners ({y.mean():.1%}).")
    report = service.table_drift(ctx, frame, exclude=(target, id_column))
    if report.reference_version is not None:
        caption = f"{saved['name']} against {report.reference_version}'s training data."
    else:
        caption = "No custom-table model in production: no reference for drift yet."
    render_drift_and_quality(report.drift, report.quality, caption)
    return {"kind": "table", "path": saved["path"], "target": target, "id": id_column}


def render_config(*, enabled: bool) -> TrainConfig | None:
    """Number of trees, learning rate and seed; the config when the form is submitted."""
    st.subheader("Configuration", anchor=False)
    defaults = TrainConfig()
    # Enter in a field (the seed) must not start a training run: only the button does.
    with st.form("mt_config", border=True, enter_to_submit=False):
        cols = st.columns(3)
        trees = cols[0].number_input(
            "Number of trees (at most)",
            min_value=10,
            max_value=10_000,
            value=defaults.n_estimators,
            step=50,
            help="An upper bound: early stopping on the calibration data picks the number.",
        )
        rate = cols[1].number_input(
            "Learning rate",
            min_value=0.001,
            max_value=1.0,
            value=defaults.learning_rate,
            step=0.01,
            format="%.3f",
        )
        seed = cols[2].number_input(
            "Seed", min_value=0, max_value=2**31 - 1, value=defaults.seed, step=1
        )
        submitted = st.form_submit_button(
            "Train model", type="primary", icon=":material/play_arrow:", disabled=not enabled
        )
    if not submitted:
        return None
    return TrainConfig(n_estimators=int(trees), learning_rate=float(rate), seed=int(seed))


def train(ctx: AppContext, job: dict[str, Any], config: TrainConfig) -> None:
    """Train with a live progress bar; remember the new version for the comparison."""
    bar = st.progress(0.0, text="Starting…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(1.0, max(0.0, fraction)), text=message)

    try:
        if job["kind"] == "warehouse":
            report = service.train_warehouse_model(
                ctx, job["horizon"], config=config, progress=progress
            )
        else:
            report = service.train_table_model(
                ctx,
                Path(job["path"]),
                job["target"],
                job["id"],
                config=config,
                progress=progress,
            )
    except RevintelError as exc:
        bar.empty()
        st.error(f"Training failed. {exc}", icon=":material/error:")
        return
    bar.progress(1.0, text=f"Done: {report.version} in {report.seconds:.1f} s")
    st.session_state[TRAINED_KEY] = {
        "version": report.version,
        "seconds": report.seconds,
        "decision": report.decision,
        "promoted": report.promoted,
    }


def render_comparison(ctx: AppContext, trained: dict[str, Any]) -> None:
    """Old (production) vs new: metrics with deltas, importance, confusion; promote or reject."""
    try:
        new = registry.get(ctx, trained["version"])
    except RevintelError:
        st.session_state.pop(TRAINED_KEY, None)
        return
    st.subheader(f"New model {new.version}", anchor=False)
    decision = (
        trained["decision"]
        if trained["promoted"]
        else "kept as a candidate: compare it below, then promote or reject it"
    )
    st.success(
        f"Trained {new.version} in {trained['seconds']:.1f} s: {decision}. Status: {new.status}.",
        icon=":material/check_circle:",
    )
    production = registry.production(ctx, kind=new.kind, horizon=new.horizon_months)
    old = production
    if production is None or production.version == new.version:
        previous = [
            r
            for r in registry.list_models(ctx, kind=new.kind)
            if r.horizon_months == new.horizon_months and r.version != new.version
        ]
        old = previous[0] if previous else None
    if old is None:
        st.info("No earlier model of this kind to compare with.", icon=":material/info:")
    else:
        comparison = service.compare_models(ctx, old.version, new.version)
        st.caption(
            f"{old.version} ({old.status}) → {new.version} ({new.status}); delta = new − old, "
            "green when better. Each on its own held-out customers. ROC AUC, PR AUC and the "
            "Brier score need no threshold; precision, recall, F1, accuracy and the confusion "
            "matrices are at each model's own max-F1 threshold (the same policy for both)."
        )
        left, right = st.columns([2, 3])
        with left:
            render_metric_deltas(comparison.metrics, old.version, new.version)
        with right:
            st.plotly_chart(
                importance_comparison(comparison.importance, old.version, new.version),
                key="mt_importance",
            )
        render_confusions(comparison.confusion, old.version, new.version)
    if new.status == "candidate":
        left, middle, right = st.columns([1, 1, 2])
        if left.button("Promote to production", type="primary", key="mt_promote"):
            _act(lambda: registry.promote(ctx, new.version), f"{new.version} is in production.")
        reason = right.text_input("Reason for rejecting", key="mt_reject_reason")
        if middle.button("Reject", key="mt_reject"):
            _act(
                lambda: registry.reject(ctx, new.version, reason or "rejected in the dashboard"),
                f"{new.version} was rejected.",
            )


def _act(action: Any, message: str) -> None:
    try:
        action()
    except RevintelError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    flash(message)
    st.rerun()


def render_metric_deltas(rows: list[dict[str, Any]], old: str, new: str) -> None:
    by_name = {r["metric"]: r for r in rows}
    frame = pd.DataFrame(
        [
            {
                "metric": COMPARED_LABELS.get(name, name),
                old: by_name[name]["a"],
                new: by_name[name]["b"],
                "delta": by_name[name]["delta"],
            }
            for name in COMPARED
            if name in by_name
        ]
    )
    if frame.empty:
        st.info("No metrics to compare.")
        return

    lower = {COMPARED_LABELS.get(n, n) for n in LOWER_IS_BETTER}
    plain_rows = {COMPARED_LABELS[n] for n in NOT_COLOURED}

    def colour(data: pd.DataFrame) -> pd.DataFrame:
        styles = pd.DataFrame("", index=data.index, columns=data.columns)
        for i, row in data.iterrows():
            delta = row["delta"]
            if delta is None or pd.isna(delta) or delta == 0 or row["metric"] in plain_rows:
                continue
            better = delta < 0 if row["metric"] in lower else delta > 0
            styles.loc[i, "delta"] = f"color: {'#16A34A' if better else '#DC2626'}"
        return styles

    st.dataframe(
        frame.style.apply(colour, axis=None).format(
            {old: "{:.3f}", new: "{:.3f}", "delta": "{:+.3f}"}, na_rep="—"
        ),
        hide_index=True,
        placeholder="—",
        height="content",
        key="mt_compare",
    )


def importance_comparison(rows: list[dict[str, Any]], old: str, new: str) -> go.Figure:
    rows = rows[:15][::-1]
    figure = go.Figure()
    for name, key, colour in ((old, "a", OLD_COLOUR), (new, "b", NEW_COLOUR)):
        figure.add_bar(
            y=[r["feature"] for r in rows],
            x=[r[key] for r in rows],
            name=name,
            orientation="h",
            marker_color=colour,
            hovertemplate="%{y}: %{x:.4f}<extra>" + name + "</extra>",
        )
    figure.update_layout(
        barmode="group",
        height=420,
        margin={"t": 30, "l": 0, "r": 0, "b": 0},
        title={"text": "Importance (mean |SHAP|)"},
        legend={"orientation": "h", "y": -0.12},
    )
    return figure


def render_confusions(confusion: dict[str, Any], old: str, new: str) -> None:
    cols = st.columns(2)
    for col, name, cm in ((cols[0], old, confusion.get("a")), (cols[1], new, confusion.get("b"))):
        if not cm:
            continue
        col.markdown(f"**Confusion matrix · {name}**")
        col.dataframe(
            pd.DataFrame(
                {
                    "": ["Actual: stayed", "Actual: churned"],
                    "Predicted: stays": [cm["tn"], cm["fn"]],
                    "Predicted: churns": [cm["fp"], cm["tp"]],
                }
            ),
            hide_index=True,
            placeholder="—",
            key=f"mt_cm_{'new' if name == new else 'old'}",
        )


# -- versions -------------------------------------------------------------------------------------
def versions_frame(records: list[registry.ModelRecord]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "version": r.version,
                "status": r.status,
                "horizon": f"{r.horizon_months} m" if r.horizon_months else "table",
                "created": r.created_at,
                "window": f"{r.training_from} – {r.training_to}"
                if r.training_from
                else r.source,
                "roc_auc": r.metrics.get("roc_auc"),
                "oracle_roc_auc": r.metrics.get("oracle_roc_auc"),
                "notes": (r.notes or "").splitlines()[-1] if r.notes else "",
            }
            for r in records
        ],
        columns=[
            "version", "status", "horizon", "created", "window", "roc_auc", "oracle_roc_auc",
            "notes",
        ],
    )  # fmt: skip


def render_versions(ctx: AppContext) -> None:
    """Every version; promote, reject, roll back, download; import a file."""
    records = registry.list_models(ctx)
    st.subheader("Versions", anchor=False)
    if not records:
        st.info("No model registered yet.", icon=":material/info:")
    else:
        st.dataframe(
            versions_frame(records),
            hide_index=True,
            placeholder="—",
            key="mt_versions",
            column_config={
                "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm"),
                "roc_auc": st.column_config.NumberColumn("ROC AUC", format="%.3f"),
                "oracle_roc_auc": st.column_config.NumberColumn("oracle AUC", format="%.3f"),
                "notes": st.column_config.TextColumn("notes", width="large"),
            },
        )
        render_version_actions(ctx, records)
    render_import(ctx)


def render_version_actions(ctx: AppContext, records: list[registry.ModelRecord]) -> None:
    by_version = {r.version: r for r in records}
    left, right = st.columns([1, 2])
    version = left.selectbox("Version", list(by_version), key="mt_version")
    record = by_version[version]
    horizon = f"{record.horizon_months}-month" if record.horizon_months else "custom-table"
    with right:
        cols = st.columns(4)
        if cols[0].button(
            "Promote",
            key="mt_v_promote",
            disabled=record.status == "production",
            icon=":material/upgrade:",
        ):
            _act(lambda: registry.promote(ctx, version), f"{version} is in production.")
        if cols[1].button(
            "Reject",
            key="mt_v_reject",
            disabled=record.status in ("production", "rejected"),
            icon=":material/block:",
        ):
            _act(
                lambda: registry.reject(ctx, version, "rejected in the dashboard"),
                f"{version} was rejected.",
            )
        if cols[2].button(
            "Roll back",
            key="mt_rollback",
            help=f"Re-promote the previous {horizon} production model; the current one is "
            "marked rejected.",
            icon=":material/undo:",
        ):
            _act(
                lambda: registry.rollback(ctx, record.kind, record.horizon_months),
                f"Rolled back the {horizon} model.",
            )
        cols[3].download_button(
            "Download",
            data=lambda: export_bytes(ctx, version),
            file_name=f"{version}.skops",
            mime="application/octet-stream",
            key="mt_download",
            icon=":material/download:",
        )
    st.caption(f"Roll back applies to the {horizon} models of the selected version.")
    if record.kind == "warehouse" and record.status == "production":
        st.caption("Promoting a model does not rescore the customers: score them with it here.")
        if st.button(f"Score every customer with {version}", key="mt_score"):
            with st.spinner("Scoring…"):
                try:
                    run = app_churn.score_warehouse(ctx, version)
                except RevintelError as exc:
                    st.error(str(exc), icon=":material/error:")
                    return
            flash(f"Scored {run.scored:,} customers with {run.version} in {run.seconds:.1f} s.")
            st.rerun()


def export_bytes(ctx: AppContext, version: str) -> bytes:
    """The version as a ``.skops`` file (model and registry metadata), for the download."""
    with tempfile.TemporaryDirectory() as folder:
        path = registry.export_model(ctx, version, Path(folder) / f"{version}.skops")
        return path.read_bytes()


def render_import(ctx: AppContext) -> None:
    """Import a ``.skops`` file exported by revintel; untrusted content is refused."""
    st.subheader("Import a model file", anchor=False)
    st.caption(
        "A .skops file exported from revintel. It is checked before anything is loaded: a file "
        "holding types other than scikit-learn, numpy, LightGBM and plain values is refused."
    )
    with st.form("mt_import_form", border=True):
        upload = st.file_uploader("Model file (.skops)", type=["skops"], key="mt_import")
        submitted = st.form_submit_button("Import", icon=":material/upload_file:")
    if not submitted:
        return
    if upload is None:
        st.warning("Choose a .skops file to import.")
        return
    with tempfile.TemporaryDirectory(prefix=UPLOAD_PREFIX) as folder:
        try:
            path = save_uploads([(upload.name, upload.getvalue())], Path(folder))[0]
            record = registry.import_model(ctx, path)
        except registry.UntrustedModelFile as exc:
            st.error(
                "Refused: this file is not trusted and was not loaded. "
                + plain(str(exc).replace(f"{folder}/", "")),
                icon=":material/gpp_bad:",
            )
            return
        except RevintelError as exc:
            st.error("Not imported. " + str(exc).replace(f"{folder}/", ""), icon=":material/error:")
            return
    flash(f"Imported {upload.name} as {record.version} (candidate).")
    st.rerun()


# -- scheduled retraining -------------------------------------------------------------------------
def render_retraining(ctx: AppContext) -> None:
    """The policy from the churn settings and a button that runs the check now."""
    st.subheader("Scheduled retraining", anchor=False)
    try:
        cfg = app_settings.load(ctx.settings, app_settings.CHURN)
    except InvalidChurnConfig as exc:
        st.error(str(exc), icon=":material/error:")
        return
    every = cfg.retrain_every_months
    cols = st.columns(3)
    cols[0].metric(
        "Retrain every",
        "only on drift" if every == 0 else f"{every} month{'s' if every > 1 else ''}",
        border=True,
    )
    cols[1].metric("…or when a feature's PSI reaches", f"{cfg.drift_psi_threshold:g}", border=True)
    cols[2].metric("Promote only when ROC AUC improves by", f"{cfg.promote_margin:g}", border=True)
    st.caption(
        "Settings: the [churn] table of revintel.toml or REVINTEL_HOME/churn.toml "
        "(retrain_every_months, drift_psi_threshold, promote_margin). Tenure and subscription "
        "age grow every month, so their drift never triggers retraining. Schedule "
        "`revintel churn models retrain` monthly (cron) to run this check unattended."
    )
    rows = []
    for horizon in (1, 3):
        production = registry.production(ctx, kind="warehouse", horizon=horizon)
        rows.append(
            {
                "horizon": f"{horizon} m",
                "production": production.version if production else None,
                "trained": production.created_at if production else None,
                "window": f"{production.training_from} – {production.training_to}"
                if production
                else None,
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        placeholder="—",
        key="mt_policy_models",
        column_config={"trained": st.column_config.DatetimeColumn(format="distance")},
    )
    left, right = st.columns([1, 3])
    horizon = left.selectbox(
        "Horizon", [1, 3], index=[1, 3].index(cfg.default_horizon), key="mt_retrain_horizon"
    )
    force = right.checkbox("Retrain even when not due", key="mt_retrain_force")
    if st.button("Run retraining check now", type="primary", key="mt_retrain"):
        bar = st.progress(0.0, text="Checking…")
        try:
            result = service.retrain(
                ctx,
                int(horizon),
                force=force,
                progress=lambda f, m: bar.progress(min(1.0, max(0.0, f)), text=m),
            )
        except RevintelError as exc:
            bar.empty()
            st.error(f"Retraining check failed. {exc}", icon=":material/error:")
            return
        bar.progress(1.0, text="Done")
        if not result.retrained:
            st.info(
                f"Not retrained: {result.reason}. Production: {result.production}.",
                icon=":material/info:",
            )
        else:
            st.success(
                f"Retrained ({result.reason}): {result.candidate} was "
                f"{'promoted' if result.promoted else 'not promoted'} — {result.decision}. "
                f"Production: {result.production}.",
                icon=":material/check_circle:",
            )


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())

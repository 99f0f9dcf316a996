"""The notes timeline of one account, with its add-note form, follow-up reminders and the
account's export with its notes: drawn on Account 360 and Customer Lookup.

Thin: calls :mod:`revintel.app.retention.notes` (kept in the app store) and draws.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, date, datetime
from typing import Any

import streamlit as st

from revintel.app.context import AppContext
from revintel.app.retention import notes
from revintel.core.errors import RevintelError
from revintel.ui.components import flash, show_flash

KIND_ICONS = {
    "note": ":material/sticky_note_2:",
    "call": ":material/call:",
    "email": ":material/mail:",
    "meeting": ":material/groups:",
    "offer": ":material/local_offer:",
}
SHOWN = 50  # newest notes drawn; the export holds all


def default_author() -> str:
    """The OS user, as the CLI's ``--author`` default."""
    try:
        return getpass.getuser() or "dashboard"
    except (KeyError, OSError):
        return "dashboard"


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _follow_up_text(note: notes.Note, today: date) -> str:
    if note.follow_up is None:
        return ""
    if note.follow_up_done:
        return f":green[:material/check_circle: follow-up {note.follow_up.isoformat()} done]"
    late = (today - note.follow_up).days
    if late > 0:
        return f":red[:material/alarm: follow-up {note.follow_up.isoformat()}, {late} days overdue]"
    if late == 0:
        return f":orange[:material/alarm: follow-up due today ({note.follow_up.isoformat()})]"
    return f":blue[:material/event: follow-up {note.follow_up.isoformat()}]"


def render_notes(ctx: AppContext, account_id: str, *, key: str) -> None:
    """The account's notes and actions: reminders, the add form, the timeline and the export."""
    st.subheader("Notes and actions", anchor=False)
    show_flash()
    prefix = f"{key}_notes_{account_id}"
    author = st.text_input(
        "Your name",
        value=default_author(),
        key=f"{key}_notes_author",
        max_chars=notes.MAX_AUTHOR,
        help="Recorded as the author; only a note's author may edit or delete it.",
    ).strip()
    try:
        listed = notes.list_notes(ctx, account_id, limit=SHOWN)
        due = notes.follow_ups(ctx, account_id=account_id)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    _render_reminders(ctx, due, author, key)
    _render_add_form(ctx, account_id, author, prefix)
    _render_timeline(ctx, listed, author, prefix)
    _render_export(ctx, account_id, prefix, listed.total)


def _render_reminders(ctx: AppContext, due: notes.FollowUps, author: str, key: str) -> None:
    """This account's open follow-ups due within a week, and the author's own across accounts."""
    for item in due.items:
        note = item.note
        text = f"Follow-up {note.follow_up} ({note.kind} by {note.author}): {note.text[:120]}"
        if item.overdue:
            st.error(f"{text} — {item.days_overdue} days overdue", icon=":material/alarm:")
        else:
            st.warning(text, icon=":material/event:")
    if not author:
        return
    try:
        mine = notes.follow_ups(ctx, owner=author)
    except RevintelError:
        return
    label = f"Your follow-up reminders: {len(mine.items)} due within a week"
    if mine.overdue:
        label += f", {mine.overdue} overdue"
    with st.expander(label, icon=":material/notifications_active:"):
        if not mine.items:
            st.caption("None due: follow-ups you set on any account show here.")
        for item in mine.items:
            n = item.note
            late = f" · **{item.days_overdue} days overdue**" if item.overdue else ""
            name = item.account_name or n.account_id
            st.markdown(f"{KIND_ICONS[n.kind]} **{n.follow_up}** · {name} ({n.account_id}){late}")
            st.caption(n.text[:200])


def _render_add_form(ctx: AppContext, account_id: str, author: str, prefix: str) -> None:
    with st.form(f"{prefix}_add", clear_on_submit=True, border=True):
        cols = st.columns([1, 1, 1])
        kind = cols[0].selectbox(
            "Kind",
            notes.KINDS,
            format_func=lambda k: k.capitalize(),
            key=f"{prefix}_kind",
        )
        follow_up = cols[1].date_input(
            "Follow-up (optional)", value=None, key=f"{prefix}_follow_up", format="YYYY-MM-DD"
        )
        outcome = cols[2].text_input(
            "Outcome (optional)", key=f"{prefix}_outcome", max_chars=notes.MAX_OUTCOME
        )
        text = st.text_area(
            "Note",
            key=f"{prefix}_text",
            placeholder="Call outcome, next step…",
            max_chars=notes.MAX_TEXT,
        )
        submitted = st.form_submit_button("Add note", icon=":material/add_comment:")
    if submitted:
        try:
            notes.add_note(
                ctx,
                account_id,
                text=text,
                kind=kind,
                outcome=outcome or None,
                follow_up=follow_up,
                author=author,
            )
        except RevintelError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            flash("Note saved")
            st.rerun()  # the timeline and reminders above were drawn before it


def _render_timeline(ctx: AppContext, listed: notes.AccountNotes, author: str, prefix: str) -> None:
    if not listed.notes:
        st.caption("No notes on this account yet: the first one you add is kept for everyone.")
        return
    today = datetime.now(UTC).date()
    shown = f"the newest {len(listed.notes)} of {listed.total}" if listed.total > SHOWN else ""
    st.caption(f"Timeline, newest first{': ' + shown if shown else ''}.")
    for note in listed.notes:
        with st.container(border=True, key=f"{prefix}_note_{note.note_id}"):
            edited = f" · edited {_when(note.updated_at)}" if note.updated_at else ""
            st.markdown(
                f"{KIND_ICONS[note.kind]} **{note.kind.capitalize()}** · {note.author} · "
                f"{_when(note.created_at)}{edited}"
            )
            st.text(note.text)
            if note.outcome:
                st.markdown(f"**Outcome:** {note.outcome}")
            follow = _follow_up_text(note, today)
            if follow:
                st.markdown(follow)
            if note.author == author:
                _render_own_note_actions(ctx, note, author, prefix)


def _render_own_note_actions(ctx: AppContext, note: notes.Note, author: str, prefix: str) -> None:
    cols = st.columns([1, 1, 4])
    open_follow_up = note.follow_up is not None and not note.follow_up_done
    done_key = f"{prefix}_done_{note.note_id}"
    if open_follow_up and cols[0].button("Done", key=done_key, icon=":material/task_alt:"):
        changes: dict[str, Any] = {"follow_up_done": True}
        _apply(lambda: notes.edit_note(ctx, note.note_id, author=author, changes=changes))
    if cols[1].button("Delete", key=f"{prefix}_delete_{note.note_id}", icon=":material/delete:"):
        _apply(lambda: notes.delete_note(ctx, note.note_id, author=author))
    edit = cols[2].popover("Edit", icon=":material/edit:")
    with edit, st.form(f"{prefix}_edit_{note.note_id}", border=False):
        text = st.text_area("Note", value=note.text, max_chars=notes.MAX_TEXT)
        outcome = st.text_input("Outcome", value=note.outcome or "", max_chars=notes.MAX_OUTCOME)
        follow_up = st.date_input("Follow-up", value=note.follow_up, format="YYYY-MM-DD")
        if st.form_submit_button("Save"):
            edits: dict[str, Any] = {
                "text": text,
                "outcome": outcome or None,
                "follow_up": follow_up,
            }
            _apply(lambda: notes.edit_note(ctx, note.note_id, author=author, changes=edits))


def _apply(change: object) -> None:
    try:
        change()  # type: ignore[operator]
    except RevintelError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.rerun()


def _render_export(ctx: AppContext, account_id: str, prefix: str, total: int) -> None:
    def document() -> bytes:
        return json.dumps(notes.export_account(ctx, account_id).to_dict(), indent=2).encode()

    st.download_button(
        f"Export account with its {total} note(s) (JSON)",
        data=document,  # made on the click, not on every run
        file_name=f"account_{account_id}.json",
        mime="application/json",
        icon=":material/download:",
        key=f"{prefix}_export",
        on_click="ignore",
    )

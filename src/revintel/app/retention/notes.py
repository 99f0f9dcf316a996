"""Notes and logged actions on accounts, with follow-up reminders (docs/retention.md, Notes and
action history).

A note is a plain note or a logged action (call, email, meeting, offer) on a customer of the
warehouse's ``customers`` table, with an optional outcome and follow-up date, its author and its
times. Only its author may edit or delete it (:class:`~revintel.core.errors.NotAllowed`
otherwise). A follow-up is open until the note is edited with ``follow_up_done``; the reminders
list open follow-ups due by a date, overdue first. Each change is one transaction in the app
store (``store/notes.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from revintel.core.errors import InvalidOption, NotAllowed, NotFoundError
from revintel.core.text import control_character
from revintel.store.notes import AccountNote

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime

KINDS: tuple[str, ...] = ("note", "call", "email", "meeting", "offer")
"""What a note records: a plain note, or a logged call, email, meeting or offer."""
MAX_TEXT = 5_000
MAX_OUTCOME = 1_000
MAX_AUTHOR = 200
EDITABLE = frozenset({"text", "kind", "outcome", "follow_up", "follow_up_done"})


@dataclass(frozen=True)
class Note:
    """One note as the faces show it."""

    note_id: int
    account_id: str
    kind: str
    text: str
    outcome: str | None
    follow_up: date | None
    follow_up_done: bool
    author: str
    created_at: datetime
    updated_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("follow_up", "created_at", "updated_at"):
            value = out[name]
            out[name] = value.isoformat() if value is not None else None
        return out


@dataclass(frozen=True)
class AccountNotes:
    """An account's notes, newest first, and how many it has."""

    account_id: str
    notes: list[Note]
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "total": self.total,
            "notes": [n.to_dict() for n in self.notes],
        }


@dataclass(frozen=True)
class FollowUp:
    """An open follow-up: the note, the account's name, and how many days it is overdue."""

    note: Note
    account_name: str | None
    days_overdue: int

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.note.to_dict(),
            "account_name": self.account_name,
            "days_overdue": self.days_overdue,
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class FollowUps:
    """Open follow-ups due on or before ``due_before``, overdue first (oldest due date first)."""

    today: date
    due_before: date
    owner: str | None
    items: list[FollowUp] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.items if item.overdue)

    def to_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "due_before": self.due_before.isoformat(),
            "owner": self.owner,
            "count": len(self.items),
            "overdue": self.overdue,
            "follow_ups": [item.to_dict() for item in self.items],
        }


@dataclass(frozen=True)
class AccountExport:
    """An account exported whole: its ``customers`` row and every note on it."""

    account_id: str
    account: dict[str, Any]
    notes: list[Note]
    exported_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "exported_at": self.exported_at.isoformat(),
            "account": {k: _jsonable(v) for k, v in self.account.items()},
            "notes": [n.to_dict() for n in self.notes],
        }


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite drops the timezone; every timestamp stored is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _note(row: AccountNote) -> Note:
    created = _aware(row.created_at)
    assert created is not None
    return Note(
        note_id=row.id,
        account_id=row.account_id,
        kind=row.kind,
        text=row.text,
        outcome=row.outcome,
        follow_up=row.follow_up,
        follow_up_done=row.follow_up_done_at is not None,
        author=row.author,
        created_at=created,
        updated_at=_aware(row.updated_at),
    )


# -- validation ---------------------------------------------------------------------------------
def _text(name: str, value: Any, limit: int, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise InvalidOption(f"'{name}': expected text of 1 to {limit:,} characters, got none")
        return None
    if not isinstance(value, str):
        raise InvalidOption(f"'{name}': expected text, got {type(value).__name__}")
    cleaned = value.strip()
    if not cleaned:
        if required:
            raise InvalidOption(f"'{name}': expected text of 1 to {limit:,} characters, got blank")
        return None
    if len(cleaned) > limit:
        raise InvalidOption(
            f"'{name}': expected at most {limit:,} characters, got {len(cleaned):,}"
        )
    # Line breaks and tabs belong in a note; NUL and other control characters do not.
    found = control_character(cleaned.replace("\n", "").replace("\r", "").replace("\t", ""))
    if found is not None:
        raise InvalidOption(f"'{name}' contains the control character {found}; expected text")
    return cleaned


def check_author(author: Any) -> str:
    """The author, stripped; :class:`InvalidOption` when blank, too long or not one line."""
    value = _text("author", author, MAX_AUTHOR, required=True)
    assert value is not None
    if "\n" in value or "\r" in value or "\t" in value:
        raise InvalidOption("'author': expected one line of text (a name or an email address)")
    return value


def _kind(value: Any) -> str:
    if value not in KINDS:
        raise InvalidOption(f"'kind' = {value!r}: expected one of {', '.join(KINDS)}")
    return str(value)


def _follow_up(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidOption(f"'follow_up' = {value!r}: expected a date YYYY-MM-DD, e.g. 2026-01-15")


def account_name(rt: Runtime, account_id: str) -> str | None:
    """The account's company name; :class:`NotFoundError` when ``customers`` has no such id."""
    row = _customer_row(rt, account_id)
    name = row.get("company_name")
    return str(name) if name is not None else None


def _customer_row(rt: Runtime, account_id: str) -> dict[str, Any]:
    if not isinstance(account_id, str) or not account_id.strip():
        raise InvalidOption("'account_id': expected a customer id, got blank")
    customers = rt.warehouse.table("customers")  # NoDataError when nothing is loaded
    found = rt.warehouse.to_arrow(customers.filter(customers.customer_id == account_id).limit(1))
    rows = found.to_pylist()
    if not rows:
        raise NotFoundError(
            f"Account {account_id!r} is not in the customers table; expected a customer_id of "
            "a loaded customer"
        )
    return dict(rows[0])


def _names(rt: Runtime, account_ids: Sequence[str]) -> dict[str, str | None]:
    if not account_ids:
        return {}
    wh = rt.warehouse
    if not wh.has_table("customers"):
        return {}
    customers = wh.table("customers")
    columns = ["customer_id"]
    if "company_name" not in customers.columns:
        return {}
    columns.append("company_name")
    found = wh.to_arrow(
        customers.filter(customers.customer_id.isin(list(set(account_ids)))).select(columns)
    )
    return {row["customer_id"]: row["company_name"] for row in found.to_pylist()}


# -- use cases ----------------------------------------------------------------------------------
def list_notes(
    rt: Runtime, account_id: str, *, kind: str | None = None, limit: int = 500
) -> AccountNotes:
    """The account's notes, newest first (at most ``limit``); ``kind`` keeps one kind."""
    _customer_row(rt, account_id)
    if kind is not None:
        _kind(kind)
    if not 1 <= limit <= 10_000:
        raise InvalidOption(f"'limit' = {limit}: expected 1 to 10,000")
    query = select(AccountNote).where(AccountNote.account_id == account_id)
    if kind is not None:
        query = query.where(AccountNote.kind == kind)
    with rt.store.session() as s:
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = s.scalars(
            query.order_by(AccountNote.created_at.desc(), AccountNote.id.desc()).limit(limit)
        ).all()
        notes = [_note(r) for r in rows]
    return AccountNotes(account_id=account_id, notes=notes, total=int(total))


def add_note(
    rt: Runtime,
    account_id: str,
    *,
    text: str,
    author: str,
    kind: str = "note",
    outcome: str | None = None,
    follow_up: date | str | None = None,
) -> Note:
    """Record a note or logged action on a customer of the warehouse."""
    clean_text = _text("text", text, MAX_TEXT, required=True)
    clean_kind = _kind(kind)
    clean_outcome = _text("outcome", outcome, MAX_OUTCOME, required=False)
    due = _follow_up(follow_up)
    who = check_author(author)
    _customer_row(rt, account_id)
    with rt.store.session() as s:
        row = AccountNote(
            account_id=account_id,
            kind=clean_kind,
            text=clean_text,
            outcome=clean_outcome,
            follow_up=due,
            author=who,
            created_at=_now(),
        )
        s.add(row)
        s.flush()
        return _note(row)


def _owned(s: Any, note_id: int, author: str, verb: str) -> AccountNote:
    row = s.get(AccountNote, note_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"Note {note_id} does not exist; expected the note_id of a note")
    if row.author != author:
        raise NotAllowed(
            f"Note {note_id} was written by {row.author!r}; only its author may {verb} it "
            f"(author given: {author!r})"
        )
    return row


def edit_note(rt: Runtime, note_id: int, *, author: str, changes: Mapping[str, Any]) -> Note:
    """Change the given fields of a note (``text``, ``kind``, ``outcome``, ``follow_up`` (None
    clears it), ``follow_up_done``); only its author may."""
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise InvalidOption(
            f"cannot change {', '.join(unknown)}; expected some of {', '.join(sorted(EDITABLE))}"
        )
    if not changes:
        raise InvalidOption(f"nothing to change; expected some of {', '.join(sorted(EDITABLE))}")
    values: dict[str, Any] = {}
    if "text" in changes:
        values["text"] = _text("text", changes["text"], MAX_TEXT, required=True)
    if "kind" in changes:
        values["kind"] = _kind(changes["kind"])
    if "outcome" in changes:
        values["outcome"] = _text("outcome", changes["outcome"], MAX_OUTCOME, required=False)
    if "follow_up" in changes:
        values["follow_up"] = _follow_up(changes["follow_up"])
    done = changes.get("follow_up_done")
    if "follow_up_done" in changes and not isinstance(done, bool):
        raise InvalidOption(f"'follow_up_done' = {done!r}: expected true or false")
    who = check_author(author)
    now = _now()
    with rt.store.session() as s:
        row = _owned(s, note_id, who, "edit")
        moved = "follow_up" in values and values["follow_up"] != row.follow_up
        for name, value in values.items():
            setattr(row, name, value)
        if moved and "follow_up_done" not in changes:
            row.follow_up_done_at = None  # a new date opens the follow-up again
        if "follow_up_done" in changes:
            if done and row.follow_up is None:
                raise InvalidOption(
                    f"'follow_up_done': note {note_id} has no follow-up date to mark done"
                )
            row.follow_up_done_at = now if done else None
        row.updated_at = now
        s.flush()
        return _note(row)


def delete_note(rt: Runtime, note_id: int, *, author: str) -> Note:
    """Delete a note (only its author may); the deleted note is returned."""
    who = check_author(author)
    with rt.store.session() as s:
        row = _owned(s, note_id, who, "delete")
        note = _note(row)
        s.delete(row)
        return note


def get_note(rt: Runtime, note_id: int) -> Note:
    with rt.store.session() as s:
        row = s.get(AccountNote, note_id)
        if row is None:
            raise NotFoundError(f"Note {note_id} does not exist; expected the note_id of a note")
        return _note(row)


def follow_ups(
    rt: Runtime,
    *,
    owner: str | None = None,
    due_before: date | str | None = None,
    account_id: str | None = None,
    today: date | None = None,
    limit: int = 500,
) -> FollowUps:
    """Open follow-ups due on or before ``due_before`` (default: a week from today), overdue
    first. ``owner`` keeps those whose note's author is ``owner`` (who set the follow-up owns
    it); ``account_id`` keeps one account's."""
    today = today or _now().date()
    due = _follow_up(due_before) if due_before is not None else today + timedelta(days=7)
    assert due is not None
    who = check_author(owner) if owner is not None else None
    if not 1 <= limit <= 10_000:
        raise InvalidOption(f"'limit' = {limit}: expected 1 to 10,000")
    query = select(AccountNote).where(
        AccountNote.follow_up.is_not(None),
        AccountNote.follow_up_done_at.is_(None),
        AccountNote.follow_up <= due,
    )
    if who is not None:
        query = query.where(AccountNote.author == who)
    if account_id is not None:
        query = query.where(AccountNote.account_id == account_id)
    with rt.store.session() as s:
        rows = s.scalars(query.order_by(AccountNote.follow_up, AccountNote.id).limit(limit)).all()
        notes = [_note(r) for r in rows]
    names = _names(rt, [n.account_id for n in notes])
    items = [
        FollowUp(
            note=n,
            account_name=names.get(n.account_id),
            days_overdue=max(0, (today - n.follow_up).days) if n.follow_up else 0,
        )
        for n in notes
    ]
    return FollowUps(today=today, due_before=due, owner=who, items=items)


def export_account(rt: Runtime, account_id: str) -> AccountExport:
    """The account's ``customers`` row with every note on it, oldest first (an export reads in
    the order things happened)."""
    account = _customer_row(rt, account_id)
    with rt.store.session() as s:
        rows = s.scalars(
            select(AccountNote)
            .where(AccountNote.account_id == account_id)
            .order_by(AccountNote.created_at, AccountNote.id)
        ).all()
        notes = [_note(r) for r in rows]
    return AccountExport(account_id=account_id, account=account, notes=notes, exported_at=_now())


@dataclass(frozen=True)
class LatestNotes:
    """Per account: the newest note's text and time, and the next open follow-up."""

    last_note: dict[str, str]
    last_note_at: dict[str, datetime]
    next_follow_up: dict[str, date]


def latest_notes(rt: Runtime, account_ids: Sequence[str] | None = None) -> LatestNotes:
    """For an export of many accounts (the scheduled high-risk CSV): each account's newest note
    and next open follow-up. ``account_ids`` None: every account with a note."""
    query = select(
        AccountNote.account_id,
        AccountNote.text,
        AccountNote.created_at,
        AccountNote.follow_up,
        AccountNote.follow_up_done_at,
    ).order_by(AccountNote.created_at, AccountNote.id)
    if account_ids is not None:
        wanted = list(set(account_ids))
        if not wanted:
            return LatestNotes({}, {}, {})
        if len(wanted) <= 5_000:
            query = query.where(AccountNote.account_id.in_(wanted))
    last: dict[str, str] = {}
    at: dict[str, datetime] = {}
    follow: dict[str, date] = {}
    keep = set(account_ids) if account_ids is not None else None
    with rt.store.session() as s:
        for account, text, created, due, done in s.execute(query):
            if keep is not None and account not in keep:
                continue
            last[account] = text
            when = _aware(created)
            assert when is not None
            at[account] = when
            if (
                due is not None
                and done is None
                and (account not in follow or due < follow[account])
            ):
                follow[account] = due
    return LatestNotes(last, at, follow)

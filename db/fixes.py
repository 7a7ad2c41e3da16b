"""Process fixes and the review meetings that decide them: write and read.

Every write runs in one transaction that also bumps the data version, so a
cached page sees it at once. Writes are safe against the two ways a form goes
wrong in a shared review:

- a double submit: the form's token goes to a UNIQUE column, and a second
  insert with the same token returns the row the first one created;
- two people editing one fix: each change names the version it was based on,
  and the row is updated only while it is still at that version.

Nothing is ever deleted; a fix that is dropped is marked ``abandoned``, and a
review meeting, once recorded, stays as it was recorded.
"""

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, NoReturn

import polars as pl
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from db.models import (
    ATTENDEES_MAX,
    NAME_MAX,
    PACKET_MAX,
    REASON_MAX,
    SHORT_MAX,
    SIGNAL_TEXT_MAX,
    TOKEN_MAX,
    Escalation,
    FixStatus,
    ProcessFix,
    ProcessFixEscalation,
    ProcessFixHistory,
    ReviewMeeting,
    RootCause,
)
from db.queries import UTC_DATETIME, read_frame
from db.version import bump_data_version

log = logging.getLogger(__name__)

_FIX = ProcessFix.__table__  # type: ignore[attr-defined]
_LINK = ProcessFixEscalation.__table__  # type: ignore[attr-defined]
_HISTORY = ProcessFixHistory.__table__  # type: ignore[attr-defined]
_ESCALATION = Escalation.__table__  # type: ignore[attr-defined]
_REVIEW = ReviewMeeting.__table__  # type: ignore[attr-defined]

# Longest accepted input, by the name of the input field. The same limits hold in
# the schema; checking them here turns a database error into a message.
FIELD_LIMITS: dict[str, int] = {
    "title": NAME_MAX,
    "owner": NAME_MAX,
    "author": NAME_MAX,
    "expected_effect": PACKET_MAX,
    "trigger_type": SHORT_MAX,
    "reason": REASON_MAX,
    "attendees": ATTENDEES_MAX,
    "decisions": SIGNAL_TEXT_MAX,
    "notes": SIGNAL_TEXT_MAX,
    "token": TOKEN_MAX,
}
TRIGGER_TYPE_PATTERN = re.compile(r"^[a-z0-9_]+$")

ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    FixStatus.PROPOSED: (FixStatus.IN_PROGRESS, FixStatus.ABANDONED),
    FixStatus.IN_PROGRESS: (FixStatus.SHIPPED, FixStatus.ABANDONED),
    FixStatus.SHIPPED: (FixStatus.VERIFIED, FixStatus.ABANDONED),
    FixStatus.VERIFIED: (),
    FixStatus.ABANDONED: (),
}

# Fields update_fix may change; status has its own function and its own rules.
EDITABLE_FIELDS = ("title", "owner", "due_on", "expected_effect", "trigger_type")
CREATED = "created"
LINKED = "linked escalations"

_LABELS = {
    "title": "Title",
    "owner": "Owner",
    "author": "Author",
    "expected_effect": "Expected effect",
    "trigger_type": "Trigger type",
    "reason": "Reason for abandoning",
    "attendees": "Attendees",
    "decisions": "Decisions",
    "notes": "Notes",
    "token": "Submission token",
    "due_on": "Due date",
}


class FixValidationError(ValueError):
    """Input that cannot be saved; ``errors`` maps each field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {text}" for key, text in errors.items()))


class FixTransitionError(ValueError):
    """A status change the lifecycle does not allow."""

    def __init__(self, fix_id: int, current: str, requested: str) -> None:
        self.fix_id = fix_id
        self.current = current
        self.requested = requested
        self.allowed = ALLOWED_TRANSITIONS.get(current, ())
        following = ", ".join(self.allowed) if self.allowed else "nothing (final)"
        message = (
            f"Fix {fix_id} cannot move from {current} to {requested}; "
            f"from {current} it can move to: {following}."
        )
        super().__init__(message)


class StaleFixError(RuntimeError):
    """The fix changed since the caller read it; nothing was written."""

    def __init__(
        self,
        fix_id: int,
        expected_version: int,
        current_version: int,
        changed_at: datetime | None,
        changed_by: str | None,
    ) -> None:
        self.fix_id = fix_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.changed_at = changed_at
        self.changed_by = changed_by
        when = f"{changed_at:%Y-%m-%d %H:%M} UTC" if changed_at else "an unknown time"
        who = changed_by or "someone"
        message = (
            f"Someone else changed this fix at {when} by {who}; reload it to see "
            f"their change (you had version {expected_version}, it is now "
            f"version {current_version})."
        )
        super().__init__(message)


class _NothingChanged(Exception):
    """Raised inside a transaction to roll back a change that changes nothing."""


@dataclass(frozen=True)
class FixInput:
    """What the new-fix form submits."""

    title: str
    trigger_type: str
    root_cause: str
    owner: str
    due_on: date | None
    expected_effect: str | None
    escalation_ids: tuple[int, ...]
    author: str
    token: str


def normalise_trigger_type(value: str) -> str:
    """Lowercase, with runs of spaces and dashes turned into one underscore."""
    return re.sub(r"[\s\-]+", "_", value.strip()).lower()


def _too_long(field: str, value: str) -> str | None:
    """A message when ``value`` is over the field's limit, else None."""
    limit = FIELD_LIMITS[field]
    if len(value) <= limit:
        return None
    return (
        f"{_LABELS[field]} is {len(value)} characters long; the limit is {limit}. "
        f"Shorten it by {len(value) - limit}."
    )


def _check_text(
    errors: dict[str, str], field: str, value: str | None, *, required: bool
) -> None:
    """Add the error for one text field, if any: missing or too long."""
    text = (value or "").strip()
    if not text:
        if required:
            errors[field] = f"{_LABELS[field]} is required."
        return
    message = _too_long(field, text)
    if message is not None:
        errors[field] = message


def _check_trigger_type(errors: dict[str, str], value: str | None) -> None:
    """Add the error for a trigger type, judged after normalising it."""
    normal = normalise_trigger_type(value or "")
    if not normal:
        errors["trigger_type"] = "Trigger type is required."
        return
    message = _too_long("trigger_type", normal)
    if message is not None:
        errors["trigger_type"] = message
    elif not TRIGGER_TYPE_PATTERN.match(normal):
        errors["trigger_type"] = (
            f"Trigger type {normal!r} may hold only lowercase letters, digits and "
            "underscores (spaces and dashes become underscores)."
        )


def _check_token(errors: dict[str, str], token: str | None) -> None:
    """Add the error for a form's submission token: missing or too long."""
    if not (token or "").strip():
        errors["token"] = (
            "The form has no submission token; reload the page and submit again."
        )
    else:
        _check_text(errors, "token", token, required=True)


def _check_due_on(errors: dict[str, str], value: date | None, today: date) -> None:
    """Add the error for a due date: missing, not a plain date, or past."""
    if value is None:
        errors["due_on"] = "Due date is required."
    elif isinstance(value, datetime):
        errors["due_on"] = "Due date must be a calendar date, without a time."
    elif value < today:
        errors["due_on"] = (
            f"Due date {value.isoformat()} is before today ({today.isoformat()}); "
            "pick today or a later day."
        )


def _require_aware(value: datetime, name: str) -> datetime:
    """``value`` in UTC; a naive datetime is a programming error."""
    if value.utcoffset() is None:
        message = f"{name} must be timezone-aware, got naive {value.isoformat()}"
        raise ValueError(message)
    return value.astimezone(UTC)


def due_at_for(due_on: date) -> datetime:
    """The stored form of a due date: 00:00 UTC of that day.

    A due date is a day, not an instant; midnight UTC round-trips exactly
    through ``due_at.date()``, whatever zone the reader is in.
    """
    return datetime.combine(due_on, time(0), tzinfo=UTC)


def validate_fix(data: FixInput, *, today: date) -> dict[str, str]:
    """Check a new fix; return field name -> message, empty when it can be saved.

    Whether the linked escalations exist is checked by :func:`create_fix`, which
    has the database at hand.
    """
    errors: dict[str, str] = {}
    _check_text(errors, "title", data.title, required=True)
    _check_trigger_type(errors, data.trigger_type)
    if not (data.root_cause or "").strip():
        errors["root_cause"] = "Root cause is required."
    elif data.root_cause not in {cause.value for cause in RootCause}:
        known = ", ".join(cause.value for cause in RootCause)
        errors["root_cause"] = (
            f"Root cause {data.root_cause!r} is unknown; choose one of: {known}."
        )
    _check_text(errors, "owner", data.owner, required=True)
    _check_due_on(errors, data.due_on, today)
    _check_text(errors, "expected_effect", data.expected_effect, required=False)
    _check_text(errors, "author", data.author, required=True)
    _check_token(errors, data.token)
    return errors


def as_text(value: object) -> str | None:
    """A history value: None stays NULL, datetimes and dates become ISO 8601."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _id_for_token(engine: Engine, table: Any, token: str) -> int | None:
    """The id of the row a submission token already created, if any."""
    with engine.connect() as connection:
        found = connection.execute(
            select(table.c.id).where(table.c.submission_token == token)
        ).scalar_one_or_none()
    return None if found is None else int(found)


def _missing_escalations(connection: Connection, ids: Iterable[int]) -> list[int]:
    """Those of ``ids`` that name no escalation, sorted."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    found = set(
        connection.execute(
            select(_ESCALATION.c.id).where(_ESCALATION.c.id.in_(wanted))
        ).scalars()
    )
    return [escalation_id for escalation_id in wanted if escalation_id not in found]


def _missing_message(missing: list[int]) -> str:
    """The message for linked escalation ids that do not exist."""
    listed = ", ".join(str(escalation_id) for escalation_id in missing)
    if len(missing) == 1:
        return f"No escalation has id {listed}; remove it from the list."
    return f"No escalations have ids {listed}; remove them from the list."


def create_fix(*, engine: Engine, data: FixInput, now: datetime) -> int:
    """Log a new fix with its links and a ``created`` history row; return its id.

    Parameters
    ----------
    engine
        Engine of a migrated database.
    data
        The form's input. ``due_on`` is stored as 00:00 UTC of that day.
    now
        Aware time of the submission; its calendar date, in its own zone, is
        "today" for the due-date check.

    Raises
    ------
    FixValidationError
        When the input is invalid or a linked escalation does not exist;
        nothing is written.

    A token that was already used (a double submit) returns the fix it created
    and writes nothing.
    """
    logged_at = _require_aware(now, "now")
    errors = validate_fix(data, today=now.date())
    if errors:
        raise FixValidationError(errors)

    token = data.token.strip()
    existing = _id_for_token(engine, _FIX, token)
    if existing is not None:
        log.info("fix form token already used; returning fix %s", existing)
        return existing

    values: dict[str, Any] = {
        "title": data.title.strip(),
        "trigger_type": normalise_trigger_type(data.trigger_type),
        "root_cause": data.root_cause,
        "owner": data.owner.strip(),
        "status": FixStatus.PROPOSED.value,
        "logged_at": logged_at,
        "due_at": due_at_for(data.due_on) if data.due_on is not None else None,
        "expected_effect": (data.expected_effect or "").strip() or None,
        "author": data.author.strip(),
        "version": 1,
        "submission_token": token,
    }
    escalation_ids = sorted(set(data.escalation_ids))
    try:
        with engine.begin() as connection:
            # The insert comes first so that the token is claimed by the first
            # statement: a concurrent duplicate then waits on it and fails,
            # instead of both passing a check made before either wrote.
            fix_id = int(
                connection.execute(
                    insert(_FIX).values(**values).returning(_FIX.c.id)
                ).scalar_one()
            )

            missing = _missing_escalations(connection, escalation_ids)
            if missing:
                raise FixValidationError({"escalation_ids": _missing_message(missing)})
            if escalation_ids:
                connection.execute(
                    insert(_LINK),
                    [
                        {"fix_id": fix_id, "escalation_id": escalation_id}
                        for escalation_id in escalation_ids
                    ],
                )

            snapshot = {
                name: as_text(value)
                for name, value in values.items()
                if name not in {"version", "submission_token", "logged_at"}
            }
            snapshot["escalation_ids"] = ", ".join(map(str, escalation_ids)) or None
            connection.execute(
                insert(_HISTORY).values(
                    fix_id=fix_id,
                    at=logged_at,
                    author=values["author"],
                    field=CREATED,
                    old_value=None,
                    new_value=json.dumps(snapshot, sort_keys=True),
                )
            )
            bump_data_version(connection=connection, history=False)
    except IntegrityError:
        # The failed transaction is rolled back (PostgreSQL would refuse any
        # further statement in it); the winner's row is read in a fresh one.
        existing = _id_for_token(engine, _FIX, token)
        if existing is None:
            raise
        log.info("fix form submitted twice at once; returning fix %s", existing)
        return existing

    log.info("fix %s logged by %s", fix_id, values["author"])
    return fix_id


def _raise_missing_or_stale(
    connection: Connection, fix_id: int, expected_version: int
) -> NoReturn:
    """Explain why a versioned update matched no row: no such fix, or stale."""
    current = connection.execute(
        select(_FIX.c.version).where(_FIX.c.id == fix_id)
    ).scalar_one_or_none()
    if current is None:
        message = f"No process fix with id {fix_id}."
        raise LookupError(message)
    last = connection.execute(
        select(_HISTORY.c.at, _HISTORY.c.author)
        .where(_HISTORY.c.fix_id == fix_id)
        # Writes to one fix are serialised by its version, so the highest id is
        # the latest change even if callers passed clocks that disagree.
        .order_by(_HISTORY.c.id.desc())
        .limit(1)
    ).first()
    raise StaleFixError(
        fix_id,
        expected_version,
        int(current),
        last.at if last is not None else None,
        last.author if last is not None else None,
    )


def _claim(
    connection: Connection, fix_id: int, expected_version: int, now: datetime
) -> dict[str, Any]:
    """Move the fix to its next version if it is still at ``expected_version``.

    This compare-and-set is the first statement of every change, so the row is
    locked (SQLite: the database) before anything is read, and of two writers
    holding the same version exactly one matches. Returns the row as it was
    before the change, apart from ``version`` and ``updated_at``.
    """
    result = connection.execute(
        update(_FIX)
        .where(_FIX.c.id == fix_id, _FIX.c.version == expected_version)
        .values(version=_FIX.c.version + 1, updated_at=now)
    )
    if result.rowcount != 1:
        _raise_missing_or_stale(connection, fix_id, expected_version)
    row = connection.execute(select(_FIX).where(_FIX.c.id == fix_id)).mappings().one()
    return dict(row)


def _apply(
    connection: Connection,
    fix_id: int,
    before: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    author: str,
    now: datetime,
) -> list[str]:
    """Write the changed columns and one history row each; return their names."""
    changed = {name: value for name, value in changes.items() if before[name] != value}
    if not changed:
        return []
    connection.execute(update(_FIX).where(_FIX.c.id == fix_id).values(**changed))
    connection.execute(
        insert(_HISTORY),
        [
            {
                "fix_id": fix_id,
                "at": now,
                "author": author,
                "field": name,
                "old_value": as_text(before[name]),
                "new_value": as_text(value),
            }
            for name, value in changed.items()
        ],
    )
    return list(changed)


def change_fix_status(
    *,
    engine: Engine,
    fix_id: int,
    new_status: str,
    author: str,
    now: datetime,
    expected_version: int,
    shipped_at: datetime | None = None,
    reason: str | None = None,
) -> int:
    """Move a fix along its lifecycle; return its new version.

    Parameters
    ----------
    new_status
        One of :data:`ALLOWED_TRANSITIONS` ``[current status]``.
    expected_version
        The version the caller's view shows; the change is refused if the fix
        has moved on since.
    shipped_at
        Only when marking shipped: when it shipped, aware, not after ``now``;
        ``now`` when omitted.
    reason
        Only when abandoning, and then required.

    Raises
    ------
    FixValidationError
        Bad author, reason or shipped time.
    FixTransitionError
        The lifecycle does not allow the move.
    StaleFixError
        The fix is no longer at ``expected_version``.
    LookupError
        No fix has ``fix_id``.

    Every refusal writes nothing.
    """
    changed_at = _require_aware(now, "now")
    errors: dict[str, str] = {}
    _check_text(errors, "author", author, required=True)

    changes: dict[str, Any] = {"status": str(new_status)}
    if new_status == FixStatus.ABANDONED:
        _check_text(errors, "reason", reason, required=True)
        changes["abandon_reason"] = (reason or "").strip()
    elif reason is not None and reason.strip():
        errors["reason"] = "A reason is recorded only when a fix is abandoned."

    if new_status == FixStatus.SHIPPED:
        shipped = now if shipped_at is None else shipped_at
        if shipped.utcoffset() is None:
            errors["shipped_at"] = "Shipped time needs a time zone."
        elif shipped > now:
            errors["shipped_at"] = (
                f"Shipped time {shipped.isoformat()} is in the future "
                f"(now is {now.isoformat()}); enter when it actually shipped."
            )
        else:
            changes["shipped_at"] = shipped.astimezone(UTC)
    elif shipped_at is not None:
        errors["shipped_at"] = "A shipped time is recorded only when marking shipped."
    if errors:
        raise FixValidationError(errors)

    with engine.begin() as connection:
        before = _claim(connection, fix_id, expected_version, changed_at)
        current = str(before["status"])
        if new_status not in ALLOWED_TRANSITIONS.get(current, ()):
            raise FixTransitionError(fix_id, current, new_status)
        _apply(
            connection, fix_id, before, changes, author=author.strip(), now=changed_at
        )
        bump_data_version(connection=connection, history=False)

    log.info("fix %s moved from %s to %s by %s", fix_id, current, new_status, author)
    return expected_version + 1


def update_fix(
    *,
    engine: Engine,
    fix_id: int,
    changes: Mapping[str, object],
    author: str,
    now: datetime,
    expected_version: int,
) -> int:
    """Edit a fix's title, owner, due date, expected effect or trigger type.

    ``changes`` maps names from :data:`EDITABLE_FIELDS` to new values (a
    ``due_on`` date; None or blank clears the expected effect). Fields equal to
    the stored value are left alone; when nothing differs nothing is written and
    the version stays. Returns the fix's version after the edit.

    Raises :class:`FixValidationError`, :class:`StaleFixError` or
    :class:`LookupError` as :func:`change_fix_status` does, writing nothing;
    ``ValueError`` for a field that is not editable.
    """
    changed_at = _require_aware(now, "now")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        message = f"Cannot edit {unknown} with update_fix; editable: {EDITABLE_FIELDS}"
        raise ValueError(message)

    errors: dict[str, str] = {}
    _check_text(errors, "author", author, required=True)
    columns: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "due_on":
            if value is not None and not isinstance(value, date):
                errors[name] = "Due date must be a calendar date."
                continue
            due_on = value if isinstance(value, date) else None
            _check_due_on(errors, due_on, now.date())
            if due_on is not None and name not in errors:
                columns["due_at"] = due_at_for(due_on)
            continue
        if value is not None and not isinstance(value, str):
            errors[name] = f"{_LABELS[name]} must be text."
            continue
        text = value or ""
        if name == "trigger_type":
            _check_trigger_type(errors, text)
            columns[name] = normalise_trigger_type(text)
        else:
            _check_text(errors, name, text, required=name != "expected_effect")
            columns[name] = text.strip() or None
    if errors:
        raise FixValidationError(errors)

    try:
        with engine.begin() as connection:
            before = _claim(connection, fix_id, expected_version, changed_at)
            # A due date kept as it was must not turn an older row's time of
            # day into midnight and show up as a change.
            due_at, stored = columns.get("due_at"), before["due_at"]
            if (
                due_at is not None
                and stored is not None
                and stored.date() == due_at.date()
            ):
                columns["due_at"] = stored
            written = _apply(
                connection,
                fix_id,
                before,
                columns,
                author=author.strip(),
                now=changed_at,
            )
            if not written:
                raise _NothingChanged
            bump_data_version(connection=connection, history=False)
    except _NothingChanged:
        return expected_version

    log.info("fix %s edited by %s: %s", fix_id, author, ", ".join(written))
    return expected_version + 1


def link_escalations(
    *,
    engine: Engine,
    fix_id: int,
    escalation_ids: Iterable[int],
    author: str,
    now: datetime,
    expected_version: int,
) -> int:
    """Link more escalations to a fix; return its version afterwards.

    Ids already linked are ignored; when all are, nothing is written and the
    version stays. The history row ``linked escalations`` lists the linked ids
    before and after. Raises :class:`FixValidationError` (no ids, or ids that
    name no escalation), :class:`StaleFixError` or :class:`LookupError`,
    writing nothing.
    """
    changed_at = _require_aware(now, "now")
    wanted = sorted(set(escalation_ids))
    errors: dict[str, str] = {}
    _check_text(errors, "author", author, required=True)
    if not wanted:
        errors["escalation_ids"] = "Choose at least one escalation to link."
    if errors:
        raise FixValidationError(errors)

    try:
        with engine.begin() as connection:
            _claim(connection, fix_id, expected_version, changed_at)
            missing = _missing_escalations(connection, wanted)
            if missing:
                raise FixValidationError({"escalation_ids": _missing_message(missing)})
            linked = set(
                connection.execute(
                    select(_LINK.c.escalation_id).where(_LINK.c.fix_id == fix_id)
                ).scalars()
            )
            added = [
                escalation_id for escalation_id in wanted if escalation_id not in linked
            ]
            if not added:
                raise _NothingChanged
            connection.execute(
                insert(_LINK),
                [
                    {"fix_id": fix_id, "escalation_id": escalation_id}
                    for escalation_id in added
                ],
            )
            connection.execute(
                insert(_HISTORY).values(
                    fix_id=fix_id,
                    at=changed_at,
                    author=author.strip(),
                    field=LINKED,
                    old_value=", ".join(map(str, sorted(linked))) or None,
                    new_value=", ".join(map(str, sorted(linked | set(added)))),
                )
            )
            bump_data_version(connection=connection, history=False)
    except _NothingChanged:
        return expected_version

    log.info("fix %s linked to %s more escalations", fix_id, len(added))
    return expected_version + 1


HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "fix_id": pl.Int64(),
    "at": UTC_DATETIME,
    "author": pl.String(),
    "field": pl.String(),
    "old_value": pl.String(),
    "new_value": pl.String(),
}
LINK_SCHEMA: dict[str, pl.DataType] = {
    "fix_id": pl.Int64(),
    "escalation_id": pl.Int64(),
}


def load_fix_history(
    *, connection: Connection, fix_id: int | None = None
) -> pl.DataFrame:
    """History rows, all or one fix's, oldest first by the time each write gave."""
    query = select(*(_HISTORY.c[name] for name in HISTORY_SCHEMA))
    if fix_id is not None:
        query = query.where(_HISTORY.c.fix_id == fix_id)
    query = query.order_by(_HISTORY.c.at, _HISTORY.c.id)
    return read_frame(connection, query, HISTORY_SCHEMA)


def load_fix_links(*, connection: Connection) -> pl.DataFrame:
    """Every fix-to-escalation link, by fix then escalation."""
    query = select(_LINK.c.fix_id, _LINK.c.escalation_id).order_by(
        _LINK.c.fix_id, _LINK.c.escalation_id
    )
    return read_frame(connection, query, LINK_SCHEMA)


def load_fix(*, connection: Connection, fix_id: int) -> dict[str, Any] | None:
    """One fix for its edit form, or None if absent.

    Holds every column but the submission token, plus ``due_on`` (the due
    date, or None) and ``escalation_ids`` (a sorted tuple). Pass ``version`` back
    as ``expected_version`` when changing the fix.
    """
    columns = [column for column in _FIX.columns if column.name != "submission_token"]
    row = connection.execute(select(*columns).where(_FIX.c.id == fix_id)).mappings()
    found = row.first()
    if found is None:
        return None
    fix = dict(found)
    fix["due_on"] = fix["due_at"].date() if fix["due_at"] is not None else None
    fix["escalation_ids"] = tuple(
        connection.execute(
            select(_LINK.c.escalation_id)
            .where(_LINK.c.fix_id == fix_id)
            .order_by(_LINK.c.escalation_id)
        ).scalars()
    )
    return fix


# Review meetings


class ReviewValidationError(FixValidationError):
    """A review that cannot be saved; ``errors`` maps each field to its message.

    A subclass of :class:`FixValidationError`, so that one handler serves every
    form of the repair review.
    """


@dataclass(frozen=True)
class ReviewInput:
    """What the review form submits."""

    held_on: date | None
    attendees: str
    decisions: str
    notes: str | None
    author: str
    token: str


def validate_review(data: ReviewInput, *, today: date) -> dict[str, str]:
    """Check a review; return field name -> message, empty when it can be saved."""
    errors: dict[str, str] = {}
    if data.held_on is None:
        errors["held_on"] = "Meeting date is required."
    elif isinstance(data.held_on, datetime):
        errors["held_on"] = "Meeting date must be a calendar date, without a time."
    elif data.held_on > today:
        errors["held_on"] = (
            f"Meeting date {data.held_on.isoformat()} is after today "
            f"({today.isoformat()}); record a review once it has been held."
        )
    _check_text(errors, "attendees", data.attendees, required=True)
    _check_text(errors, "decisions", data.decisions, required=True)
    _check_text(errors, "notes", data.notes, required=False)
    _check_text(errors, "author", data.author, required=True)
    _check_token(errors, data.token)
    return errors


def record_review(*, engine: Engine, data: ReviewInput, now: datetime) -> int:
    """Save a review and return its id; a token already used returns that review.

    ``now`` must be aware; its calendar date, in its own zone, is "today".
    Raises :class:`ReviewValidationError`, writing nothing, for invalid input.
    """
    recorded_at = _require_aware(now, "now")
    errors = validate_review(data, today=now.date())
    if errors:
        raise ReviewValidationError(errors)

    token = data.token.strip()
    existing = _id_for_token(engine, _REVIEW, token)
    if existing is not None:
        log.info("review form token already used; returning review %s", existing)
        return existing

    values = {
        "held_on": data.held_on,
        "attendees": data.attendees.strip(),
        "decisions": data.decisions.strip(),
        "notes": (data.notes or "").strip() or None,
        "author": data.author.strip(),
        "recorded_at": recorded_at,
        "submission_token": token,
    }
    try:
        with engine.begin() as connection:
            review_id = int(
                connection.execute(
                    insert(_REVIEW).values(**values).returning(_REVIEW.c.id)
                ).scalar_one()
            )
            bump_data_version(connection=connection, history=False)
    except IntegrityError:
        # Another submit of the same form won; read its row in a fresh
        # transaction, since this one is rolled back.
        existing = _id_for_token(engine, _REVIEW, token)
        if existing is None:
            raise
        log.info("review form submitted twice at once; returning %s", existing)
        return existing

    log.info("review %s of %s recorded by %s", review_id, data.held_on, data.author)
    return review_id


REVIEW_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "held_on": pl.Date(),
    "attendees": pl.String(),
    "decisions": pl.String(),
    "notes": pl.String(),
    "author": pl.String(),
    "recorded_at": UTC_DATETIME,
}
# Newest meeting first; two records of one day by the later recording.
_NEWEST_FIRST = (
    _REVIEW.c.held_on.desc(),
    _REVIEW.c.recorded_at.desc(),
    _REVIEW.c.id.desc(),
)


def load_reviews(*, connection: Connection) -> pl.DataFrame:
    """Every review, newest meeting first."""
    query = select(*(_REVIEW.c[name] for name in REVIEW_SCHEMA)).order_by(
        *_NEWEST_FIRST
    )
    return read_frame(connection, query, REVIEW_SCHEMA)


def latest_review(*, connection: Connection) -> dict[str, Any] | None:
    """The newest review (columns as in :data:`REVIEW_SCHEMA`), or None."""
    query = (
        select(*(_REVIEW.c[name] for name in REVIEW_SCHEMA))
        .order_by(*_NEWEST_FIRST)
        .limit(1)
    )
    row = connection.execute(query).mappings().first()
    return dict(row) if row is not None else None

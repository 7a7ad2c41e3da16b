"""People's decisions on early-warning flags: open an escalation or dismiss.

The model only flags an account whose signals drift from help seeking to exit
seeking; a person decides what happens next. Opening creates the escalation, with
the packet as that person edited it and the owner they chose, and attaches the
signals it cites. Dismissing records who dismissed the flag and why. Nothing here
runs on its own: each write is one call made for one person's decision.

Every write runs in one transaction that also bumps the data version. A form's
submission token goes to a UNIQUE column, so a double click returns what the
first click wrote and writes nothing more.
"""

import logging
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import polars as pl
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from db.fixes import TRIGGER_TYPE_PATTERN, normalise_trigger_type
from db.models import (
    NAME_MAX,
    PACKET_MAX,
    REASON_MAX,
    SHORT_MAX,
    TOKEN_MAX,
    Account,
    DismissReason,
    EarlyWarningDecision,
    Escalation,
    EscalationStatus,
    FlagDecision,
    RaisedVia,
    Severity,
    Signal,
)
from db.queries import UTC_DATETIME, read_frame
from db.version import bump_data_version

log = logging.getLogger(__name__)

_DECISION = EarlyWarningDecision.__table__  # type: ignore[attr-defined]
_ESCALATION = Escalation.__table__  # type: ignore[attr-defined]
_ACCOUNT = Account.__table__  # type: ignore[attr-defined]
_SIGNAL = Signal.__table__  # type: ignore[attr-defined]

# Escalations opened from a flag carry this prefix in their external id, so that
# they are easy to tell apart from imported or demo escalations.
EXTERNAL_ID_PREFIX = "EW"

PACKET_FIELDS = (
    "risk",
    "evidence",
    "options",
    "decision_needed",
    "next_owner",
    "consequence_if_unchanged",
    "exit_evidence",
)
REQUIRED_PACKET_FIELDS = ("risk", "evidence", "decision_needed")

# Longest accepted input, by field name; the schema holds the same limits.
# ``next_owner`` is a name column in the escalation table, hence NAME_MAX.
FIELD_LIMITS: dict[str, int] = {
    "decided_by": NAME_MAX,
    "owner": NAME_MAX,
    "trigger_type": SHORT_MAX,
    "reason": REASON_MAX,
    "token": TOKEN_MAX,
    **{name: PACKET_MAX for name in PACKET_FIELDS},
    "next_owner": NAME_MAX,
}

_LABELS = {
    "account_id": "Account",
    "decided_by": "Decided by",
    "owner": "Owner",
    "severity": "Severity",
    "trigger_type": "Trigger type",
    "reason_category": "Reason category",
    "reason": "Reason",
    "token": "Submission token",
    "flagged_since": "Flagged since",
    "exit_share": "Exit share",
    "signals_in_window": "Signals in window",
    "evidence_signal_ids": "Evidence signals",
    "risk": "Risk",
    "evidence": "Evidence",
    "options": "Options",
    "decision_needed": "Decision needed",
    "next_owner": "Next owner",
    "consequence_if_unchanged": "Consequence if unchanged",
    "exit_evidence": "Exit evidence",
}


class FlagValidationError(ValueError):
    """A decision that cannot be saved; ``errors`` maps each field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {text}" for key, text in errors.items()))


class PacketFields(Protocol):
    """Anything with the seven packet answers as attributes (a dataclass, say)."""

    @property
    def risk(self) -> str | None: ...
    @property
    def evidence(self) -> str | None: ...
    @property
    def options(self) -> str | None: ...
    @property
    def decision_needed(self) -> str | None: ...
    @property
    def next_owner(self) -> str | None: ...
    @property
    def consequence_if_unchanged(self) -> str | None: ...
    @property
    def exit_evidence(self) -> str | None: ...


@dataclass(frozen=True)
class EscalationPacket:
    """The packet of an escalation opened from a flag, as the person edited it."""

    risk: str | None = None
    evidence: str | None = None
    options: str | None = None
    decision_needed: str | None = None
    next_owner: str | None = None
    consequence_if_unchanged: str | None = None
    exit_evidence: str | None = None


def _too_long(field: str, text: str) -> str | None:
    """A message when ``text`` is over the field's limit, else None."""
    limit = FIELD_LIMITS[field]
    if len(text) <= limit:
        return None
    return (
        f"{_LABELS[field]} is {len(text)} characters long; the limit is {limit}. "
        f"Shorten it by {len(text) - limit}."
    )


def _clean_text(
    errors: dict[str, str], field: str, value: object, *, required: bool
) -> str | None:
    """The stripped text of one field, or None; records the field's error if any."""
    if value is not None and not isinstance(value, str):
        errors[field] = f"{_LABELS[field]} must be text, got {type(value).__name__}."
        return None
    text = (value or "").strip()
    if not text:
        if required:
            errors[field] = f"{_LABELS[field]} is required."
        return None
    message = _too_long(field, text)
    if message is not None:
        errors[field] = message
    return text


def _check_token(errors: dict[str, str], token: object) -> str | None:
    """The stripped submission token; records an error when missing or too long."""
    if not isinstance(token, str) or not token.strip():
        errors["token"] = (
            "The form has no submission token; reload the page and submit again."
        )
        return None
    return _clean_text(errors, "token", token, required=True)


def _check_choice(
    errors: dict[str, str], field: str, value: object, choices: Iterable[str]
) -> str | None:
    """``value`` when it is one of ``choices``; records an error otherwise."""
    known = list(choices)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[field] = f"{_LABELS[field]} is required."
        return None
    if not isinstance(value, str) or value not in known:
        errors[field] = (
            f"{_LABELS[field]} {value!r} is unknown; choose one of: {', '.join(known)}."
        )
        return None
    return str(value)


def _require_now(now: datetime | None) -> datetime:
    """The time of the decision in UTC; a naive ``now`` is a programming error."""
    if now is None:
        return datetime.now(UTC)
    if now.utcoffset() is None:
        message = f"now must be timezone-aware, got naive {now.isoformat()}"
        raise ValueError(message)
    return now.astimezone(UTC)


def _check_flag(
    errors: dict[str, str],
    *,
    account_id: object,
    flagged_since: object,
    exit_share: object,
    signals_in_window: object,
    now: datetime,
) -> datetime | None:
    """Check the flag's own figures; return ``flagged_since`` in UTC when valid."""
    if not isinstance(account_id, int) or isinstance(account_id, bool):
        errors["account_id"] = f"Account id must be a whole number, got {account_id!r}."

    since: datetime | None = None
    if not isinstance(flagged_since, datetime):
        errors["flagged_since"] = (
            f"Flagged since must be a date and time, got {flagged_since!r}."
        )
    elif flagged_since.utcoffset() is None:
        errors["flagged_since"] = (
            f"Flagged since {flagged_since.isoformat()} has no time zone; "
            "give it in UTC."
        )
    elif flagged_since > now:
        errors["flagged_since"] = (
            f"Flagged since {flagged_since.astimezone(UTC).isoformat()} is after "
            f"the decision time {now.isoformat()}; a flag cannot start later."
        )
    else:
        since = flagged_since.astimezone(UTC)

    if (
        isinstance(exit_share, bool)
        or not isinstance(exit_share, int | float)
        or not math.isfinite(exit_share)
    ):
        errors["exit_share"] = f"Exit share must be a number, got {exit_share!r}."
    elif not 0 <= exit_share <= 1:
        errors["exit_share"] = (
            f"Exit share {exit_share} is outside 0 to 1; it is the share of the "
            "window's signals that seek an exit."
        )

    if not isinstance(signals_in_window, int) or isinstance(signals_in_window, bool):
        errors["signals_in_window"] = (
            f"Signals in window must be a whole number, got {signals_in_window!r}."
        )
    elif signals_in_window < 0:
        errors["signals_in_window"] = (
            f"Signals in window is {signals_in_window}; it cannot be negative."
        )
    return since


def _packet_values(packet: Mapping[str, Any] | PacketFields) -> dict[str, object]:
    """The seven packet answers by name, from a mapping or an object's attributes."""
    if isinstance(packet, Mapping):
        unknown = sorted(set(packet) - set(PACKET_FIELDS))
        if unknown:
            message = f"Unknown packet fields {unknown}; known: {PACKET_FIELDS}"
            raise ValueError(message)
        return {name: packet.get(name) for name in PACKET_FIELDS}
    return {name: getattr(packet, name, None) for name in PACKET_FIELDS}


def _check_packet(
    errors: dict[str, str], packet: Mapping[str, Any] | PacketFields
) -> dict[str, str | None]:
    """The stripped packet answers (blank ones as None); records each error."""
    values = _packet_values(packet)
    return {
        name: _clean_text(
            errors, name, values[name], required=name in REQUIRED_PACKET_FIELDS
        )
        for name in PACKET_FIELDS
    }


def _check_trigger_type(errors: dict[str, str], value: object) -> str | None:
    """The normalised trigger type; records an error when it cannot be stored."""
    if not isinstance(value, str) or not value.strip():
        errors["trigger_type"] = "Trigger type is required."
        return None
    normal = normalise_trigger_type(value)
    message = _too_long("trigger_type", normal)
    if message is not None:
        errors["trigger_type"] = message
    elif not TRIGGER_TYPE_PATTERN.match(normal):
        errors["trigger_type"] = (
            f"Trigger type {normal!r} may hold only lowercase letters, digits and "
            "underscores (spaces and dashes become underscores)."
        )
    return normal


def _check_signal_ids(errors: dict[str, str], ids: object) -> list[int]:
    """The distinct cited signal ids, sorted; records an error when unusable."""
    if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
        errors["evidence_signal_ids"] = "Evidence signals must be a list of signal ids."
        return []
    wanted = list(ids)
    if any(not isinstance(i, int) or isinstance(i, bool) for i in wanted):
        errors["evidence_signal_ids"] = (
            f"Evidence signals must be whole-number signal ids, got {wanted!r}."
        )
        return []
    if not wanted:
        errors["evidence_signal_ids"] = (
            "Cite at least one signal as evidence; the earliest one dates the risk."
        )
    return sorted(set(wanted))


def _account_exists(connection: Connection, account_id: int) -> bool:
    """Whether an account has ``account_id``."""
    found = connection.execute(
        select(_ACCOUNT.c.id).where(_ACCOUNT.c.id == account_id)
    ).scalar_one_or_none()
    return found is not None


def _missing_account_message(account_id: int) -> str:
    """The message for a decision on an account that does not exist."""
    return (
        f"No account has id {account_id}; it may have been removed. Reload the "
        "page to see the current flags."
    )


def _ids_text(ids: Iterable[int]) -> str:
    """Ids as a comma-separated list."""
    return ", ".join(str(i) for i in ids)


def _earliest_cited(
    connection: Connection,
    errors: dict[str, str],
    *,
    account_id: int,
    signal_ids: list[int],
    now: datetime,
) -> datetime | None:
    """The earliest cited signal's time; records an error for any bad citation.

    A cited signal must exist, belong to the flagged account and not lie after
    the decision. Signals already attached to another escalation may be cited;
    they stay with that escalation.
    """
    rows = connection.execute(
        select(_SIGNAL.c.id, _SIGNAL.c.account_id, _SIGNAL.c.observed_at).where(
            _SIGNAL.c.id.in_(signal_ids)
        )
    ).all()
    found = {int(row.id): row for row in rows}
    missing = [i for i in signal_ids if i not in found]
    foreign = [
        i for i in signal_ids if i in found and found[i].account_id != account_id
    ]
    problems: list[str] = []
    if missing:
        problems.append(
            f"No signal has id {_ids_text(missing)}."
            if len(missing) == 1
            else f"No signals have ids {_ids_text(missing)}."
        )
    if foreign:
        problems.append(
            f"Signal {_ids_text(foreign)} belongs to another account than "
            f"account {account_id}."
            if len(foreign) == 1
            else f"Signals {_ids_text(foreign)} belong to other accounts than "
            f"account {account_id}."
        )
    if problems:
        errors["evidence_signal_ids"] = " ".join(problems) + " Remove them."
        return None

    earliest: datetime = min(row.observed_at for row in rows).astimezone(UTC)
    if earliest > now:
        errors["evidence_signal_ids"] = (
            f"The earliest cited signal was observed at {earliest.isoformat()}, "
            f"after the decision time {now.isoformat()}; check the clock or the "
            "signals cited."
        )
        return None
    return earliest


def _existing_decision(engine: Engine, token: str) -> dict[str, Any] | None:
    """The decision a submission token already recorded, if any."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                select(
                    _DECISION.c.id,
                    _DECISION.c.account_id,
                    _DECISION.c.decision,
                    _DECISION.c.escalation_id,
                ).where(_DECISION.c.submission_token == token)
            )
            .mappings()
            .first()
        )
    return None if row is None else dict(row)


def _replayed(
    existing: dict[str, Any], *, account_id: int, decision: FlagDecision
) -> None:
    """Refuse a token that recorded a different decision or account's flag."""
    if existing["decision"] == decision and existing["account_id"] == account_id:
        return
    raise FlagValidationError(
        {
            "token": (
                "This form's submission token already recorded another decision "
                f"({existing['decision']} on account {existing['account_id']}); "
                "reload the page and decide again."
            )
        }
    )


def _external_id(now: datetime) -> str:
    """A fresh external id: prefix, decision day, and random hex to keep it unique."""
    return f"{EXTERNAL_ID_PREFIX}-{now:%Y%m%d}-{uuid.uuid4().hex[:12].upper()}"


def open_escalation_from_flag(
    engine: Engine,
    *,
    account_id: int,
    decided_by: str,
    owner: str,
    severity: str,
    trigger_type: str,
    packet: Mapping[str, Any] | PacketFields,
    evidence_signal_ids: Iterable[int],
    flagged_since: datetime,
    exit_share: float,
    signals_in_window: int,
    token: str,
    now: datetime | None = None,
) -> int:
    """Open an escalation for a flagged account on a person's decision; return its id.

    Parameters
    ----------
    engine
        Engine of a migrated database.
    account_id
        The flagged account.
    decided_by
        Who decided; also recorded as the escalation's ``raised_by``.
    owner
        Who owns the escalation from now on.
    severity, trigger_type
        As for any escalation; the trigger type is normalised like a fix's.
    packet
        A mapping or an object (an :class:`EscalationPacket`, say) with the
        seven packet answers; risk, evidence and decision needed are required.
    evidence_signal_ids
        The signals the packet cites, all of this account. The earliest one's
        time becomes the escalation's ``first_signal_at``. Those not yet in an
        escalation are attached to the new one; others keep their escalation.
    flagged_since, exit_share, signals_in_window
        The flag as the person saw it: when it went up, the exit-seeking share
        of the window's signals (0 to 1) and how many signals the window held.
    token
        The form's submission token; a token already used returns the
        escalation it opened and writes nothing.
    now
        Aware time of the decision; the current time when omitted. It is both
        ``decided_at`` and the escalation's ``escalated_at``.

    Raises
    ------
    FlagValidationError
        For any invalid input, an unknown account or a bad citation; nothing is
        written.
    """
    decided_at = _require_now(now)
    errors: dict[str, str] = {}
    clean_decided_by = _clean_text(errors, "decided_by", decided_by, required=True)
    clean_owner = _clean_text(errors, "owner", owner, required=True)
    clean_severity = _check_choice(errors, "severity", severity, list(Severity))
    clean_trigger = _check_trigger_type(errors, trigger_type)
    answers = _check_packet(errors, packet)
    signal_ids = _check_signal_ids(errors, evidence_signal_ids)
    since = _check_flag(
        errors,
        account_id=account_id,
        flagged_since=flagged_since,
        exit_share=exit_share,
        signals_in_window=signals_in_window,
        now=decided_at,
    )
    clean_token = _check_token(errors, token)
    if errors:
        raise FlagValidationError(errors)
    assert clean_token is not None  # for the type checker: no errors, so set

    existing = _existing_decision(engine, clean_token)
    if existing is not None:
        _replayed(existing, account_id=account_id, decision=FlagDecision.OPENED)
        log.info("flag form token already used; returning escalation %s", existing)
        return int(existing["escalation_id"])

    try:
        with engine.begin() as connection:
            # Checks that need the database come first, still before any write.
            if not _account_exists(connection, account_id):
                raise FlagValidationError(
                    {"account_id": _missing_account_message(account_id)}
                )
            first_signal_at = _earliest_cited(
                connection,
                errors,
                account_id=account_id,
                signal_ids=signal_ids,
                now=decided_at,
            )
            if errors:
                raise FlagValidationError(errors)

            escalation_id = int(
                connection.execute(
                    insert(_ESCALATION)
                    .values(
                        external_id=_external_id(decided_at),
                        account_id=account_id,
                        trigger_type=clean_trigger,
                        severity=clean_severity,
                        first_signal_at=first_signal_at,
                        escalated_at=decided_at,
                        status=EscalationStatus.OPEN.value,
                        level=1,
                        owner=clean_owner,
                        raised_by=clean_decided_by,
                        raised_via=RaisedVia.PROACTIVE.value,
                        **answers,
                    )
                    .returning(_ESCALATION.c.id)
                ).scalar_one()
            )
            # Only signals still free are attached: the condition is part of the
            # UPDATE, so a signal another escalation took meanwhile stays there.
            attached = connection.execute(
                update(_SIGNAL)
                .where(
                    _SIGNAL.c.id.in_(signal_ids),
                    _SIGNAL.c.account_id == account_id,
                    _SIGNAL.c.escalation_id.is_(None),
                )
                .values(escalation_id=escalation_id)
            ).rowcount
            connection.execute(
                insert(_DECISION).values(
                    account_id=account_id,
                    decision=FlagDecision.OPENED.value,
                    decided_by=clean_decided_by,
                    decided_at=decided_at,
                    reason_category=None,
                    reason=None,
                    flagged_since=since,
                    exit_share=float(exit_share),
                    signals_in_window=signals_in_window,
                    escalation_id=escalation_id,
                    submission_token=clean_token,
                )
            )
            bump_data_version(connection=connection, history=True)
    except IntegrityError:
        # Another submit of the same form won while this one ran; this
        # transaction is rolled back, so read the winner in a fresh one.
        existing = _existing_decision(engine, clean_token)
        if existing is None:
            raise
        _replayed(existing, account_id=account_id, decision=FlagDecision.OPENED)
        log.info("flag form submitted twice at once; returning %s", existing)
        return int(existing["escalation_id"])

    log.info(
        "escalation %s opened from the flag on account %s by %s (%s signals attached)",
        escalation_id,
        account_id,
        clean_decided_by,
        attached,
    )
    return escalation_id


def dismiss_flag(
    engine: Engine,
    *,
    account_id: int,
    decided_by: str,
    reason_category: str,
    reason: str,
    flagged_since: datetime,
    exit_share: float,
    signals_in_window: int,
    token: str,
    now: datetime | None = None,
) -> int:
    """Record that a person dismissed an account's flag, and why; return the id.

    ``reason_category`` is one of :class:`DismissReason`; ``reason`` is the
    person's own words and is required. The flag's figures and ``token`` are as
    for :func:`open_escalation_from_flag`; a token already used returns the
    decision it recorded and writes nothing. No escalation is created.

    Raises :class:`FlagValidationError`, writing nothing, for invalid input or
    an unknown account.
    """
    decided_at = _require_now(now)
    errors: dict[str, str] = {}
    clean_decided_by = _clean_text(errors, "decided_by", decided_by, required=True)
    category = _check_choice(
        errors, "reason_category", reason_category, list(DismissReason)
    )
    clean_reason = _clean_text(errors, "reason", reason, required=True)
    since = _check_flag(
        errors,
        account_id=account_id,
        flagged_since=flagged_since,
        exit_share=exit_share,
        signals_in_window=signals_in_window,
        now=decided_at,
    )
    clean_token = _check_token(errors, token)
    if errors:
        raise FlagValidationError(errors)
    assert clean_token is not None  # for the type checker: no errors, so set

    existing = _existing_decision(engine, clean_token)
    if existing is not None:
        _replayed(existing, account_id=account_id, decision=FlagDecision.DISMISSED)
        log.info("flag form token already used; returning decision %s", existing)
        return int(existing["id"])

    try:
        with engine.begin() as connection:
            if not _account_exists(connection, account_id):
                raise FlagValidationError(
                    {"account_id": _missing_account_message(account_id)}
                )
            decision_id = int(
                connection.execute(
                    insert(_DECISION)
                    .values(
                        account_id=account_id,
                        decision=FlagDecision.DISMISSED.value,
                        decided_by=clean_decided_by,
                        decided_at=decided_at,
                        reason_category=category,
                        reason=clean_reason,
                        flagged_since=since,
                        exit_share=float(exit_share),
                        signals_in_window=signals_in_window,
                        escalation_id=None,
                        submission_token=clean_token,
                    )
                    .returning(_DECISION.c.id)
                ).scalar_one()
            )
            bump_data_version(connection=connection, history=False)
    except IntegrityError:
        existing = _existing_decision(engine, clean_token)
        if existing is None:
            raise
        _replayed(existing, account_id=account_id, decision=FlagDecision.DISMISSED)
        log.info("flag form submitted twice at once; returning %s", existing)
        return int(existing["id"])

    log.info(
        "flag on account %s dismissed by %s (%s)",
        account_id,
        clean_decided_by,
        category,
    )
    return decision_id


# Column name -> polars dtype of :func:`load_flag_decisions`. ``reason_category``
# and ``reason`` are null for openings, ``escalation_id`` for dismissals.
FLAG_DECISION_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "account_id": pl.Int64(),
    "account_name": pl.String(),
    "decision": pl.String(),
    "decided_by": pl.String(),
    "decided_at": UTC_DATETIME,
    "reason_category": pl.String(),
    "reason": pl.String(),
    "flagged_since": UTC_DATETIME,
    "exit_share": pl.Float64(),
    "signals_in_window": pl.Int64(),
    "escalation_id": pl.Int64(),
}


def load_flag_decisions(*, connection: Connection) -> pl.DataFrame:
    """Every decision on a flag with its account's name, oldest first.

    Columns and types are :data:`FLAG_DECISION_SCHEMA`; with no decisions the
    frame is empty with the same columns. Decisions made at the same instant
    keep the order they were recorded in.
    """
    columns = {
        name: (_ACCOUNT.c.name if name == "account_name" else _DECISION.c[name])
        for name in FLAG_DECISION_SCHEMA
    }
    query = (
        select(*(column.label(name) for name, column in columns.items()))
        .select_from(_DECISION)
        .join(_ACCOUNT, _DECISION.c.account_id == _ACCOUNT.c.id)
        .order_by(_DECISION.c.decided_at, _DECISION.c.id)
    )
    return read_frame(connection, query, FLAG_DECISION_SCHEMA)

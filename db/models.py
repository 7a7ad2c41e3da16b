"""SQLModel tables: the escalation history and the fixes logged against it.

Every timestamp is an aware datetime stored as UTC (sqlmodel's ``UTCDateTime``
refuses naive values on insert). Text columns carry explicit length limits so
that the same limits can be checked at the edges before anything is written.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, Text, text
from sqlmodel import Field, SQLModel

NAME_MAX = 200
SHORT_MAX = 64
PACKET_MAX = 4000
SIGNAL_TEXT_MAX = 8000
REASON_MAX = 1000
ATTENDEES_MAX = 2000
# A form's idempotency token; a uuid4 in hex or with dashes fits easily.
TOKEN_MAX = 64


class Severity(StrEnum):
    """Severity of an escalation; each has its own late threshold."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class RaisedVia(StrEnum):
    """How the escalation reached its owner."""

    PROACTIVE = "proactive_team"
    CUSTOMER_REQUEST = "customer_request"
    EXECUTIVE_BACKCHANNEL = "executive_backchannel"
    PUBLIC_PRESSURE = "public_pressure"


class EscalationStatus(StrEnum):
    """Lifecycle of an escalation; only ``resolved`` has a ``resolved_at``."""

    OPEN = "open"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class SignalSource(StrEnum):
    """Where a weak signal was observed."""

    TICKET = "ticket"
    CHAT = "chat"
    CALL = "call_transcript"
    ACCOUNT_REVIEW = "account_review"
    RENEWAL = "renewal_conversation"


class Tone(StrEnum):
    """What the customer is seeking in a signal."""

    HELP_SEEKING = "help_seeking"
    FRUSTRATED = "frustrated"
    EXIT_SEEKING = "exit_seeking"


class RootCause(StrEnum):
    """Why escalations of a trigger type keep coming late or coming back."""

    UNCLEAR_TRIGGER = "unclear_trigger"
    MISSING_DECISION_RIGHTS = "missing_decision_rights"
    EVIDENCE_GAP = "evidence_gap"
    OWNERSHIP_HANDOFF = "ownership_handoff"
    REVIEW_CADENCE = "review_cadence"
    TOOLING = "tooling"
    POLICY = "policy"
    OTHER = "other"


class FixStatus(StrEnum):
    """Lifecycle of a process fix."""

    PROPOSED = "proposed"
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"
    VERIFIED = "verified"
    ABANDONED = "abandoned"


def _in(column: str, enum: type[StrEnum]) -> str:
    """SQL text of a CHECK that keeps a column inside an enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


class Account(SQLModel, table=True):
    """A customer account and the team that owns the relationship."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=SHORT_MAX, unique=True)
    name: str = Field(max_length=NAME_MAX)
    segment: str = Field(max_length=SHORT_MAX, index=True)
    region: str = Field(max_length=SHORT_MAX)
    team: str = Field(max_length=SHORT_MAX, index=True)
    annual_value: float | None = Field(default=None, ge=0)
    renewal_date: date | None = None


class Team(SQLModel, table=True):
    """A support or customer-success team and the time zone it works in.

    Business-hours latency counts Monday to Friday, 09:00-17:00, in this zone.
    A team that owns accounts but has no row here is read as working in UTC.
    """

    __tablename__ = "team"

    name: str = Field(max_length=SHORT_MAX, primary_key=True)
    time_zone: str = Field(default="UTC", max_length=SHORT_MAX)


class Escalation(SQLModel, table=True):
    """A risk moved to an owner who can act, with its packet."""

    __tablename__ = "escalation"
    __table_args__ = (
        CheckConstraint(
            "escalated_at >= first_signal_at", name="escalated_after_first_signal"
        ),
        CheckConstraint(
            "resolved_at IS NULL OR resolved_at >= escalated_at",
            name="resolved_after_escalated",
        ),
        CheckConstraint(_in("severity", Severity), name="severity_known"),
        CheckConstraint(_in("raised_via", RaisedVia), name="raised_via_known"),
        CheckConstraint(_in("status", EscalationStatus), name="status_known"),
        Index("ix_escalation_escalated_at", "escalated_at"),
        Index("ix_escalation_account_trigger", "account_id", "trigger_type"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=SHORT_MAX, unique=True)
    account_id: int = Field(foreign_key="account.id")
    trigger_type: str = Field(max_length=SHORT_MAX)
    severity: str = Field(max_length=16)
    first_signal_at: datetime
    escalated_at: datetime
    # NULL while the escalation is still running; never filled with "now".
    resolved_at: datetime | None = None
    status: str = Field(default=EscalationStatus.OPEN.value, max_length=16)
    level: int = Field(default=1, ge=1)
    owner: str | None = Field(default=None, max_length=NAME_MAX)
    raised_by: str | None = Field(default=None, max_length=NAME_MAX)
    raised_via: str = Field(default=RaisedVia.PROACTIVE.value, max_length=32)
    # The escalation packet; any answer may be missing.
    risk: str | None = Field(default=None, max_length=PACKET_MAX, sa_type=Text)
    evidence: str | None = Field(default=None, max_length=PACKET_MAX, sa_type=Text)
    options: str | None = Field(default=None, max_length=PACKET_MAX, sa_type=Text)
    decision_needed: str | None = Field(
        default=None, max_length=PACKET_MAX, sa_type=Text
    )
    next_owner: str | None = Field(default=None, max_length=NAME_MAX)
    consequence_if_unchanged: str | None = Field(
        default=None, max_length=PACKET_MAX, sa_type=Text
    )
    exit_evidence: str | None = Field(default=None, max_length=PACKET_MAX, sa_type=Text)


class LevelChange(SQLModel, table=True):
    """One move of an escalation between levels and what it changed.

    Each of the five structural things is kept as before/after; both are NULL
    when the move left that thing unchanged.
    """

    __tablename__ = "level_change"

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalation.id", index=True)
    at: datetime
    from_level: int = Field(ge=0)
    to_level: int = Field(ge=0)
    owner_before: str | None = Field(default=None, max_length=NAME_MAX)
    owner_after: str | None = Field(default=None, max_length=NAME_MAX)
    cadence_before: str | None = Field(default=None, max_length=NAME_MAX)
    cadence_after: str | None = Field(default=None, max_length=NAME_MAX)
    decision_rights_before: str | None = Field(default=None, max_length=NAME_MAX)
    decision_rights_after: str | None = Field(default=None, max_length=NAME_MAX)
    evidence_threshold_before: str | None = Field(default=None, max_length=NAME_MAX)
    evidence_threshold_after: str | None = Field(default=None, max_length=NAME_MAX)
    communication_path_before: str | None = Field(default=None, max_length=NAME_MAX)
    communication_path_after: str | None = Field(default=None, max_length=NAME_MAX)
    note: str | None = Field(default=None, max_length=PACKET_MAX, sa_type=Text)


_LINKED_SIGNAL = text("escalation_id IS NOT NULL")


class Signal(SQLModel, table=True):
    """A weak signal of risk: a ticket, chat, call, review or renewal talk."""

    __tablename__ = "signal"
    __table_args__ = (
        CheckConstraint(_in("source", SignalSource), name="source_known"),
        Index("ix_signal_account_observed", "account_id", "observed_at"),
        # Only linked signals: nearly half have no escalation, and a lookup by
        # escalation (an equality, which implies the condition) never wants them.
        Index(
            "ix_signal_escalation_id",
            "escalation_id",
            sqlite_where=_LINKED_SIGNAL,
            postgresql_where=_LINKED_SIGNAL,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    escalation_id: int | None = Field(default=None, foreign_key="escalation.id")
    source: str = Field(max_length=32)
    observed_at: datetime
    author: str | None = Field(default=None, max_length=NAME_MAX)
    text: str = Field(max_length=SIGNAL_TEXT_MAX, sa_type=Text)
    tone: str | None = Field(default=None, max_length=16)


class ProcessFix(SQLModel, table=True):
    """A process fix logged in the repair review against a trigger type.

    ``due_at`` holds a due date as 00:00 UTC of that day; read it as a date.
    """

    __tablename__ = "process_fix"
    __table_args__ = (
        CheckConstraint(_in("status", FixStatus), name="fix_status_known"),
        CheckConstraint(_in("root_cause", RootCause), name="root_cause_known"),
        # Fixes written without a form have no token; NULLs never collide. An
        # index rather than a constraint: SQLite adds it without a table rebuild.
        Index("ux_process_fix_submission_token", "submission_token", unique=True),
        # Imports match fixes on it; fixes logged through the form have none.
        Index("ux_process_fix_external_id", "external_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=NAME_MAX)
    trigger_type: str = Field(max_length=SHORT_MAX, index=True)
    root_cause: str = Field(max_length=32)
    owner: str = Field(max_length=NAME_MAX)
    status: str = Field(default=FixStatus.PROPOSED.value, max_length=16)
    logged_at: datetime
    due_at: datetime | None = None
    shipped_at: datetime | None = None
    expected_effect: str | None = Field(
        default=None, max_length=PACKET_MAX, sa_type=Text
    )
    # Every change bumps it, and a writer only updates the version it read: two
    # leaders editing one fix cannot silently overwrite each other. The server
    # default gives rows written before this column existed, or by bulk loads
    # that omit it, their first version.
    version: int = Field(default=1, ge=1, sa_column_kwargs={"server_default": "1"})
    # NULL for fixes logged before the author was recorded.
    author: str | None = Field(default=None, max_length=NAME_MAX)
    abandon_reason: str | None = Field(
        default=None, max_length=REASON_MAX, sa_type=Text
    )
    updated_at: datetime | None = None
    submission_token: str | None = Field(default=None, max_length=TOKEN_MAX)
    # The fix's id in the tool it was imported from; NULL for fixes logged here.
    external_id: str | None = Field(default=None, max_length=SHORT_MAX)


class ProcessFixHistory(SQLModel, table=True):
    """One changed field of a process fix: who changed it, when, from what to what.

    Values are kept as text (datetimes in ISO 8601) so that one table holds every
    field. Creating a fix writes a single row whose field is ``created``.
    """

    __tablename__ = "process_fix_history"
    __table_args__ = (Index("ix_process_fix_history_fix_at", "fix_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    fix_id: int = Field(foreign_key="process_fix.id")
    at: datetime
    author: str = Field(max_length=NAME_MAX)
    field: str = Field(max_length=SHORT_MAX)
    old_value: str | None = Field(default=None, sa_type=Text)
    new_value: str | None = Field(default=None, sa_type=Text)


class ReviewMeeting(SQLModel, table=True):
    """One weekly repair review: who came and what was decided."""

    __tablename__ = "review_meeting"
    __table_args__ = (
        Index("ux_review_meeting_submission_token", "submission_token", unique=True),
        Index("ix_review_meeting_held_on", "held_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    held_on: date
    attendees: str = Field(max_length=ATTENDEES_MAX, sa_type=Text)
    decisions: str = Field(max_length=SIGNAL_TEXT_MAX, sa_type=Text)
    notes: str | None = Field(default=None, max_length=SIGNAL_TEXT_MAX, sa_type=Text)
    author: str = Field(max_length=NAME_MAX)
    recorded_at: datetime
    submission_token: str | None = Field(default=None, max_length=TOKEN_MAX)


class ProcessFixEscalation(SQLModel, table=True):
    """Which escalations a process fix answers."""

    __tablename__ = "process_fix_escalation"

    fix_id: int = Field(foreign_key="process_fix.id", primary_key=True)
    escalation_id: int = Field(foreign_key="escalation.id", primary_key=True)


class DataVersion(SQLModel, table=True):
    """Two counters in one row, bumped in the transaction of the write they count.

    ``version`` counts every write; ``history_version`` only writes to the
    escalation history (accounts, escalations, level changes, signals), so that
    logging a fix or dismissing a flag leaves the cached history in place.
    Caches key on the counter of what they read: a write shows at once and
    nothing else reloads.
    """

    __tablename__ = "data_version"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0, ge=0)
    changed_at: datetime | None = None
    history_version: int = Field(
        default=0, ge=0, sa_column_kwargs={"server_default": "0"}
    )
    history_changed_at: datetime | None = None


class FlagDecision(StrEnum):
    """What a person did with an early-warning flag."""

    OPENED = "opened"
    DISMISSED = "dismissed"


class DismissReason(StrEnum):
    """Why a person dismissed an early-warning flag."""

    ALREADY_HANDLED = "already_handled"
    NOT_A_RISK = "not_a_risk"
    KNOWN_ISSUE_IN_HAND = "known_issue_in_hand"
    CUSTOMER_CONFIRMED_OK = "customer_confirmed_ok"
    OTHER = "other"


class EarlyWarningDecision(SQLModel, table=True):
    """A person's decision on an early-warning flag: open an escalation or dismiss.

    The model only flags an account; nothing is escalated until someone decides.
    The flag's figures are kept as they stood when the decision was made, so a
    later review can see what the person was looking at.
    """

    __tablename__ = "early_warning_decision"
    __table_args__ = (
        CheckConstraint(_in("decision", FlagDecision), name="flag_decision_known"),
        CheckConstraint(
            f"reason_category IS NULL OR {_in('reason_category', DismissReason)}",
            name="dismiss_reason_known",
        ),
        # An opened flag points at the escalation it created, a dismissed one at
        # none; a dismissal always says why, an opening has no dismissal reason.
        CheckConstraint(
            "(decision = 'opened' AND escalation_id IS NOT NULL"
            " AND reason_category IS NULL)"
            " OR (decision = 'dismissed' AND escalation_id IS NULL"
            " AND reason_category IS NOT NULL AND reason IS NOT NULL)",
            name="flag_decision_consistent",
        ),
        CheckConstraint(
            "exit_share >= 0 AND exit_share <= 1", name="exit_share_between_0_and_1"
        ),
        CheckConstraint(
            "signals_in_window >= 0", name="signals_in_window_not_negative"
        ),
        Index("ix_early_warning_decision_account_decided", "account_id", "decided_at"),
        Index(
            "ux_early_warning_decision_submission_token",
            "submission_token",
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    decision: str = Field(max_length=16)
    decided_by: str = Field(max_length=NAME_MAX)
    decided_at: datetime
    reason_category: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=REASON_MAX, sa_type=Text)
    # When the account's flag first went up, and its figures at decision time.
    flagged_since: datetime
    exit_share: float
    signals_in_window: int
    escalation_id: int | None = Field(default=None, foreign_key="escalation.id")
    # Decisions written without a form have no token; NULLs never collide.
    submission_token: str | None = Field(default=None, max_length=TOKEN_MAX)


# The history tables in the order their foreign keys allow them to be filled.
ALL_TABLES = (
    Account,
    Escalation,
    LevelChange,
    Signal,
    ProcessFix,
    ProcessFixEscalation,
)

"""A database made at the first revision keeps every row when brought to head.

The rows are written with plain SQL that matches revision 0001, as the app of
that time stored them; today's models may differ. The upgrade goes to whatever
``head`` is when the test runs, so a new revision is covered as soon as it lands.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Date, Engine, bindparam, select, text
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

from db.engine import create_db_engine
from db.fixes import FixInput, create_fix, load_fix, load_fix_links
from db.migrate import current_revision, head_revision, upgrade
from db.queries import (
    load_escalations,
    load_filter_options,
    load_fixes,
    load_level_changes,
    load_signals,
)
from db.version import read_data_version, read_versions
from tests.conftest import BACKENDS, POSTGRES_URL, _postgres_engine_in_new_schema


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


LONG_PACKET = "Evidence line. " * 266  # 3,990 characters, near PACKET_MAX

# Revision 0001's tables and the rows written into them, in insertion order: a
# fresh database numbers them 1, 2, 3 ... The columns are exactly 0001's.
ROWS_0001: dict[str, list[dict[str, Any]]] = {
    "account": [
        {
            "external_id": "ACC-1",
            "name": 'Åsa\'s Fika & Co — "Nordic"',
            "segment": "enterprise",
            "region": "EMEA",
            "team": "Atlas",
            "annual_value": 125000.5,
            "renewal_date": date(2026, 9, 30),
        },
        {
            "external_id": "ACC-2",
            "name": "Boreal Freight",
            "segment": "smb",
            "region": "AMER",
            "team": "Borealis",
            "annual_value": None,
            "renewal_date": None,
        },
    ],
    "escalation": [
        {
            "external_id": "ESC-1",
            "account_id": 1,
            "trigger_type": "outage_impact",
            "severity": "critical",
            "first_signal_at": utc(2026, 1, 5, 8, 15, 30, 123456),
            "escalated_at": utc(2026, 1, 6, 10),
            "resolved_at": utc(2026, 1, 8, 12),
            "status": "resolved",
            "level": 2,
            "owner": "Dana Okafor",
            "raised_by": "Priya Raman",
            "raised_via": "customer_request",
            "risk": LONG_PACKET,
            "evidence": "Three failed exports in a week",
            "options": None,
            "decision_needed": "Fund the fix before the renewal call",
            "next_owner": "Ben Ode",
            "consequence_if_unchanged": "The account leaves at renewal",
            "exit_evidence": "Thirty nights of green exports",
        },
        {
            "external_id": "ESC-2",
            "account_id": 1,
            "trigger_type": "outage_impact",
            "severity": "high",
            "first_signal_at": utc(2026, 2, 2, 9),
            "escalated_at": utc(2026, 2, 2, 9),
            "resolved_at": None,
            "status": "open",
            "level": 1,
            "owner": None,
            "raised_by": None,
            "raised_via": "proactive_team",
            "risk": None,
            "evidence": None,
            "options": None,
            "decision_needed": None,
            "next_owner": None,
            "consequence_if_unchanged": None,
            "exit_evidence": None,
        },
        {
            "external_id": "ESC-3",
            "account_id": 2,
            "trigger_type": "billing_dispute",
            "severity": "low",
            "first_signal_at": utc(2026, 2, 10),
            "escalated_at": utc(2026, 2, 20),
            "resolved_at": None,
            "status": "monitoring",
            "level": 3,
            "owner": "Ana Lima",
            "raised_by": "Ana Lima",
            "raised_via": "executive_backchannel",
            "risk": "Credits disputed twice",
            "evidence": "",
            "options": "Refund, or a call with finance",
            "decision_needed": None,
            "next_owner": None,
            "consequence_if_unchanged": None,
            "exit_evidence": None,
        },
    ],
    "level_change": [
        {
            "escalation_id": 1,
            "at": utc(2026, 1, 7, 9),
            "from_level": 1,
            "to_level": 2,
            "owner_before": "Dana Okafor",
            "owner_after": "Ben Ode",
            "cadence_before": "weekly",
            "cadence_after": "daily",
            "decision_rights_before": None,
            "decision_rights_after": "Ben Ode may grant credits",
            "evidence_threshold_before": None,
            "evidence_threshold_after": None,
            "communication_path_before": None,
            "communication_path_after": None,
            "note": "Moved to the executive sponsor",
        },
        {
            "escalation_id": 3,
            "at": utc(2026, 2, 21),
            "from_level": 2,
            "to_level": 3,
            "owner_before": "Ana Lima",
            "owner_after": "Ana Lima",
            "cadence_before": None,
            "cadence_after": None,
            "decision_rights_before": None,
            "decision_rights_after": None,
            "evidence_threshold_before": None,
            "evidence_threshold_after": None,
            "communication_path_before": None,
            "communication_path_after": None,
            "note": None,
        },
    ],
    "signal": [
        {
            "account_id": 1,
            "escalation_id": 1,
            "source": "ticket",
            "observed_at": utc(2026, 1, 5, 8, 15, 30, 123456),
            "author": "Customer",
            "text": "Export failed again?",
            "tone": "help_seeking",
        },
        {
            "account_id": 1,
            "escalation_id": None,
            "source": "chat",
            "observed_at": utc(2026, 1, 4, 23, 59, 59),
            "author": None,
            "text": "We are reviewing alternatives — 😟",
            "tone": "exit_seeking",
        },
        {
            "account_id": 2,
            "escalation_id": 3,
            "source": "call_transcript",
            "observed_at": utc(2026, 2, 10),
            "author": "Boreal CFO",
            "text": "Line one.\nLine two, with 'quotes'.",
            "tone": None,
        },
    ],
    "process_fix": [
        {
            "title": "Page the duty manager on the second outage ticket",
            "trigger_type": "outage_impact",
            "root_cause": "unclear_trigger",
            "owner": "Dana Okafor",
            "status": "shipped",
            "logged_at": utc(2026, 1, 10, 9, 30),
            "due_at": utc(2026, 1, 31),
            "shipped_at": utc(2026, 1, 20, 15, 45),
            "expected_effect": "Half as many late outage escalations",
        },
        {
            "title": "Credits without finance review",
            "trigger_type": "billing_dispute",
            "root_cause": "policy",
            "owner": "Ben Ode",
            "status": "proposed",
            "logged_at": utc(2026, 2, 25),
            "due_at": None,
            "shipped_at": None,
            "expected_effect": None,
        },
    ],
    "process_fix_escalation": [
        {"fix_id": 1, "escalation_id": 1},
        {"fix_id": 1, "escalation_id": 2},
        {"fix_id": 2, "escalation_id": 3},
    ],
}
DATA_VERSION = 17
KEYS = {"process_fix_escalation": ("fix_id", "escalation_id")}


@pytest.fixture(params=BACKENDS)
def first_revision(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database at revision 0001, filled as that revision's app did."""
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'first.db'}")
        fill_at_0001(engine)
        yield engine
        engine.dispose()
        return

    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set; PostgreSQL tests need a server")
    admin, engine, schema = _postgres_engine_in_new_schema()
    try:
        fill_at_0001(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fill_at_0001(engine: Engine) -> None:
    """Migrate to 0001 and write ROWS_0001 and the data version with plain SQL."""
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as connection:
        for table, rows in ROWS_0001.items():
            names = list(rows[0])
            values = [value for row in rows for value in row.items()]
            instants = {name for name, value in values if isinstance(value, datetime)}
            days = {
                name
                for name, value in values
                if isinstance(value, date) and not isinstance(value, datetime)
            }
            statement = text(
                f"INSERT INTO {table} ({', '.join(names)}) "
                f"VALUES ({', '.join(':' + name for name in names)})"
            ).bindparams(
                # Stored through the column types the app used at 0001.
                *(bindparam(name, type_=UTCDateTime()) for name in sorted(instants)),
                *(bindparam(name, type_=Date()) for name in sorted(days)),
            )
            connection.execute(statement, rows)
        connection.execute(
            text(
                "UPDATE data_version SET version = :version, changed_at = :at"
            ).bindparams(bindparam("at", type_=UTCDateTime())),
            {"version": DATA_VERSION, "at": utc(2026, 2, 25, 10)},
        )


def stored_rows(engine: Engine, table: str) -> list[dict[str, Any]]:
    """0001's columns of every row of ``table``, in key order, read as the app reads."""
    current = SQLModel.metadata.tables[table]
    names = list(ROWS_0001[table][0])
    key = KEYS.get(table, ("id",))
    with engine.connect() as connection:
        found = connection.execute(
            select(*(current.c[name] for name in names)).order_by(
                *(current.c[name] for name in key)
            )
        )
        return [dict(row) for row in found.mappings()]


def test_every_row_and_value_of_the_first_revision_survives_the_upgrade(
    first_revision: Engine,
) -> None:
    upgrade(first_revision)

    assert current_revision(first_revision) == head_revision()
    for table, rows in ROWS_0001.items():
        assert stored_rows(first_revision, table) == rows, table
    with first_revision.connect() as connection:
        assert read_data_version(connection=connection) == DATA_VERSION
        # The history counter starts where the data stood.
        assert read_versions(connection=connection) == (DATA_VERSION, DATA_VERSION)


def test_the_loaders_read_the_upgraded_rows(first_revision: Engine) -> None:
    upgrade(first_revision)

    with first_revision.connect() as connection:
        escalations = load_escalations(connection=connection)
        fixes = load_fixes(connection=connection)
        fix = load_fix(connection=connection, fix_id=1)
        links = load_fix_links(connection=connection)
        changes = load_level_changes(connection=connection)
        signals = load_signals(connection=connection, account_id=1)
        options = load_filter_options(connection=connection)

    assert escalations["external_id"].to_list() == ["ESC-1", "ESC-2", "ESC-3"]
    assert escalations["account_name"].to_list() == [
        'Åsa\'s Fika & Co — "Nordic"',
        'Åsa\'s Fika & Co — "Nordic"',
        "Boreal Freight",
    ]
    assert escalations["first_signal_at"][0] == utc(2026, 1, 5, 8, 15, 30, 123456)
    # An answer is "answered"; a blank one (ESC-3's evidence) counts as missing.
    assert escalations["evidence"].to_list() == ["answered", None, None]
    assert sorted(fixes["title"].to_list()) == [
        "Credits without finance review",
        "Page the duty manager on the second outage ticket",
    ]
    assert fix is not None
    assert (fix["status"], fix["shipped_at"], fix["due_on"]) == (
        "shipped",
        utc(2026, 1, 20, 15, 45),
        date(2026, 1, 31),
    )
    assert fix["escalation_ids"] == (1, 2)
    assert links.rows() == [(1, 1), (1, 2), (2, 3)]
    assert changes["note"].to_list() == ["Moved to the executive sponsor", None]
    # Oldest first: the chat the evening before, then the ticket.
    assert signals["text"].to_list() == [
        "We are reviewing alternatives — 😟",
        "Export failed again?",
    ]
    assert {key: options[key] for key in ("team", "trigger_type")} == {
        "team": ["Atlas", "Borealis"],
        "trigger_type": ["billing_dispute", "outage_impact"],
    }


def test_the_app_writes_after_the_rows_it_found(first_revision: Engine) -> None:
    upgrade(first_revision)

    fix_id = create_fix(
        engine=first_revision,
        data=FixInput(
            title="Refund credits within a day",
            trigger_type="billing_dispute",
            root_cause="policy",
            owner="Ben Ode",
            due_on=date(2026, 3, 20),
            expected_effect=None,
            escalation_ids=(3,),
            author="Ana Lima",
            token="after-upgrade",
        ),
        now=utc(2026, 3, 2, 9),
    )

    # Two fixes came from 0001, so the id sequence must go on at 3.
    assert fix_id == 3
    with first_revision.connect() as connection:
        assert read_data_version(connection=connection) == DATA_VERSION + 1
        assert load_fix_links(connection=connection).rows() == [
            (1, 1),
            (1, 2),
            (2, 3),
            (3, 3),
        ]

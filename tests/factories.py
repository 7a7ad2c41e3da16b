"""Small builders for hand-made histories, written through the ORM."""

from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from db.fixes import FixInput
from db.models import Account, Escalation, LevelChange, ProcessFix, Signal, Team
from db.version import bump_data_version

_serial = count(1)


def at(day: str, hour: float = 0.0) -> datetime:
    """An aware UTC datetime: ``at("2026-03-02", 9.5)`` is 09:30 that day."""
    base = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return base + timedelta(hours=hour)


def account(**fields: Any) -> Account:
    """An account with plausible defaults for every required field."""
    n = next(_serial)
    values: dict[str, Any] = {
        "external_id": f"ACC-{n}",
        "name": f"Account {n}",
        "segment": "enterprise",
        "region": "EMEA",
        "team": "Atlas",
    }
    values.update(fields)
    return Account(**values)


def escalation(
    account_id: int, escalated_at: datetime, latency_hours: float, **fields: Any
) -> Escalation:
    """An escalation raised ``latency_hours`` after its first signal."""
    n = next(_serial)
    values: dict[str, Any] = {
        "external_id": f"ESC-{n}",
        "account_id": account_id,
        "trigger_type": "outage_impact",
        "severity": "high",
        "first_signal_at": escalated_at - timedelta(hours=latency_hours),
        "escalated_at": escalated_at,
        "status": "open",
        "raised_via": "proactive_team",
    }
    values.update(fields)
    return Escalation(**values)


def signal(
    account_id: int, escalation_id: int | None, observed_at: datetime, **fields: Any
) -> Signal:
    """A weak signal with a plausible text."""
    values: dict[str, Any] = {
        "account_id": account_id,
        "escalation_id": escalation_id,
        "source": "ticket",
        "observed_at": observed_at,
        "author": "Customer",
        "text": "How do I export last month's usage report?",
        "tone": "help_seeking",
    }
    values.update(fields)
    return Signal(**values)


def level_change(
    escalation_id: int,
    moved_at: datetime,
    from_level: int,
    to_level: int,
    **fields: Any,
) -> LevelChange:
    """A level change; pass ``owner_before``/``owner_after`` and so on."""
    return LevelChange(
        escalation_id=escalation_id,
        at=moved_at,
        from_level=from_level,
        to_level=to_level,
        **fields,
    )


def fix(trigger_type: str, shipped_at: datetime | None, **fields: Any) -> ProcessFix:
    """A process fix; shipped when ``shipped_at`` is given."""
    values: dict[str, Any] = {
        "title": f"Fix {trigger_type}",
        "trigger_type": trigger_type,
        "root_cause": "unclear_trigger",
        "owner": "Dana Okafor",
        "status": "shipped" if shipped_at else "proposed",
        "logged_at": (shipped_at or datetime(2026, 1, 1, tzinfo=UTC))
        - timedelta(days=30),
        "shipped_at": shipped_at,
    }
    values.update(fields)
    return ProcessFix(**values)


def team(name: str, time_zone: str) -> Team:
    """A team working in ``time_zone``."""
    return Team(name=name, time_zone=time_zone)


def write(engine: Engine, *rows: Any, bump_versions: bool = True) -> list[int]:
    """Insert rows in one transaction, bump the data versions, return the ids.

    ``bump_versions=False`` is for a database at an old revision, whose version
    row lacks today's columns.
    """
    with Session(engine) as session:
        session.add_all(rows)
        session.flush()
        ids = [getattr(row, "id", None) for row in rows]
        if bump_versions:
            bump_data_version(connection=session.connection(), history=True)
        session.commit()
    return ids


def fix_input(**fields: Any) -> FixInput:
    """A valid new fix; ``fields`` override single answers."""
    values: dict[str, Any] = {
        "title": "Name an owner for every SLA breach",
        "trigger_type": "sla_breach",
        "root_cause": "ownership_handoff",
        "owner": "Dana Okafor",
        "due_on": date(2026, 3, 30),
        "expected_effect": "Half as many late SLA escalations",
        "escalation_ids": (),
        "author": "Priya Raman",
        "token": "token-1",
    }
    values.update(fields)
    return FixInput(**values)

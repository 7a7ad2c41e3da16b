"""Small builders for hand-made histories, written through the ORM."""

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from db.models import Account, Escalation
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


def write(engine: Engine, *rows: Any) -> list[int]:
    """Insert rows in one transaction, bump the data version, return the ids."""
    with Session(engine) as session:
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
        bump_data_version(connection=session.connection())
        session.commit()
    return ids

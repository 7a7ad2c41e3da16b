"""AppTest fixtures: caches cleared around every test, a database per test."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from metrics.tone import EXIT_SEEKING, FRUSTRATED, HELP_SEEKING, classify
from tests.factories import account, at, escalation, signal, write

# Period under review: Mon 2 Mar – Sun 29 Mar 2026, so the previous period of the
# same length is Mon 2 Feb – Sun 1 Mar 2026.
FROM, TO = date(2026, 3, 2), date(2026, 3, 29)
APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    # Cached results outlive an AppTest within one process.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app_for(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Build an AppTest reading the given engine's database."""

    def build(engine: Engine) -> AppTest:
        monkeypatch.setenv(
            "DATABASE_URL", engine.url.render_as_string(hide_password=False)
        )
        return AppTest.from_file(APP, default_timeout=30)

    return build


@pytest.fixture
def known_history(sqlite_engine: Engine) -> Engine:
    atlas, borealis = write(
        sqlite_engine,
        account(name="Atlas Foods", team="Atlas", segment="enterprise"),
        account(name="Boreal Freight", team="Borealis", segment="smb"),
    )
    write(
        sqlite_engine,
        # In the period. Latencies 10, 30, 200, 0 h.
        escalation(atlas, at("2026-03-03", 10), 10, severity="high"),
        escalation(
            atlas, at("2026-03-10", 10), 30, severity="critical"
        ),  # late, recurs
        escalation(
            borealis,
            at("2026-03-17", 12),
            200,
            severity="medium",
            trigger_type="billing_dispute",
        ),  # late: 200 > 168
        escalation(
            borealis,
            at("2026-03-24"),
            0,
            severity="low",
            trigger_type="billing_dispute",
        ),  # recurs: a billing dispute 7 days earlier
        # Previous period. Latencies 72 (exactly on the high threshold) and 100 h.
        escalation(
            atlas, at("2026-02-10"), 72, severity="high", trigger_type="billing_dispute"
        ),
        escalation(borealis, at("2026-02-20"), 100, severity="high"),  # late
    )
    return sqlite_engine


# Early warning: texts whose tone the model reads as their names say.
EXIT_1 = "We are planning to cancel at renewal and move to another vendor."
EXIT_2 = "Please send the termination terms, we will not renew."
ANGRY = "Third outage this month, really!!"
HELP = "How do I export last month's usage report?"


def days_ago(days: float) -> datetime:
    """An instant ``days`` before the test run: early warnings judge now."""
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def drifting(sqlite_engine: Engine) -> Engine:
    """Lumen drifts (2 exit of 4 signals in 28 days: 50 % >= 40 %); Quiet does not."""
    # The page reads the model's labels; make sure the texts say what we mean.
    assert [classify(t).tone for t in (EXIT_1, EXIT_2, ANGRY, HELP)] == [
        EXIT_SEEKING,
        EXIT_SEEKING,
        FRUSTRATED,
        HELP_SEEKING,
    ]
    lumen, quiet, older = write(
        sqlite_engine,
        account(name="Lumen Retail", team="Atlas", segment="enterprise"),
        account(name="Quiet Co", team="Atlas", segment="smb"),
        account(name="Older Account", team="Borealis", segment="smb"),
    )
    write(
        sqlite_engine,
        # A resolved escalation long ago, of another account: history to compare.
        escalation(
            older,
            days_ago(400),
            30,
            status="resolved",
            resolved_at=days_ago(390),
            trigger_type="renewal_risk",
        ),
        signal(lumen, None, days_ago(20), text=HELP),
        signal(lumen, None, days_ago(10), text=EXIT_1, source="renewal_conversation"),
        signal(lumen, None, days_ago(5), text=ANGRY),
        signal(lumen, None, days_ago(2), text=EXIT_2, source="account_review"),
        *(signal(quiet, None, days_ago(d), text=HELP) for d in (3, 9, 15)),
    )
    return sqlite_engine

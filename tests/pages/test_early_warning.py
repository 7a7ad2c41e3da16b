"""The Early warning page: flags explained, and only a person's action writes."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from dashboard.data import judged_at
from tests.factories import account, escalation, write
from tests.pages.conftest import ANGRY, EXIT_1, EXIT_2, HELP, days_ago

PAGE = "../pages/early_warning.py"


def open_page(app_for, engine: Engine) -> AppTest:  # type: ignore[no-untyped-def]
    at = app_for(engine)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def escalations_of(engine: Engine, name: str) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT e.* FROM escalation e JOIN account a ON a.id = e.account_id "
                "WHERE a.name = :name"
            ),
            {"name": name},
        )
        return [dict(row._mapping) for row in rows]


def decisions(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM early_warning_decision"))
        return [dict(row._mapping) for row in rows]


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def test_the_drifting_account_is_flagged_and_explained_but_nothing_is_written(
    app_for, drifting: Engine
) -> None:
    at = open_page(app_for, drifting)
    at.run()  # a second rerun must not write anything either

    flagged = at.dataframe[0].value
    assert flagged["account_name"].tolist() == ["Lumen Retail"]
    assert flagged["signals_in_window"].tolist() == [4]
    assert flagged["exit_seeking"].tolist() == [2]
    assert flagged["exit_share"].tolist() == [pytest.approx(0.5)]
    window = at.dataframe[1].value
    assert window["text"].tolist() == [EXIT_2, ANGRY, EXIT_1, HELP]
    assert "cancel" in window["phrases"][2]
    risk = at.text_area(key="ew_open_risk").value
    assert "Lumen Retail" in risk
    assert any("Nothing is escalated" in info.value for info in at.info)
    assert escalations_of(drifting, "Lumen Retail") == []
    assert decisions(drifting) == []


def test_opening_needs_a_name_and_writes_nothing_without_one(
    app_for, drifting: Engine
) -> None:
    at = open_page(app_for, drifting)

    at.text_input(key="ew_open_owner").input("Head of Customer Success")
    button(at, "Open escalation").click().run()

    assert escalations_of(drifting, "Lumen Retail") == []
    assert decisions(drifting) == []
    assert any("Decided by" in md.value or "name" in md.value for md in at.markdown)


def test_opening_records_the_person_and_the_packet_as_edited(
    app_for, drifting: Engine
) -> None:
    at = open_page(app_for, drifting)

    at.text_input(key="author").input("Dana Reyes")
    at.text_area(key="ew_open_risk").input("Lumen may not renew in January.")
    at.text_input(key="ew_open_owner").input("Head of Customer Success")
    button(at, "Open escalation").click().run()

    assert not at.exception
    opened = escalations_of(drifting, "Lumen Retail")
    assert len(opened) == 1
    assert opened[0]["risk"] == "Lumen may not renew in January."
    assert opened[0]["raised_by"] == "Dana Reyes"
    assert opened[0]["owner"] == "Head of Customer Success"
    assert opened[0]["status"] == "open"
    (decision,) = decisions(drifting)
    assert decision["decision"] == "opened"
    assert decision["decided_by"] == "Dana Reyes"
    assert decision["escalation_id"] == opened[0]["id"]
    assert any("Opened escalation" in s.value for s in at.success)
    # The account now has an open escalation: it is no longer listed as flagged.
    assert any("No account is flagged" in s.value for s in at.success)


def test_dismissing_records_who_and_why_and_opens_nothing(
    app_for, drifting: Engine
) -> None:
    at = open_page(app_for, drifting)

    at.text_input(key="author").input("Sam Ode")
    at.selectbox(key="ew_dismiss_category").select("customer_confirmed_ok")
    at.text_area(key="ew_dismiss_reason").input("Spoke to their CFO: renewing.")
    button(at, "Dismiss flag").click().run()

    assert not at.exception
    assert escalations_of(drifting, "Lumen Retail") == []
    (decision,) = decisions(drifting)
    assert decision["decision"] == "dismissed"
    assert decision["decided_by"] == "Sam Ode"
    assert decision["reason_category"] == "customer_confirmed_ok"
    assert decision["reason"] == "Spoke to their CFO: renewing."
    assert any("No account is flagged" in s.value for s in at.success)
    reasons = at.dataframe[-1].value
    assert reasons["count"].tolist() == [1]


def test_without_signals_the_page_says_why_nothing_is_flagged(
    app_for, sqlite_engine: Engine
) -> None:
    (owner,) = write(sqlite_engine, account(name="Atlas Foods"))
    write(sqlite_engine, escalation(owner, days_ago(30), 10))

    at = open_page(app_for, sqlite_engine)

    assert any("No account is flagged" in s.value for s in at.success)
    assert [m.label for m in at.metric][:3] == [
        "Late escalations flagged ahead",
        "Median lead",
        "Flags that led nowhere",
    ]


def test_flags_are_judged_at_the_end_of_the_current_hour() -> None:
    on_the_hour = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    next_hour = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)

    assert judged_at(on_the_hour) == on_the_hour
    assert judged_at(on_the_hour + timedelta(microseconds=1)) == next_hour
    assert judged_at(on_the_hour + timedelta(minutes=59, seconds=59)) == next_hour


def test_an_oversized_packet_is_refused_whole_and_kept_for_shortening(
    app_for, drifting: Engine
) -> None:
    at = open_page(app_for, drifting)
    too_long = "x" * 4_001  # the packet limit is 4,000 characters

    at.text_input(key="author").input("Dana Reyes")
    at.text_input(key="ew_open_owner").input("Head of Customer Success")
    at.text_area(key="ew_open_risk").input(too_long)
    button(at, "Open escalation").click().run()

    assert not at.exception
    assert escalations_of(drifting, "Lumen Retail") == []
    assert decisions(drifting) == []
    assert at.text_area(key="ew_open_risk").value == too_long
    assert any("4,000" in md.value or "4000" in md.value for md in at.markdown)

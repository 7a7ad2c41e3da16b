"""The Escalation page: packet, timeline, path and the account's other cases."""

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from tests.factories import account, at, escalation, level_change, signal, write


@pytest.fixture
def story(sqlite_engine: Engine) -> dict[str, int]:
    (acme,) = write(sqlite_engine, account(name="Acme Mills", team="Atlas"))
    main, other = write(
        sqlite_engine,
        escalation(
            acme,
            at("2026-03-10", 12),
            30,
            severity="critical",
            risk="Acme may not renew if the nightly export keeps failing.",
            evidence="Three failed exports in a week, each confirmed in logs.",
            decision_needed="Fund a dedicated fix before the renewal call.",
            next_owner="",  # blank counts as missing
            consequence_if_unchanged=None,
            exit_evidence="Thirty nights of successful exports.",
        ),
        escalation(acme, at("2026-01-05"), 4, trigger_type="billing_dispute"),
    )
    write(
        sqlite_engine,
        signal(acme, main, at("2026-03-09", 6), text="Export failed again?"),
        signal(
            acme,
            main,
            at("2026-03-10", 1),
            tone="exit_seeking",
            text="We are reviewing alternatives before renewal.",
        ),
        level_change(
            main, at("2026-03-11"), 1, 2, owner_before="Ana", owner_after="Ben"
        ),
        level_change(
            main,
            at("2026-03-12"),
            2,
            3,
            owner_before="Ben",
            owner_after="Ben",
            note="Moved up for visibility only.",
        ),
    )
    return {"main": main, "other": other}


def open_escalation(page: AppTest, escalation_id: int | str) -> AppTest:
    page.run()
    page.query_params["id"] = str(escalation_id)
    page.switch_page("../pages/escalation.py").run()
    assert not page.exception, page.exception
    return page


def text_of(page: AppTest) -> str:
    return "\n".join(block.value for block in page.markdown)


def test_packet_marks_each_question_answered_or_missing(
    story: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_escalation(app_for(sqlite_engine), story["main"])

    body = text_of(page)

    assert any("3 of 5 questions answered" in c.value for c in page.caption)
    assert body.count("Missing — nobody has written this down.") == 2
    assert "Thirty nights of successful exports" in body
    assert page.title[0].value.endswith("Acme Mills")


def test_latency_tile_says_late_against_the_severity_threshold(
    story: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_escalation(app_for(sqlite_engine), story["main"])

    tile = next(m for m in page.metric if m.label == "Signal → escalation")

    assert (tile.value, tile.delta) == ("30.0 h", "late")  # 30 h > 24 h critical


def test_a_level_change_that_changed_nothing_is_flagged(
    story: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_escalation(app_for(sqlite_engine), story["main"])

    warnings = [w.value for w in page.warning]
    paths = [frame.value for frame in page.dataframe[:2]]

    assert sum("This move is noise" in w for w in warnings) == 1
    assert paths[0].set_index("What").loc["Owner", "After"] == "Ben"
    assert paths[0]["Changed"].tolist() == [True, False, False, False, False]
    assert paths[1]["Changed"].tolist() == [False] * 5


def test_other_escalations_link_to_their_pages(
    story: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_escalation(app_for(sqlite_engine), story["main"])

    others = page.dataframe[-1].value

    assert others["link"].tolist() == [f"escalation?id={story['other']}"]


def test_timeline_draws_an_open_escalation_as_still_running(
    story: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_escalation(app_for(sqlite_engine), story["main"])

    spec = page.get("plotly_chart")[0].proto.spec

    assert "still open" in spec
    assert "exit seeking" in spec and "help seeking" in spec


@pytest.mark.parametrize(
    ("raw", "message"),
    [("999", "There is no escalation with id 999"), ("abc", "is not an escalation id")],
)
def test_a_bad_id_is_explained(
    raw: str,
    message: str,
    story: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = open_escalation(app_for(sqlite_engine), raw)

    assert any(message in w.value for w in page.warning)


def test_selecting_a_late_row_opens_its_escalation(
    story: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = app_for(sqlite_engine)
    page.run()
    page.date_input(key="from").set_value(at("2026-03-01").date())
    page.date_input(key="to").set_value(at("2026-03-31").date())
    page.switch_page("../pages/late_escalations.py").run()
    page.session_state["late_table"] = {
        "selection": {"rows": [0], "columns": [], "cells": []}
    }
    page.run()

    assert not page.exception
    assert page.title[0].value.endswith("Acme Mills")
    assert page.query_params["id"] == str(story["main"])

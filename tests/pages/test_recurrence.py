"""The Recurrence page on the hand-worked history of the page tests."""

from collections.abc import Callable

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import FROM, TO


def open_recurrence(page: AppTest, window: int | None = None) -> AppTest:
    page.run()
    page.date_input(key="from").set_value(FROM)
    page.date_input(key="to").set_value(TO)
    page.switch_page("../pages/recurrence.py").run()
    if window is not None:
        page.number_input(key="window").set_value(window).run()
    assert not page.exception, page.exception
    return page


def test_recurrence_by_type_counts_history_before_the_period(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_recurrence(app_for(known_history))

    table = page.dataframe[0].value.set_index("trigger_type")

    # Outage: 3 Mar then 10 Mar at Atlas (7 days apart): 1 of 2 recurs. Billing:
    # 17 Mar then 24 Mar at Boreal: 1 of 2. The February ones are other pairs.
    assert table.loc["outage_impact", "recurring"] == 1
    assert table.loc["billing_dispute", "recurring"] == 1
    assert table.loc["outage_impact", "recurrence_rate"] == 50.0
    assert "Recurrence window: 90 days" in page.caption[0].value


def test_repeat_accounts_list_each_chain(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_recurrence(app_for(known_history))

    accounts = page.dataframe[1].value

    assert sorted(
        zip(accounts["account_name"], accounts["chain_length"], strict=False)
    ) == [
        ("Atlas Foods", 2),
        ("Boreal Freight", 2),
    ]


def test_a_shorter_window_than_the_gaps_finds_no_recurrence(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_recurrence(app_for(known_history), window=6)

    table = page.dataframe[0].value

    assert table["recurring"].tolist() == [0, 0]  # both gaps are 7 days
    assert "within 6 days" in page.success[0].value
    assert "Recurrence window: 6 days" in page.caption[0].value


def test_selecting_an_account_shows_its_chain_with_links(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_recurrence(app_for(known_history))
    names = page.dataframe[1].value["account_name"].tolist()
    page.session_state["repeat_accounts"] = {
        "selection": {"rows": [names.index("Atlas Foods")], "columns": [], "cells": []}
    }
    page.run()

    chain = page.dataframe[2].value

    assert len(chain) == 2
    assert chain["gap_days"].tolist()[1] == 7.0
    assert all(link.startswith("escalation?id=") for link in chain["link"])

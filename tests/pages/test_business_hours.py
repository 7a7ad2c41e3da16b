"""Business hours change latency and lateness on every page, and say so."""

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from tests.factories import account, at, escalation, team, write


@pytest.fixture
def two_teams(sqlite_engine: Engine) -> dict[str, int]:
    write(sqlite_engine, team("Atlas", "Europe/Berlin"))
    berlin, nomad = write(
        sqlite_engine,
        account(name="Berlin Works", team="Atlas"),
        account(name="Nomad Labs", team="Nomad"),  # no team row: read as UTC
    )
    weekend, tuesday = write(
        sqlite_engine,
        # Fri 6 Mar 16:00 UTC (17:00 in Berlin, day over) → Mon 9 Mar 10:00 UTC
        # (11:00 in Berlin): 66 calendar hours, 2 business hours (Mon 09–11).
        escalation(berlin, at("2026-03-09", 10), 66, severity="critical"),
        # Tue 10 Mar 08:00 → 12:00 UTC: 4 calendar hours, 3 business (09–12).
        escalation(nomad, at("2026-03-10", 12), 4, severity="medium"),
    )
    return {"weekend": weekend, "tuesday": tuesday}


def open_page(page: AppTest, business: bool, path: str | None = None) -> AppTest:
    page.run()
    page.date_input(key="from").set_value(date(2026, 3, 2))
    page.date_input(key="to").set_value(date(2026, 3, 15))
    page.toggle(key="business").set_value(business)
    if path:
        page.switch_page(path)
    page.run()
    assert not page.exception, page.exception
    return page


def tiles(page: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in page.metric}


def test_overview_in_calendar_hours(
    two_teams: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = open_page(app_for(sqlite_engine), business=False)

    # Median of 66 and 4 = 35 h; the critical one is late (66 > 24).
    assert tiles(page)["Median latency"] == "35.0 h"
    assert tiles(page)["Late rate"] == "50.0%"


def test_overview_in_business_hours(
    two_teams: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = open_page(app_for(sqlite_engine), business=True)

    # Median of 2 and 3 = 2.5 business hours; 2 ≤ 24, so nothing is late.
    assert tiles(page)["Median latency"] == "2.5 business h"
    assert tiles(page)["Late rate"] == "0.0%"
    assert "business hours" in page.caption[0].value.lower()
    late_help = next(m.help for m in page.metric if m.label == "Late rate")
    assert "business hours" in late_help


def test_late_page_in_business_hours_finds_nothing_late(
    two_teams: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = open_page(
        app_for(sqlite_engine), business=True, path="../pages/late_escalations.py"
    )

    assert "every one was raised within" in page.success[0].value
    assert "business hours" in page.caption[0].value.lower()


def test_escalation_page_in_business_hours(
    two_teams: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = app_for(sqlite_engine)
    page.query_params["id"] = str(two_teams["weekend"])
    open_page(page, business=True, path="../pages/escalation.py")

    tile = next(m for m in page.metric if m.label == "Signal → escalation")

    assert (tile.value, tile.delta) == ("2.0 business h", "on time")

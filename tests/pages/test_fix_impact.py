"""The Fix impact page on fixes whose before/after counts are known."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from scipy.stats import beta
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from tests.factories import account, at, escalation, fix, write

SHIPPED = at("2026-03-02")


@pytest.fixture
def fixes_history(sqlite_engine: Engine) -> Engine:
    (acme,) = write(sqlite_engine, account(name="Acme"))
    rows = [
        # Outage: 30 in the 8 weeks before the fix (daily from 5 Jan), 3 after.
        *(escalation(acme, at("2026-01-05") + timedelta(days=d), 1) for d in range(30)),
        *(escalation(acme, SHIPPED + timedelta(days=d), 1) for d in (0, 10, 20)),
        # Billing: 10 before and 10 after: no change, and the outage baseline.
        *(
            escalation(
                acme, SHIPPED - timedelta(days=3 * d + 1), 1, trigger_type="billing"
            )
            for d in range(10)
        ),
        *(
            escalation(acme, SHIPPED + timedelta(days=3 * d), 1, trigger_type="billing")
            for d in range(10)
        ),
    ]
    write(sqlite_engine, *rows)
    write(
        sqlite_engine,
        fix("outage_impact", SHIPPED, title="One owner for outages"),
        fix("billing", SHIPPED, title="Credits without finance review"),
        fix("billing", None, title="Billing playbook"),
    )
    return sqlite_engine


def open_fix_impact(page: AppTest) -> AppTest:
    page.run()
    page.switch_page("../pages/fix_impact.py").run()
    assert not page.exception, page.exception
    return page


def test_fix_table_gives_verdicts_ratios_and_baselines(
    fixes_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_fix_impact(app_for(fixes_history))

    table = page.dataframe[0].value.set_index("fix_id")

    assert table.loc[1, "verdict"] == "fewer escalations"
    assert (table.loc[1, "before"], table.loc[1, "after"]) == (30, 3)
    assert table.loc[1, "ratio"] == pytest.approx(0.1)  # 3 ÷ 30
    assert table.loc[1, "others_ratio"] == pytest.approx(1.0)  # billing 10 → 10
    assert table.loc[1, "ratio_of_ratios"] == pytest.approx(0.1)
    assert table.loc[2, "verdict"] == "no clear change"
    assert table.loc[2, "ratio_of_ratios"] == pytest.approx(10.0)  # 1.0 ÷ 0.1
    assert table.loc[3, "verdict"] == "not shipped yet"


def test_interval_matches_clopper_pearson_from_a_reference_library(
    fixes_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_fix_impact(app_for(fixes_history))

    row = page.dataframe[0].value.set_index("fix_id").loc[1]
    # After = 3 of n = 33 (equal windows): exact bounds on p, then p ÷ (1 − p).
    low_p = beta.ppf(0.025, 3, 31)
    high_p = beta.ppf(0.975, 4, 30)

    assert row["lower"] == pytest.approx(low_p / (1 - low_p), rel=1e-6)
    assert row["upper"] == pytest.approx(high_p / (1 - high_p), rel=1e-6)


def test_the_fix_cards_follow_the_chosen_trigger_type(
    fixes_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_fix_impact(app_for(fixes_history))
    page.selectbox(key="fix_type").set_value("outage_impact").run()

    markdown = "\n".join(m.value for m in page.markdown)
    tiles = {m.label: m.value for m in page.metric}

    assert "One owner for outages" in markdown
    assert "Fewer escalations" in markdown
    assert tiles["Escalations before → after"] == "30 → 3"


def test_no_fixes_explains_what_to_do(
    sqlite_engine: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_fix_impact(app_for(sqlite_engine))

    assert "No process fixes are logged yet" in page.info[0].value

"""The Late escalations page on the hand-worked history of the page tests."""

from collections.abc import Callable

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import FROM, TO


def open_late(page: AppTest, **widgets: object) -> AppTest:
    page.run()
    page.date_input(key="from").set_value(FROM)
    page.date_input(key="to").set_value(TO)
    page.switch_page("../pages/late_escalations.py").run()
    for key, value in widgets.items():
        page.get_by_key(key).set_value(value)  # type: ignore[union-attr]
        page.run()
    assert not page.exception, page.exception
    return page


def test_breakdown_counts_sit_beside_rates(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_late(app_for(known_history))

    breakdown = page.dataframe[0].value

    # Atlas: 10 h high (on time) and 30 h critical (late). Borealis: 200 h medium
    # (late) and 0 h low. One of two late in each team.
    assert breakdown["team"].tolist() == ["Atlas", "Borealis"]
    assert breakdown["escalations"].tolist() == [2, 2]
    assert breakdown["late"].tolist() == [1, 1]
    assert breakdown["late_rate"].tolist() == [50.0, 50.0]


def test_late_table_lists_the_most_overdue_first(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_late(app_for(known_history))

    table = page.dataframe[1].value

    # 200 − 168 = 32 h beyond for the billing dispute; 30 − 24 = 6 h for the outage.
    assert table["account_name"].tolist() == ["Boreal Freight", "Atlas Foods"]
    assert table["hours_beyond_threshold"].tolist() == [32.0, 6.0]
    assert table["packet"].tolist() == ["0/5", "0/5"]
    assert all(link.startswith("escalation?id=") for link in table["link"])


def test_focusing_on_a_bar_value_narrows_the_table(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_late(app_for(known_history), by="severity")
    page.selectbox(key="focus").set_value("critical").run()

    table = page.dataframe[1].value

    assert table["severity"].tolist() == ["critical"]
    assert table["account_name"].tolist() == ["Atlas Foods"]


def test_a_value_with_nothing_late_says_so(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_late(app_for(known_history), by="severity")
    page.selectbox(key="focus").set_value("low").run()

    assert not page.exception
    assert "No late escalations for low" in page.success[0].value


def test_changing_the_dimension_drops_the_old_focus(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_late(app_for(known_history), by="severity")
    page.selectbox(key="focus").set_value("critical").run()
    page.segmented_control(key="by").set_value("team").run()

    assert page.selectbox(key="focus").value is None
    assert len(page.dataframe[1].value) == 2


def test_log_scale_keeps_the_thresholds_marked(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_late(app_for(known_history), log=True)

    spec = page.get("plotly_chart")[0].proto.spec

    assert "log scale" in spec
    for label in ("critical 24 h", "high 72 h", "medium 168 h", "low 336 h"):
        assert label in spec

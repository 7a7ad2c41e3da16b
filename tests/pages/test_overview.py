"""The Overview page on a small history whose figures are worked out by hand."""

from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from tests.factories import account, at, escalation, level_change, write
from tests.pages.conftest import FROM, TO


def open_overview(at_: AppTest, **multiselects: list[str]) -> AppTest:
    at_.run()
    at_.date_input(key="from").set_value(FROM)
    at_.date_input(key="to").set_value(TO)
    for key, values in multiselects.items():
        at_.multiselect(key=key).set_value(values)
    at_.run()
    assert not at_.exception, at_.exception
    return at_


def tiles(at_: AppTest) -> dict[str, tuple[str, str | None]]:
    """The five health tiles of the first row."""
    return {metric.label: (metric.value, metric.delta) for metric in at_.metric[:5]}


def test_tiles_show_the_hand_worked_figures(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_overview(app_for(known_history))

    # Now: sorted 0, 10, 30, 200. Median at rank 1.5 = 20; p90 at rank 2.7 =
    # 30 + 0.7 × 170 = 149. Late 2 of 4; recurring 2 of 4.
    # Before: 72, 100. Median 86; p90 = 72 + 0.9 × 28 = 97.2; late 1 of 2 (72 is
    # on the threshold, not over it); recurring 0 of 2.
    assert tiles(page) == {
        "Escalations": ("4", "+2"),
        "Median latency": ("20.0 h", "-66.0 h"),
        "p90 latency": ("149.0 h", "+51.8 h"),
        "Late rate": ("50.0%", "0.0 pp"),
        "Recurrence rate": ("50.0%", "+50.0 pp"),
    }
    # No change is neither a rise nor a fall: grey, no arrow.
    by_label = {metric.label: metric.proto for metric in page.metric[:5]}
    assert by_label["Late rate"].color == MetricProto.MetricColor.GRAY
    assert by_label["Late rate"].direction == MetricProto.MetricDirection.NONE
    # A rise in the recurrence rate is bad news: red, pointing up.
    assert by_label["Recurrence rate"].color == MetricProto.MetricColor.RED
    assert by_label["Recurrence rate"].direction == MetricProto.MetricDirection.UP


def test_every_tile_carries_its_definition_and_baseline(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_overview(app_for(known_history))

    helps = {metric.label: metric.help for metric in page.metric}

    assert "strictly above their severity's threshold" in helps["Late rate"]
    assert (
        "Previous period (02 Feb 2026 – 01 Mar 2026): 86.0 h" in helps["Median latency"]
    )


def test_a_team_filter_narrows_every_figure(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_overview(app_for(known_history), team=["Borealis"])

    # Borealis now: 200 and 0 h, median 100; one late, one recurring.
    # Before: one escalation of 100 h, late.
    assert tiles(page) == {
        "Escalations": ("2", "+1"),
        "Median latency": ("100.0 h", "0.0 h"),
        "p90 latency": ("180.0 h", "+80.0 h"),
        "Late rate": ("50.0%", "-50.0 pp"),
        "Recurrence rate": ("50.0%", "+50.0 pp"),
    }


def test_trigger_type_table_and_weekly_trend(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_overview(app_for(known_history))

    table = page.dataframe[0].value
    chart = page.get("plotly_chart")[0].proto.spec

    assert table["trigger_type"].tolist() == ["billing_dispute", "outage_impact"]
    assert table["escalations"].tolist() == [2, 2]
    # billing: 200 (late) and 0 → median 100, late 50 %; outage: 10, 30 → 20.
    assert table["median_hours"].tolist() == [100.0, 20.0]
    assert table["late_rate"].tolist() == [50.0, 50.0]
    # Four ISO weeks (2, 9, 16, 23 March), one escalation each.
    assert '"y":[1,1,1,1]' in chart.replace(" ", "")


def test_an_empty_period_says_so(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = app_for(known_history)
    page.run()
    page.date_input(key="from").set_value(date(2024, 1, 1))
    page.date_input(key="to").set_value(date(2024, 1, 31))
    page.run()

    assert not page.exception
    assert "No escalations were raised in this period" in page.info[0].value
    assert not page.get("plotly_chart")


def test_an_empty_database_explains_how_to_fill_it(
    sqlite_engine: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = app_for(sqlite_engine)
    page.run()

    assert not page.exception
    assert "escalation-health seed" in page.info[0].value


def test_from_after_to_is_explained_not_crashed(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = app_for(known_history)
    page.run()
    page.date_input(key="from").set_value(date(2026, 3, 29))
    page.date_input(key="to").set_value(date(2026, 3, 2))
    page.run()

    assert not page.exception
    assert "is after To" in page.sidebar.error[0].value
    assert not page.metric


def test_a_write_shows_on_the_next_rerun_without_clearing_caches(
    known_history: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_overview(app_for(known_history))
    assert tiles(page)["Escalations"][0] == "4"

    # The factory bumps the data version in the same transaction, as every
    # writer must; the cached history is keyed on it.
    write(known_history, escalation(1, at("2026-03-25"), 5, severity="low"))
    page.run()

    assert tiles(page)["Escalations"][0] == "5"


def test_quality_tiles_on_packets_paths_and_resolution(
    sqlite_engine: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    (acme,) = write(sqlite_engine, account())
    full = {
        "evidence": "Logs",
        "decision_needed": "Fund it",
        "next_owner": "Ana",
        "consequence_if_unchanged": "Churn",
        "exit_evidence": "Clean month",
    }
    first, second, _ = write(
        sqlite_engine,
        escalation(
            acme,
            at("2026-03-03"),
            1,
            resolved_at=at("2026-03-05"),
            status="resolved",
            **full,
        ),
        escalation(
            acme,
            at("2026-03-10"),
            1,
            resolved_at=at("2026-03-11"),
            status="resolved",
            **{**full, "exit_evidence": "  "},
        ),
        escalation(acme, at("2026-03-20"), 1),
    )
    write(
        sqlite_engine,
        level_change(first, at("2026-03-04"), 1, 2, owner_before="A", owner_after="B"),
        level_change(first, at("2026-03-04", 5), 2, 3),  # changes nothing
        level_change(
            second,
            at("2026-03-10", 3),
            1,
            2,
            cadence_before="weekly",
            cadence_after="daily",
        ),
    )

    page = open_overview(app_for(sqlite_engine))
    quality = {m.label: m.value for m in page.metric[5:]}

    # 1 of 3 packets complete (the second lacks exit evidence: blank); 2 of 3
    # level changes structural; resolved after 48 h and 24 h → median 36 h.
    assert quality == {
        "Complete packets": "33.3%",
        "Structural level changes": "66.7%",
        "Median time to resolution": "36.0 h",
        "Still open": "1",
    }
    resolution_help = next(
        m.help for m in page.metric if m.label.startswith("Median time")
    )
    assert "p90 45.6 h" in resolution_help  # 24 + 0.9 × (48 − 24)

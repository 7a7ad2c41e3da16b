"""The Early warning page's chart of one account's weekly tone."""

from datetime import date

import polars as pl

from dashboard.early_warning_view import trajectory_figure
from metrics.early_warning import TRAJECTORY_SCHEMA


def weeks(counts: list[tuple[int, int, int]]) -> pl.DataFrame:
    """A trajectory from (help, frustrated, exit) counts per week."""
    rows = []
    for index, (help_seeking, frustrated, exit_seeking) in enumerate(counts):
        total = help_seeking + frustrated + exit_seeking
        rows.append(
            {
                "account_id": 1,
                "week_start": date(2026, 3, 2 + 7 * index),
                "signals": total,
                "help_seeking": help_seeking,
                "frustrated": frustrated,
                "exit_seeking": exit_seeking,
                "exit_share": exit_seeking / total if total else 0.0,
                "frustrated_share": frustrated / total if total else 0.0,
                "rolling_signals": total,
                "rolling_exit_share": exit_seeking / total if total else 0.0,
            }
        )
    return pl.DataFrame(rows, schema=TRAJECTORY_SCHEMA)


def test_a_quiet_account_gets_a_tick_for_every_signal_and_quarter_share_ticks() -> None:
    figure = trajectory_figure(weeks([(1, 0, 0), (0, 1, 1)]))

    assert figure.layout.yaxis.dtick == 1
    assert figure.layout.yaxis.tickformat == ",d"
    assert list(figure.layout.yaxis2.tickvals) == [0, 0.25, 0.5, 0.75, 1]
    # Three stacked tones and the exit-share line, week by week.
    assert [trace.y for trace in figure.data[:3]] == [(1, 0), (0, 1), (0, 1)]
    assert figure.data[3].y == (0.0, 0.5)


def test_a_busy_account_leaves_the_count_ticks_to_plotly() -> None:
    figure = trajectory_figure(weeks([(5, 2, 2), (3, 0, 6)]))

    assert figure.layout.yaxis.dtick is None


def test_an_empty_trajectory_still_draws_the_axes() -> None:
    figure = trajectory_figure(weeks([]))

    assert figure.layout.yaxis.dtick == 1
    assert all(len(trace.x or ()) == 0 for trace in figure.data)

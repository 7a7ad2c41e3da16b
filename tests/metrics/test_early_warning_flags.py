"""Early warning flags: settings, window evaluations, weekly tone, current flags.

Every history is tiny and every expected number is worked out by hand in the
comments. Days count from T0 (Monday 2 March 2026 00:00 UTC); a window of 10
days ending on day 20 holds the signals in (day 10, day 20].
"""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import early_warning
from metrics.early_warning import (
    CURRENT_FLAG_SCHEMA,
    DEFAULT_EARLY_WARNING_SETTINGS,
    EVALUATION_SCHEMA,
    TRAJECTORY_SCHEMA,
    EarlyWarningSettings,
    account_trajectory,
    current_flags,
    flag_evaluations,
)
from tests.metrics.early_warning_rows import (
    NO_DECISIONS,
    NO_ESCALATIONS,
    NO_SIGNALS,
    TONE_OF,
    day,
    decisions,
    escalations,
    signals,
)

MICROSECOND = timedelta(microseconds=1)


# Every test runs in one pass and again split into passes of whole accounts.
pytestmark = pytest.mark.usefixtures("each_rows_per_pass")


TEN_DAYS = EarlyWarningSettings(window_days=10, min_signals=2, exit_share_threshold=0.5)


# Settings -------------------------------------------------------------------


def test_the_defaults_are_the_documented_ones() -> None:
    settings = DEFAULT_EARLY_WARNING_SETTINGS

    assert (settings.window_days, settings.min_signals) == (28, 3)
    assert (settings.lookback_days, settings.horizon_days) == (60, 60)
    assert (settings.trajectory_weeks, settings.similar_cases) == (8, 3)
    assert 0 < settings.exit_share_threshold <= 1
    assert 0 <= settings.min_similarity <= 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("window_days", 0),
        ("window_days", -3),
        ("window_days", 1.5),
        ("window_days", True),
        ("min_signals", 0),
        ("lookback_days", 0),
        ("horizon_days", -1),
        ("trajectory_weeks", 0),
        ("similar_cases", 0),
        ("exit_share_threshold", 0.0),
        ("exit_share_threshold", 1.01),
        ("exit_share_threshold", float("nan")),
        ("exit_share_threshold", "0.4"),
        ("min_similarity", -0.1),
        ("min_similarity", 1.5),
    ],
)
def test_a_bad_setting_is_refused_with_its_name_and_value(
    field: str, value: object
) -> None:
    with pytest.raises(ValueError, match=field) as raised:
        EarlyWarningSettings(**{field: value})  # type: ignore[arg-type]

    assert repr(value) in str(raised.value)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_EARLY_WARNING_SETTINGS.window_days = 7  # type: ignore[misc]


# flag_evaluations -------------------------------------------------------------


def _evaluated(frame: pl.DataFrame) -> list[tuple[int, datetime, int, int, bool]]:
    return frame.select(
        "account_id", "evaluated_at", "signals_in_window", "exit_seeking", "flagged"
    ).rows()


def test_a_signal_exactly_window_days_old_is_outside_the_window() -> None:
    # Window 10 days, at least 3 signals, threshold 1/3.
    # Account 1: exit day 0, help day 5, help day 10. At day 10 the window is
    #   (day 0, day 10]: the exit signal of day 0 is exactly 10 days old and
    #   outside, so 2 signals, 0 exit.
    # Account 2: the same, but the last help a microsecond before day 10: the
    #   window (day 0 - 1 us, day 10 - 1 us] still holds day 0, so 3 signals,
    #   1 exit: 1/3 meets the threshold 1/3 exactly and 3 meets min_signals 3.
    settings = EarlyWarningSettings(
        window_days=10, min_signals=3, exit_share_threshold=1 / 3
    )
    history = signals(
        [
            (1, 0, "E"),
            (1, 5, "H"),
            (1, 10, "H"),
            (2, 0, "E"),
            (2, 5, "H"),
            (2, day(10) - MICROSECOND, "H"),
        ]
    )

    evaluated = flag_evaluations(history, settings)

    assert _evaluated(evaluated) == [
        (1, day(0), 1, 1, False),  # one signal: below min_signals
        (1, day(5), 2, 1, False),  # 1/2 share, but 2 < 3 signals
        (1, day(10), 2, 0, False),  # day 0 has left the window
        (2, day(0), 1, 1, False),
        (2, day(5), 2, 1, False),
        (2, day(10) - MICROSECOND, 3, 1, True),  # 3 signals, 1/3 = threshold
    ]


def test_min_signals_is_a_lower_bound_that_counts_itself() -> None:
    # Threshold 0.5, min 3: two exit signals (share 1.0) are not enough; a third
    # signal, help seeking, makes 3 signals with share 2/3 and flags.
    settings = EarlyWarningSettings(
        window_days=10, min_signals=3, exit_share_threshold=0.5
    )
    history = signals([(1, 0, "E"), (1, 1, "E"), (1, 2, "H")])

    flagged = flag_evaluations(history, settings).get_column("flagged").to_list()

    assert flagged == [False, False, True]


def test_a_share_exactly_on_the_threshold_flags_despite_float_rounding() -> None:
    # 25 signals at one instant, 7 exit seeking, threshold 0.28: 7/25 = 0.28
    # exactly, although 0.28 * 25 is 7.000000000000001 in floating point. Six
    # exit signals of 25 (0.24) do not flag. Signals at one instant make one
    # evaluation holding all of them.
    settings = EarlyWarningSettings(min_signals=3, exit_share_threshold=0.28)
    at = day(3)
    history = signals(
        [(1, at, "E")] * 7
        + [(1, at, "H")] * 18
        + [(2, at, "E")] * 6
        + [(2, at, "F")] * 19
    )

    evaluated = flag_evaluations(history, settings)

    assert evaluated.select(
        "account_id", "signals_in_window", "exit_seeking", "frustrated", "flagged"
    ).rows() == [(1, 25, 7, 0, True), (2, 25, 6, 19, False)]
    assert evaluated.get_column("exit_share").to_list() == [0.28, 0.24]
    assert evaluated.get_column("frustrated_share").to_list() == [0.0, 0.76]


def test_counts_per_tone_and_shares_of_one_window() -> None:
    # Default window (28 days). At day 20 the window (day -8, day 20] holds all
    # five: 2 help, 1 frustrated, 2 exit. exit share 2/5 = 0.4, frustrated 0.2.
    history = signals(
        [(4, 1, "H"), (4, 4, "F"), (4, 9, "E"), (4, 15, "H"), (4, 20, "E")]
    )

    last = flag_evaluations(history).row(-1, named=True)

    assert last == {
        "account_id": 4,
        "evaluated_at": day(20),
        "signals_in_window": 5,
        "help_seeking": 2,
        "frustrated": 1,
        "exit_seeking": 2,
        "exit_share": 0.4,
        "frustrated_share": 0.2,
        "flagged": True,  # 5 >= 3 signals and 0.4 >= the default threshold
    }


def test_no_signals_give_no_evaluations_in_the_documented_schema() -> None:
    evaluated = flag_evaluations(NO_SIGNALS)

    assert evaluated.schema == EVALUATION_SCHEMA
    assert evaluated.height == 0


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (pl.lit("angry").alias("tone"), "angry"),
        (pl.lit(None, dtype=pl.String).alias("tone"), "None"),
        (pl.col("observed_at").dt.replace_time_zone(None), "observed_at"),
        (pl.lit(None, dtype=pl.Int64).alias("account_id"), "account_id"),
    ],
)
def test_bad_signals_are_refused_with_a_message_naming_the_problem(
    change: pl.Expr, named: str
) -> None:
    history = signals([(1, 0, "E")]).with_columns(change)

    with pytest.raises(ValueError, match=named):
        flag_evaluations(history)


def test_a_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match="tone"):
        flag_evaluations(signals([(1, 0, "E")]).drop("tone"))


def test_evaluations_match_a_plain_loop_on_a_random_history() -> None:
    # An independent check: every window recounted by brute force. Times fall
    # on whole hours over 40 days, so ties and signals exactly a window apart
    # are common.
    rng = random.Random(11)
    rows = [
        (
            rng.randint(1, 4),
            day(0) + timedelta(hours=rng.randrange(40 * 24) // 6 * 6),
            rng.choice("HHFE"),
        )
        for _ in range(300)
    ]
    settings = EarlyWarningSettings(
        window_days=5, min_signals=4, exit_share_threshold=0.25
    )
    window = timedelta(days=5)

    expected = []
    for account, at in sorted({(row[0], row[1]) for row in rows}):
        inside = [
            TONE_OF[row[2]]
            for row in rows
            if row[0] == account and at - window < row[1] <= at
        ]
        exits = inside.count("exit_seeking")
        flagged = len(inside) >= 4 and exits / len(inside) >= 0.25
        expected.append((account, at, len(inside), exits, flagged))

    assert _evaluated(flag_evaluations(signals(rows), settings)) == expected


# account_trajectory -----------------------------------------------------------


def _weekly(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    return frame.select(
        "week_start",
        "signals",
        "help_seeking",
        "frustrated",
        "exit_seeking",
        "exit_share",
        "frustrated_share",
        "rolling_signals",
        "rolling_exit_share",
    ).rows()


def test_weeks_are_iso_weeks_with_quiet_weeks_at_zero() -> None:
    # Window 14 days. Account 5 (account 6 must not show):
    #   Mon 2 Mar 00:00 help, Wed 4 Mar 12:00 exit  -> week of 2 Mar
    #   nothing in the week of 9 Mar                -> zeros, null shares
    #   Mon 16 Mar 00:00 exit, Sun 22 Mar 23:59:59.999999 frustrated
    #                                               -> week of 16 Mar
    # Rolling: the 14 days ending at next Monday, [next Mon - 14 d, next Mon):
    #   week 2 Mar:  [23 Feb, 9 Mar)  help + exit           -> 2, share 1/2
    #   week 9 Mar:  [2 Mar, 16 Mar)  2 Mar 00:00 is in (start inclusive);
    #                16 Mar 00:00 is out (end exclusive)    -> 2, share 1/2
    #   week 16 Mar: [9 Mar, 23 Mar)  exit + frustrated     -> 2, share 1/2
    settings = EarlyWarningSettings(window_days=14)
    history = signals(
        [
            (5, day(0), "H"),
            (5, day(2.5), "E"),
            (5, day(14), "E"),
            (5, day(21) - MICROSECOND, "F"),
            (6, day(1), "E"),
        ]
    )

    trajectory = account_trajectory(history, account_id=5, settings=settings)

    assert trajectory.schema == TRAJECTORY_SCHEMA
    assert trajectory.get_column("account_id").unique().to_list() == [5]
    assert _weekly(trajectory) == [
        (date(2026, 3, 2), 2, 1, 0, 1, 0.5, 0.0, 2, 0.5),
        (date(2026, 3, 9), 0, 0, 0, 0, None, None, 2, 0.5),
        (date(2026, 3, 16), 2, 0, 1, 1, 0.5, 0.5, 2, 0.5),
    ]


def test_trajectory_as_of_drops_later_signals_and_ends_its_last_window_there() -> None:
    # As above, as of Wednesday 18 March 12:00: the frustrated signal of 22 Mar
    # is left out. The last week's window is (as_of - 14 d, as_of] =
    # (4 Mar 12:00, 18 Mar 12:00]: the exit of 4 Mar 12:00 is exactly 14 days
    # old and out, so it holds only the exit of 16 Mar: 1 signal, share 1.0.
    settings = EarlyWarningSettings(window_days=14)
    history = signals(
        [(5, day(0), "H"), (5, day(2.5), "E"), (5, day(14), "E"), (5, 20, "F")]
    )

    trajectory = account_trajectory(history, as_of=day(16.5), settings=settings)

    assert _weekly(trajectory)[-1] == (date(2026, 3, 16), 1, 0, 0, 1, 1.0, 0.0, 1, 1.0)


def test_trajectory_as_of_after_the_last_signal_lists_the_quiet_weeks() -> None:
    # One exit signal on 3 March, as of Monday 23 March: weeks of 2, 9, 16 and
    # 23 March. With the default 28-day window, the rolling window of the week
    # of 16 March is [23 Feb, 23 Mar) and still holds the signal; the last one
    # is (23 Feb, 23 Mar] too, as of 23 March 00:00.
    history = signals([(7, 1, "E")])

    trajectory = account_trajectory(history, as_of=day(21))

    assert trajectory.select("week_start", "signals", "rolling_signals").rows() == [
        (date(2026, 3, 2), 1, 1),
        (date(2026, 3, 9), 0, 1),
        (date(2026, 3, 16), 0, 1),
        (date(2026, 3, 23), 0, 1),
    ]


def test_trajectory_of_nothing_is_empty_in_the_documented_schema() -> None:
    assert account_trajectory(NO_SIGNALS).schema == TRAJECTORY_SCHEMA
    unknown = account_trajectory(signals([(1, 0, "E")]), account_id=99)
    assert unknown.height == 0
    assert unknown.schema == TRAJECTORY_SCHEMA


def test_trajectory_refuses_a_naive_as_of() -> None:
    with pytest.raises(ValueError, match="as_of"):
        account_trajectory(signals([(1, 0, "E")]), as_of=datetime(2026, 3, 3))


# current_flags ------------------------------------------------------------------


def test_current_flags_rank_and_hide_as_the_rules_say() -> None:
    # Window 10 days, min 2 signals, threshold 0.5, as of day 20: the window is
    # (day 10, day 20].
    #  1: exit 12, exit 15, help 18   -> 3 signals, 2 exit, 2/3   listed
    #  2: exit 14, help 16            -> 2, 1, 1/2 (= threshold); an escalation
    #     open since day 2 hides it                                  hidden
    #  3: exit 11, exit 19            -> flagged; escalated day 12 inside the
    #     window (resolved day 13)                                   hidden
    #  4: exit 11, exit 12            -> flagged; escalated exactly on day 10,
    #     the open start of the window, resolved 10.5: it hides the flag only
    #     up to day 10 + 10 = day 20, not at day 20 itself           listed
    #  5: exit 13, exit 17; dismissed on day 17, at its latest signal hidden
    #  6: exit 13, exit 15; dismissed on day 14, before its latest listed
    #  7: help 12, help 19, exit 9    -> 2 signals in the window, 0 exit
    #  8: exit 8, exit 10             -> both outside the window
    #  9 and 10: exit and help at day 16 each  -> 2 signals, 1/2     listed
    # 11: exit 11, 12 and 14          -> 3 signals, 3 exit, share 1  listed
    # Ranked by share, then exit count, then latest signal, then id:
    #   11 (1.0, 3), 6 (1.0, 2, day 15), 4 (1.0, 2, day 12), 1 (2/3),
    #   9 (0.5, 1, day 16), 10 (same, higher id).
    history = signals(
        [
            (1, 12, "E"),
            (1, 15, "E"),
            (1, 18, "H"),
            (2, 14, "E"),
            (2, 16, "H"),
            (3, 11, "E"),
            (3, 19, "E"),
            (4, 11, "E"),
            (4, 12, "E"),
            (5, 13, "E"),
            (5, 17, "E"),
            (6, 13, "E"),
            (6, 15, "E"),
            (7, 9, "E"),
            (7, 12, "H"),
            (7, 19, "H"),
            (8, 8, "E"),
            (8, 10, "E"),
            (9, 16, "E"),
            (9, 16, "H"),
            (10, 16, "H"),
            (10, 16, "E"),
            (11, 11, "E"),
            (11, 12, "E"),
            (11, 14, "E"),
        ]
    )
    raised = escalations([(1, 2, 2, None), (2, 3, 12, 13), (3, 4, 10, 10.5)])
    answers = decisions(
        [(5, "dismissed", 17, "not_a_risk"), (6, "dismissed", 14, "other")]
    )

    flags = current_flags(history, raised, answers, as_of=day(20), settings=TEN_DAYS)

    assert flags.schema == CURRENT_FLAG_SCHEMA
    assert flags.select(
        "rank",
        "account_id",
        "signals_in_window",
        "exit_seeking",
        "frustrated",
        "exit_share",
        "last_signal_at",
    ).rows() == [
        (1, 11, 3, 3, 0, 1.0, day(14)),
        (2, 6, 2, 2, 0, 1.0, day(15)),
        (3, 4, 2, 2, 0, 1.0, day(12)),
        (4, 1, 3, 2, 0, 2 / 3, day(18)),
        (5, 9, 2, 1, 0, 0.5, day(16)),
        (6, 10, 2, 1, 0, 0.5, day(16)),
    ]
    # flagged_since, from the evaluations at each signal:
    #  11: day 11 one signal (not flagged), day 12 flagged, day 14 flagged
    #   6: day 13 one signal, day 15 flagged
    #   4: its evaluations on days 11 and 12 were hidden by the escalation of
    #      day 10, so the flag is first shown at as_of itself
    #   1: day 12 one signal, day 15 (2 of 2 exit) and day 18 (2 of 3) flagged
    #   9, 10: one evaluation, day 16
    since = dict(flags.select("account_id", "flagged_since").rows())
    assert since == {
        11: day(12),
        6: day(15),
        4: day(20),
        1: day(15),
        9: day(16),
        10: day(16),
    }


def test_flagged_since_starts_after_the_last_unflagged_evaluation() -> None:
    # Window 10, min 2, threshold 0.5. Exit 1 (1 signal: no), exit 2 (2/2: yes),
    # help 3 (2/3: yes), help 4 (2/4 = 0.5: yes), help 5 (2/5: no), exit 6
    # (3/6: yes), exit 7 (4/7: yes). The current run began on day 6.
    history = signals(
        [
            (1, 1, "E"),
            (1, 2, "E"),
            (1, 3, "H"),
            (1, 4, "H"),
            (1, 5, "H"),
            (1, 6, "E"),
            (1, 7, "E"),
        ]
    )

    flags = current_flags(
        history, NO_ESCALATIONS, NO_DECISIONS, as_of=day(7.5), settings=TEN_DAYS
    )

    assert flags.select(
        "flagged_since", "signals_in_window", "exit_seeking"
    ).rows() == [(day(6), 7, 4)]


def test_a_dismissal_hides_a_flag_until_a_newer_signal_arrives() -> None:
    # Exit on days 13 and 17, dismissed on day 17 (at the latest signal): hidden
    # as of day 18. A new exit signal on day 19 brings it back as of day 19.5.
    # A dismissal does not break the run of evaluations: day 13 (1 signal, not
    # flagged), day 17 (2 of 2) and day 19 (3 of 3), so it is flagged since 17.
    before = signals([(1, 13, "E"), (1, 17, "E")])
    after = signals([(1, 13, "E"), (1, 17, "E"), (1, 19, "E")])
    dismissed = decisions([(1, "dismissed", 17, "known_issue_in_hand")])

    hidden = current_flags(
        before, NO_ESCALATIONS, dismissed, as_of=day(18), settings=TEN_DAYS
    )
    back = current_flags(
        after, NO_ESCALATIONS, dismissed, as_of=day(19.5), settings=TEN_DAYS
    )

    assert hidden.height == 0
    assert back.select("account_id", "flagged_since", "exit_seeking").rows() == [
        (1, day(17), 3)
    ]


def test_decisions_after_as_of_and_decisions_to_open_do_not_hide_a_flag() -> None:
    # A dismissal dated after as_of has not happened yet; an "opened" decision
    # hides nothing by itself (the escalation it created does).
    history = signals([(1, 13, "E"), (1, 17, "E"), (2, 13, "E"), (2, 17, "E")])
    answers = decisions([(1, "dismissed", 19, "other"), (2, "opened", 17.5, None)])

    flags = current_flags(
        history, NO_ESCALATIONS, answers, as_of=day(18), settings=TEN_DAYS
    )

    assert flags.get_column("account_id").to_list() == [1, 2]


def test_an_escalation_after_as_of_does_not_hide_a_flag() -> None:
    history = signals([(1, 13, "E"), (1, 17, "E")])
    later = escalations([(1, 1, 18.5, None)])

    flags = current_flags(
        history, later, NO_DECISIONS, as_of=day(18), settings=TEN_DAYS
    )

    assert flags.get_column("account_id").to_list() == [1]


def test_an_escalation_resolved_after_as_of_was_still_open() -> None:
    # Escalated day 1 (outside the window (day 8, day 18]) and resolved day 30:
    # open at day 18, so it hides the flag.
    history = signals([(1, 13, "E"), (1, 17, "E")])
    raised = escalations([(1, 1, 1, 30)])

    flags = current_flags(
        history, raised, NO_DECISIONS, as_of=day(18), settings=TEN_DAYS
    )

    assert flags.height == 0


def test_current_flags_of_nothing_are_empty_in_the_documented_schema() -> None:
    empty = current_flags(NO_SIGNALS, NO_ESCALATIONS, NO_DECISIONS, as_of=day(1))
    all_later = current_flags(
        signals([(1, 5, "E")] * 3), NO_ESCALATIONS, NO_DECISIONS, as_of=day(1)
    )

    assert empty.schema == CURRENT_FLAG_SCHEMA
    assert empty.height == 0
    assert_frame_equal(all_later, empty)


def test_current_flags_refuse_an_unknown_decision_and_a_naive_as_of() -> None:
    history = signals([(1, 13, "E")])

    with pytest.raises(ValueError, match="maybe"):
        current_flags(
            history,
            NO_ESCALATIONS,
            decisions([(1, "maybe", 14, None)]),
            as_of=day(18),
        )
    with pytest.raises(ValueError, match="as_of"):
        current_flags(history, NO_ESCALATIONS, NO_DECISIONS, as_of=datetime(2026, 3, 3))


def test_current_flags_read_an_as_of_in_another_zone_as_the_same_instant() -> None:
    history = signals([(1, 13, "E"), (1, 17, "E")])
    zone = datetime(2026, 3, 20, 1, 0, tzinfo=UTC).astimezone(
        ZoneInfo("America/New_York")
    )

    in_zone = current_flags(
        history, NO_ESCALATIONS, NO_DECISIONS, as_of=zone, settings=TEN_DAYS
    )
    in_utc = current_flags(
        history,
        NO_ESCALATIONS,
        NO_DECISIONS,
        as_of=datetime(2026, 3, 20, 1, 0, tzinfo=UTC),
        settings=TEN_DAYS,
    )

    assert_frame_equal(in_zone, in_utc)


# account_passes -------------------------------------------------------------


def _split(accounts: list[int | None], rows_per_pass: int) -> list[list[int | None]]:
    column = pl.Series("account_id", accounts, dtype=pl.Int64)
    return [
        column.to_frame().filter(keep).to_series().to_list()
        for keep in early_warning.account_passes(column, rows_per_pass)
    ]


def test_passes_keep_whole_accounts_and_cut_after_the_row_that_fills_one() -> None:
    # Rows per account: 1 -> 2, 2 -> 1, 3 -> 3, 4 -> 1. Running totals 2, 3, 6,
    # 7; with 3 rows a pass the first pass fills at account 2 (3 rows), the
    # second at account 3 (6 rows) and account 4 starts a third.
    accounts = [3, 1, 4, 3, 2, 1, 3]

    assert _split(accounts, 3) == [[1, 2, 1], [3, 3, 3], [4]]


def test_an_account_larger_than_a_pass_is_never_split() -> None:
    # Running totals 4 then 5 with 2 rows a pass: account 5 fills the second
    # pass (rows 3-4) and account 6 starts the third.
    assert _split([5, 5, 5, 5, 6], 2) == [[5, 5, 5, 5], [6]]
    # Totals 5 then 6: both end in the third pass (rows 5-6), so account 6
    # shares the large account's pass.
    assert _split([5, 5, 5, 5, 5, 6], 2) == [[5, 5, 5, 5, 5, 6]]


def test_no_rows_or_rows_that_fit_make_one_pass_that_keeps_everything() -> None:
    assert _split([], 3) == [[]]
    assert _split([2, 1, 2], 3) == [[2, 1, 2]]


def test_null_accounts_go_to_the_first_pass() -> None:
    assert _split([None, 1, 1, 2, 2], 2) == [[None, 1, 1], [2, 2]]


def test_evaluations_can_keep_only_some_columns_and_refuse_unknown_ones() -> None:
    rows = [(1, 1.0, "E"), (1, 2.0, "H"), (2, 2.0, "E")]
    full = flag_evaluations(signals(rows), TEN_DAYS)

    narrow = flag_evaluations(
        signals(rows), TEN_DAYS, columns=["account_id", "flagged"]
    )

    assert_frame_equal(narrow, full.select("account_id", "flagged"))
    with pytest.raises(ValueError, match=r"no columns \['tone'\]"):
        flag_evaluations(signals(rows), TEN_DAYS, columns=["tone"])

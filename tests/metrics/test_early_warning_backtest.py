"""Early warning against history: backtest, flag episodes, similar cases, decisions.

Days count from T0 (Monday 2 March 2026 00:00 UTC). Unless a test says
otherwise the window is 10 days, a flag needs 2 signals and an exit share of
at least 0.5, so "exit on day 0, exit on day 5" is flagged from day 5 on.
"""

from datetime import timedelta

import polars as pl
import pytest

from metrics.early_warning import (
    ACCEPTANCE_SCHEMA,
    BACKTEST_SCHEMA,
    BACKTEST_SUMMARY_SCHEMA,
    DISMISSAL_REASON_SCHEMA,
    EPISODE_SCHEMA,
    SIMILAR_CASE_SCHEMA,
    EarlyWarningSettings,
    backtest,
    backtest_summary,
    dismissal_reasons,
    flag_acceptance,
    flag_episodes,
    flag_evaluations,
    similar_past_cases,
)
from tests.metrics.early_warning_rows import (
    NO_DECISIONS,
    NO_ESCALATIONS,
    NO_SIGNALS,
    day,
    decisions,
    escalations,
    signals,
)

# Every test runs in one pass and again split into passes of whole accounts.
pytestmark = pytest.mark.usefixtures("each_rows_per_pass")


MICROSECOND = timedelta(microseconds=1)
SETTINGS = EarlyWarningSettings(
    window_days=10,
    min_signals=2,
    exit_share_threshold=0.5,
    lookback_days=30,
    horizon_days=30,
)


# backtest -----------------------------------------------------------------------


def test_backtest_lead_days_and_its_bounds() -> None:
    # Lookback 30 days: a flag counts when it falls in [escalated - 30 d,
    # escalated).
    # 1: exit 0, exit 5 -> flagged from day 5; escalated day 20 (late: 100 h
    #    after its first signal against 72 h): lead 20 - 5 = 15 days.
    # 2: exit 15, exit 20 -> first flagged at day 20, the very instant of the
    #    escalation: not strictly before it, so not flagged ahead.
    # 3: exit 0, exit 1 -> flagged at day 1; escalated day 31: day 1 is exactly
    #    30 days before, the closed start of the span: lead 30.
    # 4: the same, escalated a microsecond later: day 1 is out of the span.
    # 5: no signal at all.
    history = signals(
        [
            (1, 0, "E"),
            (1, 5, "E"),
            (2, 15, "E"),
            (2, 20, "E"),
            (3, 0, "E"),
            (3, 1, "E"),
            (4, 0, "E"),
            (4, 1, "E"),
        ]
    )
    raised = escalations(
        [
            (1, 1, 20, 25),
            (2, 2, 20, 25),
            (3, 3, 31, 32),
            (4, 4, 31 + 1e-11, 32),
            (5, 5, 31, 32),
        ],
        late={1},
    )
    # 31 + 1e-11 days rounds to exactly one microsecond after day 31.
    assert raised.get_column("escalated_at")[3] == day(31) + MICROSECOND

    tested = backtest(history, raised, settings=SETTINGS)

    assert tested.schema == BACKTEST_SCHEMA
    assert tested.select(
        "escalation_id", "is_late", "first_flagged_at", "lead_days", "flagged_ahead"
    ).rows() == [
        (1, True, day(5), 15.0, True),
        (2, False, None, None, False),
        (3, False, day(1), 30.0, True),
        (4, False, None, None, False),
        (5, False, None, None, False),
    ]


def test_backtest_lead_is_in_fractional_days() -> None:
    # Flagged at day 5 06:00, escalated day 20: 14.75 days ahead.
    history = signals([(1, 0, "E"), (1, 5.25, "E")])

    tested = backtest(history, escalations([(1, 1, 20, None)]), settings=SETTINGS)

    assert tested.get_column("lead_days").to_list() == [14.75]


def test_backtest_uses_given_lateness_and_recurrence_as_they_are() -> None:
    # A frame prepared with business hours, say, carries its own is_late and
    # recurs; the backtest keeps them rather than recomputing calendar hours.
    raised = escalations([(1, 1, 20, None)], late={1}).with_columns(
        is_late=pl.lit(False), recurs=pl.lit(True)
    )

    tested = backtest(signals([(1, 0, "E")]), raised, settings=SETTINGS)

    assert tested.select("is_late", "recurs").rows() == [(False, True)]


def test_backtest_reuses_given_evaluations() -> None:
    history = signals([(1, 0, "E"), (1, 5, "E")])
    raised = escalations([(1, 1, 20, None)])
    evaluations = flag_evaluations(history, SETTINGS)

    assert backtest(history, raised, settings=SETTINGS).equals(
        backtest(history, raised, settings=SETTINGS, evaluations=evaluations)
    )


def test_backtest_of_nothing_is_empty_in_the_documented_schema() -> None:
    assert backtest(NO_SIGNALS, NO_ESCALATIONS).schema == BACKTEST_SCHEMA
    no_signals = backtest(NO_SIGNALS, escalations([(1, 1, 20, None)]))
    assert no_signals.select("escalation_id", "flagged_ahead").rows() == [(1, False)]


# flag_episodes ------------------------------------------------------------------


def test_episodes_lead_somewhere_nowhere_or_are_too_recent() -> None:
    # Window 10, min 2, threshold 0.5, horizon 30, as of day 100.
    # Account 1: exit 0 (1 signal), exit 2 (2/2 flag), help 3 (2/3 flag),
    #   help 4 (2/4 flag), help 5 (2/5: not) -> episode 1 from day 2 to day 4,
    #   3 evaluations, peak share 1.0. Escalation 1 on day 20 (resolved 22)
    #   is within [2, 32]: led to it, 18 days on. Then exit 40 (the window
    #   (30, 40] holds 1 signal) and exit 41 (2/2 flag): episode 2 from day
    #   41; escalation 1 hides flags only until max(22, 20 + 10) = day 30.
    #   Nothing follows by day 71 <= 100: led nowhere.
    # Account 2: exit 90, exit 91 -> episode from day 91; its horizon ends on
    #   day 121, after as_of: too recent to judge, never "led nowhere".
    # Account 3: an escalation open since day 0 hides exit 10 and exit 11: no
    #   episode at all.
    # Account 4: exit 0, exit 1 -> episode from day 1; escalations 7 and 6 both
    #   on day 31 = 1 + 30, the closed end of the horizon: led to 6, the lower
    #   id.
    # Account 5: the same with its escalation a microsecond after day 31:
    #   outside the horizon, so led nowhere.
    history = signals(
        [
            (1, 0, "E"),
            (1, 2, "E"),
            (1, 3, "H"),
            (1, 4, "H"),
            (1, 5, "H"),
            (1, 40, "E"),
            (1, 41, "E"),
            (2, 90, "E"),
            (2, 91, "E"),
            (3, 10, "E"),
            (3, 11, "E"),
            (4, 0, "E"),
            (4, 1, "E"),
            (5, 0, "E"),
            (5, 1, "E"),
        ]
    )
    raised = escalations(
        [
            (1, 1, 20, 22),
            (2, 3, 0, None),
            (7, 4, 31, 32),
            (6, 4, 31, 32),
            (8, 5, 31 + 1e-11, 32),
        ]
    )

    episodes = flag_episodes(history, raised, as_of=day(100), settings=SETTINGS)

    assert episodes.schema == EPISODE_SCHEMA
    assert episodes.select(
        "account_id",
        "episode",
        "started_at",
        "last_flagged_at",
        "evaluations",
        "peak_exit_share",
        "led_to",
        "days_to_escalation",
        "horizon_over",
        "led_nowhere",
    ).rows() == [
        (1, 1, day(2), day(4), 3, 1.0, 1, 18.0, True, False),
        (1, 2, day(41), day(41), 1, 1.0, None, None, True, True),
        (2, 1, day(91), day(91), 1, 1.0, None, None, False, False),
        (4, 1, day(1), day(1), 1, 1.0, 6, 30.0, True, False),
        (5, 1, day(1), day(1), 1, 1.0, None, None, True, True),
    ]
    assert episodes.get_column("led_to_at").to_list() == [
        day(20),
        None,
        None,
        day(31),
        None,
    ]


def test_an_escalation_breaks_an_episode_in_two() -> None:
    # Exit on days 0, 1, 2, 15, 16, escalation on day 1.5 resolved day 1.7:
    # it hides flags in [1.5, 11.5). Evaluations: day 0 (1 signal), day 1
    # (flag, shown), day 2 (flag, hidden), day 15 (window (5, 15]: 1 signal),
    # day 16 (2/2, shown). Two episodes: day 1, led to the escalation 0.5 days
    # on, and day 16, horizon over by day 100 and led nowhere.
    history = signals([(1, d, "E") for d in (0, 1, 2, 15, 16)])
    raised = escalations([(1, 1, 1.5, 1.7)])

    episodes = flag_episodes(history, raised, as_of=day(100), settings=SETTINGS)

    assert episodes.select("started_at", "led_to", "days_to_escalation").rows() == [
        (day(1), 1, 0.5),
        (day(16), None, None),
    ]


def test_episodes_ignore_what_happened_after_as_of() -> None:
    # As of day 10, neither the signals of day 11 nor the escalation of day 12
    # exist yet; the episode from day 1 is not over (horizon to day 31).
    history = signals([(1, 0, "E"), (1, 1, "E"), (1, 11, "H")])
    raised = escalations([(1, 1, 12, None)])

    episodes = flag_episodes(history, raised, as_of=day(10), settings=SETTINGS)

    assert episodes.select("started_at", "led_to", "horizon_over").rows() == [
        (day(1), None, False)
    ]


def test_episodes_of_nothing_are_empty_in_the_documented_schema() -> None:
    empty = flag_episodes(NO_SIGNALS, NO_ESCALATIONS, as_of=day(1))

    assert empty.schema == EPISODE_SCHEMA
    assert empty.height == 0


# backtest_summary ---------------------------------------------------------------


def test_summary_arithmetic() -> None:
    # Escalations: flagged ahead with leads 10 (late) and 20 (on time), and two
    # not flagged (one late): 2 of 4 ahead, median lead (10 + 20) / 2 = 15;
    # late: 1 of 2 ahead, median 10.
    # Episodes: one led to an escalation, two led nowhere, one too recent:
    # 4 episodes, 3 judged, 2 led nowhere, share 2/3.
    backtested = pl.DataFrame(
        {
            "flagged_ahead": [True, True, False, False],
            "lead_days": [10.0, 20.0, None, None],
            "is_late": [True, False, True, False],
        }
    )
    episodes = pl.DataFrame(
        {
            "led_to": [1, None, None, None],
            "horizon_over": [True, True, False, True],
            "led_nowhere": [False, True, False, True],
        },
        schema_overrides={"led_to": pl.Int64},
    )

    summary = backtest_summary(backtested, episodes)

    assert summary.schema == BACKTEST_SUMMARY_SCHEMA
    assert summary.row(0, named=True) == {
        "escalations": 4,
        "flagged_ahead": 2,
        "flagged_ahead_share": 0.5,
        "median_lead_days": 15.0,
        "late_escalations": 2,
        "late_flagged_ahead": 1,
        "late_flagged_ahead_share": 0.5,
        "late_median_lead_days": 10.0,
        "episodes": 4,
        "episodes_judged": 3,
        "episodes_led_nowhere": 2,
        "led_nowhere_share": 2 / 3,
    }


def test_summary_of_nothing_has_counts_of_zero_and_no_shares() -> None:
    summary = backtest_summary(
        backtest(NO_SIGNALS, NO_ESCALATIONS),
        flag_episodes(NO_SIGNALS, NO_ESCALATIONS, as_of=day(1)),
    )

    assert summary.row(0, named=True) == {
        "escalations": 0,
        "flagged_ahead": 0,
        "flagged_ahead_share": None,
        "median_lead_days": None,
        "late_escalations": 0,
        "late_flagged_ahead": 0,
        "late_flagged_ahead_share": None,
        "late_median_lead_days": None,
        "episodes": 0,
        "episodes_judged": 0,
        "episodes_led_nowhere": 0,
        "led_nowhere_share": None,
    }


# similar_past_cases -------------------------------------------------------------


def _similar_history() -> tuple[pl.DataFrame, pl.DataFrame]:
    """A flagged account 1 and past escalations with known trajectories.

    Two weeks are compared, as of day 28. Account 1 has an exit signal in each
    week, (14, 21] and (21, 28]: exit shares [1, 1], frustrated [0, 0]; its
    frustrated signal of day 29 comes after as_of and is ignored.

    Past escalations (severity high; late ones waited 100 hours) end their
    weeks just before escalated_at, [e - 14 d, e - 7 d) and [e - 7 d, e):
      1 (account 2, late, day 10): exit 0, exit 5 -> [1, 1 | 0, 0], the same
        as account 1: similarity 1.
      2 (account 3, recurring after escalation 10 on day -20, day 10):
        frustrated 0, frustrated 5 -> [0, 0 | 1, 1]: every share differs by
        1, similarity 0.
      3 (account 4, late, day 10): exit 5 and a frustrated signal at exactly
        day 10, the instant of the escalation, which is left out ->
        [0, 1 | 0, 0]: one share of four differs by 1, similarity 0.75.
      6 (account 6, late and recurring after escalation 5 on day -50, day
        11): exit 0, help 5 -> [1, 0 | 0, 0]: similarity 0.75.
      7 (account 8, late, day 10): exit 0, frustrated 5 -> [1, 0 | 0, 1]:
        two shares differ by 1, similarity 0.5.
      9 (account 9, late, day 10): exit 5 -> [0, 1 | 0, 0]: similarity 0.75.
      4 (account 5, on time, not recurring, day 10): the same signals as
        escalation 1, but neither late nor recurring: not a candidate.
      11 (account 7, late, day 10): no signal in its weeks: not compared
        (against all-zero shares it would score exactly 0.5).
      12 (account 2, late, day 30): after as_of: not a candidate.
    """
    history = signals(
        [
            (1, 20, "E"),
            (1, 27, "E"),
            (1, 29, "F"),
            (2, 0, "E"),
            (2, 5, "E"),
            (3, 0, "F"),
            (3, 5, "F"),
            (4, 5, "E"),
            (4, 10, "F"),
            (5, 0, "E"),
            (5, 5, "E"),
            (6, 0.5, "E"),
            (6, 5, "H"),
            (8, 0, "E"),
            (8, 5, "F"),
            (9, 5, "E"),
        ]
    )
    raised = escalations(
        [
            (1, 2, 10, 12),
            (10, 3, -20, -19),
            (2, 3, 10, 12),
            (3, 4, 10, 12),
            (5, 6, -50, -49),
            (6, 6, 11, 12),
            (7, 8, 10, 12),
            (9, 9, 10, 12),
            (4, 5, 10, 12),
            (11, 7, 10, 12),
            (12, 2, 30, None),
        ],
        late={1, 3, 6, 7, 9, 11, 12},
    )
    return history, raised


def _cases(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    return frame.select(
        "account_id", "case_rank", "escalation_id", "similarity", "why"
    ).rows()


def test_similar_cases_by_similarity_then_newest_then_id() -> None:
    # With a floor of 0.5 and room for ten: 1 (1.0); then three at 0.75, the
    # newest first (6, day 11), then 3 and 9 on day 10 by id; then 7 at
    # exactly the floor, 0.5. Escalation 2 (similarity 0) is below the floor.
    history, raised = _similar_history()
    settings = EarlyWarningSettings(
        trajectory_weeks=2, similar_cases=10, min_similarity=0.5
    )
    flags = pl.DataFrame({"account_id": [1]})

    similar = similar_past_cases(
        history, raised, flags, as_of=day(28), settings=settings
    )

    assert similar.schema == SIMILAR_CASE_SCHEMA
    assert _cases(similar) == [
        (1, 1, 1, 1.0, "late"),
        (1, 2, 6, 0.75, "late and recurring"),
        (1, 3, 3, 0.75, "late"),
        (1, 4, 9, 0.75, "late"),
        (1, 5, 7, 0.5, "late"),
    ]
    first = similar.row(0, named=True)
    assert first["past_account_id"] == 2
    assert first["past_account_name"] == "Account 2"
    assert first["trigger_type"] == "usage_drop"
    assert first["escalated_at"] == day(10)


def test_similar_cases_are_capped_per_flagged_account() -> None:
    history, raised = _similar_history()
    settings = EarlyWarningSettings(
        trajectory_weeks=2, similar_cases=2, min_similarity=0.5
    )
    flags = pl.DataFrame({"account_id": [1]})

    similar = similar_past_cases(
        history, raised, flags, as_of=day(28), settings=settings
    )

    assert similar.get_column("escalation_id").to_list() == [1, 6]


def test_opposite_trajectories_score_zero() -> None:
    # With no floor, escalation 2 (all frustrated against all exit) is listed
    # last with similarity exactly 0, labelled recurring.
    history, raised = _similar_history()
    settings = EarlyWarningSettings(
        trajectory_weeks=2, similar_cases=10, min_similarity=0.0
    )

    similar = similar_past_cases(
        history,
        raised,
        pl.DataFrame({"account_id": [1]}),
        as_of=day(28),
        settings=settings,
    )

    assert _cases(similar)[-1] == (1, 6, 2, 0.0, "recurring")
    assert 11 not in similar.get_column("escalation_id").to_list()


def test_similar_cases_for_several_flags_keep_the_flags_order() -> None:
    # Account 2 as of day 28 has no signal in (14, 28]: shares [0, 0 | 0, 0].
    # Against it escalation 7 ([1, 0 | 0, 1]) scores 0.5 and escalation 9
    # ([0, 1 | 0, 0]) scores 0.75; with a floor of 0.7 only 9, 3 and 6 qualify
    # (0.75 each: 6 is newest, then 3, then 9 by id), capped at two.
    history, raised = _similar_history()
    settings = EarlyWarningSettings(
        trajectory_weeks=2, similar_cases=2, min_similarity=0.7
    )
    flags = pl.DataFrame({"account_id": [2, 1]})

    similar = similar_past_cases(
        history, raised, flags, as_of=day(28), settings=settings
    )

    assert similar.select("account_id", "case_rank", "escalation_id").rows() == [
        (2, 1, 6),
        (2, 2, 3),
        (1, 1, 1),
        (1, 2, 6),
    ]


def test_similar_cases_of_nothing_are_empty_in_the_documented_schema() -> None:
    history, raised = _similar_history()
    no_flags = pl.DataFrame({"account_id": []}, schema={"account_id": pl.Int64})

    assert similar_past_cases(history, raised, no_flags, as_of=day(28)).schema == (
        SIMILAR_CASE_SCHEMA
    )
    assert (
        similar_past_cases(
            NO_SIGNALS, NO_ESCALATIONS, pl.DataFrame({"account_id": [1]}), as_of=day(1)
        ).height
        == 0
    )


# Decisions ----------------------------------------------------------------------


def test_flag_acceptance_counts_decisions() -> None:
    # 3 opened, 1 dismissed: acceptance 3 / 4.
    answers = decisions(
        [
            (1, "opened", 1, None),
            (2, "opened", 2, None),
            (3, "dismissed", 3, "other"),
            (4, "opened", 4, None),
        ]
    )

    accepted = flag_acceptance(answers)

    assert accepted.schema == ACCEPTANCE_SCHEMA
    assert accepted.row(0) == (4, 3, 1, 0.75)


def test_flag_acceptance_with_no_decisions_has_no_rate() -> None:
    assert flag_acceptance(NO_DECISIONS).row(0) == (0, 0, 0, None)


def test_flag_acceptance_refuses_an_unknown_decision() -> None:
    with pytest.raises(ValueError, match="escalated"):
        flag_acceptance(decisions([(1, "escalated", 1, None)]))


def test_dismissal_reasons_by_count_then_name() -> None:
    # Five dismissals: not_a_risk 2, known_issue_in_hand 2, other 1 (the
    # opened decision does not count): shares 0.4, 0.4, 0.2; the tie at 2 is
    # broken by name.
    answers = decisions(
        [
            (1, "dismissed", 1, "not_a_risk"),
            (2, "dismissed", 2, "known_issue_in_hand"),
            (3, "opened", 3, None),
            (4, "dismissed", 4, "not_a_risk"),
            (5, "dismissed", 5, "other"),
            (6, "dismissed", 6, "known_issue_in_hand"),
        ]
    )

    reasons = dismissal_reasons(answers)

    assert reasons.schema == DISMISSAL_REASON_SCHEMA
    assert reasons.rows() == [
        ("known_issue_in_hand", 2, 0.4),
        ("not_a_risk", 2, 0.4),
        ("other", 1, 0.2),
    ]


def test_dismissal_reasons_of_nothing_are_empty() -> None:
    reasons = dismissal_reasons(decisions([(1, "opened", 1, None)]))

    assert reasons.schema == DISMISSAL_REASON_SCHEMA
    assert reasons.height == 0

"""Recurrence: an earlier escalation of the same account and trigger type."""

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

from metrics import (
    DEFAULT_SETTINGS,
    MetricSettings,
    previous_escalated_at,
    with_recurrence,
)
from metrics import recurrence as recurrence_module

MakeEscalations = Callable[..., pl.DataFrame]
T0 = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
NINETY_DAYS = timedelta(days=90)
ONE_MICROSECOND = timedelta(microseconds=1)


@pytest.fixture(params=["packed key", "three columns"], autouse=True)
def sort_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test through both ways of ordering the history."""
    if request.param == "three columns":
        # No key fits in zero bits, so the multi-column sort is always taken.
        monkeypatch.setattr(recurrence_module, "_PACKED_KEY_BITS", 0)
    return str(request.param)


def _keys(rows: list[tuple[int, str, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "account_id": pl.Int64,
            "trigger_type": pl.String,
            "escalated_at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )


def _recurs(
    rows: list[tuple[int, str, datetime]], settings: MetricSettings = DEFAULT_SETTINGS
) -> list[bool]:
    return with_recurrence(_keys(rows), settings).get_column("recurs").to_list()


@pytest.mark.parametrize(
    ("gap", "recurs"),
    [
        (timedelta(days=1), True),
        (NINETY_DAYS - ONE_MICROSECOND, True),
        (NINETY_DAYS, True),  # 90 x 24 h exactly: inclusive
        (NINETY_DAYS + ONE_MICROSECOND, False),
        (timedelta(days=365), False),
    ],
)
def test_recurrence_window_is_inclusive_to_the_microsecond(
    gap: timedelta, recurs: bool
) -> None:
    rows = [(1, "usage_drop", T0), (1, "usage_drop", T0 + gap)]

    assert _recurs(rows) == [False, recurs]


def test_escalations_at_the_same_instant_do_not_make_each_other_recur() -> None:
    later = T0 + timedelta(hours=5)
    rows = [
        (1, "usage_drop", T0),
        (1, "usage_drop", T0),
        (1, "usage_drop", later),
        (1, "usage_drop", later),
    ]

    result = with_recurrence(_keys(rows))

    # The pair at T0 has no earlier history; both rows of the later pair look
    # back past each other to T0.
    assert result.get_column("recurs").to_list() == [False, False, True, True]
    assert result.get_column("previous_escalated_at").to_list() == [
        None,
        None,
        T0,
        T0,
    ]


def test_only_the_same_account_and_trigger_type_count() -> None:
    rows = [
        (1, "usage_drop", T0),
        (2, "usage_drop", T0 + timedelta(days=1)),  # other account
        (1, "billing", T0 + timedelta(days=2)),  # other trigger type
        (1, "usage_drop", T0 + timedelta(days=3)),  # recurs from the first
    ]

    assert _recurs(rows) == [False, False, False, True]


def test_previous_is_the_most_recent_strictly_earlier_one() -> None:
    rows = [
        (1, "usage_drop", T0 + timedelta(days=200)),
        (1, "usage_drop", T0),
        (1, "usage_drop", T0 + timedelta(days=100)),
    ]

    result = with_recurrence(_keys(rows))

    # Given out of order; flags stay with their rows. Day 100 looks back 100
    # days to day 0 (too far); day 200 looks back 100 days to day 100.
    expected = _keys(rows).with_columns(
        pl.Series(
            "previous_escalated_at",
            [T0 + timedelta(days=100), None, T0],
            dtype=pl.Datetime("us", "UTC"),
        ),
        pl.Series("recurs", [False, False, False]),
    )
    assert_frame_equal(result, expected)


def test_other_columns_pass_through(make_escalations: MakeEscalations) -> None:
    escalations = make_escalations(
        [
            (5, "usage_drop", "high", T0, T0 + timedelta(hours=1)),
            (5, "usage_drop", "low", T0, T0 + timedelta(hours=2)),
        ]
    )

    result = with_recurrence(escalations)

    assert_frame_equal(result.drop("previous_escalated_at", "recurs"), escalations)
    assert result.get_column("recurs").to_list() == [False, True]


@pytest.mark.parametrize(
    ("window_days", "expected"),
    [
        (0, [False, False]),  # nothing is both strictly earlier and 0 days back
        (7, [False, True]),
        (6, [False, False]),
    ],
)
def test_recurrence_window_can_be_overridden(
    window_days: int, expected: list[bool]
) -> None:
    rows = [(1, "usage_drop", T0), (1, "usage_drop", T0 + timedelta(days=7))]

    settings = MetricSettings(recurrence_window_days=window_days)

    assert _recurs(rows, settings) == expected


def test_no_escalations_gives_an_empty_frame_with_the_new_columns() -> None:
    result = with_recurrence(_keys([]))

    assert result.height == 0
    assert result.schema["recurs"] == pl.Boolean
    assert result.schema["previous_escalated_at"] == pl.Datetime("us", "UTC")


def test_extreme_account_ids_are_kept_apart() -> None:
    low, high = -(2**63), 2**63 - 1
    rows = [
        (low, "usage_drop", T0),
        (high, "usage_drop", T0 + timedelta(days=1)),
        (low, "usage_drop", T0 + timedelta(days=2)),
        (high, "usage_drop", T0 + timedelta(days=3)),
    ]

    assert _recurs(rows) == [False, False, True, True]


def test_a_null_key_is_an_error() -> None:
    frame = _keys([(1, "usage_drop", T0)]).with_columns(
        pl.lit(None, dtype=pl.String).alias("trigger_type")
    )

    with pytest.raises(ValueError, match=r"'trigger_type': 1"):
        with_recurrence(frame)


def _brute_force_previous(
    rows: list[tuple[int, str, datetime]],
) -> list[datetime | None]:
    return [
        max(
            (
                other_at
                for other_account, other_type, other_at in rows
                if (other_account, other_type) == (account, trigger) and other_at < at
            ),
            default=None,
        )
        for account, trigger, at in rows
    ]


def test_matches_a_brute_force_reading_on_a_random_history() -> None:
    chooser = random.Random(20240110)
    # Few accounts, types and whole-hour instants, so ties and repeats abound.
    rows = [
        (
            chooser.randint(1, 4),
            chooser.choice(["usage_drop", "billing", "champion_left"]),
            T0 + timedelta(hours=chooser.randint(0, 24 * 200)),
        )
        for _ in range(300)
    ]
    previous = _brute_force_previous(rows)

    result = with_recurrence(_keys(rows))

    assert_series_equal(
        result.get_column("previous_escalated_at"),
        pl.Series("previous_escalated_at", previous, dtype=pl.Datetime("us", "UTC")),
    )
    assert result.get_column("recurs").to_list() == [
        p is not None and at - p <= NINETY_DAYS
        for p, (_, _, at) in zip(previous, rows, strict=True)
    ]


def test_previous_escalated_at_is_aligned_with_the_input() -> None:
    rows = [(1, "a", T0 + timedelta(days=2)), (1, "a", T0)]

    result = previous_escalated_at(_keys(rows))

    assert result.to_list() == [T0, None]

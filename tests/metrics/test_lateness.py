"""Late escalations: strictly beyond the threshold for the severity."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import (
    MetricSettings,
    check_severities,
    hours_beyond_threshold,
    is_late,
    late_rate,
    late_threshold_hours,
    prepare_escalations,
)

MakeEscalations = Callable[..., pl.DataFrame]
SIGNAL = datetime(2024, 2, 1, 8, 0, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def _one(severity: str, latency: timedelta) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "severity": [severity],
            "first_signal_at": [SIGNAL],
            "escalated_at": [SIGNAL + latency],
        }
    )


@pytest.mark.parametrize(
    ("severity", "threshold_hours"),
    [("critical", 24), ("high", 72), ("medium", 168), ("low", 336)],
)
def test_exactly_on_the_threshold_is_on_time_and_a_microsecond_over_is_late(
    severity: str, threshold_hours: int
) -> None:
    on_threshold = timedelta(hours=threshold_hours)

    assert _one(severity, on_threshold).select(is_late()).item() is False
    assert _one(severity, on_threshold + ONE_MICROSECOND).select(is_late()).item()
    assert (
        _one(severity, on_threshold - ONE_MICROSECOND).select(is_late()).item() is False
    )


def test_zero_latency_is_on_time() -> None:
    assert _one("critical", timedelta(0)).select(is_late()).item() is False


def test_threshold_and_hours_beyond_it() -> None:
    frame = pl.concat(
        [
            _one("critical", timedelta(hours=30)),
            _one("low", timedelta(hours=36)),
            _one("high", timedelta(hours=72)),
        ]
    )

    result = frame.select(late_threshold_hours(), is_late(), hours_beyond_threshold())

    # 30 - 24 = 6 (late); 36 - 336 = -300 (on time); 72 - 72 = 0 (on time)
    expected = pl.DataFrame(
        {
            "threshold_hours": [24.0, 336.0, 72.0],
            "is_late": [True, False, False],
            "hours_beyond_threshold": [6.0, -300.0, 0.0],
        }
    )
    assert_frame_equal(result, expected)


def test_thresholds_can_be_overridden() -> None:
    strict = MetricSettings(late_threshold_hours={"critical": 1.5})
    frame = pl.concat(
        [
            _one("critical", timedelta(minutes=90)),
            _one("critical", timedelta(minutes=90) + ONE_MICROSECOND),
        ]
    )

    result = frame.select(is_late(strict)).to_series().to_list()

    # 1.5 h = 90 min exactly: on time; one microsecond more: late.
    assert result == [False, True]


@pytest.mark.parametrize(
    ("severities", "named"),
    [
        (["high", "urgent"], "['urgent']"),
        (["High"], "['High']"),
        (["low", None], "[None]"),
        (["sev1", "critical", "p0", "sev1"], "['p0', 'sev1']"),
    ],
)
def test_unknown_severity_is_an_error_naming_it(
    severities: list[str | None], named: str
) -> None:
    frame = pl.DataFrame({"severity": severities}, schema={"severity": pl.String})

    with pytest.raises(ValueError, match=re.escape(f"severity {named}")):
        check_severities(frame)


def test_prepare_refuses_an_unknown_severity(make_escalations: MakeEscalations) -> None:
    escalations = make_escalations(
        [(1, "usage_drop", "blocker", SIGNAL, SIGNAL + timedelta(hours=1))]
    )

    with pytest.raises(ValueError, match="blocker"):
        prepare_escalations(escalations)


def test_a_severity_missing_from_custom_settings_is_unknown(
    make_escalations: MakeEscalations,
) -> None:
    escalations = make_escalations(
        [(1, "usage_drop", "low", SIGNAL, SIGNAL + timedelta(hours=1))]
    )
    only_critical = MetricSettings(late_threshold_hours={"critical": 24.0})

    with pytest.raises(ValueError, match=r"\['low'\]"):
        prepare_escalations(escalations, only_critical)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], None),
        ([False], 0.0),
        ([True, False, False, True], 0.5),
        ([True, True, True], 1.0),
    ],
)
def test_late_rate_is_late_over_all_escalations(
    flags: list[bool], expected: float | None
) -> None:
    frame = pl.DataFrame({"is_late": flags}, schema={"is_late": pl.Boolean})

    assert frame.select(late_rate()).item() == expected

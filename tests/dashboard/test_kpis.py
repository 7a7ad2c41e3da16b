"""The change a KPI tile shows: signed, and unsigned when it rounds to nothing."""

import pytest

from dashboard.kpis import KPIS, delta_text, is_unchanged
from dashboard.measure import CALENDAR

BY_KEY = {kpi.key: kpi for kpi in KPIS}


@pytest.mark.parametrize(
    ("key", "current", "previous", "shown"),
    [
        ("escalations", 12, 9, "+3"),
        ("escalations", 9, 12, "-3"),
        ("escalations", 1_500, 250, "+1,250"),
        ("escalations", 7, 7, "0"),
        ("late_rate", 0.5, 0.25, "+25.0 pp"),
        ("late_rate", 0.2501, 0.25, "0.0 pp"),  # +0.01 pp rounds to nothing
        ("late_rate", 0.2499, 0.25, "0.0 pp"),  # and so does -0.01 pp
        ("late_rate", 0.251, 0.25, "+0.1 pp"),
        ("median_hours", 20.0, 86.0, "-66.0 h"),
        ("median_hours", 86.04, 86.0, "0.0 h"),
        ("median_hours", 86.0, 86.06, "-0.1 h"),
    ],
)
def test_the_change_as_a_tile_shows_it(
    key: str, current: float, previous: float, shown: str
) -> None:
    delta = delta_text(BY_KEY[key], current, previous, CALENDAR)

    assert delta == shown
    assert is_unchanged(delta) == (shown[0] not in "+-")


def test_a_missing_side_shows_no_change_at_all() -> None:
    kpi = BY_KEY["late_rate"]

    assert delta_text(kpi, None, 0.25, CALENDAR) is None
    assert delta_text(kpi, 0.25, None, CALENDAR) is None
    assert not is_unchanged(None)

"""Figure builders that shape data before plotly sees it."""

import numpy as np
import pytest

from dashboard.charts import latency_bins, latency_histogram_figure


def test_bins_count_each_value_once_the_top_edge_included() -> None:
    # Range 0..3 in three bins [0,1) [1,2) [2,3]: 0 | 1 | 2 and 3.
    starts, counts, width = latency_bins(
        np.array([0.0, 1.0, 2.0, 3.0]), log_scale=False, bins=3
    )

    assert starts.tolist() == [0.0, 1.0, 2.0]
    assert counts.tolist() == [1, 1, 2]
    assert width == pytest.approx(1.0)


def test_log_bins_put_zero_latency_at_the_smallest_positive_one() -> None:
    # Floor 1 h, so log10 values are 0, 0, 1, 2; two bins [0,1) [1,2].
    starts, counts, width = latency_bins(
        np.array([0.0, 1.0, 10.0, 100.0]), log_scale=True, bins=2
    )

    assert starts.tolist() == [0.0, 1.0]
    assert counts.tolist() == [2, 2]
    assert width == pytest.approx(1.0)


def test_no_latency_gives_no_bars_and_one_value_gives_one() -> None:
    _, empty, _ = latency_bins(np.array([np.nan]), log_scale=False)
    _, single, _ = latency_bins(np.array([5.0, 5.0]), log_scale=False, bins=4)

    assert empty.tolist() == []
    assert single.sum() == 2


def test_the_figure_sends_bins_not_values() -> None:
    values = np.arange(10_000, dtype=np.float64)

    figure = latency_histogram_figure(values, {"high": 72.0}, log_scale=False)

    (bars,) = figure.data
    assert len(bars.y) == 60
    assert sum(bars.y) == 10_000

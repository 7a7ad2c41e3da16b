"""Exact binomial tails, Clopper-Pearson bounds and rate-ratio intervals.

The hand-worked cases pin the definitions; scipy, used only here, is an
independent reference for the bounds over grids of counts that include zeros.
"""

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats
from scipy.stats.contingency import odds_ratio

from metrics import (
    RATE_RATIO_METHOD,
    RateRatio,
    binomial_at_least,
    binomial_at_most,
    clopper_pearson,
    rate_ratio_interval,
    ratio_of_ratios,
    ratio_of_ratios_interval,
    regularized_incomplete_beta,
)

RELATIVE = 1e-9
CONFIDENCES = [0.8, 0.9, 0.95, 0.99]


def _close(actual: float, expected: float, rel: float = RELATIVE) -> bool:
    if math.isinf(expected):
        return actual == expected
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-300)


# Tail probabilities ----------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "p", "at_most", "at_least"),
    [
        # n = 3, p = 1/2: the eight outcomes are equally likely, 1, 3, 3, 1.
        (1, 3, 0.5, 4 / 8, 7 / 8),
        (3, 3, 0.5, 1.0, 1 / 8),
        (0, 3, 0.5, 1 / 8, 1.0),
        # n = 4, p = 1/4: P(X = 0) = (3/4)^4 = 81/256 and P(X = 4) = 1/256.
        (0, 4, 0.25, 81 / 256, 1.0),
        (4, 4, 0.25, 1.0, 1 / 256),
        # P(X <= 1) = 81/256 + 4 x (1/4)(3/4)^3 = (81 + 108)/256.
        (1, 4, 0.25, 189 / 256, 1 - 81 / 256),
    ],
)
def test_binomial_tails_by_hand(
    k: int, n: int, p: float, at_most: float, at_least: float
) -> None:
    assert binomial_at_most(k, n, p) == pytest.approx(at_most, rel=1e-12)
    assert binomial_at_least(k, n, p) == pytest.approx(at_least, rel=1e-12)


def test_binomial_tails_outside_the_support() -> None:
    assert binomial_at_most(-1, 5, 0.3) == 0.0
    assert binomial_at_most(5, 5, 0.3) == 1.0
    assert binomial_at_least(0, 5, 0.3) == 1.0
    assert binomial_at_least(6, 5, 0.3) == 0.0
    # Certain outcomes at p = 0 and p = 1.
    assert binomial_at_most(0, 5, 0.0) == 1.0
    assert binomial_at_least(5, 5, 1.0) == 1.0
    assert binomial_at_most(4, 5, 1.0) == 0.0


@pytest.mark.parametrize("n", [1, 2, 7, 30, 200, 5_000])
@pytest.mark.parametrize("p", [1e-4, 0.03, 0.3, 0.5, 0.77, 0.999])
def test_binomial_tails_match_scipy(n: int, p: float) -> None:
    for k in sorted({0, 1, n // 4, n // 2, n - 1, n}):
        expected_at_most = float(stats.binom.cdf(k, n, p))
        expected_at_least = float(stats.binom.sf(k - 1, n, p))

        # Far-out tails are compared to an absolute floor that is negligible
        # next to any probability a verdict could turn on.
        assert binomial_at_most(k, n, p) == pytest.approx(
            expected_at_most, rel=1e-9, abs=1e-280
        )
        assert binomial_at_least(k, n, p) == pytest.approx(
            expected_at_least, rel=1e-9, abs=1e-280
        )


def test_regularized_incomplete_beta_by_hand() -> None:
    # I_x(1, 1) = x; I_x(2, 1) = x^2; I_(1/2)(2, 3) = 11/16.
    assert regularized_incomplete_beta(1.0, 1.0, 0.3) == pytest.approx(0.3)
    assert regularized_incomplete_beta(2.0, 1.0, 0.3) == pytest.approx(0.09)
    assert regularized_incomplete_beta(2.0, 3.0, 0.5) == pytest.approx(11 / 16)
    assert regularized_incomplete_beta(2.0, 3.0, 0.0) == 0.0
    assert regularized_incomplete_beta(2.0, 3.0, 1.0) == 1.0


# Clopper-Pearson ----------------------------------------------------------------


def test_clopper_pearson_by_hand() -> None:
    # 0 of 10: only P(X = 0) = (1 - p)^10 can fall to 0.025, so the upper
    # bound is 1 - 0.025^(1/10); the lower bound is exactly 0.
    assert clopper_pearson(0, 10) == (0.0, pytest.approx(1 - 0.025 ** (1 / 10)))
    # 10 of 10: the mirror image.
    assert clopper_pearson(10, 10) == (pytest.approx(0.025 ** (1 / 10)), 1.0)
    # 1 of 2: P(X >= 1) = 1 - (1 - p)^2 = 0.025 gives p = 1 - sqrt(0.975);
    # P(X <= 1) = 1 - p^2 = 0.025 gives p = sqrt(0.975).
    lower, upper = clopper_pearson(1, 2) or (math.nan, math.nan)
    assert lower == pytest.approx(1 - math.sqrt(0.975), rel=1e-12)
    assert upper == pytest.approx(math.sqrt(0.975), rel=1e-12)
    # 1 of 1 at 90 %: lower solves p = 0.05.
    assert clopper_pearson(1, 1, confidence=0.9) == (pytest.approx(0.05), 1.0)


def test_clopper_pearson_with_no_trials_is_undefined() -> None:
    assert clopper_pearson(0, 0) is None


def _scipy_clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    alpha = 1 - confidence
    lower = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    upper = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lower, upper


@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_clopper_pearson_matches_scipy_on_every_small_count(confidence: float) -> None:
    pairs = [(k, n) for n in range(1, 41) for k in range(n + 1)]
    k = np.array([pair[0] for pair in pairs])
    n = np.array([pair[1] for pair in pairs])
    alpha = 1 - confidence
    # One vectorised call per side; the edge cases are exact by definition.
    with np.errstate(invalid="ignore"):
        expected_lower = np.where(
            k == 0, 0.0, stats.beta.ppf(alpha / 2, np.maximum(k, 1), n - k + 1)
        )
        expected_upper = np.where(
            k == n, 1.0, stats.beta.ppf(1 - alpha / 2, k + 1, np.maximum(n - k, 1))
        )

    for (successes, trials), low, high in zip(
        pairs, expected_lower.tolist(), expected_upper.tolist(), strict=True
    ):
        lower, upper = clopper_pearson(successes, trials, confidence) or (
            math.nan,
            math.nan,
        )

        assert _close(lower, low), (successes, trials, lower, low)
        assert _close(upper, high), (successes, trials, upper, high)


@pytest.mark.parametrize("n", [100, 1_000, 20_000, 150_000])
def test_clopper_pearson_matches_scipy_on_large_counts(n: int) -> None:
    for k in sorted({0, 1, 2, 7, n // 10, n // 2, n - 3, n - 1, n}):
        lower, upper = clopper_pearson(k, n) or (math.nan, math.nan)
        expected_lower, expected_upper = _scipy_clopper_pearson(k, n, 0.95)

        assert _close(lower, expected_lower), (k, n)
        assert _close(upper, expected_upper), (k, n)


def test_clopper_pearson_matches_scipy_binomtest() -> None:
    for k, n in [(0, 5), (3, 17), (12, 12), (40, 60)]:
        reference = stats.binomtest(k, n).proportion_ci(0.95, method="exact")

        assert clopper_pearson(k, n) == (
            pytest.approx(reference.low, rel=RELATIVE, abs=1e-300),
            pytest.approx(reference.high, rel=RELATIVE),
        )


@pytest.mark.parametrize(
    ("successes", "trials", "confidence"),
    [(-1, 5, 0.95), (6, 5, 0.95), (1.0, 5, 0.95), (True, 5, 0.95), (1, 5, 1.0)],
)
def test_clopper_pearson_refuses_bad_input(
    successes: int, trials: int, confidence: float
) -> None:
    with pytest.raises(ValueError, match=r"successes|confidence|trials"):
        clopper_pearson(successes, trials, confidence)


# Rate ratios ------------------------------------------------------------------


def test_rate_ratio_by_hand() -> None:
    interval = rate_ratio_interval(40, 20)

    # 20 after of n = 60; the bounds on p map to r = p / (1 - p).
    p_low, p_high = clopper_pearson(20, 60) or (math.nan, math.nan)
    assert replace(interval, lower=None, upper=None) == RateRatio(
        before=40,
        after=20,
        before_length=1.0,
        after_length=1.0,
        confidence=0.95,
        ratio=0.5,
        lower=None,
        upper=None,
        method=RATE_RATIO_METHOD,
    )
    assert interval.lower == pytest.approx(p_low / (1 - p_low), rel=1e-12)
    assert interval.upper == pytest.approx(p_high / (1 - p_high), rel=1e-12)


def test_rate_ratio_with_nothing_before_is_unbounded_above() -> None:
    interval = rate_ratio_interval(0, 5)

    # All 5 of 5 are after: p_low = 0.025^(1/5) = 0.4782..., so the lower bound
    # is 0.4782 / 0.5218 = 0.9164; no upper bound; no point estimate.
    p_low = 0.025 ** (1 / 5)
    assert interval.ratio is None
    assert interval.lower == pytest.approx(p_low / (1 - p_low), rel=1e-12)
    assert interval.lower == pytest.approx(0.9164, abs=1e-4)
    assert interval.upper == math.inf


def test_rate_ratio_with_nothing_after_is_zero_below() -> None:
    interval = rate_ratio_interval(5, 0)

    # p_high = 1 - 0.025^(1/5) = 0.5218, so the upper bound is 0.5218 / 0.4782.
    p_high = 1 - 0.025 ** (1 / 5)
    assert interval.ratio == 0.0
    assert interval.lower == 0.0
    assert interval.upper == pytest.approx(p_high / (1 - p_high), rel=1e-12)
    assert interval.upper == pytest.approx(1.0913, abs=1e-4)


def test_rate_ratio_with_nothing_at_all_is_undefined() -> None:
    interval = rate_ratio_interval(0, 0)

    assert (interval.ratio, interval.lower, interval.upper) == (None, None, None)


def test_unequal_windows_scale_the_ratio_and_its_bounds() -> None:
    # 20 in a 2-week before window and 10 in a 1-week after window: the weekly
    # rates are 10 and 10, a ratio of 1. The bounds scale by 2 / 1 likewise.
    equal = rate_ratio_interval(20, 10)
    unequal = rate_ratio_interval(20, 10, before_length=2.0, after_length=1.0)

    assert unequal.ratio == pytest.approx(1.0)
    assert unequal.lower == pytest.approx(2 * (equal.lower or math.nan), rel=1e-12)
    assert unequal.upper == pytest.approx(2 * (equal.upper or math.nan), rel=1e-12)


def _scipy_rate_ratio(
    before: int, after: int, confidence: float, scale: float
) -> tuple[float, float]:
    p_low, p_high = _scipy_clopper_pearson(after, before + after, confidence)
    lower = p_low / (1 - p_low) * scale
    upper = math.inf if p_high == 1.0 else p_high / (1 - p_high) * scale
    return lower, upper


GRID = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 250, 1_000, 10_000]


@pytest.mark.parametrize("confidence", [0.9, 0.95])
@pytest.mark.parametrize("lengths", [(1.0, 1.0), (56.0, 21.0)])
def test_rate_ratio_interval_matches_scipy_over_a_grid(
    confidence: float, lengths: tuple[float, float]
) -> None:
    before_length, after_length = lengths
    for before in GRID:
        for after in GRID:
            if before == after == 0:
                continue
            interval = rate_ratio_interval(
                before, after, confidence, before_length, after_length
            )
            lower, upper = _scipy_rate_ratio(
                before, after, confidence, before_length / after_length
            )

            assert interval.lower is not None
            assert interval.upper is not None
            # 1 - p near 1 loses digits in the reference, not here; allow a
            # little more than the bound tolerance for that.
            assert _close(interval.lower, lower, 1e-8), (before, after)
            assert _close(interval.upper, upper, 1e-8), (before, after)


def test_rate_ratio_interval_covers_the_true_ratio() -> None:
    # Poisson counts with means 12 and 6: true ratio 0.5. The conditional
    # exact interval is conservative, so it covers at least 95 % of the time.
    rng = np.random.default_rng(20240601)
    befores = rng.poisson(12.0, 1_000)
    afters = rng.poisson(6.0, 1_000)

    covered = 0
    for before, after in zip(befores.tolist(), afters.tolist(), strict=True):
        interval = rate_ratio_interval(before, after)
        if interval.lower is not None and interval.upper is not None:
            covered += interval.lower <= 0.5 <= interval.upper

    assert covered / 1_000 >= 0.95


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"before": -1, "after": 3}, "before"),
        ({"before": 2.5, "after": 3}, "before"),
        ({"before": 2, "after": 3, "confidence": 0.0}, "confidence"),
        ({"before": 2, "after": 3, "before_length": 0.0}, "before_length"),
        ({"before": 2, "after": 3, "after_length": math.inf}, "after_length"),
    ],
)
def test_rate_ratio_interval_names_the_bad_value(
    kwargs: dict[str, float], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        rate_ratio_interval(**kwargs)  # type: ignore[arg-type]


# Ratio of ratios ---------------------------------------------------------------


def test_ratio_of_ratios_by_hand() -> None:
    # The fix's type went 40 -> 20 (0.5) while everything else went
    # 400 -> 320 (0.8): 0.5 / 0.8 = 0.625 of the general trend.
    fix = rate_ratio_interval(40, 20)
    others = rate_ratio_interval(400, 320)

    assert ratio_of_ratios(fix, others) == pytest.approx(0.625)


def test_ratio_of_ratios_is_undefined_without_both_ratios() -> None:
    assert ratio_of_ratios(rate_ratio_interval(0, 5), rate_ratio_interval(9, 9)) is None
    assert ratio_of_ratios(rate_ratio_interval(5, 5), rate_ratio_interval(0, 9)) is None
    # The others fell to nothing: dividing by 0 is refused, not infinite.
    assert ratio_of_ratios(rate_ratio_interval(5, 5), rate_ratio_interval(9, 0)) is None
    assert ratio_of_ratios(rate_ratio_interval(5, 0), rate_ratio_interval(9, 9)) == 0.0


TABLES = [
    (40, 20, 400, 320),
    (10, 3, 100, 90),
    (0, 5, 50, 60),
    (5, 0, 50, 60),
    (3, 4, 0, 7),
    (12, 12, 12, 12),
    (1, 1, 1, 1),
    (30, 10, 3_000, 2_900),
    (2, 9, 8, 1),
]


@pytest.mark.parametrize(
    ("fix_before", "fix_after", "others_before", "others_after"), TABLES
)
def test_ratio_of_ratios_interval_matches_scipy_conditional_odds_ratio(
    fix_before: int, fix_after: int, others_before: int, others_after: int
) -> None:
    fix = rate_ratio_interval(fix_before, fix_after)
    others = rate_ratio_interval(others_before, others_after)
    table = [[fix_after, fix_before], [others_after, others_before]]
    reference = odds_ratio(table, kind="conditional").confidence_interval(0.95)

    interval = ratio_of_ratios_interval(fix, others)

    assert interval is not None
    assert interval == (
        pytest.approx(reference.low, rel=1e-8, abs=1e-300),
        pytest.approx(reference.high, rel=1e-8),
    )


def test_ratio_of_ratios_interval_is_undefined_for_a_single_possible_table() -> None:
    # No escalations after at all: every margin is fixed and so is the table.
    fix = rate_ratio_interval(4, 0)
    others = rate_ratio_interval(9, 0)

    assert ratio_of_ratios_interval(fix, others) is None


def test_ratio_of_ratios_interval_needs_the_same_windows() -> None:
    fix = rate_ratio_interval(4, 2, after_length=0.5)
    others = rate_ratio_interval(9, 9)

    with pytest.raises(ValueError, match="same windows"):
        ratio_of_ratios_interval(fix, others)

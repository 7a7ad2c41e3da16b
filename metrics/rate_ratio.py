"""Exact intervals for a change in escalation rate: binomial tails and rate ratios."""

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_Floats = npt.NDArray[np.float64]

DEFAULT_CONFIDENCE = 0.95
RATE_RATIO_METHOD = (
    "exact conditional binomial: after | before + after, Clopper-Pearson interval"
)
"""How :func:`rate_ratio_interval` gets its bounds, for a page's tooltip."""

# The continued fraction stops once a step changes it by less than this.
_CONVERGED = 1e-16
_MAX_TERMS = 100_000
# Lentz's method replaces an exact zero by this to avoid dividing by it.
_TINY = 1e-300
# Root finding stops when the bracket is this narrow relative to the root.
_ROOT_TOLERANCE = 1e-14
_MAX_ROOT_STEPS = 400
# Stirling's series replaces log-gamma differences from this argument up.
_STIRLING_FROM = 10.0
# Widest log odds ratio searched; exp(700) is near the largest float.
_MAX_LOG_ODDS = 700.0


def _integer(value: int, name: str) -> int:
    """``value`` as an int, refusing floats and bools."""
    if isinstance(value, bool):
        message = f"{name} must be a whole number, got {value!r}"
        raise ValueError(message)
    try:
        return int(operator.index(value))
    except TypeError:
        message = f"{name} must be a whole number, got {value!r}"
        raise ValueError(message) from None


def _whole(value: int, name: str) -> int:
    """``value`` as an int, refusing floats, bools and negative numbers."""
    whole = _integer(value, name)
    if whole < 0:
        message = f"{name} must be zero or more, got {whole}"
        raise ValueError(message)
    return int(whole)


def _check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        message = f"confidence must lie strictly between 0 and 1, got {confidence!r}"
        raise ValueError(message)
    return float(confidence)


def _check_probability(p: float) -> float:
    if not 0.0 <= p <= 1.0:
        message = f"a probability must lie between 0 and 1, got {p!r}"
        raise ValueError(message)
    return float(p)


def _stirling_remainder(x: float) -> float:
    """log Gamma(x) minus Stirling's approximation, for x >= 10 (error < 1e-13)."""
    inverse = 1.0 / x
    square = inverse * inverse
    return inverse * (
        1 / 12
        - square * (1 / 360 - square * (1 / 1260 - square * (1 / 1680 - square / 1188)))
    )


def _log_beta_function(a: float, b: float) -> float:
    """log B(a, b), without the cancellation of three large log-gammas."""
    small, large = min(a, b), max(a, b)
    if large < _STIRLING_FROM:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    total = a + b
    # Stirling's series for the large arguments, rearranged so that the terms
    # of size total x log(total) cancel algebraically rather than in floating
    # point: with counts in the millions that saves about seven digits.
    if small < _STIRLING_FROM:
        return (
            math.lgamma(small)
            - (large - 0.5) * math.log1p(small / large)
            - small * math.log(total)
            + small
            + _stirling_remainder(large)
            - _stirling_remainder(total)
        )
    return (
        0.5 * math.log(2.0 * math.pi)
        - (small - 0.5) * math.log1p(large / small)
        - (large - 0.5) * math.log1p(small / large)
        - 0.5 * math.log(total)
        + _stirling_remainder(small)
        + _stirling_remainder(large)
        - _stirling_remainder(total)
    )


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), evaluated by the modified Lentz method.

    I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) / (1 + d1 / (1 + d2 / (1 + ...))),
    with d(2m+1) = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) and
    d(2m) = m (b - m) x / ((a + 2m - 1)(a + 2m)); this returns the denominator.
    It converges fast for x below (a + 1) / (a + b + 2).
    """
    value = 1.0
    c = 1.0
    d = 0.0
    for term in range(1, _MAX_TERMS):
        m = term // 2
        if term % 2:
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        else:
            numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + numerator * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + numerator / c
        c = c if abs(c) > _TINY else _TINY
        step = c * d
        value *= step
        if abs(step - 1.0) < _CONVERGED:
            return value
    message = f"the incomplete beta fraction did not converge for a={a}, b={b}, x={x}"
    raise ArithmeticError(message)


def _beta_tails(a: float, b: float, x: float, y: float) -> tuple[float, float]:
    """I_x(a, b) and its complement 1 - I_x(a, b).

    The continued fraction gives one of the two directly, to full relative
    precision, and the other by subtraction. ``y`` is 1 - x, passed in so that
    the mirrored fraction does not lose digits to forming it.
    """
    if x <= 0.0:
        return 0.0, 1.0
    if y <= 0.0:
        return 1.0, 0.0
    if x < (a + 1.0) / (a + b + 2.0):
        lower = _by_fraction(a, b, x, y)
        return lower, 1.0 - lower
    # Past the mean the fraction for the mirrored arguments converges instead:
    # I_x(a, b) = 1 - I_y(b, a).
    upper = _by_fraction(b, a, y, x)
    return 1.0 - upper, upper


def _by_fraction(a: float, b: float, x: float, y: float) -> float:
    """I_x(a, b) through its continued fraction; ``y`` is 1 - x."""
    log_front = a * math.log(x) + b * math.log(y) - _log_beta_function(a, b)
    return math.exp(log_front) / (a * _continued_fraction(a, b, x))


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), for a, b > 0 and x in [0, 1].

    It is the distribution function of a Beta(a, b) variable at ``x``.

    Examples
    --------
    >>> round(regularized_incomplete_beta(2.0, 3.0, 0.5), 12)  # 11/16
    0.6875
    """
    if not (a > 0.0 and b > 0.0):
        message = f"the beta parameters must be positive, got a={a!r} and b={b!r}"
        raise ValueError(message)
    x = _check_probability(x)
    return _beta_tails(a, b, x, 1.0 - x)[0]


def binomial_at_most(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), exactly, through the incomplete beta.

    Uses P(X <= k) = I_(1-p)(n - k, k + 1); ``k`` below 0 gives 0 and ``k`` at
    or above ``n`` gives 1.

    Examples
    --------
    >>> round(binomial_at_most(1, 3, 0.5), 12)  # (1 + 3) / 8
    0.5
    """
    k = _integer(k, "k")
    n = _whole(n, "n")
    p = _check_probability(p)
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return _beta_tails(n - k, k + 1, 1.0 - p, p)[0]


def binomial_at_least(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exactly, through the incomplete beta.

    Uses P(X >= k) = I_p(k, n - k + 1); ``k`` at or below 0 gives 1 and ``k``
    above ``n`` gives 0.

    Examples
    --------
    >>> round(binomial_at_least(3, 3, 0.5), 12)  # 1 / 8
    0.125
    """
    k = _integer(k, "k")
    n = _whole(n, "n")
    p = _check_probability(p)
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return _beta_tails(k, n - k + 1, p, 1.0 - p)[0]


def _beta_quantile(a: float, b: float, target: float) -> tuple[float, float]:
    """The x with I_x(a, b) = target, and 1 - x, for a, b >= 1 and 0 < target < 1.

    Solves for whichever of x and 1 - x is at most one half, so that the odds
    x / (1 - x) keep their precision at both ends; the search is Newton's
    method on log x, kept inside a bracket that halves whenever a step would
    leave it.
    """
    lower_half, upper_half = _beta_tails(a, b, 0.5, 0.5)
    if lower_half < target:
        # The root lies above one half: solve I_y(b, a) = 1 - target for y = 1 - x.
        y, x = _beta_quantile_below_half(b, a, upper_half, 1.0 - target)
        return x, y
    return _beta_quantile_below_half(a, b, lower_half, target)


def _rough_beta_quantile(a: float, b: float, target: float) -> float:
    """A normal approximation to the Beta(a, b) quantile, only to start a search."""
    # Shore's closed form for the normal quantile is good to about 0.01 in z,
    # plenty for a starting point.
    tail = min(target, 1.0 - target)
    distance = 5.5556 * (1.0 - (tail / (1.0 - tail)) ** 0.1186)
    z = -distance if target < 0.5 else distance
    mean = a / (a + b)
    spread = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))
    guess = mean + z * spread
    return guess if guess > 0.0 else mean * 1e-3


def _beta_quantile_below_half(
    a: float, b: float, at_half: float, target: float
) -> tuple[float, float]:
    """The root of I_x(a, b) = target in (0, 1/2], given I_(1/2)(a, b) >= target."""
    if at_half == target:
        return 0.5, 0.5
    log_target = math.log(target)
    log_beta = _log_beta_function(a, b)

    # Newton's method starts from a normal approximation; the bracket [low,
    # high] in u = log x catches any step that would overshoot. Below the guess
    # the distribution function falls like x^a, so stepping down a
    # thousandfold at a time finds the lower end in few steps.
    high = math.log(0.5)
    u = min(math.log(_rough_beta_quantile(a, b, target)), high)
    low = u
    while True:
        x = math.exp(low)
        if x == 0.0:
            return 0.0, 1.0
        if _beta_tails(a, b, x, 1.0 - x)[0] < target:
            break
        high = low
        low -= math.log(1000.0)

    for _ in range(_MAX_ROOT_STEPS):
        x = math.exp(u)
        cdf = _beta_tails(a, b, x, 1.0 - x)[0]
        if cdf <= 0.0:
            low = u
            u = 0.5 * (low + high)
            continue
        gap = math.log(cdf) - log_target
        if gap < 0.0:
            low = u
        else:
            high = u
        # d log I / d log x = x * density / I, with the Beta(a, b) density.
        log_density = (a - 1.0) * u + (b - 1.0) * math.log1p(-x) - log_beta
        slope = math.exp(u + log_density) / cdf
        stepped = u - gap / slope if slope > 0.0 else math.nan
        if not low < stepped < high:
            stepped = 0.5 * (low + high)
        if abs(stepped - u) <= _ROOT_TOLERANCE or high - low <= _ROOT_TOLERANCE:
            x = math.exp(stepped)
            return x, 1.0 - x
        u = stepped
    x = math.exp(u)
    return x, 1.0 - x


# Each bound as (p, 1 - p), so that odds p / (1 - p) keep their precision.
_Bound = tuple[float, float]


def _clopper_pearson_pairs(k: int, n: int, alpha: float) -> tuple[_Bound, _Bound]:
    """Lower and upper Clopper-Pearson bounds for k of n, each as (p, 1 - p)."""
    half = alpha / 2.0
    # With no successes (or no failures) the tail is a single term, p^n or
    # (1 - p)^n, and the bound has a closed form.
    edge = math.exp(math.log(half) / n)
    edge_complement = -math.expm1(math.log(half) / n)
    if k == 0:
        lower = (0.0, 1.0)
        upper = (edge_complement, edge)
    elif k == n:
        lower = (edge, edge_complement)
        upper = (1.0, 0.0)
    else:
        lower = _beta_quantile(k, n - k + 1, half)
        upper = _beta_quantile(k + 1, n - k, 1.0 - half)
    return lower, upper


def clopper_pearson(
    successes: int, trials: int, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, float] | None:
    """The exact (Clopper-Pearson) interval for a proportion, or None with no trials.

    The lower bound is the p at which seeing ``successes`` or more has
    probability (1 - confidence) / 2, the upper bound the p at which seeing
    ``successes`` or fewer has that probability. No successes give a lower
    bound of exactly 0 and all successes an upper bound of exactly 1.

    Parameters
    ----------
    successes, trials
        Whole numbers with 0 <= successes <= trials.
    confidence
        Coverage of the interval, strictly between 0 and 1.

    Examples
    --------
    >>> lower, upper = clopper_pearson(0, 10)
    >>> lower, round(upper, 6)  # 1 - 0.025 ** (1 / 10)
    (0.0, 0.308497)
    """
    k = _whole(successes, "successes")
    n = _whole(trials, "trials")
    alpha = 1.0 - _check_confidence(confidence)
    if k > n:
        message = f"successes ({k}) cannot exceed trials ({n})"
        raise ValueError(message)
    if n == 0:
        return None
    lower, upper = _clopper_pearson_pairs(k, n, alpha)
    return lower[0], upper[0]


@dataclass(frozen=True)
class RateRatio:
    """After-rate over before-rate of escalations, with an exact interval.

    Parameters
    ----------
    before, after
        Escalations counted in the before and the after window.
    before_length, after_length
        Lengths of the two windows, in any one unit.
    confidence
        Coverage of the interval.
    ratio
        (after / after_length) / (before / before_length); None when ``before``
        is 0, where the ratio is unbounded or, with nothing after either,
        meaningless.
    lower, upper
        The interval for the true ratio; both None with no escalations at all.
        With ``before`` 0 and some after, ``upper`` is ``math.inf``: no increase
        can be ruled out. With ``after`` 0, ``lower`` is 0.
    method
        How the interval was computed, in words.
    """

    before: int
    after: int
    before_length: float
    after_length: float
    confidence: float
    ratio: float | None
    lower: float | None
    upper: float | None
    method: str = RATE_RATIO_METHOD


def _check_length(value: float, name: str) -> float:
    if not (math.isfinite(value) and value > 0.0):
        message = f"{name} must be a positive, finite length, got {value!r}"
        raise ValueError(message)
    return float(value)


def rate_ratio_interval(
    before: int,
    after: int,
    confidence: float = DEFAULT_CONFIDENCE,
    before_length: float = 1.0,
    after_length: float = 1.0,
) -> RateRatio:
    """The ratio of the after-rate to the before-rate, with an exact interval.

    Treat the two counts as Poisson with rates per unit length lambda_b and
    lambda_a, and r = lambda_a / lambda_b. Given their total n = before + after,
    ``after`` is Binomial(n, p) with p = after_length r / (before_length +
    after_length r). A Clopper-Pearson interval (pL, pU) for p maps onto r
    through r = p / (1 - p) x before_length / after_length, which is increasing
    in p, so the bounds carry over and the interval keeps at least the nominal
    coverage.

    Parameters
    ----------
    before, after
        Escalations counted in each window, whole numbers from 0.
    confidence
        Coverage of the interval, strictly between 0 and 1.
    before_length, after_length
        Window lengths in the same unit; equal windows by default.

    Examples
    --------
    >>> halved = rate_ratio_interval(40, 20)
    >>> halved.ratio
    0.5
    >>> round(halved.lower, 3), round(halved.upper, 3)
    (0.277, 0.876)
    """
    before = _whole(before, "before")
    after = _whole(after, "after")
    alpha = 1.0 - _check_confidence(confidence)
    before_length = _check_length(before_length, "before_length")
    after_length = _check_length(after_length, "after_length")

    scale = before_length / after_length
    ratio = None if before == 0 else after / before * scale
    total = before + after
    if total == 0:
        return RateRatio(
            before, after, before_length, after_length, 1.0 - alpha, ratio, None, None
        )
    (p_low, q_low), (p_high, q_high) = _clopper_pearson_pairs(after, total, alpha)
    lower = p_low / q_low * scale
    upper = math.inf if q_high == 0.0 else p_high / q_high * scale
    return RateRatio(
        before, after, before_length, after_length, 1.0 - alpha, ratio, lower, upper
    )


def ratio_of_ratios(fix: RateRatio, others: RateRatio) -> float | None:
    """The fix's rate ratio divided by the other trigger types' rate ratio.

    Below 1, the fix's trigger type fell further (or rose less) than everything
    else over the same windows. None when either ratio is undefined or the
    others' ratio is 0.

    Examples
    --------
    >>> fix = rate_ratio_interval(40, 20)  # 0.5
    >>> others = rate_ratio_interval(400, 320)  # 0.8
    >>> ratio_of_ratios(fix, others)  # 0.5 / 0.8
    0.625
    """
    if fix.ratio is None or others.ratio is None or others.ratio == 0.0:
        return None
    return fix.ratio / others.ratio


def _log_binomial_coefficients(n: int) -> _Floats:
    """log C(n, x) for x = 0..n, as a float array."""
    steps = np.log(np.arange(n, 0, -1, dtype=np.float64)) - np.log(
        np.arange(1, n + 1, dtype=np.float64)
    )
    return np.concatenate([[0.0], np.cumsum(steps)])


def _log_sum_exp(values: _Floats) -> float:
    top = float(values.max())
    return top + math.log(float(np.exp(values - top).sum()))


def _solve_log_odds(gap: Callable[[float], float], increasing: bool) -> float:
    """The log odds ratio where the monotone ``gap`` crosses zero, by bisection."""
    low, high = -1.0, 1.0
    # Widen until the bracket holds the crossing, then halve it.
    while (gap(low) > 0.0) == increasing and low > -_MAX_LOG_ODDS:
        low *= 2.0
    while (gap(high) < 0.0) == increasing and high < _MAX_LOG_ODDS:
        high *= 2.0
    for _ in range(_MAX_ROOT_STEPS):
        middle = 0.5 * (low + high)
        if (gap(middle) < 0.0) == increasing:
            low = middle
        else:
            high = middle
        if high - low <= _ROOT_TOLERANCE * max(1.0, abs(middle)):
            break
    return 0.5 * (low + high)


def ratio_of_ratios_interval(
    fix: RateRatio, others: RateRatio, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, float] | None:
    """An exact interval for :func:`ratio_of_ratios`, or None when it is undefined.

    With both comparisons over the same two windows, the ratio of ratios is the
    odds ratio of the 2x2 table (fix, others) x (before, after). Given all four
    margins, the fix's after count follows Fisher's noncentral hypergeometric
    distribution with that odds ratio as its parameter; the bounds are the odds
    ratios at which the observed count sits in a tail of (1 - confidence) / 2
    (the interval R's ``fisher.test`` reports). A lower bound of 0 or an upper
    bound of ``math.inf`` means that side is not bounded by the data. None when
    the margins leave a single possible table (no escalations of the fix's type,
    of the others, before, or after).

    Raises
    ------
    ValueError
        If the two comparisons were made over windows of different lengths.
    """
    if (fix.before_length, fix.after_length) != (
        others.before_length,
        others.after_length,
    ):
        message = (
            "the ratio of ratios needs both comparisons over the same windows, got "
            f"lengths {(fix.before_length, fix.after_length)} for the fix and "
            f"{(others.before_length, others.after_length)} for the others"
        )
        raise ValueError(message)
    half = (1.0 - _check_confidence(confidence)) / 2.0
    fix_total = fix.before + fix.after
    others_total = others.before + others.after
    after_total = fix.after + others.after
    first = max(0, after_total - others_total)
    last = min(fix_total, after_total)
    if first == last:
        return None

    support = np.arange(first, last + 1)
    log_weights = (
        _log_binomial_coefficients(fix_total)[support]
        + _log_binomial_coefficients(others_total)[after_total - support]
    )
    seen = fix.after - first

    def log_tails(log_odds: float) -> tuple[float, float]:
        shifted = log_weights + support * log_odds
        whole = _log_sum_exp(shifted)
        return (
            _log_sum_exp(shifted[seen:]) - whole,
            _log_sum_exp(shifted[: seen + 1]) - whole,
        )

    log_half = math.log(half)
    lower = 0.0
    upper = math.inf
    if fix.after > first:
        at_least = _solve_log_odds(lambda t: log_tails(t)[0] - log_half, True)
        lower = math.exp(at_least)
    if fix.after < last:
        at_most = _solve_log_odds(lambda t: log_tails(t)[1] - log_half, False)
        upper = math.exp(at_most)
    return lower, upper

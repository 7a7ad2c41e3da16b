"""Array helpers shared by the generators: time units, nulls, draws, text ids."""

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt
import polars as pl

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

US_PER_SECOND = 1_000_000
US_PER_HOUR = 3_600 * US_PER_SECOND
US_PER_DAY = 24 * US_PER_HOUR
# Length of every generated history: two years back from its end.
HISTORY_DAYS = 730


def utc(micros: IntArray, name: str) -> pl.Series:
    """Aware UTC datetimes from microseconds since the epoch."""
    return (
        pl.Series(name, micros, dtype=pl.Int64)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )


def external_ids(prefix: str, ids: IntArray, width: int) -> pl.Series:
    """Readable external ids such as ``ESC-0000042``."""
    return pl.select(
        pl.concat_str(
            pl.lit(prefix),
            pl.lit(pl.Series(ids)).cast(pl.String).str.zfill(width),
        )
    ).to_series()


def numbers(upper: int) -> pl.Series:
    """The integers 0..upper as text, to be gathered by value."""
    return pl.Series(np.arange(upper + 1)).cast(pl.String)


def with_nulls(values: pl.Series, missing: BoolArray) -> pl.Series:
    """``values`` with the rows flagged in ``missing`` set to null."""
    return (
        pl.select(
            pl.when(pl.lit(pl.Series(missing)))
            .then(pl.lit(None, dtype=values.dtype))
            .otherwise(pl.lit(values))
        )
        .to_series()
        .rename(values.name)
    )


def names_or_null(names: pl.Series, index: IntArray, name: str) -> pl.Series:
    """Names gathered by index, null where the index is negative."""
    gathered = names.gather(np.maximum(index, 0)).rename(name)
    return with_nulls(gathered, index < 0)


# Up to this many groups, pick() draws with one binary search over all rows.
_FEW_GROUPS = 64


def pick(rng: np.random.Generator, probs: FloatArray, group: IntArray) -> IntArray:
    """Per row, a category drawn from the probability row of its group."""
    cumulative = np.cumsum(probs, axis=1)
    draw = rng.random(group.size)
    if probs.shape[0] <= _FEW_GROUPS:
        # Group g's thresholds shifted into [g, g + 1] make one sorted list, so a
        # single binary search of group + draw finds every row's category.
        n_groups, n_categories = probs.shape
        inner = np.minimum(cumulative[:, :-1], 1.0)
        shifted = (inner + np.arange(n_groups)[:, None]).ravel()
        found: IntArray = np.searchsorted(shifted, group + draw, side="right")
        found -= group * (n_categories - 1)
        return found
    # One pass per category instead of a rows-by-categories matrix: the same
    # arithmetic, far less memory at ten million rows.
    category = np.zeros(group.size, dtype=np.int64)
    for column in range(probs.shape[1] - 1):
        category += draw >= cumulative[:, column][group]
    return category


def time_of_day(rng: np.random.Generator, size: int) -> IntArray:
    """Microseconds into the day, mostly during working hours, some at night."""
    working = rng.normal(14.5, 3.0, size) * US_PER_HOUR
    anytime = rng.random(size) * US_PER_DAY
    at_night = rng.random(size) < 0.2
    chosen = np.where(at_night, anytime, working)
    return np.clip(chosen, 0, US_PER_DAY - 1).astype(np.int64)


@contextmanager
def small_pages() -> Iterator[None]:
    """Let numpy allocate with ordinary pages instead of transparent huge pages.

    The generator makes gigabytes of short-lived arrays. On the 2-core virtual
    machines this project runs on, first touching fresh memory measured four
    times slower in huge pages (numpy asks for them by default) than in small
    ones: 8 s against 2 s for 3.2 GB. The previous setting comes back on exit.
    """
    core = getattr(np, "_core", None)
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if setter is None:
        yield
        return
    previous = setter(False)
    try:
        yield
    finally:
        setter(previous)

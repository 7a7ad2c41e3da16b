"""Part makers for OwnProcess tests.

They run in a freshly started process, which finds them by module name, so
they live here at module level and not inside a test.
"""

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import polars as pl

START = datetime(2026, 1, 1, tzinfo=UTC)


def numbered(part: int, rows: int) -> pl.DataFrame:
    """Part ``part`` of a table counting up from 0: an integer, a time, a text."""
    numbers = range(part * rows, (part + 1) * rows)
    return pl.DataFrame(
        {
            "n": list(numbers),
            "at": [START + timedelta(minutes=n) for n in numbers],
            "text": [None if n % 7 == 0 else f"row {n}" for n in numbers],
        }
    )


def counting(parts: int, rows: int) -> Iterator[tuple[str, pl.DataFrame]]:
    for part in range(parts):
        yield "counting", numbered(part, rows)


def process_ids(parts: int) -> Iterator[tuple[str, pl.DataFrame]]:
    for _ in range(parts):
        yield "pid", pl.DataFrame({"pid": [os.getpid()]})


def failing_after(parts: int) -> Iterator[tuple[str, pl.DataFrame]]:
    yield from counting(parts, 10)
    raise KeyError("no such trigger")


class _Unpicklable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


def failing_unpicklably() -> Iterator[tuple[str, pl.DataFrame]]:
    yield from counting(1, 10)
    raise _Unpicklable("the lock cannot travel")


def dying_after(parts: int) -> Iterator[tuple[str, pl.DataFrame]]:
    yield from counting(parts, 10)
    os._exit(3)


def endless(rows: int) -> Iterator[tuple[str, pl.DataFrame]]:
    part = 0
    while True:
        yield "counting", numbered(part, rows)
        part += 1


def history_failing_at_signals(
    seed: int, scale: float, end: datetime
) -> Iterator[tuple[str, pl.DataFrame]]:
    """A real history's parts up to the signals, then a failure."""
    from seed_data.generate import history_parts  # noqa: PLC0415  (heavy import)

    for name, frame in history_parts(seed=seed, scale=scale, end=end):
        if name == "signal":
            raise MemoryError("no room for the signals")
        yield name, frame

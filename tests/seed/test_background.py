"""in_background: items made on a thread of their own, errors carried over."""

import threading
from collections.abc import Iterator

import pytest

from seed_data.load import in_background


def test_items_arrive_in_order_and_complete() -> None:
    assert list(in_background(iter(range(50)), ahead=3)) == list(range(50))
    assert list(in_background(iter([]))) == []


def test_the_items_are_made_on_another_thread() -> None:
    def made_where() -> Iterator[str]:
        for _ in range(3):
            yield threading.current_thread().name

    assert set(in_background(made_where())) == {"seed-generator"}


def test_an_error_while_making_reaches_the_caller_after_the_items_before() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise KeyError("no such trigger")

    received: list[int] = []
    with pytest.raises(KeyError, match="no such trigger"):
        for item in in_background(failing()):
            received.append(item)

    assert received == [1, 2]


def test_a_caller_that_stops_early_stops_the_thread() -> None:
    made: list[int] = []
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            count = 0
            while True:
                made.append(count)
                yield count
                count += 1
        finally:
            closed.set()

    items = in_background(endless(), ahead=2)
    assert next(items) == 0
    items.close()

    assert closed.is_set()
    assert not any(t.name == "seed-generator" for t in threading.enumerate())
    # One handed over, at most two waiting and one being handed when told to stop.
    assert len(made) <= 4

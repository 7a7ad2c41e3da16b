"""in_background and OwnProcess: parts made elsewhere, errors carried over."""

import os
import threading
from collections.abc import Iterator

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seed_data.handover import OwnProcess, in_background
from tests.seed import makers


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


# --- a process of its own ------------------------------------------------------


def test_parts_arrive_in_order_and_equal_to_those_made_in_this_process() -> None:
    parts = OwnProcess(makers.counting, parts=5, rows=1_000, ahead=2)
    received = list(parts)

    assert [name for name, _ in received] == ["counting"] * 5
    for part, (_, frame) in enumerate(received):
        assert_frame_equal(frame, makers.numbered(part, 1_000))
    # Times keep their zone, texts their nulls.
    first = received[0][1]
    assert first.schema["at"] == pl.Datetime("us", "UTC")
    assert first.get_column("text").null_count() == 143
    assert not os.path.exists(parts.folder)


def test_the_parts_are_made_in_another_process() -> None:
    pids = {frame.item() for _, frame in OwnProcess(makers.process_ids, parts=3)}

    assert len(pids) == 1
    assert pids != {os.getpid()}


def test_nothing_comes_from_a_maker_that_makes_nothing() -> None:
    parts = OwnProcess(makers.counting, parts=0, rows=10)

    assert list(parts) == []
    assert not parts.process.is_alive()


def test_an_error_in_the_process_is_raised_here_after_the_parts_before_it() -> None:
    parts = OwnProcess(makers.failing_after, parts=2)
    received: list[str] = []

    with pytest.raises(KeyError, match="no such trigger") as raised:
        for name, _ in parts:
            received.append(name)

    assert received == ["counting", "counting"]
    # Where it failed over there travels along as a note.
    assert "failing_after" in "".join(raised.value.__notes__)
    assert not os.path.exists(parts.folder)
    assert not parts.process.is_alive()


def test_an_error_that_cannot_travel_arrives_as_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="_Unpicklable: the lock cannot travel"):
        list(OwnProcess(makers.failing_unpicklably))


def test_a_process_that_dies_silently_is_reported() -> None:
    parts = OwnProcess(makers.dying_after, parts=1)

    # A part handed over just before the death may be lost with the process;
    # what matters is that the reader is told instead of waiting for ever.
    with pytest.raises(
        RuntimeError, match=r"stopped before it was done \(exit code 3\)"
    ):
        list(parts)
    assert not os.path.exists(parts.folder)


def test_a_caller_that_stops_early_ends_the_process_and_removes_its_files() -> None:
    ahead = 2
    parts = OwnProcess(makers.endless, rows=100, ahead=ahead)
    assert_frame_equal(next(parts)[1], makers.numbered(0, 100))
    # The maker runs on but waits once ``ahead`` parts are ready; one more may
    # be written while it waits to hand it over.
    parts.process.join(timeout=1.0)
    assert len(os.listdir(parts.folder)) <= ahead + 1

    parts.close()

    assert parts.process.exitcode is not None
    assert not os.path.exists(parts.folder)
    with pytest.raises(StopIteration):
        next(parts)
    parts.close()  # a second close does nothing


def test_leaving_a_with_block_ends_the_process() -> None:
    with OwnProcess(makers.endless, rows=10) as parts:
        next(parts)

    assert not parts.process.is_alive()
    assert not os.path.exists(parts.folder)

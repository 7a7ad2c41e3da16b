"""in_background and OwnProcess: parts made elsewhere, errors carried over."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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


# A loader that starts a generating process, says where its parts go, then
# waits without reading them: the generator soon waits on a full queue.
_LOADER_THAT_WAITS = """
import os, time
from seed_data.handover import OwnProcess
from tests.seed import makers

parts = OwnProcess(makers.endless, rows=100, ahead=2)
print(parts.folder, parts.process.pid, flush=True)
time.sleep(600)
"""
_PROJECT = Path(__file__).resolve().parents[2]


def _running(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie nobody reaped has ended."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {seconds:g} s for {what}")
        time.sleep(0.05)


def test_a_generator_whose_loader_is_killed_ends_and_removes_its_files() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _LOADER_THAT_WAITS],
        stdout=subprocess.PIPE,
        # The killed loader's resource tracker warns about its queue's
        # semaphores; that is expected here and not worth showing.
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=_PROJECT,
    ) as loader:
        assert loader.stdout is not None
        said = loader.stdout.readline().split()
        assert len(said) == 2, "the loader failed to start its generator"
        folder, pid = said[0], int(said[1])
        _wait_for(lambda: len(os.listdir(folder)) >= 2, "the parts to pile up")
        assert _running(pid)

        loader.kill()  # no close, no finalizer: as the out-of-memory killer would

    _wait_for(lambda: not _running(pid), "the generator to end")
    assert not os.path.exists(folder)

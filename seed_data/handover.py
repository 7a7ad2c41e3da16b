"""Make the parts of a history somewhere else while the caller writes them.

Two ways, for two sizes: a thread of this process (``in_background``), cheap
to start, and a process of its own (``OwnProcess``), which costs about a
second to start but shares no interpreter lock with the writer. Kept apart
from the database code so that the generating process imports only what
generating needs.
"""

import multiprocessing
import os
import pickle
import queue
import shutil
import signal
import tempfile
import threading
import traceback
import weakref
from collections.abc import Callable, Generator, Iterator
from typing import Any, Protocol, TypeVar

import polars as pl

T = TypeVar("T")
# Parts the generator may have ready before the loader takes them. The
# generator makes a part of signals (a million rows, about 170 MB) faster than
# the loader stores one, so two ahead keep the loader busy; four measured no
# faster at a million escalations and held 400 MB more.
PARTS_AHEAD = 2
_DONE = object()
# Parts cross from the generating process as Arrow files; where the system has
# a memory-backed folder they never touch the disk.
_MEMORY_FOLDER = "/dev/shm"
FOLDER_PREFIX = "escalation-health-seed-"


def parts_folder_parent() -> str:
    """Where the folders of parts in transit are made."""
    if os.access(_MEMORY_FOLDER, os.W_OK):
        return _MEMORY_FOLDER
    return tempfile.gettempdir()


class _Failed:
    """What the generating thread hands over when it fails: the error."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def in_background(
    items: Iterator[T], *, ahead: int = PARTS_AHEAD
) -> Generator[T, None, None]:
    """The items of ``items``, made on a thread of their own while the caller works.

    numpy, polars and the database drivers let go of the interpreter lock
    during their heavy work, so making the next part and writing this one run
    on two cores at once. An error in either direction ends both: the
    generator's error is raised here, and when the caller stops early the
    thread is told to stop and is waited for.
    """
    handed: queue.Queue[object] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
            hand_over(_DONE)
        except BaseException as error:
            hand_over(_Failed(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="seed-generator", daemon=True)
    worker.start()
    try:
        while True:
            item = handed.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


Frames = Iterator[tuple[str, pl.DataFrame]]


class PartStream(Protocol):
    """Parts handed over one by one; ``close`` stops whatever makes them."""

    def __iter__(self) -> Iterator[tuple[str, pl.DataFrame]]: ...

    def __next__(self) -> tuple[str, pl.DataFrame]: ...

    def close(self) -> None: ...


class OwnProcess:
    """The ``(name, frame)`` parts of ``make(**arguments)``, made in another process.

    ``in_background`` shares one interpreter lock between making and writing;
    at a million escalations that cost about a fifth of the seed's time. Here
    the parts are made by a process of its own, on the other core. Each part
    crosses as an uncompressed Arrow file in a private temporary folder,
    written once and read back without parsing; at most ``ahead`` parts wait
    there. ``make`` must be importable by name (a module-level function) and
    the arguments picklable, since the process starts afresh.

    The process starts at once, so a caller can set it going before other
    slow work (opening a database). An error in it is raised here after the
    parts made before it; if it dies without a word, a RuntimeError says so.
    ``close`` (also on leaving a ``with`` block, or when the object is
    collected) ends the process, waits for it and removes the folder. If this
    process is killed outright, the generating one finds out when it next
    waits to hand a part over, removes the folder itself and ends.
    """

    def __init__(
        self, make: Callable[..., Frames], *, ahead: int = PARTS_AHEAD, **arguments: Any
    ) -> None:
        self.folder = tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=parts_folder_parent())
        context = multiprocessing.get_context("spawn")
        self._handed: Any = context.Queue(maxsize=ahead)
        self.process = context.Process(
            target=_make_into,
            args=(make, arguments, self.folder, self._handed),
            name="seed-generator",
            daemon=True,
        )
        self._closer = weakref.finalize(
            self, _end_process, self.process, self._handed, self.folder
        )
        self.process.start()

    def __iter__(self) -> "OwnProcess":
        return self

    def __next__(self) -> tuple[str, pl.DataFrame]:
        if not self._closer.alive:
            raise StopIteration
        try:
            kind, payload = _next_handed(self._handed, self.process)
        except BaseException:
            self.close()
            raise
        if kind == "done":
            self.close()
            raise StopIteration
        if kind == "failed":
            self.close()
            raise payload
        name, path = payload
        frame = pl.read_ipc(path)
        os.remove(path)
        return name, frame

    def close(self) -> None:
        """End the process if it still runs, wait for it, remove the folder."""
        self._closer()

    def __enter__(self) -> "OwnProcess":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _end_process(process: Any, handed: Any, folder: str) -> None:
    if process.is_alive():
        process.terminate()
    if process.pid is not None:
        process.join()
    handed.close()
    shutil.rmtree(folder, ignore_errors=True)


def _next_handed(handed: Any, worker: Any) -> tuple[str, Any]:
    """The next message of the generating process, or RuntimeError if it died."""
    while True:
        try:
            message: tuple[str, Any] = handed.get(timeout=0.2)
        except queue.Empty:
            if worker.exitcode is None:
                continue
            # A message sent just before a clean exit may still be on its way.
            try:
                message = handed.get(timeout=1.0)
            except queue.Empty:
                reason = (
                    f"the history generator stopped before it was done "
                    f"(exit code {worker.exitcode})"
                )
                raise RuntimeError(reason) from None
        return message


class _LoaderGone(Exception):
    """The process that reads the parts has ended without closing this one."""


# How often a generator waiting to hand a part over checks that its loader lives.
_LOADER_CHECK_SECONDS = 0.5


def _hand_over(handed: Any, message: tuple[str, Any]) -> None:
    """Put ``message`` on the queue, waiting while it is full, unless the loader dies.

    A loader killed outright (the out-of-memory killer, ``kill -9``) closes
    nothing; without this check its generator would wait on a full queue for
    ever, holding its memory and its files in a memory-backed folder.
    """
    loader = multiprocessing.parent_process()
    while True:
        try:
            handed.put(message, timeout=_LOADER_CHECK_SECONDS)
            return
        except queue.Full:
            if loader is not None and not loader.is_alive():
                raise _LoaderGone from None


def _make_into(
    make: Callable[..., Frames], arguments: dict[str, Any], folder: str, handed: Any
) -> None:
    """In the generating process: write each part to ``folder``, hand over its path."""
    # Ctrl-C reaches every process of the terminal; the loader decides when to
    # stop this one, and a second traceback would only confuse.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for number, (name, frame) in enumerate(make(**arguments)):
            path = os.path.join(folder, f"{number:05d}-{name}.arrow")
            frame.write_ipc(path, compression="uncompressed")
            _hand_over(handed, ("part", (name, path)))
        _hand_over(handed, ("done", None))
    except _LoaderGone:
        _abandon(folder, handed)
    except BaseException as error:  # handed over, raised by the reader
        try:
            _hand_over(handed, ("failed", _portable(error)))
        except _LoaderGone:
            _abandon(folder, handed)


def _abandon(folder: str, handed: Any) -> None:
    """Clean up after a loader that died: nobody else will remove the parts."""
    shutil.rmtree(folder, ignore_errors=True)
    # Otherwise the queue's feeder thread would keep this process alive at
    # exit, waiting to write into a pipe that nobody reads any more.
    handed.cancel_join_thread()


def _portable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling, else a RuntimeError that says the same."""
    error.add_note("".join(traceback.format_exception(error)).rstrip())
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # any failure to pickle
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error

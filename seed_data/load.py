"""Generate a demo history and write it into an empty database."""

import logging
import queue
import threading
from collections.abc import Generator, Iterator
from contextlib import closing
from datetime import datetime
from typing import TypeVar

import polars as pl
import sqlalchemy as sa

from db.bulk import Progress, bulk_insert, table_order
from seed_data.generate import expected_rows, history_parts

log = logging.getLogger(__name__)

T = TypeVar("T")
# Parts the generator may have ready before the loader takes them: enough to
# keep the loader busy, few enough that memory holds a few parts, not the whole
# history (a part of the signal table is a million rows, about 170 MB).
PARTS_AHEAD = 4
_DONE = object()


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


def _first_non_empty_table(engine: sa.Engine) -> str | None:
    """Name of the first table bulk_insert writes that already holds rows."""
    with engine.connect() as connection:
        for name in table_order():
            table = sa.table(name)
            found = connection.execute(
                sa.select(sa.literal(1)).select_from(table).limit(1)
            ).first()
            if found is not None:
                return name
    return None


def seed_database(
    engine: sa.Engine,
    *,
    seed: int,
    scale: float,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Generate a history and insert it; returns the row count per table.

    Refuses, with a ValueError, a database whose tables already hold rows: the
    generated ids start at 1 and would collide, and mixing two histories would
    make every metric meaningless.
    """
    # NOTE: the emptiness check and the insert run in separate transactions; a
    # concurrent writer in between would make the insert fail and roll back.
    occupied = _first_non_empty_table(engine)
    if occupied is not None:
        message = (
            f"refusing to seed {engine.url.render_as_string(hide_password=True)}: "
            f"table {occupied!r} already has rows; seed only an empty database"
        )
        raise ValueError(message)

    if progress is not None:
        progress("generate", 0.0)
    counts = dict.fromkeys(table_order(), 0)

    def counted(
        parts: Iterator[tuple[str, pl.DataFrame]],
    ) -> Iterator[tuple[str, pl.DataFrame]]:
        for name, frame in parts:
            counts[name] += frame.height
            yield name, frame

    # Each table is written while the next one is generated; closing the
    # stream stops the generating thread if the load fails.
    with closing(
        in_background(history_parts(seed=seed, scale=scale, end=end))
    ) as parts:
        bulk_insert(
            engine,
            counted(parts),
            progress=progress,
            expected_rows=expected_rows(scale),
        )
    log.info(
        "seeded %s with %s", engine.url.render_as_string(hide_password=True), counts
    )
    return counts

"""Generate a demo history and write it into an empty database."""

import logging
from collections.abc import Iterator
from contextlib import closing, nullcontext
from datetime import datetime

import polars as pl
import sqlalchemy as sa

from db.bulk import Progress, bulk_insert, table_order
from seed_data.generate import expected_rows, history_parts
from seed_data.handover import OwnProcess, PartStream, in_background

log = logging.getLogger(__name__)

# From this scale on (50,000 escalations, half a million signals) the history
# is generated in a process of its own. Below it, starting that process (about
# a second, mostly imports) costs more than it saves.
OWN_PROCESS_FROM_SCALE = 20.0


def generate_in_parts(
    seed: int, scale: float, end: datetime | None = None
) -> PartStream:
    """The history's parts, made while the caller writes them; close it to stop.

    A large history is made by a process of its own, which starts at once;
    a small one by a thread, which starts with the first part taken.
    """
    if scale >= OWN_PROCESS_FROM_SCALE:
        return OwnProcess(history_parts, seed=seed, scale=scale, end=end)
    return in_background(history_parts(seed=seed, scale=scale, end=end))


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
    generated: PartStream | None = None,
) -> dict[str, int]:
    """Generate a history and insert it; returns the row count per table.

    Refuses, with a ValueError, a database whose tables already hold rows: the
    generated ids start at 1 and would collide, and mixing two histories would
    make every metric meaningless.

    ``generated`` takes the parts of a ``generate_in_parts`` that the caller
    started early, with the same seed, scale and end; the caller closes it.
    By default the parts are generated here.
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
    # stream stops the generating thread or process if the load fails.
    with (
        closing(generate_in_parts(seed, scale, end))
        if generated is None
        else nullcontext(generated) as parts
    ):
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

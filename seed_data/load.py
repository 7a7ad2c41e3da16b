"""Generate a demo history and write it into an empty database."""

import logging
from datetime import datetime

import sqlalchemy as sa

from db.bulk import Progress, bulk_insert, table_order
from seed_data.generate import generate_history

log = logging.getLogger(__name__)


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
    history = generate_history(seed=seed, scale=scale, end=end)
    bulk_insert(engine, history, progress=progress)
    counts = history.counts()
    log.info(
        "seeded %s with %s", engine.url.render_as_string(hide_password=True), counts
    )
    return counts

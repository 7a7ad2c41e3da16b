"""Deterministic, vectorised generator of a demo escalation history.

Each step draws from its own random stream spawned from the seed, so one seed
and one ``end`` always give the same frames. Per-row work is done in numpy and
polars; Python loops only run over small things (triggers, fixes, levels,
templates), so scale 400 (a million escalations, ten million signals) takes
seconds rather than hours. ``history_parts`` hands the tables over one by one
as they are made, for a loader that writes while the rest is generated. The
steps live in their own modules: ``book`` (accounts and staff), ``fix_plan``,
``escalations``, ``levels``, ``signals``, ``packets`` and ``fixes``.
"""

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from db.models import (
    Account,
    Escalation,
    LevelChange,
    ProcessFix,
    ProcessFixEscalation,
    Signal,
    Team,
)
from seed_data.arrays import HISTORY_DAYS, US_PER_DAY, small_pages
from seed_data.book import build_accounts, build_people, team_frame
from seed_data.escalations import build_escalations
from seed_data.fix_plan import plan_fixes
from seed_data.fixes import fix_frames
from seed_data.levels import build_level_changes
from seed_data.packets import escalation_frame
from seed_data.signals import build_signals, signal_counts

log = logging.getLogger(__name__)

# Row counts at scale 1; signals are topped up with unlinked ones to the total.
BASE_ACCOUNTS = 300
BASE_ESCALATIONS = 2_500
BASE_SIGNALS = 25_000
# Rows per part of the escalation table that history_parts yields.
ESCALATION_PART_ROWS = 250_000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DemoHistory:
    """One generated history: a frame per table plus the designed fix effects.

    Ids are explicit (1..N per table) so links hold before anything is written.
    ``fix_truth`` is not a table: it records, per fix, what the generator built
    in (trigger type, ship time, volume multiplier after shipping, and whether
    the fix was built to work), for tests of fix-impact analyses.
    """

    team: pl.DataFrame
    account: pl.DataFrame
    escalation: pl.DataFrame
    level_change: pl.DataFrame
    signal: pl.DataFrame
    process_fix: pl.DataFrame
    process_fix_escalation: pl.DataFrame
    fix_truth: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        """Frames keyed by table name, in an order that satisfies foreign keys."""
        return {
            Team.__tablename__: self.team,
            Account.__tablename__: self.account,
            Escalation.__tablename__: self.escalation,
            LevelChange.__tablename__: self.level_change,
            Signal.__tablename__: self.signal,
            ProcessFix.__tablename__: self.process_fix,
            ProcessFixEscalation.__tablename__: self.process_fix_escalation,
        }

    def counts(self) -> dict[str, int]:
        """Row count per table."""
        return {name: frame.height for name, frame in self.tables().items()}


def _end_micros(end: datetime | None) -> int:
    """Microseconds since the epoch of ``end``, defaulting to today 00:00 UTC."""
    if end is None:
        now = datetime.now(UTC)
        end = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if end.utcoffset() is None:
        message = f"end must be timezone-aware, got naive {end!r}"
        raise ValueError(message)
    return (end.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)


def _scaled(base: int, scale: float) -> int:
    """A base count multiplied by scale, never below one."""
    return max(1, round(base * scale))


# One random stream per step, each spawned from the seed, so that a step's
# draws do not depend on how far another step has got. The generator can then
# hand over each table as soon as it is made, in the order a loader wants,
# while the later steps are still drawing.
_STEPS = (
    "accounts",
    "people",
    "fixes",
    "escalations",
    "levels",
    "signal_counts",
    "packets",
    "fix_frames",
    "signals",
)
# Name under which history_parts' inner generator hands over the fix truth.
_FIX_TRUTH = "fix_truth"


def generate_history(
    seed: int = 7, scale: float = 1.0, end: datetime | None = None
) -> DemoHistory:
    """Generate about two years of escalation history ending at ``end``.

    Parameters
    ----------
    seed
        Seed of the random streams; with ``end`` it fixes every value.
    scale
        Multiplies the counts of accounts (300), escalations (2,500) and
        signals (about 25,000); the 30 process fixes do not scale.
    end
        Aware end of the history; defaults to today 00:00 UTC.
    """
    collected: dict[str, list[pl.DataFrame]] = {}
    for name, frame in _parts(seed, scale, end):
        collected.setdefault(name, []).append(frame)
    frames = {name: pl.concat(parts) for name, parts in collected.items()}
    return DemoHistory(
        **{name: frames[name] for name in DemoHistory.__dataclass_fields__}
    )


def history_parts(
    seed: int = 7, scale: float = 1.0, end: datetime | None = None
) -> Iterator[tuple[str, pl.DataFrame]]:
    """The tables of ``generate_history``, each handed over as soon as it is made.

    Yields ``(table name, frame)`` with parents before children, each table's
    parts one after another: the escalations in parts of a quarter million
    rows, the signals in parts of a million, every other table whole.
    Concatenated, the parts equal ``generate_history``'s frames for the same
    arguments. Meant for a loader that writes one part while the next is
    being generated.
    """
    for name, frame in _parts(seed, scale, end):
        if name != _FIX_TRUTH:
            yield name, frame


def expected_rows(scale: float) -> int:
    """About how many rows a history of ``scale`` holds, for progress reports.

    Level changes and fix links are estimated at the rates the generator
    draws them (about 0.86 and 0.12 per escalation).
    """
    escalations = _scaled(BASE_ESCALATIONS, scale)
    return (
        _scaled(BASE_ACCOUNTS, scale)
        + escalations
        + round(escalations * 0.98)
        + _scaled(BASE_SIGNALS, scale)
    )


def _parts(
    seed: int, scale: float, end: datetime | None
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Every table of one history, and the fix truth, in loading order."""
    if not scale > 0 or not math.isfinite(scale):
        message = f"scale must be a positive number, got {scale!r}"
        raise ValueError(message)
    end_us = _end_micros(end)
    start_us = end_us - HISTORY_DAYS * US_PER_DAY
    streams = np.random.SeedSequence(seed).spawn(len(_STEPS))
    rng = {
        step: np.random.default_rng(stream)
        for step, stream in zip(_STEPS, streams, strict=True)
    }
    started = time.perf_counter()
    counts: dict[str, int] = {}

    with small_pages():
        accounts = build_accounts(
            rng["accounts"], _scaled(BASE_ACCOUNTS, scale), end_us
        )
        people = build_people(rng["people"], accounts.team)
        fixes = plan_fixes(rng["fixes"], start_us)
        yield Team.__tablename__, team_frame()
        yield Account.__tablename__, accounts.frame

        esc = build_escalations(
            rng["escalations"],
            size=_scaled(BASE_ESCALATIONS, scale),
            start_us=start_us,
            end_us=end_us,
            accounts=accounts,
            people=people,
            fixes=fixes,
        )
        level_change, final_owner, final_level = build_level_changes(
            rng["levels"], esc, people
        )
        per_escalation = signal_counts(rng["signal_counts"], esc)
        # In parts, so that a loader can start on the first while the packets
        # of the rest are still being written.
        for offset in range(0, esc.size, ESCALATION_PART_ROWS):
            rows = slice(offset, offset + ESCALATION_PART_ROWS)
            yield (
                Escalation.__tablename__,
                escalation_frame(
                    rng["packets"],
                    esc=esc.rows(rows),
                    accounts=accounts,
                    people=people,
                    final_owner=final_owner[rows],
                    final_level=final_level[rows],
                    signal_counts=per_escalation[rows],
                    first_id=offset + 1,
                ),
            )
        yield LevelChange.__tablename__, level_change
        process_fix, links, fix_truth = fix_frames(
            rng["fix_frames"], fixes, esc, people
        )
        yield ProcessFix.__tablename__, process_fix
        yield ProcessFixEscalation.__tablename__, links
        yield _FIX_TRUTH, fix_truth

        counts = {
            Account.__tablename__: accounts.frame.height,
            Escalation.__tablename__: esc.size,
            LevelChange.__tablename__: level_change.height,
            Signal.__tablename__: 0,
        }
        for part in build_signals(
            rng["signals"],
            per_escalation=per_escalation,
            target=_scaled(BASE_SIGNALS, scale),
            start_us=start_us,
            end_us=end_us,
            esc=esc,
            accounts=accounts,
            people=people,
        ):
            counts[Signal.__tablename__] += part.height
            yield Signal.__tablename__, part
    log.info(
        "generated seed=%s scale=%s in %.2f s: %s",
        seed,
        scale,
        time.perf_counter() - started,
        counts,
    )

"""Deterministic, vectorised generator of a demo escalation history.

Everything is drawn from one ``numpy.random.Generator`` in a fixed order, so one
seed and one ``end`` always give the same frames. Per-row work is done in numpy
and polars; Python loops only run over small things (triggers, fixes, levels,
templates), so scale 400 (a million escalations, ten million signals) takes
seconds rather than hours. The steps live in their own modules: ``book``
(accounts and staff), ``fix_plan``, ``escalations``, ``levels``, ``signals``,
``packets`` and ``fixes``.
"""

import logging
import math
import time
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
from seed_data.signals import build_signals

log = logging.getLogger(__name__)

# Row counts at scale 1; signals are topped up with unlinked ones to the total.
BASE_ACCOUNTS = 300
BASE_ESCALATIONS = 2_500
BASE_SIGNALS = 25_000

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


def generate_history(
    seed: int = 7, scale: float = 1.0, end: datetime | None = None
) -> DemoHistory:
    """Generate about two years of escalation history ending at ``end``.

    Parameters
    ----------
    seed
        Seed of the numpy generator; with ``end`` it fixes every value.
    scale
        Multiplies the counts of accounts (300), escalations (2,500) and
        signals (about 25,000); the 30 process fixes do not scale.
    end
        Aware end of the history; defaults to today 00:00 UTC.
    """
    if not scale > 0 or not math.isfinite(scale):
        message = f"scale must be a positive number, got {scale!r}"
        raise ValueError(message)
    end_us = _end_micros(end)
    start_us = end_us - HISTORY_DAYS * US_PER_DAY
    rng = np.random.default_rng(seed)
    started = time.perf_counter()

    with small_pages():
        history = _build(rng, scale, start_us, end_us)
    log.info(
        "generated seed=%s scale=%s in %.2f s: %s",
        seed,
        scale,
        time.perf_counter() - started,
        history.counts(),
    )
    return history


def _build(
    rng: np.random.Generator, scale: float, start_us: int, end_us: int
) -> DemoHistory:
    """Every table of one history, drawn from ``rng`` in a fixed order."""
    accounts = build_accounts(rng, _scaled(BASE_ACCOUNTS, scale), end_us)
    people = build_people(rng, accounts.team)
    fixes = plan_fixes(rng, start_us)
    esc = build_escalations(
        rng,
        size=_scaled(BASE_ESCALATIONS, scale),
        start_us=start_us,
        end_us=end_us,
        accounts=accounts,
        people=people,
        fixes=fixes,
    )
    level_change, final_owner, final_level = build_level_changes(rng, esc, people)
    signal, linked_counts = build_signals(
        rng,
        target=_scaled(BASE_SIGNALS, scale),
        start_us=start_us,
        end_us=end_us,
        esc=esc,
        accounts=accounts,
        people=people,
    )
    escalation = escalation_frame(
        rng,
        esc=esc,
        accounts=accounts,
        people=people,
        final_owner=final_owner,
        final_level=final_level,
        signal_counts=linked_counts,
    )
    process_fix, links, fix_truth = fix_frames(rng, fixes, esc, people)

    history = DemoHistory(
        team=team_frame(),
        account=accounts.frame,
        escalation=escalation,
        level_change=level_change,
        signal=signal,
        process_fix=process_fix,
        process_fix_escalation=links,
        fix_truth=fix_truth,
    )
    return history

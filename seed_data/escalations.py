"""Escalations: when they come, for whom, how late, and how they end."""

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from db.models import EscalationStatus, RaisedVia, Severity
from metrics.settings import DEFAULT_LATE_THRESHOLD_HOURS
from seed_data import vocab
from seed_data.arrays import (
    HISTORY_DAYS,
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    BoolArray,
    IntArray,
    pick,
    time_of_day,
)
from seed_data.book import Accounts, People
from seed_data.fix_plan import FixPlan
from seed_data.text import Family

SEVERITIES = tuple(member.value for member in Severity)
STATUSES = tuple(member.value for member in EscalationStatus)
RAISED_VIA = tuple(member.value for member in RaisedVia)
TRIGGER_CODES = tuple(trigger.code for trigger in vocab.TRIGGERS)

# Late escalations reach their owner through the back door more often.
_VIA_ON_TIME = (0.72, 0.20, 0.05, 0.03)
_VIA_LATE = (0.35, 0.33, 0.20, 0.12)
# Chance of 0, 1, 2 or 3 level changes by severity.
_LEVEL_CHANGE_COUNTS = {
    "critical": (0.20, 0.35, 0.30, 0.15),
    "high": (0.40, 0.33, 0.19, 0.08),
    "medium": (0.55, 0.28, 0.12, 0.05),
    "low": (0.65, 0.25, 0.08, 0.02),
}

# Shape of the gamma gaps between arrivals: 1 would be Poisson, higher is more
# regular (count variance over a window shrinks by this factor). At 4, one
# seed in fifty still had a busy type's eight weeks before a working fix fall
# so low that the cut could not be told from noise; at 8 none of 400 did.
ARRIVAL_REGULARITY = 8.0
# Median days from escalation to resolution; late ones take 1.6 times longer.
_RESOLVE_MEDIAN_DAYS = {"critical": 1.5, "high": 4.0, "medium": 9.0, "low": 16.0}
# What an escalation is about, per trigger type, in one flat list.
SUBJECTS = Family.of([trigger.subjects for trigger in vocab.TRIGGERS])
SUBJECT_TEXT = pl.Series(SUBJECTS.templates)
SUBJECT_CAP = pl.Series([s[0].upper() + s[1:] for s in SUBJECTS.templates])


@dataclass(frozen=True)
class Escalations:
    """Per-escalation arrays, in id order (row ``i`` has id ``i + 1``)."""

    escalated_us: IntArray
    first_us: IntArray
    resolved_us: IntArray  # -1 while unresolved
    trigger: IntArray
    account: IntArray
    struggling: BoolArray
    severity: IntArray
    late: BoolArray
    recurring: BoolArray
    via: IntArray
    status: IntArray
    changes: IntArray
    subject: IntArray
    contact: IntArray
    owners: npt.NDArray[np.int64]  # person per level, shape (rows, MAX_LEVEL)
    end_us: int

    @property
    def size(self) -> int:
        """Number of escalations."""
        return self.escalated_us.size

    def rows(self, part: slice) -> "Escalations":
        """The escalations of one slice of rows, every array sliced alike."""
        sliced = {
            field.name: getattr(self, field.name)[part]
            for field in dataclasses.fields(self)
            if field.name != "end_us"
        }
        return dataclasses.replace(self, **sliced)


def _escalation_times(
    rng: np.random.Generator, size: int, start_us: int, fixes: FixPlan
) -> tuple[IntArray, IntArray]:
    """Escalation times and trigger codes, from daily rates per trigger type.

    The rate of a trigger type grows gently over the two years, dips at
    weekends, and is multiplied by each working fix from its ship day on.
    Arrivals are a renewal process in rate-rescaled time with gamma gaps, not
    a Poisson one: day to day they still look random, but counts over weeks
    vary about a third as much, so that an eight-week before/after comparison
    sees a fix's designed effect at the demo size instead of noise.
    """
    days = np.arange(HISTORY_DAYS)
    weekday = (start_us // US_PER_DAY + days + 3) % 7  # 1970-01-01 was a Thursday
    daily = (1.0 + 0.25 * days / HISTORY_DAYS) * np.where(
        weekday == 5, 0.35, np.where(weekday == 6, 0.25, 1.0)
    )
    rates = np.array([trigger.share for trigger in vocab.TRIGGERS])[:, None] * daily
    for i in np.flatnonzero(fixes.built_to_work).tolist():
        ship_day = (fixes.shipped_us[i] - start_us) // US_PER_DAY
        rates[fixes.trigger[i], ship_day:] *= fixes.multiplier[i]

    per_trigger = rng.multinomial(size, rates.sum(axis=1) / rates.sum())
    edges = np.arange(HISTORY_DAYS + 1, dtype=np.float64)
    day_parts: list[IntArray] = []
    for t, count in enumerate(per_trigger.tolist()):
        cumulative = np.concatenate([[0.0], np.cumsum(rates[t])])
        gaps = rng.gamma(ARRIVAL_REGULARITY, 1.0 / ARRIVAL_REGULARITY, count + 1)
        position = np.cumsum(gaps)[:-1] / gaps.sum() * cumulative[-1]
        day_parts.append(np.interp(position, cumulative, edges).astype(np.int64))
    day = np.concatenate(day_parts)
    trigger = np.repeat(np.arange(per_trigger.size, dtype=np.int64), per_trigger)
    at = start_us + day * US_PER_DAY + time_of_day(rng, size)
    order = np.argsort(at, kind="stable")
    return at[order], trigger[order]


def _assign_accounts(
    rng: np.random.Generator, accounts: Accounts, at: IntArray, trigger: IntArray
) -> IntArray:
    """Account per escalation; a fifth repeat an account recently hit by the same
    trigger type, so that recurrences cluster the way they do in real books."""
    size = at.size
    probs = accounts.weight / accounts.weight.sum()
    account = rng.choice(accounts.weight.size, size, p=probs).astype(np.int64)
    by_trigger = np.lexsort((at, trigger))
    group_start = np.searchsorted(trigger[by_trigger], trigger[by_trigger])
    rank = np.arange(size) - group_start
    back = rng.integers(1, 4, size)
    repeat = (rng.random(size) < 0.2) & (rank >= back)
    source = by_trigger[np.where(repeat, np.arange(size) - back, np.arange(size))]
    copied = account.copy()
    copied[by_trigger] = account[source]
    return copied


def _recurring(
    account: IntArray, trigger: IntArray, at: IntArray, window_days: int = 90
) -> BoolArray:
    """Whether an earlier escalation of the same account and trigger is recent."""
    order = np.lexsort((at, trigger, account))
    same = np.zeros(at.size, dtype=bool)
    same[1:] = (account[order][1:] == account[order][:-1]) & (
        trigger[order][1:] == trigger[order][:-1]
    )
    gap = np.zeros(at.size, dtype=np.int64)
    gap[1:] = at[order][1:] - at[order][:-1]
    flag = same & (gap <= window_days * US_PER_DAY)
    result = np.empty(at.size, dtype=bool)
    result[order] = flag
    return result


def build_escalations(
    rng: np.random.Generator,
    *,
    size: int,
    start_us: int,
    end_us: int,
    accounts: Accounts,
    people: People,
    fixes: FixPlan,
) -> Escalations:
    """Times, accounts, severity, lateness, channel and outcome of escalations."""
    at, trigger = _escalation_times(rng, size, start_us, fixes)
    account = _assign_accounts(rng, accounts, at, trigger)
    team = accounts.team[account]
    recurring = _recurring(account, trigger, at)
    severity = pick(rng, np.array([t.severity for t in vocab.TRIGGERS]), trigger)

    # Lateness is concentrated in the struggling teams and late-prone trigger
    # types; latency is then drawn on the right side of the severity threshold.
    struggling_codes = [vocab.TEAMS.index(name) for name in vocab.STRUGGLING_TEAMS]
    struggling = np.isin(team, struggling_codes)
    late_prone = np.array([t.late_prone for t in vocab.TRIGGERS])[trigger]
    logit = (
        -2.3
        + 1.5 * struggling
        + 1.1 * late_prone
        + 0.4 * recurring
        - 0.3 * (severity == 0)
    )
    late = rng.random(size) < 1.0 / (1.0 + np.exp(-logit))
    threshold_hours = np.array(
        [DEFAULT_LATE_THRESHOLD_HOURS[name] for name in SEVERITIES]
    )[severity]
    late_factor = 1.02 + np.minimum(rng.exponential(0.9, size), 5.0)
    on_time_factor = np.clip(rng.beta(1.5, 3.0, size), 0.01, 0.97)
    latency_hours = threshold_hours * np.where(late, late_factor, on_time_factor)
    latency_us = np.maximum(
        (latency_hours * US_PER_HOUR).astype(np.int64), 10 * 60 * US_PER_SECOND
    )
    via = pick(rng, np.array([_VIA_ON_TIME, _VIA_LATE]), late.astype(np.int64))

    median_days = np.array([_RESOLVE_MEDIAN_DAYS[name] for name in SEVERITIES])[
        severity
    ] * np.where(late, 1.6, 1.0)
    duration_us = (median_days * rng.lognormal(0.0, 0.8, size) * US_PER_DAY).astype(
        np.int64
    ) + 30 * 60 * US_PER_SECOND
    resolved = at + duration_us
    # A few stay open long after they should have closed, as they do in real life.
    stuck = rng.random(size) < 0.015
    unresolved = (resolved > end_us) | stuck
    older = (end_us - at) > 14 * US_PER_DAY
    monitoring = rng.random(size) < np.where(older, 0.6, 0.3)
    status = np.where(
        unresolved,
        np.where(monitoring, STATUSES.index("monitoring"), STATUSES.index("open")),
        STATUSES.index("resolved"),
    ).astype(np.int64)

    change_probs = np.array([_LEVEL_CHANGE_COUNTS[name] for name in SEVERITIES])
    changes = pick(rng, change_probs, severity)
    changes = np.minimum(changes + (late & (rng.random(size) < 0.3)), 3)

    owners = np.stack(
        [
            people.csm_of_account[account],
            people.lead_of_account[account],
            people.director_of_team[team],
            people.vps[rng.integers(0, people.vps.size, size)],
        ],
        axis=1,
    )
    return Escalations(
        escalated_us=at,
        first_us=at - latency_us,
        resolved_us=np.where(unresolved, -1, resolved),
        trigger=trigger,
        account=account,
        struggling=struggling,
        severity=severity,
        late=late,
        recurring=recurring,
        via=via,
        status=status,
        changes=changes.astype(np.int64),
        subject=SUBJECTS.choose(rng, trigger),
        contact=3 * account + rng.integers(0, 3, size),
        owners=owners,
        end_us=end_us,
    )

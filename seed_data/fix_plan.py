"""The process fixes, planned first: the working ones shape escalation volume."""

import math
from dataclasses import dataclass

import numpy as np

from db.models import FixStatus, RootCause
from seed_data import vocab
from seed_data.arrays import (
    HISTORY_DAYS,
    US_PER_DAY,
    BoolArray,
    FloatArray,
    IntArray,
    pick,
    time_of_day,
)

# NOTE: the fix count does not grow with scale. Fixes are logged per trigger type
# in a weekly review, and their designed effects multiply a trigger type's
# volume; thousands of them on ten trigger types would mean nothing.
FIXES_PER_TRIGGER = 3

# Before/after windows used to judge a fix; ship dates leave room for both.
FIX_WINDOW_DAYS = 56
ROOT_CAUSES = tuple(member.value for member in RootCause)
# Working fixes go to trigger types at least this busy (six of them), and
# multiply their volume by a factor drawn from this range. At the demo size a
# busy type has 20-40 escalations in the eight weeks before a fix: cutting that
# to a fifth or a quarter clears an exact 95 % interval for every working fix
# (checked on 400 seeds and end dates); a milder cut or a quieter type does not.
BUSY_SHARE = 0.10
WORKING_FIXES = 6
WORKING_CUT = (0.20, 0.25)


@dataclass(frozen=True)
class FixPlan:
    """The process fixes planned before escalations, since they shape volume."""

    trigger: IntArray
    root_cause: IntArray
    status: list[str]
    logged_us: IntArray
    due_us: IntArray
    shipped_us: IntArray
    multiplier: FloatArray
    built_to_work: BoolArray


def plan_fixes(rng: np.random.Generator, start_us: int) -> FixPlan:
    """Three fixes per trigger type; some shipped fixes cut volume, some do not.

    Per trigger type: an early fix and a later one whose ship dates are far
    enough apart that their before/after windows never overlap, then a recent
    one still proposed, in progress or abandoned. On six of the busier trigger
    types one of the two shipped fixes is built to work (volume times 0.20-0.25
    from its ship date on); every other shipped fix leaves volume alone.
    """
    n_triggers = len(vocab.TRIGGERS)
    busy = [i for i, t in enumerate(vocab.TRIGGERS) if t.share >= BUSY_SHARE]
    working = set(
        rng.choice(busy, size=min(WORKING_FIXES, len(busy)), replace=False).tolist()
    )

    trigger: list[int] = []
    status: list[str] = []
    logged_day: list[float] = []
    shipped_day: list[float] = []
    multiplier: list[float] = []
    built: list[bool] = []
    for t in range(n_triggers):
        first_ship = rng.uniform(180, 330)
        second_ship = rng.uniform(first_ship + 2 * FIX_WINDOW_DAYS + 20, 660)
        which_works = int(rng.integers(0, 2)) if t in working else -1
        for k, ship in enumerate((first_ship, second_ship)):
            works = k == which_works
            trigger.append(t)
            logged_day.append(ship - rng.uniform(30, 100))
            if k == 1 and t not in working and rng.random() < 0.5:
                # Some later fixes on untouched trigger types never ship.
                status.append(
                    FixStatus.IN_PROGRESS.value
                    if rng.random() < 0.5
                    else FixStatus.ABANDONED.value
                )
                shipped_day.append(math.nan)
                multiplier.append(1.0)
                built.append(False)
                continue
            verified = rng.random() < (0.7 if works else 0.1)
            status.append(
                FixStatus.VERIFIED.value if verified else FixStatus.SHIPPED.value
            )
            shipped_day.append(ship)
            multiplier.append(float(rng.uniform(*WORKING_CUT)) if works else 1.0)
            built.append(works)
        trigger.append(t)
        logged_day.append(rng.uniform(560, HISTORY_DAYS - 5))
        status.append(
            str(
                rng.choice(
                    [
                        FixStatus.PROPOSED.value,
                        FixStatus.IN_PROGRESS.value,
                        FixStatus.ABANDONED.value,
                    ],
                    p=[0.45, 0.4, 0.15],
                )
            )
        )
        shipped_day.append(math.nan)
        multiplier.append(1.0)
        built.append(False)

    logged = np.array(logged_day)
    shipped = np.array(shipped_day)
    due = logged + rng.uniform(21, 90, logged.size)
    due[rng.random(logged.size) < 0.1] = math.nan
    late_prone = np.array([vocab.TRIGGERS[t].late_prone for t in trigger])
    # Late-prone trigger types are mostly fixed on ownership and triggers.
    cause_probs = np.where(
        late_prone[:, None],
        np.array([[0.3, 0.1, 0.05, 0.35, 0.1, 0.05, 0.03, 0.02]]),
        np.array([[0.15, 0.15, 0.15, 0.1, 0.15, 0.15, 0.1, 0.05]]),
    )
    root_cause = pick(rng, cause_probs, np.arange(logged.size))

    def micros(days: FloatArray) -> IntArray:
        """Day offsets from the start as working-hour times; NaN becomes -1."""
        whole = np.floor(np.nan_to_num(days)).astype(np.int64)
        at = start_us + whole * US_PER_DAY + time_of_day(rng, days.size)
        return np.where(np.isnan(days), -1, at).astype(np.int64)

    order = np.argsort(logged, kind="stable")
    return FixPlan(
        trigger=np.array(trigger, dtype=np.int64)[order],
        root_cause=root_cause[order],
        status=[status[i] for i in order.tolist()],
        logged_us=micros(logged)[order],
        due_us=micros(due)[order],
        shipped_us=micros(shipped)[order],
        multiplier=np.array(multiplier)[order],
        built_to_work=np.array(built)[order],
    )

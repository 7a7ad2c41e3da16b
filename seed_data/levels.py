"""Level changes: each move up or down, and which structural things it changed."""

import numpy as np
import polars as pl

from seed_data import phrases, vocab
from seed_data.arrays import (
    IntArray,
    names_or_null,
    numbers,
    utc,
    with_nulls,
)
from seed_data.book import People
from seed_data.escalations import SUBJECT_TEXT, Escalations
from seed_data.text import Family, Pool, render

# How often a (non-empty) move changes each structural thing.
_THING_CHANGE_RATE = {
    "owner": 0.75,
    "cadence": 0.60,
    "decision_rights": 0.45,
    "evidence_threshold": 0.35,
    "communication_path": 0.50,
}

# Values per level of the four things that are not people.
_LEVEL_VALUES = {
    "cadence": vocab.CADENCES,
    "decision_rights": vocab.DECISION_RIGHTS,
    "evidence_threshold": vocab.EVIDENCE_THRESHOLDS,
    "communication_path": vocab.COMMUNICATION_PATHS,
}


def build_level_changes(
    rng: np.random.Generator,
    esc: Escalations,
    people: People,
) -> tuple[pl.DataFrame, IntArray, IntArray]:
    """Level moves per escalation, the owner at the end and the final level.

    Moves are walked one step at a time across all escalations at once. Each
    move changes a random subset of the five structural things; some moves
    (more in struggling teams) change none of them, the pattern a leader
    wants to spot.
    """
    size = esc.size
    level = np.ones(size, dtype=np.int64)
    owner = esc.owners[:, 0].copy()
    values = {thing: rng.integers(0, 2, size) for thing in _LEVEL_VALUES}
    span_end = np.where(esc.resolved_us >= 0, esc.resolved_us, esc.end_us)
    span = span_end - esc.escalated_us
    theatre_rate = np.where(esc.struggling, 0.35, 0.15)

    steps: list[dict[str, IntArray]] = []
    for step in range(int(esc.changes.max(initial=0))):
        rows = np.flatnonzero(esc.changes > step)
        current = level[rows]
        up = (current == 1) | (
            (current < vocab.MAX_LEVEL) & (rng.random(rows.size) < 0.8)
        )
        to_level = np.where(up, current + 1, current - 1)
        fraction = (step + rng.random(rows.size)) / esc.changes[rows]
        at = esc.escalated_us[rows] + (span[rows] * fraction).astype(np.int64)

        theatre = rng.random(rows.size) < theatre_rate[rows]
        flags = {
            thing: ~theatre & (rng.random(rows.size) < rate)
            for thing, rate in _THING_CHANGE_RATE.items()
        }
        flags["owner"] |= ~theatre & ~np.any(np.stack(list(flags.values())), axis=0)

        record: dict[str, IntArray] = {
            "escalation": rows,
            "at": at,
            "from_level": current,
            "to_level": to_level,
        }
        new_owner = esc.owners[rows, to_level - 1]
        owner_changed = flags["owner"] & (new_owner != owner[rows])
        record["owner_before"] = np.where(owner_changed, owner[rows], -1)
        record["owner_after"] = np.where(owner_changed, new_owner, -1)
        owner[rows] = np.where(owner_changed, new_owner, owner[rows])

        for thing in _LEVEL_VALUES:
            variant = rng.integers(0, 2, rows.size)
            target = (to_level - 1) * 2 + variant
            now = values[thing][rows]
            target = np.where(target == now, (to_level - 1) * 2 + 1 - variant, target)
            changed = flags[thing]
            record[f"{thing}_before"] = np.where(changed, now, -1)
            record[f"{thing}_after"] = np.where(changed, target, -1)
            values[thing][rows] = np.where(changed, target, now)
        record["owner_now"] = owner[rows].copy()
        record["changed_any"] = (
            owner_changed
            | np.any(np.stack([flags[thing] for thing in _LEVEL_VALUES]), axis=0)
        ).astype(np.int64)
        level[rows] = to_level
        steps.append(record)

    if not steps:
        return _empty_level_changes(), owner, level
    merged = {key: np.concatenate([s[key] for s in steps]) for key in steps[0]}
    order = np.lexsort((merged["escalation"], merged["at"]))
    merged = {key: value[order] for key, value in merged.items()}
    return _level_change_frame(rng, merged, esc, people), owner, level


def _empty_level_changes() -> pl.DataFrame:
    """A level-change frame with no rows and the right columns."""
    schema: dict[str, pl.DataType] = {
        "id": pl.Int64(),
        "escalation_id": pl.Int64(),
        "at": pl.Datetime("us", "UTC"),
        "from_level": pl.Int64(),
        "to_level": pl.Int64(),
    }
    for thing in _THING_CHANGE_RATE:
        schema[f"{thing}_before"] = pl.String()
        schema[f"{thing}_after"] = pl.String()
    schema["note"] = pl.String()
    return pl.DataFrame(schema=schema)


def _level_change_frame(
    rng: np.random.Generator,
    moves: dict[str, IntArray],
    esc: Escalations,
    people: People,
) -> pl.DataFrame:
    """Frame of level changes from the merged move arrays, notes included."""
    size = moves["at"].size
    escalation = moves["escalation"]
    columns: dict[str, pl.Series] = {
        "id": pl.Series("id", np.arange(1, size + 1, dtype=np.int64)),
        "escalation_id": pl.Series("escalation_id", escalation + 1),
        "at": utc(moves["at"], "at"),
        "from_level": pl.Series("from_level", moves["from_level"]),
        "to_level": pl.Series("to_level", moves["to_level"]),
    }
    for side in ("before", "after"):
        key = f"owner_{side}"
        columns[key] = names_or_null(people.names, moves[key], key)
    for thing, levels in _LEVEL_VALUES.items():
        flat = pl.Series([value for pair in levels for value in pair])
        for side in ("before", "after"):
            key = f"{thing}_{side}"
            columns[key] = names_or_null(flat, moves[key], key)

    went_down = moves["to_level"] < moves["from_level"]
    group = np.where(moves["changed_any"] == 0, 2, np.where(went_down, 1, 0))
    notes = Family.of(phrases.LEVEL_NOTES)
    levels_text = numbers(vocab.MAX_LEVEL)
    note = render(
        notes.templates,
        notes.choose(rng, group),
        {
            "to_level": Pool(levels_text, moves["to_level"]),
            "from_level": Pool(levels_text, moves["from_level"]),
            "owner_now": Pool(people.names, moves["owner_now"]),
            "subject": Pool(SUBJECT_TEXT, esc.subject[escalation]),
            "contact": Pool(people.contact_names, esc.contact[escalation]),
        },
    )
    columns["note"] = with_nulls(note.rename("note"), rng.random(size) < 0.35)
    ordered = ["id", "escalation_id", "at", "from_level", "to_level"]
    for thing in _THING_CHANGE_RATE:
        ordered += [f"{thing}_before", f"{thing}_after"]
    ordered.append("note")
    return pl.DataFrame([columns[name] for name in ordered])

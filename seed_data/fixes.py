"""Process fix rows, the escalations each answers, and the designed effects."""

import numpy as np
import polars as pl

from seed_data import phrases, vocab
from seed_data.arrays import (
    US_PER_DAY,
    IntArray,
    utc,
    with_nulls,
)
from seed_data.book import People
from seed_data.escalations import TRIGGER_CODES, Escalations
from seed_data.fix_plan import ROOT_CAUSES, FixPlan


def fix_frames(
    rng: np.random.Generator, fixes: FixPlan, esc: Escalations, people: People
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Process fixes, the escalations each answers, and their designed effects."""
    size = fixes.trigger.size
    titles: list[str] = []
    effects: list[str | None] = []
    for i in range(size):
        trigger = vocab.TRIGGERS[int(fixes.trigger[i])]
        cause = ROOT_CAUSES[int(fixes.root_cause[i])]
        options = phrases.FIX_TITLES_BY_CAUSE[cause]
        title = options[int(rng.integers(0, len(options)))]
        titles.append(title.format(trigger_label=trigger.label))
        effect = phrases.FIX_EFFECTS[int(rng.integers(0, len(phrases.FIX_EFFECTS)))]
        pct = int(rng.integers(30, 61))
        missing = rng.random() < 0.15
        effects.append(
            None if missing else effect.format(trigger_label=trigger.label, pct=pct)
        )
    leaders = np.concatenate([people.director_of_team, people.vps])
    owner = leaders[rng.integers(0, leaders.size, size)]
    ids = np.arange(1, size + 1, dtype=np.int64)
    shipped = with_nulls(
        utc(np.maximum(fixes.shipped_us, 0), "shipped_at"), fixes.shipped_us < 0
    )
    process_fix = pl.DataFrame(
        [
            pl.Series("id", ids),
            pl.Series("title", titles, dtype=pl.String),
            pl.Series(TRIGGER_CODES).gather(fixes.trigger).rename("trigger_type"),
            pl.Series(ROOT_CAUSES).gather(fixes.root_cause).rename("root_cause"),
            people.names.gather(owner).rename("owner"),
            pl.Series("status", fixes.status, dtype=pl.String),
            utc(fixes.logged_us, "logged_at"),
            with_nulls(utc(np.maximum(fixes.due_us, 0), "due_at"), fixes.due_us < 0),
            shipped,
            pl.Series("expected_effect", effects, dtype=pl.String),
            pl.Series("version", np.ones(size, dtype=np.int64)),
            people.names.gather(owner).rename("author"),
            pl.Series(
                "abandon_reason",
                [
                    "Superseded by a wider change to the escalation policy."
                    if status == "abandoned"
                    else None
                    for status in fixes.status
                ],
                dtype=pl.String,
            ),
            pl.Series("updated_at", [None] * size, dtype=pl.Datetime("us", "UTC")),
            pl.Series("submission_token", [None] * size, dtype=pl.String),
            pl.Series("external_id", [f"FIX-{i:04d}" for i in ids], dtype=pl.String),
        ]
    )

    # Each fix answers a sample of the escalations of its trigger type that
    # came in during the four months before it was logged.
    fix_ids: list[IntArray] = []
    escalation_ids: list[IntArray] = []
    for i in range(size):
        window = (
            (esc.trigger == fixes.trigger[i])
            & (esc.escalated_us <= fixes.logged_us[i])
            & (esc.escalated_us > fixes.logged_us[i] - 120 * US_PER_DAY)
        )
        candidates = np.flatnonzero(window)
        chosen = candidates[rng.random(candidates.size) < 0.25]
        fix_ids.append(np.full(chosen.size, i + 1, dtype=np.int64))
        escalation_ids.append(chosen + 1)
    links = pl.DataFrame(
        {
            "fix_id": pl.Series(np.concatenate(fix_ids), dtype=pl.Int64),
            "escalation_id": pl.Series(np.concatenate(escalation_ids), dtype=pl.Int64),
        }
    )

    fix_truth = pl.DataFrame(
        [
            pl.Series("fix_id", ids),
            pl.Series(TRIGGER_CODES).gather(fixes.trigger).rename("trigger_type"),
            pl.Series("status", fixes.status, dtype=pl.String),
            shipped,
            pl.Series("volume_multiplier", fixes.multiplier),
            pl.Series("built_to_work", fixes.built_to_work),
        ]
    )
    return process_fix, links, fix_truth

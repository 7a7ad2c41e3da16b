"""Structural shift: whether moving an escalation up a level changed anything."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import polars as pl

from metrics.columns import (
    AFTER_SUFFIX,
    BEFORE_SUFFIX,
    CHANGED_SUFFIX,
    CHANGES_ANYTHING,
    IS_NOISE,
)
from metrics.rates import share_of_escalations
from metrics.schema import require_columns

STRUCTURAL_THINGS: Mapping[str, str] = MappingProxyType(
    {
        "owner": "owner",
        "cadence": "review cadence",
        "decision_rights": "decision rights",
        "evidence_threshold": "evidence threshold",
        "communication_path": "communication path",
    }
)
"""Column stem → what a person calls it; each stem has "_before" and "_after"."""

LEVEL_CHANGE_COLUMNS = tuple(
    f"{stem}{suffix}"
    for stem in STRUCTURAL_THINGS
    for suffix in (BEFORE_SUFFIX, AFTER_SUFFIX)
)
"""The before/after columns the structural shift metrics read."""


def _normalised(column: str) -> pl.Expr:
    """``column`` as text without surrounding whitespace; blank becomes null."""
    stripped = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(stripped != "").then(stripped).otherwise(None)


def thing_changed(stem: str) -> pl.Expr:
    """Whether ``<stem>_before`` and ``<stem>_after`` differ, named "<stem>_changed".

    Values are compared after stripping surrounding whitespace, with a blank
    value read as missing. Case matters. Missing on one side only is a
    change; missing on both sides, or equal on both, is not.
    """
    if stem not in STRUCTURAL_THINGS:
        message = (
            f"no structural thing called {stem!r}; "
            f"known things are {list(STRUCTURAL_THINGS)}"
        )
        raise ValueError(message)
    before = _normalised(f"{stem}{BEFORE_SUFFIX}")
    after = _normalised(f"{stem}{AFTER_SUFFIX}")
    # ne_missing treats null as a value: null vs null is equal, null vs text
    # is not, which is exactly "one side missing is a change".
    return before.ne_missing(after).alias(f"{stem}{CHANGED_SUFFIX}")


def changed_things() -> list[pl.Expr]:
    """One boolean "<thing>_changed" expression per structural thing, in order."""
    return [thing_changed(stem) for stem in STRUCTURAL_THINGS]


def changes_anything() -> pl.Expr:
    """Whether a level change changed at least one structural thing."""
    return pl.any_horizontal(changed_things()).alias(CHANGES_ANYTHING)


def is_noise() -> pl.Expr:
    """Whether a level change changed no structural thing at all."""
    return changes_anything().not_().alias(IS_NOISE)


def with_structural_changes(level_changes: pl.DataFrame) -> pl.DataFrame:
    """Add "<thing>_changed" for each thing, "changes_anything" and "is_noise".

    Every other column passes through and row order is kept.
    """
    require_columns(
        level_changes, LEVEL_CHANGE_COLUMNS, needed_by="with_structural_changes"
    )
    changed_names = [f"{stem}{CHANGED_SUFFIX}" for stem in STRUCTURAL_THINGS]
    return level_changes.with_columns(changed_things()).with_columns(
        pl.any_horizontal(changed_names).alias(CHANGES_ANYTHING),
        pl.any_horizontal(changed_names).not_().alias(IS_NOISE),
    )


def structural_shift_rate(level_changes: pl.DataFrame) -> dict[str, Any]:
    """Share of level changes that changed at least one structural thing.

    Returns a dict with "level_changes" (int, rows in ``level_changes``),
    "structural" (int, changes of at least one thing), "noise" (int, changes
    of nothing), "rate" (float, structural ÷ level_changes, None when there are
    none) and "changed" (dict of thing stem → how many level changes changed
    it, in the order of ``STRUCTURAL_THINGS``).

    Examples
    --------
    >>> level_changes = pl.DataFrame(
    ...     {
    ...         "owner_before": ["Dana", None, None, "Lee"],
    ...         "owner_after": ["Sam", None, None, "Lee "],
    ...         "cadence_before": [None, None, "weekly", None],
    ...         "cadence_after": [None, None, "daily", None],
    ...         "decision_rights_before": [None] * 4,
    ...         "decision_rights_after": [None] * 4,
    ...         "evidence_threshold_before": [None] * 4,
    ...         "evidence_threshold_after": [None] * 4,
    ...         "communication_path_before": [None] * 4,
    ...         "communication_path_after": [None] * 4,
    ...     }
    ... )
    >>> report = structural_shift_rate(level_changes)
    >>> report["structural"], report["noise"], report["rate"]
    (2, 2, 0.5)
    """
    require_columns(
        level_changes, LEVEL_CHANGE_COLUMNS, needed_by="structural_shift_rate"
    )
    flagged = with_structural_changes(level_changes.select(LEVEL_CHANGE_COLUMNS))
    changed_names = {stem: f"{stem}{CHANGED_SUFFIX}" for stem in STRUCTURAL_THINGS}
    row = flagged.select(
        pl.len().cast(pl.Int64).alias("level_changes"),
        pl.col(CHANGES_ANYTHING).sum().cast(pl.Int64).alias("structural"),
        pl.col(IS_NOISE).sum().cast(pl.Int64).alias("noise"),
        # The helper's "escalations" are level changes here: one per row.
        share_of_escalations(CHANGES_ANYTHING).alias("rate"),
        *[pl.col(name).sum().cast(pl.Int64) for name in changed_names.values()],
    ).row(0, named=True)
    return {
        "level_changes": int(row["level_changes"]),
        "structural": int(row["structural"]),
        "noise": int(row["noise"]),
        "rate": row["rate"],
        "changed": {stem: int(row[name]) for stem, name in changed_names.items()},
    }

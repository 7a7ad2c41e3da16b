"""Narrow an escalations frame to the dimensions a viewer chose."""

from collections.abc import Collection

import polars as pl


def filter_escalations(
    escalations: pl.DataFrame,
    *,
    segments: Collection[str] = (),
    teams: Collection[str] = (),
    trigger_types: Collection[str] = (),
    severities: Collection[str] = (),
) -> pl.DataFrame:
    """Keep rows matching every non-empty choice; an empty choice means all.

    Recurrence must already be worked out on the full history: filtering first
    would hide the earlier escalations that make a later one recur.
    """
    conditions = [
        pl.col(column).is_in(list(values))
        for column, values in (
            ("segment", segments),
            ("team", teams),
            ("trigger_type", trigger_types),
            ("severity", severities),
        )
        if values
    ]
    if not conditions:
        return escalations
    return escalations.filter(*conditions)

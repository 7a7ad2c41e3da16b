"""Share-of-escalations aggregations shared by the rate metrics."""

import polars as pl


def share_of_escalations(flag: str) -> pl.Expr:
    """Count of rows where boolean column ``flag`` is true, divided by all rows.

    The denominator is every row in the frame or group, so the rate reads as
    "out of all escalations". With no rows the rate is null rather than a
    division by zero.
    """
    return (
        pl.when(pl.len() > 0)
        .then(pl.col(flag).sum().cast(pl.Float64) / pl.len())
        .otherwise(None)
    )

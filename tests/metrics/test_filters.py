"""Dimension filters: an empty choice keeps everything, choices combine with AND."""

import polars as pl
import pytest

from metrics.filters import filter_escalations

FRAME = pl.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "segment": ["smb", "smb", "enterprise", "enterprise"],
        "team": ["Atlas", "Borealis", "Atlas", "Borealis"],
        "trigger_type": ["billing", "outage", "outage", "billing"],
        "severity": ["low", "high", "critical", "high"],
    }
)


@pytest.mark.parametrize(
    ("choices", "expected_ids"),
    [
        ({}, [1, 2, 3, 4]),
        ({"teams": ["Atlas"]}, [1, 3]),
        ({"teams": ["Atlas"], "trigger_types": ["outage"]}, [3]),
        ({"segments": ["smb"], "severities": ["high", "low"]}, [1, 2]),
        ({"teams": ["Nobody"]}, []),
    ],
)
def test_choices_combine(
    choices: dict[str, list[str]], expected_ids: list[int]
) -> None:
    result = filter_escalations(FRAME, **choices)

    assert result["id"].to_list() == expected_ids
    assert result.columns == FRAME.columns

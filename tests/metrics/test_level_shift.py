"""Structural shift: a level change counts when it changes at least one thing."""

from datetime import UTC, datetime

import polars as pl
import pytest

from metrics import (
    LEVEL_CHANGE_COLUMNS,
    STRUCTURAL_THINGS,
    structural_shift_rate,
    thing_changed,
    with_structural_changes,
)

STEMS = list(STRUCTURAL_THINGS)
CHANGED = [f"{stem}_changed" for stem in STEMS]


def _level_changes(*changes: dict[str, str | None]) -> pl.DataFrame:
    """Level changes with every before/after null unless given."""
    rows = [
        {
            "id": n + 1,
            "escalation_id": 10,
            "at": datetime(2024, 3, 1, n, tzinfo=UTC),
            "from_level": n + 1,
            "to_level": n + 2,
            **dict.fromkeys(LEVEL_CHANGE_COLUMNS),
            **change,
        }
        for n, change in enumerate(changes)
    ]
    return pl.DataFrame(
        rows,
        schema={
            "id": pl.Int64,
            "escalation_id": pl.Int64,
            "at": pl.Datetime("us", "UTC"),
            "from_level": pl.Int64,
            "to_level": pl.Int64,
            **dict.fromkeys(LEVEL_CHANGE_COLUMNS, pl.String),
        },
    )


def test_things_are_the_five_in_order() -> None:
    assert STEMS == [
        "owner",
        "cadence",
        "decision_rights",
        "evidence_threshold",
        "communication_path",
    ]
    assert LEVEL_CHANGE_COLUMNS[:2] == ("owner_before", "owner_after")


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        ("Dana", "Sam", True),
        (None, "Sam", True),  # an owner appears
        ("Dana", None, True),  # an owner goes away
        (None, None, False),  # both null: unchanged
        ("Dana", "Dana", False),  # equal non-null strings are noise
        ("Dana", " Dana\t", False),  # surrounding whitespace is ignored
        ("", None, False),  # blank reads as missing
        ("  ", "Sam", True),
        ("dana", "Dana", True),  # case matters
    ],
)
def test_a_thing_changes_when_before_and_after_differ(
    before: str | None, after: str | None, changed: bool
) -> None:
    frame = _level_changes({"owner_before": before, "owner_after": after})

    result = frame.select(thing_changed("owner"))

    assert result.columns == ["owner_changed"]
    assert result.item() is changed


def test_an_unknown_thing_is_refused() -> None:
    with pytest.raises(ValueError, match="'budget'"):
        thing_changed("budget")


def test_flags_are_added_per_thing_and_overall() -> None:
    frame = _level_changes(
        {"owner_before": "Dana", "owner_after": "Sam"},
        {"cadence_before": "weekly", "cadence_after": "weekly"},
        {
            "decision_rights_before": "team lead",
            "decision_rights_after": "VP",
            "communication_path_before": None,
            "communication_path_after": "exec channel",
        },
        {},
    )

    result = with_structural_changes(frame)

    assert result.columns == [*frame.columns, *CHANGED, "changes_anything", "is_noise"]
    assert result.select(CHANGED).rows() == [
        (True, False, False, False, False),
        (False, False, False, False, False),
        (False, False, True, False, True),
        (False, False, False, False, False),
    ]
    assert result["changes_anything"].to_list() == [True, False, True, False]
    assert result["is_noise"].to_list() == [False, True, False, True]


def test_rate_counts_structural_changes_out_of_all() -> None:
    frame = _level_changes(
        {"owner_before": "Dana", "owner_after": "Sam"},
        {"owner_before": "Dana", "owner_after": "Dana"},  # noise
        {"evidence_threshold_before": None, "evidence_threshold_after": "2 tickets"},
        {"owner_before": "Lee", "owner_after": "Kim", "cadence_after": "daily"},
        {},  # noise
    )

    report = structural_shift_rate(frame)

    # Structural: rows 1, 3 and 4, so 3 of 5 = 0.6. Owner changed in rows 1 and 4.
    assert report == {
        "level_changes": 5,
        "structural": 3,
        "noise": 2,
        "rate": 0.6,
        "changed": {
            "owner": 2,
            "cadence": 1,
            "decision_rights": 0,
            "evidence_threshold": 1,
            "communication_path": 0,
        },
    }


def test_rate_of_no_level_changes_is_empty() -> None:
    report = structural_shift_rate(_level_changes())

    assert report["level_changes"] == 0
    assert report["structural"] == 0
    assert report["noise"] == 0
    assert report["rate"] is None


def test_rate_names_a_missing_column() -> None:
    frame = _level_changes({}).drop("cadence_after")

    with pytest.raises(ValueError, match="cadence_after"):
        structural_shift_rate(frame)


def test_all_null_columns_of_dtype_null_are_unchanged() -> None:
    frame = pl.DataFrame({name: [None, None] for name in LEVEL_CHANGE_COLUMNS})

    report = structural_shift_rate(frame)

    assert (report["structural"], report["noise"], report["rate"]) == (0, 2, 0.0)

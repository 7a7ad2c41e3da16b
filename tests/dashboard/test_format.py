"""Small text helpers of the pages."""

import pytest

from dashboard.format import counted, plain


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0 accounts"),
        (1, "1 account"),
        (2, "2 accounts"),
        (12345, "12,345 accounts"),
    ],
)
def test_counted_says_one_in_the_singular_and_anything_else_in_the_plural(
    value: int, expected: str
) -> None:
    assert counted(value, "account") == expected


def test_counted_takes_an_irregular_plural() -> None:
    assert counted(3, "reply", "replies") == "3 replies"
    assert counted(1, "reply", "replies") == "1 reply"


def test_plain_escapes_each_character_a_markdown_link_is_made_of() -> None:
    assert plain("[a](b:c)") == r"\[a\]\(b\:c\)"

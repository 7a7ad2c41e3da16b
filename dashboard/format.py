"""Number, period and user-text formatting shared by every page."""

import html
from datetime import datetime, timedelta

MISSING = "—"


def hours(value: float | None, unit: str = "h") -> str:
    """Hours with one decimal; kept in hours so that deltas read the same way."""
    if value is None:
        return MISSING
    return f"{value:,.1f} {unit}"


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal."""
    if value is None:
        return MISSING
    return f"{value:.1%}"


def count(value: int | None) -> str:
    """An integer with thousands separators."""
    if value is None:
        return MISSING
    return f"{value:,}"


def counted(value: int, noun: str, plural: str | None = None) -> str:
    """``value`` with its noun, singular for exactly one: "1 account", "2 accounts"."""
    word = noun if value == 1 else (plural or f"{noun}s")
    return f"{value:,} {word}"


def period(start: datetime, end: datetime) -> str:
    """A half-open UTC window [start, end) as the inclusive days a person reads."""
    last_day = (end - timedelta(microseconds=1)).date()
    return f"{start.date():%d %b %Y} – {last_day:%d %b %Y}"


# Every ASCII character that can start Markdown, Streamlit's directives
# (":red[...]", ":material/x:", "$maths$") or HTML: links and images need "[",
# raw HTML "<", entities "&", bare links "://" and "www.", e-mail autolinks "@",
# setext headings "=". Markdown treats a backslash before any of them as the
# character itself, so escaping all of them can never lose text.
_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()<>#+-.!|~$:&@=")


def plain(text: str | None) -> str:
    """User text made safe to place inside Markdown: shown as typed, never parsed.

    Escapes every character Markdown or HTML could act on, so that a title such
    as ``[click](http://x)`` or ``<script>`` appears literally. Use it for every
    value from the database or the address bar that reaches ``st.markdown``,
    ``st.caption``, a heading, an alert, a metric or a ``help`` tooltip.
    Missing or blank text reads as a dash.
    """
    if text is None or not text.strip():
        return f"*{MISSING} missing*"
    escaped = "".join(
        f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text
    )
    # Each line keeps its break; its leading blanks go, since four of them would
    # turn the line into a code block that shows the escapes.
    lines = escaped.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "  \n".join(line.lstrip() for line in lines)


def chart_text(value: object) -> str:
    """User text made safe for a plotly label or hover: tags shown, never drawn.

    Plotly reads ``<a href>``, ``<b>`` and other tags in any text it draws, and
    turns entities back into characters after it has found the tags; escaping
    ``&``, ``<`` and ``>`` therefore shows the text exactly as typed.
    """
    return html.escape(str(value), quote=False)


def moment(value: datetime | None) -> str:
    """A UTC instant as day and minute."""
    if value is None:
        return MISSING
    return f"{value:%d %b %Y %H:%M}"


def day(value: datetime | None) -> str:
    """A UTC instant as its day."""
    if value is None:
        return MISSING
    return f"{value:%d %b %Y}"

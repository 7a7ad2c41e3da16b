"""The weekly repair-review pre-read: the agenda as Markdown or one HTML file.

Both renderers read the same parts, built once from an :class:`Agenda`; only the
markup differs. Everything that came from the database (titles, names, trigger
types) is escaped, so a hostile title shows as typed and never becomes a link,
an image or a script. The HTML file needs no network at all: styles are inline,
plotly.js is embedded once, and a Content-Security-Policy forbids every fetch.
"""

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from dashboard import format as fmt
from dashboard.charts import weekly_trend_figure
from metrics.agenda import DEFAULT_LOOKBACK_DAYS, Agenda
from metrics.settings import DEFAULT_SETTINGS

Kind = Literal["count", "hours", "share"]

_LATE_RULE = ", ".join(
    f"{severity} {hours:g} h"
    for severity, hours in DEFAULT_SETTINGS.late_threshold_hours.items()
)
_KPIS: tuple[tuple[str, str, Kind, str], ...] = (
    (
        "escalations",
        "Escalations",
        "count",
        "escalations handed to an owner during the period; more is not worse "
        "by itself, since raising risk early is the aim.",
    ),
    (
        "median_hours",
        "Median latency",
        "hours",
        "half of the escalations reached an owner within this time of the "
        "first weak signal (ticket, chat, call).",
    ),
    (
        "p90_hours",
        "p90 latency",
        "hours",
        "nine in ten escalations reached an owner within this time of the "
        "first weak signal.",
    ),
    (
        "late_rate",
        "Late rate",
        "share",
        "share of escalations whose latency went past the threshold for their "
        f"severity ({_LATE_RULE}).",
    ),
    (
        "recurrence_rate",
        "Recurrence rate",
        "share",
        "share of escalations whose account had one of the same trigger type "
        f"in the {DEFAULT_SETTINGS.recurrence_window_days} days before.",
    ),
)

# Characters that start inline Markdown (emphasis, code, links, images, raw
# HTML, entities, tables, strikethrough, maths). User text only ever sits inline,
# after a heading mark, a bullet or a cell bar, so block syntax such as "1." or
# "-" at the start of a line cannot arise, and digits stay readable. Brackets
# are escaped, so parentheses alone can never form a link and are left as is.
_MARKDOWN_ACTIVE = frozenset("\\`*_{}[]<>#!|&~$")
# GitHub-flavoured Markdown also links a bare "scheme://", "www." or e-mail
# address; escaping the one character its scanner keys on stops that too.
_BARE_LINK = re.compile(r"(?<=[a-z0-9]):(?=//)|(?<=www)\.|@", re.IGNORECASE)

# No fetch of any kind: the file must open the same on a laptop with no network.
_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:"
)
_STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: #1f2933; margin: 0; background: #f7f8fa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px;
  background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 6px; border-bottom: 1px solid #e4e7eb;
  padding-bottom: 4px; }
.meta { color: #52606d; padding-left: 18px; }
.lead { color: #3e4c59; }
.empty { color: #52606d; font-style: italic; }
table { border-collapse: collapse; width: 100%; font-size: 14px;
  margin: 8px 0; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 5px 8px; text-align: left;
  vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
strong.flag { color: #b42318; }
dl { font-size: 13px; color: #3e4c59; }
dt { font-weight: 600; float: left; margin-right: 6px; }
dd { margin: 0 0 4px; }
.chart { margin-top: 12px; }
"""


@dataclass(frozen=True)
class _Cell:
    """One table cell: plain text, optionally marked to stand out."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class _Table:
    """Headers, which columns hold numbers (right-aligned), and rows of cells."""

    headers: tuple[str, ...]
    numeric: tuple[bool, ...]
    rows: tuple[tuple[_Cell, ...], ...]


@dataclass(frozen=True)
class _Part:
    """One agenda part: what it lists, its table or why it is empty, definitions."""

    heading: str
    lead: str
    table: _Table | None
    empty: str
    notes: tuple[tuple[str, str], ...] = ()


def _text(value: Any) -> str:
    """A database value as one line of plain text; missing reads as a dash."""
    if value is None:
        return fmt.MISSING
    flat = " ".join(str(value).split())
    return flat or fmt.MISSING


def _days(value: float) -> str:
    return f"{value:,.1f} day" + ("" if abs(value) == 1 else "s")


def _figure(kind: Kind, value: Any) -> str:
    if kind == "count":
        return fmt.count(value)
    if kind == "hours":
        return fmt.hours(value)
    return fmt.percent(value)


def _change(kind: Kind, current: Any, previous: Any) -> str:
    if current is None or previous is None:
        return fmt.MISSING
    if kind == "count":
        return f"{current - previous:+,}"
    if kind == "hours":
        return f"{current - previous:+,.1f} h"
    return f"{(current - previous) * 100:+.1f} pts"


def _ratio(row: dict[str, Any]) -> str:
    """The rate ratio with its interval, such as ``0.52 (0.31–0.84)``."""
    lower, upper, ratio = row["lower"], row["upper"], row["ratio"]
    if lower is None or upper is None:
        return fmt.MISSING
    middle = fmt.MISSING if ratio is None else f"{ratio:.2f}"
    top = "∞" if upper == float("inf") else f"{upper:.2f}"
    return f"{middle} ({lower:.2f}–{top})"


def _table(
    headers: Sequence[tuple[str, bool]], rows: Iterable[Sequence[_Cell]]
) -> _Table | None:
    built = tuple(tuple(row) for row in rows)
    if not built:
        return None
    return _Table(
        headers=tuple(name for name, _ in headers),
        numeric=tuple(numeric for _, numeric in headers),
        rows=built,
    )


def _kpi_part(agenda: Agenda) -> _Part:
    rows = [
        (
            _Cell(label),
            _Cell(_figure(kind, agenda.kpis[key])),
            _Cell(_figure(kind, agenda.previous_kpis[key])),
            _Cell(_change(kind, agenda.kpis[key], agenda.previous_kpis[key])),
        )
        for key, label, kind, _ in _KPIS
    ]
    table = _table(
        [
            ("Figure", False),
            ("This period", True),
            ("Previous period", True),
            ("Change", True),
        ],
        rows,
    )
    return _Part(
        heading="1. Health this period against the previous period",
        lead=(
            "Each figure covers the escalations handed to an owner during the "
            "period; the previous period is just as long and ends where this one "
            "starts. Latency runs from the first weak signal to the escalation."
        ),
        table=table,
        empty="",
        notes=tuple((label, definition) for _, label, _, definition in _KPIS),
    )


def _unanswered_part(agenda: Agenda) -> _Part:
    rows = [
        (
            _Cell(_text(row["external_id"])),
            _Cell(_text(row["account_name"])),
            _Cell(_text(row["trigger_type"])),
            _Cell(_text(row["severity"])),
            _Cell(_text(row["team"])),
            _Cell(_text(row["owner"])),
            _Cell(fmt.moment(row["escalated_at"])),
            _Cell(fmt.hours(row["latency_hours"])),
            _Cell(
                fmt.hours(row["hours_beyond_threshold"])
                if row["is_late"]
                else "on time"
            ),
            _Cell(row["reason"], strong=bool(row["is_late"])),
        )
        for row in agenda.unanswered.iter_rows(named=True)
    ]
    table = _table(
        [
            ("Escalation", False),
            ("Account", False),
            ("Trigger type", False),
            ("Severity", False),
            ("Team", False),
            ("Owner", False),
            ("Escalated (UTC)", False),
            ("Latency", True),
            ("Past threshold by", True),
            ("Listed because", False),
        ],
        rows,
    )
    counts = agenda.counts
    in_all = _n(counts["escalations"], "escalation", "escalations")
    if counts["escalations"] == 0:
        empty = "No escalations in this period, so none was late or recurring."
    elif counts["late_or_recurring"] == 0:
        empty = f"No escalation in this period ({in_all} in all) was late or recurring."
    else:
        empty = (
            "Every late or recurring escalation in this period "
            f"({fmt.count(counts['late_or_recurring'])}) is linked to a fix that is "
            "not abandoned."
        )
    return _Part(
        heading="2. Late and recurring escalations no fix answers yet",
        lead=(
            "Escalations in the period that came late or came back within "
            f"{DEFAULT_SETTINGS.recurrence_window_days} days, and that are linked "
            "to no fix, or only to abandoned ones. Late first, most overdue first."
        ),
        table=table,
        empty=empty,
    )


def _due_part(agenda: Agenda) -> _Part:
    days = agenda.settings.due_soon_days
    horizon = agenda.as_of + timedelta(days=days)

    def when(row: dict[str, Any]) -> _Cell:
        if row["overdue"]:
            return _Cell(f"OVERDUE by {_days(row['days_overdue'])}", strong=True)
        if row["days_overdue"] == 0:
            return _Cell("due now")
        return _Cell(f"due in {_days(-row['days_overdue'])}")

    rows = [
        (
            _Cell(str(row["id"])),
            _Cell(_text(row["title"])),
            _Cell(_text(row["trigger_type"])),
            _Cell(_text(row["owner"])),
            _Cell(_text(row["status"])),
            _Cell(fmt.day(row["due_at"])),
            when(row),
        )
        for row in agenda.due.iter_rows(named=True)
    ]
    table = _table(
        [
            ("Fix", True),
            ("Title", False),
            ("Trigger type", False),
            ("Owner", False),
            ("Status", False),
            ("Due", False),
            ("When", False),
        ],
        rows,
    )
    return _Part(
        heading="3. Fixes due or overdue",
        lead=(
            "Open fixes (proposed or in progress) that are overdue or due before "
            f"{fmt.moment(horizon)} UTC, the next {days} days. Overdue first, "
            "then the soonest due. Open fixes without a due date are not listed."
        ),
        table=table,
        empty=f"No fix is due in the next {days} days, and none is overdue.",
    )


def _judge_part(agenda: Agenda) -> _Part:
    impact = agenda.settings.fix_impact
    weeks = impact.window_weeks
    rows = [
        (
            _Cell(str(row["fix_id"])),
            _Cell(_text(row["title"])),
            _Cell(_text(row["trigger_type"])),
            _Cell(_text(row["owner"])),
            _Cell(fmt.day(row["shipped_at"])),
            _Cell(fmt.count(row["before"])),
            _Cell(fmt.count(row["after"])),
            _Cell(_ratio(row)),
            _Cell(row["verdict"]),
            _Cell(_days(row["days_waiting"])),
        )
        for row in agenda.to_judge.iter_rows(named=True)
    ]
    table = _table(
        [
            ("Fix", True),
            ("Title", False),
            ("Trigger type", False),
            ("Owner", False),
            ("Shipped", False),
            ("Before", True),
            ("After", True),
            (f"Ratio ({impact.confidence:.0%} interval)", True),
            ("Verdict", False),
            ("Judgeable for", True),
        ],
        rows,
    )
    return _Part(
        heading="4. Shipped fixes whose effect can now be judged",
        lead=(
            f"Fixes marked shipped whose {weeks}-week after window has ended: "
            f"escalations of the fix's trigger type in the {weeks} weeks before "
            "and after it shipped. A ratio below 1 means fewer; the verdict says "
            "whether the interval rules out chance. Mark each verified, or decide "
            "what comes next."
        ),
        table=table,
        empty=f"No shipped fix has finished its {weeks}-week after window yet.",
    )


def _early_part(agenda: Agenda) -> _Part:
    share = agenda.settings.early_share
    rows = [
        (
            _Cell(_text(row["external_id"])),
            _Cell(_text(row["account_name"])),
            _Cell(_text(row["trigger_type"])),
            _Cell(_text(row["severity"])),
            _Cell(_text(row["team"])),
            _Cell(_text(row["owner"])),
            _Cell(_text(row["raised_via"])),
            _Cell(fmt.hours(row["latency_hours"])),
            _Cell(fmt.hours(row["threshold_hours"])),
            _Cell(fmt.percent(row["share_of_threshold"])),
        )
        for row in agenda.early.iter_rows(named=True)
    ]
    table = _table(
        [
            ("Escalation", False),
            ("Account", False),
            ("Trigger type", False),
            ("Severity", False),
            ("Team", False),
            ("Owner", False),
            ("Raised via", False),
            ("Latency", True),
            ("Threshold", True),
            ("Share of threshold", True),
        ],
        rows,
    )
    escalations = agenda.counts["escalations"]
    if escalations == 0:
        empty = "No escalations in this period, so none to recognise."
    else:
        in_all = _n(escalations, "escalation", "escalations")
        empty = (
            f"No escalation in this period ({in_all} in all) reached an owner "
            f"within {share:.0%} of its threshold."
        )
    return _Part(
        heading="5. Early escalations worth recognising",
        lead=(
            f"Escalations in the period that reached an owner within {share:.0%} "
            "of their severity's late threshold: the habit the review wants more "
            "of. Quickest first."
        ),
        table=table,
        empty=empty,
    )


def _parts(agenda: Agenda) -> list[_Part]:
    return [
        _kpi_part(agenda),
        _unanswered_part(agenda),
        _due_part(agenda),
        _judge_part(agenda),
        _early_part(agenda),
    ]


def _span(start: datetime, end: datetime) -> str:
    if start == end:
        return f"none: it starts and ends at {fmt.moment(start)} UTC"
    return f"{fmt.moment(start)} – {fmt.moment(end)} UTC, end excluded"


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _basis(agenda: Agenda) -> str:
    """Why the period is what it is, in words."""
    start, end = agenda.period
    review = agenda.last_review_on
    if (
        end - start == timedelta(weeks=1)
        and start == _midnight(start.date())
        and start.weekday() == 0
    ):
        year, week, _ = start.isocalendar()
        return f"ISO week {year}-W{week:02d}"
    if (
        review is not None
        and end == agenda.as_of
        and start in (_midnight(review), agenda.as_of)
    ):
        return f"since the review of {review:%d %b %Y}"
    if review is None and agenda.period == (
        agenda.as_of - timedelta(days=DEFAULT_LOOKBACK_DAYS),
        agenda.as_of,
    ):
        return (
            f"the last {DEFAULT_LOOKBACK_DAYS} days, as no review has been recorded yet"
        )
    return "the period asked for"


def _n(count: int, singular: str, plural: str) -> str:
    return f"{fmt.count(count)} {singular if count == 1 else plural}"


def _summary(agenda: Agenda) -> str:
    counts = agenda.counts
    still_due = counts["due"] - counts["overdue"]
    pieces = [
        _n(counts["escalations"], "escalation", "escalations"),
        _n(counts["unanswered"], "late or recurring one", "late or recurring ones")
        + " with no fix yet",
        _n(counts["overdue"], "fix", "fixes")
        + f" overdue and {fmt.count(still_due)} more due within "
        + f"{agenda.settings.due_soon_days} days",
        _n(counts["to_judge"], "shipped fix", "shipped fixes") + " to judge",
        _n(counts["early"], "early escalation", "early escalations") + " to recognise",
    ]
    return "; ".join(pieces) + "."


def _meta(agenda: Agenda, generated_at: datetime) -> list[tuple[str, str]]:
    return [
        ("Period", f"{_span(*agenda.period)}: {_basis(agenda)}."),
        (
            "Compared with",
            f"{_span(*agenda.previous_period)}, the period just before.",
        ),
        (
            "Judged at",
            f"{fmt.moment(agenda.as_of)} UTC, for due dates and fix windows.",
        ),
        ("Generated", f"{fmt.moment(generated_at.astimezone(UTC))} UTC."),
        ("At a glance", _summary(agenda)),
    ]


# Markdown


def markdown_text(text: str) -> str:
    r"""Text shown exactly as typed inside Markdown: on one line, nothing parsed.

    Examples
    --------
    >>> print(markdown_text("[click](http://evil) <b>*now*</b>"))
    \[click\](http\://evil) \<b\>\*now\*\</b\>
    """
    flat = " ".join(text.split())
    escaped = "".join(
        f"\\{char}" if char in _MARKDOWN_ACTIVE else char for char in flat
    )
    return _BARE_LINK.sub(lambda found: f"\\{found.group(0)}", escaped)


def _markdown_table(table: _Table) -> list[str]:
    def line(cells: Iterable[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    lines = [
        line(markdown_text(header) for header in table.headers),
        line("---:" if numeric else "---" for numeric in table.numeric),
    ]
    for row in table.rows:
        lines.append(
            line(
                f"**{markdown_text(cell.text)}**"
                if cell.strong
                else markdown_text(cell.text)
                for cell in row
            )
        )
    return lines


def render_markdown(agenda: Agenda, *, title: str, generated_at: datetime) -> str:
    """The pre-read as Markdown: a header, then the five agenda parts with tables.

    Every part says plainly why it is empty when it is. All text that came from
    the database is escaped with :func:`markdown_text`.
    """
    lines = [f"# {markdown_text(title)}", ""]
    lines += [
        f"- **{label}:** {markdown_text(value)}"
        for label, value in _meta(agenda, generated_at)
    ]
    for part in _parts(agenda):
        lines += ["", f"## {markdown_text(part.heading)}", "", markdown_text(part.lead)]
        lines.append("")
        if part.table is None:
            lines.append(f"_{markdown_text(part.empty)}_")
        else:
            lines += _markdown_table(part.table)
        if part.notes:
            lines.append("")
            lines += [
                f"- **{markdown_text(term)}**: {markdown_text(meaning)}"
                for term, meaning in part.notes
            ]
    return "\n".join(lines) + "\n"


# HTML


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _html_table(table: _Table) -> str:
    def cell(tag: str, content: str, numeric: bool) -> str:
        css = ' class="num"' if numeric else ""
        return f"<{tag}{css}>{content}</{tag}>"

    head = "".join(
        cell("th", _escape(header), numeric)
        for header, numeric in zip(table.headers, table.numeric, strict=True)
    )
    body = []
    for row in table.rows:
        cells = []
        for value, numeric in zip(row, table.numeric, strict=True):
            content = _escape(value.text)
            if value.strong:
                content = f'<strong class="flag">{content}</strong>'
            cells.append(cell("td", content, numeric))
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def figures_html(figures: Sequence[tuple[str, go.Figure]]) -> list[str]:
    """Each (element id, figure) as an HTML fragment; plotly.js goes in the first.

    The library is embedded inline once; later figures reuse it. The plotly logo
    link in the mode bar is switched off, so the page holds no outside link.
    """
    return [
        pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=index == 0,
            div_id=element_id,
            config={"displaylogo": False, "responsive": True},
        )
        for index, (element_id, figure) in enumerate(figures)
    ]


def render_html(
    agenda: Agenda, *, title: str, generated_at: datetime, weekly: pl.DataFrame
) -> str:
    """The pre-read as one self-contained HTML file, with the weekly trend chart.

    Parameters
    ----------
    agenda
        The agenda to render.
    title
        The page title; escaped like everything else.
    generated_at
        When the pre-read was made, shown in its header.
    weekly
        :func:`metrics.volume.weekly_volume` for the weeks the chart shows:
        week_start, escalations, late and late_rate.
    """
    weeks: list[date] = weekly.get_column("week_start").sort().to_list()
    chart_span = (
        f"the week of {weeks[0]:%d %b %Y} to the week of {weeks[-1]:%d %b %Y}"
        if weeks
        else "no weeks at all"
    )
    (chart,) = figures_html([("weekly-trend", weekly_trend_figure(weekly))])

    sections = []
    for number, part in enumerate(_parts(agenda)):
        pieces = [f"<h2>{_escape(part.heading)}</h2>"]
        pieces.append(f'<p class="lead">{_escape(part.lead)}</p>')
        if part.table is None:
            pieces.append(f'<p class="empty">{_escape(part.empty)}</p>')
        else:
            pieces.append(_html_table(part.table))
        if part.notes:
            pieces.append(
                "<dl>"
                + "".join(
                    f"<dt>{_escape(term)}:</dt><dd>{_escape(meaning)}</dd>"
                    for term, meaning in part.notes
                )
                + "</dl>"
            )
        if number == 0:
            pieces.append(
                '<div class="chart"><p class="lead">Escalations per ISO week '
                f"(Monday start, UTC) and the share that came late, from "
                f"{_escape(chart_span)}.</p>{chart}</div>"
            )
        sections.append(f"<section>{''.join(pieces)}</section>")

    meta = "".join(
        f"<li><strong>{_escape(label)}:</strong> {_escape(value)}</li>"
        for label, value in _meta(agenda, generated_at)
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>{_escape(title)}</h1>
<ul class="meta">{meta}</ul>
{"".join(sections)}
</main>
</body>
</html>
"""

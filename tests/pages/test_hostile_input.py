"""Hostile text in every field reaches every page as text, never as markup.

Rows are seeded with titles, names, notes, packets and signal texts that would
run a script, load an image or plant a link if any page passed them to Markdown
or to plotly unescaped, plus one 100,000-character string. Each page is run
with AppTest and every string it hands to the browser is inspected:

- Markdown contexts (markdown, captions, headings, alerts, metrics, labels,
  help tooltips): once Markdown's backslash escapes are taken out, no tag, no
  ``](``, no ``![`` and no bare ``http:`` or ``www.`` may remain;
- plotly figures, which draw ``<a href>``, ``<b>`` and other tags in any text:
  no raw tag may appear in any string of the figure;
- and each hostile text must still be visible, as typed, somewhere on the page.
"""

import html
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import polars as pl
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from dashboard.charts import breakdown_figure
from dashboard.cli import report_text
from db.fixes import (
    FixInput,
    ReviewInput,
    change_fix_status,
    create_fix,
    record_review,
)
from db.version import read_data_version
from tests.factories import account, escalation, fix, level_change, signal, write

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[click](http://evil.example)"
IMAGE = "![x](http://evil.example/x.png)"
# Plotly turns this one into a live link wherever it draws text.
ANCHOR = '<a href="http://evil.example">open</a>'
HOSTILE = (SCRIPT, IMG, LINK, IMAGE, ANCHOR)
_UNIT = "<b>bold</b> [more](http://evil.example) ![i](http://evil.example/i.png) "
# Exactly 100,000 characters, ending in a full stop so that trimming keeps them.
LONG = (_UNIT * (100_000 // len(_UNIT) + 1))[:99_999] + "."

NOW = datetime.now(UTC)

# In Markdown, a backslash before ASCII punctuation makes it a plain character.
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_LIVE_MARKDOWN = re.compile(
    r"<\s*/?\s*(?:script|img|a|b|iframe|svg)\b|\]\(|!\[|https?:|www\.",
    re.IGNORECASE,
)
_LIVE_TAG = re.compile(r"<\s*/?\s*(?:script|img|a|b|iframe|svg)\b", re.IGNORECASE)
# Proto fields whose text the browser shows as it is (options of a select box,
# a widget's value) or that are not text for people at all.
_PLAIN_FIELDS = {
    "options",
    "default",
    "value",
    "raw_value",
    "raw_values",
    "placeholder",
    "autocomplete",
    "id",
    "form_id",
    "query_param_key",
}
_PLAIN_ELEMENTS = {"text", "code"}


def unescaped(markdown: str) -> str:
    """What Markdown shows of ``markdown``'s characters: escapes taken out."""
    return _ESCAPED.sub(r"\1", markdown)


def live(markdown: str) -> str:
    """``markdown`` with every escaped character blanked: what Markdown acts on."""
    return _ESCAPED.sub("\x00", markdown)


def _strings(message: Message) -> Iterator[tuple[str, str]]:
    """(field name, text) of every string inside a proto message."""
    for descriptor, value in message.ListFields():
        if descriptor.type not in {
            FieldDescriptor.TYPE_MESSAGE,
            FieldDescriptor.TYPE_STRING,
        }:
            continue
        # A repeated field comes as a container of its items.
        items = [value] if isinstance(value, Message | str) else list(value)
        for item in items:
            if isinstance(item, Message):
                yield from _strings(item)
            else:
                yield descriptor.name, item


def _nodes(page: AppTest) -> Iterator[Any]:
    """Every element and block of the page, main area and sidebar."""
    stack: list[Any] = [page.main, page.sidebar]
    while stack:
        node = stack.pop()
        yield node
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            stack.extend(children.values())


def _chart_strings(spec: str) -> Iterator[str]:
    def walk(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    return walk(json.loads(spec))


def inspect(page: AppTest) -> list[str]:
    """Check every string the page sends; return what a person can read.

    Fails on live markup in a Markdown context or a raw tag in a figure.
    """
    assert not page.exception, page.exception
    problems: list[str] = []
    shown: list[str] = []
    for node in _nodes(page):
        kind = getattr(node, "type", "")
        if kind == "dataframe":
            frame = node.value
            shown += [str(cell) for cell in frame.to_numpy().ravel()]
            shown += [str(column) for column in frame.columns]
            continue
        proto = getattr(node, "proto", None)
        if not isinstance(proto, Message):
            continue
        for field, value in _strings(proto):
            if kind == "plotly_chart" and field == "spec":
                for piece in _chart_strings(value):
                    if _LIVE_TAG.search(piece):
                        problems.append(f"figure: {piece[:120]!r}")
                    shown.append(html.unescape(piece))
            elif kind in _PLAIN_ELEMENTS or field in _PLAIN_FIELDS:
                shown.append(value)
            else:
                if _LIVE_MARKDOWN.search(live(value)):
                    problems.append(f"{kind}.{field}: {value[:120]!r}")
                shown.append(unescaped(value))
    assert problems == []
    return shown


def visible(shown: list[str], *texts: str) -> None:
    """Each of ``texts`` appears, as typed, in something the page shows."""
    missing = [t[:60] for t in texts if not any(t in piece for piece in shown)]
    assert missing == []


@pytest.fixture
def hostile(sqlite_engine: Engine) -> dict[str, int]:
    """A history whose every free-text field holds hostile text."""
    first, second = write(
        sqlite_engine,
        account(name=SCRIPT, team=LINK, segment=IMG, region=IMAGE),
        account(name=IMG, team=ANCHOR, segment="smb"),
    )
    late, early, other = write(
        sqlite_engine,
        # Late (30 h against 24 h) and a repeat of the one below: on the agenda.
        escalation(
            first,
            NOW - timedelta(days=3),
            30,
            severity="critical",
            external_id=f"E1 {IMG}",
            owner=LINK,
            raised_by=SCRIPT,
            risk=LONG,
            evidence=SCRIPT,
            options=IMG,
            decision_needed=LINK,
            next_owner=IMAGE,
            consequence_if_unchanged=ANCHOR,
            exit_evidence=IMAGE,
        ),
        # 2 h against 24 h: early. Its owner has no late escalation.
        escalation(
            first, NOW - timedelta(days=10), 2, severity="critical", owner=IMAGE
        ),
        escalation(
            second,
            NOW - timedelta(days=5),
            200,
            severity="medium",
            owner=SCRIPT,
            trigger_type="billing_dispute",
        ),
    )
    write(
        sqlite_engine,
        signal(first, late, NOW - timedelta(days=4), text=IMG, author=LINK),
        signal(
            first,
            late,
            NOW - timedelta(days=4, hours=1),
            text=ANCHOR,
            tone="frustrated",
        ),
        signal(
            first,
            late,
            NOW - timedelta(days=4, hours=2),
            text=LONG,
            tone="exit_seeking",
        ),
        level_change(
            late,
            NOW - timedelta(days=2),
            1,
            2,
            owner_before=SCRIPT,
            owner_after=IMG,
            note=LINK,
        ),
        level_change(late, NOW - timedelta(days=1), 2, 3, note=LONG),
        # Shipped ten weeks ago: its eight-week after-window is over.
        fix(
            "outage_impact",
            NOW - timedelta(weeks=10),
            title=LINK,
            owner=IMAGE,
            expected_effect=LONG,
            author=IMG,
            logged_at=NOW - timedelta(weeks=12),
        ),
    )
    due = create_fix(
        engine=sqlite_engine,
        data=fix_input("due", title=SCRIPT, owner=ANCHOR, expected_effect=IMG),
        now=NOW - timedelta(days=1),
    )
    dropped = create_fix(
        engine=sqlite_engine,
        data=fix_input("dropped", title=IMAGE, owner=SCRIPT, author=LINK),
        now=NOW - timedelta(days=1),
    )
    change_fix_status(
        engine=sqlite_engine,
        fix_id=dropped,
        new_status="abandoned",
        reason=IMAGE,
        author=ANCHOR,
        now=NOW - timedelta(hours=1),
        expected_version=1,
    )
    record_review(
        engine=sqlite_engine,
        data=ReviewInput(
            held_on=(NOW - timedelta(days=15)).date(),
            attendees=SCRIPT,
            decisions=LINK,
            notes=IMG,
            author=IMAGE,
            token="review",
        ),
        now=NOW - timedelta(days=15),
    )
    return {
        "late": late,
        "early": early,
        "other": other,
        "due": due,
        "dropped": dropped,
    }


def fix_input(token: str, **fields: Any) -> FixInput:
    values: dict[str, Any] = {
        "title": "Page the duty manager",
        "trigger_type": "outage_impact",
        "root_cause": "unclear_trigger",
        "owner": "Dana Okafor",
        "due_on": (NOW + timedelta(days=5)).date(),
        "expected_effect": None,
        "escalation_ids": (),
        "author": "Ana Lima",
        "token": token,
    }
    values.update(fields)
    return FixInput(**values)


def open_page(page: AppTest, script: str) -> AppTest:
    page.run()
    page.switch_page(f"../pages/{script}").run()
    assert not page.exception, page.exception
    return page


# Pages


def test_overview_names_a_hostile_team_filter_as_text(
    hostile: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_page(app_for(sqlite_engine), "overview.py")
    page.multiselect(key="team").set_value([LINK]).run()
    page.multiselect(key="segment").set_value([IMG]).run()

    shown = inspect(page)

    visible(shown, LINK, IMG)
    assert any(f"team: {LINK}" in piece for piece in shown)


def test_late_escalations_draw_hostile_names_as_text(
    hostile: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_page(app_for(sqlite_engine), "late_escalations.py")
    visible(inspect(page), LINK, ANCHOR, SCRIPT, IMG)  # teams, accounts

    page.get_by_key("by").set_value("owner").run()  # type: ignore[union-attr]
    # Her only escalation was early, so the focus finds nothing late.
    page.selectbox(key="focus").set_value(IMAGE).run()

    shown = inspect(page)
    visible(shown, LINK, IMAGE, SCRIPT)
    assert any(f"No late escalations for {IMAGE} in" in piece for piece in shown)


def test_the_escalation_page_shows_every_hostile_field_as_text(
    hostile: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = app_for(sqlite_engine)
    page.query_params["id"] = str(hostile["late"])

    shown = inspect(open_page(page, "escalation.py"))

    assert unescaped(page.title[0].value) == f"E1 {IMG} · {SCRIPT}"
    assert f"**Risk:** {LONG}" in [unescaped(m.value) for m in page.markdown]
    visible(shown, *HOSTILE)
    # Signal texts reach the timeline's hover cut to 140 characters.
    visible(shown, LONG[:140])


def test_a_hostile_escalation_id_in_the_address_is_shown_as_text(
    hostile: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = app_for(sqlite_engine)
    address = f"`{IMG}"
    page.query_params["id"] = address

    shown = inspect(open_page(page, "escalation.py"))

    visible(shown, f"id={address} in the address is not an escalation id.")


def test_recurrence_names_a_hostile_account_as_text(
    hostile: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_page(app_for(sqlite_engine), "recurrence.py")
    page.session_state["repeat_accounts"] = {
        "selection": {"rows": [0], "columns": [], "cells": []}
    }
    page.run()

    shown = inspect(page)

    visible(shown, f"Chain of outage_impact at {SCRIPT}")


@pytest.mark.parametrize("chosen", ["due", "dropped", "shipped"])
def test_the_repair_review_shows_hostile_fixes_as_text(
    chosen: str,
    hostile: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    # The shipped fix was written first, so it is fix 1.
    fix_id = 1 if chosen == "shipped" else hostile[chosen]
    page = app_for(sqlite_engine)
    page.query_params["fix"] = str(fix_id)
    open_page(page, "repair_review.py")
    page.selectbox(key="fix").set_value(fix_id).run()

    shown = inspect(page)

    # Agenda: the late escalation's id, account, team and owner; the fix due.
    visible(shown, f"E1 {IMG}", SCRIPT, LINK, ANCHOR)
    owner = {"due": ANCHOR, "dropped": SCRIPT, "shipped": IMAGE}[chosen]
    assert {unescaped(m.value) for m in page.metric if m.label == "Owner"} == {owner}
    if chosen == "dropped":
        visible(shown, f"**Abandoned because:** {IMAGE}")
    if chosen == "shipped":
        visible(shown, f"**Expected effect:** {LONG}")


def test_fix_impact_cards_show_hostile_titles_as_text(
    hostile: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_page(app_for(sqlite_engine), "fix_impact.py")
    page.selectbox(key="fix_type").set_value("outage_impact").run()

    shown = inspect(page)

    visible(shown, f"#1 {LINK}** · owner {IMAGE}", SCRIPT, ANCHOR)


def test_the_data_page_previews_a_hostile_file_as_text_and_refuses_it(
    sqlite_engine: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    header = "escalation_id,account_id,account_name,trigger_type,severity,"
    header += "first_signal_at,escalated_at,owner\n"
    rows = "".join(
        f'E-{n},A-1,"{value.replace(chr(34), chr(34) * 2)}",outage,high,'
        f"2026-03-01T10:00:00Z,2026-03-01T12:00:00Z,{LINK}\n"
        for n, value in enumerate((*HOSTILE, LONG))
    )
    page = open_page(app_for(sqlite_engine), "data.py")
    page.selectbox(key="import_kind").set_value("escalations")
    page.file_uploader[0].set_value(
        (f"{IMG}.csv", (header + rows).encode(), "text/csv")
    )
    page.run()

    shown = inspect(page)

    visible(shown, f"{IMG}.csv: 6 rows, 8 columns. First rows:", *HOSTILE, LONG)
    problems = page.dataframe[1].value
    # Row 6 holds the 100,000-character account name; NAME_MAX is 200.
    assert problems.to_dict("records") == [
        {
            "row_number": 6,
            "column": "account_name",
            "reason": "text over its length limit: 100000 characters, the limit is 200",
        }
    ]
    assert page.button(key="import_go").disabled
    assert count(sqlite_engine, "escalation") == 0


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar())


def test_a_file_over_the_upload_limit_is_refused_naming_the_limit(
    sqlite_engine: Engine,
    app_for: Callable[[Engine], AppTest],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ESCALATION_HEALTH_MAX_IMPORT_MB", "0.5")
    content = b"escalation_id\n" + b"E\n" * 300_000  # 600,014 bytes
    page = open_page(app_for(sqlite_engine), "data.py")
    page.file_uploader[0].set_value(("big.csv", content, "text/csv"))
    page.run()

    shown = inspect(page)

    # 600,014 bytes is 0.57 MB, shown as 0.6; the limit is 0.5 x 1,048,576 bytes.
    visible(
        shown,
        "big.csv is 0.6 MB, over the import limit of 0.5 MB (set "
        "ESCALATION_HEALTH_MAX_IMPORT_MB to raise it)",
    )
    assert not page.dataframe
    assert count(sqlite_engine, "escalation") == 0


# Forms


def written(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as connection:
        version = read_data_version(connection=connection)
    tables = ("process_fix", "process_fix_history", "review_meeting")
    return (version, *(count(engine, table) for table in tables))


def field_errors(page: AppTest) -> list[str]:
    return [unescaped(m.value) for m in page.markdown if m.value.startswith(":red[")]


def test_the_fix_form_refuses_oversized_text_naming_the_limit(
    hostile: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_page(app_for(sqlite_engine), "repair_review.py")
    before = written(sqlite_engine)
    for key, value in {
        "author": "Ana Lima",
        "fix_title": LONG,
        "fix_trigger": "outage_impact",
        "fix_root_cause": "unclear_trigger",
        "fix_owner": LONG,
        "fix_effect": LONG,
    }.items():
        page.get_by_key(key).set_value(value)  # type: ignore[union-attr]
    page.button(key="FormSubmitter:log_fix-Log fix").click().run()

    inspect(page)
    # NAME_MAX is 200 for the title and the owner, PACKET_MAX 4000 for the effect:
    # 100,000 - 200 = 99,800 and 100,000 - 4,000 = 96,000 too many.
    assert sorted(field_errors(page)) == [
        ":red[Expected effect is 100000 characters long; the limit is 4000. "
        "Shorten it by 96000.]",
        ":red[Owner is 100000 characters long; the limit is 200. Shorten it by 99800.]",
        ":red[Title is 100000 characters long; the limit is 200. Shorten it by 99800.]",
    ]
    assert written(sqlite_engine) == before
    # Nothing typed is lost: the text stays in its box to be shortened.
    assert page.get_by_key("fix_title").value == LONG  # type: ignore[union-attr]
    helps = {
        key: page.get_by_key(key).help  # type: ignore[union-attr]
        for key in ("fix_title", "fix_owner", "fix_effect")
    }
    assert helps == {
        "fix_title": "Up to 200 characters.",
        "fix_owner": "Up to 200 characters.",
        "fix_effect": "Up to 4,000 characters.",
    }


def test_the_meeting_and_status_forms_refuse_oversized_text(
    hostile: dict[str, int], app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = app_for(sqlite_engine)
    page.query_params["fix"] = str(hostile["due"])
    open_page(page, "repair_review.py")
    page.selectbox(key="fix").set_value(hostile["due"]).run()
    page.get_by_key("author").set_value("Ana Lima")  # type: ignore[union-attr]
    before = written(sqlite_engine)

    page.get_by_key("review_attendees").set_value("Ana, Ben")  # type: ignore[union-attr]
    page.get_by_key("review_decisions").set_value(LONG)  # type: ignore[union-attr]
    page.get_by_key("review_notes").set_value(LONG)  # type: ignore[union-attr]
    page.button(key="FormSubmitter:record_review-Record meeting").click().run()
    page.selectbox(key="status_new").set_value("abandoned")
    page.get_by_key("status_reason").set_value(LONG)  # type: ignore[union-attr]
    page.button(
        key=f"FormSubmitter:status_{hostile['due']}-Change status"
    ).click().run()

    inspect(page)
    # SIGNAL_TEXT_MAX is 8000 for decisions and notes (92,000 too many),
    # REASON_MAX 1000 (99,000 too many).
    assert sorted(field_errors(page)) == [
        ":red[Decisions is 100000 characters long; the limit is 8000. Shorten "
        "it by 92000.]",
        ":red[Notes is 100000 characters long; the limit is 8000. Shorten it "
        "by 92000.]",
        ":red[Reason for abandoning is 100000 characters long; the limit is "
        "1000. Shorten it by 99000.]",
    ]
    assert written(sqlite_engine) == before


def test_breakdown_bars_carry_hostile_values_escaped_and_give_them_back() -> None:
    values = [*HOSTILE, "a & b"]
    breakdown = pl.DataFrame(
        {
            "owner": values,
            "late_rate": [0.5] * len(values),
            "escalations": [2] * len(values),
            "late": [1] * len(values),
        }
    )

    (bars,) = breakdown_figure(breakdown, "owner", "Owner").data

    assert list(bars.y) == [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&lt;img src=x onerror=alert(1)&gt;",
        LINK,
        IMAGE,
        '&lt;a href="http://evil.example"&gt;open&lt;/a&gt;',
        "a &amp; b",
    ]
    # A click reads the value back from customdata (see late_view).
    assert [html.unescape(point[0]) for point in bars.customdata] == values


# The pre-read, as the report command writes it


class _Tags(HTMLParser):
    """Start tags with their attributes, text between tags, and script bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def test_the_html_pre_read_has_no_live_tag_from_user_text(
    hostile: dict[str, int], sqlite_engine: Engine
) -> None:
    page = report_text(sqlite_engine, now=NOW, period=None, output_format="html")
    parser = _Tags()
    parser.feed(page)

    tags = {tag for tag, _ in parser.tags}
    attributes = {name for _, attrs in parser.tags for name, _ in attrs}
    # The document's own structure and plotly's inline scripts, nothing else.
    assert tags <= {
        "html", "head", "meta", "title", "style", "body", "main", "h1", "h2",
        "ul", "li", "strong", "section", "p", "table", "thead", "tbody", "tr",
        "th", "td", "dl", "dt", "dd", "div", "script",
    }  # fmt: skip
    assert "img" not in tags and "a" not in tags
    assert not {name for name in attributes if name.startswith("on")}
    # Every script is plotly's own; none holds text from the database.
    assert parser.scripts and not any("alert(1)" in body for body in parser.scripts)
    # Shown as text: the agenda's late escalation, its account, team and owner,
    # the fix due (title and owner) and the shipped fix to judge (title, owner).
    visible(parser.text, f"E1 {IMG}", SCRIPT, LINK, ANCHOR, IMAGE)


def test_the_markdown_pre_read_escapes_user_text(
    hostile: dict[str, int], sqlite_engine: Engine
) -> None:
    document = report_text(sqlite_engine, now=NOW, period=None, output_format="md")

    lines = document.splitlines()
    assert [line for line in lines if _LIVE_MARKDOWN.search(live(line))] == []
    visible([unescaped(line) for line in lines], f"E1 {IMG}", *HOSTILE)


def test_early_warning_shows_hostile_names_and_signals_as_text(
    app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    (drifting,) = write(sqlite_engine, account(name=SCRIPT, team=LINK))
    texts = [
        f"We are planning to cancel at renewal. {LINK}",
        f"Please send the termination terms, we will not renew. {IMG}",
        f"How do I export the report? {ANCHOR}",
    ]
    write(
        sqlite_engine,
        escalation(
            drifting,
            NOW - timedelta(days=400),
            10,
            status="resolved",
            resolved_at=NOW - timedelta(days=390),
        ),
        *(
            signal(drifting, None, NOW - timedelta(days=days), text=text)
            for days, text in zip((9, 5, 2), texts, strict=True)
        ),
    )

    page = open_page(app_for(sqlite_engine), "early_warning.py")

    shown = inspect(page)
    visible(shown, SCRIPT, LINK, IMG, ANCHOR)
    # The draft packet quotes the account and its signals, as plain text.
    assert SCRIPT in page.text_area(key="ew_open_risk").value

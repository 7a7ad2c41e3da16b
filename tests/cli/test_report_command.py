"""The ``report`` command: the weekly pre-read from a small database worked by hand."""

import doctest
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

import dashboard.preread
from dashboard.cli import main
from db.models import ProcessFixEscalation, ReviewMeeting
from tests.factories import account, at, escalation, fix, write

NOW = at("2026-05-14", 9.5)  # a Thursday
HOSTILE_TITLE = "<script>alert(1)</script> [click](http://evil)"
HOSTILE_ACCOUNT = "<b>Bold</b> & Co"
ESCALATION_ID = re.compile(r"ESC-[A-Z-]+[A-Z]")
FIX_TITLES = (
    "Old routing idea",
    HOSTILE_TITLE,
    "Weekly churn check",
    "Renewal playbook",
    "Outage triage rota",
    "Billing escalation form",
    "Quarterly health review",
)


def build_history(engine: Engine, *, with_review: bool = True) -> None:
    """The known history; the review of Monday 11 May opens the period.

    Since the review, [11 May 00:00, 14 May 09:30):

    ===============  =====  =============  ========  =======  ============  ======
    escalation       acct   trigger        severity  latency  escalated     state
    ===============  =====  =============  ========  =======  ============  ======
    ESC-OLD          1      usage_drop     medium       2 h   1 May 12:00   before
    ESC-LATE         1      billing        critical    30 h   11 May 00:00  late 6
    ESC-ABANDONED    2      billing        high       100 h   12 May 08:00  late 28
    ESC-ANSWERED     2      billing        high        80 h   12 May 10:00  late 8,
                                                                           recurs
    ESC-REPEAT       1      usage_drop     low        100 h   12 May 12:00  recurs
    ESC-QUICK        3      outage_impact  critical     6 h   13 May 12:00  early
    ESC-AT-END       3      billing        critical    30 h   14 May 09:30  outside
    ESC-BEFORE       2      outage_impact  medium     200 h   10 May 00:00  late 32
    ===============  =====  =============  ========  =======  ============  ======

    ESC-ABANDONED is linked to an abandoned fix only, ESC-ANSWERED to the
    proposed fix with the hostile title.
    """
    first, second, third = write(
        engine,
        account(name="Acme"),
        account(name=HOSTILE_ACCOUNT, team="Borealis"),
        account(name="Initech", team="Cirrus"),
    )
    rows = [
        ("ESC-OLD", first, "usage_drop", "medium", 2, at("2026-05-01", 12)),
        ("ESC-LATE", first, "billing", "critical", 30, at("2026-05-11")),
        ("ESC-ABANDONED", second, "billing", "high", 100, at("2026-05-12", 8)),
        ("ESC-ANSWERED", second, "billing", "high", 80, at("2026-05-12", 10)),
        ("ESC-REPEAT", first, "usage_drop", "low", 100, at("2026-05-12", 12)),
        ("ESC-QUICK", third, "outage_impact", "critical", 6, at("2026-05-13", 12)),
        ("ESC-AT-END", third, "billing", "critical", 30, NOW),
        ("ESC-BEFORE", second, "outage_impact", "medium", 200, at("2026-05-10")),
    ]
    ids = write(
        engine,
        *(
            escalation(
                account_id,
                escalated_at,
                hours,
                external_id=external_id,
                trigger_type=kind,
                severity=severity,
                owner="Kim Tran",
            )
            for external_id, account_id, kind, severity, hours, escalated_at in rows
        ),
    )
    by_external = {
        row[0]: escalation_id for row, escalation_id in zip(rows, ids, strict=True)
    }
    fixes = write(
        engine,
        fix("billing", None, title="Old routing idea", status="abandoned"),
        fix(
            "billing",
            None,
            title=HOSTILE_TITLE,
            status="proposed",
            due_at=at("2026-05-12"),
        ),
        fix(
            "usage_drop",
            None,
            title="Weekly churn check",
            status="in_progress",
            due_at=at("2026-05-18"),
        ),
        fix(
            "usage_drop",
            None,
            title="Renewal playbook",
            status="in_progress",
            due_at=at("2026-05-23"),
        ),
        fix("outage_impact", at("2026-03-01"), title="Outage triage rota"),
        fix("billing", at("2026-04-01"), title="Billing escalation form"),
        fix(
            "usage_drop",
            at("2026-01-01"),
            title="Quarterly health review",
            status="verified",
        ),
    )
    write(
        engine,
        ProcessFixEscalation(
            fix_id=fixes[0], escalation_id=by_external["ESC-ABANDONED"]
        ),
        ProcessFixEscalation(
            fix_id=fixes[1], escalation_id=by_external["ESC-ANSWERED"]
        ),
    )
    if with_review:
        write(
            engine,
            ReviewMeeting(
                held_on=date(2026, 5, 4),
                attendees="Dana, Kim",
                decisions="Older review",
                author="Dana",
                recorded_at=at("2026-05-04", 12),
            ),
            ReviewMeeting(
                held_on=date(2026, 5, 11),
                attendees="Dana, Kim",
                decisions="Chase the billing fixes",
                author="Dana",
                recorded_at=at("2026-05-11", 12),
            ),
        )


def url_for(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    """The --db URL; a PostgreSQL test schema travels in libpq's PGOPTIONS."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
        monkeypatch.setenv("PGOPTIONS", f"-csearch_path={schema}")
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def known(db_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    """The URL of the known history, with the clock stopped at NOW."""
    build_history(db_engine)
    monkeypatch.setattr("dashboard.cli.utc_now", lambda: NOW)
    return url_for(db_engine, monkeypatch)


def run_report(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    code = main(["report", *arguments])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def markdown_parts(text: str) -> list[str]:
    """The header, then the five agenda parts, split at their headings."""
    return re.split(r"^## ", text, flags=re.MULTILINE)


def html_parts(text: str) -> list[str]:
    return text.split("<section>")


def escalations_in(part: str) -> list[str]:
    return ESCALATION_ID.findall(part)


def titles_in(part: str, *, escaped: str) -> list[str]:
    """The fix titles shown in ``part``; the hostile one as ``escaped`` renders it."""
    shown = []
    for title in FIX_TITLES:
        written = escaped if title == HOSTILE_TITLE else title
        if written in part:
            shown.append(title)
    return shown


MARKDOWN_HOSTILE = r"\<script\>alert(1)\</script\> \[click\](http\://evil)"
HTML_HOSTILE = "&lt;script&gt;alert(1)&lt;/script&gt; [click](http://evil)"


def test_markdown_since_the_last_review_lists_exactly_the_expected_items(
    known: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = run_report(capsys, "--db", known)

    header, kpis, unanswered, due, to_judge, early = markdown_parts(text)
    assert "11 May 2026 00:00 – 14 May 2026 09:30 UTC" in header
    assert "since the review of 11 May 2026" in header
    # Five escalations in the period: latencies 30, 100, 80, 100 and 6 hours,
    # three late, two recurring. One before it: 200 hours, late.
    assert "| Escalations | 5 | 1 | +4 |" in kpis
    assert "| Median latency | 80.0 h | 200.0 h | -120.0 h |" in kpis
    assert "| p90 latency | 100.0 h | 200.0 h | -100.0 h |" in kpis
    assert "| Late rate | 60.0% | 100.0% | -40.0 pts |" in kpis
    assert "| Recurrence rate | 40.0% | 0.0% | +40.0 pts |" in kpis
    assert escalations_in(unanswered) == ["ESC-ABANDONED", "ESC-LATE", "ESC-REPEAT"]
    assert titles_in(due, escaped=MARKDOWN_HOSTILE) == [
        HOSTILE_TITLE,
        "Weekly churn check",
    ]
    assert "**OVERDUE by 1.4 days**" in due
    assert "due in 4.6 days" in due
    assert titles_in(to_judge, escaped=MARKDOWN_HOSTILE) == ["Outage triage rota"]
    assert "too little data" in to_judge
    assert escalations_in(early) == ["ESC-QUICK"]
    assert escalations_in(text) == [
        "ESC-ABANDONED",
        "ESC-LATE",
        "ESC-REPEAT",
        "ESC-QUICK",
    ]


def test_markdown_escapes_hostile_titles_and_names(
    known: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = run_report(capsys, "--db", known)

    assert MARKDOWN_HOSTILE in text
    assert r"\<b\>Bold\</b\> \& Co" in text
    assert "<script>" not in text
    assert "[click](" not in text
    assert "<b>" not in text


def test_html_lists_the_same_items_with_the_same_figures(
    known: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = run_report(capsys, "--db", known, "--format", "html")

    header, kpis, unanswered, due, to_judge, early = html_parts(text)
    assert "since the review of 11 May 2026" in header
    assert (
        '<td>Late rate</td><td class="num">60.0%</td><td class="num">100.0%</td>'
        '<td class="num">-40.0 pts</td>'
    ) in kpis
    assert (
        '<td>Median latency</td><td class="num">80.0 h</td>'
        '<td class="num">200.0 h</td><td class="num">-120.0 h</td>'
    ) in kpis
    assert 'id="weekly-trend"' in kpis
    assert escalations_in(unanswered) == ["ESC-ABANDONED", "ESC-LATE", "ESC-REPEAT"]
    assert titles_in(due, escaped=HTML_HOSTILE) == [HOSTILE_TITLE, "Weekly churn check"]
    assert titles_in(to_judge, escaped=HTML_HOSTILE) == ["Outage triage rota"]
    assert escalations_in(early) == ["ESC-QUICK"]


def without_plotly_bundle(text: str) -> str:
    """The page with the embedded plotly.js library cut out."""
    scripts = list(re.finditer(r"<script[^>]*>.*?</script>", text, flags=re.DOTALL))
    bundle = max(scripts, key=lambda script: script.end() - script.start())
    assert "Plotly" in bundle.group(0)
    return text[: bundle.start()] + text[bundle.end() :]


def test_html_is_self_contained_and_escapes_user_text(
    known: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = run_report(capsys, "--db", known, "--format", "html")
    page = without_plotly_bundle(text)

    # plotly.js names some hosts itself (map tiles, geo outlines, its logo
    # link), used only by chart types the pre-read does not draw; outside it
    # there is no reference to anything but the file itself.
    assert text.count("<script") == 3
    assert not re.search(r"""\b(?:src|href|action)\s*=""", page, flags=re.IGNORECASE)
    assert "@import" not in page
    assert "url(" not in page
    assert re.findall(r"https?://[^\s<]*", page) == ["http://evil)"]
    assert "default-src 'none'" in page
    assert HTML_HOSTILE in page
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in page
    assert "<script>alert" not in text
    assert "<b>Bold" not in text


def test_a_week_is_judged_as_it_stood_at_its_end(
    known: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = run_report(capsys, "--db", known, "--week", "2026-W19")

    header, kpis, unanswered, due, to_judge, early = markdown_parts(text)
    assert "04 May 2026 00:00 – 11 May 2026 00:00 UTC" in header
    assert "ISO week 2026-W19" in header
    assert "| Escalations | 1 | 1 | +0 |" in kpis
    assert "| Late rate | 100.0% | 0.0% | +100.0 pts |" in kpis
    assert escalations_in(unanswered) == ["ESC-BEFORE"]
    # At 11 May 00:00 the hostile fix, due on 12 May, has two days left (its due
    # day ends at 13 May 00:00) and is not overdue; the one
    # due on 18 May is exactly 7 days away, which is outside "the next 7 days".
    assert titles_in(due, escaped=MARKDOWN_HOSTILE) == [HOSTILE_TITLE]
    assert "due in 2.0 days |" in due
    assert "OVERDUE" not in due
    assert titles_in(to_judge, escaped=MARKDOWN_HOSTILE) == ["Outage triage rota"]
    assert "No escalation in this period (1 escalation in all) reached" in early


def test_without_a_review_the_report_covers_the_last_seven_days(
    sqlite_engine: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_history(sqlite_engine, with_review=False)
    monkeypatch.setattr("dashboard.cli.utc_now", lambda: NOW)

    text = run_report(capsys, "--db", url_for(sqlite_engine, monkeypatch))

    header, kpis, unanswered, *_ = markdown_parts(text)
    assert "07 May 2026 09:30 – 14 May 2026 09:30 UTC" in header
    assert "the last 7 days, as no review has been recorded yet" in header
    assert "| Escalations | 6 |" in kpis
    assert escalations_in(unanswered) == [
        "ESC-BEFORE",
        "ESC-ABANDONED",
        "ESC-LATE",
        "ESC-REPEAT",
    ]


def test_an_empty_database_says_why_each_part_is_empty(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_engine.url.render_as_string(hide_password=False)

    text = run_report(capsys, "--db", url)

    assert "No escalations in this period, so none was late or recurring." in text
    assert "No fix is due in the next 7 days, and none is overdue." in text
    assert "No shipped fix has finished its 8-week after window yet." in text
    assert "No escalations in this period, so none to recognise." in text


def test_the_report_goes_to_a_file(
    known: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "pre-read.md"

    out = run_report(capsys, "--db", known, "-o", str(target))

    assert out == f"Wrote the pre-read to {target}\n"
    written = target.read_text(encoding="utf-8")
    assert written.startswith("# Escalation Health: repair review pre-read\n")
    assert escalations_in(written)[:3] == ["ESC-ABANDONED", "ESC-LATE", "ESC-REPEAT"]


@pytest.mark.parametrize(
    ("week", "fragment"),
    [
        ("2026-W60", "2026 has no ISO week 60; its weeks run from 1 to 53"),
        ("2025-W53", "2025 has no ISO week 53; its weeks run from 1 to 52"),
        ("2026-13", "--week '2026-13' is not an ISO week; use YYYY-Www"),
        ("last week", "--week 'last week' is not an ISO week; use YYYY-Www"),
        ("2026-W1", "--week '2026-W1' is not an ISO week"),
        ("2030-W01", "--week 2030-W01 has not started yet"),
    ],
)
def test_a_bad_week_gets_one_line_and_exit_2(
    week: str,
    fragment: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr("dashboard.cli.utc_now", lambda: NOW)

    code = main(["report", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--week", week])
    captured = capsys.readouterr()

    assert code == 2
    assert fragment in captured.err
    assert captured.err.count("\n") == 1
    assert captured.out == ""
    assert not (tmp_path / "x.db").exists()


def test_an_unknown_format_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["report", "--format", "pdf"])

    assert code == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("missing/pre-read.md", "the folder {tmp}/missing does not exist"),
        ("notes.txt/pre-read.md", "{tmp}/notes.txt is not a folder"),
        (".", "{tmp}: it is a folder"),
    ],
)
def test_an_output_path_that_cannot_be_a_file_gets_one_line_and_exit_1(
    target: str,
    fragment: str,
    sqlite_engine: Engine,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "notes.txt").write_text("meeting notes\n")
    url = sqlite_engine.url.render_as_string(hide_password=False)

    code = main(["report", "--db", url, "-o", str(tmp_path / target)])
    captured = capsys.readouterr()

    assert code == 1
    assert captured.err.startswith("escalation-health: error: cannot write the report")
    assert fragment.format(tmp=tmp_path) in captured.err
    assert captured.err.count("\n") == 1
    assert (tmp_path / "notes.txt").read_text() == "meeting notes\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_failed_write_gets_one_line_and_exit_1(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_engine.url.render_as_string(hide_password=False)

    code = main(["report", "--db", url, "-o", "/dev/full"])
    captured = capsys.readouterr()

    assert code == 1
    assert captured.err == (
        "escalation-health: error: cannot write the report to /dev/full: "
        "No space left on device\n"
    )


def test_a_review_after_now_in_utc_leaves_an_empty_period(
    sqlite_engine: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Held on the 15th east of UTC, when it was still the 14th in UTC.
    build_history(sqlite_engine)
    write(
        sqlite_engine,
        ReviewMeeting(
            held_on=date(2026, 5, 15),
            attendees="Dana",
            decisions="None yet",
            author="Dana",
            recorded_at=NOW - timedelta(minutes=5),
        ),
    )
    monkeypatch.setattr("dashboard.cli.utc_now", lambda: NOW)

    text = run_report(capsys, "--db", url_for(sqlite_engine, monkeypatch))

    assert "none: it starts and ends at 14 May 2026 09:30 UTC" in text
    assert "| Escalations | 0 | 0 | +0 |" in text


def test_the_preread_docstring_examples_run() -> None:
    outcome = doctest.testmod(dashboard.preread, raise_on_error=False, verbose=False)

    assert outcome.attempted > 0
    assert outcome.failed == 0

"""The ``escalation-health`` command line: serve, seed, metrics, report, import,
export and tone-eval."""

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from db.engine import (
    DatabaseError,
    check_connection,
    create_db_engine,
    default_database_url,
)

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger(__name__)

APP_SCRIPT = Path(__file__).resolve().parent / "app.py"
METRIC_COLUMNS = (
    "id",
    "account_id",
    "trigger_type",
    "severity",
    "first_signal_at",
    "escalated_at",
)
REPORT_COLUMNS = (
    "id",
    "external_id",
    "account_id",
    "account_name",
    "trigger_type",
    "severity",
    "team",
    "owner",
    "raised_via",
    "first_signal_at",
    "escalated_at",
)
REPORT_TITLE = "Escalation Health: repair review pre-read"
WEEK_PATTERN = re.compile(r"([0-9]{4})-W([0-9]{2})")
EXIT_USAGE = 2
EXIT_FAILURE = 1


class UsageError(Exception):
    """Bad command-line input, reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not usage plus error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _echo(text: str = "", *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")


def parse_day(value: str | None, flag: str) -> datetime | None:
    """Read ``YYYY-MM-DD`` as midnight UTC, or explain why it is not a date."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        message = f"{flag} {value!r} is not a date; use YYYY-MM-DD"
        raise UsageError(message) from None
    if len(value) != len("YYYY-MM-DD"):
        message = f"{flag} {value!r} is not a date; use YYYY-MM-DD"
        raise UsageError(message)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def open_database(url: str | None) -> Engine:
    """Connect, bring the schema to the latest revision, return the engine."""
    # Alembic and the models load on first use, not at import: process start is
    # part of every command's time, `metrics` included.
    from db.migrate import upgrade  # noqa: PLC0415

    engine = create_db_engine(url)
    try:
        check_connection(engine)
        upgrade(engine)
    except SQLAlchemyError as error:
        engine.dispose()
        first_line = str(error).strip().splitlines()[0]
        message = f"Cannot bring the database schema up to date: {first_line}"
        raise DatabaseError(message) from error
    except DatabaseError:
        engine.dispose()
        raise
    return engine


def cmd_seed(args: argparse.Namespace) -> int:
    """Seed the demo history into an empty database."""
    from seed_data.load import (  # noqa: PLC0415  (numpy is slow to import)
        generate_in_parts,
        seed_database,
    )

    if args.scale <= 0:
        message = f"--scale must be greater than 0, got {args.scale}"
        raise UsageError(message)
    # A large history starts generating before the database is opened and
    # migrated, so that its first parts are ready when the loader is.
    with closing(generate_in_parts(args.seed, args.scale)) as generated:
        engine = open_database(args.db)
        try:
            counts = seed_database(
                engine, seed=args.seed, scale=args.scale, generated=generated
            )
        except ValueError as error:
            raise DatabaseError(str(error)) from error
        finally:
            engine.dispose()
    summary = ", ".join(f"{count:,} {table}" for table, count in counts.items())
    _echo(f"Seeded {engine.url.render_as_string(hide_password=True)}: {summary}")
    return 0


def metrics_payload(
    engine: Engine, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """Compute the ``metrics`` report for a database and window."""
    from db.snapshot import load_escalation_snapshot  # noqa: PLC0415
    from metrics.summary import metrics_report  # noqa: PLC0415

    escalations = load_escalation_snapshot(engine, METRIC_COLUMNS)
    return metrics_report(escalations, start=start, end=end)


def _fmt(value: float | None, suffix: str = "", *, percent: bool = False) -> str:
    if value is None:
        return "-"
    if percent:
        return f"{value:.1%}"
    return f"{value:,.1f}{suffix}"


def render_metrics_table(
    report: dict[str, Any], start: datetime | None, end: datetime | None
) -> str:
    """A readable plain-text rendering of the metrics report."""
    window = (
        f"{start.date() if start else 'the beginning'} "
        f"to {end.date() if end else 'now'} (end exclusive)"
    )
    latency = report["signal_to_escalation_hours"]
    lines = [
        f"Escalations from {window}",
        "",
        f"  Escalations                        {report['escalations']:>10,}",
        f"  Signal to escalation, median (h)   {_fmt(latency['median']):>10}",
        f"  Signal to escalation, p90 (h)      {_fmt(latency['p90']):>10}",
        f"  Late rate                          "
        f"{_fmt(report['late_rate'], percent=True):>10}",
        f"  Recurrence rate                    "
        f"{_fmt(report['recurrence_rate'], percent=True):>10}",
    ]
    by_type = report["by_trigger_type"]
    if by_type:
        width = max(len("Trigger type"), *(len(name) for name in by_type))
        lines += [
            "",
            f"  {'Trigger type':<{width}}  {'Count':>7}  {'Median h':>9}  "
            f"{'p90 h':>9}  {'Late':>7}  {'Recur':>7}",
        ]
        for name, row in by_type.items():
            lines.append(
                f"  {name:<{width}}  {row['escalations']:>7,}  "
                f"{_fmt(row['median_hours']):>9}  {_fmt(row['p90_hours']):>9}  "
                f"{_fmt(row['late_rate'], percent=True):>7}  "
                f"{_fmt(row['recurrence_rate'], percent=True):>7}"
            )
    else:
        lines += ["", "  No escalations in this window."]
    return "\n".join(lines)


def cmd_metrics(args: argparse.Namespace) -> int:
    """Print the health metrics for a window."""
    start = parse_day(args.date_from, "--from")
    end = parse_day(args.date_to, "--to")
    if start is not None and end is not None and start >= end:
        message = f"--from {args.date_from} must be before --to {args.date_to}"
        raise UsageError(message)

    engine = open_database(args.db)
    try:
        report = metrics_payload(engine, start, end)
    finally:
        engine.dispose()

    if args.json:
        _echo(json.dumps(report, allow_nan=False))
    else:
        _echo(render_metrics_table(report, start, end))
    return 0


def utc_now() -> datetime:
    """The current moment in UTC; the one clock the report reads."""
    return datetime.now(UTC)


def parse_week(value: str) -> tuple[datetime, datetime]:
    """Read ``YYYY-Www`` as that ISO week, [Monday 00:00 UTC, the next Monday)."""
    from metrics.agenda import iso_week_period  # noqa: PLC0415  (numpy is slow to import)

    found = WEEK_PATTERN.fullmatch(value)
    if found is None:
        message = (
            f"--week {value!r} is not an ISO week; use YYYY-Www, for example 2026-W19"
        )
        raise UsageError(message)
    try:
        return iso_week_period(int(found[1]), int(found[2]))
    except ValueError as error:
        message = f"--week {value!r} does not exist: {error}"
        raise UsageError(message) from None


class _OutputError(Exception):
    """The report cannot be written where it was asked to go."""


def _check_output(path: Path) -> None:
    """Fail before the slow part when ``path`` clearly cannot be written."""
    if path.is_dir():
        message = f"cannot write the report to {path}: it is a folder"
        raise _OutputError(message)
    if path.parent.exists() and not path.parent.is_dir():
        message = f"cannot write the report to {path}: {path.parent} is not a folder"
        raise _OutputError(message)
    if not path.parent.is_dir():
        message = (
            f"cannot write the report to {path}: the folder {path.parent} does not "
            "exist"
        )
        raise _OutputError(message)


def _write_output(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        message = f"cannot write the report to {path}: {reason}"
        raise _OutputError(message) from error


def report_text(
    engine: Engine,
    *,
    now: datetime,
    period: tuple[datetime, datetime] | None,
    output_format: str,
) -> str:
    """The pre-read for a database: since the last review, or for ``period``."""
    # Plotly and numpy take a while to import; only this command needs them.
    from dashboard.preread import render_html, render_markdown  # noqa: PLC0415
    from db.fixes import latest_review, load_fix_links  # noqa: PLC0415
    from db.queries import load_escalations, load_fixes  # noqa: PLC0415
    from metrics.agenda import build_agenda, trend_window  # noqa: PLC0415
    from metrics.prepare import prepare_escalations  # noqa: PLC0415
    from metrics.volume import weekly_volume  # noqa: PLC0415

    with engine.connect() as connection:
        escalations = load_escalations(connection=connection, columns=REPORT_COLUMNS)
        fixes = load_fixes(connection=connection)
        links = load_fix_links(connection=connection)
        review = latest_review(connection=connection)

    prepared = prepare_escalations(escalations)
    # A past week is judged as it stood at its end; the current one as of now.
    as_of = now if period is None else min(now, period[1])
    last_review_on = None if review is None else review["held_on"]
    agenda = build_agenda(prepared, fixes, links, last_review_on, as_of, period=period)

    if output_format == "html":
        weekly = weekly_volume(prepared, *trend_window(agenda.period[1]))
        return render_html(agenda, title=REPORT_TITLE, generated_at=now, weekly=weekly)
    return render_markdown(agenda, title=REPORT_TITLE, generated_at=now)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the weekly repair-review pre-read as Markdown or HTML."""
    now = utc_now()
    period = None if args.week is None else parse_week(args.week)
    if period is not None and period[0] > now:
        message = f"--week {args.week} has not started yet; nothing to review"
        raise UsageError(message)
    output = None if args.output is None else Path(args.output)

    try:
        if output is not None:
            _check_output(output)
        engine = open_database(args.db)
        try:
            text = report_text(
                engine, now=now, period=period, output_format=args.format
            )
        finally:
            engine.dispose()
        if output is None:
            sys.stdout.write(text)
        else:
            _write_output(output, text)
            _echo(f"Wrote the pre-read to {output}")
    except _OutputError as error:
        _echo(f"escalation-health: error: {error}", err=True)
        return EXIT_FAILURE
    return 0


class _Progress:
    """A percentage on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.shown = -1
        self.active = sys.stderr.isatty()

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if self.active and percent != self.shown:
            self.shown = percent
            sys.stderr.write(f"\rImporting: {percent:3d}%")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.active and self.shown >= 0:
            sys.stderr.write("\n")


def cmd_import(args: argparse.Namespace) -> int:
    """Import a CSV, Parquet or JSON Lines file of one kind of record."""
    import zoneinfo  # noqa: PLC0415

    from db.importer import (  # noqa: PLC0415  (polars is slow to import)
        ImportFileError,
        max_import_bytes,
        problem_lines,
        read_file,
        reject_file_frame,
        run_import,
        validate_import,
    )

    try:
        zoneinfo.ZoneInfo(args.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # An overlong name fails as a file name (OSError) rather than as a zone.
        message = f"--timezone {args.timezone!r} is not a time zone; use an IANA name"
        raise UsageError(message) from None
    path = Path(args.file)
    reject_path = (
        Path(args.reject_file)
        if args.reject_file
        else path.with_name(f"{path.stem}.rejects.csv")
    )
    try:
        frame = read_file(path, max_bytes=max_import_bytes())
    except ImportFileError as error:
        raise UsageError(str(error)) from None

    engine = open_database(args.db)
    progress = _Progress()
    try:
        with engine.connect() as connection:
            try:
                report = validate_import(
                    args.kind,
                    frame,
                    connection=connection,
                    naive_time_zone=args.timezone,
                )
            except ImportFileError as error:
                raise UsageError(f"{path.name}: {error}") from None
        if not report.ok and not args.skip_invalid:
            _echo(
                f"escalation-health: error: {path.name} rejected, nothing written: "
                f"{report.rejects.height:,} of {report.total_rows:,} rows are invalid "
                "(rows count from 1 at the first data row)",
                err=True,
            )
            for line in problem_lines(report):
                _echo(f"  {line}", err=True)
            return EXIT_FAILURE
        result = run_import(
            report,
            engine=engine,
            skip_invalid=args.skip_invalid,
            dry_run=args.dry_run,
            progress=progress,
        )
    finally:
        progress.finish()
        engine.dispose()

    lead = "Dry run, nothing written" if args.dry_run else "Imported"
    summary = (
        f"{lead}: {args.kind} from {path.name}: {result.inserted:,} inserted, "
        f"{result.updated:,} updated, {result.unchanged:,} unchanged"
    )
    if result.accounts_created:
        summary += f", {result.accounts_created:,} accounts created"
    if result.rejected:
        summary += f", {result.rejected:,} rejected"
    _echo(summary)
    if result.rejected and not args.dry_run:
        reject_file_frame(report).write_csv(reject_path)
        _echo(f"Wrote the rejected rows with their reasons to {reject_path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write every table in the import format into a folder."""
    from db.exporter import export_database  # noqa: PLC0415

    directory = Path(args.directory)
    if directory.exists() and not directory.is_dir():
        message = f"cannot export to {directory}: it is not a folder"
        raise UsageError(message)
    engine = open_database(args.db)
    try:
        written = export_database(engine, directory, file_format=args.format)
    finally:
        engine.dispose()
    _echo(f"Exported {len(written)} files to {directory}")
    return 0


TONE_EVAL_SETS = {
    "tuning": ("tuning set", "written with the lexicon: in-sample"),
    "held_out": ("held-out set", "never used to tune the lexicon"),
}
"""The JSON key, display name and description of each set ``tone-eval`` measures."""


def _tone_set_payload(
    labelled: "pl.DataFrame", title: str, about: str
) -> dict[str, Any]:
    from metrics.tone import (  # noqa: PLC0415  (polars is slow to import)
        OVERALL,
        accuracy_by_hard_case,
        evaluate,
        score_tone,
    )

    labelled = labelled.with_columns(
        predicted=score_tone(labelled.get_column("text")).get_column("tone")
    )
    scores = {row["tone"]: row for row in evaluate(labelled).iter_rows(named=True)}
    overall = scores.pop(OVERALL)
    return {
        "name": title,
        "about": about,
        "signals": labelled.height,
        "accuracy": overall["accuracy"],
        "macro_f1": overall["f1"],
        "by_tone": {
            tone: {name: row[name] for name in ("precision", "recall", "f1", "support")}
            for tone, row in scores.items()
        },
        "by_hard_case": {
            row["hard_case"]: {"count": row["count"], "accuracy": row["accuracy"]}
            for row in accuracy_by_hard_case(labelled).iter_rows(named=True)
        },
    }


def tone_eval_payload() -> dict[str, Any]:
    """Measure the tone model on the shipped tuning set and on the held-out set."""
    from metrics.tone import (  # noqa: PLC0415  (polars is slow to import)
        load_held_out_set,
        load_labelled_set,
    )

    sets = {"tuning": load_labelled_set(), "held_out": load_held_out_set()}
    return {
        key: _tone_set_payload(sets[key], title, about)
        for key, (title, about) in TONE_EVAL_SETS.items()
    }


def _render_tone_set(payload: dict[str, Any]) -> list[str]:
    lines = [
        f"Tone model on the {payload['name']} ({payload['signals']:,} signals, "
        f"{payload['about']})",
        "",
        f"  {'Tone':<14}  {'Precision':>9}  {'Recall':>7}  {'F1':>7}  {'Support':>7}",
    ]
    for tone, row in payload["by_tone"].items():
        lines.append(
            f"  {tone:<14}  {_fmt(row['precision'], percent=True):>9}  "
            f"{_fmt(row['recall'], percent=True):>7}  "
            f"{_fmt(row['f1'], percent=True):>7}  {row['support']:>7,}"
        )
    lines += [
        "",
        f"  Accuracy   {_fmt(payload['accuracy'], percent=True):>7}",
        f"  Macro F1   {_fmt(payload['macro_f1'], percent=True):>7}",
        "",
        f"  {'Hard case':<14}  {'Count':>7}  {'Accuracy':>8}",
    ]
    for name, row in payload["by_hard_case"].items():
        lines.append(
            f"  {name:<14}  {row['count']:>7,}  "
            f"{_fmt(row['accuracy'], percent=True):>8}"
        )
    return lines


def render_tone_eval(payload: dict[str, Any]) -> str:
    """A readable plain-text rendering of the tone model's evaluation on each set."""
    blocks = [_render_tone_set(payload[key]) for key in TONE_EVAL_SETS]
    return "\n\n".join("\n".join(block) for block in blocks)


def cmd_tone_eval(args: argparse.Namespace) -> int:
    """Print how well the tone model labels the tuning and the held-out signals."""
    payload = tone_eval_payload()
    if args.json:
        _echo(json.dumps(payload, allow_nan=False))
    else:
        _echo(render_tone_eval(payload))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the dashboard, seeding the demo history into a fresh default DB."""
    url = args.db or default_database_url()
    engine = open_database(url)
    using_default = args.db is None and not os.environ.get("DATABASE_URL")
    from db.queries import count_escalations  # noqa: PLC0415

    with engine.connect() as connection:
        empty = count_escalations(connection=connection) == 0
    if using_default and empty:
        _echo("Fresh database: creating the demo history (takes a few seconds)...")
        from seed_data.load import seed_database  # noqa: PLC0415

        seed_database(engine, seed=7, scale=1.0)
        _echo("Demo history ready.")
    engine.dispose()

    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_SCRIPT),
        "--server.headless",
        "true",
        "--server.port",
        str(args.port),
        "--server.address",
        args.address,
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    environment = {**os.environ, "DATABASE_URL": url}
    _echo(f"Serving on http://{args.address}:{args.port} (Ctrl+C stops)")
    sys.stdout.flush()
    # Become the server rather than wait for a child: whoever stops this
    # process (Ctrl+C, a supervisor, a test) then stops the server too.
    os.execve(sys.executable, command, environment)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its subcommands."""
    parser = _Parser(
        prog="escalation-health",
        description="Is customer risk reaching the right owner early enough?",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    db_help = "database URL (default: DATABASE_URL, else the embedded SQLite file)"

    serve = commands.add_parser("serve", help="start the dashboard")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--address", default="127.0.0.1")
    serve.add_argument("--db", help=db_help)
    serve.set_defaults(handler=cmd_serve)

    seed = commands.add_parser("seed", help="write the demo history to an empty DB")
    seed.add_argument("--db", help=db_help)
    seed.add_argument("--seed", type=int, default=7)
    seed.add_argument("--scale", type=float, default=1.0)
    seed.set_defaults(handler=cmd_seed)

    metrics = commands.add_parser("metrics", help="print the health metrics")
    metrics.add_argument("--db", help=db_help)
    metrics.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
    metrics.add_argument("--to", dest="date_to", help="day after the last, YYYY-MM-DD")
    metrics.add_argument("--json", action="store_true", help="print JSON")
    metrics.set_defaults(handler=cmd_metrics)

    report = commands.add_parser(
        "report", help="write the weekly repair-review pre-read"
    )
    report.add_argument("--db", help=db_help)
    report.add_argument(
        "--week",
        help="review this ISO week, YYYY-Www (default: since the last review)",
    )
    report.add_argument(
        "--format",
        choices=("md", "html"),
        default="md",
        help="Markdown (default) or one self-contained HTML file",
    )
    report.add_argument(
        "-o", "--output", help="write to this file (default: standard output)"
    )
    report.set_defaults(handler=cmd_report)

    kinds = ("accounts", "escalations", "signals", "level-changes", "fixes")
    importer = commands.add_parser(
        "import", help="import a CSV, Parquet or JSON Lines file (see docs/import.md)"
    )
    importer.add_argument("kind", choices=kinds)
    importer.add_argument("file", help="the file to import")
    importer.add_argument("--db", help=db_help)
    importer.add_argument(
        "--dry-run", action="store_true", help="check and count, write nothing"
    )
    importer.add_argument(
        "--skip-invalid",
        action="store_true",
        help="write the valid rows; put the rejected ones in a reject file",
    )
    importer.add_argument(
        "--timezone",
        default="UTC",
        help="IANA zone for timestamps without an offset (default: UTC)",
    )
    importer.add_argument(
        "--reject-file", help="where rejected rows go (default: FILE.rejects.csv)"
    )
    importer.set_defaults(handler=cmd_import)

    exporter = commands.add_parser(
        "export", help="write every table in the import format into a folder"
    )
    exporter.add_argument("directory", help="folder for the files")
    exporter.add_argument("--db", help=db_help)
    exporter.add_argument("--format", choices=("csv", "parquet"), default="csv")
    exporter.set_defaults(handler=cmd_export)

    tone_eval = commands.add_parser(
        "tone-eval",
        help="measure the tone model on the tuning and the held-out signals",
    )
    tone_eval.add_argument("--json", action="store_true", help="print JSON")
    tone_eval.set_defaults(handler=cmd_tone_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; every failure is one line on stderr."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
    except UsageError as error:
        _echo(f"escalation-health: error: {error}", err=True)
        return EXIT_USAGE
    except DatabaseError as error:
        _echo(f"escalation-health: error: {error}", err=True)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        # A last line of defence: the person gets one line, the log the detail.
        if os.environ.get("ESCALATION_HEALTH_DEBUG"):
            raise
        log.debug("Unexpected failure", exc_info=True)
        _echo(
            f"escalation-health: unexpected error: {error}. "
            "Set ESCALATION_HEALTH_DEBUG=1 to see the full traceback.",
            err=True,
        )
        return EXIT_FAILURE
    return code


if __name__ == "__main__":
    sys.exit(main())

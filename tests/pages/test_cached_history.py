"""A write reloads what it changed and leaves the cached history alone otherwise."""

from datetime import UTC, datetime

from sqlalchemy import Engine

from dashboard.data import current_versions, raw_escalations
from db.fixes import create_fix
from tests.factories import account, at, escalation, fix_input, write

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_a_logged_fix_keeps_the_cached_history_and_a_new_escalation_reloads_it(
    sqlite_engine: Engine,
) -> None:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    (owner,) = write(sqlite_engine, account(name="Atlas Foods"))
    write(sqlite_engine, escalation(owner, at("2026-02-02", 10), 5))
    data_before, history_before = current_versions(url)
    cached = raw_escalations(url, history_before)

    create_fix(engine=sqlite_engine, data=fix_input(), now=NOW)
    data_after_fix, history_after_fix = current_versions(url)
    after_fix = raw_escalations(url, history_after_fix)

    write(sqlite_engine, escalation(owner, at("2026-02-09", 10), 30))
    _, history_after_escalation = current_versions(url)
    after_escalation = raw_escalations(url, history_after_escalation)

    # The fix moved the data version only, so the very same frame came back.
    assert (data_after_fix, history_after_fix) == (data_before + 1, history_before)
    assert after_fix is cached
    # The escalation moved the history version: one more row, read afresh.
    assert history_after_escalation == history_before + 1
    assert (cached.height, after_escalation.height) == (1, 2)

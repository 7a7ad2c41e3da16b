"""The generated history keeps the promises the dashboard and its tests rely on."""

import itertools
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import annotated_types
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlmodel import SQLModel

from db.bulk import table_order
from db.models import (
    Account,
    Escalation,
    EscalationStatus,
    FixStatus,
    LevelChange,
    ProcessFix,
    RaisedVia,
    RootCause,
    Severity,
    Signal,
    SignalSource,
    Team,
    Tone,
)
from metrics.settings import DEFAULT_LATE_THRESHOLD_HOURS
from seed_data.generate import (
    DemoHistory,
    expected_rows,
    generate_history,
    history_parts,
)
from tests.seed.conftest import END

PACKET_FIELDS = (
    "risk",
    "evidence",
    "options",
    "decision_needed",
    "next_owner",
    "consequence_if_unchanged",
    "exit_evidence",
)
THINGS = (
    "owner",
    "cadence",
    "decision_rights",
    "evidence_threshold",
    "communication_path",
)
MODELS: dict[str, type[SQLModel]] = {
    "team": Team,
    "account": Account,
    "escalation": Escalation,
    "level_change": LevelChange,
    "signal": Signal,
    "process_fix": ProcessFix,
}


def values(enum: type) -> set[str]:
    return {member.value for member in enum}


def late_flags(history: DemoHistory) -> pl.DataFrame:
    """Escalations with team and a late flag, computed here from the raw columns."""
    thresholds = dict(DEFAULT_LATE_THRESHOLD_HOURS)
    rows = history.escalation.join(
        history.account.select(pl.col("id").alias("account_id"), "team"),
        on="account_id",
    ).select(
        "id",
        "team",
        "trigger_type",
        "raised_via",
        "first_signal_at",
        "escalated_at",
        "severity",
    )
    late = [
        (escalated - first).total_seconds() / 3600 > thresholds[severity]
        for first, escalated, severity in rows.select(
            "first_signal_at", "escalated_at", "severity"
        ).iter_rows()
    ]
    return rows.with_columns(late=pl.Series(late))


def test_same_seed_and_end_give_identical_frames(small_history: DemoHistory) -> None:
    again = generate_history(seed=3, scale=0.2, end=END)

    for name, frame in small_history.tables().items():
        assert_frame_equal(frame, again.tables()[name])
    assert_frame_equal(small_history.fix_truth, again.fix_truth)


def test_another_seed_gives_another_history(small_history: DemoHistory) -> None:
    other = generate_history(seed=4, scale=0.2, end=END)

    assert not small_history.escalation.equals(other.escalation)
    assert not small_history.signal.equals(other.signal)


def test_naive_end_and_bad_scale_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_history(end=END.replace(tzinfo=None))
    with pytest.raises(ValueError, match="scale must be a positive number"):
        generate_history(scale=0)


def test_history_ends_at_end_and_spans_two_years(small_history: DemoHistory) -> None:
    escalated = small_history.escalation["escalated_at"]

    assert escalated.max() < END
    assert escalated.min() < END - timedelta(days=650)
    assert small_history.signal["observed_at"].max() <= END


def test_first_signal_is_the_earliest_linked_signal(small_history: DemoHistory) -> None:
    earliest: dict[int, object] = {}
    for escalation_id, observed in small_history.signal.select(
        "escalation_id", "observed_at"
    ).iter_rows():
        if escalation_id is not None:
            current = earliest.get(escalation_id)
            earliest[escalation_id] = (
                observed if current is None else min(current, observed)
            )

    first = dict(small_history.escalation.select("id", "first_signal_at").iter_rows())

    assert earliest == first


def test_escalated_after_first_signal_and_resolved_only_when_resolved(
    small_history: DemoHistory,
) -> None:
    for first, escalated, resolved, status in small_history.escalation.select(
        "first_signal_at", "escalated_at", "resolved_at", "status"
    ).iter_rows():
        assert escalated >= first
        assert (resolved is None) == (status != EscalationStatus.RESOLVED)
        if resolved is not None:
            assert resolved >= escalated

    statuses = Counter(small_history.escalation["status"].to_list())
    assert statuses["open"] > 0
    assert statuses["monitoring"] > 0


def test_ids_are_one_to_n_and_every_link_resolves(small_history: DemoHistory) -> None:
    for name, frame in small_history.tables().items():
        if "id" in frame.columns:
            assert frame["id"].to_list() == list(range(1, frame.height + 1)), name

    accounts = set(small_history.account["id"])
    escalations = set(small_history.escalation["id"])
    fixes = set(small_history.process_fix["id"])
    teams = set(small_history.team["name"])
    assert set(small_history.account["team"]) <= teams
    assert set(small_history.escalation["account_id"]) <= accounts
    assert set(small_history.signal["account_id"]) <= accounts
    assert set(small_history.signal["escalation_id"].drop_nulls()) <= escalations
    assert set(small_history.level_change["escalation_id"]) <= escalations
    links = small_history.process_fix_escalation
    assert set(links["fix_id"]) <= fixes
    assert set(links["escalation_id"]) <= escalations
    assert links.is_duplicated().sum() == 0


def test_linked_signals_belong_to_the_escalations_account(
    small_history: DemoHistory,
) -> None:
    account_of = dict(small_history.escalation.select("id", "account_id").iter_rows())

    for account_id, escalation_id in small_history.signal.select(
        "account_id", "escalation_id"
    ).iter_rows():
        if escalation_id is not None:
            assert account_of[escalation_id] == account_id

    assert small_history.signal["escalation_id"].null_count() > 0


def test_external_ids_are_unique(small_history: DemoHistory) -> None:
    for frame in (small_history.account, small_history.escalation):
        assert frame["external_id"].n_unique() == frame.height


def test_text_fits_the_models_length_limits(small_history: DemoHistory) -> None:
    tables = small_history.tables()
    checked = 0
    for name, model in MODELS.items():
        for field_name, field in model.model_fields.items():
            limits = [
                m.max_length
                for m in field.metadata
                if isinstance(m, annotated_types.MaxLen)
            ]
            if not limits:
                continue
            longest = tables[name][field_name].str.len_chars().max()
            assert longest is None or longest <= limits[0], (name, field_name)
            checked += 1

    assert checked > 30


def test_no_template_slot_is_left_unfilled(small_history: DemoHistory) -> None:
    for name, frame in small_history.tables().items():
        for column, dtype in frame.schema.items():
            if dtype == pl.String:
                leftovers = frame[column].drop_nulls().str.contains(r"[{}]").sum()
                assert leftovers == 0, (name, column)


def test_categorical_columns_stay_inside_their_enums(
    small_history: DemoHistory,
) -> None:
    escalation = small_history.escalation
    signal = small_history.signal
    fix = small_history.process_fix

    assert set(escalation["severity"]) == values(Severity)
    assert set(escalation["raised_via"]) == values(RaisedVia)
    assert set(escalation["status"]) == values(EscalationStatus)
    assert set(signal["source"]) == values(SignalSource)
    assert set(signal["tone"].drop_nulls()) == values(Tone)
    assert set(fix["root_cause"]) <= values(RootCause)
    assert set(fix["status"]) <= values(FixStatus)


def test_mixes_are_realistic(small_history: DemoHistory) -> None:
    severities = Counter(small_history.escalation["severity"].to_list())
    via = Counter(small_history.escalation["raised_via"].to_list())

    assert min(severities, key=severities.__getitem__) == Severity.CRITICAL
    assert max(via, key=via.__getitem__) == RaisedVia.PROACTIVE
    assert small_history.account["segment"].n_unique() >= 3
    assert small_history.account["region"].n_unique() >= 3
    assert small_history.team.height == 6
    assert small_history.escalation["trigger_type"].n_unique() == 10
    assert small_history.escalation["owner"].drop_nulls().n_unique() > 20


def test_back_door_channels_are_more_often_late(small_history: DemoHistory) -> None:
    flags = late_flags(small_history)
    back_door = {RaisedVia.EXECUTIVE_BACKCHANNEL, RaisedVia.PUBLIC_PRESSURE}

    def back_door_share(late: bool) -> float:
        via = flags.filter(pl.col("late") == late)["raised_via"].to_list()
        return sum(v in back_door for v in via) / len(via)

    assert back_door_share(True) > back_door_share(False) + 0.1


def test_late_escalations_concentrate_in_two_teams(demo_history: DemoHistory) -> None:
    # The demo size: at a fifth of it the smallest team has about thirty
    # escalations, too few for its late rate to say much.
    flags = late_flags(demo_history)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for team, late in flags.select("team", "late").iter_rows():
        totals[team][0] += late
        totals[team][1] += 1
    rates = sorted((late / count for late, count in totals.values()), reverse=True)

    assert len(rates) == 6
    assert rates[1] > rates[2] + 0.1
    assert rates[1] > 1.6 * max(rates[2:])


def test_late_escalations_concentrate_in_two_trigger_types(
    demo_history: DemoHistory,
) -> None:
    flags = late_flags(demo_history)
    rates = (
        flags.group_by("trigger_type")
        .agg(pl.col("late").mean())
        .sort("late", descending=True)["late"]
        .to_list()
    )

    assert rates[1] > rates[2] + 0.05


def test_some_level_changes_change_nothing_and_others_something(
    small_history: DemoHistory,
) -> None:
    changes = small_history.level_change
    for thing in THINGS:
        before = changes[f"{thing}_before"].is_null()
        after = changes[f"{thing}_after"].is_null()
        assert before.equals(after), thing

    changed = changes.select(
        pl.sum_horizontal(pl.col(f"{thing}_after").is_not_null() for thing in THINGS)
    ).to_series()
    assert (changed == 0).sum() > 0.05 * changes.height
    assert (changed > 0).sum() > 0.5 * changes.height
    assert ((changes["to_level"] - changes["from_level"]).abs() == 1).all()


def test_level_and_owner_agree_with_the_last_level_change(
    small_history: DemoHistory,
) -> None:
    last = (
        small_history.level_change.sort("at")
        .group_by("escalation_id")
        .agg(pl.col("to_level").last())
    )
    joined = small_history.escalation.join(
        last, left_on="id", right_on="escalation_id", how="left"
    )

    expected = joined["to_level"].fill_null(1)
    assert joined["level"].equals(expected.rename("level"))


def test_packet_answers_are_sometimes_missing(small_history: DemoHistory) -> None:
    escalation = small_history.escalation
    for field in PACKET_FIELDS:
        missing = escalation[field].null_count() / escalation.height
        assert 0.04 <= missing <= 0.35, (field, missing)


def test_packets_read_like_real_ones(small_history: DemoHistory) -> None:
    escalation = small_history.escalation
    names = set(small_history.account["name"])
    risks = escalation["risk"].drop_nulls()

    assert risks.n_unique() > 0.9 * risks.len()
    assert (
        sum(any(name in risk for name in names) for risk in risks.to_list())
        > 0.3 * risks.len()
    )
    assert escalation["options"].drop_nulls().str.len_chars().min() > 40


def test_struggling_teams_leave_more_of_the_packet_blank(
    small_history: DemoHistory,
) -> None:
    flags = late_flags(small_history).select("id", "team")
    blanks = small_history.escalation.join(flags, on="id").select(
        "team", pl.sum_horizontal(pl.col(PACKET_FIELDS).is_null()).alias("blank")
    )
    per_team = dict(blanks.group_by("team").agg(pl.col("blank").mean()).iter_rows())
    rates = dict(
        late_flags(small_history)
        .group_by("team")
        .agg(pl.col("late").mean())
        .iter_rows()
    )
    worst_two = sorted(rates, key=rates.__getitem__)[-2:]

    assert min(per_team[t] for t in worst_two) > max(
        v for t, v in per_team.items() if t not in worst_two
    )


def test_tone_turns_frustrated_and_exit_seeking_before_late_escalations(
    demo_history: DemoHistory,
) -> None:
    flags = late_flags(demo_history).select(
        "id", "late", "escalated_at", "first_signal_at"
    )
    signals = demo_history.signal.join(
        flags, left_on="escalation_id", right_on="id"
    ).filter(pl.col("late") & pl.col("tone").is_not_null())

    def unhappy_share(rows: pl.DataFrame) -> float:
        tones = rows["tone"].to_list()
        return sum(t != Tone.HELP_SEEKING for t in tones) / len(tones)

    first = signals.filter(pl.col("observed_at") == pl.col("first_signal_at"))
    near = signals.filter(
        pl.col("observed_at")
        >= pl.col("escalated_at")
        - (pl.col("escalated_at") - pl.col("first_signal_at")) * 0.2
    )

    assert unhappy_share(near) > unhappy_share(first) + 0.2
    exit_texts = demo_history.signal.filter(pl.col("tone") == Tone.EXIT_SEEKING)["text"]
    assert exit_texts.str.contains("alternatives|other vendors|options").any()
    assert exit_texts.str.contains("appreciate|Thank you|enjoyed").any()


def test_built_to_work_fixes_lower_their_trigger_volume(
    demo_history: DemoHistory,
) -> None:
    window = timedelta(weeks=8)
    by_trigger: dict[str, list[datetime]] = defaultdict(list)
    for trigger, escalated in demo_history.escalation.select(
        "trigger_type", "escalated_at"
    ).iter_rows():
        by_trigger[trigger].append(escalated)

    def before_and_after(trigger: str, shipped: datetime) -> tuple[int, int]:
        times = by_trigger[trigger]
        before = sum(shipped - window <= t < shipped for t in times)
        after = sum(shipped <= t < shipped + window for t in times)
        return before, after

    truth = demo_history.fix_truth.filter(pl.col("shipped_at").is_not_null())
    built = truth.filter(pl.col("built_to_work"))
    assert built.height >= 4
    assert truth.height - built.height >= 4
    for trigger, shipped, multiplier in built.select(
        "trigger_type", "shipped_at", "volume_multiplier"
    ).iter_rows():
        before, after = before_and_after(trigger, shipped)
        assert 0.2 <= multiplier <= 0.25
        assert after < 0.85 * before, (trigger, before, after)

    built_ratio = [
        after / before
        for before, after in (
            before_and_after(t, s)
            for t, s in built.select("trigger_type", "shipped_at").iter_rows()
        )
    ]
    idle = truth.filter(~pl.col("built_to_work"))
    idle_ratio = [
        after / before
        for before, after in (
            before_and_after(t, s)
            for t, s in idle.select("trigger_type", "shipped_at").iter_rows()
        )
    ]
    assert sum(idle_ratio) / len(idle_ratio) > sum(built_ratio) / len(built_ratio) + 0.3


def test_fix_truth_matches_the_fixes(demo_history: DemoHistory) -> None:
    truth = demo_history.fix_truth
    fixes = demo_history.process_fix

    assert truth["fix_id"].equals(fixes["id"].rename("fix_id"))
    assert truth["trigger_type"].equals(fixes["trigger_type"])
    assert truth["shipped_at"].equals(fixes["shipped_at"])
    shipped = {FixStatus.SHIPPED, FixStatus.VERIFIED}
    for status, shipped_at in fixes.select("status", "shipped_at").iter_rows():
        assert (status in shipped) == (shipped_at is not None)
    assert 25 <= fixes.height <= 35
    assert demo_history.process_fix_escalation.height > fixes.height


def test_scale_multiplies_counts_and_fixes_stay_put() -> None:
    small = generate_history(seed=2, scale=0.1, end=END).counts()
    large = generate_history(seed=2, scale=0.4, end=END).counts()

    for table in ("account", "escalation", "signal", "level_change"):
        assert 3.4 < large[table] / small[table] < 4.6, table
    assert large["process_fix"] == small["process_fix"] == 30


def test_signal_openings_name_their_author_and_renewal_dates_their_account(
    small_history: DemoHistory,
) -> None:
    signals = small_history.signal.join(
        small_history.account.select(pl.col("id").alias("account_id"), "renewal_date"),
        on="account_id",
    )
    quoted = signals.filter(
        pl.col("text").str.starts_with("Transcript, ") & pl.col("author").is_not_null()
    )
    dated = signals.filter(
        pl.col("text").str.contains("renewing on ")
        & pl.col("renewal_date").is_not_null()
    )

    assert quoted.height > 0
    for text, author in quoted.select("text", "author").iter_rows():
        assert text.startswith(f"Transcript, {author}: ")
    assert dated.height > 0
    for text, renewal in dated.select("text", "renewal_date").iter_rows():
        assert f"renewing on {renewal.day} {renewal:%B %Y}" in text


def test_some_accounts_drift_toward_leaving_before_the_end_unescalated(
    demo_history: DemoHistory,
) -> None:
    recent = END - timedelta(days=35)
    quiet_since = END - timedelta(days=90)
    busy = demo_history.escalation.filter(
        (pl.col("escalated_at") >= quiet_since) | pl.col("resolved_at").is_null()
    )["account_id"]
    drifting = (
        demo_history.signal.filter(
            pl.col("observed_at") >= recent,
            pl.col("escalation_id").is_null(),
            ~pl.col("account_id").is_in(busy.implode()),
        )
        .group_by("account_id")
        .agg(
            pl.len().alias("signals"),
            (pl.col("tone") == "exit_seeking").mean().alias("exit_share"),
        )
        .filter(pl.col("signals") >= 4, pl.col("exit_share") >= 0.4)
    )

    # 300 accounts / 40 = 7.5, rounded to 8 drifting accounts; random tones can
    # leave a few of them under a 40 % exit share, background noise can add one.
    assert 4 <= drifting.height <= 10


def test_parts_put_together_are_the_history(monkeypatch: pytest.MonkeyPatch) -> None:
    # 500 escalations in parts of 123 and 5,000 signals in parts of 1,234:
    # four full parts of each and a short last one.
    monkeypatch.setattr("seed_data.generate.ESCALATION_PART_ROWS", 123)
    monkeypatch.setattr("seed_data.signals.SIGNAL_PART_ROWS", 1_234)
    whole = generate_history(seed=3, scale=0.2, end=END)
    parts = list(history_parts(seed=3, scale=0.2, end=END))

    names = [name for name, _ in parts]
    order = list(dict.fromkeys(names))
    assert sorted(order) == sorted(table_order())
    # Each table's parts one after another, and parents before children.
    assert [name for name, _ in itertools.groupby(names)] == order
    for name in order:
        for key in SQLModel.metadata.tables[name].foreign_keys:
            assert order.index(key.column.table.name) < order.index(name)
    sizes = {
        table: [frame.height for name, frame in parts if name == table]
        for table in ("escalation", "signal", "account")
    }
    assert sizes == {
        "escalation": [123] * 4 + [500 - 4 * 123],
        "signal": [1_234] * 4 + [5_000 - 4 * 1_234],
        "account": [60],
    }
    for name, frame in whole.tables().items():
        joined = pl.concat([part for n, part in parts if n == name])
        assert_frame_equal(joined, frame)
    # The part sizes change which draws go to which rows, not the ids.
    assert whole.signal["id"].to_list() == list(range(1, 5_001))
    assert whole.escalation["id"].to_list() == list(range(1, 501))


def test_expected_rows_is_close_to_what_is_generated(
    demo_history: DemoHistory,
) -> None:
    generated = sum(demo_history.counts().values())

    assert abs(expected_rows(1.0) - generated) / generated < 0.02

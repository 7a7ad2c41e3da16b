"""On the generated demo history, the default flags warn of late escalations ahead.

The generator drifts signal tone toward exit seeking before bad escalations.
The signals are labelled by the tone model here, as on the page, and the
assertions are properties of a working early warning rather than figures
copied from a run.
"""

from datetime import UTC, datetime

import polars as pl
import pytest

from metrics.early_warning import (
    DEFAULT_EARLY_WARNING_SETTINGS,
    backtest,
    backtest_summary,
    current_flags,
    draft_packet,
    flag_episodes,
    flag_evaluations,
    similar_past_cases,
)
from metrics.tone import score_tone
from seed_data.generate import generate_history

END = datetime(2026, 6, 1, tzinfo=UTC)
SETTINGS = DEFAULT_EARLY_WARNING_SETTINGS
NO_DECISIONS = pl.DataFrame(
    schema={
        "account_id": pl.Int64,
        "decision": pl.String,
        "decided_at": pl.Datetime("us", "UTC"),
    }
)


@pytest.fixture(scope="module")
def demo() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Scored signals and escalations (with account names) of the demo size."""
    history = generate_history(seed=7, scale=1.0, end=END)
    scored = pl.concat(
        [history.signal.drop("tone"), score_tone(history.signal.get_column("text"))],
        how="horizontal",
    )
    names = history.account.select(
        pl.col("id").alias("account_id"), pl.col("name").alias("account_name")
    )
    return scored, history.escalation.join(names, on="account_id")


@pytest.fixture(scope="module")
def backtested(demo: tuple[pl.DataFrame, pl.DataFrame]) -> pl.DataFrame:
    scored, escalations = demo
    return backtest(scored, escalations, settings=SETTINGS)


def test_late_escalations_are_flagged_days_ahead(backtested: pl.DataFrame) -> None:
    late_ahead = backtested.filter(pl.col("is_late") & pl.col("flagged_ahead"))

    assert late_ahead.height > 0
    # Every lead is a real lead: after the flag, before the escalation, and
    # inside the lookback.
    assert late_ahead.select(
        (pl.col("first_flagged_at") < pl.col("escalated_at")).all().alias("before"),
        (pl.col("lead_days") > 0).all().alias("positive"),
        (pl.col("lead_days") <= SETTINGS.lookback_days).all().alias("in_lookback"),
    ).row(0) == (True, True, True)
    # Days ahead, not minutes: the typical lead is more than a day.
    assert late_ahead.get_column("lead_days").median() > 1  # type: ignore[operator]


def test_flags_that_lead_nowhere_are_a_minority(
    demo: tuple[pl.DataFrame, pl.DataFrame], backtested: pl.DataFrame
) -> None:
    scored, escalations = demo
    episodes = flag_episodes(scored, escalations, as_of=END, settings=SETTINGS)

    summary = backtest_summary(backtested, episodes).row(0, named=True)

    assert summary["episodes_judged"] > 0
    assert summary["led_nowhere_share"] < 0.5
    assert summary["late_flagged_ahead"] > 0


def test_the_flag_rule_holds_on_every_evaluation(
    demo: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    scored, _ = demo

    evaluations = flag_evaluations(scored, SETTINGS)

    # One evaluation per account and instant, flagged exactly by the rule.
    assert evaluations.height == scored.select("account_id", "observed_at").n_unique()
    rule = (pl.col("signals_in_window") >= SETTINGS.min_signals) & (
        pl.col("exit_share") >= SETTINGS.exit_share_threshold
    )
    assert evaluations.select((pl.col("flagged") == rule).all()).item()


def test_the_current_flags_can_be_drafted_into_packets(
    demo: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    scored, escalations = demo

    flags = current_flags(scored, escalations, NO_DECISIONS, as_of=END)
    similar = similar_past_cases(scored, escalations, flags, as_of=END)

    assert flags.height > 0
    assert flags.get_column("rank").to_list() == list(range(1, flags.height + 1))
    assert flags.select((pl.col("flagged_since") <= END).all()).item()
    top = flags.row(0, named=True)
    packet = draft_packet(
        f"Account {top['account_id']}",
        scored.filter(pl.col("account_id") == top["account_id"]),
        similar.filter(pl.col("account_id") == top["account_id"]),
        as_of=END,
    )
    assert f"Account {top['account_id']}" in packet.risk
    assert len(packet.evidence_signal_ids) >= top["exit_seeking"]

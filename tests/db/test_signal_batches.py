"""Signals read in batches for the tone model, and accounts for the lists."""

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from db.queries import (
    ACCOUNT_SCHEMA,
    TONE_INPUT_COLUMNS,
    iter_signal_batches,
    load_accounts,
    signal_fingerprint,
)
from tests.factories import account, at, escalation, signal, write


def test_batches_cover_every_signal_once_in_id_order(db_engine: Engine) -> None:
    (owner,) = write(db_engine, account(name="Atlas Foods"))
    ids = write(
        db_engine,
        *(
            signal(owner, None, at("2026-03-01", hour), text=f"t{hour}")
            for hour in range(5)
        ),
    )

    with db_engine.connect() as connection:
        batches = list(iter_signal_batches(connection=connection, batch_rows=2))

    # Five rows in batches of two: 2 + 2 + 1.
    assert [batch.height for batch in batches] == [2, 2, 1]
    together = pl.concat(batches)
    assert together.columns == list(TONE_INPUT_COLUMNS)
    assert together["id"].to_list() == ids
    assert together["text"].to_list() == [f"t{hour}" for hour in range(5)]
    assert together["observed_at"].dtype == pl.Datetime("us", "UTC")


def test_since_keeps_signals_observed_at_or_after_it(db_engine: Engine) -> None:
    (owner,) = write(db_engine, account(name="Atlas Foods"))
    write(
        db_engine,
        signal(owner, None, at("2026-03-01", 23.5)),
        signal(owner, None, at("2026-03-02")),  # exactly at ``since``: kept
        signal(owner, None, at("2026-03-03")),
    )

    with db_engine.connect() as connection:
        kept = pl.concat(
            iter_signal_batches(connection=connection, since=at("2026-03-02"))
        )

    assert kept["observed_at"].to_list() == [at("2026-03-02"), at("2026-03-03")]


def test_no_signals_gives_no_batches_and_accounts_keep_their_schema(
    db_engine: Engine,
) -> None:
    with db_engine.connect() as connection:
        assert list(iter_signal_batches(connection=connection)) == []
        assert load_accounts(connection=connection).schema == pl.Schema(ACCOUNT_SCHEMA)


def test_accounts_carry_their_filter_attributes(db_engine: Engine) -> None:
    first, second = write(
        db_engine,
        account(name="Atlas Foods", team="Atlas", segment="enterprise"),
        account(name="Boreal Freight", team="Borealis", segment="smb"),
    )

    with db_engine.connect() as connection:
        loaded = load_accounts(connection=connection)

    assert loaded.select("account_id", "account_name", "team", "segment").rows() == [
        (first, "Atlas Foods", "Atlas", "enterprise"),
        (second, "Boreal Freight", "Borealis", "smb"),
    ]


def test_the_fingerprint_moves_with_new_signals_only(db_engine: Engine) -> None:
    (owner,) = write(db_engine, account(name="Atlas Foods"))
    (first,) = write(db_engine, signal(owner, None, at("2026-03-01")))

    with db_engine.connect() as connection:
        before = signal_fingerprint(connection=connection)
    (claimed,) = write(db_engine, escalation(owner, at("2026-03-02"), 24))
    with db_engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE signal SET escalation_id = :e WHERE id = :s"),
            {"e": claimed, "s": first},
        )
        same = signal_fingerprint(connection=connection)
    (second,) = write(db_engine, signal(owner, None, at("2026-03-03")))
    with db_engine.connect() as connection:
        after = signal_fingerprint(connection=connection)

    assert before == same == (1, first)
    assert after == (2, second)

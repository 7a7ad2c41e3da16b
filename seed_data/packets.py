"""Escalation rows with their packets, composed from template fragments."""

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from seed_data import phrases, vocab
from seed_data.arrays import (
    US_PER_DAY,
    IntArray,
    external_ids,
    names_or_null,
    numbers,
    utc,
    with_nulls,
)
from seed_data.book import Accounts, People
from seed_data.escalations import (
    RAISED_VIA,
    SEVERITIES,
    STATUSES,
    SUBJECT_CAP,
    SUBJECT_TEXT,
    TRIGGER_CODES,
    Escalations,
)
from seed_data.text import Family, Pool, render

# Share of answers left blank in a packet, per field, for a well run team.
_MISSING_RATE = {
    "risk": 0.07,
    "evidence": 0.10,
    "options": 0.13,
    "decision_needed": 0.10,
    "next_owner": 0.12,
    "consequence_if_unchanged": 0.13,
    "exit_evidence": 0.16,
}

_STRUGGLING_MISSING_FACTOR = 1.8
_APPROVERS = (
    "The team lead",
    "The director of customer success",
    "Our VP of customer experience",
    "The CRO",
)


def escalation_frame(
    rng: np.random.Generator,
    *,
    esc: Escalations,
    accounts: Accounts,
    people: People,
    final_owner: IntArray,
    final_level: IntArray,
    signal_counts: IntArray,
    first_id: int = 1,
) -> pl.DataFrame:
    """Escalation rows with their packets; some answers left blank.

    ``esc`` and the arrays beside it may be one slice of all escalations;
    ``first_id`` is then the id of the slice's first row.
    """
    size = esc.size
    ids = np.arange(first_id, first_id + size, dtype=np.int64)
    number_text = numbers(1_000)
    amounts = pl.Series(
        [f"${value:,.0f}" for value in np.round(rng.lognormal(9.6, 0.9, 400), -2)]
    )
    due_us = esc.escalated_us + rng.integers(2, 11, size) * US_PER_DAY
    next_level = np.minimum(final_level, vocab.MAX_LEVEL - 1)
    latency_days = np.ceil((esc.escalated_us - esc.first_us) / US_PER_DAY)
    slots = {
        "account": Pool(accounts.names, esc.account),
        "arr": Pool(accounts.arr_text, esc.account),
        "renewal": Pool(accounts.renewal_text, esc.account),
        "first_seen": Pool.per_row(utc(esc.first_us, "").dt.strftime("%-d %b")),
        "escalated": Pool.per_row(utc(esc.escalated_us, "").dt.strftime("%-d %b")),
        "due": Pool.per_row(utc(due_us, "").dt.strftime("%A %-d %b")),
        "signals": Pool(number_text, np.minimum(signal_counts, 1_000)),
        "days": Pool(number_text, np.clip(latency_days, 1, 1_000).astype(np.int64)),
        "subject": Pool(SUBJECT_TEXT, esc.subject),
        "subject_cap": Pool(SUBJECT_CAP, esc.subject),
        "contact": Pool(people.contact_names, esc.contact),
        "contact_title": Pool(people.contact_titles, esc.contact),
        "csm": Pool(people.names, people.csm_of_account[esc.account]),
        "n": Pool(number_text, rng.integers(2, 10, size)),
        "pct": Pool(number_text, rng.integers(12, 66, size)),
        "users": Pool(number_text, rng.integers(2, 90, size) * 10),
        "amount": Pool(amounts, rng.integers(0, amounts.len(), size)),
        "approver": Pool(pl.Series(_APPROVERS), final_level - 1),
        "next_name": Pool(people.names, esc.owners[np.arange(size), next_level]),
        "next_role": Pool(pl.Series(vocab.LEVEL_ROLES), next_level),
    }
    options = Family.of([phrases.OPTIONS_BY_TRIGGER[c] for c in TRIGGER_CODES])
    first_option = options.choose(rng, esc.trigger)
    sizes = options.sizes[esc.trigger]
    offset = options.offsets[esc.trigger]
    shift = 1 + np.floor(rng.random(size) * (sizes - 1)).astype(np.int64)
    second_option = offset + (first_option - offset + shift) % sizes
    slots["opt_a"] = Pool.per_row(render(options.templates, first_option, slots))
    slots["opt_b"] = Pool.per_row(render(options.templates, second_option, slots))

    def by_trigger(
        specific: Mapping[str, Sequence[str]], generic: Sequence[str] = ()
    ) -> pl.Series:
        """Render one template per row from its trigger's list plus shared ones."""
        family = Family.of([(*specific[code], *generic) for code in TRIGGER_CODES])
        return render(family.templates, family.choose(rng, esc.trigger), slots)

    def shared(templates: tuple[str, ...]) -> pl.Series:
        """Render one template per row from a list shared by every trigger."""
        choice = rng.integers(0, len(templates), size).astype(np.int64)
        return render(templates, choice, slots)

    risk_core = by_trigger(phrases.RISK_BY_TRIGGER)
    risk = pl.select(
        pl.concat_str(pl.lit(risk_core), pl.lit(shared(phrases.RISK_TAILS)))
    ).to_series()
    packet = {
        "risk": risk,
        "evidence": by_trigger(phrases.EVIDENCE_BY_TRIGGER, phrases.GENERIC_EVIDENCE),
        "options": shared(phrases.OPTION_FRAMES),
        "decision_needed": shared(phrases.DECISION_FRAMES),
        "next_owner": shared(phrases.NEXT_OWNER_FRAMES),
        "consequence_if_unchanged": by_trigger(
            phrases.CONSEQUENCE_BY_TRIGGER, phrases.GENERIC_CONSEQUENCES
        ),
        "exit_evidence": by_trigger(phrases.EXIT_BY_TRIGGER, phrases.GENERIC_EXITS),
    }
    factor = np.where(esc.struggling, _STRUGGLING_MISSING_FACTOR, 1.0)
    for field, text in packet.items():
        missing = rng.random(size) < _MISSING_RATE[field] * factor
        packet[field] = with_nulls(text.rename(field), missing)

    raised_by_person = np.choose(
        esc.via,
        (
            people.csm_of_account[esc.account],
            esc.contact + people.names.len(),
            esc.contact + people.names.len(),
            np.full(size, people.comms),
        ),
    )
    everyone = pl.concat([people.names, people.contact_names])
    raised_by_missing = rng.random(size) < 0.04
    owner_missing = rng.random(size) < np.where(esc.struggling, 0.05, 0.02)
    return pl.DataFrame(
        [
            pl.Series("id", ids),
            external_ids("ESC-", ids, 7).rename("external_id"),
            pl.Series("account_id", esc.account + 1),
            pl.Series(TRIGGER_CODES).gather(esc.trigger).rename("trigger_type"),
            pl.Series(SEVERITIES).gather(esc.severity).rename("severity"),
            utc(esc.first_us, "first_signal_at"),
            utc(esc.escalated_us, "escalated_at"),
            with_nulls(
                utc(np.maximum(esc.resolved_us, 0), "resolved_at"),
                esc.resolved_us < 0,
            ),
            pl.Series(STATUSES).gather(esc.status).rename("status"),
            pl.Series("level", final_level),
            names_or_null(
                people.names, np.where(owner_missing, -1, final_owner), "owner"
            ),
            names_or_null(
                everyone,
                np.where(raised_by_missing, -1, raised_by_person),
                "raised_by",
            ),
            pl.Series(RAISED_VIA).gather(esc.via).rename("raised_via"),
            *(packet[name] for name in _MISSING_RATE),
        ]
    )

"""Signals: tickets, chats, calls, reviews and renewal talk, linked or not."""

import numpy as np
import polars as pl

from db.models import SignalSource, Tone
from seed_data import phrases, vocab
from seed_data.arrays import (
    HISTORY_DAYS,
    US_PER_DAY,
    BoolArray,
    IntArray,
    names_or_null,
    numbers,
    pick,
    time_of_day,
    utc,
    with_nulls,
)
from seed_data.book import Accounts, People
from seed_data.escalations import SUBJECT_TEXT, SUBJECTS, TRIGGER_CODES, Escalations
from seed_data.text import Family, Pool, render

SOURCES = tuple(member.value for member in SignalSource)
TONES = tuple(member.value for member in Tone)
_HELP, _FRUSTRATED, _EXIT = 0, 1, 2
# Source mix per tone (rows: help, frustrated, exit, routine question; columns in
# SignalSource order): exit talk surfaces in reviews and renewal calls.
_SOURCE_GIVEN_TONE = np.array(
    [
        [0.50, 0.35, 0.08, 0.05, 0.02],
        [0.45, 0.25, 0.18, 0.08, 0.04],
        [0.15, 0.05, 0.20, 0.25, 0.35],
        [0.60, 0.40, 0.00, 0.00, 0.00],
    ]
)


def build_signals(
    rng: np.random.Generator,
    *,
    target: int,
    start_us: int,
    end_us: int,
    esc: Escalations,
    accounts: Accounts,
    people: People,
) -> tuple[pl.DataFrame, IntArray]:
    """Signals linked to escalations, plus unlinked ones up to ``target`` rows.

    The first linked signal of an escalation is observed exactly at its
    ``first_signal_at``; the others fall between that and the escalation, or
    shortly after it. Tone drifts from help seeking towards frustration and
    exit seeking as a bad (late, recurring or critical) escalation nears.
    """
    bad = esc.late | esc.recurring | (esc.severity == 0)
    mean_extra = 3.2 + 3.0 * esc.late + 1.5 * esc.recurring + 1.0 * (esc.severity <= 1)
    per_escalation = 1 + rng.poisson(mean_extra)
    n_linked = int(per_escalation.sum())
    owner_row = np.repeat(np.arange(esc.size), per_escalation)
    position = np.arange(n_linked) - np.repeat(
        np.cumsum(per_escalation) - per_escalation, per_escalation
    )

    first = esc.first_us[owner_row]
    escalated = esc.escalated_us[owner_row]
    resolved = esc.resolved_us[owner_row]
    follow_end = np.minimum(
        np.where(resolved >= 0, resolved, end_us), escalated + 14 * US_PER_DAY
    )
    after = (position > 0) & (rng.random(n_linked) < 0.2)
    draw = rng.random(n_linked)
    before_at = first + ((1.0 - draw) * (escalated - first)).astype(np.int64)
    after_at = escalated + (draw * (follow_end - escalated)).astype(np.int64)
    linked_at = np.where(position == 0, first, np.where(after, after_at, before_at))
    progress = np.where(
        position == 0,
        0.0,
        np.where(after, 1.0, (linked_at - first) / (escalated - first)),
    )
    is_bad = bad[owner_row]
    p_exit = np.where(is_bad, 0.03 + 0.40 * progress**2, 0.01 + 0.04 * progress)
    p_frustrated = np.where(is_bad, 0.15 + 0.45 * progress, 0.06 + 0.22 * progress)
    draw = rng.random(n_linked)
    linked_tone = np.where(
        draw < p_exit, _EXIT, np.where(draw < p_exit + p_frustrated, _FRUSTRATED, _HELP)
    )
    own_subject = rng.random(n_linked) < 0.8
    linked_subject = np.where(
        own_subject,
        esc.subject[owner_row],
        SUBJECTS.choose(rng, esc.trigger[owner_row]),
    )
    own_contact = rng.random(n_linked) < 0.7
    linked_account = esc.account[owner_row]
    linked_contact = np.where(
        own_contact,
        esc.contact[owner_row],
        3 * linked_account + rng.integers(0, 3, n_linked),
    )

    # Unlinked signals: mostly routine questions, some real risk nobody raised.
    n_unlinked = max(0, target - n_linked)
    spread = np.sqrt(accounts.weight)
    free_account = rng.choice(spread.size, n_unlinked, p=spread / spread.sum())
    free_at = (
        start_us
        + rng.integers(0, HISTORY_DAYS, n_unlinked) * US_PER_DAY
        + time_of_day(rng, n_unlinked)
    )
    generic = rng.random(n_unlinked) < 0.55
    free_tone = np.where(
        generic,
        _HELP,
        pick(rng, np.array([[0.6, 0.3, 0.1]]), np.zeros(n_unlinked, np.int64)),
    )
    free_trigger = rng.integers(0, len(vocab.TRIGGERS), n_unlinked)

    account = np.concatenate([linked_account, free_account]).astype(np.int64)
    observed = np.concatenate([linked_at, free_at]).astype(np.int64)
    escalation_id = np.concatenate([owner_row + 1, np.full(n_unlinked, -1)])
    tone = np.concatenate([linked_tone, free_tone]).astype(np.int64)
    is_generic = np.concatenate([np.zeros(n_linked, dtype=bool), generic])
    trigger = np.concatenate([esc.trigger[owner_row], free_trigger])
    subject = np.concatenate(
        [linked_subject, SUBJECTS.choose(rng, free_trigger)]
    ).astype(np.int64)
    contact = np.concatenate(
        [linked_contact, 3 * free_account + rng.integers(0, 3, n_unlinked)]
    ).astype(np.int64)
    source = pick(rng, _SOURCE_GIVEN_TONE, np.where(is_generic, 3, tone))
    size = observed.size
    tone_missing = rng.random(size) < 0.02
    author_missing = rng.random(size) < 0.04

    # Put rows in id order (by observation time) before writing any text, so the
    # long strings are built once in place rather than shuffled afterwards.
    order = np.argsort(observed, kind="stable")
    account, contact, source, tone = (
        account[order],
        contact[order],
        source[order],
        tone[order],
    )
    text = _signal_text(
        rng,
        source=source,
        tone=tone,
        is_generic=is_generic[order],
        trigger=trigger[order],
        subject=subject[order],
        account=account,
        contact=contact,
        accounts=accounts,
        people=people,
    )
    frame = pl.DataFrame(
        [
            pl.Series("id", np.arange(1, size + 1, dtype=np.int64)),
            pl.Series("account_id", account + 1),
            with_nulls(
                pl.Series("escalation_id", escalation_id[order]),
                escalation_id[order] < 0,
            ),
            pl.Series(SOURCES).gather(source).rename("source"),
            utc(observed[order], "observed_at"),
            names_or_null(
                people.contact_names,
                np.where(author_missing[order], -1, contact),
                "author",
            ),
            text.rename("text"),
            names_or_null(
                pl.Series(TONES), np.where(tone_missing[order], -1, tone), "tone"
            ),
        ]
    )
    return frame, per_escalation


def _signal_text(
    rng: np.random.Generator,
    *,
    source: IntArray,
    tone: IntArray,
    is_generic: BoolArray,
    trigger: IntArray,
    subject: IntArray,
    account: IntArray,
    contact: IntArray,
    accounts: Accounts,
    people: People,
) -> pl.Series:
    """Signal text: a source-typical prefix and a tone-typical sentence."""
    size = source.size
    number_text = numbers(60)
    specific = np.flatnonzero(~is_generic)
    issues = Family.of([phrases.ISSUES_BY_TRIGGER[code] for code in TRIGGER_CODES])
    issue_text = render(
        issues.templates,
        issues.choose(rng, trigger[specific]),
        {
            "subject": Pool(SUBJECT_TEXT, subject[specific]),
            "n": Pool(number_text, rng.integers(2, 13, specific.size)),
            "pct": Pool(number_text, rng.integers(8, 45, specific.size)),
            "weekday": Pool(
                pl.Series(vocab.WEEKDAYS),
                rng.integers(0, len(vocab.WEEKDAYS), specific.size),
            ),
        },
    )
    issue_index = np.zeros(size, dtype=np.int64)
    issue_index[specific] = np.arange(specific.size)

    # Prefix and sentence are rendered as one template per (source, tone) pair,
    # which saves a second pass over ten million strings.
    sentence_groups = [*phrases.TONE_SENTENCES, phrases.GENERIC_HELP]
    texts = Family.of(
        [
            tuple(prefix + sentence for prefix in prefixes for sentence in sentences)
            for prefixes in phrases.SOURCE_PREFIXES
            for sentences in sentence_groups
        ]
    )
    sentence_group = np.where(is_generic, len(phrases.TONE_SENTENCES), tone)
    tickets = pl.Series(rng.integers(10_000, 99_999, 4_000)).cast(pl.String)
    return render(
        texts.templates,
        texts.choose(rng, source * len(sentence_groups) + sentence_group),
        {
            "issue": Pool(issue_text, issue_index),
            "days": Pool(number_text, rng.integers(2, 31, size)),
            "renewal": Pool(accounts.renewal_text, account),
            "task": Pool(
                pl.Series(vocab.GENERIC_TASKS),
                rng.integers(0, len(vocab.GENERIC_TASKS), size),
            ),
            "ticket": Pool(tickets, rng.integers(0, tickets.len(), size)),
            "csm": Pool(people.names, people.csm_of_account[account]),
            "contact": Pool(people.contact_names, contact),
        },
    )

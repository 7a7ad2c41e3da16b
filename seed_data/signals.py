"""Signals: tickets, chats, calls, reviews and renewal talk, linked or not."""

import re
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
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

# Message bodies are composed once per (tone, subject), this many of each, plus
# as many routine questions; every signal then picks one. Ten million signals
# cost a gather instead of a template fill each. NOTE: texts repeat more than
# when every signal drew its own numbers: at the demo size about half of the
# 25,000 signals share their text with another, as terse tickets do.
BODIES_PER_GROUP = 96
# Rows per part of the signal table that build_signals yields: big enough for
# bulk writes, small enough that a part is ready long before the loader is.
SIGNAL_PART_ROWS = 1_000_000
_TRIGGER_OF_SUBJECT = np.repeat(
    np.arange(SUBJECTS.sizes.size, dtype=np.int64), SUBJECTS.sizes
)
_N_SUBJECTS = int(_TRIGGER_OF_SUBJECT.size)
# Body group of a signal: tone * subjects + subject, or this one for a routine
# question, which is about no subject in particular.
_ROUTINE_GROUP = 3 * _N_SUBJECTS
_SLOT = re.compile(r"\{([a-z_]+)\}")
# The slots an opening may have. A ticket number is drawn per pooled text; a
# name is filled per signal, as is a renewal date in the body, since only the
# signal knows its own people and account.
_NAME_SLOTS = ("ticket", "csm", "contact")
_RENEWAL = "{renewal}"


def signal_counts(rng: np.random.Generator, esc: Escalations) -> IntArray:
    """How many signals each escalation gets linked to it, at least one.

    Late, recurring and severe escalations have more: risk that waited was
    talked about for longer. Drawn before the packets, which quote the count.
    """
    mean_extra = 3.2 + 3.0 * esc.late + 1.5 * esc.recurring + 1.0 * (esc.severity <= 1)
    counts: IntArray = 1 + rng.poisson(mean_extra)
    return counts


def build_signals(
    rng: np.random.Generator,
    *,
    per_escalation: IntArray,
    target: int,
    start_us: int,
    end_us: int,
    esc: Escalations,
    accounts: Accounts,
    people: People,
    part_rows: int | None = None,
) -> Iterator[pl.DataFrame]:
    """Signals linked to escalations, plus unlinked ones up to ``target`` rows.

    ``per_escalation`` (from ``signal_counts``) says how many are linked to
    each escalation. The first linked signal of an escalation is observed
    exactly at its ``first_signal_at``; the others fall between that and the
    escalation, or shortly after it. Tone drifts from help seeking towards
    frustration and exit seeking as a bad (late, recurring or critical)
    escalation nears.

    Yields the signals in id order, ``part_rows`` (by default
    ``SIGNAL_PART_ROWS``) at a time: everything that orders them is drawn
    first, then each part's text and columns are made when it is asked for,
    so a loader can write one part while the next is composed. The same
    ``rng`` and part size always give the same rows.
    """
    bad = esc.late | esc.recurring | (esc.severity == 0)
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
    linked_contact = np.where(
        own_contact,
        esc.contact[owner_row],
        3 * esc.account[owner_row] + rng.integers(0, 3, n_linked),
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
    routine = rng.random(n_unlinked) < 0.55
    free_tone = pick(rng, np.array([[0.6, 0.3, 0.1]]), np.zeros(n_unlinked, np.int64))
    free_trigger = rng.integers(0, len(vocab.TRIGGERS), n_unlinked)
    free_subject = SUBJECTS.choose(rng, free_trigger)
    free_contact = 3 * free_account + rng.integers(0, 3, n_unlinked)

    # A few accounts are drifting right now: their last weeks turn from asking
    # for help to talking about leaving, and nobody has escalated yet. They are
    # what an early warning should find on the demo history today.
    drift_at, drift_group, drift_contact = _current_drift(
        rng, esc=esc, accounts=accounts, end_us=end_us, unlinked=n_unlinked
    )
    keep = n_unlinked - drift_at.size
    free_at = np.concatenate([free_at[:keep], drift_at])
    free_contact = np.concatenate([free_contact[:keep], drift_contact])
    free_group = np.concatenate(
        [
            np.where(routine, _ROUTINE_GROUP, free_tone * _N_SUBJECTS + free_subject)[
                :keep
            ],
            drift_group,
        ]
    )

    # Three columns besides the time are put in id order (by observation time):
    # the body group carries tone and subject, the contact carries the account.
    # Everything else is drawn afterwards, already in order. Polars sorts on
    # every core, about three times faster here than numpy's stable argsort.
    ordered = pl.DataFrame(
        {
            "observed": np.concatenate([linked_at, free_at]),
            "body_group": np.concatenate(
                [
                    linked_tone * _N_SUBJECTS + linked_subject,
                    free_group,
                ]
            ).astype(np.int32),
            "contact": np.concatenate([linked_contact, free_contact]),
            "escalation_id": np.concatenate(
                [owner_row + 1, np.zeros(n_unlinked, dtype=np.int64)]
            ),
        }
    ).sort("observed", maintain_order=True)
    observed = ordered.get_column("observed").to_numpy()
    body_group = ordered.get_column("body_group").to_numpy()
    contact = ordered.get_column("contact").to_numpy()
    escalation_id = ordered.get_column("escalation_id").to_numpy()
    del ordered
    text = _TextMaker(rng, accounts=accounts, people=people)
    rows = part_rows or SIGNAL_PART_ROWS

    for offset in range(0, observed.size, rows):
        part = slice(offset, offset + rows)
        yield _signal_part(
            rng,
            first_id=offset + 1,
            observed=observed[part],
            body_group=body_group[part],
            contact=contact[part],
            escalation_id=escalation_id[part],
            text=text,
            people=people,
        )


def _signal_part(
    rng: np.random.Generator,
    *,
    first_id: int,
    observed: IntArray,
    body_group: npt.NDArray[np.int32],
    contact: IntArray,
    escalation_id: IntArray,
    text: "_TextMaker",
    people: People,
) -> pl.DataFrame:
    """One part of the signal table, from its rows' ordering columns."""
    account = contact // 3
    is_routine = body_group == _ROUTINE_GROUP
    tone = np.where(is_routine, _HELP, body_group // _N_SUBJECTS).astype(np.int64)
    source = pick(rng, _SOURCE_GIVEN_TONE, np.where(is_routine, 3, tone))
    size = observed.size
    tone_missing = rng.random(size) < 0.02
    author_missing = rng.random(size) < 0.04

    return pl.DataFrame(
        [
            pl.Series("id", np.arange(first_id, first_id + size, dtype=np.int64)),
            pl.Series("account_id", account + 1),
            with_nulls(pl.Series("escalation_id", escalation_id), escalation_id == 0),
            pl.Series(SOURCES).gather(source).rename("source"),
            utc(observed, "observed_at"),
            names_or_null(
                people.contact_names, np.where(author_missing, -1, contact), "author"
            ),
            text(
                source=source, body_group=body_group, account=account, contact=contact
            ).rename("text"),
            names_or_null(pl.Series(TONES), np.where(tone_missing, -1, tone), "tone"),
        ]
    )


def _current_drift(
    rng: np.random.Generator,
    *,
    esc: Escalations,
    accounts: Accounts,
    end_us: int,
    unlinked: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """Signals of accounts drifting toward leaving in the weeks before ``end``.

    About one account in forty that has no open escalation and none in the
    last ninety days gets five to nine signals spread over the last five
    weeks, the chance of each being exit seeking rising from 0.3 to 0.85.
    Returns their times, body groups and contacts; never more rows than
    ``unlinked``, the signals they replace.
    """
    quiet_since = end_us - 90 * US_PER_DAY
    busy = np.zeros(accounts.weight.size, dtype=bool)
    recent_or_open = (esc.escalated_us >= quiet_since) | (esc.resolved_us < 0)
    busy[esc.account[recent_or_open]] = True
    candidates = np.flatnonzero(~busy)
    wanted = min(candidates.size, max(1, round(accounts.weight.size / 40)))
    chosen = np.sort(rng.choice(candidates, wanted, replace=False))
    per_account = rng.integers(5, 10, chosen.size)
    size = min(int(per_account.sum()), unlinked)
    account = np.repeat(chosen, per_account)[:size]
    # Position 0..1 through the drift, oldest first within each account.
    start = np.cumsum(per_account) - per_account
    rank = (np.arange(per_account.sum()) - np.repeat(start, per_account))[:size]
    progress = rank / np.repeat(per_account - 1, per_account)[:size]
    at = (
        end_us
        - ((1.0 - progress) * 34 + rng.random(size)) * US_PER_DAY
        - time_of_day(rng, size)
    ).astype(np.int64)
    draw = rng.random(size)
    p_exit = 0.3 + 0.55 * progress
    tone = np.where(
        draw < p_exit, _EXIT, np.where(draw < p_exit + 0.25, _FRUSTRATED, _HELP)
    )
    trigger = rng.integers(0, len(vocab.TRIGGERS), size)
    group = tone * _N_SUBJECTS + SUBJECTS.choose(rng, trigger)
    contact = 3 * account + rng.integers(0, 3, size)
    return at, group, contact


def _split_at_slot(template: str, allowed: Sequence[str]) -> tuple[str, str, str]:
    """A template's text before its one slot, the slot's name, and the text after.

    A template without a slot comes back whole as the first part.
    """
    found = list(_SLOT.finditer(template))
    if not found:
        return template, "", ""
    if len(found) > 1 or found[0].group(1) not in allowed:
        message = (
            f"opening {template!r} must have at most one slot, one of {allowed}; "
            f"found {[match.group(1) for match in found]}"
        )
        raise ValueError(message)
    slot = found[0]
    return template[: slot.start()], slot.group(1), template[slot.end() :]


def _body_pool(rng: np.random.Generator) -> tuple[pl.Series, pl.Series, BoolArray]:
    """Message bodies per body group, split around the renewal date they may name.

    Returns the text before the renewal date, the text after it (empty when
    the body names none), and whether it names one; entry ``g * BODIES_PER_GROUP
    + k`` is body ``k`` of group ``g``.
    """
    group = np.repeat(np.arange(_ROUTINE_GROUP + 1), BODIES_PER_GROUP)
    size = group.size
    specific = group < _ROUTINE_GROUP
    subject = np.where(specific, group % _N_SUBJECTS, 0)
    number_text = numbers(60)
    issues = Family.of([phrases.ISSUES_BY_TRIGGER[code] for code in TRIGGER_CODES])
    issue = render(
        issues.templates,
        issues.choose(rng, _TRIGGER_OF_SUBJECT[subject]),
        {
            "subject": Pool(SUBJECT_TEXT, subject),
            "n": Pool(number_text, rng.integers(2, 13, size)),
            "pct": Pool(number_text, rng.integers(8, 45, size)),
            "weekday": Pool(
                pl.Series(vocab.WEEKDAYS), rng.integers(0, len(vocab.WEEKDAYS), size)
            ),
        },
    )

    sentences = Family.of([*phrases.TONE_SENTENCES, phrases.GENERIC_HELP])
    choice = sentences.choose(rng, np.where(specific, group // _N_SUBJECTS, 3))
    halves = [template.split(_RENEWAL) for template in sentences.templates]
    if any(len(parts) > 2 for parts in halves):
        message = f"a sentence may name {_RENEWAL} once: {sentences.templates}"
        raise ValueError(message)
    slots = {
        "issue": Pool.per_row(issue),
        "days": Pool(number_text, rng.integers(2, 31, size)),
        "task": Pool(
            pl.Series(vocab.GENERIC_TASKS),
            rng.integers(0, len(vocab.GENERIC_TASKS), size),
        ),
    }
    before = render([parts[0] for parts in halves], choice, slots)
    after = render(
        [parts[-1] if len(parts) == 2 else "" for parts in halves], choice, slots
    )
    names_renewal = np.array([len(parts) == 2 for parts in halves])[choice]
    return before, after, names_renewal


class _TextMaker:
    """Signal text: a source-typical opening, then a body of the signal's tone.

    Most signals take a ready-made text (opening and body) from a pool built
    once. Those whose opening names a person, or whose body names the renewal
    date, are composed row by row, so that a transcript quotes the signal's
    author and a renewal date is the account's own. Each result holds views
    into both, so the long strings of ten million signals are never copied.
    """

    def __init__(
        self, rng: np.random.Generator, *, accounts: Accounts, people: People
    ) -> None:
        self.rng = rng
        self.before, self.after, self.names_renewal = _body_pool(rng)
        self.n_bodies = self.before.len()
        self.openings = Family.of(phrases.SOURCE_PREFIXES)
        split = [
            _split_at_slot(template, _NAME_SLOTS)
            for template in self.openings.templates
        ]
        self.heads = pl.Series([head for head, _, _ in split], dtype=pl.String)
        self.slot = np.array([name for _, name, _ in split])
        self.tails = pl.Series([tail for _, _, tail in split], dtype=pl.String)
        self.names_person = (self.slot == "csm") | (self.slot == "contact")

        # The pool: each opening that names nobody, followed by each body.
        # Ticket numbers are drawn per pooled text, as real ones repeat too.
        pooled = np.flatnonzero(~self.names_person)
        opening_of = np.repeat(pooled, self.n_bodies)
        body_of = np.tile(np.arange(self.n_bodies), pooled.size)
        tickets = pl.Series(rng.integers(10_000, 99_999, opening_of.size))
        self.pool = pl.select(
            pl.concat_str(
                pl.lit(self.heads.gather(opening_of)),
                pl.when(pl.lit(pl.Series(self.slot[opening_of] == "ticket")))
                .then(pl.lit(tickets.cast(pl.String)))
                .otherwise(pl.lit("")),
                pl.lit(self.tails.gather(opening_of)),
                pl.lit(self.before.gather(body_of)),
            )
        ).to_series()
        self.rank_in_pool = np.zeros(len(split), dtype=np.int64)
        self.rank_in_pool[pooled] = np.arange(pooled.size)

        # Names and renewal dates, gathered from one table.
        self.table = pl.concat(
            [
                pl.Series([""], dtype=pl.String),
                people.names,
                people.contact_names,
                accounts.renewal_text,
            ]
        )
        self.csm_of_account = people.csm_of_account
        self.contact_base = 1 + people.names.len()
        self.renewal_base = self.contact_base + people.contact_names.len()

    def __call__(
        self,
        *,
        source: IntArray,
        body_group: npt.NDArray[np.int32],
        account: IntArray,
        contact: IntArray,
    ) -> pl.Series:
        """The text of each row, drawn for its source and body group."""
        size = source.size
        opening = self.openings.choose(self.rng, source)
        body = body_group * BODIES_PER_GROUP + self.rng.integers(
            0, BODIES_PER_GROUP, size
        )

        composed = np.flatnonzero(self.names_person[opening] | self.names_renewal[body])
        own_opening = opening[composed]
        own_body = body[composed]
        own_account = account[composed]
        own_slot = self.slot[own_opening]
        name_at = np.where(
            own_slot == "csm",
            1 + self.csm_of_account[own_account],
            np.where(own_slot == "contact", self.contact_base + contact[composed], 0),
        )
        renewal_at = np.where(
            self.names_renewal[own_body], self.renewal_base + own_account, 0
        )
        one_by_one = pl.select(
            pl.concat_str(
                pl.lit(self.heads.gather(own_opening)),
                pl.lit(self.table.gather(name_at)),
                pl.lit(self.tails.gather(own_opening)),
                pl.lit(self.before.gather(own_body)),
                pl.lit(self.table.gather(renewal_at)),
                pl.lit(self.after.gather(own_body)),
            )
        ).to_series()

        at = self.rank_in_pool[opening] * self.n_bodies + body
        at[composed] = self.pool.len() + np.arange(composed.size)
        # One chunk first, as in seed_data.text.render: gathering across chunks
        # would copy every string.
        return pl.concat([self.pool, one_by_one]).rechunk().gather(at)

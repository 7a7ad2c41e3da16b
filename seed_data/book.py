"""The book of business: accounts, the staff who own them, their contacts."""

from dataclasses import dataclass

import numpy as np
import polars as pl

from seed_data import vocab
from seed_data.arrays import (
    US_PER_DAY,
    FloatArray,
    IntArray,
    external_ids,
    with_nulls,
)


@dataclass(frozen=True)
class People:
    """Staff who own escalations, by team and level, plus customer contacts."""

    names: pl.Series
    csm_of_account: IntArray
    lead_of_account: IntArray
    director_of_team: IntArray
    vps: IntArray
    comms: int
    contact_names: pl.Series
    contact_titles: pl.Series


@dataclass(frozen=True)
class Accounts:
    """Per-account arrays the later steps draw on."""

    frame: pl.DataFrame
    segment: IntArray
    team: IntArray
    weight: FloatArray
    names: pl.Series
    arr_text: pl.Series
    renewal_text: pl.Series


def _names_without_repeats(rng: np.random.Generator, size: int) -> list[str]:
    """Full names, distinct while the first-by-last grid allows it."""
    n_first, n_last = len(vocab.FIRST_NAMES), len(vocab.LAST_NAMES)
    grid = n_first * n_last
    if size <= grid:
        cells = rng.permutation(grid)[:size]
    else:
        cells = rng.integers(0, grid, size)
    return [
        f"{vocab.FIRST_NAMES[cell // n_last]} {vocab.LAST_NAMES[cell % n_last]}"
        for cell in cells.tolist()
    ]


def _gather_names(first: IntArray, last: IntArray) -> pl.Series:
    """Full names from first- and last-name indices, without a Python loop."""
    return pl.select(
        pl.concat_str(
            pl.lit(pl.Series(vocab.FIRST_NAMES).gather(first)),
            pl.lit(pl.Series(vocab.LAST_NAMES).gather(last)),
            separator=" ",
        )
    ).to_series()


def build_accounts(rng: np.random.Generator, size: int, end_us: int) -> Accounts:
    """Accounts with segment, region, team, value, renewal and contacts."""
    segment = rng.choice(len(vocab.SEGMENTS), size, p=vocab.SEGMENT_WEIGHTS)
    region = rng.choice(len(vocab.REGIONS), size, p=vocab.REGION_WEIGHTS)
    team = _teams(rng, segment, region)

    heads = rng.integers(0, len(vocab.COMPANY_HEADS), size)
    trades = rng.integers(0, len(vocab.COMPANY_TRADES), size)
    forms_flat = [form for r in vocab.REGIONS for form in vocab.LEGAL_FORMS[r]]
    form_sizes = np.array([len(vocab.LEGAL_FORMS[r]) for r in vocab.REGIONS])
    form_offsets = np.concatenate([[0], np.cumsum(form_sizes)[:-1]])
    form = form_offsets[region] + np.floor(
        rng.random(size) * form_sizes[region]
    ).astype(np.int64)
    names = (
        pl.select(
            pl.concat_str(
                pl.lit(pl.Series(vocab.COMPANY_HEADS).gather(heads)),
                pl.lit(pl.Series(vocab.COMPANY_TRADES).gather(trades)),
                pl.lit(pl.Series(forms_flat).gather(form)),
                separator=" ",
            ).str.strip_chars_end()
        )
        .to_series()
        .rename("name")
    )

    median = np.array(vocab.SEGMENT_MEDIAN_VALUE)[segment]
    value = np.round(median * rng.lognormal(0.0, 0.6, size), -2)
    value_missing = rng.random(size) < 0.03
    end_day = end_us // US_PER_DAY
    renewal_day = end_day + rng.integers(-20, 366, size)
    renewal_missing = rng.random(size) < 0.05
    renewal = pl.Series("renewal_date", renewal_day, dtype=pl.Int32).cast(pl.Date)

    ids = np.arange(1, size + 1, dtype=np.int64)
    frame = pl.DataFrame(
        {
            "id": ids,
            "external_id": external_ids("ACC-", ids, 6),
            "name": names,
            "segment": pl.Series(vocab.SEGMENTS).gather(segment),
            "region": pl.Series(vocab.REGIONS).gather(region),
            "team": pl.Series(vocab.TEAMS).gather(team),
            "annual_value": with_nulls(pl.Series(value), value_missing),
            "renewal_date": with_nulls(renewal, renewal_missing),
        }
    )

    arr_text = pl.select(
        pl.when(pl.lit(pl.Series(value)) >= 1_000_000)
        .then(
            pl.format("${}M", (pl.lit(pl.Series(value)) / 1_000_000).round(1)),
        )
        .otherwise(
            pl.format(
                "${}k",
                (pl.lit(pl.Series(value)) / 1_000).round(0).cast(pl.Int64),
            )
        )
    ).to_series()
    renewal_text = (
        renewal.dt.strftime("%-d %B %Y")
        .zip_with(pl.Series(~renewal_missing), pl.Series(["the anniversary date"]))
        .rename("renewal")
    )
    weight = (
        rng.gamma(0.7, 1.0, size) * np.array(vocab.SEGMENT_ESCALATION_RATE)[segment]
    )
    return Accounts(
        frame=frame,
        segment=segment.astype(np.int64),
        team=team,
        weight=weight,
        names=names,
        arr_text=arr_text,
        renewal_text=renewal_text,
    )


def _teams(rng: np.random.Generator, segment: IntArray, region: IntArray) -> IntArray:
    """Owning team from segment and region, with some overlap at the edges."""
    enterprise_east, enterprise_west, mid_market, smb, public, international = range(
        len(vocab.TEAMS)
    )
    north_america = region == vocab.REGIONS.index("North America")
    draw = rng.random(segment.size)
    by_segment = (
        np.where(
            north_america,
            np.where(draw < 0.5, enterprise_east, enterprise_west),
            international,
        ),
        np.where(north_america | (draw < 0.4), mid_market, international),
        np.where(draw < 0.9, smb, mid_market),
        np.full(segment.size, public),
    )
    return np.choose(segment, by_segment).astype(np.int64)


def build_people(rng: np.random.Generator, accounts_team: IntArray) -> People:
    """Staff rosters sized to the book of accounts, and three contacts per account."""
    n_teams = len(vocab.TEAMS)
    team_sizes = np.bincount(accounts_team, minlength=n_teams)
    csm_counts = np.maximum(3, np.ceil(team_sizes / 15).astype(np.int64))
    lead_counts = 2 + csm_counts // 8
    n_staff = int(csm_counts.sum() + lead_counts.sum()) + n_teams + 3
    names = pl.Series("staff", _names_without_repeats(rng, n_staff))

    csm_offsets = np.concatenate([[0], np.cumsum(csm_counts)[:-1]])
    lead_base = int(csm_counts.sum())
    lead_offsets = lead_base + np.concatenate([[0], np.cumsum(lead_counts)[:-1]])
    director_of_team = lead_base + int(lead_counts.sum()) + np.arange(n_teams)
    vps = np.array([n_staff - 3, n_staff - 2], dtype=np.int64)
    comms = n_staff - 1

    n_accounts = accounts_team.size
    csm_of_account = csm_offsets[accounts_team] + np.floor(
        rng.random(n_accounts) * csm_counts[accounts_team]
    ).astype(np.int64)
    lead_of_account = lead_offsets[accounts_team] + np.floor(
        rng.random(n_accounts) * lead_counts[accounts_team]
    ).astype(np.int64)

    n_contacts = 3 * n_accounts
    contact_names = _gather_names(
        rng.integers(0, len(vocab.FIRST_NAMES), n_contacts),
        rng.integers(0, len(vocab.LAST_NAMES), n_contacts),
    )
    contact_titles = pl.Series(vocab.CONTACT_TITLES).gather(
        rng.integers(0, len(vocab.CONTACT_TITLES), n_contacts)
    )
    return People(
        names=names,
        csm_of_account=csm_of_account,
        lead_of_account=lead_of_account,
        director_of_team=director_of_team.astype(np.int64),
        vps=vps,
        comms=comms,
        contact_names=contact_names,
        contact_titles=contact_titles,
    )


def team_frame() -> pl.DataFrame:
    """One row per team with the time zone it works in."""
    return pl.DataFrame(
        {"name": list(vocab.TEAMS), "time_zone": list(vocab.TEAM_TIME_ZONES)}
    )

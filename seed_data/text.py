"""Vectorised text composition: templates with slots, filled row by row in bulk."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from seed_data.arrays import IntArray

_SLOT = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Pool:
    """The values a slot can take and, for each row, the position of its value."""

    values: pl.Series
    index: IntArray

    @classmethod
    def per_row(cls, values: pl.Series) -> "Pool":
        """Pool whose row ``i`` takes ``values[i]``."""
        return cls(values, np.arange(values.len(), dtype=np.int64))


@dataclass(frozen=True)
class Family:
    """Templates grouped by a small key (a trigger, a tone), flattened in one list."""

    templates: tuple[str, ...]
    offsets: IntArray
    sizes: IntArray

    @classmethod
    def of(cls, groups: Sequence[Sequence[str]]) -> "Family":
        """Family from one sequence of templates per group, in group-code order."""
        sizes = np.array([len(group) for group in groups], dtype=np.int64)
        if (sizes == 0).any():
            empty = int(np.flatnonzero(sizes == 0)[0])
            message = f"template group {empty} is empty; every group needs one"
            raise ValueError(message)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        templates = tuple(template for group in groups for template in group)
        return cls(templates, offsets, sizes)

    def choose(self, rng: np.random.Generator, group: IntArray) -> IntArray:
        """Pick, per row, one template of the row's group uniformly at random."""
        within = np.floor(rng.random(group.size) * self.sizes[group]).astype(np.int64)
        return self.offsets[group] + within


def _pieces(template: str) -> list[tuple[bool, str]]:
    """Split a template into (is_slot, text) pieces in order."""
    pieces: list[tuple[bool, str]] = []
    position = 0
    for match in _SLOT.finditer(template):
        if match.start() > position:
            pieces.append((False, template[position : match.start()]))
        pieces.append((True, match.group(1)))
        position = match.end()
    if position < len(template):
        pieces.append((False, template[position:]))
    return pieces


def slots_of(templates: Sequence[str]) -> set[str]:
    """Names of every slot used in some template."""
    return {name for template in templates for name in _SLOT.findall(template)}


def render(
    templates: Sequence[str], choice: IntArray, slots: Mapping[str, Pool]
) -> pl.Series:
    """Text per row: template ``choice[i]`` with its slots filled from row ``i``.

    Rows are grouped by template so that each template costs one ``concat_str``
    over exactly the rows that use it; slot values are gathered for those rows
    only. The result is put back in row order at the end.
    """
    missing = slots_of(templates) - set(slots)
    if missing:
        message = f"templates use slots with no values: {sorted(missing)}"
        raise ValueError(message)
    n_rows = choice.size
    # A stable sort of 16-bit keys is a radix sort in numpy: linear, and several
    # times faster than sorting int64 on ten million rows.
    keys = choice.astype(np.uint16 if len(templates) < 2**16 else np.int64)
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(choice, minlength=len(templates))
    bounds = np.concatenate([[0], np.cumsum(counts)])

    parts: list[pl.Series] = []
    for k, template in enumerate(templates):
        rows = order[bounds[k] : bounds[k + 1]]
        if rows.size == 0:
            continue
        pieces = _pieces(template)
        if not any(is_slot for is_slot, _ in pieces):
            parts.append(pl.repeat(template, rows.size, eager=True))
            continue
        exprs = [
            pl.lit(slots[text].values.gather(slots[text].index[rows]))
            if is_slot
            else pl.lit(text)
            for is_slot, text in pieces
        ]
        parts.append(pl.select(pl.concat_str(exprs)).to_series())

    if not parts:
        return pl.Series(values=[], dtype=pl.String)
    inverse = np.empty(n_rows, dtype=np.int64)
    inverse[order] = np.arange(n_rows, dtype=np.int64)
    # One chunk first: a gather across chunks copies every string, one within a
    # chunk only its views (15 times slower, measured gathering ten million).
    return pl.concat(parts).rechunk().gather(inverse).rename("")

"""Exact Sudoku solver for n x n grids, n in {4, 6, 9}.

Grids are digit arrays of shape ``(n*n,)`` in row-major order, digits ``1..n`` and
``0`` for a blank. Boxes are 2x2 (n=4), 2 rows x 3 columns (n=6) and 3x3 (n=9).

The state is kept per *digit*: ``cand[d]`` is a Python integer whose bit ``c`` says
"digit ``d+1`` may still go in cell ``c``" (only for blank cells), ``placed[d]`` the
cells holding ``d+1``. One big-integer operation then updates every cell at once:
naked singles come from a bit-sliced candidate count across the digits, hidden
singles from the same count along the units, done for all digits at once on their
masks stacked into one integer (see :class:`UnitScan`). Search branches on a cell
with the fewest candidates (MRV) and propagates naked and hidden singles after every
choice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BOX_SHAPES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}


@dataclass(frozen=True)
class UnitScan:
    """How to count, for every digit at once, the cells of one kind of unit.

    The digits' masks are stacked into one integer (digit ``d`` at bits
    ``d*n*n .. d*n*n + n*n - 1``). Each unit has an *anchor* cell; shifting the stack
    right by each of ``shifts`` brings every cell of a unit onto its anchor, and
    multiplying an anchor mask by ``spread`` sets every cell of its unit (the units
    of one kind tile the grid, so the product has no carries).

    Attributes:
        anchors: anchor bits of every unit of this kind, for every digit.
        shifts: the offsets of a unit's cells from its anchor.
        spread: the mask of one unit's cells relative to its anchor.
    """

    anchors: int
    shifts: tuple[int, ...]
    spread: int


@dataclass(frozen=True)
class Geometry:
    """Precomputed masks of one grid size.

    Attributes:
        n: side length (and number of digits).
        full: mask of every cell.
        units: masks of the rows, then the columns, then the boxes.
        peers: ``peers[c]`` is the mask of the cells sharing a unit with ``c`` (not ``c``).
        scans: the :class:`UnitScan` of rows, columns and boxes.
    """

    n: int
    full: int
    units: tuple[int, ...]
    peers: tuple[int, ...]
    scans: tuple[UnitScan, ...]


@lru_cache(maxsize=None)
def geometry(n: int) -> Geometry:
    """The :class:`Geometry` of an ``n x n`` grid; ValueError for an unsupported ``n``."""
    if n not in BOX_SHAPES:
        raise ValueError(f"unsupported Sudoku size {n}: expected one of {sorted(BOX_SHAPES)}")
    br, bc = BOX_SHAPES[n]
    kinds = (  # (anchor cells, offsets of a unit's cells from its anchor)
        ([r * n for r in range(n)], list(range(n))),
        (list(range(n)), [r * n for r in range(n)]),
        ([r * n + c for r in range(0, n, br) for c in range(0, n, bc)],
         [r * n + c for r in range(br) for c in range(bc)]),
    )
    units = tuple(_union(1 << (a + o) for o in offsets) for anchors, offsets in kinds for a in anchors)
    peers = tuple(_union(u for u in units if u >> i & 1) & ~(1 << i) for i in range(n * n))
    every_digit = _union(1 << (d * n * n) for d in range(n))
    scans = tuple(UnitScan(anchors=_union(1 << a for a in anchors) * every_digit, shifts=tuple(offsets),
                           spread=_union(1 << o for o in offsets))
                  for anchors, offsets in kinds)
    return Geometry(n=n, full=(1 << n * n) - 1, units=units, peers=peers, scans=scans)


def _union(masks) -> int:
    """Bitwise OR of ``masks``."""
    out = 0
    for mask in masks:
        out |= mask
    return out


class _Contradiction(Exception):
    """Raised inside propagation when a state has no solution."""


class State:
    """A partially filled grid with its per-digit candidate masks (see module docstring)."""

    __slots__ = ("geo", "cand", "placed", "unfilled")

    def __init__(self, geo: Geometry, cand: list[int], placed: list[int], unfilled: int):
        self.geo = geo
        self.cand = cand
        self.placed = placed
        self.unfilled = unfilled

    def copy(self) -> State:
        """An independent copy (the masks are immutable ints; the lists are copied)."""
        return State(self.geo, self.cand[:], self.placed[:], self.unfilled)

    def digits(self) -> np.ndarray:
        """The grid as a ``(n*n,)`` uint8 digit array, 0 where still blank."""
        return masks_to_digits(self.placed, self.geo.n)


def _bits(mask: int) -> list[int]:
    """The indices of the set bits of ``mask``, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def masks_to_digits(placed: list[int], n: int) -> np.ndarray:
    """Per-digit cell masks as a ``(n*n,)`` uint8 digit array, 0 where no digit is placed."""
    out = np.zeros(n * n, dtype=np.uint8)
    for d, mask in enumerate(placed):
        out[_bits(mask)] = d + 1
    return out


def check_digits(digits: np.ndarray, n: int) -> np.ndarray:
    """``digits`` as a flat int array of length n*n with values 0..n; ValueError otherwise."""
    geometry(n)
    arr = np.asarray(digits).reshape(-1)  # any shape -> (n*n,)
    if arr.shape[0] != n * n:
        raise ValueError(f"a {n}x{n} Sudoku has {n * n} cells, got {arr.shape[0]}")
    if arr.size and (arr.min() < 0 or arr.max() > n):
        raise ValueError(f"digits of a {n}x{n} Sudoku must be 0 (blank) .. {n}")
    return arr.astype(np.int64)


def initial_state(digits: np.ndarray, n: int) -> State | None:
    """The state with the givens of ``digits`` placed, or None if two givens clash.

    No propagation is done yet (see :func:`propagate`).
    """
    geo = geometry(n)
    placed = digit_masks(check_digits(digits, n).tolist(), n)
    for d, mask in enumerate(placed):
        if _sees_itself(geo, mask):
            return None
    return state_from_masks(geo, placed)


def digit_masks(digits: list[int], n: int) -> list[int]:
    """Per-digit cell masks of a flat digit list: bit ``c`` of ``out[d]`` iff ``digits[c] == d+1``."""
    out = [0] * n
    for cell, digit in enumerate(digits):
        if digit:
            out[digit - 1] |= 1 << cell
    return out


def _sees_itself(geo: Geometry, mask: int) -> bool:
    """Whether two cells of ``mask`` share a unit."""
    return any((mask & u).bit_count() > 1 for u in geo.units)


def state_from_masks(geo: Geometry, placed: list[int]) -> State:
    """The unpropagated state of a clash-free grid given as per-digit masks (copied)."""
    peers = geo.peers
    unfilled = geo.full & ~_union(placed)
    cand = []
    for mask in placed:
        elim = 0
        while mask:
            low = mask & -mask
            elim |= peers[low.bit_length() - 1]
            mask ^= low
        cand.append(unfilled & ~elim)
    return State(geo, cand, placed[:], unfilled)


def propagate(state: State, hidden: bool = True) -> bool:
    """Apply naked (and, if ``hidden``, hidden) singles until none is left, in place.

    Returns False when a contradiction shows (a cell with no candidate, a unit that
    cannot hold some digit, two equal singles in one unit).
    """
    try:
        _propagate(state, hidden)
    except _Contradiction:
        return False
    return True


def _propagate(state: State, hidden: bool) -> None:
    """Body of :func:`propagate`; raises :class:`_Contradiction`."""
    cand = state.cand
    while state.unfilled:
        ones = twos = 0
        for x in cand:
            twos |= ones & x
            ones |= x
        if state.unfilled & ~ones:
            raise _Contradiction
        singles = ones & ~twos
        if singles:
            _place(state, [x & singles for x in cand])
            continue
        found = _hidden_singles(state) if hidden else None
        if not found:
            return
        _place(state, found)


def _place(state: State, per_digit: list[int]) -> None:
    """Place digit ``d`` in every cell of ``per_digit[d]`` and update the candidates."""
    peers, cand, placed = state.geo.peers, state.cand, state.placed
    union = clash = 0
    for sd in per_digit:
        clash |= union & sd
        union |= sd
    if clash:
        raise _Contradiction
    keep = ~union
    for d, sd in enumerate(per_digit):
        x = cand[d] & keep
        if sd:
            placed[d] |= sd
            elim = 0
            m = sd
            while m:
                low = m & -m
                elim |= peers[low.bit_length() - 1]
                m ^= low
            if elim & sd:
                raise _Contradiction
            x &= ~elim
        cand[d] = x
    state.unfilled &= keep


def _hidden_singles(state: State) -> list[int] | None:
    """Per digit, the cells that are the digit's only place in some unit; None if none.

    All digits are scanned at once on the stacked masks (see :class:`UnitScan`).
    ``stack`` holds candidates and placed cells: a unit meeting it nowhere cannot
    hold the digit (contradiction); a unit meeting it once, in a candidate, is a
    hidden single (a unit that already holds the digit has no candidate left).
    """
    geo = state.geo
    size = geo.n * geo.n
    cands = placed_stack = 0
    for x, p in zip(reversed(state.cand), reversed(state.placed)):
        cands = cands << size | x
        placed_stack = placed_stack << size | p
    stack = cands | placed_stack
    hits = 0
    for scan in geo.scans:
        anchors = scan.anchors
        a1 = a2 = 0
        for shift in scan.shifts:
            s = stack >> shift & anchors
            a2 |= a1 & s
            a1 |= s
        if anchors & ~a1:
            raise _Contradiction
        hits |= (a1 & ~a2) * scan.spread
    hits &= cands
    if not hits:
        return None
    full = geo.full
    return [hits >> (d * size) & full for d in range(geo.n)]


def _branch_cell(state: State, rng: random.Random | None) -> int:
    """A blank cell with the fewest candidates (random among them if ``rng``)."""
    a1 = a2 = a3 = 0
    for x in state.cand:
        a3 |= a2 & x
        a2 |= a1 & x
        a1 |= x
    for mask in (a2 & ~a3, a3, state.unfilled):
        if mask:
            if rng is None:
                return (mask & -mask).bit_length() - 1
            return rng.choice(_bits(mask))
    raise AssertionError("branching on a solved grid")


def _children(state: State, rng: random.Random | None):
    """The states with each candidate of the branching cell placed, propagated."""
    cell = _branch_cell(state, rng)
    bit = 1 << cell
    options = [d for d in range(state.geo.n) if state.cand[d] & bit]
    if rng is not None:
        rng.shuffle(options)
    for d in options:
        child = state.copy()
        for e in range(child.geo.n):
            child.cand[e] &= ~bit
        child.cand[d] &= ~child.geo.peers[cell]
        child.placed[d] |= bit
        child.unfilled &= ~bit
        if propagate(child):
            yield child


def search(state: State, limit: int, rng: random.Random | None = None) -> list[State]:
    """Up to ``limit`` solved states reachable from a *propagated* ``state`` (DFS)."""
    if not state.unfilled:
        return [state]
    found: list[State] = []
    for child in _children(state, rng):
        found.extend(search(child, limit - len(found), rng))
        if len(found) >= limit:
            break
    return found


def solutions(digits: np.ndarray, n: int, limit: int = 2) -> list[np.ndarray]:
    """Up to ``limit`` solutions of ``digits``, each a ``(n*n,)`` uint8 array."""
    state = initial_state(digits, n)
    if state is None or not propagate(state):
        return []
    return [found.digits() for found in search(state, limit)]


def count_solutions(digits: np.ndarray, n: int, limit: int = 2) -> int:
    """Number of solutions of the puzzle ``digits`` (``(n*n,)``, 0 = blank), capped at ``limit``.

    ``count_solutions(p, n) == 1`` means the puzzle is uniquely solvable; 0 that it has
    no solution (including givens that already clash). Raises ValueError for a bad
    size or digit.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return len(solutions(digits, n, limit))


def solve(digits: np.ndarray, n: int) -> np.ndarray | None:
    """One solution of ``digits`` as a ``(n*n,)`` uint8 array, or None if there is none.

    For a puzzle with several solutions the first one found is returned; use
    :func:`count_solutions` to check uniqueness.
    """
    found = solutions(digits, n, 1)
    return found[0] if found else None


def needs_search(digits: np.ndarray, n: int) -> bool:
    """True unless naked and hidden singles alone fill the whole grid.

    A puzzle whose givens clash, or whose singles run into a contradiction, also
    counts as needing search (singles cannot settle it).
    """
    state = initial_state(digits, n)
    return state is None or not propagate(state) or bool(state.unfilled)


def random_solution(n: int, rng: random.Random) -> list[int]:
    """Per-digit masks of a random complete ``n x n`` grid (randomised MRV backtracking)."""
    geo = geometry(n)
    state = State(geo, [geo.full] * n, [0] * n, geo.full)
    return search(state, 1, rng)[0].placed

"""Seeded, vectorised generator of Maze-Hard mazes (any square size).

Maze-Hard's recipe: walls i.i.d. at a density drawn uniformly from 0.3-0.5, a start
``S`` and a goal ``G`` drawn uniformly among the distinct open cells, and only mazes
whose shortest S-G path has at least ``min_path`` moves are kept. Measured on the
1,000 official 30x30 training mazes: shortest paths of 109-146 moves (none shorter
than 109), so Maze-Hard's "at least 110" counts the cells of the path, both ends
included, and :data:`MAZE_HARD_MIN_PATH` is 109 moves. Importance-weighted over 1e6
random mazes, this recipe gives paths of mean 114.4 moves (official 114.1), walls
of mean density 0.373 (0.371) and S-G Manhattan distances of mean 19.9 (19.7).

Drawing mazes one by one and testing them keeps ~2e-5 of 30x30 candidates: hours of
search. Three things make it minutes with (nearly) the same distribution:

- candidates are searched in batches of thousands at once, with breadth-first search
  on bit-packed rows (one uint64 word holds 64 cells of a row; a step of the frontier
  is a few shifts and ORs over the whole batch);
- the goal is not drawn blindly: the search from ``S`` counts the cells at least
  ``min_path`` moves away, ``far``; a uniform goal would qualify with probability
  ``q = far / (open - 1)``. The candidate is accepted with probability ``q / cap``
  and its goal is then drawn uniformly among those ``far`` cells. With ``cap = 1``
  this is exactly the recipe above; any ``cap >= q`` keeps the same distribution of
  accepted mazes and accepts ``1 / cap`` times more often;
- ``cap`` is 1 until :data:`CAP_START` candidates have had ``q > 0``, then the
  :data:`CAP_QUANTILE` quantile of ``q`` over the first :data:`CAP_SAMPLE` such
  candidates (of the earlier chunks; times :data:`CAP_MARGIN` while fewer have been
  seen). A later candidate with a larger ``q`` is accepted with probability 1 rather
  than ``q / cap`` and counted as ``clipped``. Measured at 30x30 with ``min_path``
  109 (5,840 candidates with ``q > 0``): median ``q`` 0.019, 99.5th percentile 0.21,
  largest 0.40; the cap (0.18-0.23 over samples of 1,000) accepts ~4.8x more often
  than the plain recipe and under-weights ~0.6% (0.3-1.1%) of its probability mass
  (0.2-0.6% at 7x7 and 11x11, where a few % of the accepted mazes are clipped).

Labels follow the official convention (checked against all 1,000 official mazes):
from ``S``, step to the first neighbour, in the order down, left, right, up, that is
one move closer to ``G``; the cells strictly between ``S`` and ``G`` become ``o``.

With ``unique_path`` only mazes whose shortest S-G path is the only one are kept (the
same recipe conditioned on that event: a candidate whose drawn goal has several
shortest paths is dropped before the acceptance test). Random mazes often have
several: among 9x9 mazes with paths of 12+ moves, 13% have just one, so the official
label (one of them, by the tie-break below) is then the only right answer.

Candidates come in chunks of :data:`CHUNK_CELLS` cells; chunk ``k`` draws from its own
generator seeded by ``(seed, k)`` and the chunks are accepted in order, so the result
depends only on ``(count, size, seed, min_path, unique_path)`` (a longer run extends a shorter
one) and never on ``workers``. Accepted mazes that repeat an earlier one are skipped.
"""

from __future__ import annotations

import math
import multiprocessing
from dataclasses import dataclass

import numpy as np

from recursia.api import DatasetError

PAD, WALL, OPEN, START, GOAL, PATH = range(6)
DENSITY = (0.3, 0.5)
MAZE_HARD_SIZE, MAZE_HARD_MIN_PATH = 30, 109
CAP_START, CAP_SAMPLE, CAP_QUANTILE, CAP_MARGIN = 50, 1000, 0.995, 1.5
KEEP = 0.9  # the search compacts its batch when fewer than this share of mazes still grow
CHUNK_CELLS = 1 << 22  # candidate cells per chunk (4660 mazes of 30x30)
PROBE_CELLS = 500_000_000  # after this many candidate cells, give up if no path was long enough...
MAX_CELLS = 200_000_000_000  # ...or when the measured rate would need more than this
STEPS = np.array([(1, 0), (0, -1), (0, 1), (-1, 0)])  # down, left, right, up: the label's order
_BYTE_BITS = np.array([i.bit_count() for i in range(256)], dtype=np.int64)
_ONE, _TOP = np.uint64(1), np.uint64(63)


def default_min_path(size: int) -> int:
    """The default minimum path (moves) of ``size x size`` mazes: as rare as Maze-Hard's 109 at 30x30.

    A random 30x30 maze (walls at 0.3-0.5, random S and G) has a shortest path of
    109+ moves with probability ~1.5e-5. The length with that same probability,
    measured per size on 1-4e5 random mazes, grows linearly with the side:

    ====  ==  ==  ==  ==  ==  ==  ==  ==  ===  ===
    side   4   5   6   7   9  11  15  20   30   40
    moves 10  14  17  21  28  36  50  69  107  145
    ====  ==  ==  ==  ==  ==  ==  ==  ==  ===  ===

    so the rule is ``109 * (size - 1.6) / 28.4`` rounded (9, 13, 17, 21, 28, 36, 51,
    71, 109, 147 at those sides). Scaling 109 by the area instead asks too little of
    small mazes (15 at 11x11: one random maze in 20) and the impossible of large ones
    (194 at 40x40); scaling by the side asks more (40 at 11x11, ~9x rarer).
    As rare as Maze-Hard also means as many random mazes drawn per maze kept (~1.2e4);
    2,000 mazes take ~70 s at 11x11 and ~6 min at 30x30 in one process.
    """
    return max(1, round(MAZE_HARD_MIN_PATH * (size - 1.6) / (MAZE_HARD_SIZE - 1.6)))


@dataclass
class Mazes:
    """Generated mazes and how hard they were to find.

    Attributes:
        inputs, labels: uint8 token arrays ``(count, size*size)``.
        candidates: random mazes drawn (``count / candidates`` = acceptance rate).
        clipped: accepted candidates whose ``q`` exceeded the cap (see the module doc).
    """

    inputs: np.ndarray
    labels: np.ndarray
    candidates: int
    clipped: int


@dataclass
class Chunk:
    """The candidates of one chunk that have a goal far enough away.

    Attributes:
        inputs: (P, size*size) uint8 tokens with ``G`` already drawn among the far cells.
        q: (P,) probability that a uniform goal would have been far enough.
        u: (P,) uniform numbers for the acceptance test.
        drawn: candidates drawn in the chunk.
        longest: the longest shortest path from a start seen in the chunk (moves).
    """

    inputs: np.ndarray
    q: np.ndarray
    u: np.ndarray
    drawn: int
    longest: int


def generate(count: int, size: int, seed: int, *, min_path: int | None = None, unique_path: bool = False,
             workers: int = 1) -> Mazes:
    """``count`` distinct Maze-Hard-style ``size x size`` mazes with their labels.

    ``unique_path`` keeps only mazes with a single shortest S-G path. ``workers > 1``
    uses processes started with ``spawn``: call it under ``if __name__ == "__main__":``
    in a script. Raises ValueError for bad arguments
    and DatasetError when ``min_path`` is so long that the request cannot be met.
    """
    min_path = default_min_path(size) if min_path is None else min_path
    if size < 2 or count < 0 or min_path < 1 or workers < 1:
        raise ValueError(f"need size >= 2, count >= 0, min_path >= 1 and workers >= 1; "
                         f"got size {size}, count {count}, min_path {min_path}, workers {workers}")
    selector = _Selector(count, size, min_path, unique_path)
    if workers == 1:
        k = 0
        while not selector.done():
            selector.add(draw_chunk(size, min_path, seed, k, unique_path))
            k += 1
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            k = 0
            while not selector.done():
                jobs = [(size, min_path, seed, k + i, unique_path) for i in range(2 * workers)]
                for chunk in pool.starmap(draw_chunk, jobs):
                    selector.add(chunk)
                k += len(jobs)
    inputs = selector.inputs()
    return Mazes(inputs, path_labels(inputs), selector.drawn, selector.clipped)


class _Selector:
    """Accepts the candidates of successive chunks (see the module doc) until ``count``."""

    def __init__(self, count: int, size: int, min_path: int, unique_path: bool):
        self.count, self.size, self.min_path, self.unique_path = count, size, min_path, unique_path
        self.cap, self.drawn, self.clipped, self.longest = 1.0, 0, 0, 0
        self.sample: list[float] = []  # q of the first CAP_SAMPLE candidates with q > 0
        self.kept: list[np.ndarray] = []
        self.seen: set[bytes] = set()

    def done(self) -> bool:
        """Whether ``count`` mazes are in; DatasetError if the rate makes it hopeless."""
        if len(self.kept) >= self.count:
            return True
        cells = self.drawn * self.size * self.size
        if cells < PROBE_CELLS:
            return False
        if self.longest < self.min_path:
            raise DatasetError(f"min_path {self.min_path} is too long for {self.size}x{self.size} mazes: none of "
                               f"{self.drawn:,} random mazes has a start and goal that far apart (the longest "
                               f"shortest path seen is {self.longest} moves); lower min_path")
        needed = self.drawn * self.count / max(len(self.kept), 1)
        if needed * self.size * self.size > MAX_CELLS:
            what, fix = ("min_path", "lower min_path") if not self.unique_path else \
                ("min_path with unique_path", "lower min_path, drop unique_path")
            raise DatasetError(f"{what} {self.min_path} makes {self.size}x{self.size} mazes too rare: "
                               f"{len(self.kept)} of {self.drawn:,} random mazes qualify, so {self.count} would "
                               f"take about {round(needed):,}; {fix} or ask for fewer")
        return False

    def add(self, chunk: Chunk) -> None:
        """Accept the chunk's candidates in order, then raise ``cap`` from their ``q``."""
        if len(self.kept) < self.count:
            self.drawn += chunk.drawn
            self.longest = max(self.longest, chunk.longest)
            for row, q, u in zip(chunk.inputs, chunk.q, chunk.u):
                key = row.tobytes()
                if u * self.cap < q and key not in self.seen and len(self.kept) < self.count:
                    self.kept.append(row)
                    self.seen.add(key)
                    self.clipped += int(q > self.cap)
        self.sample.extend(chunk.q[:CAP_SAMPLE - len(self.sample)].tolist())
        if len(self.sample) >= CAP_START:
            margin = 1.0 if len(self.sample) == CAP_SAMPLE else CAP_MARGIN  # a small sample runs low
            self.cap = min(1.0, margin * float(np.quantile(self.sample, CAP_QUANTILE)))

    def inputs(self) -> np.ndarray:
        """(count, size*size) uint8 tokens of the accepted mazes."""
        cells = self.size * self.size
        return np.stack(self.kept) if self.kept else np.zeros((0, cells), dtype=np.uint8)


# --- one chunk of candidates ----------------------------------------------------------

def chunk_rng(seed: int, chunk: int) -> np.random.Generator:
    """The random generator of chunk ``chunk`` of a run seeded with ``seed``."""
    return np.random.default_rng([seed, chunk])


def draw_chunk(size: int, min_path: int, seed: int, chunk: int, unique_path: bool) -> Chunk:
    """Draw chunk ``chunk`` of candidates and keep those with a goal ``min_path`` moves away
    (and, with ``unique_path``, a single shortest path to it)."""
    rng = chunk_rng(seed, chunk)
    batch = max(1, CHUNK_CELLS // (size * size))
    walls = random_walls(rng, batch, size)  # (B, n, n)
    starts = random_open_cells(rng, walls)  # (B,), -1 where fewer than 2 open cells
    u_accept, u_goal = rng.random(batch), rng.random(batch)
    far, longest = far_counts(pack_rows(~walls), cell_bits(starts, batch, size), min_path)
    opens = size * size - walls.reshape(batch, -1).sum(axis=1)  # (B,)
    hit = np.flatnonzero(far > 0)
    goals = far_goals(walls[hit], starts[hit], u_goal[hit], far[hit], min_path)
    inputs = maze_tokens(walls[hit], starts[hit], goals)  # (P, n*n)
    if unique_path:
        single = unique_shortest_path(inputs)  # (P,)
        inputs, hit = inputs[single], hit[single]
    return Chunk(inputs=inputs, q=far[hit] / (opens[hit] - 1), u=u_accept[hit], drawn=batch, longest=longest)


def random_walls(rng: np.random.Generator, batch: int, size: int) -> np.ndarray:
    """(batch, size, size) bool walls, i.i.d. per maze at a density uniform in :data:`DENSITY`."""
    density = rng.uniform(*DENSITY, size=batch)
    threshold = np.round(density * 65536).astype(np.uint32)  # (B,) density in 1/65536 steps
    return rng.integers(0, 65536, size=(batch, size, size), dtype=np.uint16) < threshold[:, None, None]


def random_open_cells(rng: np.random.Generator, walls: np.ndarray) -> np.ndarray:
    """(B,) flat index of a uniformly drawn open cell per maze; -1 if it has fewer than two."""
    batch, cells = walls.shape[0], walls[0].size
    flat = walls.reshape(batch, cells)  # (B, n*n)
    cell = np.full(batch, -1)
    todo = np.flatnonzero(cells - flat.sum(axis=1) >= 2)
    while len(todo):
        cell[todo] = rng.integers(0, cells, size=len(todo))
        todo = todo[flat[todo, cell[todo]]]  # redraw where a wall was hit
    return cell


# --- bit-packed breadth-first search --------------------------------------------------

def pack_rows(cells: np.ndarray) -> np.ndarray:
    """(B, rows, n) bool -> (B, rows, W) uint64, column ``c`` at bit ``c % 64`` of word ``c // 64``."""
    batch, rows, n = cells.shape
    words = -(-n // 64)
    padded = np.zeros((batch, rows, words * 64), dtype=bool)
    padded[..., :n] = cells
    return np.packbits(padded, axis=-1, bitorder="little").view("<u8")


def cell_bits(cells: np.ndarray, batch: int, size: int) -> np.ndarray:
    """(B, n, W) uint64 with the single bit of each maze's flat cell (none where ``cells`` is -1)."""
    bits = np.zeros((batch, size, -(-size // 64)), dtype="<u8")
    rows = np.flatnonzero(cells >= 0)
    r, c = np.divmod(cells[rows], size)
    bits[rows, r, c // 64] = np.left_shift(_ONE, (c % 64).astype(np.uint64))
    return bits


def popcount(words: np.ndarray) -> np.ndarray:
    """(B,) number of set bits of each maze's words (B, ...)."""
    return _BYTE_BITS[words.view(np.uint8)].reshape(len(words), -1).sum(axis=1)


def neighbours(frontier: np.ndarray) -> np.ndarray:
    """(B, n, W) cells next to (up, down, left, right of) a set cell; bits past column n may be set."""
    out = frontier << _ONE
    out |= frontier >> _ONE
    out[..., 1:] |= frontier[..., :-1] >> _TOP  # carries between the words of a row
    out[..., :-1] |= frontier[..., 1:] << _TOP
    out[:, 1:] |= frontier[:, :-1]
    out[:, :-1] |= frontier[:, 1:]
    return out


def far_counts(free: np.ndarray, start: np.ndarray, min_path: int) -> tuple[np.ndarray, int]:
    """Per maze, the cells at least ``min_path`` moves from the start, and the deepest level reached.

    ``free`` and ``start`` are bit-packed (B, n, W). Mazes whose search has died out
    are dropped from the batch once they are a tenth of it (their counts no longer
    change). Returns ``(far (B,) int64, longest)``.
    """
    batch = len(free)
    unseen = free & ~start  # (A, n, W) for the A mazes still searching
    frontier = start.copy()
    alive = np.arange(batch)
    far, beyond = np.zeros(batch, dtype=np.int64), np.zeros(batch, dtype=np.int64)
    level = 0
    while len(alive):
        if level == min_path - 1:
            beyond[alive] = popcount(unseen)  # cells not within min_path - 1 moves
        frontier = neighbours(frontier)
        frontier &= unseen
        unseen ^= frontier
        level += 1
        growing = frontier.reshape(len(alive), -1).any(axis=1)
        if growing.sum() < KEEP * len(alive):
            ended = ~growing
            if level >= min_path:
                far[alive[ended]] = beyond[alive[ended]] - popcount(unseen[ended])
            alive, frontier, unseen = alive[growing], frontier[growing], unseen[growing]
    return far, level - 1


def path_lengths(free: np.ndarray, starts: np.ndarray, goals: np.ndarray) -> np.ndarray:
    """(B,) moves of a shortest path from each start to its goal (flat cells), -1 if there is none.

    ``free`` is (B, n, n) bool (True = may be crossed); the start counts as free and
    the goal must be free. Bit-packed like :func:`far_counts`; a maze leaves the
    batch once its goal is reached or its search dies out.
    """
    batch, n, _ = free.shape
    frontier, goal = cell_bits(starts, batch, n), cell_bits(goals, batch, n)  # (A, n, W) each
    unseen = pack_rows(free) & ~frontier
    moves = np.where(starts == goals, 0, -1)
    alive = np.flatnonzero(moves < 0)
    frontier, goal, unseen = frontier[alive], goal[alive], unseen[alive]
    level = 0
    while len(alive):
        frontier = neighbours(frontier)
        frontier &= unseen
        unseen ^= frontier
        level += 1
        reached = (frontier & goal).reshape(len(alive), -1).any(axis=1)
        moves[alive[reached]] = level
        going = ~reached & frontier.reshape(len(alive), -1).any(axis=1)
        alive, frontier, goal, unseen = alive[going], frontier[going], goal[going], unseen[going]
    return moves


# --- dense distances, goals and labels ------------------------------------------------

def distance_maps(free: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """(B, n, n) int32 moves from each maze's source cell (flat index), -1 where unreachable.

    ``free`` is (B, n, n) bool (True = may be crossed); the source counts as free.
    """
    batch, n, _ = free.shape
    rows = np.arange(batch)
    dist = np.full((batch, n, n), -1, dtype=np.int32)
    frontier = np.zeros((batch, n + 2, n + 2), dtype=bool)  # padded by one cell on every side
    inner = frontier[:, 1:-1, 1:-1]
    unseen = free.copy()
    src_r, src_c = np.divmod(sources, n)
    inner[rows, src_r, src_c] = True
    unseen[rows, src_r, src_c] = False
    dist[rows, src_r, src_c] = 0
    level = 0
    while True:
        reach = frontier[:, :-2, 1:-1] | frontier[:, 2:, 1:-1]  # (B, n, n)
        reach |= frontier[:, 1:-1, :-2]
        reach |= frontier[:, 1:-1, 2:]
        reach &= unseen
        if not reach.any():
            return dist
        level += 1
        unseen ^= reach
        dist[reach] = level
        inner[...] = reach


def far_goals(walls: np.ndarray, starts: np.ndarray, u: np.ndarray, far: np.ndarray, min_path: int) -> np.ndarray:
    """(P,) flat goal per maze: the ``floor(u * far)``-th cell (row-major) ``min_path`` or more moves away."""
    batch, n, _ = walls.shape
    dist = distance_maps(~walls, starts).reshape(batch, n * n)  # (P, n*n)
    rank = np.cumsum(dist >= min_path, axis=1)  # (P, n*n)
    pick = np.minimum((u * far).astype(np.int64), far - 1)
    return np.argmax(rank > pick[:, None], axis=1)


def maze_tokens(walls: np.ndarray, starts: np.ndarray, goals: np.ndarray) -> np.ndarray:
    """(P, n*n) uint8 input tokens of walls (P, n, n) with the given flat start and goal cells."""
    batch, n, _ = walls.shape
    tokens = np.where(walls, WALL, OPEN).astype(np.uint8).reshape(batch, n * n)
    tokens[np.arange(batch), starts] = START
    tokens[np.arange(batch), goals] = GOAL
    return tokens


def unique_shortest_path(inputs: np.ndarray) -> np.ndarray:
    """(B,) bool: whether each maze's (B, n*n tokens) shortest S-G path is the only one.

    A cell lies on a shortest path when its moves from ``S`` and to ``G`` add up to the
    path's length ``d``; the path is unique exactly when ``d + 1`` cells do (one per
    distance from ``S``). Every maze must have one ``S`` and one ``G``, connected.
    """
    inputs = np.asarray(inputs)
    batch, cells = inputs.shape
    n = math.isqrt(cells)
    free = ((inputs != WALL) & (inputs != PAD)).reshape(batch, n, n)
    starts, goals = np.argmax(inputs == START, axis=1), np.argmax(inputs == GOAL, axis=1)
    from_s = distance_maps(free, starts).reshape(batch, cells)  # (B, n*n)
    to_g = distance_maps(free, goals).reshape(batch, cells)  # (B, n*n)
    moves = from_s[np.arange(batch), goals]  # (B,)
    on_a_path = (from_s >= 0) & (to_g >= 0) & (from_s + to_g == moves[:, None])  # (B, n*n)
    return on_a_path.sum(axis=1) == moves + 1


def path_labels(inputs: np.ndarray) -> np.ndarray:
    """(B, n*n) labels: the inputs with the official shortest path's open cells set to ``o``.

    From ``S``, each step goes to the first neighbour in :data:`STEPS` order that is
    one move closer to ``G``. Every maze must have exactly one ``S`` and ``G``, connected.
    """
    inputs = np.asarray(inputs)
    batch, cells = inputs.shape
    n = math.isqrt(cells)
    rows = np.arange(batch)
    starts, goals = np.argmax(inputs == START, axis=1), np.argmax(inputs == GOAL, axis=1)
    free = (inputs != WALL) & (inputs != PAD)
    to_goal = np.pad(distance_maps(free.reshape(batch, n, n), goals), ((0, 0), (1, 1), (1, 1)),
                     constant_values=-1)  # (B, n+2, n+2)
    r, c = np.divmod(starts, n)
    r, c = r + 1, c + 1  # padded coordinates
    labels = inputs.copy()
    left = to_goal[rows, r, c]  # (B,) moves still to go
    while (left > 1).any():
        ahead = to_goal[rows[:, None], r[:, None] + STEPS[:, 0], c[:, None] + STEPS[:, 1]]  # (B, 4)
        step = STEPS[np.argmax(ahead == (left - 1)[:, None], axis=1)]  # (B, 2)
        moving = left > 1
        r, c = np.where(moving, r + step[:, 0], r), np.where(moving, c + step[:, 1], c)
        labels[rows[moving], (r[moving] - 1) * n + c[moving] - 1] = PATH
        left = np.where(moving, left - 1, left)
    return labels

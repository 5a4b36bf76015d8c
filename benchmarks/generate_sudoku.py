"""Benchmark the Sudoku generator: puzzles per second per size (median of repeats).

    python benchmarks/generate_sudoku.py [--sizes 4 6 9] [--repeats 3] [--workers 1]

Prints the machine, then per size the median rate with its range, the clue counts
and the fraction of puzzles that naked and hidden singles do not solve. These
machines are shared and noisy: compare rates measured in the same run only.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from recursia_sudoku import solver
from recursia_sudoku.generate import generate
from machine_info import machine

COUNTS = {4: 2000, 6: 1000, 9: 150}


def bench(n: int, count: int, repeats: int, workers: int) -> str:
    """One result line for size ``n``: rates of ``repeats`` runs (different seeds) and statistics."""
    rates, puzzles = [], []
    for seed in range(repeats):
        start = time.perf_counter()
        p, _ = generate(count, n, seed=seed, workers=workers)
        rates.append(count / (time.perf_counter() - start))
        puzzles.append(p)
    every = np.concatenate(puzzles)
    clues = (every != 0).sum(axis=1)
    search = np.mean([solver.needs_search(p, n) for p in every])
    return (f"{n}x{n}: {statistics.median(rates):8.1f} puzzles/s (runs {min(rates):.1f}..{max(rates):.1f}, "
            f"{count} puzzles each, {workers} worker(s)); clues mean {clues.mean():.2f} "
            f"min {clues.min()} max {clues.max()}; needs search {search:.1%} of {len(every)}")


def main() -> None:
    """Parse the arguments and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 6, 9], choices=sorted(COUNTS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    print(machine())
    for n in args.sizes:
        print(bench(n, COUNTS[n], args.repeats, args.workers), flush=True)


if __name__ == "__main__":
    main()

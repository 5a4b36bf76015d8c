"""Benchmark the Maze-Hard generator: seconds and mazes per second per size (median of repeats).

    python benchmarks/generate_maze.py [--sizes 30 11] [--count 2000] [--repeats 3] [--workers 1]

``--count 2000`` is a 1000 + 1000 train/test build. Prints the machine, then per size
the median time with its range, the acceptance rate (mazes kept per random maze
drawn), how many acceptances were clipped, and the shortest paths and wall densities
of the mazes. A 30x30 run takes ~6 minutes in one process: use ``--repeats 1`` or
``--workers 2`` for a quicker look. These machines are shared and noisy: compare
rates measured in the same run only.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from recursia_maze.generate import PATH, WALL, default_min_path, generate
from machine_info import machine


def bench(n: int, count: int, repeats: int, workers: int, min_path: int | None) -> str:
    """One result line for size ``n``: times of ``repeats`` runs (seeds 0, 1, ...) and statistics."""
    min_path = default_min_path(n) if min_path is None else min_path
    seconds, runs = [], []
    for seed in range(repeats):
        start = time.perf_counter()
        runs.append(generate(count, n, seed=seed, min_path=min_path, workers=workers))
        seconds.append(time.perf_counter() - start)
    candidates = sum(run.candidates for run in runs)
    clipped = sum(run.clipped for run in runs)
    labels = np.concatenate([run.labels for run in runs])
    moves = (labels == PATH).sum(axis=1) + 1  # a path of d moves has d - 1 'o' cells
    walls = (labels == WALL).mean(axis=1)
    median = statistics.median(seconds)
    return (f"{n}x{n} min_path {min_path}: {count} mazes in {median:.1f} s median "
            f"(runs {min(seconds):.1f}..{max(seconds):.1f} s, {workers} worker(s)), {count / median:.2f} mazes/s; "
            f"acceptance {count * repeats / candidates:.2e} ({candidates:,} random mazes drawn), "
            f"clipped {clipped}; paths {moves.min()}-{moves.max()} moves, mean {moves.mean():.1f}; "
            f"walls {walls.min():.3f}-{walls.max():.3f}, mean {walls.mean():.3f}")


def main() -> None:
    """Parse the arguments and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 11])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--min-path", type=int, default=None, help="default: default_min_path(size)")
    args = parser.parse_args()
    print(machine(), flush=True)
    for n in args.sizes:
        print(bench(n, args.count, args.repeats, args.workers, args.min_path), flush=True)


if __name__ == "__main__":
    main()

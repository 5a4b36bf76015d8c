"""``recursia bench`` as a plain script, for a checkout without the console script:

    python benchmarks/bench.py train|infer|peak|peers|contention|all [OPTIONS]

Same commands, options and output (``--help`` lists them; docs/benchmarks.md has the
results).
"""

from recursia.cli.app import main

if __name__ == "__main__":
    import sys

    main(["bench", *sys.argv[1:]])

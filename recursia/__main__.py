"""`python -m recursia` runs the CLI (this is what torchrun launches)."""

from recursia.cli.app import main

main()

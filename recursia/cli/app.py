"""The ``recursia`` command: built-in commands plus the commands plugins register.

User errors (:class:`recursia.errors.RecursiaError`) and command-line usage errors
(an unknown option, a missing argument, a value out of range) print one line on
stderr and exit with code 2; ``--debug`` (anywhere on the command line) shows the
traceback instead.
"""

from __future__ import annotations

import os
import sys

import typer

from recursia.distributed import world_from_env
from recursia.errors import RecursiaError, Terminated
from recursia.memory import reuse_freed_memory
from recursia.plugins import get_registry


def build_app() -> typer.Typer:
    """The Typer app with the built-in and the plugin commands."""
    from recursia.cli import ablate, bench, config, convert, data, evaluate, models, plot, plugins, solve, train

    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                      help="Recursive reasoning models (TRM, HRM) for puzzles.")

    @app.callback()
    def _root(debug: bool = typer.Option(False, "--debug", help="show tracebacks of errors")):
        """Recursive reasoning models (TRM, HRM) for puzzles."""

    app.command("train")(train.train_command)
    app.command("eval")(evaluate.eval_command)
    app.command("solve")(solve.solve_command)
    app.command("plugins")(plugins.plugins_command)
    app.command("models")(models.models_command)
    app.command("plot")(plot.plot_command)
    app.command("ablate")(ablate.ablate_command)
    app.add_typer(data.app, name="data")
    app.add_typer(config.app, name="config")
    app.add_typer(bench.app, name="bench")
    app.add_typer(convert.app, name="convert")
    registry = get_registry()
    for name, cmd in registry.commands.items():
        if isinstance(cmd, typer.Typer):
            app.add_typer(cmd, name=name)
        else:
            app.command(name)(cmd)
    return app


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return " ".join(str(text).split())


def usage_message(err: Exception) -> str:
    """One line for a Click/Typer usage error: the command, the problem, where to get help."""
    ctx = getattr(err, "ctx", None)
    where = ctx.command_path if ctx is not None else "recursia"
    return f"{where}: {one_line(err.format_message())} (see {where} --help)"


def rank_prefix() -> str:
    """``"rank N: "`` in a process of rank N > 0 under torchrun (whose messages would
    otherwise look like rank 0's), else nothing."""
    rank = world_from_env().rank
    return f"rank {rank}: " if rank else ""


# How long an idle OpenMP thread of torch spins before it sleeps (libgomp's default is
# 300,000 iterations). With fewer threads than cores in use (train.threads auto on a busy
# machine), torch's idle worker spins between every two operations and takes the core of
# the thread that works: a 2-core run on one thread next to a busy process then did 3.7
# instead of 6.3 samples x steps/s (docs/benchmarks.md); idle, the shorter spin costs
# nothing measurable. Set GOMP_SPINCOUNT yourself to override.
IDLE_SPINS = 10_000


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script (which starts without torch, so the OpenMP
    settings above apply).

    A process under torchrun ends with ``os._exit`` once its output is flushed: its
    work is done (checkpoints and logs are written and closed, the process group is
    destroyed), and a normal interpreter shutdown can abort in gloo's threads
    ("terminate called without an active exception", about one run in 30 here).
    """
    os.environ.setdefault("GOMP_SPINCOUNT", str(IDLE_SPINS))  # read when torch loads OpenMP, after this
    if world_from_env().size == 1:
        return _main(argv)
    try:
        _main(argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else int(e.code is not None)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _main(argv: list[str] | None) -> None:
    """The command line's work; exits (SystemExit) with the command's code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    try:
        reuse_freed_memory()  # before the first large tensor: freed blocks are kept for reuse
        registry = get_registry()
        for name, err in registry.failures.items():
            print(f"warning: plugin '{name}' failed to load: {one_line(err)}", file=sys.stderr)
        code = build_app()(argv, prog_name="recursia", standalone_mode=False)
    except RecursiaError as e:
        if debug:
            raise
        print("error: " + rank_prefix() + one_line(e), file=sys.stderr)
        sys.exit(2)
    except Terminated:
        if world_from_env().main:  # every process stops; one says so
            print("error: terminated by SIGTERM (the run saved a checkpoint; train again with the same --out to "
                  "resume)", file=sys.stderr)
        sys.exit(143)
    except Exception as e:
        # Click's exceptions, matched by shape (newer Typer releases vendor Click): Ctrl-C
        # becomes Abort; usage errors carry format_message() and exit_code; "no
        # arguments" has already shown the help.
        if debug:
            raise
        if type(e).__name__ == "Abort":
            if world_from_env().main:
                print("error: interrupted", file=sys.stderr)
            sys.exit(130)
        if not (hasattr(e, "format_message") and hasattr(e, "exit_code")):
            raise
        if type(e).__name__ != "NoArgsIsHelpError":
            print("error: " + usage_message(e), file=sys.stderr)
        sys.exit(e.exit_code or 2)
    if code:
        sys.exit(code)

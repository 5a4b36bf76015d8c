"""The ``recursia`` command: built-in commands plus the commands plugins register.

User errors (:class:`recursia.errors.RecursiaError`) print one line and exit with
code 2; ``--debug`` (anywhere on the command line) shows the traceback instead.
"""

from __future__ import annotations

import sys

import typer

from recursia.errors import RecursiaError
from recursia.plugins import get_registry


def build_app() -> typer.Typer:
    """The Typer app with the built-in and the plugin commands."""
    from recursia.cli import data, evaluate, plugins, solve, train

    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                      help="Recursive reasoning models (TRM, HRM) for puzzles.")

    @app.callback()
    def _root(debug: bool = typer.Option(False, "--debug", help="show tracebacks of errors")):
        """Recursive reasoning models (TRM, HRM) for puzzles."""

    app.command("train")(train.train_command)
    app.command("eval")(evaluate.eval_command)
    app.command("solve")(solve.solve_command)
    app.command("plugins")(plugins.plugins_command)
    app.add_typer(data.app, name="data")
    registry = get_registry()
    for name, cmd in registry.commands.items():
        if isinstance(cmd, typer.Typer):
            app.add_typer(cmd, name=name)
        else:
            app.command(name)(cmd)
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    try:
        registry = get_registry()
        for name, err in registry.failures.items():
            print(f"warning: plugin '{name}' failed to load: {err}", file=sys.stderr)
        build_app()(argv, prog_name="recursia")
    except RecursiaError as e:
        if debug:
            raise
        print("error: " + " ".join(str(e).split()), file=sys.stderr)  # always one line
        sys.exit(2)

"""The CLI starts without torch: help, `plugins` and every command's --help import none
of it (torch takes seconds to import; the commands that need it import it when they run)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = r"""
import sys
import typer
from recursia.cli.app import build_app, main

def paths(cmd, prefix=()):
    yield prefix
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from paths(sub, prefix + (name,))

every = list(paths(typer.main.get_command(build_app())))
for path in every:
    try:
        main([*path, "--help"])
    except SystemExit:
        pass
try:
    main(["plugins"])
except SystemExit:
    pass
print("COMMANDS", len(every), "TORCH", "torch" in sys.modules, file=sys.stderr)
"""


def test_help_plugins_and_every_command_help_import_no_torch():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    last = done.stderr.strip().splitlines()[-1]
    words = last.split()
    assert words[0] == "COMMANDS" and int(words[1]) >= 12, done.stderr  # root, train, eval, ..., convert official
    assert words[2:] == ["TORCH", "False"], done.stderr


def test_the_command_shortens_openmp_idle_spinning_unless_told_otherwise():
    code = ("import os, sys; from recursia.cli.app import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n"
            "    pass\nprint(os.environ['GOMP_SPINCOUNT'], file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.stderr.strip().splitlines()[-1] == "10000"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=env | {"GOMP_SPINCOUNT": "777"})
    assert done.stderr.strip().splitlines()[-1] == "777"

"""``recursia config show``: the run config ``recursia train`` would use, as YAML.

The printed text is a config file: ``recursia train --config FILE`` alone resolves it
to the same config (:func:`show_config` is the library function).
"""

from __future__ import annotations

from pathlib import Path

import typer

from recursia import config as C
from recursia.cli.common import pick_device
from recursia.cli.train import resolve_config

app = typer.Typer(no_args_is_help=True, help="Run configs: see what `recursia train` would use.")


def show_config(task: str | None, mixer: str | None, preset: str | None, config_file: Path | None,
                overrides: list[str], steps: int | None, device: str) -> str:
    """The config :func:`recursia.cli.train.resolve_config` gives for these options, as YAML.

    Two comment lines come first: the task, the preset and how it was picked (``--preset``,
    the default on ``device``, or the config file), the mixer; and how to train with it.
    """
    cfg = resolve_config(task, mixer, preset, config_file, overrides, steps, device)
    if preset is not None:
        how = "--preset"
    elif cfg.preset == C.default_preset(device):
        how = f"the default on {device.split(':')[0].upper()}"
    else:
        how = f"from {config_file}"
    return (f"# recursia run config: task {cfg.task}, preset {cfg.preset} ({how}), mixer {cfg.model.mixer}\n"
            f"# train with: recursia train --config THIS_FILE.yaml --out runs/NAME\n" + C.dump_yaml(cfg))


@app.command("show")
def show_command(
    task: str = typer.Option(None, help="task (default: the --config file's)"),
    mixer: str = typer.Option(None, help="token mixer (default: the config file's, else the task's)"),
    preset: str = typer.Option(None, help="small | paper (default: the config file's, else what train picks "
                                          "here: paper on CUDA, small on CPU)"),
    config: Path = typer.Option(None, "--config", help="YAML/JSON config file"),
    steps: int = typer.Option(None, help="optimizer steps (overrides train.steps)"),
    overrides: list[str] = typer.Option([], "--set", help="override a config key, e.g. --set train.lr=3e-4"),
) -> None:
    """Print the resolved run config as YAML: a file that `recursia train --config FILE` takes alone.

    The options are train's, resolved the same way: defaults < preset < --config < --mixer, --steps < --set.
    """
    print(show_config(task, mixer, preset, config, overrides, steps, pick_device(None)), end="")

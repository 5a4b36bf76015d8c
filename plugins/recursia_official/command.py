"""``recursia convert official CKPT --arch-config CFG --out RUN_DIR``."""

from __future__ import annotations

from pathlib import Path

import typer

from recursia import config as C
from recursia.build import make_model, make_task
from recursia.cli.common import check_out_folder
from recursia.errors import CheckpointError, ConfigError
from recursia.plugins import get_registry
from recursia.train.checkpoint import STATE_FILE, load_state, save_model
from recursia_official.convert import convert_state_dict, load_arch_config, model_config_from_official, \
    read_official_checkpoint

app = typer.Typer(no_args_is_help=True, help="Import checkpoints from other implementations.")


def _guess_task(vocab: int, seq_len: int) -> str:
    """The one installed task whose default options have this vocab and sequence length."""
    found = []
    for name, cls in get_registry().tasks.items():
        t = cls()
        if t.vocab_size == vocab and t.seq_len == seq_len:
            found.append(name)
    if len(found) != 1:
        why = "none matches" if not found else f"several match ({', '.join(found)})"
        raise CheckpointError(f"cannot tell the task of a vocab-{vocab}, length-{seq_len} checkpoint: {why}; "
                              "pass --task NAME")
    return found[0]


def official_int(arch: dict, key: str, default: int, where: Path, low: int = 0) -> int:
    """``arch[key]`` (or ``default``) as an int >= ``low``; ConfigError naming the key otherwise."""
    value = arch.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if number < low or isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"{where}: {key}: expected an integer >= {low}, got {value!r}")
    return number


@app.command("official")
def official_command(
    checkpoint: Path = typer.Argument(..., help="official checkpoint (torch.save state dict or .safetensors)"),
    arch_config: Path = typer.Option(..., "--arch-config", help="official arch config (YAML/JSON)"),
    out: Path = typer.Option(..., help="run directory to write"),
    task: str = typer.Option(None, help="task name (default: guessed from vocab and seq_len)"),
    options: list[str] = typer.Option([], "--set", help="task option, e.g. --set size=9"),
) -> None:
    """Convert an official TinyRecursiveModels checkpoint into a recursia run directory."""
    check_out_folder(out)
    if (out / STATE_FILE).is_file():
        raise CheckpointError(f"--out {out} holds a training run ({STATE_FILE}); write the conversion to "
                              f"another folder")
    arch = load_arch_config(arch_config)
    model_cfg = model_config_from_official(arch, str(arch_config))
    state = convert_state_dict(read_official_checkpoint(checkpoint), model_cfg.separate_nets)
    if "embed.tokens.weight" not in state:
        raise CheckpointError(f"{checkpoint}: no token embedding (inner.embed_tokens.embedding_weight) found")
    vocab = official_int(arch, "vocab_size", state["embed.tokens.weight"].shape[0], arch_config, low=1)
    seq_len = official_int(arch, "seq_len", 0, arch_config) or None
    opts: dict = {}
    for item in options:
        opts = C.deep_merge(opts, C.parse_override(item))
    name = task or _guess_task(vocab, seq_len or -1)
    task_obj = make_task(name, opts)
    cfg = C.validate({"task": name, "task_options": opts, "preset": None, "model": model_cfg.model_dump()})
    num_ids = state["embed.puzzle.weight"].shape[0] if "embed.puzzle.weight" in state else 1
    model = make_model(cfg, task_obj, num_ids)
    load_state(model, state, str(checkpoint))
    save_model(out, cfg, model)
    print(f"wrote {out} ({task_obj.describe()}, mixer {cfg.model.mixer}, {model.num_parameters():,} parameters)")

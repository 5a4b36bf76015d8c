"""``recursia convert official CKPT --arch-config CFG --out RUN_DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from recursia import config as C
from recursia.build import make_model, make_task
from recursia.cli.common import check_out_folder
from recursia.errors import CheckpointError, ConfigError
from recursia.plugins import get_registry
from recursia.train.run_files import STATE_FILE

if TYPE_CHECKING:  # torch and the model are imported when the command runs, not for --help
    from recursia.model import RecursiveModel

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


def forward_check(model: RecursiveModel, out: Path, seed: int = 0) -> str:
    """Run one supervision step on a few seeded random token rows in ``model`` and in the
    model reloaded from run directory ``out``; CheckpointError unless the outputs are
    finite and identical. Returns the line to print."""
    import torch

    from recursia.train.checkpoint import load_run

    gen = torch.Generator().manual_seed(seed)
    table = model.embed.puzzle
    ids = table.weight.shape[0] if table is not None else 1  # puzzle identifiers the model knows
    rows = min(4, ids) if table is not None else 4
    inputs = torch.randint(model.vocab_size, (rows, model.seq_len), generator=gen)  # (R, L)
    pids = torch.arange(rows) % ids
    reloaded = load_run(out).model
    outs = []
    for m in (model, reloaded):
        m.eval()
        with torch.inference_mode():
            carry = m.refill(m.initial_carry(rows), inputs, None, pids)
            outs.append(m(carry)[1])
    a, b = outs
    if not all(torch.isfinite(t).all() for t in (a.logits, a.q_halt, a.q_continue)):
        raise CheckpointError(f"{out}: forward check failed: the converted model gives non-finite outputs")
    if not (torch.equal(a.logits, b.logits) and torch.equal(a.q_halt, b.q_halt)):
        raise CheckpointError(f"{out}: forward check failed: the written run gives other outputs than the "
                              f"converted weights")
    return (f"forward check: {rows} random puzzles x 1 step: outputs finite, and the written run reproduces them "
            f"exactly (logits {tuple(a.logits.shape)})")


@app.command("official")
def official_command(
    checkpoint: Path = typer.Argument(..., help="official checkpoint (torch.save state dict or .safetensors)"),
    arch_config: Path = typer.Option(..., "--arch-config", help="official arch config (YAML/JSON)"),
    out: Path = typer.Option(..., help="run directory to write"),
    task: str = typer.Option(None, help="task name (default: guessed from vocab and seq_len)"),
    options: list[str] = typer.Option([], "--set", help="task option, e.g. --set size=9"),
) -> None:
    """Convert an official TinyRecursiveModels (TRM) or HRM checkpoint into a recursia run
    directory, then check it: parameter counts, and one forward step of the written run."""
    from recursia.train.checkpoint import load_state, save_model
    from recursia.official import (convert_state_dict, load_arch_config, model_config_from_official,
                                           official_parameter_count, read_official_checkpoint)

    check_out_folder(out)
    if (out / STATE_FILE).is_file():
        raise CheckpointError(f"--out {out} holds a training run ({STATE_FILE}); write the conversion to "
                              f"another folder")
    arch = load_arch_config(arch_config)
    official = read_official_checkpoint(checkpoint)
    model_cfg = model_config_from_official(arch, str(arch_config), official)
    state = convert_state_dict(official, model_cfg.net == "separate")
    if "embed.tokens.weight" not in state:
        raise CheckpointError(f"{checkpoint}: no token embedding (inner.embed_tokens.embedding_weight) found")
    vocab = official_int(arch, "vocab_size", state["embed.tokens.weight"].shape[0], arch_config, low=1)
    seq_len = official_int(arch, "seq_len", 0, arch_config) or None
    opts: dict = {}
    for item in options:
        opts = C.deep_merge(opts, C.parse_override(item))
    name = task or _guess_task(vocab, seq_len or -1)
    task_obj = make_task(name, opts)
    if seq_len is not None and seq_len != task_obj.seq_len:
        raise ConfigError(f"{arch_config}: seq_len {seq_len} does not fit task {task_obj.describe()} "
                          f"(sequence length {task_obj.seq_len}); pass the task options that give it, e.g. --set")
    cfg = C.validate({"task": name, "task_options": opts, "preset": None, "model": model_cfg.model_dump()})
    num_ids = state["embed.puzzle.weight"].shape[0] if "embed.puzzle.weight" in state else 1
    model = make_model(cfg, task_obj, num_ids)
    load_state(model, state, str(checkpoint))
    theirs, ours = official_parameter_count(official), model.num_parameters()
    if theirs != ours:
        raise CheckpointError(f"{checkpoint}: {theirs:,} trainable values in the checkpoint, but the converted model "
                              f"has {ours:,} parameters")
    save_model(out, cfg, model)
    kind = "HRM" if model_cfg.net == "separate" else "TRM"
    print(f"wrote {out} ({kind}, {task_obj.describe()}, mixer {cfg.model.mixer}, prefix {model.prefix_len}, "
          f"{model.num_parameters():,} parameters)")
    print(f"parameter check: {theirs:,} trainable values in the checkpoint = {ours:,} parameters of the model")
    print(forward_check(model, out))

"""Map the official TinyRecursiveModels / HRM checkpoints onto recursia models.

Official key names (``inner.L_level.layers.{i}.self_attn...``) become recursia's
(``net.layers.{i}.mixer...``); the official arch config (``H_cycles``, ``L_cycles``,
``mlp_t``, ...) becomes a :class:`recursia.config.ModelConfig`. Prefixes added by
``torch.compile`` and the loss head (``_orig_mod.``, ``model.``, ``module.``) are dropped.
"""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path

import torch
from pydantic import ValidationError

from recursia.config import ModelConfig, load_file
from recursia.errors import CheckpointError, ConfigError

PREFIXES = ("_orig_mod.", "module.", "model.")
_RENAMES = [
    (r"^inner\.embed_tokens\.embedding_weight$", "embed.tokens.weight"),
    (r"^inner\.puzzle_emb\.weights$", "embed.puzzle.weight"),
    (r"^inner\.lm_head\.", "lm_head."),
    (r"^inner\.q_head\.", "q_head."),
    (r"^inner\.H_init$", "y_init"),
    (r"^inner\.L_init$", "z_init"),
    (r"\.self_attn\.", ".mixer."),
    (r"\.mlp_t\.", ".mixer.swiglu."),
]


def strip_prefixes(key: str) -> str:
    """Drop the wrapper prefixes the official training script adds."""
    changed = True
    while changed:
        changed = False
        for p in PREFIXES:
            if key.startswith(p):
                key, changed = key[len(p):], True
    return key


def convert_key(key: str, separate_nets: bool) -> str | None:
    """The recursia name of an official state-dict key (None: not part of the model)."""
    key = strip_prefixes(key)
    if ".rotary_emb." in key or key.endswith(("local_weights", "local_ids")):
        return None
    # TRM has one net (L_level). HRM: L_level updates z (net), H_level updates y (net_y).
    key = re.sub(r"^inner\.L_level\.", "net.", key)
    key = re.sub(r"^inner\.H_level\.", "net_y." if separate_nets else "net.", key)
    for pattern, repl in _RENAMES:
        key = re.sub(pattern, repl, key)
    return key


def convert_state_dict(state: dict[str, torch.Tensor], separate_nets: bool = False) -> dict[str, torch.Tensor]:
    """An official state dict with recursia key names (fp32)."""
    out = {}
    for k, v in state.items():
        new = convert_key(k, separate_nets)
        if new is not None:
            out[new] = v.float()
    return out


# buffers of the official models: in the state dict, but not trained by the dense optimizer
_BUFFERS = ("inner.puzzle_emb.weights", "inner.H_init", "inner.L_init")


def official_parameter_count(state: dict[str, torch.Tensor]) -> int:
    """Trainable values in an official state dict (everything but the puzzle-embedding
    table and the initial states, which the official models keep as buffers)."""
    return sum(v.numel() for k, v in state.items()
               if convert_key(k, True) is not None and strip_prefixes(k) not in _BUFFERS)


def load_arch_config(path: str | Path) -> dict:
    """The official arch config from a JSON/YAML file: top level, ``arch:`` or ``config_dict:``."""
    data = load_file(path)
    for key in ("config_dict", "arch"):
        if isinstance(data.get(key), dict):
            data = data[key]
    if "hidden_size" not in data:
        raise ConfigError(f"{path}: no 'hidden_size' (not an official arch config)")
    return data


def official_kind(arch: dict, state: dict[str, torch.Tensor] | None = None, where: str = "arch config") -> str:
    """``"hrm"`` or ``"trm"``: which official code an arch config (and its checkpoint)
    belongs to. The checkpoint decides when given (only HRM has ``inner.H_level``); else
    the config's ``name`` (``hrm.hrm_act_v1@...``, ``recursive_reasoning.trm@...``), else
    ``H_layers`` > 0. ConfigError when the config and the checkpoint disagree."""
    name = str(arch.get("name", "")).lower()
    named = "hrm" if "hrm" in name else "trm" if "trm" in name else None
    if state is not None:
        found = "hrm" if any(strip_prefixes(k).startswith("inner.H_level.") for k in state) else "trm"
        if named is not None and named != found:
            raise ConfigError(f"{where}: name {arch.get('name')!r} says {named.upper()}, but the checkpoint is "
                              f"{found.upper()}'s (it {'has' if found == 'hrm' else 'has no'} inner.H_level weights)")
        return found
    return named or ("hrm" if _truthy_int(arch.get("H_layers", 0)) else "trm")


# recursia ModelConfig field <- official arch-config key and its default there (None: required)
OFFICIAL_FIELDS = {
    "hidden_size": ("hidden_size", None), "n_layers": ("L_layers", 2), "expansion": ("expansion", 4),
    "num_heads": ("num_heads", 8), "T": ("H_cycles", 3), "n": ("L_cycles", 6),
    "puzzle_emb_ndim": ("puzzle_emb_ndim", 0), "puzzle_emb_len": ("puzzle_emb_len", 16),
    "rms_norm_eps": ("rms_norm_eps", 1e-5), "rope_theta": ("rope_theta", 10000.0),
    "halt_max_steps": ("halt_max_steps", 16), "halt_exploration_prob": ("halt_exploration_prob", 0.1),
}
HRM_FIELDS = {**OFFICIAL_FIELDS, "n_layers": ("L_layers", None), "n_layers_y": ("H_layers", None),
              "T": ("H_cycles", None), "n": ("L_cycles", None)}


def model_config_from_official(arch: dict, where: str = "arch config",
                               state: dict[str, torch.Tensor] | None = None) -> ModelConfig:
    """The recursia ModelConfig equivalent to an official TRM/HRM arch config (and its
    checkpoint ``state``, which decides TRM or HRM and gives the puzzle-embedding width
    when the config omits it).

    Each code's own prefix rule: TRM uses ``puzzle_emb_len`` (default 16; 0 means
    ceil(puzzle_emb_ndim / hidden_size)); HRM has no such key and always uses the ceil.
    HRM's two nets keep their own layer counts (``L_layers``, ``H_layers``).
    ConfigError naming the official key (``where: H_cycles: ...``) for a value that is
    no valid setting, all of them at once.
    """
    kind = official_kind(arch, state, where)
    fields = HRM_FIELDS if kind == "hrm" else OFFICIAL_FIELDS
    missing = [key for key, default in fields.values() if default is None and key not in arch]
    if missing:
        raise ConfigError(f"{where}: {', '.join(missing)}: required by the official {kind.upper()} config, missing")
    values = {field: arch.get(key, default) for field, (key, default) in fields.items()}
    table = next((v for k, v in (state or {}).items() if strip_prefixes(k) == "inner.puzzle_emb.weights"), None)
    if "puzzle_emb_ndim" not in arch and table is not None:
        values["puzzle_emb_ndim"] = table.shape[-1]
    if kind == "hrm" or values["puzzle_emb_len"] == 0:
        values["puzzle_emb_len"] = None  # ceil(puzzle_emb_ndim / hidden_size)
    positions = arch.get("pos_encodings", "rope")
    allowed = ("rope", "learned") if kind == "hrm" else ("rope", "learned", "none")
    if positions not in allowed:
        raise ConfigError(f"{where}: pos_encodings: {positions!r} is not an official {kind.upper()} setting "
                          f"({', '.join(allowed)})")
    if positions == "learned":
        raise ConfigError(f"{where}: pos_encodings: 'learned' (a learned position table) is not supported by "
                          f"recursia; only 'rope'{'' if kind == 'hrm' else ' and none'}")
    attention = kind == "hrm" or not arch.get("mlp_t", False)
    values.update(mixer="attention" if attention else "mlp",
                  mixer_options={"rope": positions == "rope"} if attention else {})
    if kind == "hrm":
        values.update(net="separate", gradient="one_step", act="halt_continue")
    else:
        values.pop("n_layers_y", None)
        values["act"] = "halt" if arch.get("no_ACT_continue", True) else "halt_continue"
    try:
        return ModelConfig.model_validate(values)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            field = str(err["loc"][0]) if err["loc"] else "(top)"
            problems.append(f"{fields.get(field, (field,))[0]}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError(f"{where}: " + "; ".join(problems)) from None


def _truthy_int(value) -> bool:
    """Whether an official layer count like ``H_layers`` is a positive number (bad values: no)."""
    try:
        return int(value or 0) > 0
    except (TypeError, ValueError):
        return False


def read_official_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of an official checkpoint (``torch.save`` file read with the safe
    ``weights_only`` loader, or a safetensors file)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about the file's format; the error below says it
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(f"{path}: not a torch checkpoint of plain tensors (the safe loader refused it; "
                              f"recursia never unpickles other objects, which could run code); give a state dict "
                              f"saved with torch.save, or a .safetensors file") from None
    except Exception as e:  # any unreadable file is the user's input problem
        first = (str(e).strip().splitlines() or [""])[0]
        if "weights_only" in first:  # never pass on torch's advice to load unsafely
            first = "not a torch checkpoint of plain tensors"
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(e).__name__}: {first})") from None
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a state dict of tensors")
    return state

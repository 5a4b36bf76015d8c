"""Built-in mixers: ``mlp`` (SwiGLU across the sequence) and ``attention`` (MHA + RoPE)."""

from recursia.hookspecs import hookimpl
from recursia_mixers.attention import Attention
from recursia_mixers.mlp import SequenceMLP

__version__ = "0.1.0"


@hookimpl
def register_mixers(register):
    """Register the two mixers of the TRM paper."""
    register("mlp", SequenceMLP.from_config)
    register("attention", Attention.from_config)

"""Built-in mixers: ``mlp`` (SwiGLU across the sequence) and ``attention`` (MHA + RoPE).

The factories import their module (and torch) when a model is built, so loading the
plugins — every ``recursia`` command, ``--help`` included — does not import torch. (They
are not named ``mlp``/``attention``: importing a submodule sets that name on the package.)
"""

from recursia.api import hookimpl

__version__ = "0.1.0"


def make_mlp(hidden_size, seq_len, cfg):
    """The ``mlp`` mixer factory (:meth:`recursia_mixers.mlp.SequenceMLP.from_config`)."""
    from recursia_mixers.mlp import SequenceMLP
    return SequenceMLP.from_config(hidden_size, seq_len, cfg)


def make_attention(hidden_size, seq_len, cfg):
    """The ``attention`` mixer factory (:meth:`recursia_mixers.attention.Attention.from_config`)."""
    from recursia_mixers.attention import Attention
    return Attention.from_config(hidden_size, seq_len, cfg)


@hookimpl
def register_mixers(register):
    """Register the two mixers of the TRM paper."""
    register("mlp", make_mlp)
    register("attention", make_attention)

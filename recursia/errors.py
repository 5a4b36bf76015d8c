"""User-facing errors: one line that says what is wrong and where."""


class RecursiaError(Exception):
    """An error caused by the user's input (file, config, checkpoint, plugin).

    The CLI prints ``str(error)`` on one line and exits with code 2; no traceback
    unless ``--debug`` is given.
    """


class PuzzleError(RecursiaError):
    """A puzzle that cannot be parsed or is invalid (wrong shape, contradictory givens)."""


class ConfigError(RecursiaError):
    """A configuration with unknown keys or values of the wrong type."""


class CheckpointError(RecursiaError):
    """A checkpoint or run directory that is missing, corrupt or of another task."""


class DatasetError(RecursiaError):
    """A dataset folder or import file that is missing or malformed."""


class PluginError(RecursiaError):
    """A plugin that clashes with another one or registers something malformed."""


class TrainingError(RecursiaError):
    """A run that cannot go on (a non-finite loss or gradient); its last checkpoint is kept."""


class Terminated(Exception):
    """SIGTERM arrived during training (as a cluster scheduler sends before it kills a
    job); the loop saves a checkpoint, then the CLI exits with code 143."""


def is_out_of_memory(err: BaseException) -> bool:
    """Whether ``err`` is torch running out of device memory (``torch.OutOfMemoryError``)
    or out of host memory (the CPU allocator's RuntimeError)."""
    return type(err).__name__ == "OutOfMemoryError" or (
        isinstance(err, RuntimeError) and "can't allocate memory" in str(err))

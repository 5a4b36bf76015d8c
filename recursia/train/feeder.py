"""Refilling the training carry: the examples that go into the slots that halted.

The carry has ``train.batch_size`` slots in all, split into equal contiguous shares,
one per process. After every step each process knows which slots of the *whole*
carry halted; every process advances the same seeded sampler by that count (so all
agree on the examples of the global batch) and reads from the split only the rows
of its own halted slots. The slots receive exactly the examples a one-process run
would put there.

The batch is assembled on the host in a mirror of this process's inputs, labels and
identifiers (pinned memory on CUDA) and sent to the device without waiting.
"""

from __future__ import annotations

import numpy as np
import torch

from recursia.data.dataset import Split
from recursia.data.sampler import EpochSampler
from recursia.model import Carry


def host_buffer(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A zeroed CPU tensor, pinned when ``device`` is a GPU (so copies to it need not wait)."""
    buf = torch.zeros(shape, dtype=dtype)
    return buf.pin_memory() if device.type == "cuda" else buf


class CarryFeeder:
    """Fills this process's halted slots with the sampler's next examples.

    Args:
        split: the training split; sampler: the seeded sampler over it (the same
        seed and position in every process); slots: this process's slots of the whole
        carry (:meth:`recursia.distributed.World.share`); device: where the carry lives.
    """

    def __init__(self, split: Split, sampler: EpochSampler, slots: range, device: torch.device):
        self.split, self.sampler, self.slots, self.device = split, sampler, slots, device
        b, length = len(slots), split.inputs.shape[1]
        self.inputs = host_buffer((b, length), torch.long, device)  # (b, L) what each slot holds
        self.labels = host_buffer((b, length), torch.long, device)  # (b, L), -100 = ignored
        self.puzzle_ids = host_buffer((b,), torch.long, device)  # (b,)

    def load(self, carry: Carry) -> None:
        """Mirror what the slots of a resumed carry hold."""
        for mine, theirs in ((self.inputs, carry.inputs), (self.labels, carry.labels),
                             (self.puzzle_ids, carry.puzzle_ids)):
            mine.copy_(theirs.cpu())

    def fill(self, halted: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Device tensors inputs (b, L), labels (b, L), puzzle_ids (b,) whose halted slots
        hold the next examples; ``halted`` (global batch,) bool is the whole carry's mask.

        Call it only once the previous step's copies of these buffers are done (the
        trainer waits for the previous step's halting mask, computed after them).
        """
        slots = np.flatnonzero(halted)  # global indices of the halted slots, in order
        rows = self.sampler.take(len(slots))  # the global batch's new examples, slot by slot
        mine = (slots >= self.slots.start) & (slots < self.slots.stop)
        local, rows = slots[mine] - self.slots.start, rows[mine]
        if len(rows):
            self.inputs.numpy()[local] = self.split.inputs[rows]
            self.labels.numpy()[local] = self.split.torch_labels(rows)
            self.puzzle_ids.numpy()[local] = self.split.example_puzzle_ids(rows)
        return tuple(buf.to(self.device, non_blocking=True, copy=True)  # copy: the mirror changes next step
                     for buf in (self.inputs, self.labels, self.puzzle_ids))


class HostCopy:
    """A small device tensor copied to the host without stopping the device's queue:
    :meth:`start` queues the copy (into pinned memory, with an event on CUDA);
    :meth:`get` waits for that copy alone and returns it as a NumPy array."""

    def __init__(self, value: np.ndarray):
        self._host: torch.Tensor = torch.from_numpy(value)
        self._event: torch.cuda.Event | None = None

    def start(self, tensor: torch.Tensor) -> None:
        """Queue the copy of ``tensor`` to the host."""
        if tensor.device.type != "cuda":
            self._host, self._event = tensor.detach().clone(), None
            return
        if self._host.shape != tensor.shape or self._host.dtype != tensor.dtype or not self._host.is_pinned():
            self._host = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
        self._host.copy_(tensor.detach(), non_blocking=True)
        self._event = torch.cuda.Event()
        self._event.record(torch.cuda.current_stream(tensor.device))  # the stream of the copy, on its GPU

    def get(self) -> np.ndarray:
        """The copied values (waits for the copy if it is still under way)."""
        if self._event is not None:
            self._event.synchronize()
            self._event = None
        return self._host.numpy()

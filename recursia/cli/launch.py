"""``recursia train --nproc N``: N training processes on this machine, started by torchrun.

The shortcut runs ``python -m torch.distributed.run --standalone --nproc-per-node N -m
recursia train ...`` with the same options, in a session of its own, and passes each
SIGTERM and SIGINT (Ctrl-C) it receives on to torchrun, which passes it to the training
processes: they finish their step, save a checkpoint and stop (a second Ctrl-C stops
them at once). torchrun gives them 30 seconds before it kills them.

What the processes and torchrun write to stderr passes through this process: the
processes' one-line ``error:``/``warning:`` messages at once, everything else (torchrun's
own log and its report of a failed process, tracebacks) when the run ends, unless a
process said what went wrong in one line or the run was stopped by a signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from recursia.distributed import World, rank_device
from recursia.errors import ConfigError


def torchrun_command(nproc: int, args: list[str]) -> list[str]:
    """The torchrun command line that runs ``recursia ARGS`` in ``nproc`` local processes."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
            "-m", "recursia", *args]


def check_gpus(nproc: int, device: str) -> None:
    """ConfigError when ``nproc`` CUDA processes would not each have a GPU of this machine
    (or one GPU is named for all of them: :func:`recursia.distributed.rank_device`)."""
    if not device.startswith("cuda"):
        return
    import torch

    rank_device(device, World(0, nproc))
    if nproc > torch.cuda.device_count():
        raise ConfigError(f"--nproc {nproc}: this machine has {torch.cuda.device_count()} GPUs (one process per GPU)")


def launch(nproc: int, args: list[str], device: str) -> int:
    """Run ``recursia ARGS`` in ``nproc`` processes under torchrun and wait; returns the exit
    code: torchrun's, or 143 (SIGTERM) / 130 (Ctrl-C) when a signal stopped the run. On
    the CPU each process gets an equal share of the cores (``OMP_NUM_THREADS``) unless
    that is set."""
    check_gpus(nproc, device)
    env = dict(os.environ)
    if device == "cpu":
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    cmd = torchrun_command(nproc, args)
    print("launching: " + " ".join(cmd[1:]), flush=True)
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, bufsize=1, start_new_session=True)
    held, said = [], threading.Event()  # the other lines; whether a process wrote an error line
    reader = threading.Thread(target=_pass_stderr, args=(proc.stderr, held, said), daemon=True)
    reader.start()
    stopped: list[int] = []  # the signals received, each passed on

    def forward(signum, frame):
        stopped.append(signum)
        proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = proc.wait()
        reader.join()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if not (stopped or said.is_set()):
        sys.stderr.write("".join(held))
    if stopped and code:
        return 143 if signal.SIGTERM in stopped else 130
    if code and not said.is_set():
        print(f"error: the {nproc} training processes stopped with an error (torchrun exit code {code}); their "
              f"messages are above", file=sys.stderr)
    return code


def _pass_stderr(stream, held: list[str], said: threading.Event) -> None:
    """Copy the processes' ``error:``/``warning:`` lines to stderr as they come; keep the rest in ``held``."""
    for line in stream:
        if line.startswith(("error:", "warning:")):
            if line.startswith("error:"):
                said.set()
            sys.stderr.write(line)
            sys.stderr.flush()
        else:
            held.append(line)

"""The attention core softmax(QK^T / sqrt(hd)) V on the CPU in four ways, forward and
forward + backward, at one shape: torch's default ``scaled_dot_product_attention`` (the
flash kernel, what the ``attention`` mixer calls), the same with the math backend, and
the product-softmax-product written out, eager and under ``torch.compile``. One process,
rounds alternated, medians of milliseconds per call; the largest difference from the
default kernel's output is printed first. Default shape: the maze ``small`` preset's
(batch 64, 4 heads, 81 cells + 1 prefix position, head size 16).

    python benchmarks/attention_kernels.py [--batch 64] [--heads 4] [--seq 82] [--head-dim 16] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """torch's default kernel choice: (B, H, S, hd) x3 -> (B, H, S, hd)."""
    return F.scaled_dot_product_attention(q, k, v)


def sdpa_math(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The math backend of scaled_dot_product_attention: (B, H, S, hd) x3 -> (B, H, S, hd)."""
    with sdpa_kernel(SDPBackend.MATH):
        return F.scaled_dot_product_attention(q, k, v)


def written_out(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Two batched products around a softmax: (B, H, S, hd) x3 -> (B, H, S, hd)."""
    scores = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5  # (B, H, S, S)
    return scores.softmax(-1) @ v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--seq", type=int, default=82)
    ap.add_argument("--head-dim", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=10, help="calls timed together per round")
    args = ap.parse_args()
    torch.manual_seed(0)
    shape = (args.batch, args.heads, args.seq, args.head_dim)
    q, k, v = (torch.randn(shape, requires_grad=True) for _ in range(3))  # (B, H, S, hd) each
    grad = torch.randn(shape)  # (B, H, S, hd)
    kernels = {"sdpa (flash)": sdpa, "sdpa math": sdpa_math, "written out": written_out,
               "written out, compiled": torch.compile(written_out)}
    reference = sdpa(q, k, v)
    for name, fn in kernels.items():
        print(f"{name}: max |difference| from sdpa {(fn(q, k, v) - reference).abs().max().item():.2e}")
    print(f"batch {args.batch}, {args.heads} heads, seq {args.seq}, head size {args.head_dim}; float32; "
          f"{torch.get_num_threads()} threads; ms per call, median of {args.rounds} rounds:")
    for backward in (False, True):
        times: dict[str, list[float]] = {name: [] for name in kernels}
        for fn in kernels.values():  # warm-up (compilation happens here)
            for _ in range(3):
                out = fn(q, k, v)
                if backward:
                    out.backward(grad)
        for _ in range(args.rounds):
            for name, fn in kernels.items():
                start = time.perf_counter()
                for _ in range(args.calls):
                    out = fn(q, k, v)
                    if backward:
                        out.backward(grad)
                times[name].append((time.perf_counter() - start) / args.calls * 1e3)
        label = "forward + backward" if backward else "forward"
        print(f"  {label}: " + ", ".join(f"{n} {statistics.median(t):.2f}" for n, t in times.items()))


if __name__ == "__main__":
    main()

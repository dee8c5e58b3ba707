"""How many CPU threads torch computes with, chosen on purpose rather than left to chance.

Torch's OpenMP threads spin while they wait for work. On a small machine that also runs
something else, a spinning thread holds a core the other program needs, and both slow down
many times over. Measured on a 2-core AMD EPYC VM, 100 inversion steps of the shipped 64 px
face model (`python benchmarks/inversion_speed.py --images 4 --steps 100 --methods 1`):

| threads | idle machine | next to 2 busy processes |
| --- | ---: | ---: |
| 1 | 2.7 s | 3.7 s |
| 2, spinning (OpenMP's default) | 2.5 s | 25.3 s |
| 2, sleeping (OMP_WAIT_POLICY=PASSIVE) | 5.0 s | 5.8 s |

Small models gain little from a second thread and lose most to contention, and sleeping
threads pay a wake-up on every small operation. So the studio, which serves short interactive
requests on whatever else the machine does, defaults to half the cores (1 on 2 cores); the
command line, whose jobs (training, evaluation) usually have the machine to themselves, to
torch's default of one per core. `--threads N` overrides either.
"""

from __future__ import annotations

import argparse
import os
import sys


def add_threads_argument(p: argparse.ArgumentParser, inherit: bool = False) -> None:
    """`--threads N`; with `inherit`, a subcommand's copy that leaves a global value alone."""
    p.add_argument("--threads", type=positive_int, metavar="N",
                   default=argparse.SUPPRESS if inherit else None,
                   help="CPU threads for torch (default: one per core for the command line, half the cores for "
                   "the studio, which then keeps answering quickly when the machine is busy with other work)")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def server_default() -> int:
    """The studio's thread count when none is given: half the cores, at least one."""
    return max(1, (os.cpu_count() or 2) // 2)


def configure(threads: int | None) -> int:
    """Use `threads` torch threads (None: torch's default); the count in use. Call it before
    torch is first imported, so OpenMP starts with that many too."""
    if threads and "torch" not in sys.modules:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()

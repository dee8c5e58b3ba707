"""How many CPU threads torch computes with, chosen on purpose rather than left to chance.

Torch's OpenMP threads spin while they wait for work. On a small machine that also runs
something else, a spinning thread holds a core the other program needs and the two slow each
other down many times over (measured on 2 cores next to two busy processes: 200 inversion steps
in 15.9 s with 2 spinning threads, 4.6 s with 1 thread, 4.6 s with 2 passive threads; see the
README's speed table). So the studio and the CLI make OpenMP threads wait passively (unless
OMP_WAIT_POLICY is set), and `--threads N` sets how many there are (default: torch's, one per
core). Both must happen before torch is first imported to take full effect.
"""

from __future__ import annotations

import argparse
import os
import sys


def add_threads_argument(p: argparse.ArgumentParser, inherit: bool = False) -> None:
    """`--threads N`; with `inherit`, a subcommand's copy that leaves a global value alone."""
    p.add_argument("--threads", type=positive_int, metavar="N",
                   default=argparse.SUPPRESS if inherit else None,
                   help="CPU threads for torch (default: one per core); waiting threads sleep rather than "
                   "spin, so other programs on the machine keep their cores")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def configure(threads: int | None) -> int:
    """Passive OpenMP waiting and `threads` torch threads (None: torch's default); the count."""
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        if threads:
            os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()

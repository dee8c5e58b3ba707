"""Do the playground's presets show what they promise? Trains each preset (ganstudio.lab.toy)
for its step count on several seeds and prints mode coverage and the high-quality rate as it
goes, the numbers behind the presets' descriptions.

    python benchmarks/lab_presets.py                       # every preset, seeds 0 1 2
    python benchmarks/lab_presets.py --preset "mode collapse" --seeds 0 --every 250

Coverage follows metrics/modes.py: a mode is covered when at least 20 % of a fair share of
the samples (2000 of them, fixed z) lands within 3 standard deviations of it, and reached
when any sample does (the loosest reading); hq is the share of samples within 3 std.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from ganstudio.lab.presets import PRESETS  # noqa: E402
from ganstudio.lab.toy import ToyTrainer  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", action="append", choices=list(PRESETS), help="default: all")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, help="default: the preset's own")
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {platform.platform()}, {platform.processor() or '?'}, {os.cpu_count()} cpus, torch {torch.__version__}, "
          f"{args.threads} thread(s)")
    for name in args.preset or list(PRESETS):
        preset = PRESETS[name]
        steps = args.steps or preset.steps
        for seed in args.seeds:
            lab = ToyTrainer(preset.settings.replace(seed=seed))
            start = time.perf_counter()
            trace = [f"{s.step}: covered {s.covered}/{s.modes} reached {s.reached} hq {s.hq_rate:.2f}"
                     for s, _ in lab.run(steps, args.every, arrows=0, record=False)]
            print(f"{name!r} seed {seed} ({time.perf_counter() - start:.0f} s): " + ", ".join(trace), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

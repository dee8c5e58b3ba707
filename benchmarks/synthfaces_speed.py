"""How fast SynthFaces renders, per core: one process, one thread for numpy and torch.

    python benchmarks/synthfaces_speed.py [--n 2000] [--resolutions 32 64 128 256]

Prints the machine, then images/s by wall clock and by CPU time of this process (the CPU
figure is the per-core rate; it stays honest when other jobs share the machine, the wall
figure does not)."""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's ganstudio, not an installed one
from _kit import machine  # noqa: E402
from ganstudio.data.synthfaces import SynthFaces, draw_face_array, sample_face  # noqa: E402


def rate(fn, n: int) -> tuple[float, float]:
    fn(0)  # warm caches (grids, grain pool)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="images per measurement at 64 px (scaled for others)")
    parser.add_argument("--resolutions", type=int, nargs="+", default=[32, 64, 128, 256])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(machine())
    print("| resolution | path | img/s (wall) | img/s (CPU, per core) |")
    print("| --- | --- | ---: | ---: |")
    for res in args.resolutions:
        n = max(100, int(args.n * (64 / res) ** 2)) if res > 64 else args.n
        dataset = SynthFaces(res, n=n)
        for name, fn in (("render (uint8 array)", lambda i: draw_face_array(sample_face(0, i), res)),
                         ("Dataset item (tensors)", lambda i: dataset[i])):
            wall, cpu = rate(fn, n)
            print(f"| {res} | {name} | {wall:,.0f} | {cpu:,.0f} |")


if __name__ == "__main__":
    main()
